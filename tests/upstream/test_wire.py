"""Each of the 20 CRM calls leaves with exactly the URL, headers and JSON body of the contract."""

import pytest

from crmadmin.audit.models import AuditEntry, Outcome
from crmadmin.upstream import OPERATIONS, UpstreamResult, call
from tests.crm import CRM, TENANT, envelope, expect_call

CUSTOMER = {
    "customer_no": "  KH001 ",
    "customer_name": "Nguyễn Văn An",
    "customer_phones": ["0901234567", "0912345678", "0283456789"],
    "customer_address": "12 Lê Lợi, Quận 1",
    "customer_email": "an.nguyen@example.vn",
    "customer_status_code": " VIP",
    "customer_type_code": "LE ",
    "customer_group_name": "Khách miền Nam",
    "fileds": [
        {"field_key": "NGAY_SINH ", "field_value": "1990-05-01"},
        {"field_key": "SO_THICH", "field_value": " Cà phê "},
    ],
}
CUSTOMER_WIRE = {
    **TENANT,
    **CUSTOMER,
    "customer_no": "KH001",
    "customer_status_code": "VIP",
    "customer_type_code": "LE",
    # Field codes are trimmed; values are the user's text, sent as typed.
    "fileds": [
        {"field_key": "NGAY_SINH", "field_value": "1990-05-01"},
        {"field_key": "SO_THICH", "field_value": " Cà phê "},
    ],
}

# (operation, path, payload given to call(), exact body on the wire, code, new code)
CASES = [
    ("customer.create", "/api/crm/customer/create", CUSTOMER, CUSTOMER_WIRE, "KH001", ""),
    ("customer.update", "/api/crm/customer/update", CUSTOMER, CUSTOMER_WIRE, "KH001", ""),
    (
        "customer.rename",
        "/api/crm/customer/updateNO",
        {"customer_no_old": " KH001", "customer_no_new": "KH002 "},
        {**TENANT, "customer_no_old": "KH001", "customer_no_new": "KH002"},
        "KH001",
        "KH002",
    ),
    (
        "customer.delete",
        "/api/crm/customer/delete",
        {"customer_no": "KH001"},
        {**TENANT, "customer_no": "KH001"},
        "KH001",
        "",
    ),
    (
        "status.create",
        "/api/crm/status/create",
        {"status_no": " VIP ", "status_name": "Khách VIP"},
        {**TENANT, "status_no": "VIP", "status_name": "Khách VIP"},
        "VIP",
        "",
    ),
    (
        "status.update",
        "/api/crm/status/update",
        {"status_no": "VIP", "status_name": "Khách rất VIP"},
        {**TENANT, "status_no": "VIP", "status_name": "Khách rất VIP"},
        "VIP",
        "",
    ),
    (
        "status.rename",
        "/api/crm/status/updateNo",
        {"status_no_old": "VIP", "status_no_new": "VVIP"},
        {**TENANT, "status_no_old": "VIP", "status_no_new": "VVIP"},
        "VIP",
        "VVIP",
    ),
    (
        "status.delete",
        "/api/crm/status/delete",
        {"status_no": "VIP"},
        {**TENANT, "status_no": "VIP"},
        "VIP",
        "",
    ),
    (
        "type.create",
        "/api/crm/type/create",
        {"type_no": "LE", "type_name": "Khách lẻ"},
        {**TENANT, "type_no": "LE", "type_name": "Khách lẻ"},
        "LE",
        "",
    ),
    (
        "type.update",
        "/api/crm/type/update",
        {"type_no": "LE", "type_name": "Khách bán lẻ"},
        {**TENANT, "type_no": "LE", "type_name": "Khách bán lẻ"},
        "LE",
        "",
    ),
    (
        "type.rename",
        "/api/crm/type/updateNo",
        {"type_no_old": "LE", "type_no_new": "BANLE"},
        {**TENANT, "type_no_old": "LE", "type_no_new": "BANLE"},
        "LE",
        "BANLE",
    ),
    (
        "type.delete",
        "/api/crm/type/delete",
        {"type_no": " LE"},
        {**TENANT, "type_no": "LE"},
        "LE",
        "",
    ),
    (
        "group.create",
        "/api/crm/group/create",
        {"group_no": "MN", "group_name": "Khách miền Nam", "group_description": "Phía Nam"},
        {
            **TENANT,
            "group_no": "MN",
            "group_name": "Khách miền Nam",
            "group_description": "Phía Nam",
        },
        "MN",
        "",
    ),
    (
        "group.update",
        "/api/crm/group/update",
        {"group_no": "MN", "group_name": "Miền Nam", "group_description": None},
        {**TENANT, "group_no": "MN", "group_name": "Miền Nam"},
        "MN",
        "",
    ),
    (
        "group.rename",
        "/api/crm/group/updateNo",
        {"group_no_old": "MN", "group_no_new": "NAM"},
        {**TENANT, "group_no_old": "MN", "group_no_new": "NAM"},
        "MN",
        "NAM",
    ),
    (
        "group.delete",
        "/api/crm/group/delete",
        {"group_no": "MN"},
        {**TENANT, "group_no": "MN"},
        "MN",
        "",
    ),
    (
        "field.create",
        "/api/crm/field/create",
        {
            "field_no": "NGAY_SINH",
            "field_name": "Ngày sinh",
            "field_type": "CUSTOMER_INFORMATION_KIND",
            "field_description": "Ngày sinh của khách",
        },
        {
            **TENANT,
            "field_no": "NGAY_SINH",
            "field_name": "Ngày sinh",
            "field_type": "CUSTOMER_INFORMATION_KIND",
            "field_description": "Ngày sinh của khách",
        },
        "NGAY_SINH",
        "",
    ),
    (
        "field.update",
        "/api/crm/field/update",
        {"field_no": "NGAY_SINH", "field_name": "Sinh nhật", "field_type": "DATE"},
        {**TENANT, "field_no": "NGAY_SINH", "field_name": "Sinh nhật", "field_type": "DATE"},
        "NGAY_SINH",
        "",
    ),
    (
        "field.rename",
        "/api/crm/field/updateNo",
        {"field_no_old": "NGAY_SINH", "field_no_new": "SINH_NHAT"},
        {**TENANT, "field_no_old": "NGAY_SINH", "field_no_new": "SINH_NHAT"},
        "NGAY_SINH",
        "SINH_NHAT",
    ),
    (
        "field.delete",
        "/api/crm/field/delete",
        {"field_no": "SINH_NHAT"},
        {**TENANT, "field_no": "SINH_NHAT"},
        "SINH_NHAT",
        "",
    ),
]


