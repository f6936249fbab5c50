"""Stopping a real ``jobs_worker`` process: a running job pauses, is queued again, and the
next worker finishes it without sending any row twice.

``make run`` stops its worker the way every process manager does: one SIGTERM to the
process group, passed on again by ``uv run`` and by the Makefile's trap, so the worker
gets the same stop two or three times within milliseconds. That is one request to stop,
not a user pressing Ctrl-C twice to force it."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings

from crmadmin.customers.models import Customer
from crmadmin.jobs.customer_kinds import SET_STATUS
from crmadmin.jobs.models import Job, JobRow, JobState, RowOutcome, RowState
from crmadmin.jobs.services import job_create
from tests.jobs.test_rq import ROOT, _database_url

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 40


def _worker(*arguments: str, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "jobs_worker", *arguments],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "ENV_FILE": "/dev/null",
            "DATABASE_URL": _database_url(),
            "CRM_API_URL": settings.CRM_API_URL,
            "JOBS_HEARTBEAT_SECONDS": "0.2",
            **extra,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(predicate, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_repeated_sigterm_pauses_the_running_job_and_the_next_worker_finishes_it(world):
    customers = world["customers"](ROWS)
    job = job_create(
        owner=world["owner"],
        kind=SET_STATUS,
        parameters={"target_id": world["codes"]["vip"].pk},
        rows=[(c.code, {"customer_id": c.pk}) for c in customers],
    )
    # Ten calls a second: the job takes four seconds, long enough to stop it halfway.
    worker = _worker(CRM_RATE_LIMIT="10")
    try:
        _wait_for(lambda: JobRow.objects.filter(job=job, state=RowState.DONE).count() >= 3, 60)
        for _ in range(3):  # the group's SIGTERM, uv's copy, the trap's kill
            worker.send_signal(signal.SIGTERM)
            time.sleep(0.005)
        output, _ = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()

    assert worker.returncode == 0, output[-3000:]
    assert "shutting down gracefully" in output
    assert "terminating current task" not in output
    job.refresh_from_db()
    done = job.rows.filter(state=RowState.DONE).count()
    assert job.state == JobState.RUNNING and job.lease == ""  # paused, queued again
    assert 3 <= done < ROWS
    assert not job.rows.filter(state=RowState.IN_FLIGHT).exists()  # calls in flight ended

    finisher = _worker("--burst")
    output, _ = finisher.communicate(timeout=120)

    assert finisher.returncode == 0, output[-3000:]
    job.refresh_from_db()
    assert (job.state, job.succeeded, job.failed) == (JobState.FINISHED, ROWS, 0)
    assert set(job.rows.values_list("outcome", flat=True)) == {RowOutcome.SUCCEEDED}
    assert set(Customer.objects.values_list("status__code", flat=True)) == {"VIP"}
    # Nothing was sent twice: one call per row across both workers.
    assert Job.objects.get(pk=job.pk).audit_entries.filter(operation="customer.update").count() == (
        ROWS
    )


def test_a_stopped_idle_worker_exits_at_once(world):
    # Its recovery sweep runs every second; its log says when it has started.
    worker = _worker(JOBS_STALE_AFTER="0.2", TEST_LOG_LEVEL="INFO")
    try:
        deadline = time.monotonic() + 60
        while "Starting worker" not in worker.stdout.readline():
            assert time.monotonic() < deadline and worker.poll() is None
        time.sleep(0.5)  # polling an empty queue
        started = time.monotonic()
        for _ in range(3):
            worker.send_signal(signal.SIGTERM)
            time.sleep(0.005)
        output, _ = worker.communicate(timeout=20)
        took = time.monotonic() - started
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()

    assert worker.returncode == 0, output[-3000:]
    assert took < 5, output[-3000:]


def test_a_second_stop_a_second_later_forces_it_and_the_job_is_taken_over_later(world, settings):
    customers = world["customers"](ROWS)
    job = job_create(
        owner=world["owner"],
        kind=SET_STATUS,
        parameters={"target_id": world["codes"]["vip"].pk},
        rows=[(c.code, {"customer_id": c.pk}) for c in customers],
    )
    stale_after = {"JOBS_STALE_AFTER": "2"}
    # Calls of 2.5 s: the pause the first stop asks for cannot end before the second.
    settings.CRM_SANDBOX_LATENCY_MS = 2500
    worker = _worker(**stale_after)
    try:
        # A call has just left: it is in flight for 2.5 s.
        _wait_for(lambda: JobRow.objects.filter(job=job, state=RowState.IN_FLIGHT).exists(), 60)
        worker.send_signal(signal.SIGINT)
        time.sleep(1.2)
        assert worker.poll() is None  # still pausing
        worker.send_signal(signal.SIGINT)  # the operator insists
        output, _ = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()

    # django-tasks-db ends its task on the SystemExit the forced stop raises and exits 0.
    assert "terminating current task" in output, output[-3000:]
    job.refresh_from_db()
    assert job.state == JobState.RUNNING  # left as a dead worker leaves it
    in_flight = job.rows.filter(state=RowState.IN_FLIGHT).count()  # calls it did not wait for
    assert 1 <= in_flight <= 4

    settings.CRM_SANDBOX_LATENCY_MS = 0
    time.sleep(2)  # its heartbeat goes stale
    finisher = _worker("--burst", **stale_after)
    output, _ = finisher.communicate(timeout=120)

    assert finisher.returncode == 0, output[-3000:]
    job.refresh_from_db()
    # Those rows are settled as after a crash: their calls had no recorded answer, so
    # their outcome is unknown (for reconciliation) and they are not sent again.
    assert (job.state, job.succeeded, job.failed) == (JobState.FINISHED, ROWS - in_flight, 0)
    assert job.rows.filter(outcome=RowOutcome.UNKNOWN).count() == in_flight
    assert Job.objects.get(pk=job.pk).audit_entries.filter(operation="customer.update").count() == (
        ROWS
    )


def test_a_burst_run_inside_another_program_gives_it_back_its_signal_handlers(world):
    from django.core.management import call_command

    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}

    call_command("jobs_worker", burst=True)

    assert {number: signal.getsignal(number) for number in before} == before
