"""Issue 10 item 5: a customer's history reads as plain, translated words derived from what
was sent compared with the state before ("Code changed KH1 → KH2", "Phones: … → …"), not
``customer.update / success``; each entry opens to what was sent and what came back, with
no token or password in it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crmadmin.audit.models import AuditEntry
from tests.crm import STATIC_TOKEN, TENANT, envelope, expect_call

from .conftest import make_customer

pytestmark = pytest.mark.django_db

BEFORE = {
    "customer_no": "KH1",
    "customer_name": "Đỗ Minh Khánh",
    "customer_phones": ["0912345678"],
    "customer_address": "",
    "customer_email": "",
    "customer_status_code": "MOI",
    "customer_type_code": "CA_NHAN",
    "customer_group_name": "Hà Nội",
}


def entry(operation, *, code="KH1", outcome="succeeded", body=None, before=None, **fields):
    started = fields.pop("started_at", timezone.now() - timedelta(minutes=1))
    return AuditEntry.objects.create(
        operation=operation,
        record_kind="customer",
        code=code,
        outcome=outcome,
        request_body={**TENANT, **(body or {})} if operation != "register.adopt" else body,
        snapshot_before=before,
        started_at=started,
        actor_username="support-user",
        **fields,
    )


# (what the entry is, the English words, the Vietnamese words)
CASES = {
    "created": (
        lambda: entry("customer.create", body=BEFORE, http_status=200, upstream_status=1),
        ["Created"],
        ["Đã tạo"],
    ),
    "code changed": (
        lambda: entry(
            "customer.rename",
            new_code="KH2",
            body={"customer_no_old": "KH1", "customer_no_new": "KH2"},
        ),
        ["Code changed KH1 → KH2"],
        ["Đổi mã KH1 → KH2"],
    ),
    "phones": (
        lambda: entry(
            "customer.update",
            body={**BEFORE, "customer_phones": ["0987654321", "0912345678"]},
            before=BEFORE,
        ),
        ["Changed", "Phones: 0912345678 → 0987654321, 0912345678"],
        ["Đã sửa", "Số điện thoại: 0912345678 → 0987654321, 0912345678"],
    ),
    "status": (
        lambda: entry(
            "customer.update", body={**BEFORE, "customer_status_code": "VIP"}, before=BEFORE
        ),
        ["Status: MOI → VIP"],
        ["Trạng thái: MOI → VIP"],
    ),
    "custom field": (
        lambda: entry(
            "customer.update",
            body={**BEFORE, "fileds": [{"field_key": "GHI_CHU", "field_value": "mới"}]},
            before={**BEFORE, "fileds": [{"field_key": "GHI_CHU", "field_value": "cũ"}]},
        ),
        ["GHI_CHU: cũ → mới"],
        ["GHI_CHU: cũ → mới"],
    ),
    "nothing changed": (
        lambda: entry("customer.update", body=BEFORE, before=BEFORE),
        ["Saved without changes"],
        ["Đã lưu, không có thay đổi"],
    ),
    "deleted": (
        lambda: entry("customer.delete", body={"customer_no": "KH1"}, before=BEFORE),
        ["Deleted"],
        ["Đã xóa"],
    ),
    "adopted": (
        lambda: entry(
            "register.adopt", body={"file": "khach-hang-2026.csv", "import": 3, "row": 7}
        ),
        ["Adopted from import file khach-hang-2026.csv"],
        ["Đưa vào sổ từ tệp nhập khach-hang-2026.csv"],
    ),
    "failed with a known meaning": (
        lambda: entry(
            "customer.update",
            outcome="rejected",
            failure_kind="rejected",
            upstream_error="1103",
            upstream_message="Không tìm thấy trạng thái",
            body={**BEFORE, "customer_status_code": "XX"},
            before=BEFORE,
        ),
        ["Failed: The CRM does not know this status.", "Tried: Changed", "Status: MOI → XX"],
        ["Thất bại: CRM không biết trạng thái này.", "Đã thử: Đã sửa", "Trạng thái: MOI → XX"],
    ),
    "outcome unknown": (
        lambda: entry(
            "customer.delete",
            outcome="pending",
            body={"customer_no": "KH1"},
            started_at=timezone.now() - timedelta(hours=2),
        ),
        ["Outcome unknown", "Tried: Deleted"],
        ["Không rõ kết quả", "Đã thử: Đã xóa"],
    ),
    "timed out": (
        lambda: entry(
            "customer.update",
            outcome="failed",
            failure_kind="timeout",
            error_detail="ReadTimeout",
            body=BEFORE,
            before=BEFORE,
        ),
        ["Outcome unknown: timeout"],
        ["Không rõ kết quả"],
    ),
}


def history_of(client, language):
    response = client.get(
        reverse("customers:detail", kwargs={"code": "KH1"}), HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200
    return response.text.split('id="history"')[1]


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("language", ["en", "vi"])
def test_each_entry_reads_as_plain_words(codes, support_client, case, language):
    make_customer("KH1", "Đỗ Minh Khánh", codes=codes)
    make, english, vietnamese = CASES[case]
    made = make()

    history = history_of(support_client, language)

    for words in english if language == "en" else vietnamese:
        assert words in history
    assert made.operation not in history  # not "customer.update / success"
    assert '<details class="story"' in history


def test_support_sees_what_was_sent_and_what_came_back(crm, codes, support_client):
    make_customer("KH1", "Đỗ Minh Khánh", codes=codes)
    expect_call(
        crm,
        "/api/crm/customer/update",
        {**BEFORE, "customer_name": "Đỗ Minh Khang"},
        json=envelope(data=None, status=0, error=1105, message="Không tìm thấy nhóm: Hà Nội"),
    )
    support_client.post(
        reverse("customers:edit", kwargs={"code": "KH1"}),
        {
            "name": "Đỗ Minh Khang",
            "phones": ["0912345678"],
            "status": codes["status"].pk,
            "type": codes["type"].pk,
            "group": codes["group"].pk,
        },
    )

    history = history_of(support_client, "en")

    assert "Failed: The CRM does not know this group." in history
    assert "Name: Đỗ Minh Khánh → Đỗ Minh Khang" in history
    assert "Sent to the CRM" in history
    assert "&quot;customer_name&quot;: &quot;Đỗ Minh Khang&quot;" in history
    assert "What came back" in history
    assert "The CRM said: “Không tìm thấy nhóm: Hà Nội” (error 1105)" in history
    assert "/audit/" not in history  # Support may not open the audit log
    assert STATIC_TOKEN not in history


def test_no_token_or_password_is_ever_shown(codes, support_client, static_token):
    make_customer("KH1", "Đỗ Minh Khánh", codes=codes)
    entry(
        "customer.update",
        outcome="rejected",
        failure_kind="rejected",
        upstream_error="9",
        upstream_message=f"bad token {static_token}",
        upstream_data={"access_token": "leaked-access", "nested": {"password": "hunter2"}},
        body={**BEFORE, "refresh_token": "leaked-refresh"},
        before=BEFORE,
    )

    history = history_of(support_client, "en")

    for secret in (static_token, "leaked-access", "hunter2", "leaked-refresh"):
        assert secret not in history
    assert "[redacted]" in history


def test_the_words_cost_no_query_per_entry(codes, support_client):
    """The page reads the history once: telling 100 entries in words costs no more queries
    than telling 2 (each is told from the entry alone)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_customer("KH1", "Đỗ Minh Khánh", codes=codes)

    def queries_for_page():
        with CaptureQueriesContext(connection) as captured:
            assert history_of(support_client, "en")
        return len(captured)

    for _ in range(2):
        entry("customer.update", body={**BEFORE, "customer_status_code": "VIP"}, before=BEFORE)
    few = queries_for_page()
    for _ in range(98):
        entry("customer.update", body={**BEFORE, "customer_status_code": "VIP"}, before=BEFORE)
    many = queries_for_page()

    assert many == few
