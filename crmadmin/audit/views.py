"""The managers' audit screens: the list (with its filters and keyset pages), one entry,
the CSV export and the activity dashboard. Manager and superuser only."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from crmadmin.audit import chain, events, export
from crmadmin.audit.charts import render_svg, stacked_bar_chart
from crmadmin.audit.forms import (
    OUTCOME_LABELS,
    AuditFilterForm,
    kind_label,
    operation_label,
    outcome_label,
)
from crmadmin.audit.models import LOCAL, AuditEntry
from crmadmin.audit.selectors.activity import DASHBOARD_DAYS, WORK_KINDS, activity
from crmadmin.audit.selectors.comparison import changes_sent
from crmadmin.audit.selectors.listing import Cursor, actors_with_entries, audit_entry, audit_page
from crmadmin.audit.selectors.outcome import SHOWN_OUTCOMES
from crmadmin.audit.templatetags.audit_tags import duration
from crmadmin.core.screens import render_screen
from crmadmin.kinds import KINDS

VIEW = "audit.view_auditentry"
# The periods the activity dashboard offers, in days (today included).
DASHBOARD_PERIODS = (7, 30, 90)
EXPORT = "audit.export_auditentry"


def _list_url(query: dict[str, str]) -> str:
    url = reverse("audit:list")
    return f"{url}?{urlencode(query)}" if query else url


def _actors(request: HttpRequest):
    """The actor choices: people with CRM calls, or with local events when those are asked."""
    local = request.GET.get("record_kind") == LOCAL or request.GET.get("operation") in events.LABELS
    return actors_with_entries(local_events=local)


@dataclass(frozen=True)
class ListRow:
    """One line of the list, formatted here: 50 rows of template tags and filters cost
    several times what the query does."""

    pk: int
    detail_url: str
    started_iso: str
    started_text: str
    actor_id: int | None
    actor_name: str
    actor_url: str
    operation: str
    kind: str
    code: str
    new_code: str
    outcome: str
    outcome_text: str
    duration: str

    @classmethod
    def of(cls, entry: AuditEntry) -> "ListRow":
        started = timezone.localtime(entry.started_at)
        return cls(
            pk=entry.pk,
            detail_url=reverse("audit:detail", args=[entry.pk]),
            started_iso=started.isoformat(),
            started_text=date_format(started, "DATETIME_FORMAT"),
            actor_id=entry.actor_id,
            actor_name=entry.actor_username or str(entry.actor_id or ""),
            actor_url=_list_url({"actor": str(entry.actor_id)}) if entry.actor_id else "",
            operation=operation_label(entry.operation),
            kind=kind_label(entry.record_kind) if entry.record_kind else "",
            code=entry.code,
            new_code=entry.new_code,
            outcome=entry.shown_outcome,
            outcome_text=outcome_label(entry.shown_outcome),
            duration=duration(entry.duration_ms),
        )


@require_GET
@permission_required(VIEW, raise_exception=True)
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET, actors=_actors(request))
    form.is_valid()
    filters = form.filters()
    before = Cursor.parse(request.GET.get("before"))
    after = None if before else Cursor.parse(request.GET.get("after"))
    page = audit_page(filters=filters, before=before, after=after)
    query = filters.as_query()
    context = {
        "form": form,
        "page": page,
        "rows": [ListRow.of(entry) for entry in page.entries],
        "filtered": bool(query),
        "newest_url": _list_url(query),
        "older_url": _list_url({**query, "before": str(page.older)}) if page.older else "",
        "newer_url": _list_url({**query, "after": str(page.newer)}) if page.newer else "",
        "export_url": f"{reverse('audit:export')}?{urlencode(query)}",
        "can_export": request.user.has_perm(EXPORT),
    }
    return render_screen(request, "audit/list.html", context)


def _record_page_url(entry: AuditEntry, user) -> str:
    """The register's page of the entry's record, if it is there now under the entry's
    code (the new one for a change of code) and the user may open it; else ""."""
    code = entry.new_code or entry.code
    if not code:
        return ""
    kind = KINDS.get(entry.record_kind)
    if kind is None or not user.has_perm(kind.permission("view")):
        return ""
    if not kind.model.objects.filter(code=code).exists():
        return ""
    if not kind.reference:
        return reverse(f"{kind.slug}:detail", kwargs={"code": code})
    url = reverse("codes:list", kwargs={"kind": kind.slug})
    return f"{url}?{urlencode({'q': code})}"


@require_GET
@permission_required(VIEW, raise_exception=True)
def audit_detail(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = audit_entry(entry_id=entry_id)
    if entry is None:
        raise Http404(_("No such audit entry."))
    context = {
        "entry": entry,
        "changes": changes_sent(entry),
        "unknown_after_minutes": max(settings.AUDIT_PENDING_UNKNOWN_AFTER // 60, 1),
        "code_history_url": _list_url({"code": entry.code}) if entry.code else "",
        "new_code_history_url": _list_url({"code": entry.new_code}) if entry.new_code else "",
        "actor_url": _list_url({"actor": str(entry.actor_id)}) if entry.actor_id else "",
        "record_url": _record_page_url(entry, request.user),
    }
    return render(request, "audit/detail.html", context)


@require_GET
@permission_required((VIEW, EXPORT), raise_exception=True)
def audit_export(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET, actors=_actors(request))
    if not form.is_valid():
        # Exporting without the filter the person asked for would hand out more than meant.
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponseBadRequest(
            _("The export's filter is not valid (%(problems)s).") % {"problems": problems},
            content_type="text/plain; charset=utf-8",
        )
    filters = form.filters()
    events.record(
        events.AUDIT_EXPORTED, actor=request.user, details={"filters": filters.as_query()}
    )
    return export.csv_response(filters=filters)


@require_GET
@permission_required(VIEW, raise_exception=True)
def audit_dashboard(request: HttpRequest) -> HttpResponse:
    days = request.GET.get("days", "")
    days = int(days) if days in {str(choice) for choice in DASHBOARD_PERIODS} else DASHBOARD_DAYS
    summary = activity(days=days)
    chart = stacked_bar_chart(
        [(day, day_summary.outcomes) for day, day_summary in summary.days],
        series=SHOWN_OUTCOMES,
    )
    day_rows = [
        {
            "day": day,
            "counts": [day_summary.outcomes[name] for name in SHOWN_OUTCOMES],
            "token_calls": day_summary.token_calls,
            "total": day_summary.total,
        }
        for day, day_summary in summary.days
    ]
    return render(
        request,
        "audit/dashboard.html",
        {
            "activity": summary,
            "chart_svg": render_svg(
                chart,
                title=_("Calls per day over the last %(days)s days, stacked by outcome")
                % {"days": len(summary.days)},
                labels={name: str(label) for name, label in OUTCOME_LABELS.items()},
            ),
            "series": SHOWN_OUTCOMES,
            "day_rows": day_rows,
            "days": days,
            "periods": [
                {"days": choice, "url": f"{reverse('audit:dashboard')}?days={choice}"}
                for choice in DASHBOARD_PERIODS
            ],
            "work_days": [
                {
                    "day": day,
                    "counts": [day_summary.work_count(kind) for kind in WORK_KINDS],
                }
                for day, day_summary in reversed(summary.days)
                if day_summary.work
            ],
            "last_check": chain.latest_verification(),
            "last_good": chain.latest_verification(ok=True),
        },
    )
