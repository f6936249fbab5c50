"""Client tests: the CRM is ``responses``; no request leaves the process."""

import pytest
from django.core.cache import cache

from tests.crm import fake_crm


@pytest.fixture
def crm():
    """The fake CRM without a token: each test asks for ``static_token`` or ``token_grants``."""
    with fake_crm() as mock:
        yield mock


@pytest.fixture
def token_grants(settings):
    """Password/refresh grants at /token (no static token); starts with an empty cache."""
    settings.CRM_API_TOKEN = ""
    cache.clear()
    yield
    cache.clear()
