"""Who may open what: every role, every screen of every kind, GET and POST."""

import re

import pytest
import responses
from django.conf import settings as django_settings
from django.urls import reverse

from crmadmin.audit.models import AuditEntry
from crmadmin.kinds import REFERENCE_KINDS as KINDS
from tests.crm import envelope

from .conftest import make_record

pytestmark = pytest.mark.django_db

ROLES = ["support", "administrator", "manager", "superuser", None, "anonymous"]
WRITERS = {"administrator", "superuser"}
READERS = {"support", "manager", *WRITERS}


def form_data(slug, data):
    """A valid form for the screen; custom fields also need their type."""
    return {**data, "field_type": "text"} if slug == "fields" and "name" in data else data


SCREENS = {
    "list": (lambda slug: reverse("codes:list", kwargs={"kind": slug}), {}),
    "new": (
        lambda slug: reverse("codes:create", kwargs={"kind": slug}),
        {"code": "MOI", "name": "Mới"},
    ),
    "edit": (
        lambda slug: reverse("codes:edit", kwargs={"kind": slug, "code": "VIP"}),
        {"name": "Khách VIP"},
    ),
    "rename": (
        lambda slug: reverse("codes:rename", kwargs={"kind": slug, "code": "VIP"}),
        {"new_code": "VIP2"},
    ),
    "delete": (lambda slug: reverse("codes:delete", kwargs={"kind": slug, "code": "VIP"}), {}),
}


def expected_status(role, screen, method):
    if role == "anonymous":
        return 302  # to the sign-in page, whatever the method
    if screen == "list":
        if method == "POST":
            return 405
        return 200 if role in READERS else 403
    if role not in WRITERS:
        return 403
    return 200 if method == "GET" else 302


@pytest.fixture
def crm_accepting_everything(settings):
    settings.CRM_API_TOKEN = "test-token"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(re.compile(r"http://crm\.example\.test/api/crm/.*"), json=envelope())
        yield mock


@pytest.mark.parametrize("slug", sorted(KINDS))
@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("role", ROLES, ids=lambda role: str(role))
def test_permission_matrix(client, make_user, crm_accepting_everything, role, screen, method, slug):
    make_record(slug, "VIP", "Khách VIP")
    if role != "anonymous":
        client.force_login(make_user(role))
    url_of, data = SCREENS[screen]
    url = url_of(slug)

    response = client.get(url) if method == "GET" else client.post(url, form_data(slug, data))

    expected = expected_status(role, screen, method)
    assert response.status_code == expected
    if role == "anonymous":
        assert response["Location"].startswith(f"{reverse(django_settings.LOGIN_URL)}?next=")
    if expected == 403:
        assert "You may not open this page" in response.content.decode()
    wrote = expected == 302 and role != "anonymous"
    assert len(crm_accepting_everything.calls) == (1 if wrote else 0)
    assert AuditEntry.objects.exclude(operation="auth.token").count() == (1 if wrote else 0)


@pytest.mark.parametrize("role", ["support", "manager"])
def test_readers_see_no_write_buttons(client_as, role):
    make_record("statuses", "VIP", "Khách VIP")

    page = client_as(role).get(reverse("codes:list", kwargs={"kind": "statuses"})).content.decode()

    assert 'data-code="VIP"' in page
    for action in ("new", "edit", "rename", "delete"):
        assert f'data-action="{action}"' not in page
    assert "/codes/statuses/new/" not in page
    assert "/codes/statuses/VIP/edit/" not in page


@pytest.mark.parametrize("role", ["administrator", "superuser"])
def test_writers_see_every_write_button(client_as, role):
    make_record("statuses", "VIP", "Khách VIP")

    page = client_as(role).get(reverse("codes:list", kwargs={"kind": "statuses"})).content.decode()

    assert 'href="/codes/statuses/new/" data-action="new"' in page
    assert 'href="/codes/statuses/VIP/edit/" data-action="edit"' in page
    assert 'href="/codes/statuses/VIP/rename/" data-action="rename"' in page
    assert 'href="/codes/statuses/VIP/delete/" data-action="delete"' in page
