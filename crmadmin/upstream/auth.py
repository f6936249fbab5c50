"""Access tokens for the CRM: a static token, or OAuth password/refresh grants at ``/token``.

Granted tokens are kept in Django's cache (the database cache by default, so every
worker process shares them), encrypted with Fernet (``CRM_TOKEN_CACHE_KEYS``: the first
key encrypts, every key decrypts, so a key can be rotated), until shortly before they
expire, then renewed with the
refresh token, falling back to the password grant when the CRM refuses the refresh.
Each grant is an audit entry of its own (operation ``auth.token``) holding the grant
type, the username, the token type and lifetime: never a password or a token.
"""

import base64
import hashlib
import json
import logging
import time
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.cache import cache

from crmadmin.upstream import transport
from crmadmin.upstream.errors import (
    UpstreamHTTPError,
    UpstreamMalformed,
    UpstreamRejected,
    UpstreamUnauthorized,
)
from crmadmin.upstream.operations import TOKEN_OPERATION
from crmadmin.upstream.recording import recording

logger = logging.getLogger("crmadmin.upstream")

TOKEN_PATH = "/token"  # noqa: S105 (a path, not a secret)
# Used when the CRM's answer omits expires_in (the contract always sends it).
DEFAULT_LIFETIME = 300
# The CRM refused the grant (as opposed to not answering): worth a password grant.
_REFUSED = (UpstreamUnauthorized, UpstreamHTTPError, UpstreamMalformed, UpstreamRejected)


def _now() -> float:
    return time.time()


def cache_key() -> str:
    identity = f"{settings.CRM_API_URL}\n{settings.CRM_USERNAME}".encode()
    return "crmadmin.upstream.token." + hashlib.sha256(identity).hexdigest()[:40]


def _fernets() -> tuple[Fernet, MultiFernet]:
    keys = settings.CRM_TOKEN_CACHE_KEYS or [
        # Development default, derived from SECRET_KEY (production sets its own keys).
        base64.urlsafe_b64encode(
            hashlib.sha256(f"crmadmin.token-cache\n{settings.SECRET_KEY}".encode()).digest()
        ).decode()
    ]
    fernets = [Fernet(key) for key in keys]
    return fernets[0], MultiFernet(fernets)


def cached_tokens() -> dict[str, Any] | None:
    """The cached tokens, decrypted; None when absent or unreadable with every key
    (then they are simply granted again). Tokens encrypted with an older key are
    re-encrypted with the current one."""
    sealed = cache.get(cache_key())
    if isinstance(sealed, dict) and {"access_token", "expires_at"} <= sealed.keys():
        # Written in clear by a version before encryption (a worker not yet upgraded,
        # or the cache as it was at the upgrade): used, and encrypted from now on.
        _save(sealed)
        return sealed
    if not isinstance(sealed, bytes):
        return None
    current, every = _fernets()
    try:
        opened = current.decrypt(sealed)
    except InvalidToken:
        try:
            opened = every.decrypt(sealed)
        except InvalidToken:
            logger.warning("the cached CRM token cannot be decrypted with any key; renewing it")
            return None
        cache.set(cache_key(), current.encrypt(opened), timeout=None)
    return json.loads(opened)


def _save(stored: dict[str, Any]) -> None:
    current, _every = _fernets()
    cache.set(cache_key(), current.encrypt(json.dumps(stored).encode()), timeout=None)


def secrets() -> list[str]:
    """Every secret this process could leak into a message, to redact it."""
    found = [settings.CRM_PASSWORD, settings.CRM_API_TOKEN]
    stored = cached_tokens() if not settings.CRM_API_TOKEN else None
    if stored:
        found += [stored.get("access_token", ""), stored.get("refresh_token", "")]
    return [secret for secret in found if secret]


def access_token(*, actor=None) -> str:
    """A token valid for a while yet: the static one, the cached one, or a renewed one."""
    if settings.CRM_API_TOKEN:
        return settings.CRM_API_TOKEN
    stored = cached_tokens()
    if stored and stored["expires_at"] > _now():
        return stored["access_token"]
    return _renew(stored, actor=actor)


