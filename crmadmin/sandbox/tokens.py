"""The sandbox's token endpoint logic: OAuth-style password and refresh grants.

Tokens are random (``secrets.token_urlsafe``) and only their SHA-256 digests are
stored. Access tokens live ``CRM_SANDBOX_TOKEN_LIFETIME`` seconds; refresh tokens live
``REFRESH_TOKEN_LIFETIME`` and are used once (a refresh grant replaces it).
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crmadmin.sandbox.models import SandboxToken

REFRESH_TOKEN_LIFETIME = timedelta(days=14)


class GrantError(Exception):
    """A token request the sandbox refuses: answered HTTP 400 with an OAuth error body."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue() -> dict:
    now = timezone.now()
    lifetime = settings.CRM_SANDBOX_TOKEN_LIFETIME
    access = secrets.token_urlsafe(32)
    refresh = secrets.token_urlsafe(32)
    SandboxToken.objects.filter(expires_at__lte=now).delete()
    SandboxToken.objects.bulk_create(
        [
            SandboxToken(
                kind=SandboxToken.Kind.ACCESS,
                digest=_digest(access),
                expires_at=now + timedelta(seconds=lifetime),
            ),
            SandboxToken(
                kind=SandboxToken.Kind.REFRESH,
                digest=_digest(refresh),
                expires_at=now + REFRESH_TOKEN_LIFETIME,
            ),
        ]
    )
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": lifetime,
        "refresh_token": refresh,
    }


def _matches(given: str, expected: str) -> bool:
    return bool(expected) and secrets.compare_digest(given.encode(), expected.encode())


def grant(form) -> dict:
    """Answer a token request (the form-encoded POST body) or raise ``GrantError``."""
    grant_type = form.get("grant_type", "")
    if grant_type == "password":
        username_ok = _matches(form.get("username", ""), settings.CRM_USERNAME)
        password_ok = _matches(form.get("password", ""), settings.CRM_PASSWORD)
        if not (username_ok and password_ok):
            raise GrantError("invalid_grant", "The user name or password is incorrect.")
        with transaction.atomic():
            return _issue()
    if grant_type == "refresh_token":
        given = form.get("refresh_token", "")
        with transaction.atomic():
            used, _ = SandboxToken.objects.filter(
                kind=SandboxToken.Kind.REFRESH,
                digest=_digest(given),
                expires_at__gt=timezone.now(),
            ).delete()
            if not given or not used:
                raise GrantError("invalid_grant", "The refresh token is invalid or has expired.")
            return _issue()
    raise GrantError("unsupported_grant_type", f"The grant type {grant_type!r} is not supported.")


def access_token_valid(token: str) -> bool:
    if not token:
        return False
    return SandboxToken.objects.filter(
        kind=SandboxToken.Kind.ACCESS, digest=_digest(token), expires_at__gt=timezone.now()
    ).exists()
