"""Tokens: fetched once and shared, renewed before they expire, renewed once on a 401, refresh
falling back to the password grant; and never a secret in the audit log or the logs."""

import json
import logging

import pytest
import requests
from django.core.cache import cache
from responses import matchers

from crmadmin.audit.models import AuditEntry, FailureKind, Outcome
from crmadmin.upstream import UpstreamTimeout, UpstreamUnauthorized, auth, call
from tests.crm import CRM, envelope

TOKEN_URL = f"{CRM}/token"
URL = f"{CRM}/api/crm/status/create"
PAYLOAD = {"status_no": "VIP", "status_name": "Khách VIP"}
PASSWORD = "sandbox-password"
PASSWORD_GRANT = {"grant_type": "password", "username": "sandbox", "password": PASSWORD}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def token_answer(n: int, expires_in: int = 899) -> dict:
    return {
        "access_token": f"ACCESS-{n}-d41d8cd98f00b204",
        "token_type": "bearer",
        "expires_in": expires_in,
        "refresh_token": f"REFRESH-{n}-e9800998ecf8427e",
    }


def access(n: int) -> str:
    return token_answer(n)["access_token"]


def refresh_grant(n: int) -> dict:
    return {"grant_type": "refresh_token", "refresh_token": token_answer(n)["refresh_token"]}


def bearer(n: int):
    return matchers.header_matcher({"Authorization": f"Bearer {access(n)}"})


def grant(crm, form: dict, answer: dict | None = None, **kwargs):
    if answer is not None:
        kwargs["json"] = answer
    crm.post(
        TOKEN_URL,
        match=[matchers.urlencoded_params_matcher(form), matchers.header_matcher(FORM)],
        **kwargs,
    )


def operations() -> list[tuple[str, str, str]]:
    return [(e.operation, e.outcome, e.failure_kind) for e in AuditEntry.objects.order_by("id")]


@pytest.fixture
def clock(monkeypatch):
    """The token module's clock, moved by hand: ``clock.now = ...``."""

    class Clock:
        now = 1_000_000.0

    monkeypatch.setattr(auth, "_now", lambda: Clock.now)
    return Clock


@pytest.mark.django_db
def test_one_password_grant_serves_many_calls(crm, token_grants):
    grant(crm, PASSWORD_GRANT, token_answer(1))
    crm.post(URL, json=envelope(data="VIP"), match=[bearer(1)])

    for _ in range(3):
        call("status.create", PAYLOAD)

    assert [c.request.url for c in crm.calls].count(TOKEN_URL) == 1
    # Each call's entry is written first; the grant it needed follows it.
    assert operations() == [
        ("status.create", Outcome.SUCCEEDED, ""),
        ("auth.token", Outcome.SUCCEEDED, ""),
        ("status.create", Outcome.SUCCEEDED, ""),
        ("status.create", Outcome.SUCCEEDED, ""),
    ]
    grant_entry = AuditEntry.objects.get(operation="auth.token")
    assert grant_entry.request_body == {"grant_type": "password", "username": "sandbox"}
    assert grant_entry.upstream_data == {"token_type": "bearer", "expires_in": 899}
    assert grant_entry.http_status == 200
    assert "Authorization" not in crm.calls[0].request.headers


@pytest.mark.django_db
def test_a_token_cached_by_another_worker_is_used_without_a_grant(crm, token_grants, clock):
    cache.set(
        auth.cache_key(),
        {
            "access_token": access(7),
            "refresh_token": "REFRESH-7",
            "expires_at": clock.now + 100,
        },
        timeout=None,
    )
    crm.post(URL, json=envelope(data="VIP"), match=[bearer(7)])

    call("status.create", PAYLOAD)

    assert operations() == [("status.create", Outcome.SUCCEEDED, "")]


