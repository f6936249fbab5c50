"""A manager investigates in Chromium: filter, open an entry, read what was sent, export."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crmadmin.audit.models import FailureKind, Outcome

from .conftest import entry_fields


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_manager_filters_opens_an_entry_and_exports(
    live_server, page, browser_login, manager_user, make_user
):
    from crmadmin.audit.models import AuditEntry

    lan, minh = make_user("support", "lan"), make_user("administrator", "minh")
    now = timezone.now()
    seeded = [
        entry_fields(actor=lan, code="VIP", started_at=now - timedelta(minutes=50)),
        entry_fields(
            actor=lan,
            operation="customer.update",
            record_kind="customer",
            code="KH042",
            request_body={"customer_no": "KH042", "customer_name": "Lê Thị Hồng Nhung"},
            outcome=Outcome.REJECTED,
            failure_kind=FailureKind.REJECTED,
            upstream_status=0,
            upstream_error="3",
            upstream_message="Số điện thoại không hợp lệ",
            started_at=now - timedelta(minutes=40),
        ),
        entry_fields(
            actor=lan,
            operation="status.delete",
            code="OLD",
            outcome=Outcome.REJECTED,
            failure_kind=FailureKind.REJECTED,
            started_at=now - timedelta(minutes=30),
        ),
        entry_fields(
            actor=minh,
            code="GOLD",
            outcome=Outcome.REJECTED,
            failure_kind=FailureKind.REJECTED,
            started_at=now - timedelta(minutes=20),
        ),
        entry_fields(
            actor=minh,
            code="SILVER",
            outcome=Outcome.FAILED,
            failure_kind=FailureKind.TIMEOUT,
            started_at=now - timedelta(minutes=10),
        ),
    ]
    AuditEntry.objects.bulk_create(AuditEntry(**fields) for fields in seeded)
    refused = []  # anything the Content-Security-Policy blocked
    page.on("console", lambda message: "Refused" in message.text and refused.append(message.text))

    browser_login(page, manager_user)
    page.goto(f"{live_server.url}/audit/")
    expect(page.locator("tbody tr")).to_have_count(5)

    # Filter by actor, then by outcome: the table changes in place, the address follows.
    page.select_option("#id_actor", label="lan")
    expect(page.locator("tbody tr")).to_have_count(3)
    expect(page).to_have_url(re.compile(rf"/audit/\?.*actor={lan.pk}"))
    page.select_option("#id_outcome", "rejected")
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page).to_have_url(re.compile(rf"actor={lan.pk}.*outcome=rejected"))
    expect(page.locator("h1")).to_have_text("Audit log")
    expect(page.locator("tbody")).to_contain_text("KH042")
    expect(page.locator("tbody")).not_to_contain_text("GOLD")

    # Open the customer update and read what was sent and what came back.
    page.locator("tbody tr", has_text="KH042").locator("[data-link=entry]").click()
    expect(page.locator("h1")).to_contain_text("customer: update")
    body = page.locator("[data-block=request-body]")
    expect(body).to_contain_text('"customer_name": "Lê Thị Hồng Nhung"')
    expect(page.locator("[data-field=upstream-message]")).to_have_text("Số điện thoại không hợp lệ")

    # Back to the filtered list, and export exactly what it shows.
    page.go_back()
    expect(page.locator("tbody tr")).to_have_count(2)
    with page.expect_download() as download_info:
        page.click("[data-link=export]")
    download = download_info.value
    assert re.fullmatch(r"audit-log-\d{4}-\d{2}-\d{2}-\d{4}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8-sig", newline="") as exported:
        rows = list(csv.DictReader(io.StringIO(exported.read())))
    assert [(row["actor_username"], row["code"], row["outcome"]) for row in rows] == [
        ("lan", "OLD", "rejected"),
        ("lan", "KH042", "rejected"),
    ]
    assert "Lê Thị Hồng Nhung" in rows[1]["request_body"]
    assert refused == []
