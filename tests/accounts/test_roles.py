"""The roles exist in every database, with exactly the permissions DESIGN.md gives them."""

import pytest
from django.contrib.auth.models import Group

CODE_MODELS = ["status", "type", "group", "field"]
CUSTOMER_ALL = {
    f"customers.{action}_customer" for action in ("view", "add", "change", "rename", "delete")
}
CODES_READ = {f"codes.view_{model}" for model in CODE_MODELS}
CODES_ALL = {
    f"codes.{action}_{model}"
    for model in CODE_MODELS
    for action in ("view", "add", "change", "rename", "delete")
}


def permissions_of(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


@pytest.mark.django_db
def test_support_manages_customers_and_reads_reference_codes():
    assert permissions_of("Support") == CUSTOMER_ALL | CODES_READ


@pytest.mark.django_db
def test_administrator_also_manages_reference_codes():
    assert permissions_of("Administrator") == CUSTOMER_ALL | CODES_ALL


@pytest.mark.django_db
def test_manager_reads_everything_and_the_audit_log_and_writes_nothing():
    assert permissions_of("Manager") == {
        "customers.view_customer",
        *CODES_READ,
        "audit.view_auditentry",
        "audit.export_auditentry",
    }


@pytest.mark.django_db
def test_only_the_three_roles_exist():
    assert set(Group.objects.values_list("name", flat=True)) == {
        "Support",
        "Administrator",
        "Manager",
    }


@pytest.mark.django_db
def test_nobody_can_write_audit_entries_through_permissions():
    from django.contrib.auth.models import Permission

    codenames = set(
        Permission.objects.filter(content_type__app_label="audit").values_list(
            "codename", flat=True
        )
    )
    assert codenames == {"view_auditentry", "export_auditentry"}
