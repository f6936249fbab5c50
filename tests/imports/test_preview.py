"""The preview: every row classified, every error class with its row, column and message."""

import csv
import io

import pytest

from crmadmin.customers.models import Customer, CustomerFieldValue, CustomerPhone, phone_digits_of
from crmadmin.imports.models import Import, RememberedMapping

from .conftest import csv_bytes

HEADER = "code,name,phones,email,address,status,type,group,NGAY_SINH,Ghi chú"


def _customer(codes, code="KH001", name="Nguyễn Văn An", phones=("0912345678",), note=""):
    customer = Customer.objects.create(
        code=code,
        name=name,
        status=codes["status"],
        type=codes["type"],
        group=codes["group"],
        phone_digits=phone_digits_of(phones),
    )
    for position, number in enumerate(phones):
        CustomerPhone.objects.create(customer=customer, position=position, number=number)
    if note:
        CustomerFieldValue.objects.create(customer=customer, field=codes["note"], value=note)
    return customer


def _errors(job, number):
    return job.rows.get(number=number).errors


def test_rows_are_new_unchanged_changed_or_error(codes, run_import):
    _customer(codes, "KH001", "Nguyễn Văn An", note="cũ")
    _customer(codes, "KH002", "Trần Thị Bích", phones=("0987654321",))
    data = csv_bytes(
        HEADER,
        "KH001,Nguyễn Văn An,0912345678,,,VIP,CA_NHAN,HN,1990-05-01,mới",
        "KH002,Trần Thị Bích,0987654321,,,MOI,CA_NHAN,Hà Nội,,",
        "KH003,Lê Dũng,0911000111; 0911000222 / 0911000333,,,Khách VIP,CA_NHAN,HN,,",
        "KH004,,0911000444,,,MOI,CA_NHAN,HN,,",
    )
    job = run_import(None, "customers", "f.csv", data)
    assert job.counts == {"new": 1, "unchanged": 1, "changed": 1, "error": 1}
    changed = job.rows.get(number=2)
    assert changed.row_class == "changed"
    assert changed.changes == [
        ["Status", "MOI · Mới", "VIP · Khách VIP"],
        ["Ngày sinh", "", "1990-05-01"],
        ["Ghi chú", "cũ", "mới"],
    ]
    assert job.rows.get(number=3).row_class == "unchanged"
    new = job.rows.get(number=4)
    assert new.values["phones"] == ["0911000111", "0911000222", "0911000333"]
    assert new.values["status"] == codes["status_vip"].pk  # by name
    assert _errors(job, 5) == [["name", "A value is required."]]


def test_every_error_class(codes, run_import):
    _customer(codes, "KH900", "Chủ số", phones=("0900000001",))
    data = csv_bytes(
        HEADER,
        "KH001,A,0912345678,,,KHONG_CO,CA_NHAN,HN,,",
        "KH002,B,0912345679,,,MOI,KHONG_CO,HN,,",
        "KH003,C,0912345670,,,MOI,CA_NHAN,Đà Nẵng,,",
        "KH004,D,12ab,,,MOI,CA_NHAN,HN,,",
        "KH001,E,0912000000,,,MOI,CA_NHAN,HN,,",
        "KH005,F,+84 900 000 001,,,MOI,CA_NHAN,HN,,",
        "KH006,G,,,,MOI,CA_NHAN,HN,,",
        ",H,0912000001,,,MOI,CA_NHAN,HN,,",
        "KH007,I,0912000002,not-an-email,,MOI,CA_NHAN,HN,31/02/2020,",
        "KH 8,J,0912000003,,,MOI,CA_NHAN,HN,,",
        "KH009,K,0912000004,,,,CA_NHAN,HN,,",
        "KH010,L,0912345678,,,MOI,CA_NHAN,HN,,",
    )
    job = run_import(None, "customers", "f.csv", data)
    assert _errors(job, 2) == [["status", "Unknown status “KHONG_CO”: import it first."]]
    assert _errors(job, 3) == [["type", "Unknown type “KHONG_CO”: import it first."]]
    assert _errors(job, 4) == [["group", "Unknown group “Đà Nẵng”: import it first."]]
    assert _errors(job, 5) == [
        ["phones", "“12ab” is not a phone number: use digits, optionally a leading +."]
    ]
    assert _errors(job, 6) == [
        ["code", "The code “KH001” is repeated in the file (first on row 2)."]
    ]
    assert _errors(job, 7) == [["phones", "The phone 0900000001 belongs to the customer KH900."]]
    assert _errors(job, 8) == [["phones", "A value is required: at least one phone number."]]
    assert _errors(job, 9) == [["code", "A value is required."]]
    assert _errors(job, 10) == [
        ["email", "“not-an-email” is not an e-mail address."],
        ["NGAY_SINH", "Enter a valid date."],
    ]
    assert _errors(job, 11)[0][0] == "code"
    assert _errors(job, 12) == [["status", "A value is required."]]
    assert _errors(job, 13) == [["phones", "The phone 0912345678 is also given to KH001 on row 2."]]
    # Row 2 is in error too, but its code and phone still count as taken in the file.
    assert job.counts == {"new": 0, "unchanged": 0, "changed": 0, "error": 12}


