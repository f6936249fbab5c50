"""Local events in the audit log: what happened in the dashboard itself, not a CRM call.

Sign-ins, failed sign-ins, sign-outs and lock-outs; changes to users and roles made in
``/admin/``; every export of the audit log. Each is one finished entry with the record
kind ``local`` (so ``AuditEntry.objects``, the CRM calls, leaves it out), linked into the
hash chain like every entry, and listed in ``/audit/`` under the kind "local event".
"""

from collections.abc import Iterable
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crmadmin.audit.models import LOCAL, AuditEntry, Outcome, new_request_id
from crmadmin.core.bulk import insert_rows
from crmadmin.core.middleware import current_client_ip

SIGN_IN = "auth.sign_in"
SIGN_IN_FAILED = "auth.sign_in_failed"
SIGN_OUT = "auth.sign_out"
LOCKED_OUT = "auth.locked_out"
USER_CHANGED = "admin.user"
ROLE_CHANGED = "admin.role"
AUDIT_EXPORTED = "audit.export"
# Written once, by migration audit 0005, into a chain that had links already: from this
# event's link on, links escape line breaks in their values (audit.chain.escape).
CHAIN_FORMAT = "audit.chain_format"
# A record the CRM already held, added to the register from an import file ("adopt").
# Unlike the events above it is about one record, so it carries that record's kind and
# code (not ``local``) and appears in the record's history.
REGISTER_ADOPT = "register.adopt"

LABELS = {
    SIGN_IN: _("sign-in"),
    SIGN_IN_FAILED: _("failed sign-in"),
    SIGN_OUT: _("sign-out"),
    LOCKED_OUT: _("sign-in lock-out"),
    USER_CHANGED: _("user changed in admin"),
    ROLE_CHANGED: _("role changed in admin"),
    AUDIT_EXPORTED: _("audit log export"),
    CHAIN_FORMAT: _("audit chain: values escaped from here on"),
    REGISTER_ADOPT: _("register: added from a file"),
}
# Refusals are recorded as such, so "rejected" finds them in the list.
REFUSED = (SIGN_IN_FAILED, LOCKED_OUT)

_USERNAME_CHARS = AuditEntry._meta.get_field("actor_username").max_length
_CODE_CHARS = AuditEntry._meta.get_field("code").max_length


def record(
    operation: str,
    *,
    actor=None,
    code: str = "",
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Write one local event, committed at once (a failed sign-in's request may end in
    an error, and the event must stay)."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    now = timezone.now()
    entry = AuditEntry(
        actor=actor,
        actor_username=actor.get_username()[:_USERNAME_CHARS] if actor is not None else "",
        actor_ip=ip or current_client_ip(),
        operation=operation,
        record_kind=LOCAL,
        code=code[:_CODE_CHARS],
        request_body=details or {},
        started_at=now,
        finished_at=now,
        duration_ms=0.0,
        outcome=Outcome.REJECTED if operation in REFUSED else Outcome.SUCCEEDED,
    )
    alias = router.db_for_write(AuditEntry)
    # Its own savepoint inside a caller's transaction, its own transaction outside one.
    with transaction.atomic(using=alias):
        entry.save(using=alias)
    return entry


def register_event(
    *,
    event: str,
    actor,
    record_kind: str,
    code: str,
    details: dict[str, Any],
    snapshot_before: Any = None,
) -> AuditEntry:
    """An unsaved, finished entry for one register event about one record; written in
    batches by :func:`record_events`."""
    if event != REGISTER_ADOPT:
        raise ValueError(f"unknown register event {event!r}")
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    now = timezone.now()
    return AuditEntry(
        actor=actor,
        actor_username=actor.get_username()[:_USERNAME_CHARS] if actor is not None else "",
        actor_ip=current_client_ip(),
        operation=event,
        record_kind=record_kind,
        code=code[:_CODE_CHARS],
        request_body=details,
        snapshot_before=snapshot_before,
        started_at=now,
        finished_at=now,
        duration_ms=0.0,
        outcome=Outcome.SUCCEEDED,
    )


def record_many(
    *, event: str, actor, record_kind: str, items: Iterable[tuple[str, dict[str, Any]]]
) -> None:
    """One event per ``(code, details)`` of ``items`` (an import adopts thousands). The
    events differ only in code, body and request id, so they are built as plain rows
    from one template entry: a model instance each was a fifth of an adopt's time."""
    template = register_event(
        event=event, actor=actor, record_kind=record_kind, code="", details={}
    )
    base = _row_of(template)
    rows = []
    for code, details in items:
        row = dict(base)
        row["code"] = code[:_CODE_CHARS]
        row["request_body"] = details
        row["request_id"] = new_request_id()
        rows.append(row)
    _link_and_insert(rows)


def record_events(entries: Iterable[AuditEntry]) -> None:
    """Write finished entries in one prepared statement run many times, each linked into
    the hash chain in order inside the caller's transaction (which holds the writers'
    lock from the first link to its commit, as every audit writer does)."""
    _link_and_insert([_row_of(entry) for entry in entries])


def _row_fields() -> list[str]:
    return [f.attname for f in AuditEntry._meta.concrete_fields if not f.primary_key]


def _row_of(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in _row_fields()}


def _link_and_insert(rows: list[dict[str, Any]]) -> None:
    from crmadmin.audit import chain

    if not rows:
        return
    alias = router.db_for_write(AuditEntry)
    connection = connections[alias]
    vendor = connection.vendor
    started = chain.started_columns()
    texts = chain.contents(started, rows, vendor=vendor)
    with transaction.atomic(using=alias):
        link = None
        for row, text in zip(rows, texts, strict=True):
            completed = {name: row[name] for name in chain.COMPLETED_FIELDS}
            columns, link = chain.make_links(connection, text, completed, after=link)
            row.update(columns)
        fields = _row_fields()
        insert_rows(AuditEntry, fields, ([row[name] for name in fields] for row in rows))
