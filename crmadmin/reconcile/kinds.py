"""The five record kinds as reconciliation sees them: how to read the register's record
as a wire body, and the register-only changes (each kind's own service functions)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crmadmin.codes import services as code_services
from crmadmin.customers import services as customer_services
from crmadmin.customers.models import Customer
from crmadmin.kinds import REFERENCE_KINDS
from crmadmin.kinds import RecordKind as RegistryKind
from crmadmin.upstream.operations import TENANT_KEYS


@dataclass(frozen=True)
class RecordKind:
    wire: str  # "customer", "status", ...
    label: Promise
    code_key: str  # "customer_no"
    write_permission: str  # needed to resolve an item about such a record
    exists: Callable[[str], bool]
    body_of: Callable[[str], dict[str, Any] | None]  # the register's record as a create body
    upsert: Callable[..., Any]  # (body=, actor=)
    rename: Callable[..., Any]  # (old_code=, new_code=, actor=)
    remove: Callable[..., bool]  # (code=)
    page: Callable[[str], str]
    body_from_snapshot: Callable[[Mapping[str, Any]], dict[str, Any]]

    def operation(self, action: str) -> str:
        return f"{self.wire}.{action}"


def _customer_body(code: str) -> dict[str, Any] | None:
    customer = Customer.objects.filter(code=code).first()
    return None if customer is None else customer_services.snapshot_of(customer)


def _customer_kind() -> RecordKind:
    return RecordKind(
        wire="customer",
        label=_("customer"),
        code_key="customer_no",
        write_permission="customers.change_customer",
        exists=lambda code: Customer.objects.filter(code=code).exists(),
        body_of=_customer_body,
        upsert=customer_services.register_upsert,
        rename=customer_services.register_rename,
        remove=customer_services.register_remove,
        page=lambda code: reverse("customers:detail", kwargs={"code": code}),
        body_from_snapshot=lambda snapshot: dict(snapshot),
    )


def _code_kind(kind: RegistryKind) -> RecordKind:
    def body_of(code: str) -> dict[str, Any] | None:
        record = kind.model.objects.filter(code=code).first()
        return None if record is None else _snapshot_body(kind.snapshot(record))

    def _snapshot_body(snapshot: Mapping[str, Any]) -> dict[str, Any]:
        details = {detail.attr: snapshot.get(detail.attr) or "" for detail in kind.details}
        return kind.upsert_body(
            code=snapshot["code"], name=snapshot["name"], details=details, before=details
        )

    return RecordKind(
        wire=kind.name,
        label=kind.label,
        code_key=kind.key("no"),
        write_permission=kind.permission("update"),
        exists=lambda code: kind.model.objects.filter(code=code).exists(),
        body_of=body_of,
        upsert=lambda *, body, actor: code_services.register_upsert(
            kind=kind, body=body, actor=actor
        ),
        rename=lambda *, old_code, new_code, actor: code_services.register_rename(
            kind=kind, old_code=old_code, new_code=new_code, actor=actor
        ),
        remove=lambda *, code: code_services.register_remove(kind=kind, code=code),
        page=lambda code: reverse("codes:detail", kwargs={"kind": kind.slug, "code": code}),
        body_from_snapshot=_snapshot_body,
    )


def record_kinds() -> dict[str, RecordKind]:
    kinds = {"customer": _customer_kind()}
    for code_kind in REFERENCE_KINDS.values():
        kinds[code_kind.name] = _code_kind(code_kind)
    return kinds


def kind_of(wire: str) -> RecordKind:
    return record_kinds()[wire]


def without_tenant(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in TENANT_KEYS}
