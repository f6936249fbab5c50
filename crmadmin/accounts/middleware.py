"""The idle timeout: a session that has seen no request for ``SESSION_IDLE_TIMEOUT``
seconds is signed out."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

LAST_SEEN = "crmadmin.last_seen"
# The last request's time is written at most this often (not on every page), which is
# also how much sooner than the timeout a session may end.
RENEW_EVERY = 60


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN)
            if isinstance(last_seen, int) and now - last_seen > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                messages.info(request, _("You were signed out after a period of inactivity."))
                response = redirect_to_login(request.get_full_path())
                if getattr(request, "htmx", False):
                    return HttpResponseClientRedirect(response["Location"])
                return response
            if not isinstance(last_seen, int) or now - last_seen >= RENEW_EVERY:
                # Saving the session also renews its cookie and its stored expiry.
                request.session[LAST_SEEN] = now
        return self.get_response(request)


def start_idle_clock(sender, request, user, **kwargs) -> None:
    """At sign-in (``user_logged_in``): the session starts active, with no extra write on
    its first page."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN] = int(time.time())
