"""Every page needs a signed-in user; the health check does not."""

import re

import pytest
from django.db import DatabaseError
from django.urls import URLPattern, URLResolver, get_resolver

SAMPLE_VALUES = {"kind": "statuses", "pk": "1", "id": "1", "entry_id": "1"}
PUBLIC_NAMESPACES = {"admin", "sandbox"}  # admin has its own login; sandbox speaks OAuth.
PUBLIC_NAMES = {"login", "logout", "healthz", "set_language"}


def _walk(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            space = pattern.namespace or namespace
            if space in PUBLIC_NAMESPACES:
                continue
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), space)
        elif isinstance(pattern, URLPattern) and pattern.name not in PUBLIC_NAMES:
            yield prefix + str(pattern.pattern)


def _sample_path(route: str) -> str:
    def value(match):
        converter, _, name = match.group(1).rpartition(":")
        return SAMPLE_VALUES.get(name, "1" if converter == "int" else "X1")

    return "/" + re.sub(r"<([^>]+)>", value, route)


PAGES = sorted({_sample_path(route) for route in _walk(get_resolver().url_patterns)})


def test_every_area_is_covered():
    assert {"/", "/customers/", "/codes/statuses/", "/audit/"} <= set(PAGES)


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_anonymous_request_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.django_db
def test_healthz_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_healthz_says_503_when_the_database_is_unreachable(client, monkeypatch):
    from crmadmin.core import views

    class BrokenConnection:
        def cursor(self):
            raise DatabaseError("connection refused")

    monkeypatch.setattr(views, "connection", BrokenConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


@pytest.mark.django_db
def test_login_page_renders_the_form(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "landing"),
    [
        # Issue 10 item 8: Support's work is the customers, so they land there.
        ("support", "/customers/"),
        ("administrator", "/"),
        ("manager", "/"),
        ("superuser", "/"),
        (None, "/"),
    ],
)
def test_signing_in_through_the_form_lands_on_home(client, make_user, role, landing):
    user = make_user(role)
    response = client.post(
        "/login/", {"username": user.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert response["Location"] == landing


@pytest.mark.django_db
def test_wrong_password_is_refused_with_a_message(client, support_user):
    response = client.post("/login/", {"username": support_user.username, "password": "nope"})
    assert response.status_code == 200
    assert b"match. Please try again." in response.content


@pytest.mark.django_db
def test_sign_out_needs_a_post_and_ends_the_session(client, support_user):
    client.force_login(support_user)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_pages_send_a_strict_content_security_policy(client, support_user):
    client.force_login(support_user)
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy
