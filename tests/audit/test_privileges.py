"""PostgreSQL least privilege: the application's role cannot TRUNCATE, DELETE, rewrite or
un-trigger the audit log, and can still do all the application does with it."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from crmadmin.audit import chain, recorder
from crmadmin.audit.models import AuditEntry, Outcome

ROLE = "crmadmin_wb_test_app"  # created and dropped inside the test's transaction
BODY = {"vbot_id": "V", "project_code": "P", "status_no": "VIP"}

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_app_role():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL privileges")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {ROLE} NOLOGIN")
    call_command("audit_grants", role=ROLE, apply=True)
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {ROLE}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def refused(sql: str, params=()) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as exc:
        return "permission denied" in str(exc) or "must be owner" in str(exc)
    return False


def test_the_app_role_writes_and_completes_entries_and_the_chain_holds(as_app_role):
    entry = recorder.begin(
        operation="status.create", record_kind="status", code="VIP", request_body=BODY
    )
    recorder.complete(entry, outcome=Outcome.SUCCEEDED, http_status=200)
    assert AuditEntry.objects.get().outcome == Outcome.SUCCEEDED
    assert chain.verify_and_record().ok


def test_the_app_role_cannot_erase_or_rewrite_the_audit_log(as_app_role):
    entry = recorder.begin(
        operation="status.create", record_kind="status", code="VIP", request_body=BODY
    )
    table = AuditEntry._meta.db_table
    assert refused(f"TRUNCATE {table}")
    assert refused(f"DELETE FROM {table}")  # noqa: S608
    assert refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
    assert refused(f"ALTER TABLE {table} DROP COLUMN chain_hash")
    assert refused(f"DROP TABLE {table}")
    # A pending entry's own columns are not the app's to rewrite, nor its links.
    assert refused(f"UPDATE {table} SET code = 'OTHER' WHERE id = %s", [entry.pk])  # noqa: S608
    assert refused(f"UPDATE {table} SET chain_hash = 'x' WHERE id = %s", [entry.pk])  # noqa: S608
    assert AuditEntry.objects.filter(code="VIP").exists()


def test_the_grants_are_printed_without_flag(capsys):
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="PostgreSQL only"):
            call_command("audit_grants", role="crmadmin_app")
        return
    call_command("audit_grants", role="crmadmin_app")
    printed = capsys.readouterr().out
    assert 'GRANT SELECT, INSERT ON "audit_auditentry" TO "crmadmin_app";' in printed
    assert 'GRANT UPDATE ("finished_at", "duration_ms", "outcome"' in printed
    with pytest.raises(CommandError, match="not a plain PostgreSQL role name"):
        call_command("audit_grants", role='x"; DROP TABLE audit_auditentry; --')
