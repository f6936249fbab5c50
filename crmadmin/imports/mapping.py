"""Which column of a file holds what: the targets an import fills, and the guess.

A *mapping* is one role per column of the file, in order (``""`` for a column to
ignore). Roles of a customer import are the customer's attributes (``code``, ``name``,
``phones``... as ``customers.exports`` names them), ``status``/``type``/``group`` for a
column that holds either the code or the name, and ``field:<code>`` for a custom field.
A reference-code import has ``code``, ``name`` and the kind's details.

The guess compares folded headers (lower case, no accents: ``fold``) with the export's
own headers and the usual English and Vietnamese ones. A mapping the user confirmed is
remembered (``imports.models.RememberedMapping``) for the next file with the same headers.
"""

import hashlib
import json
import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crmadmin.codes.models import Field
from crmadmin.core.text import fold
from crmadmin.customers import exports as customer_exports
from crmadmin.kinds import REFERENCE_KINDS as KINDS
from crmadmin.kinds import RecordKind as CodeKind

CUSTOMERS = "customers"
FIELD_ROLE_PREFIX = "field:"
PHONES = customer_exports.PHONES


@dataclass(frozen=True)
class Role:
    key: str
    label: str | Promise
    aliases: tuple[str, ...] = ()
    repeatable: bool = False  # several columns may hold it (phones)


# Customer roles: the export's header first among the aliases; each alias is folded.
_CUSTOMER_ROLES = (
    Role(
        "code",
        gettext_lazy("Code"),
        ("code", "customer_no", "customer_code", "ma khach hang", "ma kh", "ma"),
    ),
    Role(
        "name",
        gettext_lazy("Name"),
        ("name", "customer_name", "ten khach hang", "ten kh", "ho ten", "ho va ten", "ten"),
    ),
    Role(
        PHONES,
        gettext_lazy("Phones"),
        (
            "phones",
            "phone",
            "customer_phones",
            "phone number",
            "phone numbers",
            "telephone",
            "mobile",
            "so dien thoai",
            "dien thoai",
            "sdt",
            "so dt",
            "di dong",
        ),
        repeatable=True,
    ),
    Role(
        "email",
        gettext_lazy("E-mail"),
        ("email", "e-mail", "customer_email", "mail", "thu dien tu"),
    ),
    Role("address", gettext_lazy("Address"), ("address", "customer_address", "dia chi")),
    Role(
        "status_code",
        gettext_lazy("Status (code)"),
        ("status_code", "customer_status_code", "ma trang thai"),
    ),
    Role("status_name", gettext_lazy("Status (name)"), ("status_name", "ten trang thai")),
    Role("status", gettext_lazy("Status (code or name)"), ("status", "trang thai")),
    Role(
        "type_code",
        gettext_lazy("Type (code)"),
        ("type_code", "customer_type_code", "ma loai khach hang", "ma loai"),
    ),
    Role("type_name", gettext_lazy("Type (name)"), ("type_name", "ten loai khach hang")),
    Role(
        "type",
        gettext_lazy("Type (code or name)"),
        ("type", "customer_type", "loai khach hang", "loai kh", "loai"),
    ),
    Role(
        "group_code", gettext_lazy("Group (code)"), ("group_code", "ma nhom khach hang", "ma nhom")
    ),
    Role(
        "group_name",
        gettext_lazy("Group (name)"),
        ("group_name", "customer_group_name", "ten nhom khach hang", "ten nhom"),
    ),
    Role(
        "group",
        gettext_lazy("Group (code or name)"),
        ("group", "customer_group", "nhom khach hang", "nhom kh", "nhom"),
    ),
)
# Several phone columns: "Phone 2", "Số điện thoại 2", "SĐT 3"...
_NUMBERED_PHONE = re.compile(r"^(phone|so dien thoai|dien thoai|sdt|mobile)\s*\d+$")
# Columns the export writes that no import changes.
_IGNORED = {fold(customer_exports.LAST_CHANGE), "updated_at", "lan thay doi cuoi"}
# Customers need all of these; (status, type, group) each by one of its three roles.
REQUIRED_CUSTOMER_ROLES = ("code", "name", PHONES)
REFERENCE_ROLES = {
    "status": ("status_code", "status_name", "status"),
    "type": ("type_code", "type_name", "type"),
    "group": ("group_code", "group_name", "group"),
}

_DETAIL_ALIASES = {
    "description": ("description", "mo ta", "group_description", "field_description"),
    "field_type": ("field_type", "kieu", "kieu truong", "loai truong", "field type"),
}


def code_roles(kind: CodeKind) -> tuple[Role, ...]:
    wire = kind.name
    return (
        Role("code", gettext_lazy("Code"), ("code", f"{wire}_no", f"{wire}_code", "ma")),
        Role("name", gettext_lazy("Name"), ("name", f"{wire}_name", "ten")),
        *(
            Role(detail.attr, kind.detail_label(detail), _DETAIL_ALIASES.get(detail.attr, ()))
            for detail in kind.details
        ),
    )


