"""An administrator's round trip in Chromium, against the sandbox over real HTTP."""

import re

import pytest
from playwright.sync_api import expect

from crmadmin.audit.models import AuditEntry
from crmadmin.codes.models import Status

from .conftest import make_record


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_administrator_creates_finds_renames_edits_and_deletes_a_status(
    live_server, sandbox_upstream, page, browser_login, administrator_user
):
    # Already in the register (not in the sandbox): only there to be filtered away.
    make_record("statuses", "MOI", "Mới")
    make_record("statuses", "NGUNG", "Ngừng giao dịch")
    statuses = f"{live_server.url}/codes/statuses/"
    browser_login(page, administrator_user)

    # Create.
    page.goto(statuses)
    page.click("[data-action=new]")
    page.fill("#id_code", "KH_THAN_THIET")
    page.fill("#id_name", "Khách thân thiết")
    page.click("button.primary[type=submit]")
    page.wait_for_url(statuses)
    expect(page.locator("#messages")).to_contain_text("KH_THAN_THIET was created")
    expect(page.locator("tbody tr")).to_have_count(3)

    # Live search: typing narrows the table in place and keeps the address bar in step.
    page.fill("#code-q", "than thiet")
    expect(page.locator("tbody tr")).to_have_count(1)
    row = page.locator("tr[data-code=KH_THAN_THIET]")
    expect(row).to_contain_text("Khách thân thiết")
    expect(page).to_have_url(re.compile(r"/codes/statuses/\?q=than(\+|%20)thiet&sort=code$"))
    expect(page.locator("h1")).to_have_text("Customer statuses")  # the page was not reloaded

    # Change the code.
    row.locator("[data-action=rename]").click()
    page.fill("#id_new_code", "THAN_THIET")
    page.click("button.primary[type=submit]")
    page.wait_for_url(statuses)
    expect(page.locator("#messages")).to_contain_text("KH_THAN_THIET is now THAN_THIET")

    # Edit the name.
    page.locator("tr[data-code=THAN_THIET] [data-action=edit]").click()
    page.fill("#id_name", "Khách hàng thân thiết")
    page.click("button.primary[type=submit]")
    page.wait_for_url(statuses)
    expect(page.locator("tr[data-code=THAN_THIET]")).to_contain_text("Khách hàng thân thiết")

    # Delete, after the confirmation page.
    page.locator("tr[data-code=THAN_THIET] [data-action=delete]").click()
    expect(page.locator("[data-usage]")).to_have_text("0 customers have this status.")
    page.click("button.danger[type=submit]")
    page.wait_for_url(statuses)
    expect(page.locator("#messages")).to_contain_text("THAN_THIET was deleted")
    expect(page.locator("tr[data-code=THAN_THIET]")).to_have_count(0)

    assert sorted(Status.objects.values_list("code", flat=True)) == ["MOI", "NGUNG"]
    entries = AuditEntry.objects.filter(record_kind="status").order_by("started_at", "id")
    assert [(e.operation, e.code, e.new_code, e.outcome, e.actor) for e in entries] == [
        ("status.create", "KH_THAN_THIET", "", "succeeded", administrator_user),
        ("status.rename", "KH_THAN_THIET", "THAN_THIET", "succeeded", administrator_user),
        ("status.update", "THAN_THIET", "", "succeeded", administrator_user),
        ("status.delete", "THAN_THIET", "", "succeeded", administrator_user),
    ]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sorting_in_place_is_kept_by_the_next_search(
    live_server, page, browser_login, support_user
):
    for code, name in [("A1", "Zeta"), ("B2", "Alpha"), ("C3", "Mu"), ("X9", "Khác")]:
        make_record("statuses", code, name)
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    statuses = f"{live_server.url}/codes/statuses/"
    browser_login(page, support_user)
    page.goto(statuses)

    page.click("th >> text=Name")
    expect(page).to_have_url(f"{statuses}?sort=name")
    expect(page.locator("tbody tr").first).to_have_attribute("data-code", "B2")
    page.fill("#code-q", "a")
    expect(page).to_have_url(re.compile(r"\?q=a&sort=name$"))
    expect(page.locator("tbody tr")).to_have_count(3)
    codes = page.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.code)")
    assert codes == ["B2", "X9", "A1"]

    page.go_back()  # htmx restores the previous address and its table
    expect(page).to_have_url(f"{statuses}?sort=name")
    expect(page.locator("tbody tr")).to_have_count(4)
    assert console_errors == []
