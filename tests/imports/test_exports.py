"""Exports: the list's filter, the import's headers, UTF-8 with BOM, formula-safe cells."""

import csv
import io

import pytest
from openpyxl import load_workbook

from crmadmin.customers.models import Customer, CustomerFieldValue, CustomerPhone


def _customer(codes, code, name, *, status=None, phones=("0912345678",), email=""):
    customer = Customer.objects.create(
        code=code,
        name=name,
        email=email,
        status=status or codes["status"],
        type=codes["type"],
        group=codes["group"],
    )
    for position, number in enumerate(phones):
        CustomerPhone.objects.create(customer=customer, position=position, number=number)
    return customer


@pytest.fixture
def customers(codes):
    first = _customer(codes, "KH001", '=HYPERLINK("x")', phones=("0912345678", "0283456789"))
    CustomerFieldValue.objects.create(customer=first, field=codes["note"], value="@ghi chú")
    _customer(codes, "KH002", "Trần Thị Bích", status=codes["status_vip"], email="b@x.vn")
    return first


def test_customers_csv_has_the_import_headers_and_follows_the_filter(customers, client_as):
    response = client_as("manager").get("/customers/export.csv?status=MOI")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == [
        "code",
        "name",
        "phones",
        "email",
        "address",
        "status_code",
        "status_name",
        "type_code",
        "type_name",
        "group_code",
        "group_name",
        "GHI_CHU",
        "NGAY_SINH",
        "last_change",
    ]
    assert len(rows) == 2  # the filter: only KH001 has the status MOI
    assert rows[1][:12] == [
        "KH001",
        '\'=HYPERLINK("x")',
        "0912345678, 0283456789",
        "",
        "",
        "MOI",
        "Mới",
        "CA_NHAN",
        "Cá nhân",
        "HN",
        "Hà Nội",
        "'@ghi chú",
    ]


def test_customers_xlsx_holds_text_cells_that_are_never_formulas(customers, client_as):
    response = client_as("support").get("/customers/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("code", "name", "phones")
    assert rows[1][:3] == ("KH001", '=HYPERLINK("x")', "0912345678, 0283456789")
    assert rows[2][1] == "Trần Thị Bích"
    assert len(rows) == 3


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_code_exports(file_format, codes, client_as):
    response = client_as("support").get(f"/codes/fields/export.{file_format}")
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    if file_format == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    else:
        book = load_workbook(io.BytesIO(content), read_only=True)
        rows = [[v or "" for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
    assert rows == [
        ["code", "name", "field_type", "description"],
        ["GHI_CHU", "Ghi chú", "text", ""],
        ["NGAY_SINH", "Ngày sinh", "date", ""],
    ]


def test_unknown_kind_is_404(client_as, db):
    assert client_as("support").get("/codes/nope/export.csv").status_code == 404


@pytest.mark.parametrize("zone", ["Asia/Ho_Chi_Minh", "Europe/Paris", "America/St_Johns"])
def test_last_change_is_local_time_across_offset_changes(zone, settings):
    from datetime import UTC, datetime, timedelta

    from django.utils import timezone

    from crmadmin.customers.exports import _Stamps

    settings.TIME_ZONE = zone
    stamp = _Stamps()
    start = datetime(2026, 3, 29, 0, 0, 1, tzinfo=UTC)  # Europe's change to summer time
    for minutes in range(0, 24 * 60, 7):
        moment = start + timedelta(minutes=minutes)
        assert stamp(moment) == timezone.localtime(moment).isoformat(timespec="seconds")
