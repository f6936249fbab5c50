"""The only writers of customers: the CRM first, the register after it confirmed.

Each service builds the wire body of crm-api.md, hands it to the upstream client with
the register's record as it was (the audit entry's snapshot), and changes the register
in ``on_success``: inside the transaction that completes the audit entry, and only when
the CRM said yes. A rejection or failure raises an ``UpstreamError`` and leaves the
register as it was.

Each change of an existing customer holds the record's write lock (``core.locks``) from
before its version check (``core.versions``) to after its register change, and that change
is one targeted UPDATE of the row that still has the code: a delete or change of code made
in between is never undone. A register change that fails after the CRM said yes raises
``RegisterNotUpdated`` (the entry says so, and reconciliation lists it).

Wire decisions pinned by tests/customers/test_wire.py:
- ``customer_address`` and ``customer_email`` are always sent, ``""`` when blank, so an
  update can clear them.
- the custom fields (wire key ``CUSTOM_FIELDS_KEY``) list those with a value, in the
  form's order; an update also sends ``""`` for a field that had a value and was cleared,
  so the CRM clears it too.
  Fields that never had a value are not sent; with nothing to list, the key is left out.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, NotRequired, TypedDict, Unpack

from django.contrib.auth.models import AbstractBaseUser
from django.db import connections, router, transaction
from django.db.models import F
from django.utils import timezone

from crmadmin.audit.events import REGISTER_ADOPT, record_events, record_many, register_event
from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.core.actors import actor_or_none
from crmadmin.core.bulk import insert_rows
from crmadmin.core.locks import holder_name, record_lock
from crmadmin.core.text import fold
from crmadmin.core.versions import check_version
from crmadmin.customers.models import (
    Customer,
    CustomerFieldValue,
    CustomerPhone,
    phone_digits_of,
    search_text_of,
)
from crmadmin.customers.phones import comparison_key
from crmadmin.customers.search_index import customers_inserted_in_bulk
from crmadmin.kinds import CUSTOM_FIELDS_KEY
from crmadmin.upstream import call, guarded
from crmadmin.upstream.client import tenant
from crmadmin.upstream.operations import get_operation


class CustomerData(TypedDict):
    """What a customer is besides its code: the services' keyword arguments, the form's
    ``cleaned_data`` and, translated by ``_wire_body``, the create and update body."""

    name: str
    phones: Sequence[str]
    email: NotRequired[str]
    address: NotRequired[str]
    status: Status
    type: Type
    group: Group
    field_values: NotRequired[Mapping[Field, str] | None]


# The customer's own columns among CustomerData (phones and custom fields have tables).
_COLUMNS = ("name", "email", "address", "status", "type", "group")


def snapshot_of(customer: Customer) -> dict[str, Any]:
    """The register's record in the wire's own keys, so the audit log can compare it
    key by key with what an update sent."""
    data = CustomerData(
        name=customer.name,
        phones=[phone.number for phone in _ordered_phones(customer)],
        email=customer.email,
        address=customer.address,
        status=customer.status,
        type=customer.type,
        group=customer.group,
        field_values=_stored_values(customer),
    )
    return _wire_body(customer.code, data, previous={})


def customer_create(
    *, actor: AbstractBaseUser | None, code: str, **data: Unpack[CustomerData]
) -> Customer:
    """Create the customer in the CRM, then in the register; returns the new customer."""
    body = _wire_body(code, data, previous={})

    def register(result) -> Customer:
        return _register_new(code=code.strip(), data=data, actor=actor)

    return call(
        "customer.create", body, actor=actor, snapshot=None, on_success=guarded(register)
    ).value


def customer_update(
    *,
    actor: AbstractBaseUser | None,
    customer: Customer,
    version: int | None = None,
    **data: Unpack[CustomerData],
) -> Customer:
    """Send the customer's new state to the CRM, then store it; returns the customer.

    ``version`` is the one the form was opened at (default: the one ``customer`` was
    loaded at); a customer changed since is refused with ``StaleRecord``, unsent.
    """
    return _update(actor=actor, customer=customer, version=version, data=data, fresh=False)


def _update(
    *,
    actor: AbstractBaseUser | None,
    customer: Customer,
    version: int | None,
    data: CustomerData,
    fresh: bool,
) -> Customer:
    """``customer_update``; ``fresh``: ``customer`` was just read from the database and not
    changed since, so when its version is still the register's it stands for the current
    row (no reload) and the register's change rewrites only what differs from it."""
    with _locked(customer.code, actor, "customer.update"):
        current = _current(customer, version, loaded=customer if fresh else None)
        body = _wire_body(current.code, data, previous=_stored_values(current))

        def register(result) -> Customer:
            return _register_changed(
                pk=current.pk,
                code=current.code,
                data=data,
                actor=actor,
                before=current if current is customer and fresh else None,
            )

        return call(
            "customer.update",
            body,
            actor=actor,
            snapshot=snapshot_of(current),
            on_success=guarded(register),
        ).value


