"""The activity dashboard: calls per day by shown outcome, failure rate, latency, the
busiest people and the latest problems, over the last 30 days."""

from __future__ import annotations

import heapq
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

from crmadmin.audit.models import AuditEntry, Outcome
from crmadmin.audit.selectors.listing import LIST_DEFERRED, NEWEST_FIRST, day_start
from crmadmin.audit.selectors.outcome import (
    SHOWN_UNKNOWN,
    shown_as,
    unknown_cutoff,
    with_shown_outcome,
)
from crmadmin.upstream.operations import TOKEN_OPERATION

DASHBOARD_DAYS = 30
FAILURE_OUTCOMES = (Outcome.REJECTED.value, Outcome.FAILED.value)

# Latency is kept per day as a histogram, so days can be cached and merged: whole
# milliseconds up to a second, then buckets 1% wide (a percentile is off by at most half a percent).
_EXACT_BELOW_MS = 1000
_LOG_STEP = math.log(1.01)
_CACHE_VERSION = 3


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
    # The work done: succeeded changes by (actor_id, one of WORK_KINDS).
    work: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    def work_count(self, kind: str) -> int:
        return sum(count for (_, done), count in self.work.items() if done == kind)

    def __add__(self, other: DaySummary) -> DaySummary:
        return DaySummary(
            outcomes=self.outcomes + other.outcomes,
            token_calls=self.token_calls + other.token_calls,
            actors=self.actors + other.actors,
            latency=self.latency + other.latency,
            work=self.work + other.work,
        )


# Work done, as staff count it: a record created, changed (edited or re-coded), deleted.
WORK_KINDS = ("created", "changed", "deleted")
_WORK_OF_ACTION = {
    "create": "created",
    "update": "changed",
    "rename": "changed",
    "delete": "deleted",
}


def _summarise(start: datetime, end: datetime, cutoff: datetime) -> DaySummary:
    """The calls that started in [start, end), in one pass (no per-row date parsing:
    the database tells pending from unknown)."""
    summary = DaySummary()
    if start >= end:
        return summary
    rows = (
        with_shown_outcome(
            AuditEntry.objects.filter(started_at__gte=start, started_at__lt=end), cutoff
        )
        .values_list("shown_outcome", "actor_id", "operation", "duration_ms")
        .iterator(chunk_size=5000)
    )
    outcomes, actors, latency = summary.outcomes, summary.actors, summary.latency
    work = summary.work
    token_calls = 0
    succeeded = Outcome.SUCCEEDED.value
    for outcome, actor_id, operation, duration_ms in rows:
        outcomes[outcome] += 1
        actors[actor_id] += 1
        if operation == TOKEN_OPERATION:
            token_calls += 1
        elif outcome == succeeded:
            done = _WORK_OF_ACTION.get(operation.rpartition(".")[2])
            if done:
                work[actor_id, done] += 1
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
class ActorWork:
    actor_id: int | None
    username: str
    created: int
    changed: int
    deleted: int

    @property
    def total(self) -> int:
        return self.created + self.changed + self.deleted


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
    work_by_actor: list[ActorWork]


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
    work: Counter = Counter()
    token_calls = 0
    for day in window:
        summary = summaries[day]
        outcomes.update(summary.outcomes)
        actors.update(summary.actors)
        latency.update(summary.latency)
        work.update(summary.work)
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
        work_by_actor=_work_by_actor(work),
    )


def _work_by_actor(work: Counter) -> list[ActorWork]:
    """Who did how much, most first."""
    per_actor: dict[int | None, Counter] = {}
    for (actor_id, done), count in work.items():
        per_actor.setdefault(actor_id, Counter())[done] += count
    users = get_user_model().objects.in_bulk([actor_id for actor_id in per_actor if actor_id])
    rows = [
        ActorWork(
            actor_id=actor_id,
            username=users[actor_id].get_username() if actor_id in users else "",
            created=counts["created"],
            changed=counts["changed"],
            deleted=counts["deleted"],
        )
        for actor_id, counts in per_actor.items()
    ]
    return sorted(rows, key=lambda row: (-row.total, row.username))


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
    base = with_shown_outcome(AuditEntry.objects.defer(*LIST_DEFERRED), cutoff)
    parts = [
        list(base.filter(shown_as(shown, cutoff)).order_by(*NEWEST_FIRST)[:limit])
        for shown in (*FAILURE_OUTCOMES, SHOWN_UNKNOWN)
    ]
    merged = heapq.merge(*parts, key=lambda entry: (entry.started_at, entry.pk), reverse=True)
    return list(merged)[:limit]
