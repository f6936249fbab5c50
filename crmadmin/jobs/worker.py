"""The backends' worker loops, taught to pause a running job on shutdown.

Both workers stop gracefully on the first Ctrl-C/SIGTERM by letting the current task
finish; a job can take an hour, so they also set ``runner.shutdown_requested``: the job
pauses, is queued again, and the worker exits within seconds.

A second signal forces the stop, but only one that comes later than
``REPEATED_SIGNAL_SECONDS``: a process manager's one stop reaches the worker two or three
times at once (SIGTERM to the process group, passed on again by ``uv run`` and by a
shell's trap), and that is one request, not an operator insisting.
"""

import time

from django.conf import settings
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker
from rq.worker import SimpleWorker

from crmadmin.jobs import runner

REPEATED_SIGNAL_SECONDS = 1.0


class _OneStop:
    """When the first stop signal came; whether a signal is that stop again."""

    def __init__(self) -> None:
        self.first: float | None = None

    def repeated(self) -> bool:
        now = time.monotonic()
        if self.first is None:
            self.first = now
            return False
        return now - self.first < REPEATED_SIGNAL_SECONDS


class DBWorker(Worker):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._stop = _OneStop()

    def shutdown(self, signum, frame) -> None:
        if self._stop.repeated():
            return
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
    # Its handlers stay until the process ends: the copies of the stop that arrive while
    # it winds down must find them, not the default action that kills the process.
    worker.configure_signals()
    worker.run()


class RQWorker(SimpleWorker):
    """RQ's in-process worker (no fork per task: a job already runs its own threads, and
    its database connections stay in one process)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._stop = _OneStop()

    def request_stop(self, signum, frame) -> None:
        if self._stop.repeated():
            return
        runner.shutdown_requested.set()
        super().request_stop(signum, frame)
