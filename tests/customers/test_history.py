"""A customer's detail page and its history, under every code it had."""

import pytest
from django.urls import reverse

from crmadmin.audit.models import AuditEntry
from tests.crm import envelope, expect_call

from .conftest import make_customer

pytestmark = pytest.mark.django_db


def rename(client, crm, old, new, **answer):
    expect_call(
        crm,
        "/api/crm/customer/updateNO",
        {"customer_no_old": old, "customer_no_new": new},
        **answer,
    )
    return client.post(reverse("customers:rename", kwargs={"code": old}), {"new_code": new})


def history_rows(response):
    return [
        (item["entry"].operation, item["entry"].code, item["entry"].new_code)
        for item in response.context["history"]
    ]


def test_history_follows_the_customer_through_its_code_changes(crm, codes, support_client):
    expect_call(
        crm,
        "/api/crm/customer/create",
        {
            "customer_no": "OLD-1",
            "customer_name": "Lê Hoàng Dũng",
            "customer_phones": ["0912345678"],
            "customer_address": "",
            "customer_email": "",
            "customer_status_code": "MOI",
            "customer_type_code": "CA_NHAN",
            "customer_group_name": "Hà Nội",
        },
    )
    created = support_client.post(
        reverse("customers:create"),
        {
            "code": "OLD-1",
            "name": "Lê Hoàng Dũng",
            "phones": ["0912345678"],
            "status": codes["status"].pk,
            "type": codes["type"].pk,
            "group": codes["group"].pk,
        },
    )
    assert created.status_code == 302
    assert rename(support_client, crm, "OLD-1", "MID-2").status_code == 302
    refused = rename(
        support_client,
        crm,
        "MID-2",
        "TAKEN",
        json=envelope(data=None, status=0, error=3, message="Mã đã tồn tại"),
    )
    assert refused.status_code == 422
    assert rename(support_client, crm, "MID-2", "NEW-3").status_code == 302
    # Another customer's entries do not belong to this history.
    make_customer("OTHER", "Người khác", ["0987654321"], codes=codes)
    expect_call(crm, "/api/crm/customer/delete", {"customer_no": "OTHER"}, json=envelope(True))
    support_client.post(reverse("customers:delete", kwargs={"code": "OTHER"}))

    response = support_client.get(reverse("customers:detail", kwargs={"code": "NEW-3"}))

    assert response.status_code == 200
    assert history_rows(response) == [
        ("customer.rename", "MID-2", "NEW-3"),
        ("customer.rename", "MID-2", "TAKEN"),
        ("customer.rename", "OLD-1", "MID-2"),
        ("customer.create", "OLD-1", ""),
    ]
    text = response.text
    assert "Mã đã tồn tại" in text
    assert "OLD-1 → MID-2" in text
    # Support may not open the audit log: the history is shown inline, without links.
    assert "/audit/" not in text.split('id="history"')[1]


def test_users_who_may_read_the_audit_log_get_links_to_entries(client_as, codes):
    customer = make_customer("KH0001", "Nguyễn Văn An", codes=codes)
    entry = AuditEntry.objects.create(
        operation="customer.update",
        record_kind="customer",
        code=customer.code,
        started_at="2026-11-29T08:00:00Z",
        outcome="succeeded",
        actor_username="someone",
    )

    response = client_as("manager").get(reverse("customers:detail", kwargs={"code": "KH0001"}))

    assert f'href="/audit/{entry.pk}/"' in response.text
    assert "someone" in response.text


def test_detail_shows_everything_about_the_customer(support_client, codes):
    make_customer(
        "KH0001",
        "Nguyễn Văn An",
        ["0912345678", "+84283822123"],
        codes=codes,
        email="an@example.vn",
        status=codes["status_vip"],
        values={codes["note"]: "Gọi buổi sáng", codes["birthday"]: "1990-05-17"},
    )

    response = support_client.get(reverse("customers:detail", kwargs={"code": "KH0001"}))

    text = response.text
    for shown in [
        "Nguyễn Văn An",
        "0912345678",
        "+84283822123",
        "an@example.vn",
        "Khách VIP",
        "Cá nhân",
        "Hà Nội",
        "Ghi chú",
        "Gọi buổi sáng",
        "Ngày sinh",
        "1990-05-17",
        "No calls to the CRM are recorded for this customer.",
    ]:
        assert shown in text
    for action in ["edit", "rename", "delete"]:
        assert f'data-action="{action}"' in text


def test_unknown_code_is_404(support_client, codes):
    response = support_client.get(reverse("customers:detail", kwargs={"code": "NOPE"}))
    assert response.status_code == 404


def test_a_call_whose_outcome_never_came_back_is_shown_as_unknown(support_client, codes):
    from django.utils import timezone

    make_customer("KH0001", "Nguyễn Văn An", codes=codes)
    AuditEntry.objects.create(
        operation="customer.update",
        record_kind="customer",
        code="KH0001",
        started_at=timezone.now() - timezone.timedelta(hours=1),
    )
    AuditEntry.objects.create(
        operation="customer.update",
        record_kind="customer",
        code="KH0001",
        started_at=timezone.now(),
    )

    response = support_client.get(reverse("customers:detail", kwargs={"code": "KH0001"}))

    assert [item["outcome"] for item in response.context["history"]] == ["pending", "unknown"]
    assert '<span class="badge badge-unknown">Outcome unknown</span>' in response.text
    assert '<span class="badge badge-pending">In progress</span>' in response.text
