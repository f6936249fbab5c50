"""An update's comparison: each field sent beside the register's value before the call."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from crmadmin.audit.models import AuditEntry
from crmadmin.kinds import KINDS
from crmadmin.upstream.operations import OPERATIONS, TENANT_KEYS, UPDATE

_MISSING = object()


@dataclass(frozen=True)
class FieldChange:
    """One row of an update's comparison: the register's value before, and what was sent."""

    key: str
    before: str
    sent: str
    was_known: bool  # the register's snapshot had this field
    was_sent: bool
    changed: bool


def _display(value: Any) -> str:
    if value is _MISSING:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _snapshot_keys_for(wire_key: str, kind: str) -> list[str]:
    """Where a snapshot may hold the value sent as ``wire_key``: the wire key itself
    (customers' snapshots speak the wire), or the register's name for it, as the
    registry declares it (``status_no`` → ``code``, ``group_description`` → ``description``)."""
    record_kind = KINDS.get(kind)
    if record_kind is None:
        return [wire_key]
    return [wire_key, record_kind.snapshot_key(wire_key)]


def changes_sent(entry: AuditEntry) -> list[FieldChange]:
    """For an update: each field sent beside the register's value before the call, then
    the snapshot's fields that were not sent. Empty for other operations."""
    operation = OPERATIONS.get(entry.operation)
    body = entry.request_body
    if operation is None or operation.action != UPDATE or not isinstance(body, dict):
        return []
    snapshot = entry.snapshot_before if isinstance(entry.snapshot_before, dict) else {}
    rows: list[FieldChange] = []
    matched: set[str] = set()
    for key, sent in body.items():
        if key in TENANT_KEYS:
            continue
        before: Any = _MISSING
        for name in _snapshot_keys_for(key, operation.kind):
            if name in snapshot and name not in matched:
                before = snapshot[name]
                matched.add(name)
                break
        rows.append(
            FieldChange(
                key=key,
                before=_display(before),
                sent=_display(sent),
                was_known=before is not _MISSING,
                was_sent=True,
                changed=before is _MISSING or before != sent,
            )
        )
    for name, before in snapshot.items():
        if name not in matched:
            rows.append(
                FieldChange(
                    key=name,
                    before=_display(before),
                    sent="",
                    was_known=True,
                    was_sent=False,
                    changed=False,
                )
            )
    return rows
