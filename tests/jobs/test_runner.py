"""The job engine against the sandbox over real HTTP: every row one audited call, resume
after a dead worker without sending a row twice, cancel, retry, concurrency, rate."""

import threading
import time
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.models import Count
from django.utils import timezone

from crmadmin.audit.models import AuditEntry, Outcome
from crmadmin.customers.models import Customer
from crmadmin.jobs import runner
from crmadmin.jobs.customer_kinds import SET_STATUS
from crmadmin.jobs.models import Job, JobRow, JobState, RowOutcome, RowState
from crmadmin.jobs.services import JobNotAllowed, job_cancel, job_create, job_retry_failed
from crmadmin.sandbox import inflight
from crmadmin.sandbox.models import SandboxCustomer

from .conftest import worker_died

pytestmark = pytest.mark.django_db(transaction=True)


def set_status_job(world, customers, status=None):
    status = status or world["codes"]["vip"]
    return job_create(
        owner=world["owner"],
        kind=SET_STATUS,
        parameters={"target_id": status.pk},
        rows=[(c.code, {"customer_id": c.pk}) for c in customers],
        description=f"Set status {status.code}",
    )


def run_in_thread(job_id: int) -> threading.Thread:
    """``runner.run`` in a thread of its own, as a second worker would run it."""

    def work():
        try:
            runner.run(job_id)
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def sandbox_status(code: str) -> str:
    return SandboxCustomer.objects.select_related("status").get(code=code).status.code


def calls_per_code(job) -> dict[str, int]:
    rows = (
        AuditEntry.objects.filter(job=job, operation="customer.update")
        .values("code")
        .annotate(n=Count("id"))
    )
    return {row["code"]: row["n"] for row in rows}


def test_a_worker_runs_each_row_as_one_audited_call_under_the_owner(world):
    customers = world["customers"](5)
    job = set_status_job(world, customers)

    call_command("jobs_worker", burst=True)

    job.refresh_from_db()
    assert (job.state, job.total, job.done, job.succeeded, job.failed) == (
        JobState.FINISHED,
        5,
        5,
        5,
        0,
    )
    assert job.started_at and job.finished_at
    assert calls_per_code(job) == {c.code: 1 for c in customers}
    for row in JobRow.objects.filter(job=job).select_related("audit_entry"):
        assert row.outcome == RowOutcome.SUCCEEDED
        assert row.audit_entry.actor == world["owner"]
        assert row.audit_entry.outcome == Outcome.SUCCEEDED
        assert row.audit_entry.request_body["customer_status_code"] == "VIP"
        assert row.audit_entry.code == row.key
        assert sandbox_status(row.key) == "VIP"
    assert set(Customer.objects.values_list("status__code", flat=True)) == {"VIP"}


def test_a_job_whose_worker_died_resumes_without_sending_a_finished_row_again(world):
    customers = world["customers"](5)
    job = set_status_job(world, customers)
    rows = list(JobRow.objects.filter(job=job).order_by("position"))
    # The dead worker's picture: row 0 done (its call succeeded), row 1 answered but not
    # yet recorded as done, row 2 sent with no answer recorded, rows 3 and 4 not started.
    runner._run_row(job, runner.get_kind(SET_STATUS), rows[0].pk)
    runner._run_row(job, runner.get_kind(SET_STATUS), rows[1].pk)
    JobRow.objects.filter(pk=rows[1].pk).update(state=RowState.IN_FLIGHT, outcome="")
    Job.objects.filter(pk=job.pk).update(done=1, succeeded=1)
    in_flight = worker_died(job, rows[2], operation="customer.update", actor=world["owner"])

    assert runner.recover_stalled_jobs() == [job.pk]
    call_command("jobs_worker", burst=True)

    job.refresh_from_db()
    assert job.state == JobState.FINISHED
    assert (job.done, job.succeeded, job.unknown, job.failed) == (5, 4, 1, 0)
    # One call per row, the rows that were done or in flight included: none sent twice.
    assert calls_per_code(job) == {c.code: 1 for c in customers}
    settled = {row.key: row for row in JobRow.objects.filter(job=job)}
    assert settled[rows[1].key].outcome == RowOutcome.SUCCEEDED
    assert settled[rows[2].key].outcome == RowOutcome.UNKNOWN
    assert settled[rows[2].key].audit_entry == in_flight
    assert "outcome is unknown" in settled[rows[2].key].message
    assert sandbox_status(rows[2].key) == "MOI"  # never sent by the test's dead worker
    assert [sandbox_status(row.key) for row in rows[3:]] == ["VIP", "VIP"]


def test_a_job_held_by_a_live_worker_is_not_run_twice(world):
    customers = world["customers"](2)
    job = set_status_job(world, customers)
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, lease="alive", heartbeat_at=timezone.now()
    )
    assert runner.recover_stalled_jobs() == []
    assert runner.run(job.pk) == "not claimed"
    assert not AuditEntry.objects.filter(job=job).exists()


