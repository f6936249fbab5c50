"""The five kinds of record the CRM holds, declared once.

Customer, status, type, group and custom field: each entry says how the kind is named
(on the wire, in URLs, to people, in the CRM's own messages), which register model holds
it and what its wire body carries. Everything else is derived from ``KINDS``: the upstream
client's operation table (``crmadmin.upstream.operations``), the sandbox's handlers, the
audit log's labels and filter choices, the roles' permissions, the navigation and the
reference-code screens. Adding a sixth kind is one more entry here, plus its model (and
its migration); ``tests/test_kinds.py`` shows it with a throw-away kind.

This module imports no model: the lowest layer, readable before Django's app registry is
ready (the sandbox's models and the operation table read it at import time).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

# The four calls every kind has; "rename" is the contract's "change code".
CREATE = "create"
UPDATE = "update"
RENAME = "rename"
DELETE = "delete"
ACTIONS = (CREATE, UPDATE, RENAME, DELETE)
# The Django permission verb of each action (``<app>.<verb>_<model>``).
PERMISSION_VERBS = {
    "view": "view",
    CREATE: "add",
    UPDATE: "change",
    RENAME: "rename",
    DELETE: "delete",
}

# The CRM's limits (its error 1005, shared/spec/crm-api.md): the sandbox enforces them.
CODE_MAX_LENGTH = 64
NAME_MAX_LENGTH = 255
FIELD_TYPE_MAX_LENGTH = 64
EMAIL_MAX_LENGTH = 254
PHONE_MAX_LENGTH = 32

# A customer's custom-field values: [{"field_key": <field code>, "field_value": ...}].
# "fileds" is the vendor's own spelling (the contract's errata); it appears only as this
# wire key, never as a Python name.
CUSTOM_FIELDS_KEY = "fileds"


@dataclass(frozen=True)
class Detail:
    """A key of a kind's create/update body beyond its code and its name."""

    attr: str  # register attribute, form field and service keyword, e.g. "description"
    wire_key: str  # its key on the wire, e.g. "group_description"
    # Required details are always sent; optional ones only when there is something to say
    # (a value, or a value the register held and the user cleared: see ``upsert_body``).
    required: bool = False
    choices: tuple[tuple[str, Promise], ...] = ()  # a select of known values instead of text
    max_length: int | None = None  # the CRM's limit, if it has one
    code_ref: bool = False  # names another record by code: trimmed like a code


