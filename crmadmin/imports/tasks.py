"""The import's background work, on Django's own Tasks framework (``django.tasks``).

They go to the job engine's queue (``JOBS_QUEUE``), so ``manage.py jobs_worker`` runs
them beside the jobs, on whichever backend ``settings.TASKS`` names. A task
carries only the import's id: the file, the mapping and every row's state are in the
database, so a task that runs again resumes where the last one stopped.
"""

from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext

from crmadmin.imports.apply import makes_calls, run_apply
from crmadmin.imports.models import Import, State
from crmadmin.imports.preview import run_preview


@task(queue_name=settings.JOBS_QUEUE)
def preview_import(import_id: int) -> str:
    job = Import.objects.get(pk=import_id)
    with _stopped_visibly(job):
        return run_preview(job).state


@task(queue_name=settings.JOBS_QUEUE)
def apply_import(import_id: int, actor_id: int | None) -> str:
    job = Import.objects.get(pk=import_id)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    if makes_calls(job):  # sync and adopt-with-verify run as a job of the job engine
        return job.state
    with _stopped_visibly(job):
        return run_apply(job, actor=actor).state


@contextmanager
def _stopped_visibly(job: Import):
    """An unexpected error ends the import ``failed`` with a message (the page would
    otherwise wait for it forever); the task still fails, with its traceback logged."""
    try:
        yield
    except Exception as error:
        Import.objects.filter(pk=job.pk).update(
            state=State.FAILED,
            error=gettext(
                "The import stopped on an unexpected error (%(error)s). Rows already done "
                "stay done; retry the rest."
            )
            % {"error": type(error).__name__},
            finished_at=timezone.now(),
        )
        raise
