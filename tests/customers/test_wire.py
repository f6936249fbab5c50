"""Form submissions send exactly the contract's bodies, and the register follows success."""

import itertools

import pytest
from django.urls import reverse

from crmadmin.audit.models import AuditEntry
from crmadmin.customers.models import Customer, CustomerFieldValue
from tests.crm import expect_call

from .conftest import make_customer

pytestmark = pytest.mark.django_db


def create_form(codes, **overrides):
    data = {
        "code": "KH0001",
        "name": "Nguyễn Văn An",
        "phones": ["0912 345 678", "(+84) 983.456-789", "028-3822-1234", "+1 (415) 555-2671"],
        "email": "an.nguyen@example.vn",
        "address": "12 Lê Lợi, Quận 1",
        "status": codes["status_vip"].pk,
        "type": codes["type"].pk,
        "group": codes["group_south"].pk,
        f"cf_{codes['birthday'].pk}": "1990-05-17",
        f"cf_{codes['note'].pk}": "Gọi buổi sáng",
        f"cf_{codes['staff'].pk}": "",
    }
    data.update(overrides)
    return data


CREATE_WIRE = {
    "customer_no": "KH0001",
    "customer_name": "Nguyễn Văn An",
    # Vietnamese numbers in national form, as the vendor's examples; foreign ones in E.164.
    "customer_phones": ["0912345678", "0983456789", "02838221234", "+14155552671"],
    "customer_address": "12 Lê Lợi, Quận 1",
    "customer_email": "an.nguyen@example.vn",
    "customer_status_code": "VIP",
    "customer_type_code": "CA_NHAN",
    "customer_group_name": "Hồ Chí Minh",
    # In the form's order (by field name); the empty "Số nhân viên" is not sent.
    "fileds": [
        {"field_key": "GHI_CHU", "field_value": "Gọi buổi sáng"},
        {"field_key": "NGAY_SINH", "field_value": "1990-05-17"},
    ],
}


def test_create_sends_the_contract_body_and_stores_the_customer(crm, codes, support_client):
    expect_call(crm, "/api/crm/customer/create", CREATE_WIRE)

    response = support_client.post(reverse("customers:create"), create_form(codes))

    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", kwargs={"code": "KH0001"})
    customer = Customer.objects.get(code="KH0001")
    assert customer.name == "Nguyễn Văn An"
    assert customer.status == codes["status_vip"]
    assert customer.group == codes["group_south"]
    assert customer.created_by == support_client.user
    assert [phone.number for phone in customer.phones.order_by("position")] == [
        "0912345678",
        "0983456789",
        "02838221234",
        "+14155552671",
    ]
    assert [phone.digits for phone in customer.phones.order_by("position")] == [
        "84912345678",
        "84983456789",
        "842838221234",
        "14155552671",
    ]
    assert customer.phone_digits == "84912345678 84983456789 842838221234 14155552671"
    assert dict(customer.field_values.values_list("field__code", "value")) == {
        "NGAY_SINH": "1990-05-17",
        "GHI_CHU": "Gọi buổi sáng",
    }
    entry = AuditEntry.objects.get(operation="customer.create")
    assert entry.outcome == "succeeded"
    assert entry.code == "KH0001"
    assert entry.actor == support_client.user
    assert entry.snapshot_before is None


def test_create_without_custom_values_leaves_fileds_out_and_sends_blank_contacts(
    crm, codes, support_client
):
    expect_call(
        crm,
        "/api/crm/customer/create",
        {
            "customer_no": "KH0002",
            "customer_name": "Trần Thị Bích",
            "customer_phones": ["0987654321"],
            "customer_address": "",
            "customer_email": "",
            "customer_status_code": "MOI",
            "customer_type_code": "DOANH_NGHIEP",
            "customer_group_name": "Hà Nội",
        },
    )
    data = create_form(
        codes,
        code="KH0002",
        name="Trần Thị Bích",
        phones=["", "0987 654 321", "  "],
        email="",
        address="",
        status=codes["status"].pk,
        type=codes["type_company"].pk,
        group=codes["group"].pk,
        **{f"cf_{codes['birthday'].pk}": "", f"cf_{codes['note'].pk}": ""},
    )

    response = support_client.post(reverse("customers:create"), data)

    assert response.status_code == 302
    customer = Customer.objects.get(code="KH0002")
    assert list(customer.phones.values_list("number", flat=True)) == ["0987654321"]
    assert not customer.field_values.exists()


