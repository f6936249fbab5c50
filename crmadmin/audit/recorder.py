"""The write-ahead recorder: ``begin`` commits a pending entry, ``complete`` finishes it once.

``Recording`` is how a caller uses them: it begins the entry, completes it with
``succeed`` (running the register's change in the same transaction), and completes it
with the failure when an exception leaves its block. CRM calls and token grants both
go through it, so there is one place that decides what a failure writes.

``begin`` runs before the request leaves, so a call whose process dies mid-flight still
leaves a ``pending`` entry ("outcome unknown" on the screens). ``complete`` is one
conditional UPDATE of a pending row; calling it on an entry that is already finished
raises ``AuditEntryImmutable`` (and the database trigger backs that up).

Both statements sit on every CRM call. Compiling them through the ORM each time doubled
their cost (bench/upstream_overhead.py), so each is written once per database from the
model's own field list, and values go through the fields' ``get_db_prep_save`` exactly as
the ORM would send them.
"""

import contextlib
import contextvars
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

from crmadmin.audit import chain
from crmadmin.audit.models import AuditEntry, AuditEntryImmutable, FailureKind, Outcome
from crmadmin.core.actors import actor_or_none
from crmadmin.core.middleware import current_client_ip

# What is written when an entry is completed (one list, shared with the hash chain), and
# of it what the CRM's answer (or its absence) says.
COMPLETED_FIELDS = chain.COMPLETED_FIELDS
OUTCOME_FIELDS = tuple(
    name for name in COMPLETED_FIELDS if name not in ("finished_at", "duration_ms")
)

# An error's detail (a traceback line, an answer's excerpt) is kept up to this length.
ERROR_DETAIL_MAX_CHARS = 2000

_statements: dict[str, tuple[str, str]] = {}

logger = logging.getLogger("crmadmin.audit")

REDACTED = "[redacted]"
REGISTER_FAILED = (
    "The CRM confirmed the change, but the local register could not be updated: {error}"
)


@dataclass(frozen=True)
class JobScope:
    job_id: int
    # Runs inside the transaction that commits the pending entry, so whatever it writes
    # (a job row's "in flight" mark and its link to the entry) is durable exactly when
    # the entry is, before the request leaves.
    on_begin: Callable[[AuditEntry], None] | None = None


_job_scope: contextvars.ContextVar[JobScope | None] = contextvars.ContextVar(
    "audit_job_scope", default=None
)


@contextlib.contextmanager
def job_scope(job_id: int, on_begin: Callable[[AuditEntry], None] | None = None) -> Iterator[None]:
    """Every entry begun inside the block (in this thread) belongs to job ``job_id``."""
    token = _job_scope.set(JobScope(job_id, on_begin))
    try:
        yield
    finally:
        _job_scope.reset(token)


def _insert_fields():
    return [f for f in AuditEntry._meta.concrete_fields if not f.primary_key]


def _completed_fields():
    names = (*COMPLETED_FIELDS, "completion_seq", "completion_hash")
    return [AuditEntry._meta.get_field(name) for name in names]


def _fit(field_name: str, value: str) -> str:
    """``value`` cut to its column's length: whatever the CRM sends, the entry is written."""
    return value[: AuditEntry._meta.get_field(field_name).max_length]


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
    actor = actor_or_none(actor)
    scope = _job_scope.get()
    entry = AuditEntry(
        job_id=scope.job_id if scope else None,
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
        with transaction.atomic(using=alias, durable=True), connection.cursor() as cursor:
            chain.link_new_entry(entry, connection)
            params = [
                f.get_db_prep_save(f.pre_save(entry, True), connection) for f in _insert_fields()
            ]
            cursor.execute(insert, params)
            entry.pk = cursor.fetchone()[0]
            entry._state.adding = False
            entry._state.db = alias
            if scope and scope.on_begin:
                scope.on_begin(entry)
    else:
        with transaction.atomic(using=alias, durable=True):
            entry.save(force_insert=True, using=alias)
            if scope and scope.on_begin:
                scope.on_begin(entry)
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
        "upstream_error": _fit("upstream_error", upstream_error),
        "upstream_message": upstream_message,
        "upstream_data": upstream_data,
        "error_detail": error_detail[:ERROR_DETAIL_MAX_CHARS],
    }
    alias = entry._state.db or router.db_for_write(AuditEntry)
    connection = connections[alias]
    _, update = _sql_for(connection)
    # The completion's link and the entry's update commit together (in the caller's
    # transaction when there is one: the register's change, in ``Recording.succeed``).
    outside = not connection.in_atomic_block
    with transaction.atomic(using=alias) if outside else nullcontext():
        with transaction.mark_for_rollback_on_error(alias):
            text = chain.completed_content(entry.chain_hash, values, connection.vendor)
            link = chain.next_link(connection, text)
            values["completion_seq"], values["completion_hash"] = link.seq, link.hash
            params = [f.get_db_prep_save(values[f.name], connection) for f in _completed_fields()]
            with connection.cursor() as cursor:
                cursor.execute(update, [*params, entry.pk, Outcome.PENDING.value])
                updated = cursor.rowcount
        # No row still pending under that id: it was finished before.
        if updated != 1:
            raise AuditEntryImmutable(f"audit entry {entry.request_id} is already finished")
    for name, value in values.items():
        setattr(entry, name, value)
    return entry


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text


