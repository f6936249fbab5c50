"""The job engine: runs a job's pending rows with up to ``job.concurrency`` calls in flight.

``run(job_id)`` is what a worker's task executes. It is safe to run for any job at any
time, as often as it is enqueued:

1. **Claim.** One conditional UPDATE takes the job's lease: a queued job, or a running or
   cancelling one whose worker stopped proving it is alive (``JOBS_STALE_AFTER``). Any
   other call returns at once, so a job never has two runners.
2. **Settle the interrupted rows.** A row left ``in_flight`` by a dead worker gets its
   audit entry's outcome, or "outcome unknown" if the entry is still pending. It is
   never sent again (the reconciliation screen picks such pending entries up).
3. **Run.** Row ids are fed, in order, to ``concurrency`` threads. Each thread waits for
   the shared rate limit, then runs the kind's handler inside an audit job scope: the
   row turns ``in_flight`` in the same transaction that commits its pending audit entry,
   conditionally on still being ``pending``; so a row is sent at most once, whatever
   happens to the workers. The main thread beats the heartbeat, flushes the job's
   counts (batched: one UPDATE every half second, not one per row; recounted from the
   rows when a job resumes) and watches for a cancel request or a worker shutdown.
4. **End.** Finished; or cancelled (rows not sent are reported "not sent"); or, on a
   worker shutdown, left running with an expired heartbeat and enqueued again, so the
   next worker resumes it at once.
"""

import logging
import queue
import threading
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from crmadmin.audit import recorder
from crmadmin.audit.models import AuditEntry, Outcome
from crmadmin.jobs.kinds import RowFailed, forget_remembered, get_kind, job_ended
from crmadmin.jobs.models import Job, JobRow, JobState, RateSlot, RowOutcome, RowState
from crmadmin.upstream import UpstreamError
from crmadmin.upstream.client import confirmation
from crmadmin.upstream.operations import TOKEN_OPERATION

logger = logging.getLogger(__name__)

# Set by a worker that was asked to stop (Ctrl-C, SIGTERM): running jobs pause and are
# handed to the next worker instead of holding the shutdown for their whole length.
shutdown_requested = threading.Event()

_STOP = object()
# Rows read (and prepared by their kind) at a time: a few seconds of work at most, so
# what ``prepare`` read is rarely outdated when the row runs.
_FEED_CHUNK = 200

UNKNOWN_MESSAGE = gettext_noop(
    "The worker stopped while this call was in flight, before the CRM's answer was "
    "recorded: its outcome is unknown. It is not sent again; see its audit entry."
)


class RowTaken(Exception):
    """The row was no longer pending when its call was about to leave: another runner
    has it. Nothing was sent."""


def run(job_id: int) -> str:
    """Run (or resume) one job; returns what happened, for the worker's log."""
    lease = uuid.uuid4().hex
    if not _claim(job_id, lease):
        return "not claimed"
    job = Job.objects.select_related("owner").get(pk=job_id)
    forget_remembered()
    try:
        kind = get_kind(job.kind)
        _settle_interrupted(job)
        # Counts a dead worker had not flushed yet: the rows are the truth.
        _recount(job_id)
        paused = _run_rows(job, kind, lease)
    except Exception as exc:
        logger.exception("job %s failed", job_id)
        Job.objects.filter(pk=job_id, lease=lease).update(
            state=JobState.FAILED,
            finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        job_ended(job_id)
        return "failed"
    if paused == "lost":
        return "lease lost"
    if paused == "shutdown":
        # Leave it running with a heartbeat that is already stale, and queue it again.
        stale = timezone.now() - timedelta(seconds=settings.JOBS_STALE_AFTER + 1)
        Job.objects.filter(pk=job_id, lease=lease).update(heartbeat_at=stale, lease="")
        from crmadmin.jobs.services import enqueue

        enqueue(job)
        return "paused"
    ended = _finish(job, lease)
    if ended != "lease lost":
        job_ended(job_id)
    return ended


def _claim(job_id: int, lease: str) -> bool:
    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOBS_STALE_AFTER)
    claimable = Q(state=JobState.QUEUED) | Q(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale),
        state__in=(JobState.RUNNING, JobState.CANCELLING),
    )
    return bool(
        Job.objects.filter(claimable, pk=job_id).update(
            lease=lease,
            heartbeat_at=now,
            state=Case(
                When(state=JobState.QUEUED, then=Value(JobState.RUNNING)), default=F("state")
            ),
            started_at=Coalesce(F("started_at"), Value(now)),
        )
    )


