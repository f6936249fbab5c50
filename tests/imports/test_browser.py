"""Support imports customers in Chromium: upload, columns, preview, confirm, progress,
done, and the customers are in the list. The CRM is the sandbox over real HTTP; the
tasks run in a job worker (``jobs_worker --burst``) while the page waits for them."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from crmadmin.codes.services import code_create
from crmadmin.kinds import REFERENCE_KINDS
from crmadmin.sandbox.models import SandboxCustomer

from .conftest import csv_bytes


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_support_imports_customers_into_the_crm(
    live_server, sandbox_upstream, page, browser_login, support_user, administrator_user, tmp_path
):
    code_create(kind=REFERENCE_KINDS["statuses"], actor=administrator_user, code="MOI", name="Mới")
    code_create(kind=REFERENCE_KINDS["types"], actor=administrator_user, code="LE", name="Lẻ")
    code_create(kind=REFERENCE_KINDS["groups"], actor=administrator_user, code="HN", name="Hà Nội")
    upload = tmp_path / "khach-hang.csv"
    upload.write_bytes(
        csv_bytes(
            "Mã khách hàng,Tên khách hàng,Số điện thoại,Trạng thái,Loại khách hàng,"
            "Nhóm khách hàng,Ghi chú nội bộ",
            "KH101,Nguyễn Văn Tâm,0912 111 222,MOI,LE,Hà Nội,x",
            "KH102,Trần Thị Lụa,0912111333 / 02831114444,Mới,LE,HN,y",
            "KH103,Lê Văn Phú,0912111555,MOI,LE,Hà Nội,z",
        )
    )
    browser_login(page, support_user)
    page.goto(f"{live_server.url}/customers/")
    page.click("[data-action=import]")
    expect(page.locator("#id_target")).to_have_value("customers")
    page.set_input_files("#id_file", str(upload))
    page.click("[data-form=upload] button[type=submit]")

    # Columns: guessed from the Vietnamese headers; the unknown one is ignored.
    expect(page.locator("#id_column_0")).to_have_value("code")
    expect(page.locator("#id_column_2")).to_have_value("phones")
    expect(page.locator("#id_column_6")).to_have_value("")
    page.select_option("#id_column_6", "address")
    page.click("[data-form=columns] button[type=submit]")
    expect(page.locator("#import-progress")).to_be_visible()
    call_command("jobs_worker", burst=True)

    # The page notices the preview is done and shows it.
    expect(page.locator("[data-class=new][data-count]")).to_have_attribute("data-count", "3")
    expect(page.locator("tr[data-row]")).to_have_count(3)
    page.check("input[name=mode][value=sync]")
    page.click("[data-action=run]")
    expect(page.locator("#import-progress")).to_contain_text("Importing")
    call_command("jobs_worker", burst=True)

    expect(page.locator("[data-report]")).to_contain_text("3 imported, 0 failed")
    assert SandboxCustomer.objects.count() == 3
    page.click("[data-link=customers]")
    expect(page.locator("tbody tr")).to_have_count(3)
    expect(page.locator("tr[data-code=KH102]")).to_contain_text("02831114444")
