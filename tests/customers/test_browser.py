"""Real Chromium against the sandbox over HTTP: a support user's whole day with one customer."""

import re

import pytest
from playwright.sync_api import expect

from crmadmin.audit.models import AuditEntry
from crmadmin.codes import services as code_services
from crmadmin.customers.models import Customer
from crmadmin.kinds import REFERENCE_KINDS as KINDS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reference_codes(sandbox_upstream, superuser):
    """A status, a type, a group and a custom field, in the sandbox and the register."""
    create = code_services.code_create
    create(kind=KINDS["statuses"], actor=superuser, code="VIP", name="Khách VIP")
    create(kind=KINDS["types"], actor=superuser, code="CA_NHAN", name="Cá nhân")
    create(kind=KINDS["groups"], actor=superuser, code="HN", name="Hà Nội", description="")
    create(
        kind=KINDS["fields"],
        actor=superuser,
        code="NGUON",
        name="Nguồn khách hàng",
        field_type="text",
        description="",
    )


def test_create_find_edit_rename_and_delete_a_customer(
    page, live_server, browser_login, support_user, reference_codes
):
    browser_login(page, support_user)
    base = live_server.url

    # Create, with two phones and a custom field.
    page.goto(f"{base}/customers/")
    expect(page.get_by_text("No customers yet.")).to_be_visible()
    page.get_by_role("link", name="New customer").click()
    expect(page.get_by_label("Code")).to_be_focused()
    page.get_by_label("Code").fill("KH0001")
    page.get_by_label("Name").fill("Nguyễn Văn An")
    phones = page.get_by_label("Phone number", exact=True)
    phones.nth(0).fill("0912 345 678")
    page.get_by_role("button", name="+ Add phone").click()
    expect(phones).to_have_count(2)
    expect(phones.nth(1)).to_be_focused()
    phones.nth(1).fill("0987.654.321")
    page.get_by_label("E-mail").fill("an.nguyen@example.vn")
    page.get_by_label("Status").select_option(label="Khách VIP (VIP)")
    page.get_by_label("Type").select_option(label="Cá nhân (CA_NHAN)")
    page.get_by_label("Group").select_option(label="Hà Nội (HN)")
    page.get_by_label("Nguồn khách hàng").fill("Hội chợ")
    page.get_by_role("button", name="Create customer").click()
    page.wait_for_url(f"{base}/customers/KH0001/")
    expect(page.get_by_text("Customer KH0001 was created.")).to_be_visible()
    expect(page.locator('[data-fact="phones"]')).to_have_text("0912345678, 0987654321")
    expect(page.locator('[data-field="NGUON"]')).to_have_text("Hội chợ")

    # Find it by typing part of a phone number: only the results are redrawn.
    page.goto(f"{base}/customers/")
    search = page.get_by_role("searchbox")
    search.press_sequentially("654 321", delay=30)
    page.wait_for_url(re.compile(r".*/customers/\?q=654(%20|\+)321&sort=code$"))
    rows = page.locator("table.customers tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Nguyễn Văn An")
    expect(search).to_be_focused()
    search.fill("0000 0000")
    empty = page.locator('[data-empty="no-match"]')
    expect(empty).to_contain_text("No customer matches:")
    expect(empty.locator('[data-filter="q"]')).to_contain_text("the search “0000 0000”")
    # The words in another order, apart: one customer still.
    search.fill("an nguyen")
    expect(rows).to_have_count(1)
    search.fill("nguyen van")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name="KH0001").click()

    # Edit: add a third phone (and remove a row added by mistake).
    page.get_by_role("link", name="Edit").click()
    phones = page.get_by_label("Phone number", exact=True)
    expect(phones).to_have_count(2)
    page.get_by_role("button", name="+ Add phone").click()
    page.get_by_role("button", name="+ Add phone").click()
    expect(phones).to_have_count(4)
    page.get_by_role("button", name="Remove this phone number").nth(3).click()
    expect(phones).to_have_count(3)
    phones.nth(2).fill("+84 28 3822 1234")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"{base}/customers/KH0001/")
    expect(page.locator('[data-fact="phones"]')).to_have_text("0912345678, 0987654321, 02838221234")

    # Change its code.
    page.get_by_role("link", name="Change code").click()
    expect(page.get_by_label("New code")).to_be_focused()
    page.get_by_label("New code").fill("KH-2026-001")
    page.get_by_role("button", name="Change code").click()
    page.wait_for_url(f"{base}/customers/KH-2026-001/")
    expect(page.get_by_text("Customer KH0001 is now KH-2026-001.")).to_be_visible()
    history = page.locator("table.history tbody tr")
    expect(history).to_have_count(3)
    expect(history.nth(0)).to_contain_text("Code changed KH0001 → KH-2026-001")
    expect(history.nth(2)).to_contain_text("Created")

    # Delete it.
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete customer").click()
    page.wait_for_url(f"{base}/customers/")
    expect(page.get_by_text("Customer KH-2026-001 was deleted.")).to_be_visible()
    expect(page.get_by_text("No customers yet.")).to_be_visible()

    assert not Customer.objects.exists()
    assert list(
        AuditEntry.objects.filter(record_kind="customer")
        .order_by("started_at", "id")
        .values_list("operation", "outcome")
    ) == [
        ("customer.create", "succeeded"),
        ("customer.update", "succeeded"),
        ("customer.rename", "succeeded"),
        ("customer.delete", "succeeded"),
    ]


def test_add_phone_stops_at_the_most_phones_a_customer_may_have(
    page, live_server, browser_login, support_user
):
    """Saving refuses more than 20 phones: the button says so before, by going grey at the
    twentieth row, and comes back when a row is removed."""
    browser_login(page, support_user)
    page.goto(f"{live_server.url}/customers/new/")
    add = page.get_by_role("button", name="+ Add phone")
    phones = page.get_by_label("Phone number", exact=True)
    expect(page.get_by_text("At most 20 phone numbers.")).to_be_visible()
    for count in range(2, 21):
        add.click()
        expect(phones).to_have_count(count)
    expect(add).to_be_disabled()
    page.get_by_role("button", name="Remove this phone number").nth(5).click()
    expect(phones).to_have_count(19)
    expect(add).to_be_enabled()
