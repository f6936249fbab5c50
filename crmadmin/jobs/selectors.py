"""Reading jobs for the screens: who sees which, progress figures, the report rows."""

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from crmadmin.jobs.models import ACTIVE_STATES, Job, JobRow, RowOutcome

# Whoever may read the whole audit log (Managers, superusers) sees every job: a job is a
# view of audited calls. Everyone else sees their own.
SEE_ALL_PERMISSION = "audit.view_auditentry"


def jobs_visible_to(user) -> QuerySet[Job]:
    jobs = Job.objects.select_related("owner")
    if user.is_superuser or user.has_perm(SEE_ALL_PERMISSION):
        return jobs
    return jobs.filter(owner=user)


def running_jobs_of(user) -> QuerySet[Job]:
    if not user.is_authenticated:
        return Job.objects.none()
    return Job.objects.filter(owner=user, state__in=ACTIVE_STATES).order_by("created_at")


def eta(job: Job) -> timedelta | None:
    """Time left at the pace of the rows done so far, while the job runs."""
    if not job.is_active or not job.started_at or not job.done:
        return None
    elapsed = (timezone.now() - job.started_at).total_seconds()
    if elapsed <= 0:
        return None
    left = (job.total - job.done) * elapsed / job.done
    return timedelta(seconds=round(left))


def rows_of(job: Job, *, outcome: str = "") -> QuerySet[JobRow]:
    rows = JobRow.objects.filter(job=job).select_related("audit_entry").order_by("position")
    if outcome in RowOutcome.values and outcome:
        rows = rows.filter(outcome=outcome)
    return rows
