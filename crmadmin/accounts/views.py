"""The page a locked-out sign-in gets (django-axes calls it: ``AXES_LOCKOUT_CALLABLE``)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def locked_out(request: HttpRequest, credentials=None, *args, **kwargs) -> HttpResponse:
    minutes = max(round(settings.AXES_COOLOFF_TIME.total_seconds() / 60), 1)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    # 429 Too Many Requests: the answer to too many attempts, for people and for tools.
    return render(request, "registration/locked_out.html", context, status=429)
