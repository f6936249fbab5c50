"""The managers' audit screens: the list (with its filters and keyset pages), one entry,
the CSV export and the activity dashboard. Manager and superuser only."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from crmadmin.audit import export
from crmadmin.audit.charts import stacked_bar_chart
from crmadmin.audit.forms import AuditFilterForm
from crmadmin.audit.selectors import (
    SHOWN_OUTCOMES,
    Cursor,
    activity,
    actors_with_entries,
    audit_entry,
    audit_page,
    changes_sent,
)

VIEW = "audit.view_auditentry"
EXPORT = "audit.export_auditentry"


def _list_url(query: dict[str, str]) -> str:
    url = reverse("audit:list")
    return f"{url}?{urlencode(query)}" if query else url


def _wants_partial(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


@require_GET
@permission_required(VIEW, raise_exception=True)
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET, actors=actors_with_entries())
    form.is_valid()
    filters = form.filters()
    before = Cursor.parse(request.GET.get("before"))
    after = None if before else Cursor.parse(request.GET.get("after"))
    page = audit_page(filters=filters, before=before, after=after)
    query = filters.as_query()
    context = {
        "form": form,
        "page": page,
        "filtered": bool(query),
        "newest_url": _list_url(query),
        "older_url": _list_url({**query, "before": str(page.older)}) if page.older else "",
        "newer_url": _list_url({**query, "after": str(page.newer)}) if page.newer else "",
        "export_url": f"{reverse('audit:export')}?{urlencode(query)}",
        "can_export": request.user.has_perm(EXPORT),
    }
    template = "audit/list.html#results" if _wants_partial(request) else "audit/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


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
    }
    return render(request, "audit/detail.html", context)


@require_GET
@permission_required((VIEW, EXPORT), raise_exception=True)
def audit_export(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET, actors=actors_with_entries())
    if not form.is_valid():
        # Exporting without the filter the person asked for would hand out more than meant.
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponseBadRequest(
            _("The export's filter is not valid (%(problems)s).") % {"problems": problems},
            content_type="text/plain; charset=utf-8",
        )
    return export.csv_response(filters=form.filters())


@require_GET
@permission_required(VIEW, raise_exception=True)
def audit_dashboard(request: HttpRequest) -> HttpResponse:
    summary = activity()
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
        {"activity": summary, "chart": chart, "series": SHOWN_OUTCOMES, "day_rows": day_rows},
    )
