"""Readers of the customer register: the list's search and duplicates. (A customer's
history is the audit log's: ``audit.selectors.listing.record_history``.)"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import BooleanField, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length, Upper

from crmadmin.audit.models import AuditEntry, Outcome
from crmadmin.audit.selectors.listing import code_after_renames
from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.core.codes import clashing
from crmadmin.core.text import fold
from crmadmin.customers.models import (
    SEARCH_TEXT_PART,
    Customer,
    CustomerFieldValue,
    CustomerPhone,
)
from crmadmin.customers.phones import comparison_key, search_digits

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
# What a word of the search box that begins a word of the text follows.
WORD_START = SEARCH_TEXT_PART[-1]
# A word of digits and the separators of phone numbers ("0912", "345-678", "+84").
_PHONE_PIECE = re.compile(r"[0-9+().\-/]*[0-9][0-9+().\-/]*")
SQLITE_SEARCH = (
    '{id}"customers_customer"."id" IN (SELECT rowid FROM customers_customer_search '
    "WHERE customers_customer_search MATCH %s)"
)
# A search counts this many matches at most; beyond it the list says "more than".
SEARCH_COUNT_LIMIT = 1000


def customer_list(
    *,
    query: str = "",
    status: Status | None = None,
    type: Type | None = None,
    group: Group | None = None,
    field: Field | None = None,
    sort: str = DEFAULT_SORT,
    many_matches: bool = False,
) -> QuerySet[Customer]:
    """Customers matching the search box and the filters, in the chosen order.

    Every word of the search box must match (:func:`search_words`), in any order: a part
    of the folded code, name, e-mail or address (case- and accent-insensitive), or, for
    digits, a part of a phone number. Both are columns of the customer row with trigram
    indexes (migrations 0003 and 0004); filters compare foreign keys, so nothing here
    joins. ``many_matches`` only changes how SQLite finds the rows (see ``_matching``),
    never which.
    """
    customers = Customer.objects.all()
    if status is not None:
        customers = customers.filter(status=status)
    if type is not None:
        customers = customers.filter(type=type)
    if group is not None:
        customers = customers.filter(group=group)
    if field is not None:
        customers = customers.filter(
            pk__in=CustomerFieldValue.objects.filter(field=field)
            .exclude(value="")
            .values("customer_id")
        )
    words = search_words(query)
    if words:
        customers = _matching(customers, words, many_matches)
    return customers.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


def customer_page(*, number, per_page: int, **criteria) -> Page:
    """One page of ``customer_list(**criteria)`` with the list's columns, and the count.

    A search counts its matches only up to :data:`SEARCH_COUNT_LIMIT` (the page says
    "more than ..."): a short or common term can match most of the register, and an
    exact count of that would read every match, for a number nobody pages through.
    Without a search term the filters are indexed and the count is exact.

    The count also tells how to find the page: few matches (their ids read by the
    count) are sorted, many are found by walking the sort order's index until the page
    is full. The page's
    ids are read from the customer table alone and only those rows are then read with
    their status, type, group and phones: a join in the first query can make the
    planner start from a status and sort thousands of rows.
    """
    searching = bool(fold(criteria.get("query", "")))
    matching = customer_list(**criteria)
    few: list[int] | None = None
    if searching:
        few = list(matching.order_by().values_list("pk", flat=True)[: SEARCH_COUNT_LIMIT + 1])
        count = len(few)
    else:
        count = matching.count()
    more = count > SEARCH_COUNT_LIMIT if searching else False
    if few is not None and not more:
        # The matches are known: sort them, rather than search again in the sort order,
        # where PostgreSQL may walk the whole order's index to find a few scattered rows.
        sort = criteria.get("sort", DEFAULT_SORT)
        ids = (
            Customer.objects.filter(pk__in=few)
            .order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))
            .values_list("pk", flat=True)
        )
    else:
        ids = customer_list(**criteria, many_matches=more).values_list("pk", flat=True)
    paginator = Paginator(ids, per_page)
    paginator.count = min(count, SEARCH_COUNT_LIMIT) if more else count  # counted above
    page = paginator.get_page(number)
    page.more_than_count = more
    page_ids = list(page.object_list)
    rows = with_list_columns(Customer.objects.filter(pk__in=page_ids)).in_bulk()
    page.object_list = [rows[pk] for pk in page_ids if pk in rows]
    return page


@dataclass(frozen=True)
class SearchWord:
    """One word of the search box: a part of ``search_text``, or of a phone's digits.

    ``text`` is folded; with ``at_word_start`` it must begin a word of the text (follow
    a space): so a word of one or two letters ("an", "do") finds the names that have it
    rather than every name that contains it, and "yen" in "nguyen yen" must be a word of
    its own rather than the end of "nguyen". ``digits``: what it finds in the phones.
    """

    text: str
    at_word_start: bool = False
    digits: str | None = None

    @property
    def pattern(self) -> str:
        return WORD_START + self.text if self.at_word_start else self.text


def search_words(query: str) -> list[SearchWord]:
    """The words of ``query`` that must all match, each once.

    Words are separated by white space, except that neighbouring pieces of a phone
    number are one word: "0912 345 678" is one number, "nguyen 0912 345" two words.
    """
    pieces: list[str] = []
    phone_run: list[str] = []
    for token in (query or "").split():
        if _PHONE_PIECE.fullmatch(token):
            phone_run.append(token)
            continue
        if phone_run:
            pieces.append(" ".join(phone_run))
            phone_run = []
        pieces.append(token)
    if phone_run:
        pieces.append(" ".join(phone_run))
    folded: dict[str, str] = {}
    for piece in pieces:
        text = fold(piece)
        if text:
            folded.setdefault(text, piece)
    return [
        SearchWord(
            text=text,
            at_word_start=len(text) < FTS_MIN_LENGTH
            or any(text in other and text != other for other in folded),
            digits=search_digits(piece),
        )
        for text, piece in folded.items()
    ]


def _matching(
    customers: QuerySet[Customer], words: list[SearchWord], many_matches: bool
) -> QuerySet[Customer]:
    """The customers whose ``search_text`` holds every word (or ``phone_digits`` its digits).

    On PostgreSQL the trigram GIN indexes of migration 0003 serve these LIKEs, and the
    planner picks the plan. On SQLite every pattern of three characters or more is looked
    up in the trigram full-text index of migration 0004, all in one query (a phrase query
    is a substring match there); a shorter one (a word of one letter at a word's start)
    is a LIKE on the rows the index found, or on all. With ``many_matches`` the id test
    is written ``+id``, which keeps SQLite from fetching every match by id to sort them
    all: it walks the sort order's index instead and stops when the page is full.
    """
    sqlite = connections[Customer.objects.db].vendor == "sqlite"
    indexed = [word for word in words if sqlite and len(word.pattern) >= FTS_MIN_LENGTH]
    for word in words:
        if word not in indexed:
            matches = Q(search_text__contains=word.pattern)
            if word.digits is not None:
                matches |= Q(phone_digits__contains=word.digits)
            customers = customers.filter(matches)
    if indexed:
        query = " AND ".join(_fts_condition(word) for word in indexed)
        statement = SQLITE_SEARCH.format(id="+" if many_matches else "")
        # A constant statement; the user's text travels as a parameter.
        customers = customers.filter(RawSQL(statement, [query], output_field=BooleanField()))  # noqa: S611
    return customers


def _fts_condition(word: SearchWord) -> str:
    condition = f"search_text : {_fts_phrase(word.pattern)}"
    if word.digits is not None:
        condition = f"({condition} OR phone_digits : {_fts_phrase(word.digits)})"
    return condition


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def with_list_columns(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """What one list row shows, in three queries per page whatever its length."""
    return customers.select_related("status", "type", "group").prefetch_related(
        Prefetch("phones", queryset=CustomerPhone.objects.order_by("position", "id"))
    )


_NUMBERED_CODE = re.compile(r"\A(.*?)(\d+)\Z")


def next_free_code() -> str:
    """The code the create form suggests: the latest customer's numbering, one up, as wide
    ("KH0020" → "KH0021"), skipping codes taken in any case. "" when the latest customer's
    code has no number (nothing sensible to suggest)."""
    latest = Customer.objects.order_by("-created_at", "-pk").values_list("code", flat=True).first()
    match = _NUMBERED_CODE.match(latest or "")
    if match is None:
        return ""
    prefix, digits = match.groups()
    highest = (
        Customer.objects.filter(code__iregex=rf"^{re.escape(prefix)}[0-9]+$")
        .order_by(Length("code").desc(), Upper("code").desc())
        .values_list("code", flat=True)
        .first()
    )
    number = int(highest[len(prefix) :]) if highest else int(digits)
    for step in range(1, 100):
        candidate = f"{prefix}{number + step:0{len(digits)}d}"
        if len(candidate) > Customer._meta.get_field("code").max_length:
            return ""
        if clashing(Customer.objects.all(), candidate) is None:
            return candidate
    return ""


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
    """Other customers holding one of ``phones`` (by their comparison keys) or ``email``."""
    wanted = {comparison_key(number): number for number in phones}
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


def current_code_of(code: str) -> str | None:
    """The code the customer once called ``code`` has now, when the rename history leads
    from it to exactly one customer of the register; otherwise None."""
    return code_after_renames(
        kind="customer", code=code, exists=lambda c: Customer.objects.filter(code=c).exists()
    )


def last_delete_of(code: str) -> AuditEntry | None:
    """The succeeded delete that removed the customer ``code`` last, if any."""
    return (
        AuditEntry.objects.filter(operation="customer.delete", outcome=Outcome.SUCCEEDED, code=code)
        .order_by("-started_at", "-id")
        .first()
    )
