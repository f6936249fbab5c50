"""Local events in /audit/: user and role changes in /admin/, audit exports, and the
list's filters that find them (the CRM calls' screens leave them out)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from crmadmin.accounts.roles import MANAGER, SUPPORT
from crmadmin.audit import events
from crmadmin.audit.models import AuditEntry

LIST = reverse("audit:list")


def local_events(operation):
    return list(AuditEntry.everything.filter(operation=operation).order_by("id"))


def listed(response) -> list[int]:
    return [row.pk for row in response.context["rows"]]


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.mark.django_db
def test_a_role_given_to_a_user_in_admin_is_recorded(admin_client, superuser, make_user):
    lan = make_user("support", username="lan")
    support, manager = Group.objects.get(name=SUPPORT), Group.objects.get(name=MANAGER)
    response = admin_client.post(
        reverse("admin:auth_user_change", args=[lan.pk]),
        {
            "username": "lan",
            "is_active": "on",
            "groups": [support.pk, manager.pk],
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "08:00:00",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    (changed,) = local_events(events.USER_CHANGED)
    assert (changed.actor, changed.code, changed.record_kind) == (superuser, "lan", "local")
    assert changed.request_body["action"] == "change"
    assert "Groups" in changed.request_body["change"][0]["changed"]["fields"]


@pytest.mark.django_db
def test_users_and_roles_added_and_deleted_in_admin_are_recorded(admin_client, superuser):
    admin_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "minh",
            "password1": "a long Passphrase 2026",
            "password2": "a long Passphrase 2026",
            "usable_password": "true",
        },
    )
    minh = get_user_model().objects.get(username="minh")
    admin_client.post(reverse("admin:auth_group_add"), {"name": "Auditors"})
    auditors = Group.objects.get(name="Auditors")
    admin_client.post(reverse("admin:auth_group_delete", args=[auditors.pk]), {"post": "yes"})
    admin_client.post(reverse("admin:auth_user_delete", args=[minh.pk]), {"post": "yes"})

    users = [(e.request_body["action"], e.code) for e in local_events(events.USER_CHANGED)]
    roles = [(e.request_body["action"], e.code) for e in local_events(events.ROLE_CHANGED)]
    assert users == [("add", "minh"), ("delete", "minh")]
    assert roles == [("add", "Auditors"), ("delete", "Auditors")]
    assert all(e.actor == superuser for e in local_events(events.ROLE_CHANGED))


@pytest.mark.django_db
def test_every_audit_export_is_recorded_with_its_filter(client, manager_user):
    client.force_login(manager_user)
    response = client.get(reverse("audit:export"), {"outcome": "failed", "code": "VIP"})
    b"".join(response.streaming_content)
    (exported,) = local_events(events.AUDIT_EXPORTED)
    assert exported.actor == manager_user
    assert exported.request_body == {"filters": {"code": "VIP", "outcome": "failed"}}
    # A refused export (invalid filter) exports nothing and records nothing.
    assert client.get(reverse("audit:export"), {"date_from": "nope"}).status_code == 400
    assert len(local_events(events.AUDIT_EXPORTED)) == 1


@pytest.mark.django_db
def test_local_events_are_listed_under_their_kind_and_operation(client, manager_user, make_entry):
    call = make_entry()
    client.force_login(manager_user)  # a sign-in event
    exported = events.record(events.AUDIT_EXPORTED, actor=manager_user, details={"filters": {}})

    assert listed(client.get(LIST)) == [call.pk]  # the list of CRM calls, as always
    signed_in = local_events(events.SIGN_IN)[0]
    by_kind = client.get(LIST, {"record_kind": "local"})
    assert listed(by_kind) == [exported.pk, signed_in.pk]
    assert "audit log export" in by_kind.text and "sign-in" in by_kind.text
    assert listed(client.get(LIST, {"operation": events.AUDIT_EXPORTED})) == [exported.pk]
    # The actor filter offers the people with local events when those are asked for.
    mine = client.get(LIST, {"record_kind": "local", "actor": manager_user.pk})
    assert listed(mine) == [exported.pk, signed_in.pk]
    detail = client.get(reverse("audit:detail", args=[exported.pk]))
    assert detail.status_code == 200
    assert "audit log export" in detail.text


@pytest.mark.django_db
def test_local_events_stay_out_of_the_dashboard_and_the_customer_history(
    client, manager_user, make_entry
):
    make_entry(outcome="failed")
    client.force_login(manager_user)
    events.record(events.SIGN_IN_FAILED, code="someone")
    dashboard = client.get(reverse("audit:dashboard"))
    assert dashboard.context["activity"].total == 1
    assert [e.operation for e in dashboard.context["activity"].latest_problems] == ["status.create"]
