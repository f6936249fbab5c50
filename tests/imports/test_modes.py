"""Sync and adopt against the sandbox over real HTTP, in a real job worker."""

import pytest
from django.core.management import CommandError, call_command

from crmadmin.audit.models import AuditEntry
from crmadmin.codes.services import code_create
from crmadmin.customers.models import Customer
from crmadmin.imports import services, tasks
from crmadmin.imports.models import Import, ImportRow, Outcome, State
from crmadmin.jobs import runner
from crmadmin.jobs.models import Job, JobRow, JobState, RowState
from crmadmin.kinds import REFERENCE_KINDS
from crmadmin.sandbox.models import SandboxCustomer
from tests.jobs.conftest import worker_died

from .conftest import csv_bytes, work_the_queue

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "code,name,phones,email,address,status_code,type_code,group_name"
ROWS = [
    "KH001,Nguyễn Văn An,0912 345 678,an@example.vn,,MOI,LE,Hà Nội",
    "KH002,Trần Thị Bích,0987654321;02834567890,,12 Lê Lợi,MOI,LE,Hà Nội",
    "KH003,Lê Dũng,0911000111,,,MOI,LE,Hà Nội",
]


@pytest.fixture
def world(sandbox_upstream, make_user):
    support = make_user("support", "support")
    admin = make_user("administrator", "admin1")
    code_create(kind=REFERENCE_KINDS["statuses"], actor=admin, code="MOI", name="Mới")
    code_create(kind=REFERENCE_KINDS["types"], actor=admin, code="LE", name="Lẻ")
    code_create(kind=REFERENCE_KINDS["groups"], actor=admin, code="HN", name="Hà Nội")
    return {"support": support, "admin": admin}


def test_sync_creates_every_row_in_the_crm_with_one_audited_call_each(world, run_import):
    job = run_import(world["support"], "customers", "k.csv", csv_bytes(HEADER, *ROWS), mode="sync")
    assert job.state == State.DONE
    assert list(job.rows.values_list("outcome", flat=True)) == ["done"] * 3
    assert sorted(SandboxCustomer.objects.values_list("code", flat=True)) == [
        "KH001",
        "KH002",
        "KH003",
    ]
    entries = AuditEntry.objects.filter(operation="customer.create").order_by("code")
    assert [(e.code, e.outcome, e.actor, e.job) for e in entries] == [
        (code, "succeeded", world["support"], job.crm_job) for code in ("KH001", "KH002", "KH003")
    ]
    assert job.crm_job.kind == "import.sync.customers"
    assert (job.crm_job.owner, job.crm_job.state, job.crm_job.succeeded) == (
        world["support"],
        JobState.FINISHED,
        3,
    )
    assert entries[1].request_body == {
        "vbot_id": "VBOT-TEST",
        "project_code": "PRJ-TEST",
        "customer_no": "KH002",
        "customer_name": "Trần Thị Bích",
        "customer_phones": ["0987654321", "02834567890"],
        "customer_address": "12 Lê Lợi",
        "customer_email": "",
        "customer_status_code": "MOI",
        "customer_type_code": "LE",
        "customer_group_name": "Hà Nội",
    }
    assert Customer.objects.get(code="KH002").phones.count() == 2

    changed = [ROWS[0].replace("Nguyễn Văn An", "Nguyễn Văn Ân"), *ROWS[1:]]
    again = run_import(world["support"], "customers", "k.csv", csv_bytes(HEADER, *changed))
    assert again.counts == {"new": 0, "unchanged": 2, "changed": 1, "error": 0}
    services.import_start(actor=world["support"], job=again, mode="sync", verify=False)
    call_command("jobs_worker", burst=True)
    again = Import.objects.get(pk=again.pk)
    assert again.state == State.DONE and again.crm_job.total == 1
    assert SandboxCustomer.objects.get(code="KH001").name == "Nguyễn Văn Ân"
    update = AuditEntry.objects.get(operation="customer.update")
    assert update.code == "KH001" and update.snapshot_before["customer_name"] == "Nguyễn Văn An"


