"""The write-ahead recorder: ``begin`` commits a pending entry, ``complete`` finishes it once.

``begin`` runs before the request leaves, so a call whose process dies mid-flight still
leaves a ``pending`` entry ("outcome unknown" on the screens). ``complete`` is one
conditional UPDATE of a pending row; calling it on an entry that is already finished
raises ``AuditEntryImmutable`` (and the database trigger backs that up).
"""

import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from crmadmin.audit.models import AuditEntry, AuditEntryImmutable, Outcome
from crmadmin.core.middleware import current_client_ip


def begin(
    *,
    operation: str,
    request_body: dict[str, Any],
    actor=None,
    record_kind: str = "",
    code: str = "",
    new_code: str = "",
    snapshot_before: Any = None,
) -> AuditEntry:
    """Create and commit a pending entry (inside a caller's transaction it joins that one)."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    entry = AuditEntry(
        actor=actor,
        actor_username=actor.get_username() if actor is not None else "",
        actor_ip=current_client_ip(),
        operation=operation,
        record_kind=record_kind,
        code=code,
        new_code=new_code,
        request_body=request_body,
        snapshot_before=snapshot_before,
        started_at=timezone.now(),
        outcome=Outcome.PENDING,
    )
    with transaction.atomic():
        entry.save(force_insert=True)
    # Monotonic start for the duration; wall-clock started_at is for people.
    entry._started_monotonic = time.perf_counter()
    return entry


def complete(
    entry: AuditEntry,
    *,
    outcome: str,
    failure_kind: str = "",
    http_status: int | None = None,
    upstream_status: int | None = None,
    upstream_error: str = "",
    upstream_message: str = "",
    upstream_data: Any = None,
    error_detail: str = "",
) -> AuditEntry:
    """Finish a pending entry exactly once with the outcome of its call."""
    if outcome == Outcome.PENDING:
        raise ValueError("an entry is completed with a final outcome, not 'pending'")
    started = getattr(entry, "_started_monotonic", None)
    finished_at = timezone.now()
    if started is not None:
        duration_ms = (time.perf_counter() - started) * 1000
    else:
        duration_ms = (finished_at - entry.started_at).total_seconds() * 1000
    fields = {
        "finished_at": finished_at,
        "duration_ms": round(duration_ms, 3),
        "outcome": outcome,
        "failure_kind": failure_kind,
        "http_status": http_status,
        "upstream_status": upstream_status,
        "upstream_error": upstream_error,
        "upstream_message": upstream_message,
        "upstream_data": upstream_data,
        "error_detail": error_detail,
    }
    # The queryset's update() only touches pending rows: 0 rows means already finished.
    if AuditEntry.objects.filter(pk=entry.pk).update(**fields) != 1:
        raise AuditEntryImmutable(f"audit entry {entry.request_id} is already finished")
    for name, value in fields.items():
        setattr(entry, name, value)
    return entry