def customer_change(
    *,
    actor: AbstractBaseUser | None,
    customer: Customer,
    status: Status | None = None,
    type: Type | None = None,
    group: Group | None = None,
    cleared_field: Field | None = None,
) -> Customer:
    """Change only the customer's status, type or group, or clear one custom field (the
    bulk actions): an update replaces the whole record in the CRM, so everything else
    is sent as the register has it.

    ``customer`` must be as read from the database (a job's frozen row, loaded with
    ``select_related("status", "type", "group")`` and its phones and values prefetched):
    the version check under the record's lock confirms it is still the register's row."""
    data = _changed(customer, status=status, type=type, group=group, cleared_field=cleared_field)
    return _update(actor=actor, customer=customer, version=None, data=data, fresh=True)


def customer_change_body(
    customer: Customer,
    *,
    status: Status | None = None,
    type: Type | None = None,
    group: Group | None = None,
    cleared_field: Field | None = None,
) -> dict[str, Any]:
    """The exact body ``customer_change`` sends for this customer (tenant pair included)."""
    data = _changed(customer, status=status, type=type, group=group, cleared_field=cleared_field)
    body = _wire_body(customer.code, data, previous=_stored_values(customer))
    return get_operation("customer.update").build_body(body, tenant())


def _changed(customer: Customer, *, status, type, group, cleared_field) -> CustomerData:
    values = _stored_values(customer)
    if cleared_field is not None:
        values[cleared_field] = ""
    return {
        "name": customer.name,
        "phones": [phone.number for phone in _ordered_phones(customer)],
        "email": customer.email,
        "address": customer.address,
        "status": status or customer.status,
        "type": type or customer.type,
        "group": group or customer.group,
        "field_values": values,
    }


def customer_rename(
    *,
    actor: AbstractBaseUser | None,
    customer: Customer,
    new_code: str,
    version: int | None = None,
) -> Customer:
    """Change the customer's code in the CRM, then in the register; returns the customer."""
    new_code = new_code.strip()
    with _locked([customer.code, new_code], actor, "customer.rename"):
        current = _current(customer, version)
        body = {"customer_no_old": current.code, "customer_no_new": new_code}

        def register(result) -> Customer:
            return register_rename(old_code=current.code, new_code=new_code, actor=actor)

        return call(
            "customer.rename",
            body,
            actor=actor,
            snapshot=snapshot_of(current),
            on_success=guarded(register),
        ).value


def customer_delete(
    *, actor: AbstractBaseUser | None, customer: Customer, version: int | None = None
) -> None:
    """Delete the customer in the CRM, then from the register (phones and values too)."""
    with _locked(customer.code, actor, "customer.delete"):
        current = _current(customer, version)

        def register(result) -> None:
            register_remove(code=current.code)

        call(
            "customer.delete",
            {"customer_no": current.code},
            actor=actor,
            snapshot=snapshot_of(current),
            on_success=guarded(register),
        )


# --- The register's side, also used by reconciliation (from an entry's wire body) ------


class RegisterConflict(Exception):
    """The register's row is not what the change expects (gone, or another code)."""