def _recount(job_id: int) -> None:
    """Set the job's counts from its rows (one aggregate query)."""
    done = Q(state=RowState.DONE)
    counts = JobRow.objects.filter(job_id=job_id).aggregate(
        done=Count("pk", filter=done),
        succeeded=Count("pk", filter=done & Q(outcome=RowOutcome.SUCCEEDED)),
        failed=Count("pk", filter=done & Q(outcome=RowOutcome.FAILED)),
        unknown=Count("pk", filter=done & Q(outcome=RowOutcome.UNKNOWN)),
        not_sent=Count("pk", filter=done & Q(outcome=RowOutcome.NOT_SENT)),
    )
    Job.objects.filter(pk=job_id).update(**counts)


def _settle_interrupted(job: Job) -> None:
    """Rows a dead worker left in flight: the audit entry says how the call ended."""
    for row in JobRow.objects.filter(job=job, state=RowState.IN_FLIGHT).select_related(
        "audit_entry"
    ):
        entry = row.audit_entry
        if entry is not None and entry.outcome == Outcome.SUCCEEDED:
            outcome, message = RowOutcome.SUCCEEDED, ""
        elif entry is not None and entry.outcome in (Outcome.REJECTED, Outcome.FAILED):
            outcome = RowOutcome.FAILED
            message = entry.upstream_message or entry.error_detail or entry.get_outcome_display()
        else:
            outcome, message = RowOutcome.UNKNOWN, _(UNKNOWN_MESSAGE)
        _finish_row(job.pk, row.pk, outcome, message, states=(RowState.IN_FLIGHT,))


def _run_rows(job: Job, kind, lease: str) -> str:
    """Feed the pending rows to the threads; '' when all were handled or the job was
    cancelled, 'shutdown' or 'lost' when the runner must stop without finishing."""
    work: queue.Queue = queue.Queue(maxsize=max(job.concurrency, 1))
    halt = threading.Event()
    progress = _Progress(job.pk)
    threads = [
        threading.Thread(
            target=_row_thread,
            args=(job, kind, work, halt, progress),
            name=f"job-{job.pk}-{n}",
            daemon=True,
        )
        for n in range(max(job.concurrency, 1))
    ]
    for thread in threads:
        thread.start()
    beat = _Heartbeat(job.pk, lease, halt, progress)
    try:
        for row in _pending_rows(job.pk, kind):
            while not halt.is_set():
                beat.maybe()
                try:
                    work.put(row, timeout=0.2)
                    break
                except queue.Full:
                    continue
            if halt.is_set():
                break
    finally:
        for _thread in threads:
            while True:
                beat.maybe()
                try:
                    work.put(_STOP, timeout=0.2)
                    break
                except queue.Full:
                    continue
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.2)
                beat.maybe()
        progress.flush()
    return beat.reason


class _Progress:
    """The job's counts as its rows finish, written in one UPDATE at most every
    ``FLUSH_SECONDS`` (by the heartbeat) and when the run ends, instead of one UPDATE per
    row. Each row's own state is written at once; a worker that dies with counts not yet
    flushed leaves them to ``_recount`` when the job resumes."""

    FLUSH_SECONDS = 0.5

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._flushed = time.monotonic()

    def add(self, counter: str) -> None:
        with self._lock:
            self._counts[counter] = self._counts.get(counter, 0) + 1

    def maybe_flush(self) -> None:
        if time.monotonic() - self._flushed >= self.FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = self._counts, {}
        self._flushed = time.monotonic()
        if not counts:
            return
        done = sum(counts.values())
        Job.objects.filter(pk=self.job_id).update(
            done=F("done") + done, **{name: F(name) + n for name, n in counts.items()}
        )


class _Heartbeat:
    def __init__(self, job_id: int, lease: str, halt: threading.Event, progress: _Progress):
        self.job_id, self.lease, self.halt = job_id, lease, halt
        self.progress = progress
        self.reason = ""
        self.last = 0.0

    def maybe(self) -> None:
        if shutdown_requested.is_set() and not self.halt.is_set():
            self.reason = "shutdown"
            self.halt.set()
        self.progress.maybe_flush()
        now = time.monotonic()
        if self.last and now - self.last < settings.JOBS_HEARTBEAT_SECONDS:
            return
        self.last = now
        alive = Job.objects.filter(pk=self.job_id, lease=self.lease).update(
            heartbeat_at=timezone.now()
        )
        if not alive:
            self.reason = "lost"
            self.halt.set()
            return
        state = Job.objects.filter(pk=self.job_id).values_list("state", flat=True).first()
        if state == JobState.CANCELLING and not self.halt.is_set():
            self.halt.set()


