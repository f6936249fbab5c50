"""The kinds of reference code, as data: one table drives services, forms, views and templates.

Statuses, types, groups and custom fields are the same shape (a code and a name, sometimes
a description or a field type). Everything that differs between them lives in ``KINDS``;
adding a sixth kind is one more entry here (plus its model and permissions).
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.http import Http404
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from crmadmin.codes.models import CodeRecord, Field, FieldType, Group, Status, Type

ACTIONS = ("create", "update", "rename", "delete")
# The Django permission verb for each action (``codes.<verb>_<model>``).
PERMISSION_VERBS = {
    "view": "view",
    "create": "add",
    "update": "change",
    "rename": "rename",
    "delete": "delete",
}


@dataclass(frozen=True)
class Detail:
    """An attribute a kind has beyond code and name (a group's description, a field's type)."""

    attr: str  # model attribute, form field and service keyword, e.g. "description"
    wire_key: str  # its key on the wire, e.g. "group_description"
    # Required details are always sent; optional ones only when there is something to say
    # (a value, or a value the register held and the user cleared: see ``CodeKind.upsert_body``).
    required: bool = False
    choices: tuple[tuple[str, Promise], ...] = ()  # a select of known values instead of free text


@dataclass(frozen=True)
class CodeKind:
    slug: str  # in URLs: /codes/<slug>/
    model: type[CodeRecord]
    wire_name: str  # operations "<wire_name>.create"..., wire keys "<wire_name>_no"...
    label: Promise  # one of them, in a sentence: "New %(kind)s"
    count_label: Promise  # "%(count)d statuses"
    # The reverse relation whose rows keep a code in use (and protect it from deletion).
    usage_relation: str
    usage_label: Promise  # "%(count)d customers use this status."
    in_use_advice: Promise  # what to do instead of deleting a code in use
    details: tuple[Detail, ...] = ()

    # --- Names -------------------------------------------------------------------
    @property
    def title(self) -> str:
        return capfirst(self.model._meta.verbose_name_plural)

    def operation(self, action: str) -> str:
        return f"{self.wire_name}.{action}"

    def permission(self, action: str) -> str:
        meta = self.model._meta
        return f"{meta.app_label}.{PERMISSION_VERBS[action]}_{meta.model_name}"

    def key(self, suffix: str) -> str:
        return f"{self.wire_name}_{suffix}"

    def detail_label(self, detail: Detail) -> str:
        return capfirst(self.model._meta.get_field(detail.attr).verbose_name)

    # --- Wire bodies (without the tenant pair, which the client adds) ---------------
    def upsert_body(
        self,
        *,
        code: str,
        name: str,
        details: Mapping[str, str],
        before: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """The body of create and update: code, name and the kind's details.

        An optional detail left blank is omitted, unless the register held a value for
        it (``before``): then "" is sent so the CRM clears it too.
        """
        body = {self.key("no"): code, self.key("name"): name}
        for detail in self.details:
            value = details.get(detail.attr, "")
            if detail.required or value or (before and before.get(detail.attr)):
                body[detail.wire_key] = value
        return body

    def rename_body(self, *, old_code: str, new_code: str) -> dict[str, str]:
        return {self.key("no_old"): old_code, self.key("no_new"): new_code}

    def delete_body(self, *, code: str) -> dict[str, str]:
        return {self.key("no"): code}

    # --- The register ---------------------------------------------------------------
    def snapshot(self, record: CodeRecord) -> dict[str, str]:
        """The record as the register holds it, for the audit entry's "before"."""
        snapshot = {"code": record.code, "name": record.name}
        for detail in self.details:
            snapshot[detail.attr] = getattr(record, detail.attr)
        return snapshot

    def display(self, record: CodeRecord, detail: Detail) -> str:
        """A detail as the list shows it: a known choice by its label, anything else as is."""
        value = getattr(record, detail.attr)
        return str(dict(detail.choices).get(value, value))


KINDS: dict[str, CodeKind] = {
    kind.slug: kind
    for kind in (
        CodeKind(
            slug="statuses",
            model=Status,
            wire_name="status",
            label=_("status"),
            count_label=ngettext_lazy("%(count)d status", "%(count)d statuses", "count"),
            usage_relation="customers",
            usage_label=ngettext_lazy(
                "%(count)d customer has this status.",
                "%(count)d customers have this status.",
                "count",
            ),
            in_use_advice=_(
                "Move those customers to another status first. To correct the wording, "
                "edit its name instead; to correct the code, change the code."
            ),
        ),
        CodeKind(
            slug="types",
            model=Type,
            wire_name="type",
            label=_("type"),
            count_label=ngettext_lazy("%(count)d type", "%(count)d types", "count"),
            usage_relation="customers",
            usage_label=ngettext_lazy(
                "%(count)d customer has this type.",
                "%(count)d customers have this type.",
                "count",
            ),
            in_use_advice=_(
                "Move those customers to another type first. To correct the wording, "
                "edit its name instead; to correct the code, change the code."
            ),
        ),
        CodeKind(
            slug="groups",
            model=Group,
            wire_name="group",
            label=_("group"),
            count_label=ngettext_lazy("%(count)d group", "%(count)d groups", "count"),
            usage_relation="customers",
            usage_label=ngettext_lazy(
                "%(count)d customer is in this group.",
                "%(count)d customers are in this group.",
                "count",
            ),
            in_use_advice=_(
                "Move those customers to another group first. To correct the wording, "
                "edit its name instead; to correct the code, change the code."
            ),
            details=(Detail("description", "group_description"),),
        ),
        CodeKind(
            slug="fields",
            model=Field,
            wire_name="field",
            label=_("custom field"),
            count_label=ngettext_lazy("%(count)d custom field", "%(count)d custom fields", "count"),
            usage_relation="values",
            usage_label=ngettext_lazy(
                "%(count)d customer has a value for this field.",
                "%(count)d customers have a value for this field.",
                "count",
            ),
            in_use_advice=_(
                "Clear this field on those customers first. To correct the wording, "
                "edit its name instead; to correct the code, change the code."
            ),
            details=(
                Detail("field_type", "field_type", required=True, choices=tuple(FieldType.choices)),
                Detail("description", "field_description"),
            ),
        ),
    )
}


def get_kind(slug: str) -> CodeKind:
    """The kind for a URL slug; 404 for anything the table does not know."""
    try:
        return KINDS[slug]
    except KeyError:
        raise Http404(f"No reference-code kind {slug!r}") from None
