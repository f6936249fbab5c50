"""The 20 calls of the CRM API as data (shared/spec/crm-api.md, "The 20 calls").

An operation is named ``"<kind>.<action>"`` (``"customer.create"``, ``"status.rename"``).
Its wire keys are exactly the contract's, without the tenant pair, which the client adds
to every body from settings.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CREATE = "create"
UPDATE = "update"
RENAME = "rename"
DELETE = "delete"
ACTIONS = (CREATE, UPDATE, RENAME, DELETE)

TENANT_KEYS = ("vbot_id", "project_code")
# A customer's custom-field values: [{"field_key": <field code>, "field_value": ...}].
# "fileds" is the vendor's own spelling (see the contract's errata).
CUSTOM_FIELDS_KEY = "fileds"


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    kind: str
    action: str
    path: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    code_key: str  # the key naming the record (the old code of a rename)
    new_code_key: str = ""  # renames only
    code_refs: tuple[str, ...] = ()  # codes of other records (a customer's status and type)

    @property
    def code_keys(self) -> tuple[str, ...]:
        return (self.code_key, self.new_code_key) if self.new_code_key else (self.code_key,)

    def build_body(self, payload: Mapping[str, Any], tenant: Mapping[str, str]) -> dict:
        """The exact JSON body to send: tenant pair first, codes trimmed, unset optionals left out.

        A missing required key or an unknown key is a programming error (the forms and
        services decide what is sent), so it raises ``ValueError`` before anything is
        recorded or sent.
        """
        unknown = sorted(set(payload) - set(self.required) - set(self.optional))
        if unknown:
            raise ValueError(f"{self.name}: unknown wire key(s) {', '.join(unknown)}")
        missing = [key for key in self.required if payload.get(key) is None]
        if missing:
            raise ValueError(f"{self.name}: missing required wire key(s) {', '.join(missing)}")
        body: dict[str, Any] = dict(tenant)
        for key in (*self.required, *self.optional):
            value = payload.get(key)
            if value is None:
                continue
            if key in self.code_keys:
                value = str(value).strip()
                if not value:
                    raise ValueError(f"{self.name}: {key} is empty")
            elif key in self.code_refs:
                value = str(value).strip()
            elif key == CUSTOM_FIELDS_KEY:
                value = [{**item, "field_key": str(item["field_key"]).strip()} for item in value]
            body[key] = value
        return body


@dataclass(frozen=True, slots=True)
class _Kind:
    """One record kind of the contract: its path segment, its code key and its other keys."""

    kind: str
    code_key: str
    create_required: tuple[str, ...]
    create_optional: tuple[str, ...] = ()
    code_refs: tuple[str, ...] = ()
    rename_path: str = "updateNo"


_KINDS = (
    _Kind(
        kind="customer",
        code_key="customer_no",
        create_required=(
            "customer_name",
            "customer_phones",
            "customer_status_code",
            "customer_type_code",
            "customer_group_name",
        ),
        create_optional=("customer_address", "customer_email", CUSTOM_FIELDS_KEY),
        code_refs=("customer_status_code", "customer_type_code"),
        # The contract writes the customer's path in upper case; ASP.NET routes ignore case
        # but the contract is what we send.
        rename_path="updateNO",
    ),
    _Kind(kind="status", code_key="status_no", create_required=("status_name",)),
    _Kind(kind="type", code_key="type_no", create_required=("type_name",)),
    _Kind(
        kind="group",
        code_key="group_no",
        create_required=("group_name",),
        create_optional=("group_description",),
    ),
    _Kind(
        kind="field",
        code_key="field_no",
        create_required=("field_name", "field_type"),
        create_optional=("field_description",),
    ),
)


def _operations_of(k: _Kind) -> list[Operation]:
    base = f"/api/crm/{k.kind}"
    return [
        Operation(
            name=f"{k.kind}.{CREATE}",
            kind=k.kind,
            action=CREATE,
            path=f"{base}/create",
            required=(k.code_key, *k.create_required),
            optional=k.create_optional,
            code_key=k.code_key,
            code_refs=k.code_refs,
        ),
        Operation(
            name=f"{k.kind}.{UPDATE}",
            kind=k.kind,
            action=UPDATE,
            path=f"{base}/update",
            required=(k.code_key, *k.create_required),
            optional=k.create_optional,
            code_key=k.code_key,
            code_refs=k.code_refs,
        ),
        Operation(
            name=f"{k.kind}.{RENAME}",
            kind=k.kind,
            action=RENAME,
            path=f"{base}/{k.rename_path}",
            required=(f"{k.code_key}_old", f"{k.code_key}_new"),
            optional=(),
            code_key=f"{k.code_key}_old",
            new_code_key=f"{k.code_key}_new",
        ),
        Operation(
            name=f"{k.kind}.{DELETE}",
            kind=k.kind,
            action=DELETE,
            path=f"{base}/delete",
            required=(k.code_key,),
            optional=(),
            code_key=k.code_key,
        ),
    ]


OPERATIONS: dict[str, Operation] = {op.name: op for k in _KINDS for op in _operations_of(k)}
KINDS: tuple[str, ...] = tuple(k.kind for k in _KINDS)

# The token grant is recorded in the audit log under this operation name.
TOKEN_OPERATION = "auth.token"  # noqa: S105 (an operation name)


def get_operation(name: str) -> Operation:
    try:
        return OPERATIONS[name]
    except KeyError:
        raise ValueError(f"unknown CRM operation {name!r}") from None
