"""The screen kit's Python half: one way to answer a list page or its htmx partial.

Templates keep the partials (``templates/core/_sort_header.html``, ``_pager.html``,
``_field.html``); views call :func:`render_screen` instead of choosing the template
themselves.
"""

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """The request as django-htmx's middleware leaves it (for type checkers)."""

    htmx: HtmxDetails


def wants_partial(request: HttpRequest) -> bool:
    """An htmx request that swaps a fragment in; a history restore (the back button after
    the cache was cleared) needs the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def render_screen(
    request: HttpRequest,
    template: str,
    context: Mapping[str, Any],
    *,
    partial: str = "results",
    status: int = 200,
) -> HttpResponse:
    """Render ``template``, or only its ``{% partialdef partial %}`` for htmx.

    The answer always varies on ``HX-Request``: a cache (the browser's included) must not
    hand the fragment to a plain request of the same address, or the page to htmx.
    """
    name = f"{template}#{partial}" if wants_partial(request) else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response
