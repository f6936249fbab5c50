"""The audit list: its filters, its keyset pages, one entry, and a record's history.

Every list is "newest first" by ``(started_at, id)`` and paged by keyset: a page asks for
the ``PAGE_SIZE + 1`` entries beyond a cursor, in the order of one of the model's indexes,
so no page counts or skips rows, whatever the size of the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import (
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Concat
from django.utils import timezone

from crmadmin.audit.events import LABELS as LOCAL_EVENTS
from crmadmin.audit.models import LOCAL, AuditEntry, Outcome
from crmadmin.audit.selectors.outcome import (
    SHOWN_IN_PROGRESS,
    SHOWN_UNKNOWN,
    shown_as,
    unknown_cutoff,
    with_shown_outcome,
)

PAGE_SIZE = 50
NEWEST_FIRST = ("-started_at", "-id")
OLDEST_FIRST = ("started_at", "id")
# A record's history shows this many entries at most.
HISTORY_LIMIT = 100

# Large columns the list never shows: not read for a page of 50.
LIST_DEFERRED = ("request_body", "snapshot_before", "upstream_data", "error_detail")


def day_start(day: date) -> datetime:
    """Midnight starting ``day`` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class AuditFilters:
    actor_id: int | None = None
    operation: str = ""
    record_kind: str = ""
    code: str = ""
    outcome: str = ""  # one of SHOWN_OUTCOMES, or "" for any
    date_from: date | None = None  # inclusive, in the current time zone
    date_to: date | None = None  # inclusive, in the current time zone
    job_id: int | None = None  # the background job that made the calls

    @property
    def wants_local_events(self) -> bool:
        """The list shows CRM calls, unless the filter asks for the local events."""
        return self.record_kind == LOCAL or self.operation in LOCAL_EVENTS

    def as_query(self) -> dict[str, str]:
        """The GET parameters that reproduce these filters (empty ones left out)."""
        values = {
            "actor": "" if self.actor_id is None else str(self.actor_id),
            "operation": self.operation,
            "record_kind": self.record_kind,
            "code": self.code,
            "outcome": self.outcome,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "job": "" if self.job_id is None else str(self.job_id),
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }
        return {key: value for key, value in values.items() if value}


# Pending entries (unknown or in progress) are a tiny share of the log, so for those
# filters the (outcome, started_at, id) index finds a page fastest. SQLite keeps no
# per-value statistics: it takes "pending" for a quarter of the table and would rather
# walk a user's (or an operation's) whole history. Comparing those columns through an
# expression that no index serves leaves it the outcome index.
_RARE_OUTCOMES = (SHOWN_UNKNOWN, SHOWN_IN_PROGRESS)


def _equal(entries: QuerySet, column: str, value) -> QuerySet:
    return entries.filter(**{column: value})


def _equal_unindexed(entries: QuerySet, column: str, value) -> QuerySet:
    field = AuditEntry._meta.get_field(column)
    if field.get_internal_type() == "CharField":
        expression = Concat(F(column), Value(""), output_field=CharField())
    else:
        expression = ExpressionWrapper(F(column) + 0, output_field=field)
    alias = f"{column}_unindexed"
    return entries.alias(**{alias: expression}).filter(**{alias: value})


def audit_entries(*, filters: AuditFilters, now: datetime | None = None) -> QuerySet:
    """Entries matching ``filters``, unordered, each annotated with ``shown_outcome``."""
    cutoff = unknown_cutoff(now)
    entries = (
        AuditEntry.everything.all() if filters.wants_local_events else AuditEntry.objects.all()
    )
    equal = _equal_unindexed if filters.outcome in _RARE_OUTCOMES else _equal
    if filters.actor_id is not None:
        entries = equal(entries, "actor_id", filters.actor_id)
    if filters.job_id is not None:
        entries = equal(entries, "job_id", filters.job_id)
    if filters.operation:
        entries = equal(entries, "operation", filters.operation)
    if filters.record_kind:
        entries = equal(entries, "record_kind", filters.record_kind)
    if filters.code:
        # Exact matches (so the code and new-code indexes serve it), forgiving of case
        # the way people type codes: as typed, upper case or lower case.
        variants = sorted({filters.code, filters.code.upper(), filters.code.lower()})
        entries = entries.filter(Q(code__in=variants) | Q(new_code__in=variants))
    if filters.outcome:
        entries = entries.filter(shown_as(filters.outcome, cutoff))
    if filters.date_from:
        entries = entries.filter(started_at__gte=day_start(filters.date_from))
    if filters.date_to:
        entries = entries.filter(started_at__lt=day_start(filters.date_to + timedelta(days=1)))
    return with_shown_outcome(entries, cutoff)


def actors_with_entries(*, local_events: bool = False) -> QuerySet:
    """Users who have at least one CRM call (or local event) in the log (one index probe
    each), by username."""
    user_model = get_user_model()
    entries = AuditEntry.everything if local_events else AuditEntry.objects
    return user_model.objects.filter(Exists(entries.filter(actor=OuterRef("pk")))).order_by(
        user_model.USERNAME_FIELD
    )


