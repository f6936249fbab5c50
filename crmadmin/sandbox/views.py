"""HTTP face of the sandbox: ``/token`` and the 20 calls under ``/api/crm/``.

One catch-all view matches the path case-insensitively (the real service is ASP.NET,
whose routes do), so ``updateNO`` and ``updateNo`` are the same call. Settings are read
per request: tests and the demo command change them at run time.
"""

import json
import random
import re
from time import sleep

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from crmadmin.sandbox import inflight, tokens
from crmadmin.sandbox.errors import ErrorCode, Rejection
from crmadmin.sandbox.operations import HANDLERS, Body

_CRM_CALL = re.compile(r"api/crm/(?P<entity>[a-z]+)/(?P<action>[a-z]+)")
_UNAUTHORIZED = "Authorization has been denied for this request."


def _json(payload: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})


def _envelope(*, error: int = 0, message: str = "success", data=None) -> JsonResponse:
    return _json({"status": 0 if error else 1, "error": error, "message": message, "data": data})


@login_not_required
@csrf_exempt
def endpoint(request: HttpRequest, path: str) -> HttpResponse:
    route = path.strip("/").lower()
    match = _CRM_CALL.fullmatch(route)
    operation = HANDLERS.get((match["entity"], match["action"])) if match else None
    if route != "token" and operation is None:
        return _json(
            {"message": f"No HTTP resource was found that matches the request URI '{path}'."},
            status=404,
        )
    if request.method != "POST":
        response = _json(
            {"message": f"The requested resource does not support http method '{request.method}'."},
            status=405,
        )
        response["Allow"] = "POST"
        return response
    if operation is None:
        _delay()
        return _token(request)
    with inflight.counted():
        _delay()
        return _crm_call(request, operation)


def _delay() -> None:
    if settings.CRM_SANDBOX_LATENCY_MS > 0:
        sleep(settings.CRM_SANDBOX_LATENCY_MS / 1000)


def _token(request: HttpRequest) -> JsonResponse:
    try:
        payload, status = tokens.grant(request.POST), 200
    except tokens.GrantError as refused:
        payload, status = {"error": refused.error, "error_description": refused.description}, 400
    response = _json(payload, status=status)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _crm_call(request: HttpRequest, operation) -> HttpResponse:
    if random.random() < settings.CRM_SANDBOX_FAILURE_RATE:
        return HttpResponse(
            "Service Unavailable (the sandbox's CRM_SANDBOX_FAILURE_RATE)",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    if not tokens.access_token_valid(_bearer_token(request)):
        response = _json({"message": _UNAUTHORIZED}, status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    try:
        data = json.loads(request.body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return _envelope(
            error=ErrorCode.INVALID_JSON,
            message="Dữ liệu gửi lên không phải đối tượng JSON hợp lệ.",
        )
    body = Body(data)
    try:
        _check_tenant(body)
        with transaction.atomic():
            result = operation(body)
    except Rejection as rejection:
        return _envelope(error=rejection.error, message=rejection.message)
    except IntegrityError:
        # Two concurrent calls raced past the checks above; the constraint decided.
        return _envelope(
            error=ErrorCode.DUPLICATE_CODE, message="Mã hoặc tên đã tồn tại (ghi đồng thời)."
        )
    return _envelope(data=result)


def _check_tenant(body: Body) -> None:
    vbot_id = body.text("vbot_id")
    project_code = body.text("project_code")
    if vbot_id != settings.CRM_VBOT_ID or project_code != settings.CRM_PROJECT_CODE:
        raise Rejection(
            ErrorCode.TENANT_MISMATCH,
            "vbot_id hoặc project_code không khớp với tài khoản đang đăng nhập.",
        )