@dataclass(frozen=True)
class Failure:
    """What a failed call writes to its entry (the caller's reading of the exception)."""

    outcome: str
    failure_kind: str
    http_status: int | None = None
    upstream_status: int | None = None
    upstream_error: str = ""
    upstream_message: str = ""
    upstream_data: Any = None
    error_detail: str = ""


class Recording:
    """One audited call, as a ``with`` block::

        with Recording(operation=..., request_body=..., describe=..., secrets=...) as rec:
            answer = send(request_id=rec.entry.request_id)
            rec.succeed(http_status=..., register=lambda: change_the_register(answer))

    - entering commits the pending entry (``begin``);
    - ``succeed`` completes it as succeeded, in the transaction that runs ``register``;
      if ``register`` fails, the entry still says succeeded (the CRM made the change)
      with the error in ``error_detail``, and the error propagates;
    - an exception leaving the block before ``succeed`` completes the entry with
      ``describe(exc)`` (a ``Failure``), or failed/internal when that is None; the
      texts are redacted of ``secrets()``. If even that cannot be written (database
      gone), the entry stays pending: "outcome unknown" on the screens.

    ``finished(entry)`` runs once the entry is completed (a log line).
    """

    def __init__(
        self,
        *,
        describe: Callable[[BaseException, AuditEntry], Failure | None],
        secrets: Callable[[], Iterable[str]] = tuple,
        finished: Callable[[AuditEntry], None] | None = None,
        **begin_fields: Any,
    ) -> None:
        self._describe = describe
        self._secrets = secrets
        self._finished = finished
        self._begin_fields = begin_fields
        self._confirmed = False
        self.entry: AuditEntry

    def __enter__(self) -> "Recording":
        self.entry = begin(**self._begin_fields)
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc is None or self._confirmed:
            return
        self._complete_with_failure(exc)

    def succeed(self, *, register: Callable[[], Any] | None = None, **fields: Any) -> Any:
        """Complete the entry as succeeded (``fields`` as for ``complete``); return what
        ``register`` returned."""
        self._confirmed = True
        entry = self.entry
        if register is None:
            complete(entry, outcome=Outcome.SUCCEEDED, **fields)
            self._done()
            return None
        try:
            with transaction.atomic():
                value = register()
                complete(entry, outcome=Outcome.SUCCEEDED, **fields)
        except BaseException as exc:
            # The atomic block rolled back both the register's change and the completion.
            try:
                complete(
                    entry,
                    outcome=Outcome.SUCCEEDED,
                    **fields,
                    error_detail=REGISTER_FAILED.format(error=f"{type(exc).__name__}: {exc}"),
                )
            except Exception:
                logger.exception(
                    "could not complete audit entry %s after the register failed",
                    entry.request_id,
                )
            logger.error(
                "CRM %s %s succeeded but the register was not updated (request %s)",
                entry.operation,
                entry.code,
                entry.request_id,
            )
            raise
        self._done()
        return value

    def _complete_with_failure(self, exc: BaseException) -> None:
        entry = self.entry
        try:
            secrets = tuple(self._secrets())
            failure = self._describe(exc, entry)
            if failure is None:  # a bug or an interruption: failed, never vanished
                failure = Failure(
                    outcome=Outcome.FAILED,
                    failure_kind=FailureKind.INTERNAL,
                    error_detail=f"{type(exc).__name__}: {exc}",
                )
            # Redacted whole, then cut to the columns by ``complete``.
            complete(
                entry,
                outcome=failure.outcome,
                failure_kind=failure.failure_kind,
                http_status=failure.http_status,
                upstream_status=failure.upstream_status,
                upstream_error=redact(failure.upstream_error, secrets),
                upstream_message=redact(failure.upstream_message, secrets),
                upstream_data=failure.upstream_data,
                error_detail=redact(failure.error_detail, secrets),
            )
        except Exception:
            logger.exception(
                "could not complete audit entry %s after its call failed; it stays pending",
                entry.request_id,
            )
        self._done()

    def _done(self) -> None:
        if self._finished is not None:
            self._finished(self.entry)
