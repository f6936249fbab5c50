"""A record's history in plain words: "Created", "Code changed KH1 → KH2",
"Phones: 0912345678 → 0987654321", "Failed: the CRM already has a record with this code",
"Outcome unknown", each with what was sent and what came back.

The words are derived from the entry: its operation, the body it sent compared with the
register's state before the call (``comparison.changes_sent``), its outcome, and the
meaning of the CRM's error code (``upstream.rejections``). Nothing shown here carries a
token or a password: keys that name one are masked, and the process's secrets are
redacted from every text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from crmadmin.audit.events import REGISTER_ADOPT
from crmadmin.audit.models import AuditEntry, FailureKind, Outcome
from crmadmin.audit.recorder import REDACTED, redact
from crmadmin.audit.selectors.comparison import changes_sent
from crmadmin.audit.selectors.outcome import SHOWN_IN_PROGRESS, SHOWN_UNKNOWN
from crmadmin.kinds import CUSTOM_FIELDS_KEY, KINDS
from crmadmin.upstream import auth
from crmadmin.upstream.operations import OPERATIONS, TENANT_KEYS
from crmadmin.upstream.rejections import MEANING_TEXTS, crm_words, meaning_of_code

# How people call the keys of a customer's body (reference codes take theirs from the
# registry: "Name" and each detail's label).
CUSTOMER_LABELS = {
    "customer_name": _("Name"),
    "customer_phones": _("Phones"),
    "customer_address": _("Address"),
    "customer_email": _("E-mail"),
    "customer_status_code": _("Status"),
    "customer_type_code": _("Type"),
    "customer_group_name": _("Group"),
}
# Keys whose values are never shown, wherever they appear in a body or an answer.
SECRET_KEY_PARTS = ("token", "password", "secret", "authorization")

OUTCOME_LABELS = {
    Outcome.SUCCEEDED.value: _("Done"),
    Outcome.REJECTED.value: _("Refused"),
    Outcome.FAILED.value: _("Failed"),
    SHOWN_UNKNOWN: _("Outcome unknown"),
    SHOWN_IN_PROGRESS: _("In progress"),
}


@dataclass
class Story:
    """One history entry as people read it."""

    entry: AuditEntry
    outcome: str  # the shown outcome: succeeded, rejected, failed, unknown, pending
    outcome_label: str
    headline: str  # "Created", "Failed: …", "Outcome unknown"
    lines: list[str] = field(default_factory=list)  # what changed, or what was tried
    sent: str = ""  # the body sent, as indented JSON
    answer: list[tuple[str, str]] = field(default_factory=list)  # (label, value)


def _is_secret(key: object) -> bool:
    return any(part in str(key).lower() for part in SECRET_KEY_PARTS)


def _masked(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if _is_secret(key) else _masked(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_masked(item, secrets) for item in value]
    if isinstance(value, str):
        return redact(value, secrets)
    return value


def _shown(value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, list):
        return ", ".join(_shown(item) for item in value) if value else "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _label(kind: str, key: str) -> str:
    if key in CUSTOMER_LABELS:
        return str(CUSTOMER_LABELS[key])
    record_kind = KINDS.get(kind)
    if record_kind is not None and record_kind.reference:
        if key == record_kind.key("name"):
            return gettext("Name")
        for detail in record_kind.details:
            if detail.wire_key == key:
                return record_kind.detail_label(detail)
    return key


def _field_values(value: Any) -> dict[str, str]:
    if not isinstance(value, list):
        return {}
    return {
        str(item.get("field_key")): str(item.get("field_value", ""))
        for item in value
        if isinstance(item, dict)
    }


def _changed_lines(entry: AuditEntry) -> list[str] | None:
    """An update's changes ("Status: MOI → VIP"); None when there is no state to compare."""
    if not isinstance(entry.snapshot_before, dict) or not entry.snapshot_before:
        return None
    lines = []
    for change in changes_sent(entry):
        if not (change.was_sent and change.changed):
            continue
        if change.key == CUSTOM_FIELDS_KEY:
            before = _field_values(json.loads(change.before) if change.before else [])
            after = _field_values(entry.request_body.get(CUSTOM_FIELDS_KEY))
            for key in sorted(before.keys() | after.keys()):
                if before.get(key, "") != after.get(key, ""):
                    lines.append(
                        f"{key}: {_shown(before.get(key, ''))} → {_shown(after.get(key, ''))}"
                    )
            continue
        before = entry.snapshot_before.get(change.key)
        if before is None:
            # A reference code's snapshot keeps the register's names ("name", "description").
            record_kind = KINDS.get(entry.record_kind)
            if record_kind is not None:
                before = entry.snapshot_before.get(record_kind.snapshot_key(change.key))
        after = entry.request_body.get(change.key)
        if _shown(before) == _shown(after):
            continue
        if _is_secret(change.key):
            before, after = REDACTED, REDACTED
        lines.append(f"{_label(entry.record_kind, change.key)}: {_shown(before)} → {_shown(after)}")
    return lines


