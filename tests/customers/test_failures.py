"""A refused or failed call changes nothing and gives the user back everything typed."""

import pytest
import requests
from django.urls import reverse

from crmadmin.audit.models import AuditEntry
from crmadmin.customers.models import Customer, CustomerFieldValue, CustomerPhone
from tests.crm import envelope, expect_call

from .conftest import make_customer

pytestmark = pytest.mark.django_db

REJECTED = {"json": envelope(data=None, status=0, error=7, message="Khách hàng đã tồn tại")}
TIMEOUT = {"body": requests.exceptions.ReadTimeout("read timed out")}
REJECTED_TEXT = "The CRM rejected the request: Khách hàng đã tồn tại (error 7)"
TIMEOUT_TEXT = "The CRM did not answer within"

FAILURES = pytest.mark.parametrize(
    ("answer", "message", "outcome"),
    [(REJECTED, REJECTED_TEXT, "rejected"), (TIMEOUT, TIMEOUT_TEXT, "failed")],
    ids=["rejected", "timeout"],
)


def typed(codes):
    return {
        "code": "KH0009",
        "name": "Phạm Minh Đức",
        "phones": ["0912 000 111", "0913.000.222", "+84 914 000 333"],
        "email": "duc.pham@example.vn",
        "address": "45 Trần Hưng Đạo, Hà Nội",
        "status": codes["status_vip"].pk,
        "type": codes["type_company"].pk,
        "group": codes["group_south"].pk,
        f"cf_{codes['birthday'].pk}": "1985-02-03",
        f"cf_{codes['note'].pk}": "Khách quen\nưu tiên",
        f"cf_{codes['staff'].pk}": "120",
    }


def wire(data):
    return {
        "customer_no": "KH0009",
        "customer_name": "Phạm Minh Đức",
        "customer_phones": ["0912000111", "0913000222", "0914000333"],
        "customer_address": "45 Trần Hưng Đạo, Hà Nội",
        "customer_email": "duc.pham@example.vn",
        "customer_status_code": "VIP",
        "customer_type_code": "DOANH_NGHIEP",
        "customer_group_name": "Hồ Chí Minh",
        "fileds": [
            {"field_key": "GHI_CHU", "field_value": "Khách quen\nưu tiên"},
            {"field_key": "NGAY_SINH", "field_value": "1985-02-03"},
            {"field_key": "SO_NV", "field_value": "120"},
        ],
    }


def assert_everything_kept(text, codes):
    # Every phone as typed, the third included, each in its own row.
    assert text.count('name="phones"') == 3
    for phone in ["0912 000 111", "0913.000.222", "+84 914 000 333"]:
        assert f'value="{phone}"' in text
    assert 'value="Phạm Minh Đức"' in text
    assert 'value="duc.pham@example.vn"' in text
    assert 'value="45 Trần Hưng Đạo, Hà Nội"' in text
    assert f'<option value="{codes["status_vip"].pk}" selected>' in text
    assert f'<option value="{codes["type_company"].pk}" selected>' in text
    assert f'<option value="{codes["group_south"].pk}" selected>' in text
    assert 'value="1985-02-03"' in text
    assert "Khách quen\nưu tiên</textarea>" in text
    assert 'value="120"' in text


@FAILURES
def test_create_failure_keeps_every_input_and_the_register(
    crm, codes, support_client, answer, message, outcome
):
    data = typed(codes)
    expect_call(crm, "/api/crm/customer/create", wire(data), **answer)

    response = support_client.post(reverse("customers:create"), data)

    assert response.status_code == 422
    assert message in response.text
    assert 'value="KH0009"' in response.text
    assert_everything_kept(response.text, codes)
    assert not Customer.objects.exists()
    assert not CustomerPhone.objects.exists()
    assert not CustomerFieldValue.objects.exists()
    entry = AuditEntry.objects.get(operation="customer.create")
    assert entry.outcome == outcome


@FAILURES
def test_update_failure_keeps_every_input_and_the_register(
    crm, codes, support_client, answer, message, outcome
):
    customer = make_customer(
        "KH0009", "Pham Minh Duc", ["0900000000"], codes=codes, values={codes["note"]: "cũ"}
    )
    data = typed(codes)
    del data["code"]
    expect_call(crm, "/api/crm/customer/update", wire(data), **answer)

    response = support_client.post(reverse("customers:edit", kwargs={"code": "KH0009"}), data)

    assert response.status_code == 422
    assert message in response.text
    assert_everything_kept(response.text, codes)
    customer.refresh_from_db()
    assert customer.name == "Pham Minh Duc"
    assert customer.status == codes["status"]
    assert list(customer.phones.values_list("number", flat=True)) == ["0900000000"]
    assert customer.phone_digits == "84900000000"
    assert dict(customer.field_values.values_list("field__code", "value")) == {"GHI_CHU": "cũ"}


@FAILURES
def test_rename_failure_keeps_the_code(crm, codes, support_client, answer, message, outcome):
    make_customer("KH0009", "Phạm Minh Đức", codes=codes)
    expect_call(
        crm,
        "/api/crm/customer/updateNO",
        {"customer_no_old": "KH0009", "customer_no_new": "KH0010"},
        **answer,
    )

    response = support_client.post(
        reverse("customers:rename", kwargs={"code": "KH0009"}), {"new_code": "KH0010"}
    )

    assert response.status_code == 422
    assert message in response.text
    assert 'value="KH0010"' in response.text
    assert list(Customer.objects.values_list("code", flat=True)) == ["KH0009"]


@FAILURES
def test_delete_failure_keeps_the_customer(crm, codes, support_client, answer, message, outcome):
    make_customer("KH0009", "Phạm Minh Đức", codes=codes)
    expect_call(crm, "/api/crm/customer/delete", {"customer_no": "KH0009"}, **answer)

    response = support_client.post(reverse("customers:delete", kwargs={"code": "KH0009"}))

    assert response.status_code == 422
    assert message in response.text
    assert Customer.objects.filter(code="KH0009").exists()
    assert CustomerPhone.objects.filter(customer__code="KH0009").exists()


def test_validation_errors_keep_every_phone_row(crm, codes, support_client):
    data = typed(codes)
    data["phones"] = ["0912 000 111", "not a phone", "+84 914 000 333", ""]

    response = support_client.post(reverse("customers:create"), data)

    assert response.status_code == 422
    assert "“not a phone” is not a phone number" in response.text
    assert response.text.count('name="phones"') == 4
    assert 'value="not a phone"' in response.text
    assert 'value="+84 914 000 333"' in response.text
    assert not AuditEntry.objects.exists()
