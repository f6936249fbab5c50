"""A phone or e-mail another customer already has: warn, name them, let the user go on."""

import pytest
from django.urls import reverse

from crmadmin.audit.models import AuditEntry
from crmadmin.customers.models import Customer
from tests.crm import expect_call

from .conftest import make_customer

pytestmark = pytest.mark.django_db


def form(codes, **overrides):
    data = {
        "code": "KH0002",
        "name": "Nguyễn Văn An (con)",
        "phones": ["0977 111 222", "+84 912 345 678"],
        "email": "",
        "address": "",
        "status": codes["status"].pk,
        "type": codes["type"].pk,
        "group": codes["group"].pk,
    }
    data.update(overrides)
    return data


@pytest.fixture
def existing(codes):
    return make_customer(
        "KH0001", "Nguyễn Văn An", ["0912345678"], codes=codes, email="an@example.vn"
    )


def test_a_shared_phone_is_warned_about_before_anything_is_sent(
    crm, codes, support_client, existing
):
    response = support_client.post(reverse("customers:create"), form(codes))

    assert response.status_code == 409
    text = response.text
    assert "This may be a customer the register already has." in text
    assert 'href="/customers/KH0001/"' in text
    assert "KH0001 · Nguyễn Văn An" in text
    assert "already has the phone 0912345678" in text
    assert 'name="confirm_duplicates" value="on"' in text
    # The form is still filled in.
    assert 'value="0977 111 222"' in text
    assert 'value="+84 912 345 678"' in text
    assert not AuditEntry.objects.exists()
    assert not Customer.objects.filter(code="KH0002").exists()


def test_save_anyway_creates_the_customer(crm, codes, support_client, existing):
    expect_call(
        crm,
        "/api/crm/customer/create",
        {
            "customer_no": "KH0002",
            "customer_name": "Nguyễn Văn An (con)",
            "customer_phones": ["0977111222", "0912345678"],
            "customer_address": "",
            "customer_email": "",
            "customer_status_code": "MOI",
            "customer_type_code": "CA_NHAN",
            "customer_group_name": "Hà Nội",
        },
    )

    response = support_client.post(
        reverse("customers:create"), form(codes, confirm_duplicates="on")
    )

    assert response.status_code == 302
    assert Customer.objects.filter(code="KH0002").exists()


def test_a_shared_email_is_warned_about_in_any_case(crm, codes, support_client, existing):
    response = support_client.post(
        reverse("customers:create"), form(codes, phones=["0977111222"], email="AN@example.vn")
    )

    assert response.status_code == 409
    assert "already has this e-mail address" in response.text


def test_editing_a_customer_does_not_warn_about_its_own_contacts(
    crm, codes, support_client, existing
):
    expect_call(
        crm,
        "/api/crm/customer/update",
        {
            "customer_no": "KH0001",
            "customer_name": "Nguyễn Văn An",
            "customer_phones": ["0912345678"],
            "customer_address": "",
            "customer_email": "an@example.vn",
            "customer_status_code": "MOI",
            "customer_type_code": "CA_NHAN",
            "customer_group_name": "Hà Nội",
        },
    )
    data = form(codes, name="Nguyễn Văn An", phones=["0912 345 678"], email="an@example.vn")
    del data["code"]

    response = support_client.post(reverse("customers:edit", kwargs={"code": "KH0001"}), data)

    assert response.status_code == 302


def test_editing_into_another_customers_phone_warns(crm, codes, support_client, existing):
    make_customer("KH0005", "Trần Thị Bích", ["0987654321"], codes=codes)
    data = form(codes, name="Trần Thị Bích", phones=["0987654321", "0912.345.678"])
    del data["code"]

    response = support_client.post(reverse("customers:edit", kwargs={"code": "KH0005"}), data)

    assert response.status_code == 409
    assert "KH0001 · Nguyễn Văn An" in response.text
    assert "KH0005 ·" not in response.text.split('id="duplicates"')[1].split("</div>")[0]


@pytest.mark.parametrize(
    "typed",
    [
        "+84 (0) 912 345 678",
        "0084 912 345 678",
        "+84 912 345 678",
        "84912345678",
        "0912.345.678",
    ],
)
@pytest.mark.parametrize("stored", ["0912345678", "+84912345678"])
def test_every_way_of_writing_the_number_warns_about_its_owner(
    crm, codes, support_client, typed, stored
):
    # "+84912345678": a number stored as an earlier version sent it; its key is the same.
    make_customer("KH0001", "Nguyễn Văn An", [stored], codes=codes)

    response = support_client.post(reverse("customers:create"), form(codes, phones=[typed]))

    assert response.status_code == 409
    assert "KH0001 · Nguyễn Văn An" in response.text
    assert "already has the phone 0912345678" in response.text
    assert not crm.calls
    assert not AuditEntry.objects.exists()
