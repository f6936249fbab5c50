"""The navigation bar: what each entry needs, so a user sees only what they may open."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str | Promise
    url_name: str
    permission: str
    url_kwargs: tuple[tuple[str, str], ...] = ()
    section: str | Promise = ""

    @property
    def url(self) -> str:
        return reverse(self.url_name, kwargs=dict(self.url_kwargs))


REFERENCE_CODES = _("Reference codes")

NAV_ENTRIES = (
    NavEntry("customers", _("Customers"), "customers:list", "customers.view_customer"),
    NavEntry(
        "statuses",
        _("Statuses"),
        "codes:list",
        "codes.view_status",
        (("kind", "statuses"),),
        REFERENCE_CODES,
    ),
    NavEntry(
        "types",
        _("Types"),
        "codes:list",
        "codes.view_type",
        (("kind", "types"),),
        REFERENCE_CODES,
    ),
    NavEntry(
        "groups",
        _("Groups"),
        "codes:list",
        "codes.view_group",
        (("kind", "groups"),),
        REFERENCE_CODES,
    ),
    NavEntry(
        "fields",
        _("Fields"),
        "codes:list",
        "codes.view_field",
        (("kind", "fields"),),
        REFERENCE_CODES,
    ),
    NavEntry("audit", _("Audit log"), "audit:list", "audit.view_auditentry"),
    NavEntry("activity", _("Activity"), "audit:dashboard", "audit.view_auditentry"),
)


def entries_for(user) -> list[NavEntry]:
    if not user.is_authenticated:
        return []
    return [entry for entry in NAV_ENTRIES if user.has_perm(entry.permission)]