class MissingReferences(Exception):
    """A wire body names reference codes the register does not have."""

    def __init__(self, missing: list[tuple[str, str]]) -> None:
        self.missing = missing  # [("status", "VIP"), ("field", "NGUON"), ...]
        super().__init__(", ".join(f"{kind} {code}" for kind, code in missing))


def references_of(body: Mapping[str, Any]) -> CustomerData:
    """The customer a wire body describes, with the register's status, type, group and
    fields; ``MissingReferences`` lists every one the register does not have."""
    missing: list[tuple[str, str]] = []
    status = Status.objects.filter(code=body.get("customer_status_code", "")).first()
    if status is None:
        missing.append(("status", str(body.get("customer_status_code", ""))))
    type_ = Type.objects.filter(code=body.get("customer_type_code", "")).first()
    if type_ is None:
        missing.append(("type", str(body.get("customer_type_code", ""))))
    group = Group.objects.filter(name=body.get("customer_group_name", "")).first()
    if group is None:
        missing.append(("group", str(body.get("customer_group_name", ""))))
    field_values: dict[Field, str] = {}
    for item in body.get(CUSTOM_FIELDS_KEY) or []:
        field = Field.objects.filter(code=item.get("field_key", "")).first()
        if field is None:
            missing.append(("field", str(item.get("field_key", ""))))
        else:
            field_values[field] = str(item.get("field_value", ""))
    if missing:
        raise MissingReferences(missing)
    return CustomerData(
        name=str(body.get("customer_name", "")),
        phones=[str(number) for number in body.get("customer_phones") or []],
        email=str(body.get("customer_email") or ""),
        address=str(body.get("customer_address") or ""),
        status=status,
        type=type_,
        group=group,
        field_values=field_values,
    )


def register_upsert(*, body: Mapping[str, Any], actor: AbstractBaseUser | None) -> Customer:
    """Make the register's customer ``body["customer_no"]`` what a create/update body says
    (the CRM confirmed it): added when absent, changed in place otherwise."""
    code = str(body["customer_no"]).strip()
    data = references_of(body)
    existing = Customer.objects.filter(code=code).values_list("pk", flat=True).first()
    if existing is None:
        return _register_new(code=code, data=data, actor=actor)
    # An update replaces the CRM's record: a custom field the body leaves out is cleared.
    stored = CustomerFieldValue.objects.filter(customer_id=existing).select_related("field")
    data["field_values"] = {
        **{value.field: "" for value in stored},
        **(data.get("field_values") or {}),
    }
    return _register_changed(pk=existing, code=code, data=data, actor=actor)


def register_rename(*, old_code: str, new_code: str, actor: AbstractBaseUser | None) -> Customer:
    current = Customer.objects.filter(code=old_code).first()
    if current is None:
        raise RegisterConflict(f"no customer {old_code} in the register")
    if old_code != new_code:
        updated = Customer.objects.filter(pk=current.pk, code=old_code).update(
            code=new_code,
            search_text=search_text_of(
                code=new_code, name=current.name, email=current.email, address=current.address
            ),
            updated_by=actor_or_none(actor),
            updated_at=timezone.now(),
            version=F("version") + 1,
        )
        if updated != 1:
            raise RegisterConflict(f"customer {old_code} changed during its change of code")
    return Customer.objects.get(pk=current.pk)


def register_remove(*, code: str) -> bool:
    """Remove the customer (phones and values too); False when it was not there."""
    deleted, _ = Customer.objects.filter(code=code).delete()
    return bool(deleted)


def _register_new(*, code: str, data: CustomerData, actor: AbstractBaseUser | None) -> Customer:
    user = actor_or_none(actor)
    customer = Customer(
        code=code,
        **_columns(data),
        phone_digits=phone_digits_of(data["phones"]),
        created_by=user,
        updated_by=user,
    )
    customer.save(force_insert=True)
    _store_phones(customer, data["phones"])
    _store_values(customer, dict(data.get("field_values") or {}))
    return customer


