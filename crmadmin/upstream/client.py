"""``call()``: the one way out to the CRM, audited write-ahead.

1. The payload is checked against the operation table and becomes the exact wire body
   (tenant pair added, codes trimmed).
2. A pending audit entry is committed.
3. The request is sent, outside any transaction of ours: the built-in sandbox may be
   served by this very process on the same SQLite file, and a write transaction held
   across the request would lock it out. Callers must not wrap ``call()`` in
   ``transaction.atomic()`` for the same reason.
4. On success, one transaction runs ``on_success`` (the register's change) and completes
   the entry; on failure, the entry is completed with the failure and a typed error is
   raised (``on_success`` is not run).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from crmadmin.audit import recorder
from crmadmin.audit.models import AuditEntry, Outcome
from crmadmin.upstream import auth, transport
from crmadmin.upstream.errors import (
    UpstreamError,
    UpstreamHTTPError,
    UpstreamMalformed,
    UpstreamRejected,
    UpstreamUnauthorized,
)
from crmadmin.upstream.operations import Operation, get_operation

REGISTER_FAILED = (
    "The CRM confirmed the change, but the local register could not be updated: {error}"
)


@dataclass
class UpstreamResult:
    """A confirmed CRM change: the CRM's envelope, the audit entry, and ``on_success``'s value."""

    request_id: str
    http_status: int
    status: int
    error: Any
    message: str
    data: Any
    entry: AuditEntry
    value: Any = field(default=None)


def tenant() -> dict[str, str]:
    return {"vbot_id": settings.CRM_VBOT_ID, "project_code": settings.CRM_PROJECT_CODE}


def call(
    operation: str,
    payload: Mapping[str, Any],
    *,
    actor=None,
    snapshot: Any = None,
    on_success: Callable[[UpstreamResult], Any] | None = None,
) -> UpstreamResult:
    """Make one CRM call (``"customer.create"``, ...) with ``payload``'s wire keys."""
    op = get_operation(operation)
    body = op.build_body(payload, tenant())
    entry = recorder.begin(
        operation=op.name,
        record_kind=op.kind,
        code=body[op.code_key],
        new_code=body[op.new_code_key] if op.new_code_key else "",
        request_body=body,
        snapshot_before=snapshot,
        actor=actor,
    )
    try:
        response, envelope = _exchange(op, body, request_id=entry.request_id, actor=actor)
    except UpstreamError as exc:
        exc.request_id = entry.request_id
        transport.complete_with_error(entry, exc, auth.secrets())
        transport.log_outcome(entry)
        raise
    except BaseException as exc:
        transport.complete_with_internal_error(entry, exc, auth.secrets())
        transport.log_outcome(entry)
        raise

    result = UpstreamResult(
        request_id=entry.request_id,
        http_status=response.status_code,
        status=int(envelope["status"]),
        error=envelope["error"],
        message="" if envelope["message"] is None else str(envelope["message"]),
        data=envelope["data"],
        entry=entry,
    )
    succeeded = {
        "outcome": Outcome.SUCCEEDED,
        "http_status": result.http_status,
        "upstream_status": result.status,
        "upstream_error": str(result.error)[:64],
        "upstream_message": result.message,
        "upstream_data": result.data,
    }
    try:
        with transaction.atomic():
            if on_success is not None:
                result.value = on_success(result)
            recorder.complete(entry, **succeeded)
    except BaseException as exc:
        # The CRM made the change: the entry must say so even though the register did not
        # follow (the atomic block above rolled back both the register and the completion).
        try:
            recorder.complete(
                entry,
                **succeeded,
                error_detail=REGISTER_FAILED.format(error=f"{type(exc).__name__}: {exc}"),
            )
        except Exception:
            transport.logger.exception(
                "could not complete audit entry %s after the register failed", entry.request_id
            )
        transport.logger.error(
            "CRM %s %s succeeded but the register was not updated (request %s)",
            entry.operation,
            entry.code,
            entry.request_id,
        )
        raise
    transport.log_outcome(entry)
    return result


def _exchange(
    op: Operation, body: dict[str, Any], *, request_id: str, actor
) -> tuple[Any, dict[str, Any]]:
    """Send the body (once, or twice after a 401 and a token renewal); return the envelope."""
    url = f"{settings.CRM_API_URL}{op.path}"
    token = _token(lambda: auth.access_token(actor=actor), "No call was sent")
    response = transport.post(url, request_id=request_id, token=token, json_body=body)
    if response.status_code == 401:
        token = _token(
            lambda: auth.renew_after_unauthorized(token, actor=actor),
            "The CRM answered 401 and the token could not be renewed, so the call was not retried",
            call_status=response.status_code,
        )
        if token is None:
            raise _unauthorized(response, "the CRM refused the static token (CRM_API_TOKEN)")
        response = transport.post(url, request_id=request_id, token=token, json_body=body)
        if response.status_code == 401:
            raise _unauthorized(response, "the CRM refused a freshly renewed token")
    return response, _read_envelope(response, request_id)


def _token(
    get: Callable[[], str | None], consequence: str, call_status: int | None = None
) -> str | None:
    """A token from ``get``; if its grant fails, the call fails with the grant's error
    (and the call's own HTTP status when it had one)."""
    try:
        return get()
    except UpstreamError as exc:
        if call_status is not None:
            exc.http_status = call_status
        exc.detail = (
            f"{consequence}: the token request {exc.request_id or '(none)'} failed. {exc.detail}"
        ).strip()
        raise


def _unauthorized(response, detail: str) -> UpstreamUnauthorized:
    envelope = transport.envelope_of(response)
    return UpstreamUnauthorized(
        http_status=response.status_code,
        envelope=envelope,
        error_code=str(envelope["error"]) if envelope else "",
        upstream_message=str(envelope["message"] or "") if envelope else "",
        detail=detail,
    )


def _read_envelope(response, request_id: str) -> dict[str, Any]:
    status = response.status_code
    envelope = transport.envelope_of(response)
    if not 200 <= status < 300:
        raise UpstreamHTTPError(
            request_id=request_id,
            http_status=status,
            envelope=envelope,
            error_code=str(envelope["error"]) if envelope else "",
            upstream_message=str(envelope["message"] or "") if envelope else "",
            detail=transport.excerpt(response),
        )
    if envelope is None:
        raise UpstreamMalformed(
            request_id=request_id, http_status=status, detail=transport.excerpt(response)
        )
    upstream_status = transport.upstream_status_of(envelope)
    if upstream_status == 1:
        return envelope
    if upstream_status == 0:
        raise UpstreamRejected(
            request_id=request_id,
            http_status=status,
            envelope=envelope,
            error_code=str(envelope["error"]),
            upstream_message="" if envelope["message"] is None else str(envelope["message"]),
        )
    raise UpstreamMalformed(
        request_id=request_id,
        http_status=status,
        envelope=envelope,
        detail=f"unknown envelope status {envelope['status']!r}",
    )
