"""The write-ahead recorder: a pending entry first, completed exactly once afterwards."""

import pytest
from django.contrib.auth.models import AnonymousUser

from crmadmin.audit import recorder
from crmadmin.audit.models import AuditEntry, AuditEntryImmutable, FailureKind, Outcome
from crmadmin.core.middleware import _client_ip

BODY = {"vbot_id": "VBOT-TEST", "project_code": "PRJ-TEST", "status_no": "VIP"}


@pytest.mark.django_db
def test_begin_writes_a_pending_entry_with_who_what_and_a_request_id(make_user):
    user = make_user("administrator", username="minh.le")
    token = _client_ip.set("198.51.100.20")
    try:
        entry = recorder.begin(
            operation="status.delete",
            record_kind="status",
            code="VIP",
            request_body=BODY,
            snapshot_before={"code": "VIP", "name": "Khách VIP"},
            actor=user,
        )
    finally:
        _client_ip.reset(token)

    stored = AuditEntry.objects.get()
    assert stored.pk == entry.pk
    assert stored.outcome == Outcome.PENDING and stored.is_pending
    assert (stored.actor, stored.actor_username, stored.actor_ip) == (
        user,
        "minh.le",
        "198.51.100.20",
    )
    assert (stored.operation, stored.record_kind, stored.code) == ("status.delete", "status", "VIP")
    assert stored.request_body == BODY
    assert stored.snapshot_before == {"code": "VIP", "name": "Khách VIP"}
    assert len(stored.request_id) == 32
    assert stored.started_at is not None
    assert stored.finished_at is None and stored.duration_ms is None


@pytest.mark.django_db
def test_an_anonymous_actor_is_recorded_as_nobody():
    entry = recorder.begin(operation="auth.token", request_body={}, actor=AnonymousUser())
    assert (entry.actor, entry.actor_username) == (None, "")


@pytest.mark.django_db
def test_each_entry_gets_its_own_request_id():
    ids = {recorder.begin(operation="auth.token", request_body={}).request_id for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.django_db
def test_complete_records_the_outcome_once():
    entry = recorder.begin(operation="status.create", record_kind="status", request_body=BODY)
    recorder.complete(
        entry,
        outcome=Outcome.REJECTED,
        failure_kind=FailureKind.REJECTED,
        http_status=200,
        upstream_status=0,
        upstream_error="1002",
        upstream_message="Mã đã tồn tại",
        upstream_data=None,
    )

    stored = AuditEntry.objects.get()
    assert stored.outcome == Outcome.REJECTED
    assert stored.failure_kind == FailureKind.REJECTED
    assert (stored.http_status, stored.upstream_status, stored.upstream_error) == (200, 0, "1002")
    assert stored.upstream_message == "Mã đã tồn tại"
    assert stored.finished_at >= stored.started_at
    assert stored.duration_ms >= 0

    with pytest.raises(AuditEntryImmutable):
        recorder.complete(entry, outcome=Outcome.SUCCEEDED)
    assert AuditEntry.objects.get().outcome == Outcome.REJECTED


@pytest.mark.django_db
def test_an_entry_cannot_be_completed_as_pending():
    entry = recorder.begin(operation="status.create", request_body=BODY)
    with pytest.raises(ValueError):
        recorder.complete(entry, outcome=Outcome.PENDING)


@pytest.mark.django_db
def test_an_entry_loaded_from_the_database_can_be_completed():
    """Another process (or a later request) may finish an entry it did not begin."""
    recorder.begin(operation="status.create", request_body=BODY)
    loaded = AuditEntry.objects.get()
    recorder.complete(loaded, outcome=Outcome.FAILED, failure_kind=FailureKind.INTERNAL)
    stored = AuditEntry.objects.get()
    assert stored.outcome == Outcome.FAILED
    assert stored.duration_ms >= 0


@pytest.mark.django_db(transaction=True)
def test_begin_refuses_to_run_inside_a_callers_transaction():
    """Inside atomic() the entry would not be committed before the request leaves."""
    from django.db import transaction

    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        recorder.begin(operation="status.create", request_body=BODY)
    assert not AuditEntry.objects.exists()
