"""The CSV export: what a manager opens in Excel, and that it streams."""

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from crmadmin.audit.export import HEADER
from crmadmin.audit.models import FailureKind, Outcome

EXPORT = reverse("audit:export")


def read_csv(response) -> list[dict[str, str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == HEADER
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.fixture
def manager(client, manager_user):
    client.force_login(manager_user)
    return client


def test_export_streams_a_utf8_csv_with_bom_and_header(manager, make_entry):
    make_entry()
    response = manager.get(EXPORT)
    assert response.status_code == 200
    assert response.streaming is True
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    today = timezone.localdate().isoformat()
    assert re.fullmatch(rf'attachment; filename="audit-log-{today}-\d{{4}}\.csv"', disposition)
    assert len(read_csv(response)) == 1


def test_export_row_carries_every_column(manager, make_entry, make_user):
    lan = make_user("support", "lan")
    started = timezone.now() - timedelta(hours=2)
    entry = make_entry(
        actor=lan,
        actor_username="Nguyễn Thị Lan",
        operation="customer.update",
        record_kind="customer",
        code="KH001",
        request_body={"customer_no": "KH001", "customer_name": "Phạm Văn Đức"},
        started_at=started,
        duration_ms=250.5,
        outcome=Outcome.REJECTED,
        failure_kind=FailureKind.REJECTED,
        http_status=200,
        upstream_status=0,
        upstream_error="7",
        upstream_message="Khách hàng không tồn tại",
        request_id="abc123",
    )
    (row,) = read_csv(manager.get(EXPORT))
    assert row == {
        "id": str(entry.pk),
        "started_at": timezone.localtime(started).isoformat(),
        "finished_at": timezone.localtime(entry.finished_at).isoformat(),
        "actor_username": "Nguyễn Thị Lan",
        "actor_ip": "10.0.0.7",
        "operation": "customer.update",
        "record_kind": "customer",
        "code": "KH001",
        "new_code": "",
        "outcome": "rejected",
        "failure_kind": "rejected",
        "http_status": "200",
        "upstream_status": "0",
        "upstream_error": "7",
        "upstream_message": "Khách hàng không tồn tại",
        "duration_ms": "250.5",
        "request_id": "abc123",
        "request_body": '{"customer_no": "KH001", "customer_name": "Phạm Văn Đức"}',
    }
    assert json.loads(row["request_body"])["customer_name"] == "Phạm Văn Đức"


@pytest.mark.parametrize(
    ("body", "readable"),
    [
        ({"status_no": "VIP", "status_name": "Khách VIP"}, "Khách VIP"),
        (
            {"customer_address": 'Kho "A", C:\\users\\u1234, dòng 1\ndòng 2', "x": None},
            "dòng 1",
        ),
        (
            {"note": "Khách 😀 vui\u0001", "fileds": [{"field_key": "ghi_chú", "field_value": 1}]},
            "Khách 😀 vui",
        ),
    ],
    ids=["vietnamese", "backslashes-and-quotes", "emoji-and-control-characters"],
)
def test_export_keeps_any_request_body_exact_and_readable(manager, make_entry, body, readable):
    make_entry(request_body=body)
    (row,) = read_csv(manager.get(EXPORT))
    assert json.loads(row["request_body"]) == body
    assert readable in row["request_body"]


def test_export_times_are_local_iso_8601_to_the_microsecond(manager, make_entry):
    moments = [
        timezone.now().replace(microsecond=0) - timedelta(days=3),
        timezone.now().replace(microsecond=800000) - timedelta(days=2),
        timezone.now().replace(microsecond=123456) - timedelta(days=1),
    ]
    for moment in moments:
        make_entry(started_at=moment, duration_ms=5.0)
    rows = read_csv(manager.get(EXPORT))
    assert [row["started_at"] for row in rows] == [
        timezone.localtime(moment).isoformat() for moment in reversed(moments)
    ]
    assert [row["finished_at"] for row in rows] == [
        timezone.localtime(moment + timedelta(milliseconds=5)).isoformat()
        for moment in reversed(moments)
    ]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_export_neutralises_cells_a_spreadsheet_would_run(manager, make_entry, start):
    make_entry(
        code=f'{start}HYPERLINK("http://evil.example")',
        upstream_message=f"{start}cmd|' /C calc'!A0",
        actor_username=f"{start}1+1",
    )
    (row,) = read_csv(manager.get(EXPORT))
    assert row["code"] == f'\'{start}HYPERLINK("http://evil.example")'
    assert row["upstream_message"] == f"'{start}cmd|' /C calc'!A0"
    assert row["actor_username"] == f"'{start}1+1"


def test_export_respects_the_filter(manager, make_entry, make_user):
    lan, minh = make_user("support", "lan"), make_user("support", "minh")
    now = timezone.now()
    wanted = make_entry(actor=lan, outcome=Outcome.FAILED, started_at=now - timedelta(hours=1))
    make_entry(actor=lan, started_at=now - timedelta(hours=2))
    make_entry(actor=minh, outcome=Outcome.FAILED, started_at=now - timedelta(hours=3))
    old = make_entry(actor=lan, outcome=Outcome.FAILED, started_at=now - timedelta(days=9))

    rows = read_csv(manager.get(EXPORT, {"actor": lan.pk, "outcome": "failed"}))
    assert [row["id"] for row in rows] == [str(wanted.pk), str(old.pk)]
    since = (timezone.localdate() - timedelta(days=2)).isoformat()
    rows = read_csv(manager.get(EXPORT, {"actor": lan.pk, "outcome": "failed", "date_from": since}))
    assert [row["id"] for row in rows] == [str(wanted.pk)]


def test_export_marks_stale_pending_as_unknown(manager, make_entry, settings):
    settings.AUDIT_PENDING_UNKNOWN_AFTER = 300
    now = timezone.now()
    make_entry(outcome=Outcome.PENDING, started_at=now - timedelta(minutes=10), code="STALE")
    make_entry(outcome=Outcome.PENDING, started_at=now - timedelta(seconds=5), code="FRESH")
    rows = {row["code"]: row for row in read_csv(manager.get(EXPORT))}
    assert rows["STALE"]["outcome"] == "unknown"
    assert rows["FRESH"]["outcome"] == "pending"
    assert rows["STALE"]["finished_at"] == ""
    assert rows["STALE"]["duration_ms"] == ""


def test_export_of_many_rows_comes_in_several_chunks(manager, make_entry, manager_user):
    from crmadmin.audit.models import AuditEntry
    from tests.audit.conftest import entry_fields

    start = timezone.now() - timedelta(days=1)
    AuditEntry.objects.bulk_create(
        AuditEntry(**entry_fields(started_at=start + timedelta(seconds=n), code=f"K{n}"))
        for n in range(1203)
    )
    response = manager.get(EXPORT)
    chunks = list(response.streaming_content)
    assert len(chunks) >= 3  # not one body built in memory
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"), newline="")))
    assert len(rows) == 1204
    assert rows[1][7] == "K1202"  # newest first
    assert rows[-1][7] == "K0"


def test_export_refuses_an_invalid_filter(manager, make_entry):
    make_entry()
    response = manager.get(EXPORT, {"date_from": "not-a-date"})
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_export_needs_the_export_permission(client, make_user):
    viewer = make_user(None, "viewer")
    viewer.user_permissions.add(
        Permission.objects.get(content_type__app_label="audit", codename="view_auditentry")
    )
    client.force_login(viewer)
    assert client.get(reverse("audit:list")).status_code == 200
    assert client.get(EXPORT).status_code == 403
    page = client.get(reverse("audit:list")).content.decode()
    assert 'data-link="export"' not in page
