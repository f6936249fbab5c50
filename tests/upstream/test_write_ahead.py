"""The audit entry is committed before the request leaves, and the request leaves outside any
transaction of the client's, so a process dying mid-call still leaves a trace."""

import json
import logging

import pytest
from django.db import connection

from crmadmin.audit.models import AuditEntry, Outcome
from crmadmin.core.middleware import _client_ip
from crmadmin.upstream import call
from tests.crm import CRM, envelope

URL = f"{CRM}/api/crm/customer/delete"


def pending_entry_check(seen: list):
    def answer(request):
        entry = AuditEntry.objects.get(request_id=request.headers["X-Request-ID"])
        seen.append(
            {
                "outcome": entry.outcome,
                "operation": entry.operation,
                "code": entry.code,
                "request_body": entry.request_body,
                "in_transaction": connection.in_atomic_block,
            }
        )
        return 200, {}, json.dumps(envelope(data=True))

    return answer


@pytest.mark.django_db(transaction=True)
def test_the_pending_entry_is_committed_before_the_request_leaves(crm, static_token, make_user):
    user = make_user("support")
    seen = []
    crm.add_callback("POST", URL, callback=pending_entry_check(seen))

    call("customer.delete", {"customer_no": "KH001"}, actor=user, snapshot={"code": "KH001"})

    assert seen == [
        {
            "outcome": Outcome.PENDING,
            "operation": "customer.delete",
            "code": "KH001",
            "request_body": {
                "vbot_id": "VBOT-TEST",
                "project_code": "PRJ-TEST",
                "customer_no": "KH001",
            },
            # No transaction is held while the CRM (maybe our own sandbox) works.
            "in_transaction": False,
        }
    ]
    entry = AuditEntry.objects.get()
    assert entry.outcome == Outcome.SUCCEEDED
    assert entry.upstream_data is True


@pytest.mark.django_db
def test_the_entry_names_who_acted_and_from_where(crm, static_token, make_user):
    user = make_user("support", username="lan.tran")
    crm.post(URL, json=envelope(data=True))
    token = _client_ip.set("203.0.113.7")
    try:
        call("customer.delete", {"customer_no": "KH001"}, actor=user)
    finally:
        _client_ip.reset(token)
    user.username = "lan.tran.old"
    user.save()

    entry = AuditEntry.objects.get()
    assert entry.actor == user
    assert entry.actor_username == "lan.tran"  # as it was at the time
    assert entry.actor_ip == "203.0.113.7"


@pytest.mark.django_db
def test_system_work_has_no_actor(crm, static_token):
    crm.post(URL, json=envelope(data=True))
    call("customer.delete", {"customer_no": "KH001"})
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.actor_username, entry.actor_ip) == (None, "", None)


@pytest.mark.django_db
def test_one_log_line_per_call_without_the_body(crm, static_token, caplog):
    crm.post(URL, json=envelope(data=True))
    with caplog.at_level(logging.INFO, logger="crmadmin.upstream"):
        call("customer.delete", {"customer_no": "KH001"})
    entry = AuditEntry.objects.get()
    lines = [r.getMessage() for r in caplog.records if r.name == "crmadmin.upstream"]
    assert len(lines) == 1
    assert lines[0].startswith("CRM customer.delete KH001: succeeded HTTP 200 in ")
    assert lines[0].endswith(f"ms (request {entry.request_id})")
    assert "VBOT-TEST" not in lines[0]
