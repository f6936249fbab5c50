"""Customer-screen tests: the CRM is ``responses`` (static token), the register is real."""

import pytest

from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.customers.models import Customer, CustomerFieldValue, CustomerPhone
from crmadmin.customers.phones import comparison_key


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
        phone_digits=" ".join(comparison_key(number) for number in phones),
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
