"""The only writers of customers: the CRM first, the register after it confirmed.

Each service builds the wire body of crm-api.md, hands it to the upstream client with
the register's record as it was (the audit entry's snapshot), and changes the register
in ``on_success``: inside the transaction that completes the audit entry, and only when
the CRM said yes. A rejection or failure raises an ``UpstreamError`` and leaves the
register as it was.

Wire decisions pinned by tests/customers/test_wire.py:
- ``customer_address`` and ``customer_email`` are always sent, ``""`` when blank, so an
  update can clear them.
- ``fileds`` lists the custom fields with a value, in the form's order; an update also
  sends ``""`` for a field that had a value and was cleared, so the CRM clears it too.
  Fields that never had a value are not sent; with nothing to list, ``fileds`` is left out.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.customers.models import (
    Customer,
    CustomerFieldValue,
    CustomerPhone,
    phone_digits_of,
)
from crmadmin.customers.phones import national_digits
from crmadmin.upstream import call


def snapshot_of(customer: Customer) -> dict[str, Any]:
    """The register's record in the wire's own keys, so the audit log can compare it
    key by key with what an update sent."""
    return _wire_body(
        code=customer.code,
        name=customer.name,
        phones=[phone.number for phone in _ordered_phones(customer)],
        email=customer.email,
        address=customer.address,
        status=customer.status,
        type=customer.type,
        group=customer.group,
        fileds=_fileds(_stored_values(customer), previous={}),
    )


def customer_create(
    *,
    actor: AbstractBaseUser | None,
    code: str,
    name: str,
    phones: Sequence[str],
    email: str = "",
    address: str = "",
    status: Status,
    type: Type,
    group: Group,
    field_values: Mapping[Field, str] | None = None,
) -> Customer:
    """Create the customer in the CRM, then in the register; returns the new customer."""
    field_values = dict(field_values or {})
    body = _wire_body(
        code=code,
        name=name,
        phones=phones,
        email=email,
        address=address,
        status=status,
        type=type,
        group=group,
        fileds=_fileds(field_values, previous={}),
    )

    def register(result) -> Customer:
        customer = Customer(
            code=code.strip(),
            name=name,
            email=email,
            address=address,
            status=status,
            type=type,
            group=group,
            phone_digits=phone_digits_of(phones),
            created_by=_user(actor),
            updated_by=_user(actor),
        )
        customer.save()
        _store_phones(customer, phones)
        _store_values(customer, field_values)
        return customer

    return call("customer.create", body, actor=actor, snapshot=None, on_success=register).value


def customer_update(
    *,
    actor: AbstractBaseUser | None,
    customer: Customer,
    name: str,
    phones: Sequence[str],
    email: str = "",
    address: str = "",
    status: Status,
    type: Type,
    group: Group,
    field_values: Mapping[Field, str] | None = None,
) -> Customer:
    """Send the customer's new state to the CRM, then store it; returns the customer."""
    field_values = dict(field_values or {})
    previous = _stored_values(customer)
    body = _wire_body(
        code=customer.code,
        name=name,
        phones=phones,
        email=email,
        address=address,
        status=status,
        type=type,
        group=group,
        fileds=_fileds(field_values, previous=previous),
    )
    snapshot = snapshot_of(customer)

    def register(result) -> Customer:
        customer.name = name
        customer.email = email
        customer.address = address
        customer.status = status
        customer.type = type
        customer.group = group
        customer.phone_digits = phone_digits_of(phones)
        customer.updated_by = _user(actor)
        customer.save()
        _store_phones(customer, phones)
        _store_values(customer, field_values)
        return customer

    return call("customer.update", body, actor=actor, snapshot=snapshot, on_success=register).value


def customer_rename(
    *, actor: AbstractBaseUser | None, customer: Customer, new_code: str
) -> Customer:
    """Change the customer's code in the CRM, then in the register."""
    body = {"customer_no_old": customer.code, "customer_no_new": new_code}
    snapshot = snapshot_of(customer)

    def register(result) -> Customer:
        customer.code = new_code.strip()
        customer.updated_by = _user(actor)
        customer.save(update_fields=["code", "updated_by"])
        return customer

    return call("customer.rename", body, actor=actor, snapshot=snapshot, on_success=register).value


def customer_delete(*, actor: AbstractBaseUser | None, customer: Customer) -> None:
    """Delete the customer in the CRM, then from the register (phones and values too)."""
    snapshot = snapshot_of(customer)

    def register(result) -> None:
        customer.delete()

    call(
        "customer.delete",
        {"customer_no": customer.code},
        actor=actor,
        snapshot=snapshot,
        on_success=register,
    )


def _wire_body(
    *,
    code: str,
    name: str,
    phones: Sequence[str],
    email: str,
    address: str,
    status: Status,
    type: Type,
    group: Group,
    fileds: list[dict[str, str]],
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_no": code,
        "customer_name": name,
        "customer_phones": list(phones),
        "customer_address": address or "",
        "customer_email": email or "",
        "customer_status_code": status.code,
        "customer_type_code": type.code,
        # The contract names the group by its name, not its code.
        "customer_group_name": group.name,
    }
    if fileds:
        body["fileds"] = fileds
    return body


def _fileds(values: Mapping[Field, str], *, previous: Mapping[Field, str]) -> list[dict[str, str]]:
    return [
        {"field_key": field.code, "field_value": value}
        for field, value in values.items()
        if value or previous.get(field)
    ]


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
            customer=customer, position=position, number=number, digits=national_digits(number)
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


def _user(actor: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return actor if actor is not None and actor.is_authenticated else None