def _pending_rows(job_id: int, kind):
    """The pending rows in order, read in chunks with what their handler needs (a row
    another runner took meanwhile is refused by ``on_begin``'s conditional update)."""
    after = -1
    while True:
        chunk = list(
            JobRow.objects.filter(job_id=job_id, state=RowState.PENDING, position__gt=after)
            .order_by("position")
            .only("pk", "job_id", "position", "key", "data", "state")[:_FEED_CHUNK]
        )
        if not chunk:
            return
        if kind.prepare is not None:
            kind.prepare(chunk)
        yield from chunk
        after = chunk[-1].position


def _row_thread(
    job: Job, kind, work: queue.Queue, halt: threading.Event, progress: "_Progress"
) -> None:
    try:
        while True:
            row = work.get()
            if row is _STOP:
                return
            if halt.is_set():
                continue
            wait_for_rate_slot()
            if halt.is_set():
                continue
            try:
                _run_row(job, kind, row, progress)
            except Exception:
                logger.exception("job %s row %s: the runner failed", job.pk, row.pk)
    finally:
        connections.close_all()


def _run_row(job: Job, kind, row: JobRow | int, progress: "_Progress | None" = None) -> None:
    """Run one row (a ``JobRow`` as the feed read it, or its id); its counts go to
    ``progress``, or straight to the job without one."""
    if not isinstance(row, JobRow):
        row = JobRow.objects.get(pk=row)
    if row.state != RowState.PENDING:
        return
    linked = []

    def on_begin(entry: AuditEntry) -> None:
        # The token grant a call may need is audited too (tagged with the job), but the
        # row's own call is the first other entry.
        if entry.operation == TOKEN_OPERATION or linked:
            return
        taken = _execute(
            "UPDATE {table} SET {state} = %s, {audit_entry} = %s WHERE {id} = %s AND {state} = %s",
            [RowState.IN_FLIGHT.value, entry.pk, row.pk, RowState.PENDING.value],
        )
        if not taken:
            raise RowTaken(row.pk)
        linked.append(entry)

    confirmed = []

    def on_confirmed(result) -> None:
        # The row's call succeeded: the row is done in the transaction that completes its
        # entry (and, with no ``progress``, the job's counts too).
        if not linked or result.entry.pk != linked[0].pk:
            return
        counted = progress is None
        done = _mark_done(job.pk, row.pk, RowOutcome.SUCCEEDED, "", (RowState.IN_FLIGHT,), counted)
        if done:
            confirmed.append(result)
            if progress is not None:
                transaction.on_commit(lambda: progress.add(_COUNTERS[RowOutcome.SUCCEEDED]))

    with recorder.job_scope(job.pk, on_begin), confirmation(on_confirmed):
        try:
            message = kind.run_row(actor=job.owner, parameters=job.parameters, row=row) or ""
            outcome = RowOutcome.SUCCEEDED
        except RowTaken:
            return
        except UpstreamError as error:
            outcome, message = RowOutcome.FAILED, str(error.user_message)
        except RowFailed as error:
            outcome, message = RowOutcome.FAILED, str(error)
        except Exception as error:
            logger.exception("job %s row %s failed", job.pk, row.key)
            outcome = RowOutcome.FAILED
            message = _("Internal error: %(error)s") % {"error": type(error).__name__}
    if confirmed and outcome == RowOutcome.SUCCEEDED:
        # Done already, with its entry; only a message the handler returned is left.
        if message:
            JobRow.objects.filter(pk=row.pk).update(message=message)
        return
    _finish_row(job.pk, row.pk, outcome, message, progress=progress)


_COUNTERS = {
    RowOutcome.SUCCEEDED: "succeeded",
    RowOutcome.FAILED: "failed",
    RowOutcome.UNKNOWN: "unknown",
}


def _finish_row(
    job_id: int,
    row_id: int,
    outcome: str,
    message: str,
    states=(RowState.PENDING, RowState.IN_FLIGHT),
    progress: "_Progress | None" = None,
) -> None:
    """The row's outcome, and the job's counts: in the same transaction, or added to
    ``progress`` once the row's outcome is written."""
    if progress is not None:
        if _mark_done(job_id, row_id, outcome, message, states, counted=False):
            progress.add(_COUNTERS[outcome])
        return
    with transaction.atomic():
        _mark_done(job_id, row_id, outcome, message, states, counted=True)


