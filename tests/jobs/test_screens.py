"""The jobs screens and the bulk confirmation: who may open what, what they show."""

import csv
import io
import json
import re

import pytest
from django.utils import timezone

from crmadmin.audit.models import AuditEntry, Outcome
from crmadmin.jobs.customer_kinds import SET_STATUS
from crmadmin.jobs.models import Job, JobRow, JobState, RowOutcome, RowState
from crmadmin.jobs.services import job_create
from tests.customers.conftest import codes, make_customer  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(codes):  # noqa: F811
    return [make_customer(f"KH{n:03d}", f"Khách {n}", codes=codes) for n in range(7)]


def a_job(owner, customers, codes, **counts):  # noqa: F811
    job = job_create(
        owner=owner,
        kind=SET_STATUS,
        parameters={"target_id": codes["status_vip"].pk, "target_code": "VIP"},
        rows=[(c.code, {"customer_id": c.pk}) for c in customers],
        description="Set status VIP",
    )
    if counts:
        Job.objects.filter(pk=job.pk).update(**counts)
        job.refresh_from_db()
    return job


# --- Permissions ---------------------------------------------------------------------

BULK = "/jobs/bulk/customers/?action={action}&code=KH001&target={target}"


@pytest.mark.parametrize(
    ("role", "status"),
    [("support", 200), ("administrator", 200), ("superuser", 200), ("manager", 403), (None, 403)],
)
@pytest.mark.parametrize(
    ("action", "target"),
    [
        ("set_status", "VIP"),
        ("set_type", "CA_NHAN"),
        ("set_group", "HN"),
        ("delete", ""),
        ("clear_field", "GHI_CHU"),
    ],
)
def test_who_may_open_a_bulk_action(client_as, customers, role, status, action, target):
    client = client_as(role)
    assert client.get(BULK.format(action=action, target=target)).status_code == status
    response = client.post(
        "/jobs/bulk/customers/", {"action": action, "code": ["KH001"], "target": target}
    )
    assert response.status_code == (302 if status == 200 else status)
    assert Job.objects.exists() == (status == 200)


def test_an_unknown_bulk_action_is_not_found(client_as, customers):
    assert client_as("support").get("/jobs/bulk/customers/?action=explode").status_code == 404


def test_users_see_their_own_jobs_managers_and_superusers_everyones(
    client_as,
    make_user,
    customers,
    codes,  # noqa: F811
):
    other = make_user("support", "other-support")
    theirs = a_job(other, customers[:2], codes)
    support = client_as("support")
    mine = a_job(support.user, customers[2:4], codes)
    html = support.get("/jobs/").content.decode()
    assert f'data-job="{mine.pk}"' in html and f'data-job="{theirs.pk}"' not in html
    assert support.get(f"/jobs/{theirs.pk}/").status_code == 404
    assert support.get(f"/jobs/{theirs.pk}/report.csv").status_code == 404
    assert support.post(f"/jobs/{theirs.pk}/cancel/").status_code == 404
    assert support.post(f"/jobs/{theirs.pk}/retry/").status_code == 404
    for role in ("manager", "superuser"):
        client = client_as(role)
        html = client.get("/jobs/").content.decode()
        assert f'data-job="{mine.pk}"' in html and f'data-job="{theirs.pk}"' in html
        assert client.get(f"/jobs/{theirs.pk}/").status_code == 200
        assert client.get(f"/jobs/{theirs.pk}/report.csv").status_code == 200


def test_a_manager_may_not_cancel_or_retry_someone_elses_job(
    client_as,
    make_user,
    customers,
    codes,  # noqa: F811
):
    job = a_job(make_user("support", "owner"), customers[:2], codes)
    manager = client_as("manager")
    html = manager.get(f"/jobs/{job.pk}/").content.decode()
    assert 'data-action="cancel"' not in html
    assert manager.post(f"/jobs/{job.pk}/cancel/").status_code == 403
    Job.objects.filter(pk=job.pk).update(state=JobState.FINISHED, failed=1)
    assert manager.post(f"/jobs/{job.pk}/retry/").status_code == 403
    job.refresh_from_db()
    assert job.state == JobState.FINISHED


def test_job_pages_refuse_other_methods(client_as, customers, codes):  # noqa: F811
    client = client_as("support")
    job = a_job(client.user, customers[:1], codes)
    assert client.get(f"/jobs/{job.pk}/cancel/").status_code == 405
    assert client.get(f"/jobs/{job.pk}/retry/").status_code == 405
    assert client.post(f"/jobs/{job.pk}/").status_code == 405


# --- The bulk confirmation -------------------------------------------------------------


