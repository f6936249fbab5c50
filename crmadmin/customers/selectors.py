"""Readers of the customer register: the list's search, duplicates, a customer's history."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, QuerySet

from crmadmin.audit.models import AuditEntry, Outcome
from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.core.text import fold
from crmadmin.customers.models import Customer, CustomerFieldValue, CustomerPhone
from crmadmin.customers.phones import national_digits, search_digits

# sort key → ORDER BY; every ordering ends in a unique column so pages never overlap.
SORTS: dict[str, tuple[str, ...]] = {
    "code": ("code",),
    "-code": ("-code",),
    # search_name is the folded name: "Đặng" sorts with the Ds, not after "Z".
    "name": ("search_name", "id"),
    "-name": ("-search_name", "-id"),
    "changed": ("updated_at", "id"),
    "-changed": ("-updated_at", "-id"),
}
DEFAULT_SORT = "code"
HISTORY_LIMIT = 100


def customer_list(
    *,
    query: str = "",
    status: Status | None = None,
    type: Type | None = None,
    group: Group | None = None,
    sort: str = DEFAULT_SORT,
) -> QuerySet[Customer]:
    """Customers matching the search box and the filters, in the chosen order.

    The search term matches the folded code, name and e-mail as one ``LIKE '%term%'``
    (case- and accent-insensitive), and, when it holds at least four significant digits
    (:func:`~crmadmin.customers.phones.search_digits`), any part of a phone number.
    Both read columns of the customer row (migration 0003 indexes them); filters compare
    foreign keys, so nothing here joins.
    """
    customers = Customer.objects.all()
    if status is not None:
        customers = customers.filter(status=status)
    if type is not None:
        customers = customers.filter(type=type)
    if group is not None:
        customers = customers.filter(group=group)
    term = fold(query)
    if term:
        matches = Q(search_text__contains=term)
        digits = search_digits(query)
        if digits is not None:
            matches |= Q(phone_digits__contains=digits)
        customers = customers.filter(matches)
    return customers.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


def customer_page(*, number, per_page: int, **criteria) -> Page:
    """One page of ``customer_list(**criteria)`` with the list's columns, and the count.

    The page's ids are found first, on the customer table alone, and only those rows are
    then read with their status, type, group and phones: a join in the first query can
    make the planner start from a status and sort thousands of rows instead of walking
    the sort order's index until the page is full.

    With a search term the matching ids are read once, in order: a ``LIKE '%term%'`` is
    a scan on SQLite, and counting before fetching a page would scan twice. The count is
    their number and the page a slice. Without one, COUNT and LIMIT both use indexes.
    """
    customers = customer_list(**criteria)
    ids = customers.values_list("pk", flat=True)
    if fold(criteria.get("query", "")):
        ids = list(ids)
    page = Paginator(ids, per_page).get_page(number)
    page_ids = list(page.object_list)
    rows = with_list_columns(Customer.objects.filter(pk__in=page_ids)).in_bulk()
    page.object_list = [rows[pk] for pk in page_ids if pk in rows]
    return page


def with_list_columns(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """What one list row shows, in three queries per page whatever its length."""
    return customers.select_related("status", "type", "group").prefetch_related(
        Prefetch("phones", queryset=CustomerPhone.objects.order_by("position", "id"))
    )


def register_is_empty() -> bool:
    return not Customer.objects.exists()


def customer_by_code(code: str) -> Customer | None:
    return (
        Customer.objects.select_related("status", "type", "group", "created_by", "updated_by")
        .prefetch_related(
            Prefetch("phones", queryset=CustomerPhone.objects.order_by("position", "id")),
            Prefetch(
                "field_values",
                queryset=CustomerFieldValue.objects.select_related("field").order_by(
                    "field__name", "field__code"
                ),
            ),
        )
        .filter(code=code)
        .first()
    )


def custom_fields() -> QuerySet[Field]:
    """The custom-field definitions, in the order the form and the detail page show them."""
    return Field.objects.order_by("name", "code")


@dataclass(frozen=True)
class Duplicate:
    """Another customer that already has one of the phones or the e-mail being saved."""

    customer: Customer
    phones: tuple[str, ...]
    email: bool


def customers_sharing_contacts(
    *, phones: Iterable[str], email: str, exclude: Customer | None = None
) -> list[Duplicate]:
    """Other customers holding one of ``phones`` (compared by national digits) or ``email``."""
    wanted = {national_digits(number): number for number in phones}
    owners: dict[int, set[str]] = {}
    phone_rows = CustomerPhone.objects.filter(digits__in=list(wanted))
    if exclude is not None:
        phone_rows = phone_rows.exclude(customer=exclude)
    for customer_id, digits in phone_rows.values_list("customer_id", "digits"):
        owners.setdefault(customer_id, set()).add(wanted[digits])
    email_owners: set[int] = set()
    if email:
        email_rows = Customer.objects.filter(email__iexact=email)
        if exclude is not None:
            email_rows = email_rows.exclude(pk=exclude.pk)
        email_owners = set(email_rows.values_list("pk", flat=True))
    ids = owners.keys() | email_owners
    if not ids:
        return []
    customers = Customer.objects.filter(pk__in=ids).order_by("code")
    return [
        Duplicate(
            customer=customer,
            phones=tuple(sorted(owners.get(customer.pk, ()))),
            email=customer.pk in email_owners,
        )
        for customer in customers
    ]


def earlier_codes(code: str) -> list[str]:
    """``code`` and every code the customer had before, newest first.

    Follows succeeded changes of code backwards: an entry ``customer.rename`` from A to
    ``code`` means the customer was A before, and so on.
    """
    chain = [code]
    seen = {code}
    frontier = [code]
    while frontier:
        previous = list(
            AuditEntry.objects.filter(
                operation="customer.rename",
                outcome=Outcome.SUCCEEDED,
                new_code__in=frontier,
            )
            .order_by("-started_at", "-id")
            .values_list("code", flat=True)
        )
        frontier = [old for old in dict.fromkeys(previous) if old not in seen]
        seen.update(frontier)
        chain.extend(frontier)
    return chain


def customer_history(code: str, *, limit: int = HISTORY_LIMIT) -> list[AuditEntry]:
    """Audit entries about the customer now called ``code``, under any of its codes,
    newest first (at most ``limit``)."""
    return list(
        AuditEntry.objects.filter(record_kind="customer", code__in=earlier_codes(code))
        .select_related("actor")
        .order_by("-started_at", "-id")[:limit]
    )