def _mark_done(job_id: int, row_id: int, outcome: str, message: str, states, counted: bool) -> bool:
    """The row done with ``outcome`` if it is still in one of ``states`` (and, if
    ``counted``, the job's counts raised with it); whether it was."""
    finished_at = JobRow._meta.get_field("finished_at")
    placeholders = ", ".join(["%s"] * len(states))
    changed = _execute(
        "UPDATE {table} SET {state} = %s, {outcome} = %s, {message} = %s, "  # noqa: S608
        "{finished_at} = %s WHERE {id} = %s AND {state} IN (" + placeholders + ")",
        [
            RowState.DONE.value,
            str(outcome),
            message,
            finished_at.get_db_prep_save(timezone.now(), connection),
            row_id,
            *(str(state) for state in states),
        ],
    )
    if changed and counted:
        counter = _COUNTERS[outcome]
        Job.objects.filter(pk=job_id).update(done=F("done") + 1, **{counter: F(counter) + 1})
    return bool(changed)


# The two UPDATEs of a row that run inside the transactions of its audit entry (which
# hold SQLite's write lock): written once, not compiled by the ORM for every row.
_sql: dict[str, str] = {}


def _execute(template: str, params: list) -> int:
    """Run ``template`` (JobRow's table and column names in braces) on the default
    database; the number of rows it changed."""
    if template not in _sql:
        quote = connection.ops.quote_name
        names = {f.name: quote(f.column) for f in JobRow._meta.concrete_fields}
        _sql[template] = template.format(table=quote(JobRow._meta.db_table), **names)
    with connection.cursor() as cursor:
        cursor.execute(_sql[template], params)
        return cursor.rowcount


def _finish(job: Job, lease: str) -> str:
    with transaction.atomic():
        state = (
            Job.objects.select_for_update()
            .filter(pk=job.pk, lease=lease)
            .values_list("state", flat=True)
            .first()
        )
        if state is None:
            return "lease lost"
        final = JobState.CANCELLED if state == JobState.CANCELLING else JobState.FINISHED
        not_sent = JobRow.objects.filter(job_id=job.pk, state=RowState.PENDING).update(
            state=RowState.DONE,
            outcome=RowOutcome.NOT_SENT,
            message=_("Not sent: the job was cancelled."),
            finished_at=timezone.now(),
        )
        Job.objects.filter(pk=job.pk).update(
            state=final, finished_at=timezone.now(), not_sent=F("not_sent") + not_sent, lease=""
        )
    return str(final)


def wait_for_rate_slot() -> None:
    """Wait for this call's turn under ``CRM_RATE_LIMIT`` (calls per second, all workers
    together)."""
    at = take_rate_slot()
    if at is None:
        return
    delay = at - time.time()
    if delay > 0:
        time.sleep(delay)


def take_rate_slot() -> float | None:
    """The time this call may leave at: the next free slot, taken from one locked row
    shared by every worker, so slots are ``1 / CRM_RATE_LIMIT`` apart whatever the load.
    None when no limit is set."""
    rate = settings.CRM_RATE_LIMIT
    if not rate or rate <= 0:
        return None
    interval = 1.0 / rate
    RateSlot.objects.get_or_create(name="crm")
    with transaction.atomic():
        slot = RateSlot.objects.select_for_update().get(name="crm")
        at = max(time.time(), slot.next_at)
        RateSlot.objects.filter(name="crm").update(next_at=at + interval)
    return at


def recover_stalled_jobs() -> list[int]:
    """Queue again every job whose worker died (stale heartbeat) or whose task was lost;
    run by every job worker when it starts and then periodically."""
    from crmadmin.jobs.services import enqueue, task_is_waiting

    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOBS_STALE_AFTER)
    recovered = []
    stalled = Job.objects.filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale),
        state__in=(JobState.RUNNING, JobState.CANCELLING),
    )
    for job in stalled:
        enqueue(job)
        recovered.append(job.pk)
    for job in Job.objects.filter(state=JobState.QUEUED, created_at__lt=stale):
        if not task_is_waiting(job):
            enqueue(job)
            recovered.append(job.pk)
    return recovered
