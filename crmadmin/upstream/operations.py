"""The 20 calls of the CRM API as data (shared/spec/crm-api.md, "The 20 calls"), derived
from the registry of record kinds (``crmadmin.kinds``): four calls per kind.

An operation is named ``"<kind>.<action>"`` (``"customer.create"``, ``"status.rename"``).
Its wire keys are exactly the contract's, without the tenant pair, which the client adds
to every body from settings.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crmadmin.kinds import (
    CREATE,
    CUSTOM_FIELDS_KEY,
    DELETE,
    KINDS,
    RENAME,
    UPDATE,
    RecordKind,
)

TENANT_KEYS = ("vbot_id", "project_code")


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


def operations_of(k: RecordKind) -> list[Operation]:
    """A kind's four calls, from its declaration in the registry."""
    base = f"/api/crm/{k.name}"
    return [
        Operation(
            name=f"{k.name}.{CREATE}",
            kind=k.name,
            action=CREATE,
            path=f"{base}/create",
            required=(k.code_key, *k.required_keys),
            optional=k.optional_keys,
            code_key=k.code_key,
            code_refs=k.code_refs,
        ),
        Operation(
            name=f"{k.name}.{UPDATE}",
            kind=k.name,
            action=UPDATE,
            path=f"{base}/update",
            required=(k.code_key, *k.required_keys),
            optional=k.optional_keys,
            code_key=k.code_key,
            code_refs=k.code_refs,
        ),
        Operation(
            name=f"{k.name}.{RENAME}",
            kind=k.name,
            action=RENAME,
            path=f"{base}/{k.rename_path}",
            required=(f"{k.code_key}_old", f"{k.code_key}_new"),
            optional=(),
            code_key=f"{k.code_key}_old",
            new_code_key=f"{k.code_key}_new",
        ),
        Operation(
            name=f"{k.name}.{DELETE}",
            kind=k.name,
            action=DELETE,
            path=f"{base}/delete",
            required=(k.code_key,),
            optional=(),
            code_key=k.code_key,
        ),
    ]


OPERATIONS: dict[str, Operation] = {
    op.name: op for kind in KINDS.values() for op in operations_of(kind)
}

# The token grant is recorded in the audit log under this operation name.
TOKEN_OPERATION = "auth.token"  # noqa: S105 (an operation name)


def get_operation(name: str) -> Operation:
    try:
        return OPERATIONS[name]
    except KeyError:
        raise ValueError(f"unknown CRM operation {name!r}") from None
