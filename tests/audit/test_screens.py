"""The audit list and entry screens as a manager uses them: filters, keyset pages, detail."""

import html
import random
import re
from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crmadmin.audit.models import AuditEntry, FailureKind, Outcome
from tests.audit.conftest import entry_fields

LIST = reverse("audit:list")
ENTRY_IDS = re.compile(r'<tr data-entry="(\d+)"')


def listed(response) -> list[int]:
    assert response.status_code == 200
    return [int(pk) for pk in ENTRY_IDS.findall(response.content.decode())]


def link(response, name: str) -> str | None:
    tag = re.search(rf'<a\b[^>]*data-link="{name}"[^>]*>', response.content.decode())
    return html.unescape(re.search(r'href="([^"]*)"', tag.group(0)).group(1)) if tag else None


def local(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


@pytest.fixture
def manager(client, manager_user):
    client.force_login(manager_user)
    return client


@pytest.fixture
def people(make_user):
    return make_user("support", "lan"), make_user("administrator", "minh")


# --- Filters ------------------------------------------------------------------------------


@pytest.fixture
def varied(make_entry, people):
    """Entries differing in one attribute each, so every filter has a clear answer."""
    lan, minh = people
    now = timezone.now()
    return {
        "lan_status": make_entry(actor=lan, started_at=now - timedelta(hours=1)),
        "minh_customer": make_entry(
            actor=minh,
            operation="customer.update",
            record_kind="customer",
            code="KH001",
            request_body={"customer_no": "KH001", "customer_name": "Nguyễn Văn An"},
            started_at=now - timedelta(hours=2),
        ),
        "minh_rejected": make_entry(
            actor=minh,
            operation="status.delete",
            code="OLD",
            outcome=Outcome.REJECTED,
            failure_kind=FailureKind.REJECTED,
            upstream_error="12",
            upstream_message="Trạng thái đang được sử dụng",
            started_at=now - timedelta(hours=3),
        ),
        "lan_failed": make_entry(
            actor=lan,
            operation="group.create",
            record_kind="group",
            code="G1",
            outcome=Outcome.FAILED,
            failure_kind=FailureKind.TIMEOUT,
            http_status=None,
            started_at=now - timedelta(hours=4),
        ),
        "rename": make_entry(
            actor=lan,
            operation="type.rename",
            record_kind="type",
            code="RETAIL",
            new_code="LE",
            request_body={"type_no_old": "RETAIL", "type_no_new": "LE"},
            started_at=now - timedelta(hours=5),
        ),
        "token": make_entry(
            operation="auth.token",
            record_kind="",
            code="",
            request_body={"grant_type": "password", "username": "sandbox"},
            started_at=now - timedelta(hours=6),
        ),
    }


def ids(varied, *names) -> list[int]:
    """The entries' ids, newest first (the fixture's order is newest first)."""
    return [varied[name].pk for name in varied if name in names]


def test_list_shows_everything_newest_first_with_its_columns(manager, varied):
    response = manager.get(LIST)
    assert listed(response) == [entry.pk for entry in varied.values()]
    page = response.content.decode()
    assert "customer: update" in page
    assert "type: change code" in page
    assert "token request" in page
    assert 'RETAIL</span> → <span class="code">LE' in page
    assert 'data-outcome="rejected"' in page
    assert 'data-outcome="failed"' in page
    assert "120 ms" in page
    assert page.count(f'href="{LIST}?actor=') == 5  # every entry with a user links to its view


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"operation": "customer.update"}, ["minh_customer"]),
        ({"operation": "auth.token"}, ["token"]),
        ({"record_kind": "status"}, ["lan_status", "minh_rejected"]),
        ({"record_kind": "group"}, ["lan_failed"]),
        ({"outcome": "succeeded"}, ["lan_status", "minh_customer", "rename", "token"]),
        ({"outcome": "rejected"}, ["minh_rejected"]),
        ({"outcome": "failed"}, ["lan_failed"]),
        ({"code": "KH001"}, ["minh_customer"]),
        ({"code": "  kh001 "}, ["minh_customer"]),
        ({"code": "RETAIL"}, ["rename"]),
        ({"code": "LE"}, ["rename"]),
        ({"code": "le"}, ["rename"]),
        ({"code": "NOPE"}, []),
    ],
)
def test_each_filter_alone(manager, varied, params, expected):
    assert listed(manager.get(LIST, params)) == ids(varied, *expected)


