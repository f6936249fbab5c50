"""What the sandbox's data looks like after each call: renames, updates, deletes."""

import pytest

from crmadmin.sandbox.errors import ErrorCode
from crmadmin.sandbox.models import SandboxCode, SandboxCustomer, SandboxFieldValue
from tests.sandbox.helpers import CUSTOMER, ok, rejected

pytestmark = pytest.mark.django_db


def _stored_customer(code: str = "KH001") -> dict:
    customer = SandboxCustomer.objects.get(code=code)
    return {
        "name": customer.name,
        "phones": customer.phones,
        "address": customer.address,
        "email": customer.email,
        "status": customer.status.code,
        "type": customer.type.code,
        "group": customer.group.name,
        "fileds": {value.field.code: value.value for value in customer.field_values.all()},
    }


def test_create_stores_what_the_body_says(customer):
    assert _stored_customer() == {
        "name": "Nguyễn Văn An",
        "phones": ["0912345678"],
        "address": "12 Hàng Bạc, Hà Nội",
        "email": "an@example.vn",
        "status": "VIP",
        "type": "LE",
        "group": "Hà Nội",
        "fileds": {"NGAY_SINH": "1990-01-02"},
    }


def test_renaming_a_status_or_type_moves_its_customers_along(customer):
    customer("status/updateNo", {"status_no_old": "VIP", "status_no_new": "KIM_CUONG"})
    customer("type/updateNo", {"type_no_old": "LE", "type_no_new": "SI"})

    stored = _stored_customer()
    assert (stored["status"], stored["type"]) == ("KIM_CUONG", "SI")
    # Customers now name the new codes; the old ones are gone.
    renamed = {**CUSTOMER, "customer_status_code": "KIM_CUONG", "customer_type_code": "SI"}
    assert customer("customer/update", renamed).json() == ok("KH001")
    rejected(customer("customer/update", CUSTOMER), ErrorCode.UNKNOWN_STATUS)
    rejected(
        customer("customer/update", {**renamed, "customer_type_code": "LE"}),
        ErrorCode.UNKNOWN_TYPE,
    )


def test_renaming_a_group_keeps_its_name_and_its_customers(customer):
    customer("group/updateNo", {"group_no_old": "HN", "group_no_new": "HA_NOI"})

    group = SandboxCode.objects.get(kind="group")
    assert (group.code, group.name) == ("HA_NOI", "Hà Nội")
    assert _stored_customer()["group"] == "Hà Nội"
    assert customer("customer/update", CUSTOMER).json() == ok("KH001")


def test_renaming_a_group_changes_its_customers_group_name(customer):
    customer("group/update", {"group_no": "HN", "group_name": "Thủ đô"})

    assert _stored_customer()["group"] == "Thủ đô"
    rejected(customer("customer/update", CUSTOMER), ErrorCode.UNKNOWN_GROUP)
    response = customer("customer/update", {**CUSTOMER, "customer_group_name": "Thủ đô"})
    assert response.json() == ok("KH001")


def test_renaming_a_field_keeps_its_values(customer):
    customer("field/updateNo", {"field_no_old": "NGAY_SINH", "field_no_new": "DOB"})

    assert _stored_customer()["fileds"] == {"DOB": "1990-01-02"}


def test_renaming_a_customer_keeps_its_data(customer):
    before = _stored_customer()

    response = customer("customer/updateNO", {"customer_no_old": "KH001", "customer_no_new": "KH9"})

    assert response.json() == ok("KH9")
    assert _stored_customer("KH9") == before
    assert not SandboxCustomer.objects.filter(code="KH001").exists()


def test_renaming_to_the_same_code_changes_nothing(customer):
    response = customer("status/updateNo", {"status_no_old": "VIP", "status_no_new": "VIP"})

    assert response.json() == ok("VIP")
    assert _stored_customer()["status"] == "VIP"


def test_update_replaces_the_customer_and_clears_left_out_optional_keys(customer):
    customer("status/create", {"status_no": "MOI", "status_name": "Mới"})
    customer("field/create", {"field_no": "NGHE", "field_name": "Nghề", "field_type": "text"})
    body = {
        key: value
        for key, value in CUSTOMER.items()
        if key not in {"customer_address", "customer_email"}
    }

    customer(
        "customer/update",
        {
            **body,
            "customer_name": "Trần Thị Bình",
            "customer_phones": ["0987654321", "0243123456"],
            "customer_status_code": "MOI",
            "fileds": [{"field_key": "NGHE", "field_value": "Kỹ sư"}],
        },
    )

    assert _stored_customer() == {
        "name": "Trần Thị Bình",
        "phones": ["0987654321", "0243123456"],
        "address": "",
        "email": "",
        "status": "MOI",
        "type": "LE",
        "group": "Hà Nội",
        "fileds": {"NGHE": "Kỹ sư"},
    }


def test_update_changes_a_code_records_attributes(codes):
    codes(
        "field/update",
        {
            "field_no": "NGAY_SINH",
            "field_name": "Sinh nhật",
            "field_type": "text",
            "field_description": "dd/mm",
        },
    )
    codes("group/update", {"group_no": "HN", "group_name": "Hà Nội"})

    field = SandboxCode.objects.get(kind="field")
    assert (field.name, field.field_type, field.description) == ("Sinh nhật", "text", "dd/mm")
    # group_description left out: cleared, as every optional key of an update.
    assert SandboxCode.objects.get(kind="group").description == ""


def test_deleting_a_customer_frees_its_codes(customer):
    customer("customer/delete", {"customer_no": "KH001"})

    assert not SandboxFieldValue.objects.exists()
    for path, body in (
        ("status/delete", {"status_no": "VIP"}),
        ("type/delete", {"type_no": "LE"}),
        ("group/delete", {"group_no": "HN"}),
        ("field/delete", {"field_no": "NGAY_SINH"}),
    ):
        assert customer(path, body).json() == ok(True)
    assert not SandboxCode.objects.exists()


def test_a_deleted_code_can_be_created_again(codes):
    codes("status/delete", {"status_no": "VIP"})

    assert codes("status/create", {"status_no": "VIP", "status_name": "VIP"}).json() == ok("VIP")
