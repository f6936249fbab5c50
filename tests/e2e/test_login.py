"""Real Chromium: a person signs in through the form and sees their role's navigation."""

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VISIBLE = {
    "support": ["Customers", "Statuses", "Types", "Groups", "Fields"],
    "manager": ["Customers", "Statuses", "Types", "Groups", "Fields", "Audit log", "Activity"],
}


@pytest.mark.parametrize("role", list(VISIBLE))
def test_sign_in_shows_home_and_the_roles_navigation(page, live_server, make_user, role):
    user = make_user(role)
    page.goto(f"{live_server.url}/customers/")
    assert page.url.startswith(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/customers/$"))

    page.goto(f"{live_server.url}/")
    assert page.get_by_role("heading", level=1).inner_text() == f"Hello, {user.username}"
    nav = page.get_by_role("navigation", name="Main")
    links = [text.strip() for text in nav.locator(".nav-links a").all_inner_texts()]
    assert links == VISIBLE[role]
    assert nav.get_by_role("button", name="Sign out").is_visible()


def test_wrong_password_stays_on_the_login_page_with_a_message(page, live_server, make_user):
    user = make_user("support")
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("Your username and password")
    assert page.get_by_label("Username").input_value() == user.username
