"""Request-scoped context for the service layer, and messages for htmx responses."""

import contextvars
import json

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from crmadmin.core.validators import CONTROL

_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)


def current_client_ip() -> str | None:
    """The IP address of the request being served, for the audit log (None outside a request)."""
    return _client_ip.get()


def client_ip_of(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is forgeable unless a trusted proxy sets it,
    # and deployments behind one configure gunicorn's --forwarded-allow-ips instead.
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Makes the client's IP available to services without threading it through every call."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _client_ip.set(client_ip_of(request))
        try:
            return self.get_response(request)
        finally:
            _client_ip.reset(token)


class HtmxMessagesMiddleware:
    """Deliver Django messages with htmx responses that do not redraw the message area.

    The messages travel in an ``HX-Trigger`` event (``messages``) that static/js/app.js
    turns into the same alert boxes the full page renders.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or "HX-Redirect" in response.headers:
            return response
        if response.status_code in (301, 302, 303, 307, 308):
            return response
        storage = get_messages(request)
        pending = [{"level": m.level_tag, "text": str(m)} for m in storage]
        if not pending:
            return response
        triggers = {}
        if "HX-Trigger" in response.headers:
            try:
                triggers = json.loads(response.headers["HX-Trigger"])
            except ValueError:
                triggers = {response.headers["HX-Trigger"]: None}
        triggers["messages"] = pending
        response.headers["HX-Trigger"] = json.dumps(triggers)
        return response


class NoStoreForSignedInMiddleware:
    """``Cache-Control: no-store`` (Django's never-cache headers) on every answer to a
    signed-in user: customers' details must not stay in a shared computer's cache, nor
    come back with the back button after signing out. Static files are served before
    this runs (WhiteNoise) and stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class RefuseControlCharactersMiddleware:
    """A NUL byte or another control character in the address or the query string is
    answered with one clear 400 page, before any view reads it.

    No address of the dashboard contains one, no form sends one in a query, and
    PostgreSQL refuses NUL in a text parameter (a view looking up ``/customers/%00/``
    would fail with a 500). Tabs and line breaks are refused in the path only: a search
    box may carry a pasted tab. Form posts are each field's business (their validators).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._hostile(request):
            return render(request, "400.html", status=400)
        return self.get_response(request)

    @staticmethod
    def _hostile(request: HttpRequest) -> bool:
        path = request.path_info
        if CONTROL.search(path) or any(char in path for char in "\t\n\r"):
            return True
        return any(
            CONTROL.search(key) or any(CONTROL.search(value) for value in values)
            for key, values in request.GET.lists()
        )