def test_actor_filter_and_the_per_user_link(manager, varied, people):
    lan, minh = people
    assert listed(manager.get(LIST, {"actor": minh.pk})) == ids(
        varied, "minh_customer", "minh_rejected"
    )
    # Clicking an actor's name opens that user's view.
    lan_link = re.search(rf'href="([^"]*actor={lan.pk})"', manager.get(LIST).content.decode())
    assert listed(manager.get(html.unescape(lan_link.group(1)))) == ids(
        varied, "lan_status", "lan_failed", "rename"
    )


def test_actor_select_offers_only_people_with_entries(manager, varied, people, make_user):
    make_user("support", "nobody-did-anything")
    page = manager.get(LIST).content.decode()
    select = re.search(r'<select name="actor".*?</select>', page, re.S).group(0)
    assert ">lan<" in select
    assert ">minh<" in select
    assert "nobody-did-anything" not in select


def test_filters_combined(manager, varied, people):
    lan, minh = people
    assert listed(manager.get(LIST, {"actor": lan.pk, "outcome": "failed"})) == ids(
        varied, "lan_failed"
    )
    assert listed(manager.get(LIST, {"actor": minh.pk, "record_kind": "status"})) == ids(
        varied, "minh_rejected"
    )
    assert listed(
        manager.get(LIST, {"actor": lan.pk, "operation": "type.rename", "code": "le"})
    ) == ids(varied, "rename")
    assert listed(manager.get(LIST, {"actor": minh.pk, "outcome": "failed"})) == []


def test_invalid_filter_value_is_reported_and_ignored(manager, varied):
    response = manager.get(LIST, {"actor": "999999", "outcome": "rejected"})
    assert listed(response) == ids(varied, "minh_rejected")
    assert 'class="errorlist"' in response.content.decode()


def test_date_range_is_inclusive_in_the_local_time_zone(manager, make_entry):
    day = timezone.localdate() - timedelta(days=3)
    at = {
        "before_start": local(day - timedelta(days=1), time(23, 59, 59, 999999)),
        "start": local(day, time.min),
        "middle": local(day + timedelta(days=1), time(12)),
        "end": local(day + timedelta(days=2), time(23, 59, 59, 999999)),
        "after_end": local(day + timedelta(days=3), time.min),
    }
    entries = {name: make_entry(started_at=moment) for name, moment in at.items()}

    def newest_first(*names):
        return [entries[name].pk for name in reversed(at) if name in names]

    span = {"date_from": day.isoformat(), "date_to": (day + timedelta(days=2)).isoformat()}
    assert listed(manager.get(LIST, span)) == newest_first("start", "middle", "end")
    assert listed(manager.get(LIST, {"date_from": day.isoformat()})) == newest_first(
        "start", "middle", "end", "after_end"
    )
    assert listed(manager.get(LIST, {"date_to": day.isoformat()})) == newest_first(
        "before_start", "start"
    )
    one_day = {"date_from": day.isoformat(), "date_to": day.isoformat()}
    assert listed(manager.get(LIST, one_day)) == newest_first("start")


def test_date_range_the_wrong_way_round_is_an_error(manager, make_entry):
    make_entry()
    response = manager.get(LIST, {"date_from": "2025-03-10", "date_to": "2025-03-01"})
    assert "The end date is before the start date." in response.content.decode()


def test_filters_survive_in_the_export_link(manager, varied, people):
    lan, _minh = people
    response = manager.get(LIST, {"actor": lan.pk, "outcome": "failed", "code": " G1 "})
    export = link(response, "export")
    assert export.startswith(reverse("audit:export") + "?")
    assert f"actor={lan.pk}" in export
    assert "outcome=failed" in export
    assert "code=G1" in export


# --- Keyset pagination ------------------------------------------------------------------


