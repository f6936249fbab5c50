"""Issue 10 item 4: a refusal whose meaning the table knows is shown at the field it
concerns, in the user's language, with the CRM's own words as a detail line; any other
keeps the general message. The table (``CRM_REJECTION_CODES`` over the sandbox's codes)
drives it."""

import re

import pytest
from django.urls import reverse

from crmadmin.customers.models import Customer
from tests.crm import STATIC_TOKEN, envelope, expect_call

from .conftest import make_customer

pytestmark = pytest.mark.django_db


def typed(codes):
    return {
        "code": "KH0100",
        "name": "Trần Thị Mai",
        "phones": ["0912345678"],
        "email": "",
        "address": "",
        "status": codes["status"].pk,
        "type": codes["type"].pk,
        "group": codes["group"].pk,
        f"cf_{codes['note'].pk}": "Gọi buổi chiều",
    }


WIRE = {
    "customer_no": "KH0100",
    "customer_name": "Trần Thị Mai",
    "customer_phones": ["0912345678"],
    "customer_address": "",
    "customer_email": "",
    "customer_status_code": "MOI",
    "customer_type_code": "CA_NHAN",
    "customer_group_name": "Hà Nội",
    "fileds": [{"field_key": "GHI_CHU", "field_value": "Gọi buổi chiều"}],
}


def refused(error, message):
    return {"json": envelope(data=None, status=0, error=error, message=message)}


def field_errors(text: str, field_id: str) -> str:
    """The error list Django renders under one field ("" when it has none)."""
    found = re.search(rf'<ul class="errorlist" id="{field_id}_error">(.*?)</ul>', text, re.S)
    return found.group(1) if found else ""


# (the sandbox's error code, the CRM's words, the field's id, what the user reads there)
KNOWN = [
    (
        1101,
        "Mã khách hàng đã tồn tại: KH0100.",
        "id_code",
        "The CRM already has a record with this code.",
    ),
    (
        1103,
        "Không tìm thấy trạng thái khách hàng có mã: MOI.",
        "id_status",
        "The CRM does not know this status.",
    ),
    (
        1104,
        "Không tìm thấy loại khách hàng có mã: CA_NHAN.",
        "id_type",
        "The CRM does not know this type.",
    ),
    (
        1105,
        "Không tìm thấy nhóm khách hàng có tên: Hà Nội.",
        "id_group",
        "The CRM does not know this group.",
    ),
    (
        1106,
        "Không tìm thấy trường thông tin có mã: GHI_CHU.",
        "id_cf_{note}",
        "The CRM does not know this custom field.",
    ),
]


@pytest.mark.parametrize(("error", "words", "field_id", "meaning"), KNOWN)
def test_a_known_refusal_of_a_create_is_shown_at_its_field(
    crm, codes, support_client, error, words, field_id, meaning
):
    field_id = field_id.format(note=codes["note"].pk)
    expect_call(crm, "/api/crm/customer/create", WIRE, **refused(error, words))

    response = support_client.post(reverse("customers:create"), typed(codes))

    assert response.status_code == 422
    at_field = field_errors(response.text, field_id)
    assert meaning in at_field
    # The CRM's own text and error code, as a detail line under the message.
    assert f'<small class="crm-detail">The CRM said: “{words}” (error {error})</small>' in at_field
    # Not repeated as a general error, and every input is kept.
    assert "The CRM rejected the request" not in response.text
    assert 'value="KH0100"' in response.text
    assert 'value="Trần Thị Mai"' in response.text
    assert "Gọi buổi chiều</textarea>" in response.text
    assert f'<option value="{codes["status"].pk}" selected>' in response.text
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("error", "field_id", "meaning"),
    [
        (1103, "id_status", "CRM không biết trạng thái này."),
        (1104, "id_type", "CRM không biết loại này."),
        (1105, "id_group", "CRM không biết nhóm này."),
    ],
)
def test_an_edit_refused_for_an_unknown_code_points_at_its_select_in_vietnamese(
    crm, codes, support_client, error, field_id, meaning
):
    make_customer("KH0100", "Trần Thị Mai", codes=codes)
    data = typed(codes)
    del data["code"]
    expect_call(
        crm, "/api/crm/customer/update", WIRE, **refused(error, "Không tìm thấy mã tham chiếu.")
    )

    response = support_client.post(
        reverse("customers:edit", kwargs={"code": "KH0100"}), data, HTTP_ACCEPT_LANGUAGE="vi"
    )

    assert response.status_code == 422
    at_field = field_errors(response.text, field_id)
    assert meaning in at_field
    assert f"CRM trả lời: “Không tìm thấy mã tham chiếu.” (mã lỗi {error})" in at_field
    widget = re.search(rf'<select[^>]*id="{field_id}"[^>]*>', response.text).group(0)
    assert 'aria-invalid="true"' in widget


def test_a_duplicate_new_code_is_shown_at_the_new_code_field(crm, codes, support_client):
    make_customer("KH0100", "Trần Thị Mai", codes=codes)
    expect_call(
        crm,
        "/api/crm/customer/updateNO",
        {"customer_no_old": "KH0100", "customer_no_new": "KH0200"},
        **refused(1101, "Mã khách hàng đã tồn tại: KH0200."),
    )

    response = support_client.post(
        reverse("customers:rename", kwargs={"code": "KH0100"}), {"new_code": "KH0200"}
    )

    assert response.status_code == 422
    at_field = field_errors(response.text, "id_new_code")
    assert "The CRM already has a record with this code." in at_field
    assert "Mã khách hàng đã tồn tại: KH0200." in at_field
    assert 'value="KH0200"' in response.text


def test_an_unknown_code_keeps_the_general_message(crm, codes, support_client):
    expect_call(crm, "/api/crm/customer/create", WIRE, **refused(4242, "Lỗi không xác định"))

    response = support_client.post(reverse("customers:create"), typed(codes))

    assert response.status_code == 422
    assert "The CRM rejected the request: Lỗi không xác định (error 4242)" in response.text
    for field_id in ("id_code", "id_status", "id_type", "id_group"):
        assert field_errors(response.text, field_id) == ""


def test_the_table_drives_the_placement(crm, codes, support_client, settings):
    """A deployment's own codes: "E-DUP" means a duplicate code, and the sandbox's 1101 is
    remapped to an unknown status."""
    settings.CRM_REJECTION_CODES = {"E-DUP": "duplicate_code", "1101": "unknown_status"}
    expect_call(crm, "/api/crm/customer/create", WIRE, **refused("E-DUP", "exists"))
    expect_call(crm, "/api/crm/customer/create", WIRE, **refused(1101, "no such status"))

    first = support_client.post(reverse("customers:create"), typed(codes))
    second = support_client.post(reverse("customers:create"), typed(codes))

    assert "The CRM already has a record with this code." in field_errors(first.text, "id_code")
    assert field_errors(first.text, "id_status") == ""
    assert "The CRM does not know this status." in field_errors(second.text, "id_status")
    assert field_errors(second.text, "id_code") == ""


def test_the_crms_words_are_escaped_and_never_carry_the_token(crm, codes, support_client):
    words = f'<script>alert(1)</script> token {STATIC_TOKEN} & "quotes"'
    expect_call(crm, "/api/crm/customer/create", WIRE, **refused(1101, words))

    response = support_client.post(reverse("customers:create"), typed(codes))

    at_field = field_errors(response.text, "id_code")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in at_field
    assert "<script>alert(1)" not in response.text
    assert STATIC_TOKEN not in response.text
    assert "[redacted]" in at_field
