"""The backends' worker loops, taught to pause a running job on shutdown.

Both workers stop gracefully on the first Ctrl-C/SIGTERM by letting the current task
finish; a job can take an hour, so they also set ``runner.shutdown_requested``: the job
pauses, is queued again, and the worker exits within seconds.
"""

from django.conf import settings
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker
from rq.worker import SimpleWorker

from crmadmin.jobs import runner


class DBWorker(Worker):
    def shutdown(self, signum, frame) -> None:
        runner.shutdown_requested.set()
        super().shutdown(signum, frame)


def run_db_worker(*, burst: bool) -> None:
    worker = DBWorker(
        queue_names=[settings.JOBS_QUEUE],
        interval=1,
        batch=burst,
        backend_name="default",
        startup_delay=not burst,
        max_tasks=None,
        worker_id=get_random_string(32),
        excluded_queue_names=[],
    )
    worker.configure_signals()
    try:
        worker.run()
    finally:
        worker.reset_signals()


class RQWorker(SimpleWorker):
    """RQ's in-process worker (no fork per task: a job already runs its own threads, and
    its database connections stay in one process)."""

    def request_stop(self, signum, frame) -> None:
        runner.shutdown_requested.set()
        super().request_stop(signum, frame)
