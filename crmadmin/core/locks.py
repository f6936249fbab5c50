"""One write at a time per record: a lease row per (kind, code), on any database.

``record_lock("customer", ["KH1"], holder=user, operation="customer.update")`` takes the
record's lease or raises ``RecordBusy`` naming who holds it. A change of code locks the
old and the new code together. The lease expires after ``CRM_CALL_BUDGET`` seconds, which
bounds every call, so a writer that crashed blocks the record no longer than that.

Taking a lease is one INSERT against a unique constraint, committed on its own (outside
any transaction of the caller's): the constraint decides between two writers on SQLite
and PostgreSQL alike, across processes and hosts. Locks are re-entrant within one flow of
execution (a service holding a record's lock calls the client, which asks for it again).
"""

import contextvars
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from crmadmin.core.models import RecordLease


class Lease:
    """A taken lease. ``release()`` may run inside the transaction that records the
    call's outcome, so both commit together (one commit fewer per call); ``keep()`` undoes
    that when the transaction rolls back, and the lock's block then releases it."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.released = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            _release(self.token)

    def keep(self) -> None:
        self.released = False


_held: contextvars.ContextVar[Mapping[tuple[str, str], Lease]] = contextvars.ContextVar(
    "crmadmin_record_locks", default=MappingProxyType({})
)


@dataclass
class RecordBusy(Exception):
    """Another writer holds the record's lease: nothing was sent."""

    kind: str
    code: str
    holder: str
    operation: str
    since: datetime

    def __post_init__(self) -> None:
        super().__init__(self.user_message)

    @property
    def user_message(self) -> str:
        since = date_format(timezone.localtime(self.since), "H:i:s")
        if self.holder:
            return gettext(
                "%(holder)s is saving %(code)s right now (since %(since)s). Nothing was "
                "sent to the CRM; open the record again in a moment to see their change."
            ) % {"holder": self.holder, "code": self.code, "since": since}
        return gettext(
            "Another change of %(code)s is being saved right now (since %(since)s). Nothing "
            "was sent to the CRM; open the record again in a moment to see that change."
        ) % {"code": self.code, "since": since}

    def __str__(self) -> str:
        return self.user_message


def lease_seconds() -> float:
    return float(settings.CRM_CALL_BUDGET)


def holds(kind: str, code: str) -> bool:
    return (kind, code) in _held.get()


@contextmanager
def record_lock(
    kind: str, codes: Iterable[str], *, holder: str = "", operation: str = ""
) -> Iterator[Lease]:
    """Hold the leases of ``kind`` + each of ``codes`` for the block (or raise RecordBusy).

    Within a block that holds them already, the outer block's lease is yielded.
    """
    codes = sorted({code for code in codes if code})
    held = _held.get()
    wanted = [code for code in codes if (kind, code) not in held]
    if not wanted:
        yield held[(kind, codes[0])] if codes else Lease("")
        return
    lease = Lease(uuid.uuid4().hex)
    _acquire(kind, wanted, token=lease.token, holder=holder, operation=operation)
    previous = _held.set({**held, **{(kind, code): lease for code in wanted}})
    try:
        yield lease
    finally:
        _held.reset(previous)
        lease.release()


def _acquire(kind: str, codes: list[str], *, token: str, holder: str, operation: str) -> None:
    alias = router.db_for_write(RecordLease)
    for attempt in (1, 2):
        now = timezone.now()
        rows = [
            RecordLease(
                kind=kind,
                code=code,
                token=token,
                holder=holder[:150],
                operation=operation[:32],
                acquired_at=now,
                expires_at=now + timedelta(seconds=lease_seconds()),
            )
            for code in codes
        ]
        try:
            _insert(alias, rows)
            return
        except IntegrityError:
            if attempt == 2:
                break
            # Someone holds one of them: take over leases whose writer outlived the budget.
            with transaction.atomic(using=alias):
                RecordLease.objects.using(alias).filter(
                    kind=kind, code__in=codes, expires_at__lte=now
                ).delete()
    current = (
        RecordLease.objects.using(alias)
        .filter(kind=kind, code__in=codes)
        .order_by("acquired_at")
        .first()
    )
    if current is None:  # released between our attempt and this read: report it anyway
        raise RecordBusy(kind=kind, code=codes[0], holder="", operation="", since=timezone.now())
    raise RecordBusy(
        kind=kind,
        code=current.code,
        holder=current.holder,
        operation=current.operation,
        since=current.acquired_at,
    )


# Taking and releasing a lease sit on every CRM call (bench/upstream_overhead.py): each is
# one statement, prepared once per database, that commits on its own (no extra BEGIN).
_statements: dict[str, tuple[str, str]] = {}


def _fields():
    return [f for f in RecordLease._meta.concrete_fields if not f.primary_key]


def _sql_for(connection, rows: int) -> tuple[str, str]:
    key = f"{connection.alias}:{rows}"
    if key not in _statements:
        quote = connection.ops.quote_name
        table = quote(RecordLease._meta.db_table)
        columns = ", ".join(quote(f.column) for f in _fields())
        values = ", ".join(["(" + ", ".join(["%s"] * len(_fields())) + ")"] * rows)
        insert = f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608
        delete = f"DELETE FROM {table} WHERE {quote('token')} = %s"  # noqa: S608
        _statements[key] = (insert, delete)
    return _statements[key]


def _run(alias: str, sql: str, params: list) -> None:
    connection = connections[alias]
    if connection.in_atomic_block:
        # Inside a caller's transaction (tests): a savepoint keeps a refusal contained.
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute(sql, params)
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _insert(alias: str, rows: list[RecordLease]) -> None:
    connection = connections[alias]
    insert, _ = _sql_for(connection, len(rows))
    params = [
        f.get_db_prep_save(f.pre_save(row, True), connection) for row in rows for f in _fields()
    ]
    _run(alias, insert, params)


def _release(token: str) -> None:
    if not token:
        return
    alias = router.db_for_write(RecordLease)
    connection = connections[alias]
    _, delete = _sql_for(connection, 1)
    # A DELETE cannot be refused: in a caller's transaction it commits (or not) with it.
    with connection.cursor() as cursor:
        cursor.execute(delete, [token])


def holder_name(actor) -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return actor.get_username()
    return ""
