"""Each role sees exactly the navigation entries it may open."""

import re

import pytest

ALL_ENTRIES = {"customers", "statuses", "types", "groups", "fields", "audit", "activity"}
EXPECTED = {
    "support": {"customers", "statuses", "types", "groups", "fields"},
    "administrator": {"customers", "statuses", "types", "groups", "fields"},
    "manager": ALL_ENTRIES,
    "superuser": ALL_ENTRIES,
    None: set(),
}


def nav_keys(html: str) -> set[str]:
    return set(re.findall(r'data-nav="([a-z]+)"', html)) - {"user", "logout", "admin"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(EXPECTED))
def test_navigation_shows_only_what_the_role_may_open(client_as, role):
    client = client_as(role)
    html = client.get("/").content.decode()
    assert nav_keys(html) == EXPECTED[role]
    assert 'data-nav="logout"' in html
    assert ('data-nav="admin"' in html) == (role == "superuser")


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(EXPECTED))
def test_home_greets_the_user_and_links_what_they_may_use(client_as, role):
    client = client_as(role)
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Hello, {client.user.username}" in html
    if role is None:
        assert "has no role yet" in html
    for entry in EXPECTED[role]:
        assert f'data-nav="{entry}"' in html
