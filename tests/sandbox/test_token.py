"""The sandbox's /token: OAuth-style password and refresh grants, expiring tokens."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from crmadmin.sandbox.models import SandboxToken
from tests.crm import TENANT
from tests.sandbox.helpers import STATUS, ok, password_grant

pytestmark = pytest.mark.django_db


def _status_create(client, token):
    return client.post(
        "/sandbox/api/crm/status/create",
        json.dumps({**TENANT, **STATUS}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_password_grant_answers_a_bearer_token_pair(client, settings):
    settings.CRM_SANDBOX_TOKEN_LIFETIME = 1234
    response = password_grant(client)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1234
    assert len(body["access_token"]) >= 40
    assert body["access_token"] != body["refresh_token"]
    assert _status_create(client, body["access_token"]).json() == ok("VIP")


def test_tokens_are_stored_only_as_digests(client):
    body = password_grant(client).json()

    stored = set(SandboxToken.objects.values_list("digest", flat=True))
    assert len(stored) == 2
    assert body["access_token"] not in stored
    assert body["refresh_token"] not in stored


def test_credentials_are_read_from_settings_at_request_time(client, settings):
    settings.CRM_USERNAME = "other-account"
    settings.CRM_PASSWORD = "other-password"

    assert password_grant(client).status_code == 400
    assert password_grant(client, "other-account", "other-password").status_code == 200


@pytest.mark.parametrize(
    ("username", "password"),
    [("sandbox", "wrong"), ("intruder", "sandbox-password"), ("", ""), ("sandbox", "")],
)
def test_wrong_credentials_are_an_invalid_grant(client, username, password):
    response = password_grant(client, username, password)

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "The user name or password is incorrect.",
    }
    assert not SandboxToken.objects.exists()


@pytest.mark.parametrize("grant_type", ["client_credentials", ""])
def test_unknown_grant_type_is_unsupported(client, grant_type):
    response = client.post("/sandbox/token", {"grant_type": grant_type})

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_a_json_body_is_not_a_grant(client):
    response = client.post(
        "/sandbox/token",
        json.dumps({"grant_type": "password", "username": "sandbox", "password": "x"}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_refresh_grant_issues_a_new_pair_and_spends_the_refresh_token(client):
    first = password_grant(client).json()

    response = client.post(
        "/sandbox/token", {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert response.status_code == 200
    second = response.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert _status_create(client, second["access_token"]).json() == ok("VIP")

    again = client.post(
        "/sandbox/token", {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "The refresh token is invalid or has expired.",
    }


@pytest.mark.parametrize("refresh_token", ["", "made-up"])
def test_unknown_refresh_token_is_an_invalid_grant(client, refresh_token):
    response = client.post(
        "/sandbox/token", {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_an_access_token_is_not_a_refresh_token(client):
    pair = password_grant(client).json()

    response = client.post(
        "/sandbox/token", {"grant_type": "refresh_token", "refresh_token": pair["access_token"]}
    )

    assert response.status_code == 400


def test_expired_tokens_are_refused_and_purged(client):
    pair = password_grant(client).json()
    SandboxToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert _status_create(client, pair["access_token"]).status_code == 401
    refreshed = client.post(
        "/sandbox/token", {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
    )
    assert refreshed.status_code == 400

    password_grant(client)
    assert SandboxToken.objects.count() == 2
    assert not SandboxToken.objects.filter(expires_at__lte=timezone.now()).exists()


def test_token_path_is_case_insensitive_and_post_only(client):
    assert client.post("/sandbox/TOKEN", {"grant_type": "password"}).status_code == 400

    response = client.get("/sandbox/token")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