def test_keyset_pages_walk_entries_sharing_timestamps_both_ways(manager, manager_user):
    base = timezone.now() - timedelta(days=1)
    stamps = [base - timedelta(minutes=m) for m in (0, 1, 2, 3, 4)]
    # Uneven groups, inserted in shuffled order: ids do not follow time, and page
    # boundaries fall inside groups of entries with one timestamp.
    plan = [stamps[0]] * 37 + [stamps[1]] * 81 + [stamps[2]] * 9 + [stamps[3]] * 70
    plan += [stamps[4]] * 53
    random.Random(6).shuffle(plan)
    AuditEntry.objects.bulk_create(
        AuditEntry(**entry_fields(actor=manager_user, started_at=moment, code=f"C{index}"))
        for index, moment in enumerate(plan)
    )
    expected = list(AuditEntry.objects.order_by("-started_at", "-id").values_list("id", flat=True))
    assert len(expected) == 250

    pages, response = [], manager.get(LIST)
    assert link(response, "newer") is None
    while True:
        pages.append(listed(response))
        older = link(response, "older")
        if older is None:
            break
        assert "before=" in older
        response = manager.get(older)
    assert [len(page) for page in pages] == [50] * 5
    assert [pk for page in pages for pk in page] == expected

    back = [listed(response)]
    while (newer := link(response, "newer")) is not None:
        assert "after=" in newer
        response = manager.get(newer)
        back.append(listed(response))
    assert back == pages[::-1]
    assert link(response, "newest") is None  # back at the top


def test_keyset_pages_keep_the_filter(manager, make_entry, people):
    lan, minh = people
    now = timezone.now() - timedelta(hours=1)
    AuditEntry.objects.bulk_create(
        AuditEntry(
            **entry_fields(
                actor=lan if index % 2 else minh, started_at=now - timedelta(seconds=index)
            )
        )
        for index in range(120)
    )
    first = manager.get(LIST, {"actor": lan.pk})
    older = link(first, "older")
    assert f"actor={lan.pk}" in older
    second = manager.get(older)
    every = listed(first) + listed(second)
    assert len(every) == len(set(every)) == 60
    assert set(AuditEntry.objects.filter(pk__in=every).values_list("actor", flat=True)) == {lan.pk}
    assert link(second, "older") is None


def test_a_mangled_cursor_shows_the_newest_page(manager, make_entry):
    entry = make_entry()
    assert listed(manager.get(LIST, {"before": "yesterday_x"})) == [entry.pk]
    assert listed(manager.get(LIST, {"after": "2025-01-01T00:00:00_12"})) == [entry.pk]


