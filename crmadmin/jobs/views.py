"""The jobs screens (/jobs/) and the bulk actions' confirmation page."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crmadmin.customers import services as customer_services
from crmadmin.customers.selectors import with_list_columns
from crmadmin.jobs import report, selectors, services
from crmadmin.jobs.forms import ACTION_LABELS, ACTIONS, MAX_SELECTED, BulkForm
from crmadmin.jobs.kinds import get_kind, kind_label
from crmadmin.jobs.models import Job, RowOutcome
from crmadmin.upstream.client import tenant
from crmadmin.upstream.operations import get_operation

PAGE_SIZE = 25
ROWS_PAGE_SIZE = 50
SAMPLE_SIZE = 5
# The customer list's filters, carried from the list to the confirmation and the job.
FILTER_PARAMS = ("q", "status", "type", "group", "field", "sort")


def _wants_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def _job_or_404(request: HttpRequest, job_id: int) -> Job:
    job = selectors.jobs_visible_to(request.user).filter(pk=job_id).first()
    if job is None:
        raise Http404(_("No job #%(id)s that you may see.") % {"id": job_id})
    return job


@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = selectors.jobs_visible_to(request.user)
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "jobs": [_job_view(request, job) for job in page.object_list],
        "sees_all": request.user.is_superuser
        or request.user.has_perm(selectors.SEE_ALL_PERMISSION),
    }
    context["polling"] = any(item["job"].is_active for item in context["jobs"])
    template = "jobs/list.html#jobs" if _wants_partial(request) else "jobs/list.html"
    response = render(request, template, context)
    response["Vary"] = "HX-Request"
    return response


def _job_view(request: HttpRequest, job: Job) -> dict:
    can_manage = services.can_manage(request.user, job) if _kind_known(job) else False
    return {
        "job": job,
        "kind_label": kind_label(job.kind),
        "eta": selectors.eta(job),
        "can_cancel": can_manage and job.is_active,
        "can_retry": can_manage and not job.is_active and job.failed > 0,
    }


def _kind_known(job: Job) -> bool:
    try:
        get_kind(job.kind)
    except LookupError:
        return False
    return True


@require_GET
def running_banner(request: HttpRequest) -> HttpResponse:
    """The customer list's banner: the user's running jobs, polled until they end."""
    jobs = list(selectors.running_jobs_of(request.user))
    return render(request, "jobs/banner.html", {"running_jobs": jobs})


@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(request, job_id)
    outcome = request.GET.get("outcome", "")
    if outcome not in RowOutcome.values:
        outcome = ""
    rows = Paginator(selectors.rows_of(job, outcome=outcome), ROWS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    row_url = get_kind(job.kind).row_url if _kind_known(job) else None
    context = {
        **_job_view(request, job),
        "rows": rows,
        "outcome": outcome,
        "outcome_choices": [(value, label) for value, label in RowOutcome.choices if value],
        # A deleted customer's page is gone; the other kinds' rows lead to their record.
        "row_url_name": row_url[0] if row_url and not job.kind.endswith(".delete") else "",
        "can_open_audit": request.user.has_perm("audit.view_auditentry"),
    }
    template = "jobs/detail.html#job" if _wants_partial(request) else "jobs/detail.html"
    response = render(request, template, context)
    response["Vary"] = "HX-Request"
    return response


@require_POST
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(request, job_id)
    try:
        services.job_cancel(actor=request.user, job=job)
    except services.JobNotAllowed as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            _("Job #%(id)s is cancelled: the calls in flight finish, no new ones are sent.")
            % {"id": job.pk},
        )
    return redirect("jobs:detail", job_id=job.pk)


@require_POST
def job_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(request, job_id)
    try:
        retry = services.job_retry_failed(actor=request.user, job=job)
    except services.JobNotAllowed as refusal:
        messages.error(request, str(refusal))
        return redirect("jobs:detail", job_id=job.pk)
    messages.success(
        request,
        _("Job #%(id)s retries the %(count)d failed rows of job #%(old)s.")
        % {"id": retry.pk, "count": retry.total, "old": job.pk},
    )
    return redirect("jobs:detail", job_id=retry.pk)


@require_GET
def job_report(request: HttpRequest, job_id: int) -> HttpResponse:
    return report.csv_response(_job_or_404(request, job_id))


@require_http_methods(["GET", "POST"])
def bulk_customers(request: HttpRequest) -> HttpResponse:
    """Confirm a bulk action: count, sample rows and each call's exact body; POST starts it."""
    data = request.POST if request.method == "POST" else request.GET
    form = BulkForm(data)
    if not form.chosen_action:
        raise Http404(_("Choose an action for the selected customers."))
    permission = get_kind(ACTIONS[form.chosen_action][0]).permission
    if not request.user.has_perm(permission):
        raise PermissionDenied
    valid = form.is_valid()
    # The selection is shown even while the new value is still to be chosen.
    selection_ok = "code" not in form.errors and not form.non_field_errors()
    customers = form.customers() if selection_ok else None
    count = customers.count() if customers is not None else 0
    if valid and request.method == "POST":
        if not count:
            form.add_error(None, _("No customer matches any more: nothing to do."))
        else:
            job = services.job_create(
                owner=request.user,
                kind=form.job_kind,
                parameters=_parameters(form),
                rows=(
                    (code, {"customer_id": pk})
                    for code, pk in customers.values_list("code", "pk").iterator(chunk_size=2000)
                ),
                description=_description(form, count),
            )
            messages.success(
                request,
                ngettext(
                    "Job #%(id)s started for %(count)d customer.",
                    "Job #%(id)s started for %(count)d customers.",
                    job.total,
                )
                % {"id": job.pk, "count": job.total},
            )
            return redirect("jobs:detail", job_id=job.pk)
    sample = []
    if customers is not None:
        sample = list(with_list_columns(customers)[:SAMPLE_SIZE])
    previews = []
    if valid:
        for customer in sample:
            previews.append({"customer": customer, "body": _body(form, customer)})
    context = {
        "form": form,
        "action": form.chosen_action,
        "action_label": ACTION_LABELS[form.chosen_action],
        "target_label": ACTIONS[form.chosen_action][2],
        "target_choices": form.target_choices(),
        "count": count,
        "sample": sample,
        "previews": previews,
        "valid": valid,
        "operation": "customer.delete" if form.chosen_action == "delete" else "customer.update",
        "scope": data.get("scope", ""),
        "selected_codes": data.getlist("code")[:MAX_SELECTED],
        "filter_params": [(name, data.get(name)) for name in FILTER_PARAMS if data.get(name)],
        "target": data.get("target", ""),
    }
    status = 200 if valid or request.method == "GET" else 422
    return render(request, "jobs/bulk.html", context, status=status)