def test_cancel_finishes_the_calls_in_flight_and_sends_no_new_ones(world, settings):
    customers = world["customers"](12)
    settings.CRM_SANDBOX_LATENCY_MS = 400  # wide margin for a loaded machine
    settings.CRM_MAX_CONCURRENCY = 2
    job = set_status_job(world, customers)
    worker = run_in_thread(job.pk)
    deadline = time.monotonic() + 20
    while not JobRow.objects.filter(job=job, state=RowState.DONE).count() >= 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    job_cancel(actor=world["owner"], job=job)
    worker.join(timeout=30)

    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    sent = AuditEntry.objects.filter(job=job, operation="customer.update")
    assert not sent.filter(outcome=Outcome.PENDING).exists()
    assert 2 <= sent.count() < 12
    assert job.succeeded == sent.count()
    assert job.not_sent == 12 - sent.count()
    not_sent = JobRow.objects.filter(job=job, outcome=RowOutcome.NOT_SENT)
    assert not_sent.count() == job.not_sent
    assert not AuditEntry.objects.filter(code__in=not_sent.values("key")).filter(job=job).exists()
    with pytest.raises(JobNotAllowed):
        job_cancel(actor=world["owner"], job=job)


def test_cancelling_a_queued_job_sends_nothing(world):
    job = set_status_job(world, world["customers"](3))
    job_cancel(actor=world["owner"], job=job)
    call_command("jobs_worker", burst=True)
    job.refresh_from_db()
    assert (job.state, job.not_sent, job.done) == (JobState.CANCELLED, 3, 0)
    assert not AuditEntry.objects.filter(job=job).exists()


def test_failed_rows_are_reported_and_retried_as_a_new_job(world):
    customers = world["customers"](4)
    # Two customers the CRM no longer knows, and one gone from the register.
    SandboxCustomer.objects.filter(code__in=["KH001", "KH002"]).delete()
    job = set_status_job(world, customers)
    Customer.objects.filter(code="KH003").delete()
    runner.run(job.pk)

    job.refresh_from_db()
    assert (job.state, job.succeeded, job.failed) == (JobState.FINISHED, 1, 3)
    rows = {row.key: row for row in JobRow.objects.filter(job=job)}
    assert rows["KH001"].outcome == RowOutcome.FAILED
    assert rows["KH001"].audit_entry.outcome == Outcome.REJECTED
    assert rows["KH001"].message  # the CRM's reason
    assert rows["KH003"].message == "This customer is no longer in the register."
    assert rows["KH003"].audit_entry is None

    retry = job_retry_failed(actor=world["owner"], job=job)
    assert retry.retry_of == job
    assert list(retry.rows.order_by("position").values_list("key", flat=True)) == [
        "KH001",
        "KH002",
        "KH003",
    ]
    assert retry.parameters == job.parameters
    runner.run(retry.pk)
    retry.refresh_from_db()
    assert (retry.state, retry.failed) == (JobState.FINISHED, 3)


def test_no_more_calls_in_flight_than_the_limit(world, settings):
    customers = world["customers"](9)
    settings.CRM_SANDBOX_LATENCY_MS = 120
    settings.CRM_MAX_CONCURRENCY = 3
    job = set_status_job(world, customers)
    inflight.reset()
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.succeeded == 9
    assert inflight.peak() == 3


def test_the_rate_limit_spaces_the_calls_of_all_workers(world, settings, monkeypatch):
    customers = world["customers"](8)
    settings.CRM_RATE_LIMIT = 2
    settings.CRM_MAX_CONCURRENCY = 4
    # Record the slot each call is given and when it actually left, instead of judging
    # by wall-clock spacing that a loaded machine stretches (CI once saw 4 calls in a
    # second because one entry was written late after its slot).
    slots = []
    take = runner.take_rate_slot
    lock = threading.Lock()

    def recording_take():
        at = take()
        with lock:
            slots.append(at)
        return at

    monkeypatch.setattr(runner, "take_rate_slot", recording_take)
    first = set_status_job(world, customers[:4])
    second = set_status_job(world, customers[4:])
    # Two jobs at once, as two workers would run them, sharing one limit.
    workers = [run_in_thread(job.pk) for job in (first, second)]
    for worker in workers:
        worker.join(timeout=60)
    assert (
        AuditEntry.objects.filter(
            job__in=[first, second], operation="customer.update", outcome=Outcome.SUCCEEDED
        ).count()
        == 8
    )
    assert len(slots) == 8
    ordered = sorted(slots)
    # Every call got a slot of its own, each 0.5 s after the one before, across both jobs:
    # unlimited, all eight would leave at once; here they span 3.5 s.
    gaps = [b - a for a, b in pairwise(ordered)]
    assert all(gap >= 0.5 - 1e-6 for gap in gaps), gaps
    assert ordered[-1] - ordered[0] >= 3.5 - 1e-6
    # And no call left before its slot: the last one waited out the whole span.
    started = AuditEntry.objects.filter(
        job__in=[first, second], operation="customer.update"
    ).values_list("started_at", flat=True)
    assert max(entry.timestamp() for entry in started) >= ordered[-1] - 0.01
