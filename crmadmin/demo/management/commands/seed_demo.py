"""``python manage.py seed_demo``: demo data for ``make run``, through the CRM client.

``make run`` calls this before the development server starts, so there is no sandbox
to talk to yet: the command serves this very Django project on a temporary loopback
port for the duration and points the upstream client at that server's ``/sandbox``.
Every record is then created the way staff would create it: by a service, through the
client (token grant included), audited as the superuser ``admin``.
"""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.core.servers.basehttp import (
    ServerHandler,
    ThreadedWSGIServer,
    WSGIRequestHandler,
    get_internal_wsgi_application,
)
from django.db import connections

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class _ClosingServerHandler(ServerHandler):
    def cleanup_headers(self) -> None:
        # One request per connection: no request thread is left waiting on a kept-alive
        # socket when the server stops (Django's handler closes on this header).
        self.headers["Connection"] = "close"
        super().cleanup_headers()


class _RequestHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """The temporary server's requests are in the audit log; keep the console short."""

    def handle_one_request(self) -> None:
        # Django's WSGIRequestHandler.handle_one_request, with the ServerHandler above.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _ClosingServerHandler(
            self.rfile, self.wfile, self.get_stderr(), self.get_environ()
        )
        handler.request_handler = self
        handler.run(self.server.get_app())


class _Server(ThreadedWSGIServer):
    # Request threads are joined when the server closes, so none outlives the command.
    daemon_threads = False


@contextmanager
def _serve_this_project() -> Iterator[str]:
    """Serve the project on 127.0.0.1 (a free port) in a daemon thread; yield its base URL."""
    # As Django's LiveServerThread does: an in-memory SQLite database exists only in
    # this connection, so the server's threads must share it.
    shared = {
        conn.alias: conn
        for conn in connections.all()
        if conn.vendor == "sqlite" and conn.is_in_memory_db()
    }
    for conn in shared.values():
        conn.inc_thread_sharing()
    server = _Server(
        ("127.0.0.1", 0), _RequestHandler, allow_reuse_address=False, connections_override=shared
    )
    server.set_app(get_internal_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, name="seed_demo-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        for conn in shared.values():
            conn.dec_thread_sharing()


@contextmanager
def _settings(**values: Any) -> Iterator[None]:
    saved = {name: getattr(settings, name) for name in values}
    for name, value in values.items():
        setattr(settings, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """One summary line instead of a log line per call: the audit log has each call."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(max(logging.WARNING, logger.getEffectiveLevel()))
    try:
        yield
    finally:
        logger.setLevel(level)


def _register_counts() -> tuple[int, int]:
    """How many reference codes (of every kind) and customers the register holds."""
    from crmadmin.codes.models import Field, Group, Status, Type
    from crmadmin.customers.models import Customer

    codes = sum(model.objects.count() for model in (Status, Type, Group, Field))
    return codes, Customer.objects.count()


def _is_local_sandbox(url: str) -> bool:
    parts = urlsplit(url)
    return parts.hostname in LOOPBACK_HOSTS and parts.path.rstrip("/") == "/sandbox"


class Command(BaseCommand):
    help = (
        "Create demo reference codes and customers through the CRM client, when the "
        "built-in sandbox is the upstream and the register is empty. Run by `make run`."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        reason = self._reason_to_skip()
        if reason:
            self.stdout.write(f"No demo data created: {reason}.")
            return
        actor = self._actor()
        if actor is None:
            self.stdout.write(
                "No demo data created: there is no superuser to act as "
                "(create one with `python manage.py ensure_admin`)."
            )
            return
        self._clear_orphaned_sandbox_records()

        from crmadmin.demo import codes as codes_demo
        from crmadmin.demo import customers as customers_demo
        from crmadmin.upstream import UpstreamError, auth

        started = time.monotonic()
        hosts = settings.ALLOWED_HOSTS
        with (
            _serve_this_project() as base_url,
            _settings(
                CRM_API_URL=f"{base_url}/sandbox",
                # The real token dance against the sandbox, whatever token is configured.
                CRM_API_TOKEN="",
                # Demo data must arrive whole, however slow or flaky the sandbox is set to be.
                CRM_SANDBOX_LATENCY_MS=0,
                CRM_SANDBOX_FAILURE_RATE=0.0,
                ALLOWED_HOSTS=hosts if "127.0.0.1" in hosts else [*hosts, "127.0.0.1"],
            ),
            _quiet("crmadmin.upstream"),
        ):
            try:
                codes_demo.seed(actor=actor)
                customers_demo.seed(actor=actor)
            except UpstreamError as exc:
                raise CommandError(
                    f"Demo data stopped half-way: {exc} The audit log has the details."
                ) from exc
            finally:
                # The token belongs to a server that is about to go away.
                auth.forget()
        elapsed = time.monotonic() - started

        codes, customers = _register_counts()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data created as {actor.get_username()} through the sandbox: "
                f"{codes} reference codes and {customers} customers in {elapsed:.1f} s."
            )
        )

    def _reason_to_skip(self) -> str:
        if not settings.CRM_SANDBOX:
            return "the built-in sandbox is off (CRM_SANDBOX)"
        if not _is_local_sandbox(settings.CRM_API_URL):
            return f"the upstream is {settings.CRM_API_URL}, not this server's sandbox"
        size = sum(_register_counts())
        if size:
            return f"the register already holds {size} records"
        return ""

    def _actor(self):
        superusers = get_user_model().objects.filter(is_superuser=True, is_active=True)
        return superusers.filter(username="admin").first() or superusers.order_by("pk").first()

    def _clear_orphaned_sandbox_records(self) -> None:
        """Sandbox records the empty register knows nothing of would clash with the demo's."""
        from crmadmin.sandbox.models import SandboxCode, SandboxCustomer

        customers, _ = SandboxCustomer.objects.all().delete()
        codes, _ = SandboxCode.objects.all().delete()
        if customers or codes:
            self.stdout.write(
                f"Cleared {customers + codes} sandbox records the empty register did not know."
            )
