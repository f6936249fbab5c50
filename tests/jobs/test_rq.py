"""A real bulk job through the RQ backend: enqueued on Redis by django.tasks, run by a real
``rq`` worker process (``manage.py jobs_worker --burst`` with ``JOBS_BACKEND=rq``) that
calls the sandbox of this test's live server and exits when the queue is empty."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from asgiref.local import Local
from django.db import connection
from django.tasks import task_backends

from crmadmin.customers.models import Customer
from crmadmin.jobs.customer_kinds import SET_STATUS
from crmadmin.jobs.models import Job, JobState, RowOutcome
from crmadmin.jobs.services import job_create
from crmadmin.sandbox.models import SandboxCustomer

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
# Database 6 of the local Redis by default; CI may point elsewhere.
REDIS_URL = os.environ.get("CRMADMIN_TEST_REDIS_URL", "redis://127.0.0.1:6379/6")


def _redis():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CRMADMIN_REQUIRE_REDIS"):
            pytest.fail(f"Redis is required (CRMADMIN_REQUIRE_REDIS) but {REDIS_URL} is down")
        pytest.skip(f"the RQ test needs Redis at {REDIS_URL}")
    return client


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{host}/{db['NAME']}"


def _reset_task_backends() -> None:
    # django.tasks keeps its backends per process and does not follow setting changes.
    task_backends.__dict__.pop("settings", None)
    task_backends._connections = Local(task_backends.thread_critical)


@pytest.fixture
def rq_backend(settings):
    client = _redis()
    queue = f"crmadmin-test-{uuid.uuid4().hex[:12]}"
    settings.JOBS_BACKEND = "rq"
    settings.JOBS_QUEUE = queue
    settings.JOBS_REDIS_URL = REDIS_URL
    settings.RQ_QUEUES = {queue: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": -1}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [queue]}}
    _reset_task_backends()
    yield queue
    _reset_task_backends()
    for key in client.scan_iter(f"rq:*{queue}*"):
        client.delete(key)


def test_a_bulk_job_runs_through_rq_in_a_real_worker_process(world, rq_backend):
    customers = world["customers"](6)
    job = job_create(
        owner=world["owner"],
        kind=SET_STATUS,
        parameters={"target_id": world["codes"]["vip"].pk},
        rows=[(c.code, {"customer_id": c.pk}) for c in customers],
    )
    job.refresh_from_db()
    assert job.task_id  # enqueued on Redis when the transaction committed

    from django.conf import settings

    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "ENV_FILE": "/dev/null",
        "DATABASE_URL": _database_url(),
        "JOBS_BACKEND": "rq",
        "JOBS_QUEUE": rq_backend,
        "JOBS_REDIS_URL": REDIS_URL,
        "CRM_API_URL": settings.CRM_API_URL,
    }
    worker = subprocess.run(
        [sys.executable, "manage.py", "jobs_worker", "--burst"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr[-3000:]

    job.refresh_from_db()
    assert (job.state, job.succeeded, job.failed) == (JobState.FINISHED, 6, 0)
    assert set(job.rows.values_list("outcome", flat=True)) == {RowOutcome.SUCCEEDED}
    assert set(Customer.objects.values_list("status__code", flat=True)) == {"VIP"}
    assert set(SandboxCustomer.objects.values_list("status__code", flat=True)) == {"VIP"}
    assert Job.objects.get(pk=job.pk).audit_entries.filter(operation="customer.update").count() == 6