def customer_roles(fields: list[Field]) -> tuple[Role, ...]:
    return (
        *_CUSTOMER_ROLES,
        *(
            Role(FIELD_ROLE_PREFIX + field.code, _("Custom field: %(name)s") % {"name": field.name})
            for field in fields
        ),
    )


def targets_for(user) -> list[tuple[str, str]]:
    """(target, label) of what ``user`` may import: customers, and each code kind."""
    choices = []
    if user.has_perm("customers.add_customer") and user.has_perm("customers.change_customer"):
        choices.append((CUSTOMERS, _("Customers")))
    for kind in KINDS.values():
        if user.has_perm(kind.permission("create")) and user.has_perm(kind.permission("update")):
            choices.append((kind.slug, str(kind.title)))
    return choices


def may_import(user, target: str) -> bool:
    return any(choice == target for choice, _label in targets_for(user))


def roles_for(target: str) -> tuple[Role, ...]:
    if target == CUSTOMERS:
        return customer_roles(list(Field.objects.order_by("name", "code")))
    return code_roles(KINDS[target])


def signature(target: str, headers: list[str]) -> str:
    """What makes two files "the same headers": the target and the folded header row."""
    folded = json.dumps([target, [fold(header) for header in headers]], ensure_ascii=False)
    return hashlib.sha256(folded.encode()).hexdigest()


def guess(target: str, headers: list[str]) -> list[str]:
    """One role per header: the first role whose alias (or custom field's code or name)
    the folded header equals; ``""`` when none does or the role is already taken."""
    roles = roles_for(target)
    by_alias: dict[str, str] = {}
    for role in roles:
        for alias in role.aliases:
            by_alias.setdefault(fold(alias), role.key)
    fields_by_name: dict[str, str] = {}
    field_codes: set[str] = set()
    if target == CUSTOMERS:
        for role in roles:
            if role.key.startswith(FIELD_ROLE_PREFIX):
                field_codes.add(role.key.removeprefix(FIELD_ROLE_PREFIX))
        for field in Field.objects.only("code", "name"):
            fields_by_name.setdefault(fold(field.name), field.code)
    repeatable = {role.key for role in roles if role.repeatable}
    taken: set[str] = set()
    mapping = []
    for header in headers:
        key = fold(header)
        role = ""
        if target == CUSTOMERS:
            bare = header.removeprefix(FIELD_ROLE_PREFIX)
            if header.startswith(FIELD_ROLE_PREFIX) and bare in field_codes:
                role = FIELD_ROLE_PREFIX + bare
            elif key in _IGNORED:
                role = ""
            elif key in by_alias:
                role = by_alias[key]
            elif _NUMBERED_PHONE.match(key):
                role = PHONES
            elif header in field_codes:
                role = FIELD_ROLE_PREFIX + header
            elif key in fields_by_name:
                role = FIELD_ROLE_PREFIX + fields_by_name[key]
        else:
            role = by_alias.get(key, "")
        if role and role in taken and role not in repeatable:
            role = ""
        if role:
            taken.add(role)
        mapping.append(role)
    return mapping


def problems(target: str, mapping: list[str]) -> list[str]:
    """What keeps ``mapping`` from being used: missing required roles, a role twice."""
    roles = {role.key: role for role in roles_for(target)}
    messages = []
    chosen = [role for role in mapping if role]
    for role in chosen:
        if role not in roles:
            messages.append(_("“%(role)s” is not a column this import knows.") % {"role": role})
    for key in dict.fromkeys(chosen):
        if chosen.count(key) > 1 and key in roles and not roles[key].repeatable:
            messages.append(_("Only one column can be “%(label)s”.") % {"label": roles[key].label})
    if target == CUSTOMERS:
        required = [roles[key] for key in REQUIRED_CUSTOMER_ROLES]
        for role in required:
            if role.key not in chosen:
                messages.append(_("No column is “%(label)s”.") % {"label": role.label})
        for name, keys in REFERENCE_ROLES.items():
            present = [key for key in keys if key in chosen]
            if not present:
                messages.append(
                    _("No column gives the %(what)s (by code or by name).")
                    % {"what": _reference_label(name)}
                )
    else:
        kind = KINDS[target]
        needed = ["code", "name", *(d.attr for d in kind.details if d.required)]
        for key in needed:
            if key not in chosen:
                messages.append(_("No column is “%(label)s”.") % {"label": roles[key].label})
    return messages


def _reference_label(name: str) -> str:
    return {"status": _("status"), "type": _("type"), "group": _("group")}[name]


def recognised(target: str, headers: list[str]) -> bool:
    return any(guess(target, headers))
