"""Garbled or hostile requests get a clear answer, never a 500, and send nothing."""

import pytest
from django.urls import reverse

from crmadmin.audit.models import AuditEntry
from crmadmin.customers import services as customer_services

from .conftest import crash_after_answer, customer_values, last_entry

pytestmark = pytest.mark.django_db(transaction=True)


def test_unknown_steps_meanings_and_entries_are_refused_clearly(client_as, codes, superuser):
    with crash_after_answer():
        customer_services.customer_create(actor=superuser, code="KH1", **customer_values(codes))
    entry = last_entry("customer.create")
    client = client_as("support")
    url = reverse("reconcile:item", kwargs={"entry_id": entry.pk})
    calls = AuditEntry.objects.count()

    assert client.post(url, {"step": "drop-table\x00"}).status_code == 422
    refused = client.post(url, {"step": "interpret", "meaning": "x" * 10_000})
    assert refused.status_code == 422
    assert "No answer waits for a decision here." in refused.text
    assert client.post(url, {"step": "adopt"}).status_code == 422
    assert AuditEntry.objects.count() == calls  # nothing was sent

    assert client.get("/attention/99999999999999999999/").status_code == 404
    not_a_delete = reverse("reconcile:restore", kwargs={"entry_id": entry.pk})
    assert client.get(not_a_delete).status_code == 404


def test_a_garbled_version_falls_back_to_the_loaded_one(client_as, make_customer):
    make_customer()
    client = client_as("support")
    url = reverse("customers:edit", kwargs={"code": "KH1"})
    page = client.get(url)
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(name="Tên mới", version="1e99\x00", opened="x" * 50_000)

    response = client.post(url, data)

    assert response.status_code == 302
    assert last_entry("customer.update").request_body["customer_name"] == "Tên mới"
