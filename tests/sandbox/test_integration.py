"""The upstream client against the sandbox over real HTTP (``live_server``), audit included."""

import json

import pytest
from django.utils import timezone

from crmadmin.audit.models import AuditEntry, FailureKind, Outcome
from crmadmin.sandbox.models import SandboxCode, SandboxCustomer, SandboxToken
from crmadmin.upstream import UpstreamHTTPError, UpstreamRejected, auth, call

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = {
    "customer_no": "KH001",
    "customer_name": "Nguyễn Văn An",
    "customer_phones": ["0912345678", "0243123456"],
    "customer_address": "12 Hàng Bạc, Hà Nội",
    "customer_email": "an@example.vn",
    "customer_status_code": "VIP",
    "customer_type_code": "LE",
    "customer_group_name": "Hà Nội",
    "fileds": [{"field_key": "NGAY_SINH", "field_value": "1990-01-02"}],
}

# (operation, payload, the CRM's data) in an order the CRM accepts: codes before the
# customer that uses them, each record updated and re-coded, the customer deleted first.
ALL_20 = [
    ("status.create", {"status_no": "VIP", "status_name": "Khách VIP"}, "VIP"),
    ("type.create", {"type_no": "LE", "type_name": "Khách lẻ"}, "LE"),
    ("group.create", {"group_no": "HN", "group_name": "Hà Nội", "group_description": ""}, "HN"),
    (
        "field.create",
        {"field_no": "NGAY_SINH", "field_name": "Ngày sinh", "field_type": "date"},
        "NGAY_SINH",
    ),
    ("customer.create", CUSTOMER, "KH001"),
    ("status.update", {"status_no": "VIP", "status_name": "Khách rất VIP"}, "VIP"),
    ("type.update", {"type_no": "LE", "type_name": "Khách mua lẻ"}, "LE"),
    (
        "group.update",
        {"group_no": "HN", "group_name": "Hà Nội", "group_description": "Miền Bắc"},
        "HN",
    ),
    (
        "field.update",
        {
            "field_no": "NGAY_SINH",
            "field_name": "Ngày sinh",
            "field_type": "date",
            "field_description": "dd/mm/yyyy",
        },
        "NGAY_SINH",
    ),
    ("customer.update", {**CUSTOMER, "customer_name": "Nguyễn Văn Bình"}, "KH001"),
    ("status.rename", {"status_no_old": "VIP", "status_no_new": "VVIP"}, "VVIP"),
    ("type.rename", {"type_no_old": "LE", "type_no_new": "LE2"}, "LE2"),
    ("group.rename", {"group_no_old": "HN", "group_no_new": "HA_NOI"}, "HA_NOI"),
    ("field.rename", {"field_no_old": "NGAY_SINH", "field_no_new": "DOB"}, "DOB"),
    ("customer.rename", {"customer_no_old": "KH001", "customer_no_new": "KH002"}, "KH002"),
    ("customer.delete", {"customer_no": "KH002"}, True),
    ("status.delete", {"status_no": "VVIP"}, True),
    ("type.delete", {"type_no": "LE2"}, True),
    ("group.delete", {"group_no": "HA_NOI"}, True),
    ("field.delete", {"field_no": "DOB"}, True),
]


