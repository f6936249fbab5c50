"""The write-ahead recorder: ``begin`` commits a pending entry, ``complete`` finishes it once.

``begin`` runs before the request leaves, so a call whose process dies mid-flight still
leaves a ``pending`` entry ("outcome unknown" on the screens). ``complete`` is one
conditional UPDATE of a pending row; calling it on an entry that is already finished
raises ``AuditEntryImmutable`` (and the database trigger backs that up).

Both statements sit on every CRM call. Compiling them through the ORM each time doubled
their cost (bench/upstream_overhead.py), so each is written once per database from the
model's own field list, and values go through the fields' ``get_db_prep_save`` exactly as
the ORM would send them.
"""

import time
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

from crmadmin.audit.models import AuditEntry, AuditEntryImmutable, Outcome
from crmadmin.core.middleware import current_client_ip

# What the CRM's answer (or its absence) says: written when the entry is completed.
OUTCOME_FIELDS = (
    "outcome",
    "failure_kind",
    "http_status",
    "upstream_status",
    "upstream_error",
    "upstream_message",
    "upstream_data",
    "error_detail",
)
COMPLETED_FIELDS = ("finished_at", "duration_ms", *OUTCOME_FIELDS)

_statements: dict[str, tuple[str, str]] = {}


def _insert_fields():
    return [f for f in AuditEntry._meta.concrete_fields if not f.primary_key]


def _completed_fields():
    return [AuditEntry._meta.get_field(name) for name in COMPLETED_FIELDS]


def _sql_for(connection) -> tuple[str, str]:
    """(INSERT ... RETURNING id, UPDATE ... WHERE id AND still pending) for one database."""
    if connection.alias not in _statements:
        # Only the model's own table and column names go into the text; values are params.
        quote = connection.ops.quote_name
        meta = AuditEntry._meta
        inserted = _insert_fields()
        insert = (
            f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608
            f"({', '.join(quote(f.column) for f in inserted)}) "
            f"VALUES ({', '.join(['%s'] * len(inserted))}) "
            f"RETURNING {quote(meta.pk.column)}"
        )
        update = (
            f"UPDATE {quote(meta.db_table)} SET "  # noqa: S608
            + ", ".join(f"{quote(f.column)} = %s" for f in _completed_fields())
            + f" WHERE {quote(meta.pk.column)} = %s AND {quote('outcome')} = %s"
        )
        _statements[connection.alias] = (insert, update)
    return _statements[connection.alias]


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
    """Create and commit a pending entry.

    The block is durable: called inside a caller's ``transaction.atomic()`` it raises
    ``RuntimeError`` instead of writing an entry that is not yet committed, and that the
    caller's transaction would hold locked while the CRM (maybe this process's own
    sandbox, on the same SQLite file) is working. Django's TestCase transactions are
    exempt, as for every durable block.
    """
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
    alias = router.db_for_write(AuditEntry)
    connection = connections[alias]
    if connection.features.can_return_columns_from_insert:
        insert, _ = _sql_for(connection)
        params = [f.get_db_prep_save(f.pre_save(entry, True), connection) for f in _insert_fields()]
        with transaction.atomic(using=alias, durable=True), connection.cursor() as cursor:
            cursor.execute(insert, params)
            entry.pk = cursor.fetchone()[0]
        entry._state.adding = False
        entry._state.db = alias
    else:
        with transaction.atomic(using=alias, durable=True):
            entry.save(force_insert=True, using=alias)
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
    values = {
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
    alias = entry._state.db or router.db_for_write(AuditEntry)
    connection = connections[alias]
    _, update = _sql_for(connection)
    params = [f.get_db_prep_save(values[f.name], connection) for f in _completed_fields()]
    with transaction.mark_for_rollback_on_error(alias), connection.cursor() as cursor:
        cursor.execute(update, [*params, entry.pk, Outcome.PENDING.value])
        updated = cursor.rowcount
    # No row still pending under that id: it was finished before.
    if updated != 1:
        raise AuditEntryImmutable(f"audit entry {entry.request_id} is already finished")
    for name, value in values.items():
        setattr(entry, name, value)
    return entry
