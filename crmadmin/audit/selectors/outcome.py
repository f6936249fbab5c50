"""The outcome the screens show ("shown outcome"): the stored one, except for a pending
entry, which is "in progress" while young and "outcome unknown" once older than
``settings.AUDIT_PENDING_UNKNOWN_AFTER`` (its process stopped before recording the
answer). Every screen, list, filter, export and count takes the rule from here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.utils import timezone

from crmadmin.audit.models import Outcome

SHOWN_UNKNOWN = "unknown"
SHOWN_IN_PROGRESS = Outcome.PENDING.value
SHOWN_OUTCOMES = (
    Outcome.SUCCEEDED.value,
    Outcome.REJECTED.value,
    Outcome.FAILED.value,
    SHOWN_UNKNOWN,
    SHOWN_IN_PROGRESS,
)


def unknown_cutoff(now: datetime | None = None) -> datetime:
    """Pending entries that started before this instant are shown as "outcome unknown"."""
    return (now or timezone.now()) - timedelta(seconds=settings.AUDIT_PENDING_UNKNOWN_AFTER)


def with_shown_outcome(entries: QuerySet, cutoff: datetime) -> QuerySet:
    """``entries`` annotated with ``shown_outcome``."""
    return entries.annotate(
        shown_outcome=Case(
            When(outcome=Outcome.PENDING, started_at__lt=cutoff, then=Value(SHOWN_UNKNOWN)),
            default=F("outcome"),
            output_field=CharField(),
        )
    )


def shown_as(shown_outcome: str, cutoff: datetime) -> Q:
    """The entries shown with ``shown_outcome`` (one of ``SHOWN_OUTCOMES``)."""
    if shown_outcome == SHOWN_UNKNOWN:
        return Q(outcome=Outcome.PENDING, started_at__lt=cutoff)
    if shown_outcome == SHOWN_IN_PROGRESS:
        return Q(outcome=Outcome.PENDING, started_at__gte=cutoff)
    return Q(outcome=shown_outcome)
