"""The import screens: upload, columns, preview, run and its report."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from crmadmin.core.spreadsheets import streaming_response
from crmadmin.imports import mapping as columns
from crmadmin.imports import services
from crmadmin.imports.forms import MappingForm, RunForm, UploadForm
from crmadmin.imports.models import Import, Outcome, RowClass, State
from crmadmin.imports.reading import FileRefused

PAGE_SIZE = 50
RUNNING_STATES = (State.PREVIEWING, State.APPLYING)


def _import_or_404(request: HttpRequest, import_id: int) -> Import:
    job = Import.objects.select_related("crm_job").filter(pk=import_id).first()
    if job is None:
        raise Http404(_("No such import."))
    if not columns.may_import(request.user, job.target):
        raise PermissionDenied
    return job


def _detail_url(job: Import) -> str:
    return reverse("imports:detail", kwargs={"import_id": job.pk})


@require_http_methods(["GET", "POST"])
def import_start(request: HttpRequest) -> HttpResponse:
    targets = columns.targets_for(request.user)
    if not targets:
        raise PermissionDenied
    initial = {"target": request.GET.get("target")} if request.GET.get("target") else {}
    form = UploadForm(request.POST or None, request.FILES or None, targets=targets, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_upload(
                actor=request.user,
                target=form.cleaned_data["target"],
                uploaded=form.cleaned_data["file"],
            )
        except FileRefused as refused:
            form.add_error("file", str(refused))
        else:
            return redirect(_detail_url(job))
    recent = Import.objects.filter(target__in=[target for target, _label in targets])[:20]
    status = 400 if request.method == "POST" else 200
    return render(request, "imports/start.html", {"form": form, "recent": recent}, status=status)


def _context(request: HttpRequest, job: Import, **extra) -> dict:
    context = {"job": job, "target_label": dict(columns.targets_for(request.user))[job.target]}
    if job.state == State.MAPPING:
        context["mapping_form"] = extra.pop("mapping_form", None) or MappingForm(
            target=job.target, headers=job.headers, mapping=job.mapping
        )
    if job.state in (State.PREVIEWED, State.APPLYING, State.DONE, State.CANCELLED) or (
        job.state == State.FAILED and job.rows.exists()
    ):
        shown = request.GET.get("class", "")
        outcome = request.GET.get("outcome", "")
        rows = job.rows.all()
        if shown in RowClass.values:
            rows = rows.filter(row_class=shown)
        if outcome in Outcome.values:
            rows = rows.filter(outcome=outcome)
        page = Paginator(rows.order_by("number"), PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(
            page_obj=page,
            shown=shown,
            shown_outcome=outcome,
            classes=[(value, label, job.counts.get(value, 0)) for value, label in RowClass.choices],
            outcomes=_outcome_counts(job),
            run_form=extra.pop("run_form", None) or RunForm(initial={"mode": "adopt"}),
        )
    context.update(extra)
    return context


def _outcome_counts(job: Import) -> dict[str, int]:
    counts = dict.fromkeys(Outcome.values, 0)
    for outcome in job.rows.values_list("outcome", flat=True).order_by().distinct():
        counts[outcome] = job.rows.filter(outcome=outcome).count()
    return counts


@require_GET
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    job = _import_or_404(request, import_id)
    if request.htmx and not request.htmx.history_restore_request:
        if job.state not in RUNNING_STATES:
            return HttpResponseClientRefresh()
        return render(request, "imports/detail.html#progress", {"job": job})
    return render(request, "imports/detail.html", _context(request, job))


@require_POST
def import_columns(request: HttpRequest, import_id: int) -> HttpResponse:
    job = _import_or_404(request, import_id)
    form = MappingForm(request.POST, target=job.target, headers=job.headers, mapping=job.mapping)
    if form.is_valid():
        try:
            services.import_set_mapping(job=job, mapping=form.mapping())
        except services.ImportNotAllowed as refused:
            form.add_error(None, str(refused))
        else:
            return redirect(_detail_url(job))
    job.state = State.MAPPING
    context = _context(request, job, mapping_form=form)
    return render(request, "imports/detail.html", context, status=400)


@require_POST
def import_run(request: HttpRequest, import_id: int) -> HttpResponse:
    job = _import_or_404(request, import_id)
    form = RunForm(request.POST)
    if form.is_valid():
        try:
            services.import_start(
                actor=request.user,
                job=job,
                mode=form.cleaned_data["mode"],
                verify=form.cleaned_data["verify"],
            )
        except services.ImportNotAllowed as refused:
            messages.error(request, str(refused))
        return redirect(_detail_url(job))
    return render(request, "imports/detail.html", _context(request, job, run_form=form), status=400)


@require_POST
def import_cancel(request: HttpRequest, import_id: int) -> HttpResponse:
    job = _import_or_404(request, import_id)
    try:
        services.import_cancel(actor=request.user, job=job)
    except services.ImportNotAllowed as refused:
        messages.error(request, str(refused))
    else:
        messages.info(request, _("The import stops after the rows in progress."))
    return redirect(_detail_url(job))


@require_POST
def import_resume(request: HttpRequest, import_id: int) -> HttpResponse:
    job = _import_or_404(request, import_id)
    try:
        services.import_resume(actor=request.user, job=job)
    except services.ImportNotAllowed as refused:
        messages.error(request, str(refused))
    return redirect(_detail_url(job))


@require_GET
def import_errors(request: HttpRequest, import_id: int) -> HttpResponse:
    """The error rows as the file had them, plus their row number and what is wrong,
    to correct and upload again."""
    job = _import_or_404(request, import_id)
    header = [*job.headers, _("row"), _("errors")]
    width = len(job.headers)

    def rows():
        for row in job.rows.filter(row_class=RowClass.ERROR).order_by("number").iterator():
            cells = (list(row.cells) + [""] * width)[:width]
            problems = "; ".join(f"{column}: {message}" for column, message in row.errors)
            yield [*cells, str(row.number), problems]

    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
    return streaming_response(
        file_format="csv", filename=f"import-{job.pk}-errors-{stamp}", header=header, rows=rows()
    )
