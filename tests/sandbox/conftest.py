"""Fixtures for talking to the sandbox through Django's test client."""

import json

import pytest

from tests.crm import TENANT
from tests.sandbox.helpers import CUSTOMER, FIELD, GROUP, STATUS, TYPE, password_grant


@pytest.fixture
def access_token(client, db):
    response = password_grant(client)
    assert response.status_code == 200
    return response.json()["access_token"]


@pytest.fixture
def crm(client, access_token):
    """``crm("status/create", {...})`` → the sandbox's response; the tenant pair is added."""

    def call(path: str, body: dict | None = None, *, token: str | None = None, raw=None):
        content = raw if raw is not None else json.dumps({**TENANT, **(body or {})})
        return client.post(
            f"/sandbox/api/crm/{path}",
            content,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token or access_token}"},
        )

    return call


@pytest.fixture
def codes(crm):
    """One status, type, group and custom field in the sandbox, as CUSTOMER expects."""
    for path, body in (
        ("status/create", STATUS),
        ("type/create", TYPE),
        ("group/create", GROUP),
        ("field/create", FIELD),
    ):
        assert crm(path, body).json()["status"] == 1
    return crm


@pytest.fixture
def customer(codes):
    assert codes("customer/create", CUSTOMER).json()["status"] == 1
    return codes