def test_the_cases_cover_all_twenty_operations():
    assert sorted(case[0] for case in CASES) == sorted(OPERATIONS)
    assert len(OPERATIONS) == 20


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("operation", "path", "payload", "wire", "code", "new_code"),
    CASES,
    ids=[case[0] for case in CASES],
)
def test_each_call_sends_the_contracts_request(
    crm, static_token, support_user, operation, path, payload, wire, code, new_code
):
    sent_ids = []

    def remember_request_id(request):
        sent_ids.append(request.headers["X-Request-ID"])
        return True, ""

    # ``wire`` already holds the tenant pair; expect_call matches the Bearer token too.
    expect_call(
        crm,
        path,
        wire,
        json=envelope(data=new_code or code),
        headers={"Accept": "application/json", "Content-Type": "application/json"},
        match=[remember_request_id],
    )

    result = call(operation, payload, actor=support_user, snapshot={"code": code})

    assert isinstance(result, UpstreamResult)
    assert len(crm.calls) == 1
    assert crm.calls[0].request.method == "POST"
    assert crm.calls[0].request.url == f"{CRM}{path}"
    entry = AuditEntry.objects.get()
    assert sent_ids == [entry.request_id] == [result.request_id]
    assert entry.operation == operation
    assert entry.record_kind == operation.split(".")[0]
    assert (entry.code, entry.new_code) == (code, new_code)
    assert entry.request_body == wire
    assert entry.snapshot_before == {"code": code}
    assert entry.actor == support_user
    assert entry.actor_username == support_user.username
    assert entry.outcome == Outcome.SUCCEEDED
    assert entry.http_status == 200
    assert entry.upstream_status == 1
    assert entry.upstream_data == (new_code or code)
    assert entry.finished_at is not None and entry.duration_ms >= 0
    assert result.data == (new_code or code)
    assert result.message == "success"


@pytest.mark.parametrize(
    ("operation", "payload", "problem"),
    [
        ("status.create", {"status_no": "VIP"}, "missing required wire key(s) status_name"),
        (
            "status.create",
            {"status_no": "VIP", "status_name": "x", "vbot_id": "OTHER"},
            "unknown wire key(s) vbot_id",
        ),
        ("customer.delete", {"customer_no": "   "}, "customer_no is empty"),
        ("status.archive", {"status_no": "VIP"}, "unknown CRM operation 'status.archive'"),
    ],
)
@pytest.mark.django_db
def test_a_malformed_payload_is_a_programming_error_caught_before_anything_is_sent(
    crm, static_token, operation, payload, problem
):
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        call(operation, payload)
    assert len(crm.calls) == 0
    assert not AuditEntry.objects.exists()
