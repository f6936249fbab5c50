"""Codes that customers use: renaming keeps them attached; deleting is refused."""

import pytest
from django.urls import reverse

from crmadmin.audit.models import AuditEntry
from crmadmin.codes import services
from crmadmin.customers.models import Customer, CustomerFieldValue
from crmadmin.kinds import REFERENCE_KINDS as KINDS
from tests.crm import envelope, expect_call

from .conftest import make_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def codes_in_use(db):
    """Two customers on status VIP, type CA_NHAN, group HN, with a value for field NGAY_SINH."""
    status = make_record("statuses", "VIP", "Khách VIP")
    customer_type = make_record("types", "CA_NHAN", "Cá nhân")
    group = make_record("groups", "HN", "Hà Nội")
    field = make_record("fields", "NGAY_SINH", "Ngày sinh", field_type="date")
    customers = []
    for number in (1, 2):
        customer = Customer.objects.create(
            code=f"KH{number}",
            name=f"Khách {number}",
            status=status,
            type=customer_type,
            group=group,
        )
        CustomerFieldValue.objects.create(customer=customer, field=field, value="1990-05-01")
        customers.append(customer)
    return {"statuses": "VIP", "types": "CA_NHAN", "groups": "HN", "fields": "NGAY_SINH"}


def test_changing_a_status_code_keeps_its_customers(crm, client_as, codes_in_use):
    expect_call(
        crm,
        "/api/crm/status/updateNo",
        {"status_no_old": "VIP", "status_no_new": "KH_VIP"},
        json=envelope(data="KH_VIP"),
    )

    response = client_as("administrator").post(
        reverse("codes:rename", kwargs={"kind": "statuses", "code": "VIP"}),
        {"new_code": "KH_VIP"},
    )

    assert response.status_code == 302
    assert [c.status.code for c in Customer.objects.order_by("code")] == ["KH_VIP", "KH_VIP"]
    assert Customer.objects.filter(status__code="VIP").count() == 0


@pytest.mark.parametrize(
    ("slug", "usage_text", "advice"),
    [
        ("statuses", "2 customers have this status.", "Move those customers to another status"),
        ("types", "2 customers have this type.", "Move those customers to another type"),
        ("groups", "2 customers are in this group.", "Move those customers to another group"),
        ("fields", "2 customers have a value for this field.", "Clear this field on those"),
    ],
)
def test_confirmation_of_a_code_in_use_shows_the_count_and_no_delete_button(
    client_as, codes_in_use, slug, usage_text, advice
):
    url = reverse("codes:delete", kwargs={"kind": slug, "code": codes_in_use[slug]})

    page = client_as("administrator").get(url).content.decode()

    assert usage_text in page
    assert 'data-usage="2"' in page
    assert 'data-state="in-use"' in page
    assert "is in use, so it cannot be deleted." in page
    assert advice in page
    assert 'class="danger"' not in page
    assert "edit its name instead" in page


@pytest.mark.parametrize("slug", sorted(KINDS))
def test_posting_the_delete_of_a_code_in_use_is_refused_without_calling_the_crm(
    crm, client_as, codes_in_use, slug
):
    code = codes_in_use[slug]
    url = reverse("codes:delete", kwargs={"kind": slug, "code": code})

    response = client_as("administrator").post(url)

    assert response.status_code == 409
    assert 'data-state="in-use"' in response.content.decode()
    assert KINDS[slug].model.objects.filter(code=code).exists()
    assert len(crm.calls) == 0
    assert AuditEntry.objects.count() == 0


def test_the_service_refuses_a_code_in_use_too(crm, administrator_user, codes_in_use):
    kind = KINDS["groups"]
    group = kind.model.objects.get(code="HN")

    with pytest.raises(services.CodeInUse) as refused:
        services.code_delete(kind=kind, actor=administrator_user, record=group)

    assert refused.value.usage == 2
    assert "2 customers are in this group." in refused.value.user_message
    assert kind.model.objects.filter(code="HN").exists()
    assert len(crm.calls) == 0


def test_an_unused_code_shows_zero_and_the_delete_button(client_as):
    make_record("types", "CU", "Cũ")

    page = client_as("administrator").get("/codes/types/CU/delete/").content.decode()

    assert "0 customers have this type." in page
    assert 'data-state="in-use"' not in page
    assert '<button type="submit" class="danger">Delete this type</button>' in page