def test_htmx_request_gets_only_the_results_partial(manager, varied):
    response = manager.get(LIST, {"outcome": "rejected"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert "<html" not in page
    assert "<h1>" not in page
    assert 'id="audit-filters"' in page
    assert listed(response) == ids(varied, "minh_rejected")
    assert "HX-Request" in response["Vary"]
    full = manager.get(LIST, {"outcome": "rejected"})
    assert "<html" in full.content.decode()
    # Going back in history asks for the whole page again.
    restored = manager.get(LIST, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in restored.content.decode()


def test_empty_log_says_so(manager):
    response = manager.get(LIST)
    assert "No calls to the CRM have been recorded yet." in response.content.decode()
    filtered = manager.get(LIST, {"outcome": "failed"})
    assert "No entries match these filters." in filtered.content.decode()


# --- Outcome unknown --------------------------------------------------------------------


def test_stale_pending_is_outcome_unknown_and_fresh_pending_is_in_progress(
    manager, make_entry, settings
):
    settings.AUDIT_PENDING_UNKNOWN_AFTER = 300
    now = timezone.now()
    stale = make_entry(outcome=Outcome.PENDING, started_at=now - timedelta(seconds=301), code="S")
    fresh = make_entry(outcome=Outcome.PENDING, started_at=now - timedelta(seconds=30), code="F")

    page = manager.get(LIST).content.decode()
    assert re.search(
        rf'data-entry="{stale.pk}".*?data-outcome="unknown">outcome unknown<', page, re.S
    )
    assert re.search(rf'data-entry="{fresh.pk}".*?data-outcome="pending">in progress<', page, re.S)
    assert listed(manager.get(LIST, {"outcome": "unknown"})) == [stale.pk]
    assert listed(manager.get(LIST, {"outcome": "pending"})) == [fresh.pk]

    stale_page = manager.get(reverse("audit:detail", args=[stale.pk])).content.decode()
    assert "Outcome unknown." in stale_page
    assert "The change may or may not have happened in the CRM." in stale_page
    assert "check the record in the CRM itself" in stale_page
    assert "register was not changed" in stale_page
    fresh_page = manager.get(reverse("audit:detail", args=[fresh.pk])).content.decode()
    assert "Outcome unknown." not in fresh_page
    assert "still in progress" in fresh_page


def test_unknown_and_in_progress_combine_with_the_other_filters(
    manager, make_entry, people, settings
):
    settings.AUDIT_PENDING_UNKNOWN_AFTER = 300
    lan, minh = people
    now = timezone.now()
    stale = now - timedelta(hours=2)
    entries = {
        "lan_customer": make_entry(
            actor=lan,
            outcome=Outcome.PENDING,
            operation="customer.update",
            record_kind="customer",
            code="KH1",
            started_at=stale,
        ),
        "lan_status": make_entry(actor=lan, outcome=Outcome.PENDING, started_at=stale),
        "minh_status": make_entry(actor=minh, outcome=Outcome.PENDING, started_at=stale),
        "lan_fresh": make_entry(actor=lan, outcome=Outcome.PENDING, started_at=now),
        "lan_done": make_entry(actor=lan, started_at=stale),
    }

    def found(**params):
        return {name for name, e in entries.items() if e.pk in listed(manager.get(LIST, params))}

    assert found(outcome="unknown", actor=lan.pk) == {"lan_customer", "lan_status"}
    assert found(outcome="unknown", operation="status.create") == {"lan_status", "minh_status"}
    assert found(outcome="unknown", record_kind="customer", actor=lan.pk) == {"lan_customer"}
    assert found(outcome="unknown", record_kind="customer", actor=minh.pk) == set()
    assert found(outcome="pending", actor=lan.pk) == {"lan_fresh"}
    assert found(outcome="pending", actor=minh.pk) == set()


# --- Detail -----------------------------------------------------------------------------


def test_detail_shows_who_when_what_was_sent_and_what_came_back(manager, make_entry, people):
    lan, _minh = people
    lan.username = "lan.nguyen"  # renamed since: the entry keeps the name of the time
    lan.save()
    entry = make_entry(
        actor=lan,
        actor_username="lan",
        actor_ip="192.0.2.10",
        operation="status.delete",
        code="OLD",
        request_body={"vbot_id": "VBOT-TEST", "project_code": "PRJ-TEST", "status_no": "OLD"},
        snapshot_before={"code": "OLD", "name": "Cũ"},
        outcome=Outcome.REJECTED,
        failure_kind=FailureKind.REJECTED,
        http_status=200,
        upstream_status=0,
        upstream_error="12",
        upstream_message="Trạng thái đang được sử dụng",
        upstream_data=None,
        request_id="c0ffee00c0ffee00c0ffee00c0ffee00",
    )
    page = manager.get(reverse("audit:detail", args=[entry.pk])).content.decode()
    for text in (
        "lan.nguyen",
        "<dd>lan</dd>",
        "192.0.2.10",
        "status: delete",
        "c0ffee00c0ffee00c0ffee00c0ffee00",
        "Trạng thái đang được sử dụng",
        "rejected by the CRM",
        "<dd>12</dd>",
        "<dd>0</dd>",
        "120 ms",
        "&quot;status_no&quot;: &quot;OLD&quot;",
        "&quot;name&quot;: &quot;Cũ&quot;",
    ):
        assert text in page, text
    assert f'href="{LIST}?code=OLD"' in page
    assert f'href="{LIST}?actor={lan.pk}"' in page


def test_detail_pretty_prints_the_request_body(manager, make_entry):
    entry = make_entry(
        operation="customer.create",
        record_kind="customer",
        code="KH9",
        request_body={
            "customer_no": "KH9",
            "customer_name": "Trần Thị Bích",
            "customer_phones": ["0901"],
        },
    )
    page = manager.get(reverse("audit:detail", args=[entry.pk])).content.decode()
    body = re.search(r'data-block="request-body">(.*?)</pre>', page, re.S).group(1)
    assert html.unescape(body) == (
        '{\n  "customer_no": "KH9",\n  "customer_name": "Trần Thị Bích",\n'
        '  "customer_phones": [\n    "0901"\n  ]\n}'
    )


def test_detail_of_an_update_compares_the_record_before_with_what_was_sent(manager, make_entry):
    entry = make_entry(
        operation="group.update",
        record_kind="group",
        code="G1",
        request_body={
            "vbot_id": "VBOT-TEST",
            "project_code": "PRJ-TEST",
            "group_no": "G1",
            "group_name": "Đại lý miền Nam",
            "group_description": "Khách sỉ",
        },
        snapshot_before={"code": "G1", "name": "Đại lý", "description": "Khách sỉ", "customers": 4},
    )
    page = manager.get(reverse("audit:detail", args=[entry.pk])).content.decode()
    rows = dict(re.findall(r'<tr class="[^"]*" data-field="([^"]+)" data-changed="(yes|no)"', page))
    assert rows == {
        "group_no": "no",
        "group_name": "yes",
        "group_description": "no",
        "customers": "no",
    }
    assert "vbot_id" not in rows
    name_row = re.search(r'data-field="group_name".*?</tr>', page, re.S).group(0)
    assert "Đại lý</td>" in name_row
    assert "Đại lý miền Nam</td>" in name_row
    assert "(not sent)" in re.search(r'data-field="customers".*?</tr>', page, re.S).group(0)


def test_detail_of_a_missing_entry_is_404(manager):
    assert manager.get(reverse("audit:detail", args=[987654])).status_code == 404


# --- Permissions --------------------------------------------------------------------------


@pytest.fixture
def audit_urls(make_entry):
    entry = make_entry()
    return [
        reverse("audit:list"),
        reverse("audit:detail", args=[entry.pk]),
        reverse("audit:export"),
        reverse("audit:dashboard"),
    ]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("support", 403),
        ("administrator", 403),
        (None, 403),
        ("manager", 200),
        ("superuser", 200),
    ],
)
def test_permission_matrix(client_as, audit_urls, role, status):
    client = client_as(role)
    for url in audit_urls:
        response = client.get(url)
        assert response.status_code == status, url
        if status == 403:
            assert "You may not open this page" in response.content.decode()


def test_anonymous_is_sent_to_sign_in(client, audit_urls):
    for url in audit_urls:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_audit_screens_only_read(manager, audit_urls):
    for url in audit_urls:
        assert manager.post(url).status_code == 405


def test_list_links_to_the_dashboard(manager):
    assert link(manager.get(LIST), "dashboard") == reverse("audit:dashboard")


def test_detail_links_to_the_record_while_the_register_has_it(manager, make_entry):
    from crmadmin.codes.models import Group, Status, Type
    from tests.customers.conftest import make_customer

    register = {
        "status": Status.objects.create(code="VIP", name="Khách VIP"),
        "type": Type.objects.create(code="CA_NHAN", name="Cá nhân"),
        "group": Group.objects.create(code="HN", name="Hà Nội"),
    }
    make_customer("KH_MOI", "Vũ Thị Mai", codes=register)
    renamed = make_entry(
        operation="customer.rename",
        record_kind="customer",
        code="KH_CU",
        new_code="KH_MOI",
        request_body={"customer_no_old": "KH_CU", "customer_no_new": "KH_MOI"},
    )
    status = make_entry(operation="status.update", code="VIP")
    gone = make_entry(operation="status.delete", code="DA_XOA")

    def record_link(entry):
        page = manager.get(reverse("audit:detail", args=[entry.pk]))
        return link(page, "record")

    assert record_link(renamed) == reverse("customers:detail", kwargs={"code": "KH_MOI"})
    assert record_link(status) == reverse("codes:list", kwargs={"kind": "statuses"}) + "?q=VIP"
    assert record_link(gone) is None