def test_the_client_runs_all_20_calls_and_three_rejections_against_the_sandbox(
    sandbox_upstream, administrator_user
):
    user = administrator_user
    calls: dict[str, tuple[str, str]] = {}  # request id → (operation, expected outcome)

    for operation, payload, data in ALL_20[:5]:
        result = call(operation, payload, actor=user)
        assert (result.status, result.data, result.message) == (1, data, "success"), operation
        calls[result.request_id] = (operation, Outcome.SUCCEEDED)

    rejections = [
        ("status.create", {"status_no": "VIP", "status_name": "Trùng mã"}, "1101"),
        ("type.update", {"type_no": "KHONG_CO", "type_name": "Không có"}, "1102"),
        (
            "customer.create",
            {**CUSTOMER, "customer_no": "KH009", "customer_status_code": "KHONG_CO"},
            "1103",
        ),
    ]
    for operation, payload, error_code in rejections:
        with pytest.raises(UpstreamRejected) as rejected:
            call(operation, payload, actor=user, on_success=pytest.fail)
        assert rejected.value.error_code == error_code
        assert rejected.value.http_status == 200
        assert rejected.value.upstream_message in str(rejected.value)
        calls[rejected.value.request_id] = (operation, Outcome.REJECTED)

    for operation, payload, data in ALL_20[5:]:
        result = call(operation, payload, actor=user)
        assert (result.status, result.data, result.message) == (1, data, "success"), operation
        calls[result.request_id] = (operation, Outcome.SUCCEEDED)

    # The CRM's side: everything created was deleted again.
    assert not SandboxCode.objects.exists()
    assert not SandboxCustomer.objects.exists()

    # The audit log: one finished entry per call, plus the one token grant.
    entries = {
        entry.request_id: entry for entry in AuditEntry.objects.exclude(operation="auth.token")
    }
    assert {rid: (e.operation, e.outcome) for rid, e in entries.items()} == calls
    assert len(calls) == 23
    for entry in entries.values():
        assert entry.actor == user
        assert entry.actor_username == user.username
        assert entry.finished_at is not None
        assert entry.http_status == 200
        assert entry.request_body["vbot_id"] == "VBOT-TEST"
    rejected_entries = [e for e in entries.values() if e.outcome == Outcome.REJECTED]
    assert sorted((e.operation, e.upstream_error) for e in rejected_entries) == [
        ("customer.create", "1103"),
        ("status.create", "1101"),
        ("type.update", "1102"),
    ]
    assert {e.failure_kind for e in rejected_entries} == {FailureKind.REJECTED}
    rename = next(e for e in entries.values() if e.operation == "customer.rename")
    assert (rename.record_kind, rename.code, rename.new_code) == ("customer", "KH001", "KH002")
    token = AuditEntry.objects.get(operation="auth.token")
    assert (token.actor, token.outcome) == (user, Outcome.SUCCEEDED)
    assert token.request_body == {"grant_type": "password", "username": "sandbox"}
    assert not AuditEntry.objects.filter(outcome=Outcome.PENDING).exists()


def test_an_expired_token_is_renewed_with_the_refresh_token_and_the_call_retried(
    sandbox_upstream, support_user
):
    call("status.create", {"status_no": "MOI", "status_name": "Mới"}, actor=support_user)
    first = auth.cached_tokens()
    # The sandbox expires the token while the client still holds it as valid.
    SandboxToken.objects.filter(kind="access").update(expires_at=timezone.now())

    result = call("status.update", {"status_no": "MOI", "status_name": "Mới"}, actor=support_user)

    assert result.data == "MOI"
    grants = AuditEntry.objects.filter(operation="auth.token").order_by("started_at", "id")
    assert [entry.request_body["grant_type"] for entry in grants] == ["password", "refresh_token"]
    assert {entry.outcome for entry in grants} == {Outcome.SUCCEEDED}
    update = AuditEntry.objects.get(operation="status.update")
    assert (update.outcome, update.actor) == (Outcome.SUCCEEDED, support_user)
    second = auth.cached_tokens()
    assert second["access_token"] != first["access_token"]
    # No token or password reaches the audit log.
    everything = json.dumps(list(AuditEntry.objects.values()), default=str)
    for secret in (
        first["access_token"],
        first["refresh_token"],
        second["access_token"],
        second["refresh_token"],
        "sandbox-password",
    ):
        assert secret not in everything


def test_a_failing_sandbox_is_an_http_error_in_the_audit_log(
    sandbox_upstream, support_user, settings
):
    settings.CRM_SANDBOX_FAILURE_RATE = 1.0

    with pytest.raises(UpstreamHTTPError) as failed:
        call("status.create", {"status_no": "MOI", "status_name": "Mới"}, actor=support_user)

    assert failed.value.http_status == 503
    entry = AuditEntry.objects.get(operation="status.create")
    assert (entry.outcome, entry.failure_kind, entry.http_status) == (
        Outcome.FAILED,
        FailureKind.HTTP_ERROR,
        503,
    )
    assert not SandboxCode.objects.exists()
