"""Real Chromium, with JavaScript off, against the sandbox over HTTP: the CRM refuses a code
it already has; the refusal is shown at the code field with the CRM's words, and "Try
again" (a plain submit button of the re-rendered form) sends the corrected input."""

import pytest
from playwright.sync_api import expect

from crmadmin.audit.models import AuditEntry
from crmadmin.customers.models import Customer
from crmadmin.upstream import call

from .test_browser import reference_codes  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_refused_code_is_corrected_and_sent_again_without_javascript(
    browser,
    live_server,
    browser_login,
    support_user,
    reference_codes,  # noqa: F811
):
    # A customer the CRM has and the register does not know (never imported).
    call(
        "customer.create",
        {
            "customer_no": "KH0001",
            "customer_name": "Người khác",
            "customer_phones": ["0987654321"],
            "customer_status_code": "VIP",
            "customer_type_code": "CA_NHAN",
            "customer_group_name": "Hà Nội",
        },
    )
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    browser_login(page, support_user)
    base = live_server.url

    page.goto(f"{base}/customers/new/")
    page.get_by_label("Code").fill("KH0001")
    page.get_by_label("Name").fill("Trần Văn Bình")
    page.get_by_label("Phone number", exact=True).first.fill("0912345678")
    page.get_by_label("Status").select_option(label="Khách VIP (VIP)")
    page.get_by_label("Type").select_option(label="Cá nhân (CA_NHAN)")
    page.get_by_label("Group").select_option(label="Hà Nội (HN)")
    page.get_by_role("button", name="Create customer").click()

    at_code = page.locator("#id_code_error")
    expect(at_code).to_contain_text("The CRM already has a record with this code.")
    expect(at_code).to_contain_text(
        "The CRM said: “Mã khách hàng đã tồn tại: KH0001.” (error 1101)"
    )
    expect(page.get_by_label("Code")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name")).to_have_value("Trần Văn Bình")
    assert not Customer.objects.filter(code="KH0001").exists()

    page.get_by_label("Code").fill("KH0002")
    page.get_by_role("button", name="Try again").click()

    page.wait_for_url(f"{base}/customers/KH0002/")
    expect(page.get_by_text("Customer KH0002 was created.")).to_be_visible()
    story = page.locator("details.story").first
    expect(story.locator("summary")).to_contain_text("Created")
    story.locator("summary").click()  # a native <details>: opens without script
    expect(story).to_contain_text("Sent to the CRM")
    expect(story).to_contain_text('"customer_name": "Trần Văn Bình"')
    assert list(
        AuditEntry.objects.filter(operation="customer.create")
        .order_by("pk")
        .values_list("code", "outcome")
    ) == [("KH0001", "succeeded"), ("KH0001", "rejected"), ("KH0002", "succeeded")]
    context.close()
