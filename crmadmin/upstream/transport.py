"""The HTTP side shared by CRM calls and token grants: one session, timeouts, the mapping
of a request's failure to its typed error, and the reading of an answer's envelope.

HTTP only: the audit entry around each request is the recorder's
(``upstream.recording``). Requests are sent outside any database transaction of the
client's own: after the pending audit entry is committed, before it is completed.
"""

import contextvars
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings

from crmadmin.upstream.errors import UpstreamConnectionError, UpstreamTimeout

ENVELOPE_KEYS = frozenset({"status", "error", "message", "data"})
EXCERPT_CHARS = 500
# A connection failure's description (requests nests the causes: it can run long).
DETAIL_CHARS = 1000

_session: requests.Session | None = None
_session_lock = threading.Lock()


def session() -> requests.Session:
    """The process's one session (kept-alive connections to the CRM), created on first use.

    It does not read the environment itself on every request (requests' ``trust_env``:
    the proxy variables, their exceptions and the CA bundle, about half a millisecond a
    call): ``post`` passes what the environment says for the CRM's origin, read once."""
    global _session
    if _session is None:
        with _session_lock:
            if _session is None:
                made = requests.Session()
                made.trust_env = False
                _session = made
    return _session


_environments: dict[str, dict[str, Any]] = {}


def environment_for(url: str) -> dict[str, Any]:
    """``proxies``, ``verify`` and ``cert`` for ``url`` as requests reads them from the
    environment (HTTP(S)_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE), read once
    per origin and process."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin not in _environments:
        with requests.Session() as reader:  # trust_env: reads the environment
            found = reader.merge_environment_settings(f"{origin}/", {}, None, None, None)
        _environments[origin] = {key: found[key] for key in ("proxies", "verify", "cert")}
    return _environments[origin]


# The monotonic instant by which the current call (renewal and retry included) must end.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "crmadmin_call_deadline", default=None
)
# Below this many seconds left, a request is not sent at all: it could not be answered.
LEAST_USEFUL_SECONDS = 0.05


@contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Every request sent in the block shares ``seconds`` of wall-clock time (nested
    budgets keep the outer, earlier deadline)."""
    outer = _deadline.get()
    deadline = time.monotonic() + seconds
    if outer is not None:
        deadline = min(outer, deadline)
    reset = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(reset)


def remaining() -> float | None:
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def timeouts() -> tuple[float, float]:
    connect, read = settings.CRM_CONNECT_TIMEOUT, settings.CRM_READ_TIMEOUT
    left = remaining()
    if left is None:
        return (connect, read)
    return (min(connect, left), min(read, left))


def post(
    url: str,
    *,
    request_id: str,
    token: str | None = None,
    json_body: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
) -> requests.Response:
    """POST once; a timeout or a connection failure becomes its typed error."""
    headers = {"Accept": "application/json", "X-Request-ID": request_id}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if json_body is not None:
        headers["Content-Type"] = "application/json"
        # UTF-8 as is (Vietnamese names stay readable on the wire); JSON's own encoding.
        data: Any = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
    else:
        data = form
    left = remaining()
    if left is not None and left < LEAST_USEFUL_SECONDS:
        # Never sent: the CRM cannot have acted on it, like a connect timeout.
        raise UpstreamTimeout(
            request_id=request_id,
            connect=True,
            detail="BudgetExhausted: CRM_CALL_BUDGET used up before this request was sent",
        )
    try:
        return session().post(
            url, data=data, headers=headers, timeout=timeouts(), **environment_for(url)
        )
    except requests.Timeout as exc:
        # ConnectTimeout is also a ConnectionError: it is checked first, as a timeout.
        raise UpstreamTimeout(
            request_id=request_id,
            connect=isinstance(exc, requests.ConnectTimeout),
            detail=type(exc).__name__,
        ) from None
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        raise UpstreamConnectionError(
            request_id=request_id, detail=f"{type(exc).__name__}: {exc}"[:DETAIL_CHARS]
        ) from None


def excerpt(response: requests.Response) -> str:
    """The start of an answer's body, for the audit entry of a failure."""
    content_type = response.headers.get("Content-Type", "")
    text = response.text[:EXCERPT_CHARS]
    return f"HTTP {response.status_code} {content_type}: {text}".strip()


def envelope_of(response: requests.Response) -> dict[str, Any] | None:
    try:
        parsed = response.json()
    except ValueError:
        return None
    if isinstance(parsed, dict) and parsed.keys() >= ENVELOPE_KEYS:
        return parsed
    return None


def upstream_status_of(envelope: dict[str, Any] | None) -> int | None:
    if envelope is None:
        return None
    status = envelope.get("status")
    if isinstance(status, bool):
        return None
    if status in (0, 1, "0", "1"):
        return int(status)
    return None
