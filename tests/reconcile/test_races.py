"""One write at a time per record, forced deterministically over real HTTP: the first
writer's call is held at the CRM's door while the second writer tries."""

import re
import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crmadmin.audit.models import AuditEntry
from crmadmin.core.models import RecordLease
from crmadmin.customers import services as customer_services
from crmadmin.customers.models import Customer
from crmadmin.upstream import RegisterNotUpdated, transport

from .conftest import assert_register_equals_sandbox, customer_values, register_state

pytestmark = pytest.mark.django_db(transaction=True)


class Gate:
    """Holds the CRM calls of one thread (before or after the HTTP exchange) until opened."""

    def __init__(self, monkeypatch, *, after: bool = False):
        self.entered = threading.Event()
        self.opened = threading.Event()
        self.thread: threading.Thread | None = None
        original = transport.post

        def post(url, **kwargs):
            held = threading.current_thread() is self.thread and "/api/crm/" in url
            if held and not after:
                self.entered.set()
                assert self.opened.wait(20)
            response = original(url, **kwargs)
            if held and after:
                self.entered.set()
                assert self.opened.wait(20)
            return response

        monkeypatch.setattr(transport, "post", post)

    def run(self, work):
        """Start ``work`` in a thread of its own; return once its call is held."""
        outcome = {}

        def target():
            try:
                outcome["value"] = work()
            except BaseException as error:
                outcome["error"] = error
            finally:
                connections.close_all()  # this thread's own database connection

        self.thread = threading.Thread(target=target)
        self.thread.start()
        assert self.entered.wait(20)
        return outcome

    def open(self):
        self.opened.set()
        self.thread.join(20)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(page, **changes) -> dict:
    """What the browser would post from a form page: its fields as rendered, changed."""
    form = page.context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        data[name] = value
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def edit_form(client, code="KH1", **changes):
    page = client.get(reverse("customers:edit", kwargs={"code": code}))
    assert page.status_code == 200
    data = form_data(page, **changes)
    data["phones"] = page.context["form"]["phones"].value()
    return data


def test_two_edits_the_second_is_told_who_saves_then_refused_as_stale_then_reapplied(
    make_customer, make_user, monkeypatch
):
    make_customer()
    alice, bob = make_user("support", "alice"), make_user("support", "bob")
    alice_client, bob_client = signed_in(alice), signed_in(bob)
    url = reverse("customers:edit", kwargs={"code": "KH1"})
    alice_form = edit_form(alice_client, name="Sửa của Alice")
    bob_form = edit_form(bob_client, name="Sửa của Bob")

    gate = Gate(monkeypatch)
    alice_done = gate.run(lambda: alice_client.post(url, alice_form))
    entries = AuditEntry.objects.count()
    busy = bob_client.post(url, bob_form)
    assert busy.status_code == 409
    assert "alice is saving KH1 right now" in busy.text
    assert "Sửa của Bob" in busy.text  # the input stays on screen
    assert AuditEntry.objects.count() == entries  # Bob sent nothing
    gate.open()
    assert alice_done["value"].status_code == 302

    stale = bob_client.post(url, bob_form)
    assert stale.status_code == 409
    assert "Someone changed KH1 since you opened this form" in stale.text
    assert re.search(r'data-change="customer_name".*Nguyễn Văn An.*Sửa của Alice', stale.text, re.S)
    assert 'value="Sửa của Bob"' in stale.text
    assert register_state()["KH1"]["name"] == "Sửa của Alice"
    assert_register_equals_sandbox()

    again = bob_client.post(url, form_data(stale, phones=bob_form["phones"]))
    assert again.status_code == 302
    assert register_state()["KH1"]["name"] == "Sửa của Bob"
    assert_register_equals_sandbox()


def test_edit_racing_a_delete_never_brings_the_customer_back(make_customer, make_user, monkeypatch):
    make_customer()
    alice, bob = make_user("support", "alice"), make_user("support", "bob")
    alice_client, bob_client = signed_in(alice), signed_in(bob)
    alice_form = edit_form(alice_client, name="Sửa của Alice")
    delete_url = reverse("customers:delete", kwargs={"code": "KH1"})
    delete_page = bob_client.get(delete_url)

    gate = Gate(monkeypatch)
    bob_done = gate.run(lambda: bob_client.post(delete_url, form_data(delete_page)))
    busy = alice_client.post(reverse("customers:edit", kwargs={"code": "KH1"}), alice_form)
    assert busy.status_code == 409
    assert "bob is saving KH1" in busy.text
    gate.open()
    assert bob_done["value"].status_code == 302

    late = alice_client.post(reverse("customers:edit", kwargs={"code": "KH1"}), alice_form)
    assert late.status_code in (404, 409)  # the customer is gone: nothing sent
    assert register_state() == {}
    assert_register_equals_sandbox()