def test_the_confirmation_shows_the_count_a_sample_and_each_calls_exact_body(
    client_as,
    customers,
    codes,  # noqa: F811
):
    client = client_as("support")
    response = client.get(
        "/jobs/bulk/customers/?action=set_status&code=KH001&code=KH002&code=KH003&target=VIP"
    )
    html = response.content.decode()
    assert 'data-count="3"' in html
    assert html.count("<pre data-body=") == 3
    assert 'data-code="KH002"' in html
    body = json.loads(response.context["previews"][0]["body"])
    assert body == {
        "vbot_id": "VBOT-TEST",
        "project_code": "PRJ-TEST",
        "customer_no": "KH001",
        "customer_name": "Khách 1",
        "customer_phones": ["0912345678"],
        "customer_address": "",
        "customer_email": "",
        "customer_status_code": "VIP",
        "customer_type_code": "CA_NHAN",
        "customer_group_name": "Hà Nội",
    }
    assert not Job.objects.exists()


def test_the_delete_confirmation_shows_the_delete_body(client_as, customers):
    response = client_as("support").get("/jobs/bulk/customers/?action=delete&code=KH004")
    assert json.loads(response.context["previews"][0]["body"]) == {
        "vbot_id": "VBOT-TEST",
        "project_code": "PRJ-TEST",
        "customer_no": "KH004",
    }


def test_without_a_new_value_the_page_asks_for_one_and_starts_nothing(client_as, customers):
    client = client_as("support")
    response = client.get("/jobs/bulk/customers/?action=set_status&code=KH001")
    assert response.status_code == 200
    assert 'name="target"' in response.content.decode()
    assert response.context["previews"] == []
    response = client.post("/jobs/bulk/customers/", {"action": "set_status", "code": ["KH001"]})
    assert response.status_code == 422
    assert not Job.objects.exists()


def test_all_matching_the_filter_is_frozen_when_the_job_is_created(client_as, customers, codes):  # noqa: F811
    client = client_as("support")
    make_customer("VIP001", "Đã VIP", codes=codes, status=codes["status_vip"])
    query = {"action": "set_status", "scope": "filter", "status": "MOI", "target": "VIP"}
    html = client.get("/jobs/bulk/customers/", query).content.decode()
    assert 'data-count="7"' in html
    response = client.post("/jobs/bulk/customers/", query)
    job = Job.objects.get()
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.total == 7 and job.owner == client.user and job.kind == SET_STATUS
    assert job.description == "Set status VIP (Khách VIP) on 7 customers"
    assert list(job.rows.values_list("key", flat=True)) == [c.code for c in customers]
    # A customer matching later is not in the job.
    make_customer("LATE", "Muộn", codes=codes)
    assert job.rows.count() == 7


def test_hostile_selections_get_a_clear_message(client_as, customers):
    client = client_as("support")
    response = client.post("/jobs/bulk/customers/", {"action": "delete", "code": ["KH\x00001"]})
    assert response.status_code == 422
    assert b"data-form-error" in response.content
    response = client.post("/jobs/bulk/customers/", {"action": "delete", "code": ["X" * 5000]})
    assert response.status_code == 422
    response = client.post(
        "/jobs/bulk/customers/", {"action": "delete", "code": [f"C{n}" for n in range(501)]}
    )
    assert response.status_code == 422
    response = client.post("/jobs/bulk/customers/", {"action": "delete"})
    assert response.status_code == 422
    assert "Select at least one customer." in response.content.decode()
    assert not Job.objects.exists()


def test_the_customer_list_offers_bulk_actions_to_writers_only(client_as, customers):
    html = client_as("support").get("/customers/").content.decode()
    assert 'form="bulk"' in html and 'value="delete"' in html
    html = client_as("manager").get("/customers/").content.decode()
    assert 'form="bulk"' not in html


# --- The job page, the report, the banner, the audit link --------------------------------


def test_the_job_page_polls_while_the_job_runs_and_stops_when_it_ends(
    client_as,
    customers,
    codes,  # noqa: F811
):
    client = client_as("support")
    job = a_job(
        client.user,
        customers[:4],
        codes,
        state=JobState.RUNNING,
        done=1,
        succeeded=1,
        started_at=timezone.now(),
    )
    html = client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert 'value="25"' in html  # 1 of 4
    assert "<html" not in html
    Job.objects.filter(pk=job.pk).update(state=JobState.FINISHED, done=4, succeeded=4)
    html = client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in html
    assert 'data-percent="100"' in html


