"""Readers of the customer register: the list's search, duplicates, a customer's history."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import BooleanField, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

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
# The trigram index finds substrings of three characters or more.
FTS_MIN_LENGTH = 3
SQLITE_SEARCH = (
    '{id}"customers_customer"."id" IN (SELECT rowid FROM customers_customer_search '
    "WHERE customers_customer_search MATCH %s)"
)
# A search counts this many matches at most; beyond it the list says "more than".
SEARCH_COUNT_LIMIT = 1000
HISTORY_LIMIT = 100


def customer_list(
    *,
    query: str = "",
    status: Status | None = None,
    type: Type | None = None,
    group: Group | None = None,
    sort: str = DEFAULT_SORT,
    many_matches: bool = False,
) -> QuerySet[Customer]:
    """Customers matching the search box and the filters, in the chosen order.

    The search term matches the folded code, name and e-mail (case- and
    accent-insensitive), and, when it holds at least four significant digits
    (:func:`~crmadmin.customers.phones.search_digits`), any part of a phone number.
    Both are columns of the customer row with trigram indexes (migrations 0003 and
    0004); filters compare foreign keys, so nothing here joins. ``many_matches`` only
    changes how SQLite finds the rows (see ``_matching``), never which.
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
        customers = customers.filter(_matching(term, search_digits(query), many_matches))
    return customers.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


def customer_page(*, number, per_page: int, **criteria) -> Page:
    """One page of ``customer_list(**criteria)`` with the list's columns, and the count.

    A search counts its matches only up to :data:`SEARCH_COUNT_LIMIT` (the page says
    "more than ..."): a short or common term can match most of the register, and an
    exact count of that would read every match, for a number nobody pages through.
    Without a search term the filters are indexed and the count is exact.

    The count also tells how to find the page: few matches are fetched by id and
    sorted, many by walking the sort order's index until the page is full. The page's
    ids are read from the customer table alone and only those rows are then read with
    their status, type, group and phones: a join in the first query can make the
    planner start from a status and sort thousands of rows.
    """
    searching = bool(fold(criteria.get("query", "")))
    matching = customer_list(**criteria)
    if searching:
        count = matching.order_by().values("pk")[: SEARCH_COUNT_LIMIT + 1].count()
    else:
        count = matching.count()
    more = count > SEARCH_COUNT_LIMIT if searching else False
    ids = customer_list(**criteria, many_matches=more).values_list("pk", flat=True)
    paginator = Paginator(ids, per_page)
    paginator.count = min(count, SEARCH_COUNT_LIMIT) if more else count  # counted above
    page = paginator.get_page(number)
    page.more_than_count = more
    page_ids = list(page.object_list)
    rows = with_list_columns(Customer.objects.filter(pk__in=page_ids)).in_bulk()
    page.object_list = [rows[pk] for pk in page_ids if pk in rows]
    return page


def _matching(term: str, digits: str | None, many_matches: bool) -> Q | RawSQL:
    """``search_text`` contains ``term``, or ``phone_digits`` contains ``digits``.

    On PostgreSQL the trigram GIN indexes of migration 0003 serve these LIKEs, and the
    planner picks the plan. On SQLite a term of three characters or more is looked up
    in the trigram full-text index of migration 0004 (a phrase query is a substring
    match there); shorter terms use LIKE. With ``many_matches`` the id test is written
    ``+id``, which keeps SQLite from fetching every match by id to sort them all: it
    walks the sort order's index instead and stops when the page is full.
    """
    if connections[Customer.objects.db].vendor == "sqlite" and len(term) >= FTS_MIN_LENGTH:
        query = f"search_text : {_fts_phrase(term)}"
        if digits is not None:
            query += f" OR phone_digits : {_fts_phrase(digits)}"
        statement = SQLITE_SEARCH.format(id="+" if many_matches else "")
        # A constant statement; the user's text travels as a parameter.
        return RawSQL(statement, [query], output_field=BooleanField())  # noqa: S611
    matches = Q(search_text__contains=term)
    if digits is not None:
        matches |= Q(phone_digits__contains=digits)
    return matches


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


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
