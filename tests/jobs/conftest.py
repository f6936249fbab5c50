"""Job tests: the register and the sandbox both hold the customers, over real HTTP."""

import pytest

from crmadmin.codes.services import code_create
from crmadmin.customers.services import customer_create
from crmadmin.kinds import REFERENCE_KINDS


@pytest.fixture
def fast_jobs(settings):
    settings.JOBS_HEARTBEAT_SECONDS = 0.05
    settings.JOBS_STALE_AFTER = 5
    settings.CRM_RATE_LIMIT = 0
    return settings


@pytest.fixture
def world(sandbox_upstream, fast_jobs, make_user):
    """Codes and a way to make customers, in the sandbox and the register alike."""
    owner = make_user("support", "owner")
    codes = {
        "new": code_create(kind=_kind("statuses"), actor=owner, code="MOI", name="Mới"),
        "vip": code_create(kind=_kind("statuses"), actor=owner, code="VIP", name="VIP"),
        "type": code_create(kind=_kind("types"), actor=owner, code="LE", name="Lẻ"),
        "group": code_create(
            kind=_kind("groups"), actor=owner, code="HN", name="Hà Nội", description=""
        ),
    }

    def customers(count: int, prefix: str = "KH"):
        return [
            customer_create(
                actor=owner,
                code=f"{prefix}{n:03d}",
                name=f"Khách {n}",
                phones=[f"09{n:08d}"],
                status=codes["new"],
                type=codes["type"],
                group=codes["group"],
            )
            for n in range(count)
        ]

    return {"owner": owner, "codes": codes, "customers": customers}


def _kind(slug: str):
    return REFERENCE_KINDS[slug]


def worker_died(job, in_flight_row, *, operation: str, actor):
    """Leave ``job`` as a worker killed mid-call leaves it: ``in_flight_row`` sent (its
    audit entry pending, no answer recorded) and the job running under a dead worker's
    lease whose heartbeat is long stale. Returns the pending entry."""
    from datetime import timedelta

    from django.utils import timezone

    from crmadmin.audit.models import AuditEntry
    from crmadmin.jobs.models import Job, JobRow, JobState, RowState

    in_flight = AuditEntry.objects.create(
        operation=operation,
        record_kind="customer",
        code=in_flight_row.key,
        request_body={"customer_no": in_flight_row.key},
        started_at=timezone.now(),
        actor=actor,
        job=job,
    )
    JobRow.objects.filter(pk=in_flight_row.pk).update(
        state=RowState.IN_FLIGHT, audit_entry=in_flight
    )
    stale = timezone.now() - timedelta(seconds=60)
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, lease="dead-worker", heartbeat_at=stale, started_at=stale
    )
    return in_flight
