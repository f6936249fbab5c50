"""Django's admin shows the audit log to a superuser, read-only: no add, no change, no delete."""

import pytest
from django.urls import reverse

from crmadmin.audit import recorder
from crmadmin.audit.models import AuditEntry, Outcome


@pytest.fixture
def entry(superuser):
    pending = recorder.begin(
        operation="customer.rename",
        record_kind="customer",
        code="KH001",
        new_code="KH002",
        request_body={"customer_no_old": "KH001", "customer_no_new": "KH002"},
        actor=superuser,
    )
    return recorder.complete(
        pending, outcome=Outcome.SUCCEEDED, http_status=200, upstream_message="success"
    )


@pytest.fixture
def admin_client_as_superuser(client, superuser):
    client.force_login(superuser)
    return client


@pytest.mark.django_db
def test_the_list_shows_entries_without_add_or_delete(admin_client_as_superuser, entry):
    response = admin_client_as_superuser.get(reverse("admin:audit_auditentry_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert entry.request_id in page
    assert "KH002" in page
    assert reverse("admin:audit_auditentry_add") not in page
    assert "delete_selected" not in page


@pytest.mark.django_db
def test_the_list_finds_an_entry_by_request_id_and_filters_by_outcome(
    admin_client_as_superuser, entry
):
    url = reverse("admin:audit_auditentry_changelist")
    found = admin_client_as_superuser.get(url, {"q": entry.request_id})
    assert entry.request_id in found.content.decode()
    other = admin_client_as_superuser.get(url, {"outcome__exact": "failed"})
    assert entry.request_id not in other.content.decode()


@pytest.mark.django_db
def test_an_entry_opens_read_only_and_a_post_changes_nothing(admin_client_as_superuser, entry):
    url = reverse("admin:audit_auditentry_change", args=[entry.pk])
    response = admin_client_as_superuser.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "KH001" in page and "success" in page
    assert 'name="upstream_message"' not in page  # shown as text, not as an input
    assert 'name="_save"' not in page

    posted = admin_client_as_superuser.post(url, {"upstream_message": "rewritten"})
    assert posted.status_code == 403
    entry.refresh_from_db()
    assert entry.upstream_message == "success"


@pytest.mark.django_db
def test_add_and_delete_pages_are_refused(admin_client_as_superuser, entry):
    add = admin_client_as_superuser.get(reverse("admin:audit_auditentry_add"))
    delete = admin_client_as_superuser.post(
        reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert add.status_code == 403
    assert delete.status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