@pytest.mark.django_db
def test_the_token_is_renewed_with_the_refresh_token_shortly_before_it_expires(
    crm, token_grants, clock, settings
):
    settings.CRM_TOKEN_MARGIN = 60
    grant(crm, PASSWORD_GRANT, token_answer(1, expires_in=899))
    grant(crm, refresh_grant(1), token_answer(2, expires_in=899))
    crm.post(URL, json=envelope(data="VIP"), match=[bearer(1)])
    crm.post(URL, json=envelope(data="VIP"), match=[bearer(2)])

    call("status.create", PAYLOAD)
    clock.now += 899 - 61  # still 61 s to go: the margin is not reached
    call("status.create", PAYLOAD)
    clock.now += 2  # 59 s to go: inside the margin, renew first
    call("status.create", PAYLOAD)

    token_requests = [c.request.body for c in crm.calls if c.request.url == TOKEN_URL]
    assert len(token_requests) == 2
    assert "grant_type=refresh_token" in token_requests[1]
    grants = AuditEntry.objects.filter(operation="auth.token").order_by("id")
    assert [e.request_body for e in grants] == [
        {"grant_type": "password", "username": "sandbox"},
        {"grant_type": "refresh_token"},
    ]


@pytest.mark.django_db
def test_a_refused_refresh_falls_back_to_the_password_grant(crm, token_grants, clock):
    grant(crm, PASSWORD_GRANT, token_answer(1))
    grant(
        crm,
        refresh_grant(1),
        status=400,
        json={"error": "invalid_grant", "error_description": "The refresh token is expired."},
    )
    grant(crm, PASSWORD_GRANT, token_answer(2))
    crm.post(URL, json=envelope(data="VIP"), match=[bearer(1)])
    crm.post(URL, json=envelope(data="VIP"), match=[bearer(2)])

    call("status.create", PAYLOAD)
    clock.now += 10_000
    call("status.create", PAYLOAD)

    assert operations() == [
        ("status.create", Outcome.SUCCEEDED, ""),
        ("auth.token", Outcome.SUCCEEDED, ""),
        ("status.create", Outcome.SUCCEEDED, ""),
        ("auth.token", Outcome.FAILED, FailureKind.UNAUTHORIZED),
        ("auth.token", Outcome.SUCCEEDED, ""),
    ]
    refused = AuditEntry.objects.filter(operation="auth.token", outcome=Outcome.FAILED).get()
    assert (refused.http_status, refused.upstream_error, refused.upstream_message) == (
        400,
        "invalid_grant",
        "The refresh token is expired.",
    )


@pytest.mark.django_db
def test_a_401_renews_the_token_once_and_retries_the_call_once(crm, token_grants):
    grant(crm, PASSWORD_GRANT, token_answer(1))
    grant(crm, refresh_grant(1), token_answer(2))
    crm.post(URL, status=401, match=[bearer(1)])
    crm.post(URL, json=envelope(data="VIP"), match=[bearer(2)])

    result = call("status.create", PAYLOAD)

    assert result.data == "VIP"
    calls = [c.request for c in crm.calls if c.request.url == URL]
    assert len(calls) == 2
    # The retry is the same call: same body, same request id.
    assert calls[0].body == calls[1].body
    assert calls[0].headers["X-Request-ID"] == calls[1].headers["X-Request-ID"]
    assert calls[1].headers["X-Request-ID"] == result.request_id
    assert operations() == [
        ("status.create", Outcome.SUCCEEDED, ""),
        ("auth.token", Outcome.SUCCEEDED, ""),  # password grant before the first try
        ("auth.token", Outcome.SUCCEEDED, ""),  # refresh grant after the 401
    ]


@pytest.mark.django_db
def test_a_second_401_is_final(crm, token_grants):
    grant(crm, PASSWORD_GRANT, token_answer(1))
    grant(crm, refresh_grant(1), token_answer(2))
    crm.post(URL, status=401, match=[bearer(1)])
    crm.post(URL, status=401, match=[bearer(2)])

    with pytest.raises(UpstreamUnauthorized) as caught:
        call("status.create", PAYLOAD)

    assert len([c for c in crm.calls if c.request.url == URL]) == 2
    entry = AuditEntry.objects.get(operation="status.create")
    assert caught.value.request_id == entry.request_id
    assert (entry.outcome, entry.failure_kind, entry.http_status) == (
        Outcome.FAILED,
        FailureKind.UNAUTHORIZED,
        401,
    )


@pytest.mark.django_db
def test_refused_credentials_fail_the_call_without_sending_it(crm, token_grants):
    grant(
        crm,
        PASSWORD_GRANT,
        status=400,
        json={
            "error": "invalid_grant",
            "error_description": "The user name or password is incorrect.",
        },
    )

    with pytest.raises(UpstreamUnauthorized) as caught:
        call("status.create", PAYLOAD)

    assert [c.request.url for c in crm.calls] == [TOKEN_URL]
    assert operations() == [
        ("status.create", Outcome.FAILED, FailureKind.UNAUTHORIZED),
        ("auth.token", Outcome.FAILED, FailureKind.UNAUTHORIZED),
    ]
    entry = AuditEntry.objects.get(operation="status.create")
    grant_entry = AuditEntry.objects.get(operation="auth.token")
    assert caught.value.request_id == entry.request_id
    assert entry.error_detail.startswith(
        f"No call was sent: the token request {grant_entry.request_id} failed."
    )
    assert caught.value.error_code == "invalid_grant"