def _action(entry: AuditEntry) -> tuple[str, list[str]]:
    """What the call did (or tried to do), and its detail lines."""
    if entry.operation == REGISTER_ADOPT:
        body = entry.request_body if isinstance(entry.request_body, dict) else {}
        name = body.get("file")
        if name:
            return gettext("Adopted from import file %(file)s") % {"file": name}, []
        return gettext("Adopted from an import file"), []
    operation = OPERATIONS.get(entry.operation)
    action = operation.action if operation is not None else ""
    if action == "create":
        return pgettext("history", "Created"), []
    if action == "rename":
        return gettext("Code changed %(old)s → %(new)s") % {
            "old": entry.code,
            "new": entry.new_code,
        }, []
    if action == "delete":
        return gettext("Deleted"), []
    if action == "update":
        lines = _changed_lines(entry)
        if lines is None:
            return pgettext("history", "Changed"), []
        if not lines:
            return gettext("Saved without changes"), []
        return pgettext("history", "Changed"), lines
    return entry.operation, []


def _may_have_acted(entry: AuditEntry) -> bool:
    """A failure after which the CRM may have made the change (reconciliation's rule)."""
    if entry.failure_kind == FailureKind.TIMEOUT:
        return not entry.error_detail.startswith(("ConnectTimeout", "BudgetExhausted"))
    if entry.failure_kind == FailureKind.HTTP_ERROR:
        return (entry.http_status or 500) >= 500
    return entry.failure_kind in (FailureKind.MALFORMED, FailureKind.INTERNAL)


def _reason(entry: AuditEntry) -> str:
    meaning = meaning_of_code(entry.upstream_error)
    if entry.outcome == Outcome.REJECTED and meaning is not None:
        return str(MEANING_TEXTS[meaning])
    if entry.outcome == Outcome.REJECTED:
        return entry.upstream_message or gettext("the CRM refused it")
    return str(FailureKind(entry.failure_kind).label) if entry.failure_kind else ""


def _answer(entry: AuditEntry, secrets: tuple[str, ...]) -> list[tuple[str, str]]:
    if entry.outcome == Outcome.PENDING:
        return [(gettext("Answer"), gettext("none recorded"))]
    rows = []
    if entry.http_status:
        rows.append((gettext("HTTP status"), str(entry.http_status)))
    if entry.upstream_status is not None:
        rows.append((gettext("CRM status"), str(entry.upstream_status)))
    # A success's error code is 0: only a failure's code says something.
    code = "" if entry.outcome == Outcome.SUCCEEDED else entry.upstream_error
    words = crm_words(message=entry.upstream_message, error_code=code)
    if words:
        rows.append((gettext("CRM message"), redact(words, secrets)))
    if entry.upstream_data not in (None, ""):
        data = _masked(entry.upstream_data, secrets)
        rows.append((gettext("CRM data"), _shown(data)))
    if entry.failure_kind and entry.failure_kind != FailureKind.REJECTED:
        rows.append((gettext("Failure"), str(FailureKind(entry.failure_kind).label)))
    if entry.duration_ms is not None and entry.operation != REGISTER_ADOPT:
        rows.append((gettext("Duration"), gettext("%(ms)d ms") % {"ms": round(entry.duration_ms)}))
    return rows


def _sent(entry: AuditEntry, secrets: tuple[str, ...]) -> str:
    body = entry.request_body if isinstance(entry.request_body, dict) else {}
    if entry.operation != REGISTER_ADOPT:
        body = {key: value for key, value in body.items() if key not in TENANT_KEYS}
    if not body:
        return ""
    return json.dumps(_masked(body, secrets), ensure_ascii=False, indent=2)


def story_of(entry: AuditEntry, *, secrets: tuple[str, ...] = ()) -> Story:
    """``entry`` (annotated with ``shown_outcome``) in plain words."""
    shown = getattr(entry, "shown_outcome", entry.outcome)
    action, lines = _action(entry)
    if shown == Outcome.SUCCEEDED:
        headline = action
    else:
        lines = [gettext("Tried: %(action)s") % {"action": action}, *lines]
        if shown == SHOWN_UNKNOWN or (shown == Outcome.FAILED and _may_have_acted(entry)):
            shown = SHOWN_UNKNOWN
            reason = _reason(entry) if entry.outcome != Outcome.PENDING else ""
            headline = (
                gettext("Outcome unknown: %(reason)s") % {"reason": reason}
                if reason
                else gettext("Outcome unknown")
            )
        elif shown == SHOWN_IN_PROGRESS:
            headline = gettext("In progress")
        else:
            headline = gettext("Failed: %(reason)s") % {"reason": _reason(entry)}
    return Story(
        entry=entry,
        outcome=shown,
        outcome_label=str(OUTCOME_LABELS.get(shown, shown)),
        headline=redact(headline, secrets),
        lines=[redact(line, secrets) for line in lines],
        sent=_sent(entry, secrets),
        answer=_answer(entry, secrets),
    )


def stories(entries: Iterable[AuditEntry]) -> list[Story]:
    """Each entry of a history in plain words, newest first as given."""
    secrets = tuple(auth.secrets())
    return [story_of(entry, secrets=secrets) for entry in entries]