def renew_after_unauthorized(rejected_token: str, *, actor=None) -> str | None:
    """A new token after the CRM answered 401 to ``rejected_token``; None with a static token."""
    if settings.CRM_API_TOKEN:
        return None
    stored = cached_tokens()
    if stored and stored["access_token"] != rejected_token and stored["expires_at"] > _now():
        return stored["access_token"]  # another worker has renewed it meanwhile
    return _renew(stored, actor=actor)


def forget() -> None:
    cache.delete(cache_key())


def _renew(stored: dict[str, Any] | None, *, actor) -> str:
    refresh_token = (stored or {}).get("refresh_token")
    if refresh_token:
        try:
            answer = _grant(
                {"grant_type": "refresh_token", "refresh_token": refresh_token}, actor=actor
            )
        except _REFUSED as exc:
            logger.info(
                "CRM refused the refresh grant (request %s); trying the password grant",
                exc.request_id,
            )
        else:
            return _store(answer, previous_refresh_token=refresh_token)
    if not (settings.CRM_USERNAME and settings.CRM_PASSWORD):
        forget()
        raise UpstreamUnauthorized(
            detail="no CRM credentials configured (CRM_USERNAME/CRM_PASSWORD or CRM_API_TOKEN)"
        )
    answer = _grant(
        {
            "grant_type": "password",
            "username": settings.CRM_USERNAME,
            "password": settings.CRM_PASSWORD,
        },
        actor=actor,
    )
    return _store(answer, previous_refresh_token="")


def _store(answer: dict[str, Any], *, previous_refresh_token: str) -> str:
    lifetime = answer["expires_in"]
    # Renew a margin before the end, but never spend more than half a short lifetime on it.
    usable = lifetime - min(settings.CRM_TOKEN_MARGIN, lifetime / 2)
    _save(
        {
            "access_token": answer["access_token"],
            "refresh_token": answer.get("refresh_token") or previous_refresh_token,
            "expires_at": _now() + usable,
        }
    )
    return answer["access_token"]


def _grant(form: dict[str, str], *, actor) -> dict[str, Any]:
    """One token request, recorded write-ahead like every CRM call."""
    recorded = {"grant_type": form["grant_type"]}
    if "username" in form:
        recorded["username"] = form["username"]
    known_secrets = [value for key, value in form.items() if key not in ("grant_type", "username")]
    with recording(
        operation=TOKEN_OPERATION,
        request_body=recorded,
        actor=actor,
        secrets=lambda: known_secrets + secrets(),
    ) as rec:
        request_id = rec.entry.request_id
        response = transport.post(
            f"{settings.CRM_API_URL}{TOKEN_PATH}", request_id=request_id, form=form
        )
        answer = _read_token_answer(response, request_id)
        rec.succeed(
            http_status=response.status_code,
            upstream_data={
                "token_type": answer.get("token_type", ""),
                "expires_in": answer["expires_in"],
            },
        )
    return answer


def _read_token_answer(response, request_id: str) -> dict[str, Any]:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if status in (400, 401):
        # OAuth's refusal: {"error": "invalid_grant", "error_description": "..."}.
        error = body if isinstance(body, dict) else {}
        raise UpstreamUnauthorized(
            request_id=request_id,
            http_status=status,
            error_code=str(error.get("error", "")),
            upstream_message=str(error.get("error_description", "")),
            detail="the token endpoint refused the grant",
        )
    if not 200 <= status < 300:
        raise UpstreamHTTPError(
            request_id=request_id, http_status=status, detail=transport.excerpt(response)
        )
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise UpstreamMalformed(
            request_id=request_id,
            http_status=status,
            detail="the token answer has no access_token",
        )
    try:
        lifetime = int(body.get("expires_in", DEFAULT_LIFETIME))
    except (TypeError, ValueError):
        lifetime = DEFAULT_LIFETIME
    refresh_token = body.get("refresh_token")
    return {
        "access_token": token,
        "refresh_token": refresh_token if isinstance(refresh_token, str) else "",
        "token_type": str(body.get("token_type", "")),
        "expires_in": max(lifetime, 0),
    }