def test_failed_rows_leave_the_register_alone_and_are_retried_from_the_jobs_screen(
    world, run_import, settings, client
):
    settings.CRM_SANDBOX_FAILURE_RATE = 1.0
    job = run_import(world["support"], "customers", "k.csv", csv_bytes(HEADER, *ROWS), mode="sync")
    assert job.state == State.DONE
    failed = job.rows.filter(outcome=Outcome.FAILED)
    assert failed.count() == 3
    assert "(request " in failed.first().message
    assert not Customer.objects.exists()
    first = job.crm_job
    assert (first.state, first.total, first.failed) == (JobState.FINISHED, 3, 3)
    assert (
        AuditEntry.objects.filter(operation="customer.create", outcome="failed", job=first).count()
        == 3
    )

    settings.CRM_SANDBOX_FAILURE_RATE = 0.0
    client.force_login(world["support"])
    assert client.get(f"/jobs/{first.pk}/").status_code == 200
    response = client.post(f"/jobs/{first.pk}/retry/")
    retry = Job.objects.get(retry_of=first)
    assert response.status_code == 302 and response["Location"] == f"/jobs/{retry.pk}/"
    page = client.get(f"/import/{job.pk}/").content.decode()
    assert f'data-job="{retry.pk}"' in page  # the import follows the retry, in progress
    call_command("jobs_worker", burst=True)

    page = client.get(f"/import/{job.pk}/").content.decode()
    job.refresh_from_db()
    assert job.state == State.DONE and job.crm_job == retry
    assert "3 imported, 0 failed, 0 not yet done." in page
    assert list(job.rows.values_list("outcome", flat=True)) == ["done"] * 3
    assert Customer.objects.count() == 3 == SandboxCustomer.objects.count()
    assert (
        AuditEntry.objects.filter(
            operation="customer.create", outcome="succeeded", job=retry
        ).count()
        == 3
    )


