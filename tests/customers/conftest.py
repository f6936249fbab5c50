"""Customer-screen tests: the CRM is ``responses`` (static token), the register is real."""

import pytest
import responses
from responses import matchers

from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.customers.models import Customer, CustomerFieldValue, CustomerPhone
from crmadmin.customers.phones import national_digits

CRM = "http://crm.example.test"
TENANT = {"vbot_id": "VBOT-TEST", "project_code": "PRJ-TEST"}
STATIC_TOKEN = "test-token"


def envelope(data="OK", status=1, error=0, message="success"):
    return {"status": status, "error": error, "message": message, "data": data}


@pytest.fixture
def crm(settings):
    """The fake CRM: every registered answer must be used, and nothing else is reachable."""
    settings.CRM_API_TOKEN = STATIC_TOKEN
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def expect_call(mock, path: str, wire: dict, **answer):
    """One CRM answer that matches only the exact body (tenant pair added) and the token."""
    if "body" not in answer:
        answer.setdefault("json", envelope(wire.get("customer_no") or wire.get("customer_no_new")))
    return mock.post(
        f"{CRM}{path}",
        match=[
            matchers.json_params_matcher({**TENANT, **wire}, strict_match=True),
            matchers.header_matcher({"Authorization": f"Bearer {STATIC_TOKEN}"}),
        ],
        **answer,
    )


@pytest.fixture
def codes(db):
    """The reference codes of the register: two of each, and three custom fields."""
    return {
        "status": Status.objects.create(code="MOI", name="Mới"),
        "status_vip": Status.objects.create(code="VIP", name="Khách VIP"),
        "type": Type.objects.create(code="CA_NHAN", name="Cá nhân"),
        "type_company": Type.objects.create(code="DOANH_NGHIEP", name="Doanh nghiệp"),
        "group": Group.objects.create(code="HN", name="Hà Nội"),
        "group_south": Group.objects.create(code="HCM", name="Hồ Chí Minh"),
        "birthday": Field.objects.create(code="NGAY_SINH", name="Ngày sinh", field_type="date"),
        "note": Field.objects.create(code="GHI_CHU", name="Ghi chú", field_type="textarea"),
        "staff": Field.objects.create(code="SO_NV", name="Số nhân viên", field_type="number"),
    }


def make_customer(
    code: str,
    name: str,
    phones=("0912345678",),
    *,
    codes,
    email: str = "",
    status=None,
    type=None,
    group=None,
    values=None,
) -> Customer:
    """A customer put straight into the register (as an import would)."""
    customer = Customer(
        code=code,
        name=name,
        email=email,
        address="",
        status=status or codes["status"],
        type=type or codes["type"],
        group=group or codes["group"],
        phone_digits=" ".join(national_digits(number) for number in phones),
    )
    customer.save()
    for position, number in enumerate(phones):
        CustomerPhone.objects.create(customer=customer, position=position, number=number)
    for field, value in (values or {}).items():
        CustomerFieldValue.objects.create(customer=customer, field=field, value=value)
    return customer


@pytest.fixture
def support_client(client_as):
    return client_as("support")