def test_update_sends_every_key_and_clears_a_removed_custom_value(crm, codes, support_client):
    customer = make_customer(
        "KH0001",
        "Nguyen Van An",
        ["0912345678", "0983456789"],
        codes=codes,
        email="old@example.vn",
        values={codes["note"]: "Ghi chú cũ", codes["birthday"]: "1990-05-17"},
    )
    expect_call(
        crm,
        "/api/crm/customer/update",
        {
            "customer_no": "KH0001",
            "customer_name": "Nguyễn Văn An",
            "customer_phones": ["0912345678", "0983456789", "02838229999"],
            "customer_address": "12 Lê Lợi",
            "customer_email": "an@example.vn",
            "customer_status_code": "VIP",
            "customer_type_code": "DOANH_NGHIEP",
            "customer_group_name": "Hồ Chí Minh",
            "fileds": [
                {"field_key": "GHI_CHU", "field_value": ""},
                {"field_key": "NGAY_SINH", "field_value": "1990-05-17"},
                {"field_key": "SO_NV", "field_value": "25"},
            ],
        },
    )
    data = {
        "name": "Nguyễn Văn An",
        "phones": ["0912345678", "0983456789", "+84 28 3822 9999"],
        "email": "an@example.vn",
        "address": "12 Lê Lợi",
        "status": codes["status_vip"].pk,
        "type": codes["type_company"].pk,
        "group": codes["group_south"].pk,
        f"cf_{codes['birthday'].pk}": "1990-05-17",
        f"cf_{codes['note'].pk}": "",
        f"cf_{codes['staff'].pk}": "25",
    }

    response = support_client.post(reverse("customers:edit", kwargs={"code": "KH0001"}), data)

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "Nguyễn Văn An"
    assert customer.email == "an@example.vn"
    assert customer.updated_by == support_client.user
    assert customer.phones.count() == 3
    assert customer.phone_digits == "84912345678 84983456789 842838229999"
    assert dict(customer.field_values.values_list("field__code", "value")) == {
        "NGAY_SINH": "1990-05-17",
        "SO_NV": "25",
    }
    entry = AuditEntry.objects.get(operation="customer.update")
    assert entry.snapshot_before == {
        "customer_no": "KH0001",
        "customer_name": "Nguyen Van An",
        "customer_phones": ["0912345678", "0983456789"],
        "customer_address": "",
        "customer_email": "old@example.vn",
        "customer_status_code": "MOI",
        "customer_type_code": "CA_NHAN",
        "customer_group_name": "Hà Nội",
        "fileds": [
            {"field_key": "GHI_CHU", "field_value": "Ghi chú cũ"},
            {"field_key": "NGAY_SINH", "field_value": "1990-05-17"},
        ],
    }


def test_rename_sends_old_and_new_code_and_keeps_everything_else(crm, codes, support_client):
    customer = make_customer("KH0001", "Nguyễn Văn An", codes=codes, values={codes["note"]: "x"})
    expect_call(
        crm,
        "/api/crm/customer/updateNO",
        {"customer_no_old": "KH0001", "customer_no_new": "KH-2026-001"},
    )

    response = support_client.post(
        reverse("customers:rename", kwargs={"code": "KH0001"}), {"new_code": " KH-2026-001 "}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", kwargs={"code": "KH-2026-001"})
    customer.refresh_from_db()
    assert customer.code == "KH-2026-001"
    assert customer.search_text.startswith("\t kh-2026-001\t ")
    assert customer.phones.count() == 1
    assert customer.field_values.count() == 1
    entry = AuditEntry.objects.get(operation="customer.rename")
    assert (entry.code, entry.new_code) == ("KH0001", "KH-2026-001")


def test_delete_sends_the_code_and_removes_phones_and_values(crm, codes, support_client):
    make_customer("KH0001", "Nguyễn Văn An", codes=codes, values={codes["note"]: "x"})
    expect_call(
        crm,
        "/api/crm/customer/delete",
        {"customer_no": "KH0001"},
        json={"status": 1, "error": 0, "message": "success", "data": True},
    )

    confirm = support_client.get(reverse("customers:delete", kwargs={"code": "KH0001"}))
    assert confirm.status_code == 200
    assert "Delete customer KH0001" in confirm.text
    response = support_client.post(reverse("customers:delete", kwargs={"code": "KH0001"}))

    assert response.status_code == 302
    assert response["Location"] == reverse("customers:list")
    assert not Customer.objects.exists()
    assert not CustomerFieldValue.objects.exists()
    entry = AuditEntry.objects.get(operation="customer.delete")
    assert entry.snapshot_before["customer_no"] == "KH0001"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"phones": ["", " "]}, "phones", "Enter at least one phone number."),
        ({"phones": ["0912 ABC 678"]}, "phones", "is not a phone number"),
        ({"phones": ["12345"]}, "phones", "“12345” is not a valid phone number."),
        ({"phones": ["0912 345 67"]}, "phones", "“0912 345 67” is not a valid phone number."),
        ({"phones": ["4155552671"]}, "phones", "needs its country code, e.g. +1 415 555 2671"),
        ({"phones": ["0912345678 ext. 12"]}, "phones", "is not a phone number"),
        (
            {"phones": ["0912345678", "+84 912 345 678"]},
            "phones",
            "“+84 912 345 678” is the same number as “0912345678”.",
        ),
        (
            {"phones": [f"09120000{n:02d}" for n in range(21)]},
            "phones",
            "A customer has at most 20 phone numbers; 21 were entered.",
        ),
        ({"email": "canh.dsa"}, "email", "Enter a valid email address."),
        ({"code": "KH 01"}, "code", "no spaces"),
        ({"code": "new"}, "code", "reserved"),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_invalid_input_is_refused_before_any_call(
    crm, codes, support_client, overrides, field, message
):
    response = support_client.post(reverse("customers:create"), create_form(codes, **overrides))

    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert not crm.calls
    assert not Customer.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_code_already_in_the_register_is_refused(crm, codes, support_client):
    make_customer("KH0001", "Someone", ["0900000001"], codes=codes)

    response = support_client.post(reverse("customers:create"), create_form(codes))

    assert response.status_code == 422
    assert "Another customer already has the code “KH0001”." in response.text
    assert not AuditEntry.objects.exists()