def test_showing_an_import_writes_nothing(world, run_import, client):
    """The import is brought up to date by its job's hooks, not by the pages that show
    it: a GET of the import pages makes no INSERT, UPDATE or DELETE."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    job = run_import(world["support"], "customers", "k.csv", csv_bytes(HEADER, *ROWS), mode="sync")
    assert job.state == State.DONE and job.crm_job.state == JobState.FINISHED
    client.force_login(world["support"])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/import/{job.pk}/").status_code == 200
        assert client.get("/import/").status_code == 200
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and "django_session" not in q["sql"]
    ]
    assert writes == []


def test_cancel_stops_before_the_next_row_and_resume_finishes(world, run_import):
    job = run_import(world["support"], "customers", "k.csv", csv_bytes(HEADER, *ROWS))
    services.import_start(actor=world["support"], job=job, mode="sync", verify=False)
    job.refresh_from_db()
    services.import_cancel(actor=world["support"], job=job)  # before a worker takes it
    call_command("jobs_worker", burst=True)
    job = Import.objects.get(pk=job.pk)
    assert job.state == State.CANCELLED and job.crm_job.state == JobState.CANCELLED
    assert not SandboxCustomer.objects.exists()
    services.import_resume(actor=world["support"], job=job)
    call_command("jobs_worker", burst=True)
    job = Import.objects.get(pk=job.pk)
    assert job.state == State.DONE and SandboxCustomer.objects.count() == 3
    assert job.crm_job.retry_of_id is not None


def test_an_import_whose_worker_died_resumes_without_sending_a_row_twice(
    world, run_import, settings, client
):
    settings.JOBS_HEARTBEAT_SECONDS = 0.05
    settings.JOBS_STALE_AFTER = 5
    job = run_import(world["support"], "customers", "k.csv", csv_bytes(HEADER, *ROWS))
    services.import_start(actor=world["support"], job=job, mode="sync", verify=False)
    job.refresh_from_db()
    crm_job = job.crm_job
    rows = list(JobRow.objects.filter(job=crm_job).order_by("position"))
    kind = runner.get_kind(crm_job.kind)
    # The dead worker's picture: row 1 created and its answer recorded, but the worker
    # died before marking the row done; row 2 sent with no answer recorded (it died
    # mid-call); row 3 not started.
    runner._run_row(crm_job, kind, rows[0].pk)
    JobRow.objects.filter(pk=rows[0].pk).update(state=RowState.IN_FLIGHT, outcome="")
    Job.objects.filter(pk=crm_job.pk).update(done=0, succeeded=0)
    ImportRow.objects.filter(job=job, code="KH001").update(outcome=Outcome.PENDING)
    worker_died(crm_job, rows[1], operation="customer.create", actor=world["support"])
    client.force_login(world["support"])
    assert 'data-progress="0"' in client.get(f"/import/{job.pk}/").content.decode()

    assert runner.recover_stalled_jobs() == [crm_job.pk]
    call_command("jobs_worker", burst=True)

    job = Import.objects.get(pk=job.pk)
    assert job.state == State.DONE
    crm_job.refresh_from_db()
    assert (crm_job.done, crm_job.succeeded, crm_job.unknown) == (3, 2, 1)
    calls = AuditEntry.objects.filter(operation="customer.create", job=crm_job)
    assert sorted(calls.values_list("code", flat=True)) == ["KH001", "KH002", "KH003"]
    assert dict(job.rows.values_list("code", "outcome")) == {
        "KH001": Outcome.DONE,
        "KH002": Outcome.UNKNOWN,
        "KH003": Outcome.DONE,
    }
    assert not SandboxCustomer.objects.filter(code="KH002").exists()  # never sent
    page = client.get(f"/import/{job.pk}/").content.decode()
    assert 'data-unknown="1"' in page
    # The unknown row is not sent again by "Retry the rows not done" either.
    with pytest.raises(services.ImportNotAllowed, match="nothing to resume"):
        services.import_resume(actor=world["support"], job=job)
    assert calls.count() == 3


def test_adopt_with_verification_adopts_only_what_the_crm_holds(world, run_import):
    # KH001 is in the CRM (created there earlier), not in the register.
    run_import(world["support"], "customers", "k.csv", csv_bytes(HEADER, ROWS[0]), mode="sync")
    Customer.objects.all().delete()
    job = run_import(
        world["support"],
        "customers",
        "k.csv",
        csv_bytes(HEADER, *ROWS[:2]),
        mode="adopt",
        verify=True,
    )
    outcomes = dict(job.rows.values_list("code", "outcome"))
    assert outcomes == {"KH001": "done", "KH002": "failed"}
    assert "(request " in job.rows.get(code="KH002").message
    assert list(Customer.objects.values_list("code", flat=True)) == ["KH001"]
    assert AuditEntry.objects.filter(
        operation="customer.update", code="KH002", outcome="rejected"
    ).exists()
    assert AuditEntry.objects.filter(operation="register.adopt", code="KH001").count() == 1
    assert not AuditEntry.objects.filter(operation="register.adopt", code="KH002").exists()


def test_adopt_events_are_in_the_record_history(world, run_import, client):
    data = csv_bytes(HEADER, *ROWS)
    job = run_import(world["support"], "customers", "khach-hang.csv", data, mode="adopt")
    assert job.state == State.DONE
    event = AuditEntry.objects.get(operation="register.adopt", code="KH002")
    assert event.actor == world["support"]
    assert event.outcome == "succeeded" and event.http_status is None
    assert event.request_body == {
        "file": "khach-hang.csv",
        "digest": job.digest,
        "import": job.pk,
        "row": 3,
    }
    client.force_login(world["support"])
    html = client.get("/customers/KH002/").content.decode()
    assert "Adopted from import file khach-hang.csv" in html
    assert not SandboxCustomer.objects.exists()  # adopting called nothing


@pytest.mark.parametrize("kind", ["statuses", "groups"])
def test_reference_codes_sync_and_adopt(kind, world, run_import):
    header = "code,name" + (",description" if kind == "groups" else "")
    extra = "," if kind == "groups" else ""
    data = csv_bytes(header, f"NEW1,Một{extra}", f"NEW2,Hai{extra}")
    job = run_import(world["admin"], kind, "c.csv", data, mode="sync")
    assert job.state == State.DONE and job.counts["new"] == 2
    model = REFERENCE_KINDS[kind].model
    assert model.objects.filter(code__in=["NEW1", "NEW2"]).count() == 2
    assert AuditEntry.objects.filter(
        operation=f"{REFERENCE_KINDS[kind].name}.create", code="NEW2", outcome="succeeded"
    ).exists()
    adopted = run_import(
        world["admin"], kind, "c.csv", csv_bytes(header, f"NEW3,Ba{extra}"), mode="adopt"
    )
    assert adopted.state == State.DONE
    assert AuditEntry.objects.filter(operation="register.adopt", code="NEW3").exists()


def test_adopt_events_keep_the_audit_hash_chain_whole(world, run_import):
    from crmadmin.audit import chain

    job = run_import(world["support"], "customers", "k.csv", csv_bytes(HEADER, *ROWS), mode="adopt")
    assert job.state == State.DONE
    result = chain.verify()
    assert result.ok, result


def test_adopt_keeps_the_keys_the_preview_read_and_parses_no_number_again(
    world, run_import, monkeypatch, django_capture_on_commit_callbacks
):
    """Numbers in any notation land in their wire form with their comparison keys, which
    the preview computed: the adopt step never parses a number (it was a third of an
    adopt's time at 100,000 customers)."""
    row = "KH009,Phạm Hà,+84 (0) 912 345 678 / 0084 28 3456 7890,,,MOI,LE,Hà Nội"
    job = run_import(world["support"], "customers", "k.csv", csv_bytes(HEADER, row))
    assert job.rows.get().values["phone_keys"] == ["84912345678", "842834567890"]

    from crmadmin.customers import services as customer_services

    def no_parsing(number):
        raise AssertionError(f"{number} parsed again")

    monkeypatch.setattr(customer_services, "comparison_key", no_parsing)
    with django_capture_on_commit_callbacks(execute=True):
        services.import_start(actor=world["support"], job=job, mode="adopt", verify=False)
    work_the_queue(tasks.apply_import, job.pk, world["support"].pk)
    customer = Customer.objects.get(code="KH009")
    assert list(customer.phones.values_list("number", "digits")) == [
        ("0912345678", "84912345678"),
        ("02834567890", "842834567890"),
    ]
    assert customer.phone_digits == "84912345678 842834567890"


def test_the_command_runs_a_sync_as_a_job_in_the_named_users_name(world, tmp_path, capsys):
    upload = tmp_path / "k.csv"
    upload.write_bytes(csv_bytes(HEADER, *ROWS))
    with pytest.raises(CommandError, match="give --user"):
        call_command("import_customers", str(upload), mode="sync")
    assert not SandboxCustomer.objects.exists()

    call_command("import_customers", str(upload), mode="sync", user="support")
    out = capsys.readouterr().out
    job = Import.objects.filter(mode="sync").get()
    assert f"Job {job.crm_job_id}: one CRM call per row, as support." in out
    assert "3/3 rows sent (100%)" in out
    assert "(Create or update in the CRM): 3 imported, 0 failed." in out
    assert job.state == State.DONE and job.crm_job.state == JobState.FINISHED
    assert (
        AuditEntry.objects.filter(
            operation="customer.create", job=job.crm_job, actor=world["support"]
        ).count()
        == 3
    )
    assert SandboxCustomer.objects.count() == 3
