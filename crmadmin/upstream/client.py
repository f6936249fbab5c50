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
   raised (``on_success`` is not run). The recorder's ``Recording`` does steps 2 and 4.

All of it happens under the record's write lock (``crmadmin.core.locks``: the calling
service's, when it holds it already) and within ``CRM_CALL_BUDGET`` seconds, token
renewal and retry included, so the lock's lease always outlives the call. The lease is
released in the transaction that records the outcome.
"""

import contextvars
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext

from crmadmin.audit.models import AuditEntry
from crmadmin.core.locks import Lease, holder_name, record_lock
from crmadmin.upstream import auth, transport
from crmadmin.upstream.errors import (
    UpstreamError,
    UpstreamHTTPError,
    UpstreamMalformed,
    UpstreamRejected,
    UpstreamUnauthorized,
)
from crmadmin.upstream.operations import Operation, get_operation
from crmadmin.upstream.recording import recording


class RegisterNotUpdated(Exception):
    """The CRM made the change but the register could not follow (the entry says so, and
    the reconciliation screen lists it); raised by services through ``guarded``."""

    def __init__(self, request_id: str, cause: BaseException) -> None:
        self.request_id = request_id
        self.cause = cause
        super().__init__(f"{type(cause).__name__}: {cause}")

    @property
    def user_message(self) -> str:
        return gettext(
            "The CRM accepted the change, but the register could not record it (request "
            "%(request_id)s). It is listed under “Needs attention”, where it can be applied "
            "to the register."
        ) % {"request_id": self.request_id}


def guarded(register: Callable[["UpstreamResult"], Any]) -> Callable[["UpstreamResult"], Any]:
    """``register`` whose failure becomes ``RegisterNotUpdated`` (a clear page, not a 500)."""

    def run(result: "UpstreamResult") -> Any:
        try:
            return register(result)
        except RegisterNotUpdated:
            raise
        except Exception as exc:
            raise RegisterNotUpdated(result.request_id, exc) from exc

    return run


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


# Run with each confirmed call's result inside the transaction that completes its entry,
# after ``on_success`` (a job marks its row done there: one transaction fewer per row, and
# the row's state commits with the entry's outcome).
_on_confirmed: contextvars.ContextVar[Callable[[UpstreamResult], None] | None] = (
    contextvars.ContextVar("crmadmin_upstream_on_confirmed", default=None)
)


@contextmanager
def confirmation(hook: Callable[[UpstreamResult], None]) -> Iterator[None]:
    """Every call confirmed in the block (in this thread) runs ``hook(result)`` inside the
    transaction that completes its audit entry; its failure fails that transaction as the
    register's would."""
    token = _on_confirmed.set(hook)
    try:
        yield
    finally:
        _on_confirmed.reset(token)


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
    codes = [body[op.code_key]]
    if op.new_code_key:
        codes.append(body[op.new_code_key])
    with (
        record_lock(op.kind, codes, holder=holder_name(actor), operation=op.name) as lease,
        transport.budget(settings.CRM_CALL_BUDGET),
    ):
        return _call(op, body, actor=actor, snapshot=snapshot, on_success=on_success, lease=lease)


def _call(
    op: Operation,
    body: dict[str, Any],
    *,
    actor,
    snapshot: Any,
    on_success: Callable[[UpstreamResult], Any] | None,
    lease: Lease,
) -> UpstreamResult:
    with recording(
        operation=op.name,
        record_kind=op.kind,
        code=body[op.code_key],
        new_code=body[op.new_code_key] if op.new_code_key else "",
        request_body=body,
        snapshot_before=snapshot,
        actor=actor,
        secrets=auth.secrets,
    ) as rec:
        entry = rec.entry
        response, envelope = _exchange(op, body, request_id=entry.request_id, actor=actor)
        result = UpstreamResult(
            request_id=entry.request_id,
            http_status=response.status_code,
            status=int(envelope["status"]),
            error=envelope["error"],
            message="" if envelope["message"] is None else str(envelope["message"]),
            data=envelope["data"],
            entry=entry,
        )

        def register() -> Any:
            value = on_success(result) if on_success is not None else None
            if (hook := _on_confirmed.get()) is not None:
                hook(result)
            # The record is free once the register's change and the entry commit.
            lease.release()
            return value

        try:
            result.value = rec.succeed(
                http_status=result.http_status,
                upstream_status=result.status,
                upstream_error=str(result.error),
                upstream_message=result.message,
                upstream_data=result.data,
                register=register,
            )
        except BaseException:
            lease.keep()  # rolled back with the transaction: released when the lock ends
            raise
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
