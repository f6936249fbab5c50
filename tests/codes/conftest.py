"""Reference-code tests: the CRM is ``responses`` (static token), the register is real."""

import pytest

from crmadmin.kinds import REFERENCE_KINDS as KINDS


@pytest.fixture
def admin_client(client_as):
    return client_as("administrator")


def make_record(slug: str, code: str, name: str = "", **details):
    """A record put straight into the register (as an import would)."""
    kind = KINDS[slug]
    if slug == "fields":
        details.setdefault("field_type", "text")
    return kind.model.objects.create(code=code, name=name or code.title(), **details)
