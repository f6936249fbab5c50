"""The one task of the job engine, on Django's own Tasks framework (``django.tasks``).

Which backend runs it is ``settings.TASKS`` (``JOBS_BACKEND``): django-tasks-db's table,
or RQ on Redis through django-tasks-rq. The task carries only the job's id; everything
else is in the job's records, so any worker on any host can run or resume it.
"""

from django.conf import settings
from django.tasks import task

from crmadmin.jobs import runner


# The queue is chosen again at each enqueue (services.enqueue), as JOBS_QUEUE says then.
@task(queue_name=settings.JOBS_QUEUE)
def run_job(job_id: int) -> str:
    return runner.run(job_id)
