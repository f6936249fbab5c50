"""How the upstream client's calls are recorded: the reading of a typed failure for its
audit entry, and the one log line per call. The recorder (``audit.recorder.Recording``)
does the writing."""

import logging
from collections.abc import Callable, Iterable
from typing import Any

from crmadmin.audit.models import AuditEntry
from crmadmin.audit.recorder import Failure, Recording
from crmadmin.upstream.errors import UpstreamError
from crmadmin.upstream.transport import upstream_status_of

logger = logging.getLogger("crmadmin.upstream")


def failure_of(exc: BaseException, entry: AuditEntry) -> Failure | None:
    """A typed failure (rejected by the CRM, or failed) as its entry records it; None for
    anything else (the recorder writes failed/internal). The error learns its entry's
    request id, so the user can quote it."""
    if not isinstance(exc, UpstreamError):
        return None
    exc.request_id = entry.request_id
    envelope = exc.envelope
    return Failure(
        outcome=exc.outcome,
        failure_kind=exc.failure_kind,
        http_status=exc.http_status,
        upstream_status=upstream_status_of(envelope),
        upstream_error=str(envelope["error"]) if envelope else exc.error_code,
        upstream_message=exc.upstream_message,
        upstream_data=envelope.get("data") if envelope else None,
        error_detail=exc.detail,
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


def recording(*, secrets: Callable[[], Iterable[str]], **begin_fields: Any) -> Recording:
    """A ``Recording`` of one upstream call (``begin_fields`` as for ``recorder.begin``)."""
    return Recording(describe=failure_of, secrets=secrets, finished=log_outcome, **begin_fields)
