"""Real Chromium: a support user finds an unknown create in "Needs attention", resolves
it with one click, and finds the customer in the list."""

import pytest
from playwright.sync_api import expect

from crmadmin.customers import services as customer_services

from .conftest import assert_register_equals_sandbox, crash_after_answer, customer_values

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_support_resolves_an_unknown_create_and_finds_the_customer(
    page, live_server, browser_login, support_user, codes, superuser
):
    with crash_after_answer():
        customer_services.customer_create(actor=superuser, code="KH0001", **customer_values(codes))
    base = live_server.url
    browser_login(page, support_user)

    attention = page.locator('[data-nav="attention"]')
    expect(attention).to_contain_text("Needs attention 1")
    attention.click()
    row = page.locator("table.attention tbody tr")
    expect(row).to_have_count(1)
    expect(row.first).to_contain_text("Outcome unknown")
    expect(row.first).to_contain_text("customer.create")
    row.first.get_by_role("link", name="Resolve").click()
    page.get_by_role("button", name="Find out and repair").click()

    page.wait_for_url(f"{base}/attention/")
    expect(
        page.get_by_text("The CRM has the record and now holds what was intended")
    ).to_be_visible()
    expect(page.get_by_text("Nothing needs attention")).to_be_visible()

    page.goto(f"{base}/customers/")
    page.get_by_role("searchbox").press_sequentially("nguyen van an", delay=20)
    rows = page.locator("table.customers tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("KH0001")
    assert_register_equals_sandbox()