@dataclass(frozen=True)
class Cursor:
    """A position in the list: the ``(started_at, id)`` of an entry, as ``<iso-ts>_<id>``."""

    started_at: datetime
    id: int

    @classmethod
    def of(cls, entry: AuditEntry) -> Cursor:
        return cls(entry.started_at, entry.pk)

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """The cursor in ``text``, or None when it is absent or not a cursor."""
        stamp, separator, ident = (text or "").rpartition("_")
        if not separator:
            return None
        try:
            started_at = datetime.fromisoformat(stamp)
            pk = int(ident)
            if timezone.is_naive(started_at):
                return None
            # Out of range in UTC (year 1 at +14:00) is no position either.
            return cls(started_at.astimezone(UTC), pk)
        except (ValueError, OverflowError):
            return None

    def __str__(self) -> str:
        # isoformat, not strftime: "%Y" writes year 999 as "999", which no parser reads.
        stamp = self.started_at.astimezone(UTC).isoformat(timespec="microseconds")
        return f"{stamp.removesuffix('+00:00')}Z_{self.id}"


def _older_than(cursor: Cursor) -> Q:
    # (started_at, id) < (t, i), spelt so that the leading "started_at <= t" bounds the
    # index range scan and the OR only sorts out the entries sharing the timestamp t.
    t = cursor.started_at
    return Q(started_at__lte=t) & (Q(started_at__lt=t) | Q(id__lt=cursor.id))


def _newer_than(cursor: Cursor) -> Q:
    t = cursor.started_at
    return Q(started_at__gte=t) & (Q(started_at__gt=t) | Q(id__gt=cursor.id))


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    older: Cursor | None  # "before" cursor of the next older page, if there is one
    newer: Cursor | None  # "after" cursor of the next newer page, if there is one
    is_newest: bool  # the first page (no cursor)


def audit_page(
    *,
    filters: AuditFilters,
    before: Cursor | None = None,
    after: Cursor | None = None,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> AuditPage:
    """One page of entries, newest first: the newest, the one older than ``before``, or
    the one newer than ``after`` (fetched oldest first, then reversed)."""
    entries = audit_entries(filters=filters, now=now).defer(*LIST_DEFERRED)
    if before is None and after is not None:
        rows = list(entries.filter(_newer_than(after)).order_by(*OLDEST_FIRST)[: page_size + 1])
        if not rows:  # nothing newer any more: the newest page it is
            return audit_page(filters=filters, page_size=page_size, now=now)
        newer = Cursor.of(rows[page_size - 1]) if len(rows) > page_size else None
        rows = rows[:page_size][::-1]
        last = Cursor.of(rows[-1])
        older = last if entries.filter(_older_than(last)).exists() else None
        return AuditPage(entries=rows, older=older, newer=newer, is_newest=newer is None)

    scope = entries if before is None else entries.filter(_older_than(before))
    rows = list(scope.order_by(*NEWEST_FIRST)[: page_size + 1])
    older = Cursor.of(rows[page_size - 1]) if len(rows) > page_size else None
    rows = rows[:page_size]
    newer = None
    if before is not None and rows:
        first = Cursor.of(rows[0])
        newer = first if entries.filter(_newer_than(first)).exists() else None
    return AuditPage(entries=rows, older=older, newer=newer, is_newest=before is None)


def audit_entry(*, entry_id: int, now: datetime | None = None) -> AuditEntry | None:
    entries = AuditEntry.everything.select_related("actor").filter(pk=entry_id)
    return with_shown_outcome(entries, unknown_cutoff(now)).first()


def earlier_codes(kind: str, code: str) -> list[str]:
    """``code`` and every code the record had before, newest first.

    Follows succeeded changes of code backwards: an entry ``<kind>.rename`` from A to
    ``code`` means the record was A before, and so on.
    """
    chain = [code]
    seen = {code}
    frontier = [code]
    while frontier:
        previous = list(
            AuditEntry.objects.filter(
                operation=f"{kind}.rename",
                outcome=Outcome.SUCCEEDED,
                new_code__in=frontier,
            )
            .order_by(*NEWEST_FIRST)
            .values_list("code", flat=True)
        )
        frontier = [old for old in dict.fromkeys(previous) if old not in seen]
        seen.update(frontier)
        chain.extend(frontier)
    return chain


def record_history(
    *, kind: str, code: str, limit: int = HISTORY_LIMIT, now: datetime | None = None
) -> list[AuditEntry]:
    """Entries about the record of ``kind`` now called ``code``, under any of its codes,
    newest first (at most ``limit``), each annotated with ``shown_outcome``."""
    entries = AuditEntry.objects.filter(record_kind=kind, code__in=earlier_codes(kind, code))
    return list(
        with_shown_outcome(entries.select_related("actor"), unknown_cutoff(now)).order_by(
            *NEWEST_FIRST
        )[:limit]
    )


def code_after_renames(*, kind: str, code: str, exists: Callable[[str], bool]) -> str | None:
    """The code a record once called ``code`` has now: follows the succeeded changes of
    code forward while each step is unambiguous (one new code from each old one), until a
    code ``exists`` in the register; None otherwise."""
    seen = {code}
    current = code
    while True:
        following = set(
            AuditEntry.objects.filter(
                operation=f"{kind}.rename", outcome=Outcome.SUCCEEDED, code=current
            )
            .exclude(new_code=current)
            .values_list("new_code", flat=True)
        )
        if len(following) != 1:
            return None  # never renamed, or renamed twice from one code: ambiguous
        current = following.pop()
        if current in seen:
            return None
        seen.add(current)
        if exists(current):
            return current
