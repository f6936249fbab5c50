"""A finished audit entry cannot be changed and no entry can be deleted: not by the model,
not by the queryset, and not by raw SQL (database triggers, SQLite and PostgreSQL)."""

import pytest
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.db.utils import IntegrityError

from crmadmin.audit import recorder
from crmadmin.audit.models import AuditEntry, AuditEntryImmutable, FailureKind, Outcome


def pending_entry(**overrides) -> AuditEntry:
    fields = {
        "operation": "status.create",
        "record_kind": "status",
        "code": "VIP",
        "request_body": {"status_no": "VIP", "status_name": "Khách VIP"},
    }
    return recorder.begin(**{**fields, **overrides})


def finished_entry() -> AuditEntry:
    return recorder.complete(
        pending_entry(), outcome=Outcome.SUCCEEDED, http_status=200, upstream_status=1
    )


def raw(sql: str, params: list) -> None:
    # A savepoint, so the refused statement does not break the test's transaction.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_raw_sql_cannot_change_a_finished_entry():
    entry = finished_entry()
    with pytest.raises(IntegrityError, match="finished and cannot be changed"):
        raw("UPDATE audit_auditentry SET outcome = %s WHERE id = %s", ["failed", entry.pk])
    with pytest.raises(IntegrityError):
        raw("UPDATE audit_auditentry SET upstream_message = %s WHERE id = %s", ["x", entry.pk])
    entry.refresh_from_db()
    assert entry.outcome == Outcome.SUCCEEDED
    assert entry.upstream_message == ""


@pytest.mark.django_db
@pytest.mark.parametrize("finished", [False, True], ids=["pending", "finished"])
def test_raw_sql_cannot_delete_any_entry(finished):
    entry = finished_entry() if finished else pending_entry()
    with pytest.raises(IntegrityError, match="cannot be deleted"):
        raw("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_raw_sql_can_still_complete_a_pending_entry():
    entry = pending_entry()
    raw("UPDATE audit_auditentry SET outcome = %s WHERE id = %s", ["failed", entry.pk])
    entry.refresh_from_db()
    assert entry.outcome == Outcome.FAILED


@pytest.mark.django_db
def test_the_model_refuses_to_save_a_finished_entry():
    entry = finished_entry()
    entry.upstream_message = "rewritten history"
    with pytest.raises(AuditEntryImmutable):
        entry.save()
    stale = AuditEntry.objects.get(pk=entry.pk)
    stale.outcome = Outcome.FAILED
    with pytest.raises(AuditEntryImmutable):
        stale.save()
    assert AuditEntry.objects.get(pk=entry.pk).upstream_message == ""


@pytest.mark.django_db
def test_a_stale_copy_loaded_while_pending_cannot_overwrite_the_finished_entry():
    entry = pending_entry()
    stale = AuditEntry.objects.get(pk=entry.pk)
    recorder.complete(entry, outcome=Outcome.REJECTED, failure_kind=FailureKind.REJECTED)
    stale.outcome = Outcome.SUCCEEDED
    with pytest.raises(AuditEntryImmutable):
        stale.save()
    assert AuditEntry.objects.get(pk=entry.pk).outcome == Outcome.REJECTED


@pytest.mark.django_db
def test_the_model_and_the_queryset_refuse_to_delete():
    entry = pending_entry()
    with pytest.raises(AuditEntryImmutable):
        entry.delete()
    with pytest.raises(AuditEntryImmutable):
        AuditEntry.objects.all().delete()
    with pytest.raises(AuditEntryImmutable):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.count() == 1


@pytest.mark.django_db
def test_a_bulk_update_leaves_finished_entries_alone():
    done = finished_entry()
    open_entry = pending_entry(code="GOLD")
    assert AuditEntry.objects.update(error_detail="bulk") == 1
    done.refresh_from_db()
    open_entry.refresh_from_db()
    assert done.error_detail == ""
    assert open_entry.error_detail == "bulk"


@pytest.mark.django_db
def test_deleting_a_user_who_acted_is_refused(make_user):
    user = make_user("support")
    pending_entry(actor=user)
    with pytest.raises(ProtectedError):
        user.delete()
    assert AuditEntry.objects.get().actor == user


@pytest.mark.django_db(transaction=True)
def test_the_triggers_hold_in_autocommit_too():
    entry = finished_entry()
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET code = 'X' WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).code == "VIP"


@pytest.mark.django_db
def test_the_next_test_still_finds_the_triggers_after_a_transactional_test():
    # Runs after the transactional test above, whose flush had to lift the DELETE trigger.
    entry = pending_entry()
    with pytest.raises(IntegrityError):
        raw("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