def _parameters(form: BulkForm) -> dict:
    record = form.cleaned_data.get("target_record")
    if record is None:
        return {}
    return {"target_id": record.pk, "target_code": record.code}


def _description(form: BulkForm, count: int) -> str:
    record = form.cleaned_data.get("target_record")
    values = {
        "count": count,
        "code": record.code if record else "",
        "name": getattr(record, "name", ""),
    }
    texts = {
        "set_status": ngettext(
            "Set status %(code)s (%(name)s) on %(count)d customer",
            "Set status %(code)s (%(name)s) on %(count)d customers",
            count,
        ),
        "set_type": ngettext(
            "Set type %(code)s (%(name)s) on %(count)d customer",
            "Set type %(code)s (%(name)s) on %(count)d customers",
            count,
        ),
        "set_group": ngettext(
            "Set group %(code)s (%(name)s) on %(count)d customer",
            "Set group %(code)s (%(name)s) on %(count)d customers",
            count,
        ),
        "clear_field": ngettext(
            "Clear field %(code)s (%(name)s) on %(count)d customer",
            "Clear field %(code)s (%(name)s) on %(count)d customers",
            count,
        ),
        "delete": ngettext("Delete %(count)d customer", "Delete %(count)d customers", count),
    }
    return texts[form.cleaned_data["action"]] % values


def _body(form: BulkForm, customer) -> str:
    action = form.cleaned_data["action"]
    record = form.cleaned_data.get("target_record")
    if action == "delete":
        body = get_operation("customer.delete").build_body({"customer_no": customer.code}, tenant())
    else:
        keyword = {"set_status": "status", "set_type": "type", "set_group": "group"}.get(action)
        changes = {keyword: record} if keyword else {"cleared_field": record}
        body = customer_services.customer_change_body(customer, **changes)
    return json.dumps(body, ensure_ascii=False, indent=2)
