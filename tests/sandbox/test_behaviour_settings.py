"""Settings that make the sandbox slow or unreliable, for demos and tests."""

import pytest

from crmadmin.sandbox import views
from crmadmin.sandbox.models import SandboxCode
from tests.sandbox.helpers import STATUS, ok, password_grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def sleeps(monkeypatch):
    """The sandbox's sleeps, recorded instead of slept."""
    recorded = []
    monkeypatch.setattr(views, "sleep", recorded.append)
    return recorded


def test_latency_delays_every_answer(crm, client, settings, sleeps):
    settings.CRM_SANDBOX_LATENCY_MS = 250

    password_grant(client)
    crm("status/create", STATUS)
    crm("status/create", STATUS)

    assert sleeps == [0.25, 0.25, 0.25]


def test_no_latency_by_default(crm, sleeps):
    assert crm("status/create", STATUS).json() == ok("VIP")

    assert sleeps == []


def test_a_failure_rate_of_one_fails_every_call_with_503_and_changes_nothing(crm, settings):
    settings.CRM_SANDBOX_FAILURE_RATE = 1.0

    for _ in range(5):
        response = crm("status/create", STATUS)
        assert response.status_code == 503
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert b"Service Unavailable" in response.content
    assert not SandboxCode.objects.exists()


def test_the_failure_rate_spares_the_token_endpoint(client, settings):
    settings.CRM_SANDBOX_FAILURE_RATE = 1.0

    assert password_grant(client).status_code == 200


def test_failures_come_before_authorization(client, db, settings):
    settings.CRM_SANDBOX_FAILURE_RATE = 1.0

    response = client.post("/sandbox/api/crm/status/create", "{}", content_type="application/json")

    assert response.status_code == 503


def test_a_partial_failure_rate_fails_that_share_of_calls(crm, settings, monkeypatch):
    settings.CRM_SANDBOX_FAILURE_RATE = 0.5
    draws = iter([0.49, 0.5, 0.99, 0.0])
    monkeypatch.setattr(views.random, "random", lambda: next(draws))

    statuses = [
        crm("status/create", {"status_no": f"S{n}", "status_name": "x"}).status_code
        for n in range(4)
    ]

    assert statuses == [503, 200, 200, 503]
    assert set(SandboxCode.objects.values_list("code", flat=True)) == {"S1", "S2"}