def _register_changed(
    *,
    pk: int,
    code: str,
    data: CustomerData,
    actor: AbstractBaseUser | None,
    before: Customer | None = None,
) -> Customer:
    """One UPDATE of the row that still has ``code``: never a save of a row loaded earlier,
    so a delete or change of code made in between is not undone.

    ``before``: the row as the version check under the record's lock confirmed it (with
    its phones and values prefetched). The UPDATE then also requires that version, phones
    and values are rewritten only when they differ from it, and ``before`` itself, brought
    up to date, is returned instead of a row read again (a bulk job's row: one statement
    where there were six)."""
    columns = _columns(data)
    user = actor_or_none(actor)
    now = timezone.now()
    values = {
        **columns,
        "search_name": fold(columns["name"]),
        "search_text": search_text_of(
            code=code, name=columns["name"], email=columns["email"], address=columns["address"]
        ),
        "phone_digits": phone_digits_of(data["phones"]),
        "updated_by": user,
        "updated_at": now,
    }
    matching = {"pk": pk, "code": code}
    if before is not None:
        matching["version"] = before.version
        # Only what differs from the confirmed row: a change of status leaves the name,
        # phones and search columns alone, so their indexes (SQLite's full-text index,
        # whose trigger fires on any UPDATE naming its columns) are not rewritten.
        values = {
            name: value
            for name, value in values.items()
            if name in _ALWAYS_WRITTEN or _differs(before, name, value)
        }
    updated = Customer.objects.filter(**matching).update(**values, version=F("version") + 1)
    if updated != 1:
        raise RegisterConflict(f"customer {code} was deleted or re-coded in the register meanwhile")
    field_values = dict(data.get("field_values") or {})
    if before is None:
        customer = Customer.objects.get(pk=pk)
        _store_phones(customer, data["phones"])
        _store_values(customer, field_values)
        return customer
    phones_changed = [p.number for p in _ordered_phones(before)] != list(data["phones"])
    stored = _stored_values(before)
    changed_values = {
        field: value for field, value in field_values.items() if stored.get(field, "") != value
    }
    if phones_changed:
        _store_phones(before, data["phones"])
    if changed_values:
        _store_values(before, changed_values)
    for name, value in values.items():
        setattr(before, name, value)
    before.version += 1
    if phones_changed or changed_values:
        before._prefetched_objects_cache = {}
    return before


_ALWAYS_WRITTEN = frozenset({"updated_by", "updated_at"})


def _differs(customer: Customer, name: str, value: Any) -> bool:
    field = Customer._meta.get_field(name)
    if field.is_relation:
        return getattr(customer, field.attname) != (value.pk if value is not None else None)
    return getattr(customer, name) != value


def _current(customer: Customer, version: int | None, loaded: Customer | None = None) -> Customer:
    return check_version(
        Customer,
        pk=customer.pk,
        code=customer.code,
        version=customer.version if version is None else version,
        loaded=loaded,
    )


def _locked(codes: str | Sequence[str], actor, operation: str):
    return record_lock(
        "customer",
        [codes] if isinstance(codes, str) else codes,
        holder=holder_name(actor_or_none(actor)),
        operation=operation,
    )


def _columns(data: CustomerData) -> dict[str, Any]:
    return {column: data.get(column, "") for column in _COLUMNS}


def _wire_body(code: str, data: CustomerData, *, previous: Mapping[Field, str]) -> dict[str, Any]:
    """The one construction of the customer's create/update body (crm-api.md)."""
    body: dict[str, Any] = {
        "customer_no": code,
        "customer_name": data["name"],
        "customer_phones": list(data["phones"]),
        "customer_address": data.get("address") or "",
        "customer_email": data.get("email") or "",
        "customer_status_code": data["status"].code,
        "customer_type_code": data["type"].code,
        # The contract names the group by its name, not its code.
        "customer_group_name": data["group"].name,
    }
    custom_fields = [
        {"field_key": field.code, "field_value": value}
        for field, value in (data.get("field_values") or {}).items()
        if value or previous.get(field)
    ]
    if custom_fields:
        body[CUSTOM_FIELDS_KEY] = custom_fields
    return body


