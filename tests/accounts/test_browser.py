"""In Chromium: someone guesses a password until locked out; a manager finds it all in
the audit log's local events, and an administrator unlocks the account."""

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_lock_out_is_shown_recorded_and_lifted(
    live_server, page, browser_login, make_user, manager_user, superuser, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    make_user("support", username="lan")

    for _ in range(3):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "lan")
        page.fill("#id_password", "not-the-password")
        page.click("#main button[type=submit]")
    expect(page.get_by_role("heading", name="Sign-in locked")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("after 3 failed sign-ins in a row")

    # The right password is refused too while the lock lasts.
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "lan")
    page.fill("#id_password", PASSWORD)
    page.click("#main button[type=submit]")
    expect(page.get_by_role("heading", name="Sign-in locked")).to_be_visible()

    context = page.context
    context.clear_cookies()
    browser_login(page, manager_user)
    page.goto(f"{live_server.url}/audit/")
    page.select_option("select[name=record_kind]", "local")
    page.click("#audit-filters button[type=submit]")
    expect(page.locator("tbody")).to_contain_text("sign-in lock-out")
    expect(page.locator("tbody")).to_contain_text("failed sign-in")

    context.clear_cookies()
    browser_login(page, superuser)
    page.goto(f"{live_server.url}/admin/axes/accessattempt/")
    expect(page.locator("#result_list")).to_contain_text("lan")
    page.goto(f"{live_server.url}/admin/axes/accessattempt/{_attempt_id('lan')}/delete/")
    page.locator("#content form input[type=submit]").click()
    expect(page.locator(".messagelist")).to_contain_text("deleted successfully")

    context.clear_cookies()
    browser_login(page, _user("lan"))
    # Unlocked, she signs in and lands where Support lands: on Customers.
    expect(page).to_have_url(f"{live_server.url}/customers/")


def _user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def _attempt_id(username):
    from axes.models import AccessAttempt

    return AccessAttempt.objects.get(username=username).pk
