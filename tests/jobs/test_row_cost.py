"""What one row of a bulk job costs the worker, and the shortcuts that cut it keeping
every guarantee: a customer read with its chunk but changed before its row is sent as it
is now; counts a dead worker never flushed are recounted; a succeeded row is done with
its audit entry."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crmadmin.audit.models import AuditEntry, Outcome
from crmadmin.customers.models import Customer
from crmadmin.customers.selectors import customer_list
from crmadmin.customers.services import customer_update
from crmadmin.jobs import runner
from crmadmin.jobs.customer_kinds import SET_STATUS, prepare_customers
from crmadmin.jobs.models import Job, JobRow, JobState, RowOutcome, RowState
from crmadmin.sandbox.models import SandboxCustomer
from tests.jobs.test_runner import set_status_job

pytestmark = pytest.mark.django_db(transaction=True)

# The worker's statements for one row of "set status" (15): the record's lease and its
# version (2); BEGIN, the chain's last link, the pending entry, the row in flight, COMMIT
# (5); the token from the shared cache (1); BEGIN, the register's UPDATE, the last link,
# the completed entry, the lease's release, the row done, COMMIT (7). Plus the target,
# read again once a second. It was 32 before the runner read rows and customers in
# chunks and stopped reloading them.
MAX_STATEMENTS_PER_ROW = 16


def feed(job):
    rows = list(JobRow.objects.filter(job=job).order_by("position"))
    prepare_customers(rows)
    return rows


def test_a_set_status_row_costs_a_bounded_number_of_sql_statements(world):
    customers = world["customers"](11)
    job = set_status_job(world, customers)
    job = Job.objects.select_related("owner").get(pk=job.pk)
    kind = runner.get_kind(SET_STATUS)
    progress = runner._Progress(job.pk)
    rows = feed(job)
    runner._run_row(job, kind, rows[0], progress)  # the token grant, once per process

    with CaptureQueriesContext(connection) as captured:
        for row in rows[1:]:
            runner._run_row(job, kind, row, progress)
    progress.flush()

    # PostgreSQL also takes the chain writers' advisory lock in each of the two transactions.
    bound = MAX_STATEMENTS_PER_ROW + (2 if connection.vendor == "postgresql" else 0)
    assert len(captured.captured_queries) / 10 <= bound
    job.refresh_from_db()
    assert (job.done, job.succeeded) == (11, 11)
    assert set(SandboxCustomer.objects.values_list("status__code", flat=True)) == {"VIP"}


def test_a_customer_changed_after_its_chunk_was_read_is_sent_as_it_is_now(world):
    first, second = world["customers"](2)
    job = set_status_job(world, [first, second])
    job = Job.objects.select_related("owner").get(pk=job.pk)
    rows = feed(job)
    # Someone renames the customer after the runner read the chunk, before its row runs.
    customer_update(
        actor=world["owner"],
        customer=Customer.objects.get(pk=first.pk),
        name="Tên mới",
        phones=["0987654321"],
        status=first.status,
        type=first.type,
        group=first.group,
    )

    runner._run_row(job, runner.get_kind(SET_STATUS), rows[0])

    row = JobRow.objects.get(pk=rows[0].pk)
    assert row.outcome == RowOutcome.SUCCEEDED
    sent = row.audit_entry.request_body
    assert (sent["customer_name"], sent["customer_phones"]) == ("Tên mới", ["0987654321"])
    assert sent["customer_status_code"] == "VIP"
    register = Customer.objects.get(pk=first.pk)
    remote = SandboxCustomer.objects.get(code=first.code)
    assert (register.name, register.status.code) == ("Tên mới", "VIP")
    assert (remote.name, remote.phones, remote.status.code) == ("Tên mới", ["0987654321"], "VIP")
    # One update for the rename, one for the row: the refused older copy sent nothing.
    assert AuditEntry.objects.filter(code=first.code, operation="customer.update").count() == 2


def test_a_customer_deleted_after_its_chunk_was_read_fails_its_row_unsent(world):
    first, _second = world["customers"](2)
    job = set_status_job(world, [first])
    job = Job.objects.select_related("owner").get(pk=job.pk)
    rows = feed(job)
    Customer.objects.filter(pk=first.pk).delete()

    runner._run_row(job, runner.get_kind(SET_STATUS), rows[0])

    row = JobRow.objects.get(pk=rows[0].pk)
    assert row.outcome == RowOutcome.FAILED
    assert "no longer in the register" in row.message
    assert not AuditEntry.objects.filter(job=job).exists()


def test_counts_a_dead_worker_had_not_flushed_are_recounted_when_the_job_resumes(world):
    customers = world["customers"](4)
    job = set_status_job(world, customers)
    job = Job.objects.select_related("owner").get(pk=job.pk)
    rows = feed(job)
    # The dead worker finished two rows, and died before its counts were written.
    for row in rows[:2]:
        runner._run_row(job, runner.get_kind(SET_STATUS), row, runner._Progress(job.pk))
    assert Job.objects.values_list("done", flat=True).get(pk=job.pk) == 0
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, heartbeat_at=None)

    assert runner.run(job.pk) == JobState.FINISHED

    job.refresh_from_db()
    assert (job.total, job.done, job.succeeded, job.failed) == (4, 4, 4, 0)
    assert AuditEntry.objects.filter(job=job, operation="customer.update").count() == 4


def test_a_succeeded_row_is_done_in_the_transaction_that_completes_its_entry(world, monkeypatch):
    (customer,) = world["customers"](1)
    job = set_status_job(world, [customer])
    job = Job.objects.select_related("owner").get(pk=job.pk)
    rows = feed(job)
    seen = {}
    original = runner._mark_done

    def spy(*args, **kwargs):
        # Inside the transaction that completes the entry (just before its UPDATE).
        seen["atomic"] = connection.in_atomic_block
        seen["entry"] = AuditEntry.objects.get(job=job).outcome
        return original(*args, **kwargs)

    monkeypatch.setattr(runner, "_mark_done", spy)

    runner._run_row(job, runner.get_kind(SET_STATUS), rows[0])

    assert seen == {"atomic": True, "entry": Outcome.PENDING}
    row = JobRow.objects.select_related("audit_entry").get(pk=rows[0].pk)
    assert (row.state, row.outcome) == (RowState.DONE, RowOutcome.SUCCEEDED)
    assert row.audit_entry.outcome == Outcome.SUCCEEDED
    assert Job.objects.values_list("done", "succeeded").get(pk=job.pk) == (1, 1)


def test_a_status_change_writes_only_the_columns_that_change(world):
    """The register's UPDATE for a new status names the status and the bookkeeping
    columns, not the name, phones or search columns: on SQLite the full-text index's
    trigger fires on any UPDATE naming ``search_text`` or ``phone_digits``, so naming
    them unchanged rewrote the customer's search entry on every row of a job."""
    first, second = world["customers"](2)
    job = set_status_job(world, [first, second])
    job = Job.objects.select_related("owner").get(pk=job.pk)
    rows = feed(job)

    with CaptureQueriesContext(connection) as captured:
        runner._run_row(job, runner.get_kind(SET_STATUS), rows[0])

    table = Customer._meta.db_table
    (update,) = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith("UPDATE") and f'"{table}"' in q["sql"].split("SET")[0]
    ]
    assigned = update.split(" SET ", 1)[1].split(" WHERE ", 1)[0]
    columns = {part.split(" = ", 1)[0].strip().strip('"') for part in assigned.split(", ")}
    assert columns == {"status_id", "updated_by_id", "updated_at", "version"}
    register = Customer.objects.get(pk=first.pk)
    assert (register.status.code, register.name, register.version) == (
        "VIP",
        first.name,
        first.version + 1,
    )
    # Still found by its name and phone: its search entry was left as it was.
    for query in (first.name, first.phone_digits[-6:]):
        assert first.pk in {c.pk for c in customer_list(query=query)}
