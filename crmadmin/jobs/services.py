"""Creating, cancelling and retrying jobs (the only writers of Job and JobRow besides
the runner).

    job = job_create(owner=user, kind="customer.set_status", parameters={"status": 7},
                     rows=[("C001", {"customer_id": 1}), ...], description="...")

creates the job and its frozen rows in one transaction and enqueues it when that
transaction commits. Kinds are registered in ``crmadmin.jobs.kinds``.
"""

import logging
from collections.abc import Iterable
from itertools import islice
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crmadmin.jobs.kinds import get_kind, job_ended
from crmadmin.jobs.models import Job, JobRow, JobState, RowOutcome, RowState

# Imported with the app, so the task object is made with the configured backend's
# Task class (django.tasks.Task), whichever backend a test switches to later.
from crmadmin.jobs.tasks import run_job

_BATCH = 1000
logger = logging.getLogger(__name__)


class JobNotAllowed(Exception):
    """The job cannot do that in its present state."""


def job_create(
    *,
    owner: AbstractBaseUser,
    kind: str,
    rows: Iterable[tuple[str, dict[str, Any]]],
    parameters: dict[str, Any] | None = None,
    description: str = "",
    retry_of: Job | None = None,
) -> Job:
    """A queued job over ``rows`` (``(key, data)`` pairs, in order); enqueued on commit."""
    job_kind = get_kind(kind)
    if not owner.has_perm(job_kind.permission):
        raise PermissionDenied
    with transaction.atomic():
        job = Job.objects.create(
            owner=owner,
            kind=kind,
            parameters=parameters or {},
            description=description[:500],
            concurrency=max(1, settings.CRM_MAX_CONCURRENCY),
            retry_of=retry_of,
        )
        total = 0
        iterator = iter(rows)
        while batch := list(islice(iterator, _BATCH)):
            JobRow.objects.bulk_create(
                JobRow(job=job, position=total + n, key=str(key)[:255], data=data)
                for n, (key, data) in enumerate(batch)
            )
            total += len(batch)
        Job.objects.filter(pk=job.pk).update(total=total)
        job.total = total
        if job_kind.on_created is not None:
            job_kind.on_created(job)
        transaction.on_commit(lambda: _enqueue_or_leave_queued(job))
    return job


def _enqueue_or_leave_queued(job: Job) -> None:
    # The job is committed either way; if the queue cannot take it now (Redis down), the
    # page shows it queued and the workers' recovery sweep enqueues it again.
    try:
        enqueue(job)
    except Exception:
        logger.exception("job %s could not be enqueued; the recovery sweep will retry", job.pk)


def enqueue(job: Job) -> None:
    """Hand the job to a worker (again): running it twice is harmless, see runner."""
    result = run_job.using(queue_name=settings.JOBS_QUEUE).enqueue(job.pk)
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id))


def task_is_waiting(job: Job) -> bool:
    """Whether the job's task is still queued in the backend (not lost, not failed)."""
    if not job.task_id:
        return False
    try:
        result = run_job.get_backend().get_result(job.task_id)
    except Exception:
        return False
    return getattr(result.status, "name", str(result.status)) == "READY"


def job_cancel(*, actor: AbstractBaseUser, job: Job) -> Job:
    """Stop sending: a queued job is cancelled at once; a running one finishes the calls
    in flight and its runner reports the rest as not sent."""
    if not can_manage(actor, job):
        raise PermissionDenied
    now = timezone.now()
    with transaction.atomic():
        if Job.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
            state=JobState.CANCELLED, finished_at=now
        ):
            not_sent = JobRow.objects.filter(job=job, state=RowState.PENDING).update(
                state=RowState.DONE,
                outcome=RowOutcome.NOT_SENT,
                message=_("Not sent: the job was cancelled."),
                finished_at=now,
            )
            Job.objects.filter(pk=job.pk).update(not_sent=not_sent)
            transaction.on_commit(lambda: job_ended(job.pk))
        elif not Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
            state=JobState.CANCELLING
        ):
            raise JobNotAllowed(_("This job has already ended."))
    job.refresh_from_db()
    return job


def job_retry_failed(*, actor: AbstractBaseUser, job: Job) -> Job:
    """A new job over this job's failed rows (not the unknown ones: their call may have
    happened, and reconciliation decides)."""
    if not can_manage(actor, job):
        raise PermissionDenied
    if job.is_active:
        raise JobNotAllowed(_("Wait until the job has ended to retry its failed rows."))
    failed = JobRow.objects.filter(job=job, outcome=RowOutcome.FAILED).order_by("position")
    if not failed.exists():
        raise JobNotAllowed(_("This job has no failed rows."))
    return job_create(
        owner=actor,
        kind=job.kind,
        parameters=job.parameters,
        rows=((row.key, row.data) for row in failed.iterator(chunk_size=_BATCH)),
        description=_("Retry of job #%(id)s: %(description)s")
        % {"id": job.pk, "description": job.description},
        retry_of=job,
    )


def can_manage(user: AbstractBaseUser, job: Job) -> bool:
    """Cancel and retry: the owner (with the kind's permission still), or a superuser."""
    if user.is_superuser:
        return True
    return job.owner_id == user.pk and user.has_perm(get_kind(job.kind).permission)