def _ordered_phones(customer: Customer) -> list[CustomerPhone]:
    return sorted(customer.phones.all(), key=lambda phone: (phone.position, phone.pk))


def _stored_values(customer: Customer) -> dict[Field, str]:
    values = sorted(
        customer.field_values.all(), key=lambda value: (value.field.name, value.field.code)
    )
    return {value.field: value.value for value in values if value.value}


def _store_phones(customer: Customer, phones: Sequence[str]) -> None:
    """The phone rows; ``customer.phone_digits`` (saved by the caller) mirrors them."""
    CustomerPhone.objects.filter(customer=customer).delete()
    CustomerPhone.objects.bulk_create(
        CustomerPhone(
            customer=customer, position=position, number=number, digits=comparison_key(number)
        )
        for position, number in enumerate(phones)
    )


def _store_values(customer: Customer, values: Mapping[Field, str]) -> None:
    cleared = [field for field, value in values.items() if not value]
    if cleared:
        CustomerFieldValue.objects.filter(customer=customer, field__in=cleared).delete()
    for field, value in values.items():
        if value:
            CustomerFieldValue.objects.update_or_create(
                customer=customer, field=field, defaults={"value": value}
            )


# --- Adoption: records the CRM already holds, added to the register without a call ------
@dataclass
class Adoption:
    """One customer as a file gives it. ``None`` for ``email``, ``address`` or a field
    left out of ``field_values`` means "the file does not say": the register keeps what
    it has (and a new record has nothing)."""

    code: str
    name: str
    phones: Sequence[str]
    status_id: int
    type_id: int
    group_id: int
    email: str | None = None
    address: str | None = None
    field_values: Mapping[int, str] = dataclass_field(default_factory=dict)
    event: Mapping[str, Any] = dataclass_field(default_factory=dict)  # the audit event's body
    # The comparison keys of ``phones``, one each, when the caller has them already (an
    # import's preview read every number): a number is then not parsed again, which was
    # a third of the time an import of 100,000 customers took to adopt.
    phone_keys: Sequence[str] | None = None

    def keys(self) -> list[str]:
        if self.phone_keys is not None and len(self.phone_keys) == len(self.phones):
            return list(self.phone_keys)
        return [comparison_key(number) for number in self.phones]


def customers_adopt(*, actor: AbstractBaseUser | None, adoptions: Sequence[Adoption]) -> int:
    """Add (or bring up to date) customers the CRM already holds, with no CRM call.

    Each arrival is a ``register.adopt`` event in the audit log, its body saying where the
    record came from (``Adoption.event``), written in the transaction that changes the
    register. New customers are written in bulk; customers already in the register are
    updated one by one with their snapshot in the event. Returns how many were written.
    """
    user = actor_or_none(actor)
    with transaction.atomic():
        existing = {
            customer.code: customer
            for customer in Customer.objects.filter(
                code__in=[adoption.code for adoption in adoptions]
            ).prefetch_related("phones", "field_values__field")
        }
        fresh = [adoption for adoption in adoptions if adoption.code not in existing]
        _insert_fresh(fresh, user=user)
        record_many(
            event=REGISTER_ADOPT,
            actor=actor,
            record_kind="customer",
            items=((adoption.code, dict(adoption.event)) for adoption in fresh),
        )
        events = []
        for adoption in adoptions:
            customer = existing.get(adoption.code)
            if customer is not None:
                events.append(_adopt_existing(customer, adoption, actor=actor))
        record_events(events)
    return len(adoptions)


