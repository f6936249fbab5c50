"""The navigation bar: what each entry needs, so a user sees only what they may open.

One entry per kind of record, from the registry (``crmadmin.kinds``), then the audit log.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crmadmin.kinds import KINDS, RecordKind


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


def kind_entry(kind: RecordKind) -> NavEntry:
    """A kind's list: the reference-code screens by slug, or the kind's own screens."""
    if kind.reference:
        return NavEntry(
            kind.slug,
            kind.nav_label,
            "codes:list",
            kind.permission("view"),
            (("kind", kind.slug),),
            REFERENCE_CODES,
        )
    return NavEntry(kind.slug, kind.nav_label, f"{kind.slug}:list", kind.permission("view"))


def nav_entries(kinds: Iterable[RecordKind]) -> tuple[NavEntry, ...]:
    """Records first, then reference codes, then the audit log's two pages."""
    ordered = sorted(kinds, key=lambda kind: kind.reference)
    return (
        *(kind_entry(kind) for kind in ordered),
        NavEntry("audit", _("Audit log"), "audit:list", "audit.view_auditentry"),
        NavEntry("activity", _("Activity"), "audit:dashboard", "audit.view_auditentry"),
    )


NAV_ENTRIES = nav_entries(KINDS.values())


def entries_for(user) -> list[NavEntry]:
    if not user.is_authenticated:
        return []
    return [entry for entry in NAV_ENTRIES if user.has_perm(entry.permission)]
