"""The three staff roles as Django groups, and exactly which permissions each holds.

``ROLE_PERMISSIONS`` is the source of truth, derived from the registry of record kinds:
support staff write customers and read reference codes, administrators also write
reference codes, managers read every kind and the audit log. A data migration applies it
(``sync_roles``), and so does every later ``migrate``, so the groups exist in every
database, test databases included, and a new kind's permissions reach the roles.
"""

from collections.abc import Iterable

from crmadmin.kinds import ACTIONS, KINDS, RecordKind

SUPPORT = "Support"
ADMINISTRATOR = "Administrator"
MANAGER = "Manager"

AUDIT_PERMISSIONS = ["audit.view_auditentry", "audit.export_auditentry"]


def role_permissions(kinds: Iterable[RecordKind]) -> dict[str, list[str]]:
    """Each role's permissions over these kinds of record."""
    kinds = list(kinds)
    read = [kind.permission("view") for kind in kinds]
    write = {kind.name: [kind.permission(action) for action in ACTIONS] for kind in kinds}
    records_write = [p for kind in kinds if not kind.reference for p in write[kind.name]]
    codes_write = [p for kind in kinds if kind.reference for p in write[kind.name]]
    return {
        SUPPORT: [*read, *records_write],
        ADMINISTRATOR: [*read, *records_write, *codes_write],
        MANAGER: [*read, *AUDIT_PERMISSIONS],
    }


ROLE_PERMISSIONS: dict[str, list[str]] = role_permissions(KINDS.values())


def create_all_permissions(apps) -> None:
    """Permissions are normally created after all migrations ran; a data migration that
    grants them must create them first. ``apps`` is the migration's historical registry."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # Historical app configs have no models module, which create_permissions skips.
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        try:
            create_permissions(app_config, verbosity=0, apps=apps)
        finally:
            app_config.models_module = original


def sync_roles(apps) -> None:
    """Create the groups and set their permissions to exactly ``ROLE_PERMISSIONS``."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = group_model.objects.get_or_create(name=role)
        permissions = []
        for name in names:
            app_label, codename = name.split(".")
            permissions.append(
                permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(permissions)
