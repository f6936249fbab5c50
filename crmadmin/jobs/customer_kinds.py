"""The bulk actions on customers, as job kinds: set status, type or group, clear a custom
field, delete. Each row is one customer, frozen by id when the job was created; each
runs one call through the customer services (same audit, same rules as the forms)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.core.versions import StaleRecord
from crmadmin.customers import services
from crmadmin.customers.models import Customer
from crmadmin.jobs.kinds import JobKind, RowFailed, register, remembered

SET_STATUS = "customer.set_status"
SET_TYPE = "customer.set_type"
SET_GROUP = "customer.set_group"
CLEAR_FIELD = "customer.clear_field"
DELETE = "customer.delete"

# kind → (the services' keyword, the reference model, its parameter name)
SET_KINDS = {
    SET_STATUS: ("status", Status),
    SET_TYPE: ("type", Type),
    SET_GROUP: ("group", Group),
}

ROW_URL = ("customers:detail", "code")


def _customers():
    return Customer.objects.select_related("status", "type", "group").prefetch_related(
        "phones", "field_values__field"
    )


def prepare_customers(rows) -> None:
    """Read the customers of a chunk of rows in three queries (``row.customer``; None for
    one no longer in the register). A customer changed between this read and its row's
    call is read again then (``customer_of(row, again=True)``)."""
    wanted = [row.data.get("customer_id") for row in rows]
    found = _customers().in_bulk([pk for pk in wanted if isinstance(pk, int)])
    for row, pk in zip(rows, wanted, strict=True):
        row.customer = found.get(pk)


def customer_of(row, *, again: bool = False) -> Customer:
    customer = getattr(row, "customer", None) if not again else None
    if customer is None:
        customer = _customers().filter(pk=row.data.get("customer_id")).first()
    if customer is None:
        raise RowFailed(_("This customer is no longer in the register."))
    return customer


def _changing(row, change) -> str:
    """``change(customer)`` on the row's customer; once more on the customer read again
    if the register's row changed since it was read with its chunk (the version check
    refused it under the record's lease, before anything was sent)."""
    try:
        return change(customer_of(row))
    except StaleRecord:
        if not hasattr(row, "customer"):
            raise
    return change(customer_of(row, again=True))


# A job's target (the status, type, group or field every row is given) is read once a
# second rather than once per row (``kinds.remembered``): a change of its code or name
# reaches the next rows within that second, and a row sent with the old code meanwhile is
# refused by the CRM ("not found") and reported failed, never applied wrongly.
TARGET_TTL_SECONDS = 1.0


def target_of(model, parameters: dict):
    target_id = parameters.get("target_id")
    target = remembered(
        ("target", model, target_id),
        lambda: model.objects.filter(pk=target_id).first(),
        seconds=TARGET_TTL_SECONDS,
    )
    if target is None:
        raise RowFailed(_("The chosen value no longer exists."))
    return target


def _set_row(kind: str):
    keyword, model = SET_KINDS[kind]

    def run_row(*, actor, parameters, row) -> str:
        target = target_of(model, parameters)

        def change(customer) -> str:
            if getattr(customer, f"{keyword}_id") == target.pk:
                return _("Already set: nothing was sent.")
            services.customer_change(actor=actor, customer=customer, **{keyword: target})
            return ""

        return _changing(row, change)

    run_row.__name__ = f"run_{keyword}_row"
    return run_row


def clear_field_row(*, actor, parameters, row) -> str:
    field = target_of(Field, parameters)

    def change(customer) -> str:
        values = customer.field_values.all()
        if not any(value.field_id == field.pk and value.value for value in values):
            return _("No value to clear: nothing was sent.")
        services.customer_change(actor=actor, customer=customer, cleared_field=field)
        return ""

    return _changing(row, change)


def delete_row(*, actor, parameters, row) -> str:
    services.customer_delete(actor=actor, customer=customer_of(row))
    return ""


register(
    JobKind(
        SET_STATUS,
        gettext_lazy("Set status"),
        "customers.change_customer",
        _set_row(SET_STATUS),
        ROW_URL,
        prepare_customers,
    )
)
register(
    JobKind(
        SET_TYPE,
        gettext_lazy("Set type"),
        "customers.change_customer",
        _set_row(SET_TYPE),
        ROW_URL,
        prepare_customers,
    )
)
register(
    JobKind(
        SET_GROUP,
        gettext_lazy("Set group"),
        "customers.change_customer",
        _set_row(SET_GROUP),
        ROW_URL,
        prepare_customers,
    )
)
register(
    JobKind(
        CLEAR_FIELD,
        gettext_lazy("Clear a custom field"),
        "customers.change_customer",
        clear_field_row,
        ROW_URL,
        prepare_customers,
    )
)
register(
    JobKind(
        DELETE, gettext_lazy("Delete customers"), "customers.delete_customer", delete_row, ROW_URL
    )
)