def test_error_rows_download_as_csv_with_a_message_column(codes, run_import, client_as):
    data = csv_bytes(HEADER, "KH001,=cmd(),0912345678,,,NOPE,CA_NHAN,HN,,")
    job = run_import(None, "customers", "f.csv", data)
    response = client_as("support").get(f"/import/{job.pk}/errors.csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == [*HEADER.split(","), "row", "errors"]
    assert rows[1][1] == "'=cmd()"  # formula-safe, and the import strips the quote again
    assert rows[1][-2:] == ["2", "status: Unknown status “NOPE”: import it first."]


def test_columns_are_guessed_edited_and_remembered(codes, run_import):
    data = csv_bytes(
        "Mã KH,Họ và tên,SĐT 1,SĐT 2,Trạng thái,Loại,Nhóm,Ghi chú,Ngày sinh,Khác",
        "KH001,An,0912345678,02834567890,MOI,CA_NHAN,HN,x,,y",
    )
    job = run_import(None, "customers", "f.csv", data)
    assert job.mapping == [
        "code",
        "name",
        "phones",
        "phones",
        "status",
        "type",
        "group",
        "field:GHI_CHU",
        "field:NGAY_SINH",
        "",
    ]
    assert job.rows.get().values["phones"] == ["0912345678", "02834567890"]
    edited = [*job.mapping[:-1], "address"]
    again = run_import(None, "customers", "f.csv", data, mapping=edited)
    assert again.rows.get().values["address"] == "y"
    third = run_import(None, "customers", "other-name.csv", data)
    assert third.mapping == edited
    assert RememberedMapping.objects.count() == 1


def test_a_mapping_without_required_columns_is_refused(codes, client_as):
    client = client_as("support")
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.post(
        "/import/",
        {"target": "customers", "file": SimpleUploadedFile("f.csv", csv_bytes(HEADER, "a"))},
    )
    job = Import.objects.get()
    post = {f"column_{n}": role for n, role in enumerate(job.mapping)}
    post["column_2"] = ""
    post["column_1"] = "code"
    response = client.post(f"/import/{job.pk}/columns/", post)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Only one column can be “Code”." in html
    assert "No column is “Phones”." in html
    assert "No column is “Name”." in html


@pytest.mark.parametrize("target", ["statuses", "groups", "fields"])
def test_reference_codes_are_previewed(target, codes, run_import):
    files = {
        "statuses": ("code,name", ["MOI,Mới", "VIP,Khách quan trọng", "NEW,", "MOI,Lặp"]),
        "groups": (
            "code,name,description",
            ["HN,Hà Nội,", "HCM,Hà Nội,", "DN,Đà Nẵng,miền Trung", "X Y,Tên,"],
        ),
        "fields": (
            "code,name,field_type",
            ["NGAY_SINH,Ngày sinh,date", "SO,Số,", "GHI_CHU,Ghi chú,text"],
        ),
    }
    header, lines = files[target]
    job = run_import(None, target, "codes.csv", csv_bytes(header, *lines))
    classes = list(job.rows.order_by("number").values_list("row_class", flat=True))
    expected = {
        "statuses": ["unchanged", "changed", "error", "error"],
        "groups": ["unchanged", "error", "new", "error"],
        "fields": ["unchanged", "error", "unchanged"],
    }[target]
    assert classes == expected
    if target == "groups":
        assert _errors(job, 3) == [["name", "The group HN already has this name."]]


def test_the_uploaded_file_is_not_kept_after_the_preview(codes, run_import, import_dir):
    job = run_import(
        None, "customers", "f.csv", csv_bytes(HEADER, "KH001,A,0912345678,,,MOI,CA_NHAN,HN,,")
    )
    assert job.state == "previewed"
    assert list(import_dir.iterdir()) == []


def test_an_import_refuses_invisible_names_and_strips_the_surrounding_ones(run_import, codes):
    data = csv_bytes(
        "code,name,phones,status,type,group",
        "KH001,\u200b\u00a0,0912000001,MOI,CA_NHAN,HN",
        "KH002,Trần\u200bBình,0912000002,MOI,CA_NHAN,HN",
        "KH003,\ufeffLê Dũng\u00a0,0912000003,MOI,CA_NHAN,HN",
    )

    job = run_import(None, "customers", "f.csv", data)

    assert job.rows.get(number=2).errors == [
        ["name", "Enter a name that can be seen: this one is only spaces or invisible characters."]
    ]
    assert job.rows.get(number=3).errors == [
        ["name", "A name cannot contain zero-width spaces or text-direction overrides."]
    ]
    assert job.rows.get(number=4).values["name"] == "Lê Dũng"


@pytest.mark.parametrize(
    "typed",
    ["+84 (0) 912 345 678", "0084 912 345 678", "+84 912 345 678", "84912345678", "0912.345.678"],
)
@pytest.mark.parametrize("stored", ["0912345678", "+84912345678"])
def test_one_number_in_any_notation_is_unchanged_or_its_owners(codes, run_import, typed, stored):
    _customer(codes, "KH001", "Nguyễn Văn An", phones=(stored,))
    data = csv_bytes(
        HEADER,
        f'KH001,Nguyễn Văn An,"{typed}",,,MOI,CA_NHAN,HN,,',
        f'KH002,Trần Thị Bích,"{typed}",,,MOI,CA_NHAN,HN,,',
    )
    job = run_import(None, "customers", "f.csv", data)

    assert job.rows.get(number=2).row_class == "unchanged"
    assert _errors(job, 3) == [["phones", "The phone 0912345678 belongs to the customer KH001."]]


def test_more_than_twenty_phones_in_a_row_are_an_error(codes, run_import):
    twenty = "; ".join(f"0912000{n:03d}" for n in range(20))
    data = csv_bytes(
        HEADER,
        f"KH001,An,{twenty},,,MOI,CA_NHAN,HN,,",
        f"KH002,Bình,{twenty.replace('0912', '0913')}; 0988000111,,,MOI,CA_NHAN,HN,,",
    )
    job = run_import(None, "customers", "f.csv", data)

    assert job.rows.get(number=2).row_class == "new"
    assert len(job.rows.get(number=2).values["phones"]) == 20
    assert _errors(job, 3) == [
        ["phones", "At most 20 phone numbers per customer; this row has 21."]
    ]


@pytest.mark.parametrize("code", ["new", "NEW"])
def test_a_code_that_is_a_page_of_the_dashboard_is_refused(code, codes, run_import):
    # /customers/new/ and /codes/<kind>/new/ are the create pages: a record coded "new"
    # would have no page of its own, so an import refuses it as the forms do.
    customers = run_import(
        None, "customers", "f.csv", csv_bytes(HEADER, f"{code},Tên,0912000009,,,MOI,CA_NHAN,HN,,")
    )
    message = f"“{code}” is reserved by the dashboard; choose another code."
    assert _errors(customers, 2) == [["code", message]]
    statuses = run_import(None, "statuses", "codes.csv", csv_bytes("code,name", f"{code},Mới"))
    assert _errors(statuses, 2) == [["code", message]]
    assert not Customer.objects.filter(code__iexact="new").exists()