class FieldType(models.TextChoices):
    """The custom-field types the customer form knows how to render (``Field.field_type``).

    The wire carries ``field_type`` as a free string; a value the register holds but
    this list does not know is shown as it is and rendered as plain text.
    """

    TEXT = "text", _("Text")
    LONG_TEXT = "textarea", _("Long text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    URL = "url", _("URL")


@dataclass(frozen=True)
class RecordKind:
    name: str  # on the wire and in the audit log: operations "<name>.create", keys "<name>_no"
    slug: str  # in URLs and the navigation: /codes/<slug>/
    model_label: str  # the register's model, "<app_label>.<Model>"
    label: Promise  # one of them, in a sentence: "New %(kind)s"
    nav_label: Promise  # the navigation's entry
    crm_label: str  # how the CRM's own (Vietnamese) messages name it: the sandbox's wording
    # A reference code (status, type, group, field): maintained by administrators on the
    # one set of reference-code screens. Other kinds (customers) have screens of their own,
    # in the URL namespace ``<slug>`` with a ``list`` and a ``detail`` page.
    reference: bool = True
    short_label: Promise | None = None  # in the audit log's labels, when shorter than label
    details: tuple[Detail, ...] = ()
    rename_path: str = "updateNo"  # the change-code call's last path segment
    # Reference codes only: how the list counts them, and what keeps one in use.
    count_label: Promise | None = None  # "%(count)d statuses"
    usage_relation: str = ""  # the register's reverse relation whose rows use a code
    usage_label: Promise | None = None  # "%(count)d customers use this status."
    in_use_advice: Promise | None = None  # what to do instead of deleting a code in use

    # --- Names -------------------------------------------------------------------
    @property
    def model(self):
        """The register's model (looked up, so this module stays below the models)."""
        return apps.get_model(self.model_label)

    @property
    def title(self) -> str:
        return capfirst(self.model._meta.verbose_name_plural)

    @property
    def audit_label(self) -> Promise:
        return self.short_label or self.label

    def operation(self, action: str) -> str:
        return f"{self.name}.{action}"

    def permission(self, action: str) -> str:
        app_label, model_name = self.model_label.split(".")
        return f"{app_label}.{PERMISSION_VERBS[action]}_{model_name.lower()}"

    def key(self, suffix: str) -> str:
        return f"{self.name}_{suffix}"

    @property
    def code_key(self) -> str:
        return self.key("no")

    def detail_label(self, detail: Detail) -> str:
        return capfirst(self.model._meta.get_field(detail.attr).verbose_name)

    # --- The wire ---------------------------------------------------------------
    @property
    def required_keys(self) -> tuple[str, ...]:
        """Create and update: the keys always sent besides the code."""
        return (self.key("name"), *(d.wire_key for d in self.details if d.required))

    @property
    def optional_keys(self) -> tuple[str, ...]:
        return tuple(d.wire_key for d in self.details if not d.required)

    @property
    def code_refs(self) -> tuple[str, ...]:
        return tuple(d.wire_key for d in self.details if d.code_ref)

    def upsert_body(
        self,
        *,
        code: str,
        name: str,
        details: Mapping[str, str],
        before: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """A reference code's create and update body: code, name and the kind's details.

        An optional detail left blank is omitted, unless the register held a value for
        it (``before``): then "" is sent so the CRM clears it too.
        """
        body = {self.code_key: code, self.key("name"): name}
        for detail in self.details:
            value = details.get(detail.attr, "")
            if detail.required or value or (before and before.get(detail.attr)):
                body[detail.wire_key] = value
        return body

    def rename_body(self, *, old_code: str, new_code: str) -> dict[str, str]:
        return {self.key("no_old"): old_code, self.key("no_new"): new_code}

    def delete_body(self, *, code: str) -> dict[str, str]:
        return {self.code_key: code}

    # --- The register -------------------------------------------------------------
    def snapshot(self, record: Any) -> dict[str, str]:
        """A reference code as the register holds it, for the audit entry's "before"."""
        snapshot = {"code": record.code, "name": record.name}
        for detail in self.details:
            snapshot[detail.attr] = getattr(record, detail.attr)
        return snapshot

    def snapshot_key(self, wire_key: str) -> str:
        """Where ``snapshot`` keeps the value sent as ``wire_key`` ("status_no" → "code");
        the wire key itself for kinds whose snapshot speaks the wire's keys (customers)."""
        if wire_key == self.code_key:
            return "code"
        if wire_key == self.key("name"):
            return "name"
        for detail in self.details:
            if detail.wire_key == wire_key:
                return detail.attr
        return wire_key

    def display(self, record: Any, detail: Detail) -> str:
        """A detail as the list shows it: a known choice by its label, anything else as is."""
        value = getattr(record, detail.attr)
        return str(dict(detail.choices).get(value, value))


KINDS: dict[str, RecordKind] = {
    kind.name: kind
    for kind in (
        RecordKind(
            name="customer",
            slug="customers",
            model_label="customers.Customer",
            label=_("customer"),
            nav_label=_("Customers"),
            crm_label="khách hàng",
            reference=False,
            details=(
                Detail("phones", "customer_phones", required=True),
                Detail("status", "customer_status_code", required=True, code_ref=True),
                Detail("type", "customer_type_code", required=True, code_ref=True),
                # The contract names the group by its name, not its code.
                Detail("group", "customer_group_name", required=True),
                Detail("address", "customer_address"),
                Detail("email", "customer_email", max_length=EMAIL_MAX_LENGTH),
                Detail("custom_fields", CUSTOM_FIELDS_KEY),
            ),
            # The contract writes the customer's path in upper case; ASP.NET routes ignore
            # case but the contract is what we send.
            rename_path="updateNO",
        ),
        RecordKind(
            name="status",
            slug="statuses",
            model_label="codes.Status",
            label=_("status"),
            nav_label=_("Statuses"),
            crm_label="trạng thái khách hàng",
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
        RecordKind(
            name="type",
            slug="types",
            model_label="codes.Type",
            label=_("type"),
            nav_label=_("Types"),
            crm_label="loại khách hàng",
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
        RecordKind(
            name="group",
            slug="groups",
            model_label="codes.Group",
            label=_("group"),
            nav_label=_("Groups"),
            crm_label="nhóm khách hàng",
            details=(Detail("description", "group_description"),),
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
        ),
        RecordKind(
            name="field",
            slug="fields",
            model_label="codes.Field",
            label=_("custom field"),
            short_label=_("field"),
            nav_label=_("Fields"),
            crm_label="trường thông tin khách hàng",
            details=(
                Detail(
                    "field_type",
                    "field_type",
                    required=True,
                    choices=tuple(FieldType.choices),
                    max_length=FIELD_TYPE_MAX_LENGTH,
                ),
                Detail("description", "field_description"),
            ),
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
        ),
    )
}


def reference_kinds(kinds: Mapping[str, RecordKind] = KINDS) -> dict[str, RecordKind]:
    """The reference-code kinds by URL slug: what the reference-code screens serve."""
    return {kind.slug: kind for kind in kinds.values() if kind.reference}


REFERENCE_KINDS = reference_kinds()
