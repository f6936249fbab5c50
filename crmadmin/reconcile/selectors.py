"""The divergences the dashboard knows of, read from the audit log and the register.

- unknown: a call whose outcome is unknown (still pending after the call budget, or a
  failure after which the CRM may have acted: a read timeout, an HTTP 5xx, a malformed
  answer, an internal error mid-call);
- register: a call the CRM confirmed whose register change failed;
- orphan: the CRM answered "not found" for a record the register still has;
- upstream: a create refused as a duplicate whose code the register does not have.

An item stays open until a closing ``Resolution`` links to its entry.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crmadmin.audit.models import AuditEntry, FailureKind, Outcome
from crmadmin.reconcile.kinds import RecordKind, record_kinds
from crmadmin.reconcile.models import Action, Resolution
from crmadmin.upstream.operations import OPERATIONS
from crmadmin.upstream.rejections import Meaning, meanings

UNKNOWN = "unknown"
REGISTER = "register"
ORPHAN = "orphan"
UPSTREAM = "upstream"
CATEGORIES = {
    UNKNOWN: _("Outcome unknown"),
    REGISTER: _("Register not updated after the CRM's success"),
    ORPHAN: _("Not in the CRM (orphan)"),
    UPSTREAM: _("Only in the CRM"),
}
# Seconds after the call budget at which a pending call is certainly over.
PENDING_GRACE = 5
# The most items one screen (or one `reconcile --all`) looks at.
ITEM_LIMIT = 500


@dataclass
class Item:
    entry: AuditEntry
    category: str
    kind: RecordKind
    resolutions: list[Resolution] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(CATEGORIES[self.category])

    @property
    def action(self) -> str:
        return self.entry.operation.rsplit(".", 1)[-1]

    @property
    def code(self) -> str:
        return self.entry.code

    @property
    def pending_step(self) -> Resolution | None:
        """The latest resolution if it offers a next step (resend, or a choice)."""
        latest = self.resolutions[0] if self.resolutions else None
        return latest if latest is not None and latest.offer else None

    @property
    def unambiguous(self) -> bool:
        """Resolvable without asking anyone (what ``reconcile --all`` does)."""
        if self.pending_step is not None:
            return False
        return self.category in (UNKNOWN, REGISTER) and self.action in (
            "create",
            "update",
            "rename",
            "delete",
        )


def pending_cutoff():
    return timezone.now() - timedelta(seconds=settings.CRM_CALL_BUDGET + PENDING_GRACE)


def _codes_meaning(meaning: Meaning) -> list[str]:
    return [code for code, meant in meanings().items() if meant == meaning]


def _operations(*actions: str) -> list[str]:
    return [name for name, op in OPERATIONS.items() if op.action in actions]


def _candidates() -> QuerySet[AuditEntry]:
    closed = Resolution.objects.filter(entry=OuterRef("pk"), closes=True)
    interpreted_not_found = Resolution.objects.filter(
        probe=OuterRef("pk"), action=Action.INTERPRET, step=Meaning.NOT_FOUND.value
    )
    record_calls = AuditEntry.objects.exclude(record_kind="").exclude(Exists(closed))
    ambiguous_failure = Q(
        outcome=Outcome.FAILED,
        failure_kind__in=[
            FailureKind.TIMEOUT,
            FailureKind.HTTP_ERROR,
            FailureKind.MALFORMED,
            FailureKind.INTERNAL,
        ],
    )
    return record_calls.filter(
        Q(outcome=Outcome.PENDING, started_at__lt=pending_cutoff())
        | ambiguous_failure
        | (Q(outcome=Outcome.SUCCEEDED) & ~Q(error_detail=""))
        | Q(
            outcome=Outcome.REJECTED,
            upstream_error__in=_codes_meaning(Meaning.NOT_FOUND),
            operation__in=_operations("update", "rename", "delete"),
        )
        | Q(
            outcome=Outcome.REJECTED,
            upstream_error__in=_codes_meaning(Meaning.DUPLICATE_CODE),
            operation__in=_operations("create"),
        )
        # A probe's unmapped answer that a person said means "not found".
        | Q(
            Exists(interpreted_not_found),
            outcome=Outcome.REJECTED,
            operation__in=_operations("update", "rename"),
        )
    )


def category_of(entry: AuditEntry, kind: RecordKind) -> str | None:
    """The entry's kind of divergence, or None when it is not (or no longer) one."""
    if entry.outcome in (Outcome.PENDING, Outcome.SUCCEEDED, Outcome.FAILED) and _superseded(entry):
        return None  # a later confirmed call set both the CRM and the register
    if entry.outcome == Outcome.PENDING:
        return UNKNOWN
    if entry.outcome == Outcome.SUCCEEDED:
        return REGISTER if entry.error_detail else None
    if entry.outcome == Outcome.FAILED:
        if entry.failure_kind == FailureKind.TIMEOUT:
            # A connect timeout (or a budget spent before sending) never reached the CRM.
            never_sent = entry.error_detail.startswith(("ConnectTimeout", "BudgetExhausted"))
            return None if never_sent else UNKNOWN
        if entry.failure_kind == FailureKind.HTTP_ERROR:
            return UNKNOWN if (entry.http_status or 500) >= 500 else None
        return UNKNOWN
    if entry.outcome == Outcome.REJECTED:
        if entry.operation.endswith(".create"):
            return None if kind.exists(entry.code) else UPSTREAM
        # The CRM does not know it: an orphan while the register still has it, unless
        # a later call showed the CRM knows it again (re-created, updated, renamed to it).
        if not kind.exists(entry.code) or _known_again(entry):
            return None
        return ORPHAN
    return None


