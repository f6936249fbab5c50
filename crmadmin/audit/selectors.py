"""Readers of the audit log for the managers' screens: lists, one entry, export, activity.

Every list is "newest first" by ``(started_at, id)`` and paged by keyset: a page asks for
the ``PAGE_SIZE + 1`` entries beyond a cursor, in the order of one of the model's indexes,
so no page counts or skips rows, whatever the size of the table.
"""

from __future__ import annotations

import heapq
import json
import math
from collections import Counter
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from crmadmin.audit.models import AuditEntry, Outcome
from crmadmin.upstream.operations import OPERATIONS, TENANT_KEYS, TOKEN_OPERATION, UPDATE

PAGE_SIZE = 50
NEWEST_FIRST = ("-started_at", "-id")
OLDEST_FIRST = ("started_at", "id")

# The outcome the screens show ("shown outcome"): the stored one, except for a pending
# entry, which is "in progress" while young and "outcome unknown" once older than
# settings.AUDIT_PENDING_UNKNOWN_AFTER (its process stopped before recording the answer).
SHOWN_UNKNOWN = "unknown"
SHOWN_IN_PROGRESS = Outcome.PENDING.value
SHOWN_OUTCOMES = (
    Outcome.SUCCEEDED.value,
    Outcome.REJECTED.value,
    Outcome.FAILED.value,
    SHOWN_UNKNOWN,
    SHOWN_IN_PROGRESS,
)

# Large columns the list never shows: not read for a page of 50.
_LIST_DEFERRED = ("request_body", "snapshot_before", "upstream_data", "error_detail")


def unknown_cutoff(now: datetime | None = None) -> datetime:
    """Pending entries that started before this instant are shown as "outcome unknown"."""
    return (now or timezone.now()) - timedelta(seconds=settings.AUDIT_PENDING_UNKNOWN_AFTER)


