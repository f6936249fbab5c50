"""Client tests: the CRM is ``responses``; no request leaves the process."""

import pytest
import responses
from django.core.cache import cache

CRM = "http://crm.example.test"
TENANT = {"vbot_id": "VBOT-TEST", "project_code": "PRJ-TEST"}
STATIC_TOKEN = "test-token"


def envelope(data="OK", status=1, error=0, message="success"):
    return {"status": status, "error": error, "message": message, "data": data}


@pytest.fixture
def crm():
    """The fake CRM: every registered answer must be used, and nothing else is reachable."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def static_token(settings):
    settings.CRM_API_TOKEN = STATIC_TOKEN
    return STATIC_TOKEN


@pytest.fixture
def token_grants(settings):
    """Password/refresh grants at /token (no static token); starts with an empty cache."""
    settings.CRM_API_TOKEN = ""
    cache.clear()
    yield
    cache.clear()