@pytest.mark.django_db
def test_an_unreachable_token_endpoint_is_a_timeout_of_the_call(crm, token_grants):
    grant(crm, PASSWORD_GRANT, body=requests.exceptions.ReadTimeout())

    with pytest.raises(UpstreamTimeout):
        call("status.create", PAYLOAD)

    assert operations() == [
        ("status.create", Outcome.FAILED, FailureKind.TIMEOUT),
        ("auth.token", Outcome.FAILED, FailureKind.TIMEOUT),
    ]


@pytest.mark.django_db
def test_a_static_token_never_asks_for_one(crm, static_token):
    crm.post(
        URL,
        json=envelope(data="VIP"),
        match=[matchers.header_matcher({"Authorization": "Bearer test-token"})],
    )
    for _ in range(2):
        call("status.create", PAYLOAD)
    assert all(c.request.url == URL for c in crm.calls)
    assert not AuditEntry.objects.filter(operation="auth.token").exists()


@pytest.mark.django_db
def test_no_secret_reaches_an_audit_entry_a_log_line_or_an_error(crm, token_grants, clock, caplog):
    """Every grant path at once: password, refresh, refused refresh, 401 renewal, failures."""
    grant(crm, PASSWORD_GRANT, token_answer(1))
    grant(crm, refresh_grant(1), token_answer(2))
    grant(
        crm,
        refresh_grant(2),
        status=400,
        json={"error": "invalid_grant", "error_description": "expired"},
    )
    grant(crm, PASSWORD_GRANT, token_answer(3))
    crm.post(URL, json=envelope(data="VIP"), match=[bearer(1)])
    crm.post(URL, status=401, match=[bearer(2)])
    crm.post(URL, status=401, match=[bearer(3)])
    errors = []

    with caplog.at_level(logging.DEBUG):
        call("status.create", PAYLOAD)
        clock.now += 10_000
        try:
            call("status.create", PAYLOAD)
        except UpstreamUnauthorized as exc:
            errors.append(f"{exc} {exc!r} {exc.user_message} {exc.detail}")

    assert len(errors) == 1
    secrets = [PASSWORD] + [
        token_answer(n)[key] for n in (1, 2, 3) for key in ("access_token", "refresh_token")
    ]
    rows = json.dumps(list(AuditEntry.objects.values()), default=str, ensure_ascii=False)
    assert AuditEntry.objects.filter(operation="auth.token").count() == 4
    for secret in secrets:
        assert secret not in rows
        assert secret not in caplog.text
        assert secret not in errors[0]


@pytest.mark.django_db
def test_a_401_whose_renewal_is_refused_is_not_retried(crm, token_grants):
    refused = {"error": "invalid_grant", "error_description": "The account is locked."}
    grant(crm, PASSWORD_GRANT, token_answer(1))
    crm.post(URL, status=401, match=[bearer(1)])
    grant(crm, refresh_grant(1), status=400, json=refused)
    grant(crm, PASSWORD_GRANT, status=400, json=refused)

    with pytest.raises(UpstreamUnauthorized) as caught:
        call("status.create", PAYLOAD)

    assert len([c for c in crm.calls if c.request.url == URL]) == 1
    assert caught.value.upstream_message == "The account is locked."
    entry = AuditEntry.objects.get(operation="status.create")
    assert (entry.failure_kind, entry.http_status) == (FailureKind.UNAUTHORIZED, 401)
    assert entry.error_detail.startswith(
        "The CRM answered 401 and the token could not be renewed, so the call was not retried"
    )
    assert operations() == [
        ("status.create", Outcome.FAILED, FailureKind.UNAUTHORIZED),
        ("auth.token", Outcome.SUCCEEDED, ""),
        ("auth.token", Outcome.FAILED, FailureKind.UNAUTHORIZED),
        ("auth.token", Outcome.FAILED, FailureKind.UNAUTHORIZED),
    ]
