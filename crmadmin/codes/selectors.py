"""Readers of the reference-code register: the lists, their search and the usage counts."""

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from crmadmin.audit.selectors.listing import code_after_renames
from crmadmin.codes.models import CodeRecord
from crmadmin.core.codes import clashing
from crmadmin.core.text import fold
from crmadmin.kinds import RecordKind

# The sort keys the list offers, each with a stable tie-breaker.
SORTS: dict[str, tuple[str, ...]] = {
    "code": ("code",),
    "-code": ("-code",),
    "name": ("name", "code"),
    "-name": ("-name", "-code"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}
DEFAULT_SORT = "code"


def _usage_count(kind: RecordKind) -> Coalesce:
    """A correlated count of the rows that use each code (customers, or field values).

    A subquery rather than a JOIN + GROUP BY: it is evaluated for the page's rows only
    and reads the foreign key's index.
    """
    relation = kind.model._meta.get_field(kind.usage_relation)
    fk_name = relation.field.name
    users = (
        relation.related_model.objects.filter(**{fk_name: OuterRef("pk")})
        .order_by()
        .values(fk_name)
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(users, output_field=IntegerField()), Value(0))


def code_list(*, kind: RecordKind, query: str = "", sort: str = DEFAULT_SORT) -> QuerySet:
    """The kind's codes matching ``query`` (code or name, any case, any accents), sorted.

    Each record carries ``usage``: how many customers use it.
    """
    records = kind.model.objects.all()
    folded = fold(query)
    if folded:
        records = records.filter(search_text__contains=folded)
    return records.annotate(usage=_usage_count(kind)).order_by(
        *SORTS.get(sort, SORTS[DEFAULT_SORT])
    )


def code_get(*, kind: RecordKind, code: str) -> CodeRecord:
    """The record with exactly this code (404 when the register has none)."""
    return get_object_or_404(kind.model, code=code)


def code_usage(*, kind: RecordKind, record: CodeRecord) -> int:
    """How many customers use ``record`` (for fields: how many have a value for it)."""
    return getattr(record, kind.usage_relation).count()


def code_taken(
    *, kind: RecordKind, code: str, exclude: CodeRecord | None = None
) -> CodeRecord | None:
    """The record whose code clashes with ``code`` under the one case policy
    (:mod:`crmadmin.core.codes`: case never distinguishes two codes of a kind)."""
    return clashing(kind.model.objects.all(), code, exclude=exclude)


def current_code_of(*, kind: RecordKind, code: str) -> str | None:
    """The code a record of ``kind`` once called ``code`` has now, when the rename history
    is unambiguous (see ``audit.selectors.code_after_renames``); otherwise None."""
    return code_after_renames(
        kind=kind.name,
        code=code,
        exists=lambda candidate: kind.model.objects.filter(code=candidate).exists(),
    )
