"""Reference-code tests: the CRM is ``responses`` (static token), the register is real."""

import pytest
import responses
from responses import matchers

from crmadmin.codes.kinds import KINDS

CRM = "http://crm.example.test"
TENANT = {"vbot_id": "VBOT-TEST", "project_code": "PRJ-TEST"}
STATIC_TOKEN = "test-token"


def envelope(data="OK", status=1, error=0, message="success"):
    return {"status": status, "error": error, "message": message, "data": data}


@pytest.fixture
def crm(settings):
    """The fake CRM: every registered answer must be used, and nothing else is reachable."""
    settings.CRM_API_TOKEN = STATIC_TOKEN
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def expect_call(mock, path: str, wire: dict, **answer):
    """Register one CRM answer that matches only the exact body (tenant pair added) and token."""
    return mock.post(
        f"{CRM}{path}",
        match=[
            matchers.json_params_matcher({**TENANT, **wire}, strict_match=True),
            matchers.header_matcher({"Authorization": f"Bearer {STATIC_TOKEN}"}),
        ],
        **answer,
    )


@pytest.fixture
def admin_client(client_as):
    return client_as("administrator")


def make_record(slug: str, code: str, name: str = "", **details):
    """A record put straight into the register (as an import would)."""
    kind = KINDS[slug]
    if slug == "fields":
        details.setdefault("field_type", "text")
    return kind.model.objects.create(code=code, name=name or code.title(), **details)
