"""The HTTP side shared by CRM calls and token grants: one session, timeouts, failure mapping.

Everything here runs outside any database transaction of the client's own: the request
is sent after the pending audit entry is committed, and the entry is completed after
the answer.
"""

import json
import logging
import threading
from collections.abc import Iterable
from typing import Any

import requests
from django.conf import settings

from crmadmin.audit import recorder
from crmadmin.audit.models import AuditEntry, FailureKind, Outcome
from crmadmin.upstream.errors import UpstreamConnectionError, UpstreamError, UpstreamTimeout

logger = logging.getLogger("crmadmin.upstream")

ENVELOPE_KEYS = frozenset({"status", "error", "message", "data"})
EXCERPT_CHARS = 500
REDACTED = "[redacted]"

_session: requests.Session | None = None
_session_lock = threading.Lock()


def session() -> requests.Session:
    """The process's one session (kept-alive connections to the CRM), created on first use."""
    global _session
    if _session is None:
        with _session_lock:
            if _session is None:
                _session = requests.Session()
    return _session


def timeouts() -> tuple[float, float]:
    return (settings.CRM_CONNECT_TIMEOUT, settings.CRM_READ_TIMEOUT)


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
    try:
        return session().post(url, data=data, headers=headers, timeout=timeouts())
    except requests.Timeout as exc:
        # ConnectTimeout is also a ConnectionError: it is checked first, as a timeout.
        raise UpstreamTimeout(
            request_id=request_id,
            connect=isinstance(exc, requests.ConnectTimeout),
            detail=type(exc).__name__,
        ) from None
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        raise UpstreamConnectionError(
            request_id=request_id, detail=f"{type(exc).__name__}: {exc}"[:1000]
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


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def upstream_status_of(envelope: dict[str, Any] | None) -> int | None:
    if envelope is None:
        return None
    status = envelope.get("status")
    if isinstance(status, bool):
        return None
    if status in (0, 1, "0", "1"):
        return int(status)
    return None


def complete_with_error(
    entry: AuditEntry, exc: UpstreamError, secrets: Iterable[str] = ()
) -> AuditEntry:
    """Finish an entry with a typed failure (rejected by the CRM, or failed)."""
    secrets = tuple(secrets)
    envelope = exc.envelope
    return recorder.complete(
        entry,
        outcome=exc.outcome,
        failure_kind=exc.failure_kind,
        http_status=exc.http_status,
        upstream_status=upstream_status_of(envelope),
        upstream_error=redact(str(envelope["error"]) if envelope else exc.error_code, secrets)[:64],
        upstream_message=redact(exc.upstream_message, secrets),
        upstream_data=envelope.get("data") if envelope else None,
        error_detail=redact(exc.detail, secrets),
    )


def complete_with_internal_error(
    entry: AuditEntry, exc: BaseException, secrets: Iterable[str] = ()
) -> None:
    """Best effort for a bug or an interruption: the entry says failed/internal, never vanishes.

    If even that cannot be written (the database is gone), the entry stays pending, which
    the screens show as "outcome unknown".
    """
    try:
        recorder.complete(
            entry,
            outcome=Outcome.FAILED,
            failure_kind=FailureKind.INTERNAL,
            error_detail=redact(f"{type(exc).__name__}: {exc}", secrets)[:2000],
        )
    except Exception:
        logger.exception(
            "could not complete audit entry %s after an internal error; it stays pending",
            entry.request_id,
        )


def log_outcome(entry: AuditEntry) -> None:
    target = entry.code + (f" → {entry.new_code}" if entry.new_code else "")
    outcome = entry.outcome
    if entry.failure_kind and entry.failure_kind != outcome:
        outcome = f"{outcome}/{entry.failure_kind}"
    logger.info(
        "CRM %s %s: %s%s in %.1f ms (request %s)",
        entry.operation,
        target or "-",
        outcome,
        f" HTTP {entry.http_status}" if entry.http_status else "",
        entry.duration_ms or 0.0,
        entry.request_id,
    )