def _insert_fresh(fresh: Sequence[Adoption], *, user) -> None:
    """New customers with their phones and values, in three prepared statements: what
    ``save()`` computes (search columns, timestamps) is computed here."""
    if not fresh:
        return
    now = timezone.now()
    user_id = user.pk if user is not None else None
    keys = {a.code: a.keys() for a in fresh}
    with customers_inserted_in_bulk(connections[router.db_for_write(Customer)]):
        _insert_customers(fresh, keys=keys, user_id=user_id, now=now)
    ids = dict(Customer.objects.filter(code__in=[a.code for a in fresh]).values_list("code", "pk"))
    insert_rows(
        CustomerPhone,
        ["customer_id", "position", "number", "digits"],
        (
            (ids[a.code], position, number, key)
            for a in fresh
            for position, (number, key) in enumerate(zip(a.phones, keys[a.code], strict=True))
        ),
    )
    insert_rows(
        CustomerFieldValue,
        ["customer_id", "field_id", "value"],
        (
            (ids[a.code], field_id, value)
            for a in fresh
            for field_id, value in a.field_values.items()
            if value
        ),
    )


def _insert_customers(fresh: Sequence[Adoption], *, keys, user_id, now) -> None:
    insert_rows(
        Customer,
        [
            "code", "name", "search_name", "search_text", "phone_digits", "email", "address",
            "status_id", "type_id", "group_id", "created_by_id", "updated_by_id",
            "created_at", "updated_at",
        ],
        (
            (
                a.code, a.name, folded,
                search_text_of(
                    code=a.code, name=a.name, email=a.email or "", address=a.address or "",
                    folded_name=folded,
                ),
                " ".join(keys[a.code]), a.email or "", a.address or "",
                a.status_id, a.type_id, a.group_id, user_id, user_id, now, now,
            )
            for a in fresh
            for folded in (fold(a.name),)
        ),
    )  # fmt: skip


def _adopt_existing(customer: Customer, adoption: Adoption, *, actor) -> Any:
    snapshot = snapshot_of(customer)
    fields = {value.field_id: value.field for value in customer.field_values.all()}
    fields.update(Field.objects.in_bulk(list(adoption.field_values)))
    customer.name = adoption.name
    if adoption.email is not None:
        customer.email = adoption.email
    if adoption.address is not None:
        customer.address = adoption.address
    customer.status_id = adoption.status_id
    customer.type_id = adoption.type_id
    customer.group_id = adoption.group_id
    customer.phone_digits = phone_digits_of(adoption.phones)
    customer.updated_by = actor_or_none(actor)
    customer.save()
    _store_phones(customer, adoption.phones)
    _store_values(customer, {fields[pk]: value for pk, value in adoption.field_values.items()})
    return register_event(
        event=REGISTER_ADOPT,
        actor=actor,
        record_kind="customer",
        code=customer.code,
        details=dict(adoption.event),
        snapshot_before=snapshot,
    )


def customer_adopt_verified(
    *, actor: AbstractBaseUser | None, adoption: Adoption
) -> Customer | None:
    """Adopt one customer after the CRM confirmed it holds it: an update with the file's
    values (one audited call), then the register and the event, in the transaction that
    completes the audit entry. A rejection (the CRM does not know the code, or refuses a
    value) raises the ``UpstreamError`` and leaves the register as it was."""
    customer = Customer.objects.filter(code=adoption.code).first()
    fields = Field.objects.in_bulk(list(adoption.field_values))
    stored = _stored_values(customer) if customer is not None else {}
    values = {**stored, **{fields[pk]: value for pk, value in adoption.field_values.items()}}
    data = CustomerData(
        name=adoption.name,
        phones=adoption.phones,
        email=adoption.email
        if adoption.email is not None
        else (customer.email if customer else ""),
        address=adoption.address
        if adoption.address is not None
        else (customer.address if customer else ""),
        status=Status.objects.get(pk=adoption.status_id),
        type=Type.objects.get(pk=adoption.type_id),
        group=Group.objects.get(pk=adoption.group_id),
        field_values=values,
    )
    body = _wire_body(adoption.code, data, previous=stored)

    def register(result) -> None:
        customers_adopt(actor=actor, adoptions=[adoption])

    call(
        "customer.update",
        body,
        actor=actor,
        snapshot=snapshot_of(customer) if customer is not None else None,
        on_success=register,
    )
    return Customer.objects.filter(code=adoption.code).first()
