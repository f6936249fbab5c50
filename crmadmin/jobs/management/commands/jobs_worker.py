"""``manage.py jobs_worker``: one job worker, on the backend ``JOBS_BACKEND`` chooses.

It first queues again the jobs whose worker died (``recover_stalled_jobs``), keeps doing
so every ``JOBS_STALE_AFTER / 2`` seconds, and then runs the backend's own worker loop:
django-tasks-db's ``db_worker`` or RQ's worker (django_rq's ``rqworker``, with
django-tasks-rq's job class, so that RQ runs Django's Task objects). Run as many as you
like, on as many hosts as share the database (and Redis): a job has one runner at a time.

Ctrl-C or SIGTERM: a running job pauses (calls in flight finish, no new ones leave) and
is queued again for the next worker; a second Ctrl-C stops at once.
"""

import signal
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

from crmadmin.jobs import runner

# The signals the backends' workers take over (django-tasks-db also takes SIGQUIT).
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


class Command(BaseCommand):
    help = "Run a background job worker (recovers jobs whose worker died, then works the queue)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--burst",
            action="store_true",
            help="Work until the queue is empty, then exit.",
        )

    def handle(self, *args, burst: bool = False, **options):
        recovered = runner.recover_stalled_jobs()
        if recovered:
            self.stdout.write(f"Queued again the jobs whose worker stopped: {recovered}")
        stop = threading.Event()
        sweeper = threading.Thread(target=_sweep, args=(stop,), name="jobs-recovery", daemon=True)
        if not burst:
            sweeper.start()
        handlers = {number: signal.getsignal(number) for number in _STOP_SIGNALS}
        try:
            self._work(burst)
        finally:
            # Not left to die at exit, possibly in the middle of a query.
            stop.set()
            if sweeper.is_alive():
                sweeper.join(timeout=10)
            for number, handler in handlers.items():
                # After a stop the process is ending: late copies of that stop (see
                # worker.py) must not kill it on its way out and turn its exit status
                # into "killed by SIGTERM". Otherwise (a burst that emptied the queue,
                # or a call from another program) its own handlers come back.
                if runner.shutdown_requested.is_set():
                    handler = signal.SIG_IGN
                signal.signal(number, signal.SIG_DFL if handler is None else handler)

    def _work(self, burst: bool) -> None:
        if settings.JOBS_BACKEND == "rq":
            call_command(
                "rqworker",
                settings.JOBS_QUEUE,
                burst=burst,
                job_class="django_tasks_rq.backend.Job",
                worker_class="crmadmin.jobs.worker.RQWorker",
                with_scheduler=False,
            )
        else:
            from crmadmin.jobs.worker import run_db_worker

            run_db_worker(burst=burst)


def _sweep(stop: threading.Event) -> None:
    while not stop.wait(max(settings.JOBS_STALE_AFTER / 2, 1.0)):
        try:
            runner.recover_stalled_jobs()
        except Exception:
            runner.logger.exception("recovering stalled jobs failed")
        finally:
            connections.close_all()