def test_a_late_register_change_never_undoes_a_delete(make_customer, codes, superuser, monkeypatch):
    """Even a writer whose lock expired cannot resurrect a row: the register change is a
    targeted UPDATE of the row that still has the code."""
    customer = make_customer()
    gate = Gate(monkeypatch, after=True)
    outcome = gate.run(
        lambda: customer_services.customer_update(
            actor=superuser, customer=customer, **customer_values(codes, name="Muộn")
        )
    )
    # Alice's call went through; her process stalls past the budget; her lease lapses.
    RecordLease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    customer_services.customer_delete(actor=superuser, customer=Customer.objects.get(code="KH1"))
    gate.open()

    assert isinstance(outcome["error"], RegisterNotUpdated)
    assert register_state() == {}
    assert_register_equals_sandbox()


def test_edit_racing_a_change_of_code_never_reverts_the_code(make_customer, make_user, monkeypatch):
    make_customer()
    alice, bob = make_user("support", "alice"), make_user("support", "bob")
    alice_client, bob_client = signed_in(alice), signed_in(bob)
    alice_form = edit_form(alice_client, name="Sửa của Alice")
    rename_url = reverse("customers:rename", kwargs={"code": "KH1"})
    rename_data = form_data(bob_client.get(rename_url), new_code="KH2")

    gate = Gate(monkeypatch)
    bob_done = gate.run(lambda: bob_client.post(rename_url, rename_data))
    edit_url = reverse("customers:edit", kwargs={"code": "KH1"})
    busy = alice_client.post(edit_url, alice_form)
    assert busy.status_code == 409
    assert "bob is saving" in busy.text
    gate.open()
    assert bob_done["value"].status_code == 302

    late = alice_client.post(edit_url, alice_form)
    assert late.status_code == 409
    assert re.search(r'data-change="customer_no".*KH1.*KH2', late.text, re.S)
    assert list(register_state()) == ["KH2"]
    assert_register_equals_sandbox()
    # Re-applied on the new version: the record keeps its new code.
    again = alice_client.post(edit_url, form_data(late, phones=alice_form["phones"]))
    assert again.status_code == 302
    assert again["Location"] == reverse("customers:detail", kwargs={"code": "KH2"})
    assert register_state()["KH2"]["name"] == "Sửa của Alice"
    assert_register_equals_sandbox()
    # The old address leads to the record's page under its new code.
    moved = alice_client.get(reverse("customers:detail", kwargs={"code": "KH1"}))
    assert moved.status_code == 302
    assert moved["Location"] == reverse("customers:detail", kwargs={"code": "KH2"})


def test_a_crashed_lock_holder_blocks_no_longer_than_the_budget(make_customer, make_user, settings):
    make_customer()
    settings.CRM_CALL_BUDGET = 1.0
    now = timezone.now()
    # Alice's worker took the lease and was killed mid-call.
    RecordLease.objects.create(
        kind="customer",
        code="KH1",
        token="crashed",
        holder="alice",
        operation="customer.update",
        acquired_at=now,
        expires_at=now + timedelta(seconds=settings.CRM_CALL_BUDGET),
    )
    bob_client = signed_in(make_user("support", "bob"))
    url = reverse("customers:edit", kwargs={"code": "KH1"})
    bob_form = edit_form(bob_client, name="Sửa của Bob")
    entries = AuditEntry.objects.count()

    busy = bob_client.post(url, bob_form)
    assert busy.status_code == 409
    assert "alice is saving KH1" in busy.text
    assert AuditEntry.objects.count() == entries

    time.sleep(1.1)
    assert bob_client.post(url, bob_form).status_code == 302
    assert register_state()["KH1"]["name"] == "Sửa của Bob"
    assert_register_equals_sandbox()
    assert not RecordLease.objects.exists()  # released after the write
