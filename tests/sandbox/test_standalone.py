"""The sandbox served on its own (``crmadmin.sandbox.wsgi``, as bench/bulk_job.py runs
it): the CRM's calls answer as when the dashboard mounts it, and nothing else is served."""

import json

import pytest
from django.test import override_settings

from crmadmin.sandbox import standalone
from tests.crm import TENANT
from tests.sandbox.helpers import CUSTOMER, FIELD, GROUP, STATUS, TYPE, ok, password_grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def alone():
    with override_settings(ROOT_URLCONF=standalone.ROOT_URLCONF, MIDDLEWARE=standalone.MIDDLEWARE):
        yield


def test_the_sandbox_alone_grants_tokens_and_answers_calls_at_the_same_addresses(alone, client):
    grant = password_grant(client)
    assert grant.status_code == 200
    token = grant.json()["access_token"]

    answers = [
        client.post(
            f"/sandbox/api/crm/{path}",
            json.dumps({**TENANT, **body}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        for path, body in (
            ("status/create", STATUS),
            ("type/create", TYPE),
            ("group/create", GROUP),
            ("field/create", FIELD),
            ("customer/create", CUSTOMER),
            ("customer/update", {**CUSTOMER, "customer_name": "Trần Thị Bình"}),
        )
    ]

    assert [answer.json() for answer in answers] == [
        ok("VIP"),
        ok("LE"),
        ok("HN"),
        ok("NGAY_SINH"),
        ok("KH001"),
        ok("KH001"),
    ]
    # No session, CSRF or language cookie: the API keeps no state per client.
    assert not any(answer.cookies for answer in (grant, *answers))


def test_the_sandbox_alone_serves_no_dashboard_page(alone, client):
    response = client.get("/customers/")
    assert response.status_code == 404
    assert "No HTTP resource" in response.json()["message"]
    assert client.get("/sandbox/api/crm/customer/update").status_code == 405


def test_the_sandbox_alone_keeps_its_database_connections_and_changes_no_other_settings(
    settings,
):
    assert standalone.DATABASES["default"]["CONN_MAX_AGE"] is None
    assert "crmadmin.sandbox" in standalone.INSTALLED_APPS
    # Importing it edited none of the project's own settings objects.
    assert (
        settings.DATABASES["default"]["CONN_MAX_AGE"]
        != standalone.DATABASES["default"]["CONN_MAX_AGE"]
    )
    assert settings.MIDDLEWARE