def test_the_report_has_one_line_per_row(client_as, customers, codes):  # noqa: F811
    client = client_as("support")
    job = a_job(client.user, customers[:3], codes)
    JobRow.objects.filter(job=job, key="KH000").update(
        state=RowState.DONE, outcome=RowOutcome.SUCCEEDED
    )
    JobRow.objects.filter(job=job, key="KH001").update(
        state=RowState.DONE, outcome=RowOutcome.FAILED, message="=HYPERLINK(1)"
    )
    response = client.get(f"/jobs/{job.pk}/report.csv")
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines[0] == ["Row", "Record", "Outcome", "Message", "Request id", "Finished"]
    assert [line[:4] for line in lines[1:]] == [
        ["1", "KH000", "succeeded", ""],
        ["2", "KH001", "failed", "'=HYPERLINK(1)"],
        ["3", "KH002", "pending", ""],
    ]


def test_the_banner_shows_the_users_running_jobs(client_as, customers, codes):  # noqa: F811
    client = client_as("support")
    assert b'hx-get="/jobs/banner/"' in client.get("/customers/").content
    assert b'data-banner="none"' in client.get("/jobs/banner/").content
    job = a_job(client.user, customers[:2], codes)
    html = client.get("/jobs/banner/").content.decode()
    assert f"Job #{job.pk} is running" in html and 'hx-trigger="every 3s"' in html


def test_an_audit_entry_links_its_job_and_the_audit_list_filters_by_job(
    client_as,
    make_user,
    customers,
    codes,  # noqa: F811
):
    manager = client_as("manager")
    job = a_job(make_user("support", "owner"), customers[:1], codes)
    now = timezone.now()
    in_job = AuditEntry.objects.create(
        operation="customer.update",
        record_kind="customer",
        code="KH000",
        started_at=now,
        outcome=Outcome.SUCCEEDED,
        job=job,
    )
    AuditEntry.objects.create(
        operation="customer.update",
        record_kind="customer",
        code="KH001",
        started_at=now,
        outcome=Outcome.SUCCEEDED,
    )
    html = manager.get(f"/audit/{in_job.pk}/").content.decode()
    assert f'href="/jobs/{job.pk}/" data-link="job"' in html
    response = manager.get(f"/audit/?job={job.pk}")
    codes_shown = [row.code for row in response.context["rows"]]
    assert codes_shown == ["KH000"]
    assert f'href="/audit/?job={job.pk}"' in manager.get(f"/jobs/{job.pk}/").content.decode()
    assert manager.get("/audit/?job=abc").status_code == 200


def test_an_in_use_status_offers_to_move_its_customers(client_as, customers, codes):  # noqa: F811
    html = client_as("administrator").get("/codes/statuses/MOI/delete/").content.decode()
    assert "/customers/?status=MOI" in html
    assert "/jobs/bulk/customers/?action=set_status&amp;scope=filter&amp;status=MOI" in html
    assert "Move these 7 customers to …" in html


def test_an_in_use_field_offers_to_clear_it(client_as, customers, codes):  # noqa: F811
    from crmadmin.customers.models import CustomerFieldValue

    for customer in customers[:3]:
        CustomerFieldValue.objects.create(customer=customer, field=codes["note"], value="x")
    client = client_as("administrator")
    html = client.get("/codes/fields/GHI_CHU/delete/").content.decode()
    assert "Clear this field on these 3 customers" in html
    listed = client.get("/customers/?field=GHI_CHU")
    assert [c.code for c in listed.context["customers"]] == ["KH000", "KH001", "KH002"]
    page = client.get(
        "/jobs/bulk/customers/?action=clear_field&target=GHI_CHU&scope=filter&field=GHI_CHU"
    )
    assert page.context["count"] == 3
    body = json.loads(page.context["previews"][0]["body"])
    assert body["fileds"] == [{"field_key": "GHI_CHU", "field_value": ""}]


@pytest.mark.parametrize(
    ("role", "advice"),
    [
        ("support", "each is listed under “Needs attention”"),
        ("administrator", "each is listed under “Needs attention”"),
        ("manager", "check them in the audit log"),
    ],
)
def test_unknown_outcomes_are_sent_where_the_reader_may_go(
    client_as,
    make_user,
    customers,
    codes,  # noqa: F811
    role,
    advice,
):
    """Issue 10 item 5: Support may not open the audit log, so a job's unknown outcomes
    point them to "Needs attention" instead; every link on the page opens for them."""
    owner = make_user("support", "job-owner")
    job = a_job(owner, customers[:2], codes, unknown=1, done=2, succeeded=1)
    client = client_as(role)
    if role != "manager":
        job = a_job(client.user, customers[2:4], codes, unknown=1, done=2, succeeded=1)

    html = client.get(f"/jobs/{job.pk}/").content.decode()

    assert advice in html
    for link in re.findall(r'href="(/(?:attention|audit|customers)[^"]*)"', html):
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link