def _superseded(entry: AuditEntry) -> bool:
    codes = [code for code in (entry.code, entry.new_code) if code]
    return (
        AuditEntry.objects.filter(
            record_kind=entry.record_kind,
            outcome=Outcome.SUCCEEDED,
            error_detail="",
            started_at__gte=entry.started_at,
            pk__gt=entry.pk,
        )
        .filter(Q(code__in=codes) | Q(new_code__in=codes))
        .exists()
    )


def _known_again(entry: AuditEntry) -> bool:
    later = AuditEntry.objects.filter(
        record_kind=entry.record_kind,
        outcome=Outcome.SUCCEEDED,
        started_at__gte=entry.started_at,
        pk__gt=entry.pk,
    )
    return later.filter(
        Q(code=entry.code, operation__in=_operations("create", "update")) | Q(new_code=entry.code)
    ).exists()


def open_items(*, limit: int = ITEM_LIMIT) -> list[Item]:
    """Every open item, newest first (at most ``limit``)."""
    kinds = record_kinds()
    entries = list(_candidates().order_by("-started_at", "-id")[:limit])
    resolutions: dict[int, list[Resolution]] = {}
    for resolution in Resolution.objects.filter(entry__in=entries).select_related("probe"):
        resolutions.setdefault(resolution.entry_id, []).append(resolution)
    items = []
    for entry in entries:
        kind = kinds.get(entry.record_kind)
        if kind is None:
            continue
        category = category_of(entry, kind)
        if category is not None:
            items.append(Item(entry, category, kind, resolutions.get(entry.pk, [])))
    return items


COUNT_CACHE_KEY = "crmadmin.reconcile.open_count"
# The navigation's count is cached this long (seconds); a resolution clears it at once.
COUNT_CACHE_SECONDS = 15


def open_count() -> int:
    """How many items are open (at most ``ITEM_LIMIT``), as the navigation shows it."""
    count = cache.get(COUNT_CACHE_KEY)
    if count is None:
        count = len(open_items())
        cache.set(COUNT_CACHE_KEY, count, COUNT_CACHE_SECONDS)
    return count


def forget_count() -> None:
    cache.delete(COUNT_CACHE_KEY)


def item_for(entry: AuditEntry) -> Item | None:
    """The open item of ``entry``, or None when it is not (or no longer) a divergence."""
    kind = record_kinds().get(entry.record_kind)
    if kind is None or not _candidates().filter(pk=entry.pk).exists():
        return None
    category = category_of(entry, kind)
    if category is None:
        return None
    return Item(entry, category, kind, list(entry.resolutions.select_related("probe")))


def items_about(kind: str, code: str) -> list[Item]:
    """Open items about one record (its page shows a warning while there is one)."""
    record_kind = record_kinds().get(kind)
    if record_kind is None:
        return []
    entries = (
        _candidates()
        .filter(record_kind=kind)
        .filter(Q(code=code) | Q(new_code=code))
        .order_by("-started_at", "-id")[:ITEM_LIMIT]
    )
    items = []
    for entry in entries:
        category = category_of(entry, record_kind)
        if category is not None:
            items.append(Item(entry, category, record_kind))
    return items


def resolutions_of(entry: AuditEntry) -> list[Resolution]:
    return list(entry.resolutions.select_related("probe", "actor"))