# The five ways of writing one Vietnamese number.
ONE_NUMBER = [
    "+84 (0) 912 345 678",
    "0084 912 345 678",
    "+84 912 345 678",
    "84912345678",
    "0912.345.678",
]


@pytest.mark.parametrize("typed", ONE_NUMBER)
def test_a_vietnamese_number_goes_on_the_wire_in_national_form(crm, codes, support_client, typed):
    expect_call(crm, "/api/crm/customer/create", {**CREATE_WIRE, "customer_phones": ["0912345678"]})

    response = support_client.post(reverse("customers:create"), create_form(codes, phones=[typed]))

    assert response.status_code == 302
    phone = Customer.objects.get(code="KH0001").phones.get()
    assert (phone.number, phone.digits) == ("0912345678", "84912345678")


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("+1 415-555-2671", "+14155552671"),
        ("001 415 555 2671", "+14155552671"),
        ("+44 20 7946 0000", "+442079460000"),
        ("+65 6123 4567", "+6561234567"),
    ],
)
def test_a_foreign_number_goes_on_the_wire_in_e164(crm, codes, support_client, typed, sent):
    expect_call(crm, "/api/crm/customer/create", {**CREATE_WIRE, "customer_phones": [sent]})

    response = support_client.post(reverse("customers:create"), create_form(codes, phones=[typed]))

    assert response.status_code == 302
    assert Customer.objects.get(code="KH0001").phones.get().number == sent


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(ONE_NUMBER, 2)))
def test_one_number_written_twice_in_a_form_is_refused_at_the_phones(
    crm, codes, support_client, first, second
):
    response = support_client.post(
        reverse("customers:create"), create_form(codes, phones=[first, second])
    )

    assert response.status_code == 422
    assert response.context["form"].errors["phones"] == [
        f"“{second}” is the same number as “{first}”."
    ]
    assert not crm.calls
    assert not AuditEntry.objects.exists()


def test_twenty_phones_are_sent(crm, codes, support_client):
    typed = [f"0912 000 {n:03d}" for n in range(20)]
    expect_call(
        crm,
        "/api/crm/customer/create",
        {**CREATE_WIRE, "customer_phones": [f"0912000{n:03d}" for n in range(20)]},
    )

    response = support_client.post(reverse("customers:create"), create_form(codes, phones=typed))

    assert response.status_code == 302
    assert Customer.objects.get(code="KH0001").phones.count() == 20


@pytest.mark.parametrize("count", [21, 120])
def test_more_than_twenty_phones_are_refused_before_any_call(crm, codes, support_client, count):
    customer = make_customer("KH0001", "Nguyễn Văn An", ["0912345678"], codes=codes)
    data = {
        "name": "Nguyễn Văn An",
        "phones": [f"0912{n:06d}" for n in range(count)],
        "status": codes["status"].pk,
        "type": codes["type"].pk,
        "group": codes["group"].pk,
    }

    response = support_client.post(reverse("customers:edit", kwargs={"code": "KH0001"}), data)

    assert response.status_code == 422
    assert f"A customer has at most 20 phone numbers; {count} were entered." in response.text
    assert not crm.calls
    assert not AuditEntry.objects.exists()
    assert list(customer.phones.values_list("number", flat=True)) == ["0912345678"]
