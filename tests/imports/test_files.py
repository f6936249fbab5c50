"""Files: each encoding and XLSX are read; every refused file gets a clear message, no 500."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from crmadmin.imports.models import Import, State

from .conftest import csv_bytes

HEADER = (
    "Mã khách hàng,Tên khách hàng,Số điện thoại,Email,Địa chỉ,"
    "Trạng thái,Loại khách hàng,Nhóm khách hàng"
)
ROW = "KH001,Nguyễn Văn Đạt,0912 345 678,dat@example.vn,12 Lê Lợi,MOI,CA_NHAN,Hà Nội"


def _upload(client, name, data, target="customers"):
    return client.post("/import/", {"target": target, "file": SimpleUploadedFile(name, data)})


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (csv_bytes(HEADER, ROW), "utf-8"),
        (b"\xef\xbb\xbf" + csv_bytes(HEADER, ROW), "utf-8"),
        (csv_bytes(HEADER.replace(",", "\t"), ROW.replace(",", "\t"), encoding="utf-16"), "utf-16"),
        (
            csv_bytes(HEADER.replace(",", ";"), ROW.replace(",", ";"), encoding="cp1258"),
            "windows-1258",
        ),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-tabs", "windows-1258-semicolons"],
)
def test_each_encoding_is_detected_and_read(data, encoding, codes, client_as, run_import):
    client = client_as("support")
    response = _upload(client, "khach.csv", data)
    assert response.status_code == 302
    job = Import.objects.get()
    assert job.encoding == encoding
    assert job.headers[0] == "Mã khách hàng"
    assert job.mapping == ["code", "name", "phones", "email", "address", "status", "type", "group"]
    run = run_import(None, "customers", "khach.csv", data)
    assert run.counts["new"] == 1, list(run.rows.values_list("errors", flat=True))
    values = run.rows.get().values
    # Windows-1258 writes tone marks as combining characters: read back as one letter each.
    assert values["name"] == "Nguyễn Văn Đạt"
    assert values["phones"] == ["0912345678"]


def test_xlsx_is_read(codes, run_import):
    data = _xlsx(
        [
            HEADER.split(","),
            ROW.split(","),
            [None] * 8,
            ["KH002", "Bình", 912000111, "", "", "VIP", "CA_NHAN", "HN"],
        ]
    )
    job = run_import(None, "customers", "khach.xlsx", data)
    assert job.file_format == "xlsx"
    assert job.counts == {"new": 2, "unchanged": 0, "changed": 0, "error": 0}
    second = job.rows.get(number=4)  # the blank row 3 is skipped, numbers stay the sheet's
    # A number cell lost the leading 0; by the book it is still the mobile 0912000111.
    assert second.values["phones"] == ["0912000111"]
    assert second.values["status"] == codes["status_vip"].pk


def _encrypted() -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600


def _zip_not_xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


def _damaged_xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<not xml")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "file is empty"),
        (
            "photo.png",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
            "holds binary data",
        ),
        (
            "nul.csv",
            csv_bytes(HEADER, "KH001,A\x00B,0912345678,,,MOI,CA_NHAN,HN"),
            "holds binary data",
        ),
        ("secret.xlsx", _encrypted(), "password-protected"),
        ("archive.zip", _zip_not_xlsx(), "not an Excel workbook"),
        ("broken.xlsx", _damaged_xlsx(), "cannot be read"),
        ("blank-first.csv", csv_bytes(",,,", HEADER, ROW), "The first row is empty"),
        ("no-header.csv", csv_bytes(ROW, ROW.replace("KH001", "KH002")), "names no column"),
        ("prose.txt", ("Dear team, " * 20 + "\n").encode(), "names no column"),
    ],
)
def test_refused_files_say_why(name, data, message, codes, client_as):
    client = client_as("support")
    response = _upload(client, name, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Import.objects.exists()


def test_too_big_is_refused(codes, client_as, settings):
    settings.IMPORT_MAX_BYTES = 100
    response = _upload(client_as("support"), "big.csv", csv_bytes(HEADER, *[ROW] * 5))
    assert response.status_code == 400
    assert "files of up to 100" in response.content.decode()


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_too_many_rows_fail_the_preview_with_the_reason(file_format, codes, settings, run_import):
    settings.IMPORT_MAX_ROWS = 3
    rows = [ROW.replace("KH001", f"KH{n:03d}").replace("678", f"{n:03d}") for n in range(5)]
    if file_format == "csv":
        data = csv_bytes(HEADER, *rows)
    else:
        data = _xlsx([HEADER.split(","), *(row.split(",") for row in rows)])
    if file_format == "xlsx":
        # The workbook says how many rows it holds: refused at the upload already.
        with pytest.raises(Exception, match="more than 3 rows"):
            run_import(None, "customers", f"many.{file_format}", data)
        return
    job = run_import(None, "customers", f"many.{file_format}", data)
    assert job.state == State.FAILED
    assert "more than 3 rows" in job.error
    assert not job.rows.exists()
    assert list(settings.IMPORT_DIR.iterdir()) == []  # a refused file is not kept


def test_a_huge_cell_is_a_row_error_not_a_crash(codes, run_import):
    data = csv_bytes(HEADER, ROW.replace("Nguyễn Văn Đạt", "A" * 300_000))
    job = run_import(None, "customers", "huge.csv", data)
    assert job.counts["error"] == 1
    assert "Too long" in job.rows.get().errors[0][1]
