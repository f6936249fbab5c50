"""The three staff roles as Django groups, and exactly which permissions each holds.

This table is the source of truth; a data migration applies it (``sync_roles``) so
the groups exist in every database, test databases included.
"""

from django.utils.translation import gettext_lazy as _

SUPPORT = "Support"
ADMINISTRATOR = "Administrator"
MANAGER = "Manager"

ROLE_LABELS = {SUPPORT: _("Support"), ADMINISTRATOR: _("Administrator"), MANAGER: _("Manager")}

CODE_MODELS = ("status", "type", "group", "field")

_CUSTOMER_WRITE = [
    "customers.view_customer",
    "customers.add_customer",
    "customers.change_customer",
    "customers.rename_customer",
    "customers.delete_customer",
]
_CODES_READ = [f"codes.view_{model}" for model in CODE_MODELS]
_CODES_WRITE = [
    f"codes.{action}_{model}"
    for model in CODE_MODELS
    for action in ("add", "change", "rename", "delete")
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    SUPPORT: [*_CUSTOMER_WRITE, *_CODES_READ],
    ADMINISTRATOR: [*_CUSTOMER_WRITE, *_CODES_READ, *_CODES_WRITE],
    MANAGER: [
        "customers.view_customer",
        *_CODES_READ,
        "audit.view_auditentry",
        "audit.export_auditentry",
    ],
}


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