def _with_shown_outcome(entries: QuerySet, cutoff: datetime) -> QuerySet:
    return entries.annotate(
        shown_outcome=Case(
            When(outcome=Outcome.PENDING, started_at__lt=cutoff, then=Value(SHOWN_UNKNOWN)),
            default=F("outcome"),
            output_field=CharField(),
        )
    )


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

    def as_query(self) -> dict[str, str]:
        """The GET parameters that reproduce these filters (empty ones left out)."""
        values = {
            "actor": "" if self.actor_id is None else str(self.actor_id),
            "operation": self.operation,
            "record_kind": self.record_kind,
            "code": self.code,
            "outcome": self.outcome,
            "date_from": self.date_from.isoformat() if self.date_from else "",
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
    entries = AuditEntry.objects.all()
    equal = _equal_unindexed if filters.outcome in _RARE_OUTCOMES else _equal
    if filters.actor_id is not None:
        entries = equal(entries, "actor_id", filters.actor_id)
    if filters.operation:
        entries = equal(entries, "operation", filters.operation)
    if filters.record_kind:
        entries = equal(entries, "record_kind", filters.record_kind)
    if filters.code:
        # Exact matches (so the code and new-code indexes serve it), forgiving of case
        # the way people type codes: as typed, upper case or lower case.
        variants = sorted({filters.code, filters.code.upper(), filters.code.lower()})
        entries = entries.filter(Q(code__in=variants) | Q(new_code__in=variants))
    if filters.outcome == SHOWN_UNKNOWN:
        entries = entries.filter(outcome=Outcome.PENDING, started_at__lt=cutoff)
    elif filters.outcome == SHOWN_IN_PROGRESS:
        entries = entries.filter(outcome=Outcome.PENDING, started_at__gte=cutoff)
    elif filters.outcome:
        entries = entries.filter(outcome=filters.outcome)
    if filters.date_from:
        entries = entries.filter(started_at__gte=day_start(filters.date_from))
    if filters.date_to:
        entries = entries.filter(started_at__lt=day_start(filters.date_to + timedelta(days=1)))
    return _with_shown_outcome(entries, cutoff)


def actors_with_entries() -> QuerySet:
    """Users who have at least one entry (one index probe each), by username."""
    user_model = get_user_model()
    return user_model.objects.filter(
        Exists(AuditEntry.objects.filter(actor=OuterRef("pk")))
    ).order_by(user_model.USERNAME_FIELD)


# --- Keyset pagination ------------------------------------------------------------------


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
        except ValueError:
            return None
        if timezone.is_naive(started_at):
            return None
        return cls(started_at.astimezone(UTC), pk)

    def __str__(self) -> str:
        return f"{self.started_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}_{self.id}"


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
    entries = audit_entries(filters=filters, now=now).defer(*_LIST_DEFERRED)
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


# --- One entry --------------------------------------------------------------------------


def audit_entry(*, entry_id: int, now: datetime | None = None) -> AuditEntry | None:
    entries = AuditEntry.objects.select_related("actor").filter(pk=entry_id)
    return _with_shown_outcome(entries, unknown_cutoff(now)).first()


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
    """Where a snapshot may hold the value sent as ``wire_key``: the wire key itself, or
    the register's name for it (``status_no`` → ``code``, ``customer_type_code`` → ``type``)."""
    names = [wire_key]
    if wire_key == "fileds":
        names.append("fields")
    prefix = f"{kind}_"
    if wire_key.startswith(prefix):
        rest = wire_key.removeprefix(prefix)
        names.append(rest)
        if rest == "no":
            names.append("code")
        for suffix in ("_code", "_name"):
            if rest.endswith(suffix) and rest != suffix.lstrip("_"):
                names.append(rest.removesuffix(suffix))
    return names


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


# --- Export -----------------------------------------------------------------------------

EXPORT_FIELDS = (
    "id",
    "started_text",
    "finished_text",
    "actor_username",
    "actor_ip",
    "operation",
    "record_kind",
    "code",
    "new_code",
    "shown_outcome",
    "failure_kind",
    "http_status",
    "upstream_status",
    "upstream_error",
    "upstream_message",
    "duration_ms",
    "request_id",
    "body_text",
)


def export_rows(*, filters: AuditFilters, now: datetime | None = None) -> Iterator[tuple]:
    """Tuples of ``EXPORT_FIELDS``, newest first, read in chunks (constant memory:
    a server-side cursor on PostgreSQL, chunked fetches on SQLite).

    Timestamps and the request body come as the database's own text: Django's
    per-value converters (parse and make aware; decode the JSON) would cost more than
    writing the CSV row, and the export only turns them back into text.

    On PostgreSQL the rows are read inside a transaction: outside one, Django declares
    the cursor WITH HOLD, and the server computes and stores the whole result before
    the first row comes back. (Not on SQLite, where a transaction here would hold the
    database's write lock, and the audit log's writers with it, for the whole export.)
    """
    entries = (
        audit_entries(filters=filters, now=now)
        .annotate(
            started_text=Cast("started_at", CharField()),
            finished_text=Cast("finished_at", CharField()),
            body_text=Cast("request_body", TextField()),
        )
        .order_by(*NEWEST_FIRST)
        .values_list(*EXPORT_FIELDS)
    )
    reading = transaction.atomic() if connection.vendor == "postgresql" else nullcontext()
    with reading:
        yield from entries.iterator(chunk_size=2000)


# --- Activity dashboard -----------------------------------------------------------------

DASHBOARD_DAYS = 30
FAILURE_OUTCOMES = (Outcome.REJECTED.value, Outcome.FAILED.value)

# Latency is kept per day as a histogram, so days can be cached and merged: whole
# milliseconds up to a second, then buckets 1% wide (a percentile is off by at most half a percent).
_EXACT_BELOW_MS = 1000
_LOG_STEP = math.log(1.01)
_CACHE_VERSION = 2


def _latency_bucket(duration_ms: float) -> int:
    if duration_ms < _EXACT_BELOW_MS:
        return max(int(duration_ms), 0)
    return _EXACT_BELOW_MS + int(math.log(duration_ms / _EXACT_BELOW_MS) / _LOG_STEP)


def _bucket_value(bucket: int) -> float:
    if bucket < _EXACT_BELOW_MS:
        return float(bucket)
    # The bucket's geometric middle: within half a percent of any duration in it.
    return _EXACT_BELOW_MS * math.exp((bucket - _EXACT_BELOW_MS + 0.5) * _LOG_STEP)


def _percentile(histogram: Counter, fraction: float) -> float | None:
    """Nearest-rank percentile of the durations counted in ``histogram``."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(math.ceil(fraction * total), 1)
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return _bucket_value(bucket)
    return None  # unreachable: the ranks add up to total


@dataclass
class DaySummary:
    """Calls of (part of) a day: by shown outcome, token grants, by actor, and a latency
    histogram (see ``_latency_bucket``). Summaries of parts of a day add up."""

    outcomes: Counter = field(default_factory=Counter)
    token_calls: int = 0
    actors: Counter = field(default_factory=Counter)
    latency: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    def __add__(self, other: DaySummary) -> DaySummary:
        return DaySummary(
            outcomes=self.outcomes + other.outcomes,
            token_calls=self.token_calls + other.token_calls,
            actors=self.actors + other.actors,
            latency=self.latency + other.latency,
        )


def _summarise(start: datetime, end: datetime, cutoff: datetime) -> DaySummary:
    """The calls that started in [start, end), in one pass (no per-row date parsing:
    the database tells pending from unknown)."""
    summary = DaySummary()
    if start >= end:
        return summary
    rows = (
        _with_shown_outcome(
            AuditEntry.objects.filter(started_at__gte=start, started_at__lt=end), cutoff
        )
        .values_list("shown_outcome", "actor_id", "operation", "duration_ms")
        .iterator(chunk_size=5000)
    )
    outcomes, actors, latency = summary.outcomes, summary.actors, summary.latency
    token_calls = 0
    for outcome, actor_id, operation, duration_ms in rows:
        outcomes[outcome] += 1
        actors[actor_id] += 1
        if operation == TOKEN_OPERATION:
            token_calls += 1
        if duration_ms is not None:
            latency[_latency_bucket(duration_ms)] += 1
    summary.token_calls = token_calls
    return summary


def _day_cache_key(day: date) -> str:
    return f"audit:activity:v{_CACHE_VERSION}:{timezone.get_current_timezone_name()}:{day}"


# The settled part of a day is extended at most this often; what started after it is
# read on every request (a few minutes of calls).
_SETTLE_STEP = timedelta(minutes=1)


def _day_summaries(window: list[date], cutoff: datetime) -> list[DaySummary]:
    """Each day's summary: a cached, settled part plus what started after it.

    Entries that started before the "outcome unknown" cutoff are settled: finished ones
    never change, and pending ones are shown as unknown from then on. Each day's
    settled part is cached with the instant it reaches (its watermark), so a request
    reads only the calls after the watermark: nothing for past days, the last minutes
    for today. The first request after a deploy or a cache loss reads the 30 days once.
    """
    keys = [_day_cache_key(day) for day in window]
    cached = cache.get_many(keys)
    bounds = [day_start(day) for day in [*window, window[-1] + timedelta(days=1)]]
    summaries, updates = [], {}
    for key, start, end in zip(keys, bounds, bounds[1:], strict=False):
        settled, mark = cached.get(key) or (DaySummary(), start)
        settle_until = max(min(end, cutoff), start)
        if mark < settle_until and (settle_until == end or settle_until - mark >= _SETTLE_STEP):
            settled = settled + _summarise(mark, settle_until, cutoff)
            mark = settle_until
            updates[key] = (settled, mark)
        summaries.append(settled + _summarise(mark, end, cutoff) if mark < end else settled)
    if updates:
        cache.set_many(updates, timeout=(len(window) + 2) * 86400)
    return summaries


@dataclass(frozen=True)
class ActorActivity:
    actor_id: int | None
    username: str
    calls: int


@dataclass(frozen=True)
class Activity:
    days: list[tuple[date, DaySummary]]
    total: int
    failures: int
    unknown: int
    token_calls: int
    failure_rate: float | None  # rejected + failed, over all calls of the window
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_samples: int
    top_actors: list[ActorActivity]
    latest_problems: list[AuditEntry]


def activity(*, days: int = DASHBOARD_DAYS, now: datetime | None = None) -> Activity:
    """The last ``days`` days (today included, current time zone) for the dashboard."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    window = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    day_summaries = _day_summaries(window, unknown_cutoff(now))
    summaries = dict(zip(window, day_summaries, strict=True))

    outcomes: Counter = Counter()
    actors: Counter = Counter()
    latency: Counter = Counter()
    token_calls = 0
    for day in window:
        summary = summaries[day]
        outcomes.update(summary.outcomes)
        actors.update(summary.actors)
        latency.update(summary.latency)
        token_calls += summary.token_calls
    total = sum(outcomes.values())
    failures = sum(outcomes[outcome] for outcome in FAILURE_OUTCOMES)
    return Activity(
        days=[(day, summaries[day]) for day in window],
        total=total,
        failures=failures,
        unknown=outcomes[SHOWN_UNKNOWN],
        token_calls=token_calls,
        failure_rate=failures / total if total else None,
        latency_p50_ms=_percentile(latency, 0.50),
        latency_p95_ms=_percentile(latency, 0.95),
        latency_samples=sum(latency.values()),
        top_actors=_top_actors(actors),
        latest_problems=latest_problems(now=now),
    )


def _top_actors(actors: Counter, limit: int = 10) -> list[ActorActivity]:
    top = sorted(actors.items(), key=lambda item: (-item[1], item[0] is None, item[0] or 0))
    top = top[:limit]
    users = get_user_model().objects.in_bulk([actor_id for actor_id, _ in top if actor_id])
    return [
        ActorActivity(
            actor_id=actor_id,
            username=users[actor_id].get_username() if actor_id in users else "",
            calls=calls,
        )
        for actor_id, calls in top
    ]


def latest_problems(*, limit: int = 10, now: datetime | None = None) -> list[AuditEntry]:
    """The latest rejected, failed and outcome-unknown entries, newest first.

    One query per outcome, each a short walk down its (outcome, started_at, id) index,
    merged here: an ``IN`` over the outcomes would have to sort every failure.
    """
    cutoff = unknown_cutoff(now)
    base = _with_shown_outcome(AuditEntry.objects.defer(*_LIST_DEFERRED), cutoff)
    parts = [
        list(base.filter(outcome=outcome).order_by(*NEWEST_FIRST)[:limit])
        for outcome in FAILURE_OUTCOMES
    ]
    parts.append(
        list(
            base.filter(outcome=Outcome.PENDING, started_at__lt=cutoff).order_by(*NEWEST_FIRST)[
                :limit
            ]
        )
    )
    merged = heapq.merge(*parts, key=lambda entry: (entry.started_at, entry.pk), reverse=True)
    return list(merged)[:limit]
