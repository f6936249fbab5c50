"""The reference-code screens: one set of views for every kind in the kinds table."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crmadmin.audit.selectors.advice import FailureNotice, failure_notice
from crmadmin.audit.selectors.listing import HISTORY_LIMIT, record_history
from crmadmin.audit.selectors.story import stories
from crmadmin.codes import exports, selectors, services
from crmadmin.codes.forms import CodeCreateForm, CodeDeleteForm, CodeDetailsForm, CodeRenameForm
from crmadmin.core.locks import RecordBusy
from crmadmin.core.screens import render_screen
from crmadmin.core.versions import StaleRecord, changes_between
from crmadmin.kinds import ACTIONS, REFERENCE_KINDS, RecordKind
from crmadmin.upstream import RegisterNotUpdated, UpstreamError
from crmadmin.upstream.rejections import Meaning

# A write refused before anything was sent, or a change the register could not record.
WRITE_ERRORS = (UpstreamError, RegisterNotUpdated, RecordBusy, services.CodeError)
# A call that failed: the CRM refused it, or its outcome is not known.
CALL_ERRORS = (UpstreamError, RegisterNotUpdated)
# The code forms' field for each refusal the table of meanings knows.
REFUSAL_FIELDS = {
    Meaning.DUPLICATE_CODE: "code",
    Meaning.DUPLICATE_GROUP_NAME: "name",
}

PAGE_SIZE = 25


def get_kind(slug: str) -> RecordKind:
    """The reference-code kind for a URL slug; 404 for anything the registry does not know."""
    try:
        return REFERENCE_KINDS[slug]
    except KeyError:
        raise Http404(f"No reference-code kind {slug!r}") from None


def kind_permission(action: str) -> Callable:
    """Resolve the URL's kind (404 if unknown) and require ``codes.<verb>_<model>`` (403).

    A URL with an earlier code of a record redirects to the same page under its current
    code when the rename history leads to exactly one record.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, kind: str, **kwargs) -> HttpResponse:
            code_kind = get_kind(kind)
            if not request.user.has_perm(code_kind.permission(action)):
                raise PermissionDenied
            try:
                return view(request, code_kind, **kwargs)
            except Http404:
                current = (
                    selectors.current_code_of(kind=code_kind, code=kwargs["code"])
                    if "code" in kwargs
                    else None
                )
                if current is None:
                    raise
                if request.method == "POST":
                    # A form opened under the old code: refused as stale, input kept.
                    return view(request, code_kind, **{**kwargs, "code": current})
                url = reverse(request.resolver_match.view_name, kwargs={**kwargs, "kind": kind})
                return redirect(url.replace(_segment(kwargs["code"]), _segment(current), 1))

        return wrapped

    return decorator


def _segment(code: str) -> str:
    return "/" + quote(code) + "/"


def _stale(
    request: HttpRequest,
    kind: RecordKind,
    error: StaleRecord,
    form,
    form_class,
    template: str,
    **context,
) -> HttpResponse:
    """HTTP 409 before any call: what changed since the form was opened, and the user's
    input on a form that now carries the current version (submitting re-applies it)."""
    if error.deleted:
        messages.error(request, error.user_message)
        return render(
            request,
            "codes/gone.html",
            {"kind": kind, "code": error.code, "list_url": _list_url(kind)},
            status=409,
        )
    current = error.current
    labels = {"code": _("Code"), "name": _("Name")}
    labels.update({detail.attr: kind.detail_label(detail) for detail in kind.details})
    changes = [
        {**change, "label": labels.get(change["key"], change["key"])}
        for change in changes_between(form.opened_snapshot(), kind.snapshot(current))
    ]
    data = request.POST.copy()
    data["version"] = str(current.version)
    data["opened"] = form_class(kind=kind, record=current)["opened"].initial
    again = form_class(data, kind=kind, record=current)
    again.is_valid()
    context.update(
        {
            "kind": kind,
            "form": again,
            "record": current,
            "list_url": _list_url(kind),
            "stale": {
                "message": error.user_message,
                "changes": changes,
                "by": current.updated_by,
                "at": current.updated_at,
            },
        }
    )
    return render(request, template, context, status=409)


def _list_url(kind: RecordKind) -> str:
    return reverse("codes:list", kwargs={"kind": kind.slug})


def _failed(request: HttpRequest, kind: RecordKind, form, error, record=None) -> FailureNotice:
    """Put a failed call's notice on ``form`` (at its field when the refusal is known) and
    return it for the page: its links and whether "Try again" is offered."""
    history_url = ""
    if record is not None and request.user.has_perm(kind.permission("view")):
        history_url = reverse("codes:detail", kwargs={"kind": kind.slug, "code": record.code})
        history_url += "#history"
    fields = {}
    if form is not None:
        for meaning, name in REFUSAL_FIELDS.items():
            if meaning is Meaning.DUPLICATE_CODE and "new_code" in form.fields:
                name = "new_code"
            if name in form.fields:
                fields[meaning] = name
    notice = failure_notice(error=error, user=request.user, fields=fields, history_url=history_url)
    if form is not None:
        form.add_error(notice.field, notice.message)
    return notice


def _history(request: HttpRequest, kind: RecordKind, record) -> list[dict]:
    """The record's calls in plain words (its detail page shows them)."""
    can_open_audit = request.user.has_perm("audit.view_auditentry")
    return [
        {
            "entry": story.entry,
            "story": story,
            "url": reverse("audit:detail", kwargs={"entry_id": story.entry.pk})
            if can_open_audit
            else "",
        }
        for story in stories(record_history(kind=kind.name, code=record.code))
    ]


def _can(request: HttpRequest, kind: RecordKind) -> dict[str, bool]:
    """Which write buttons this user sees: ``can.create``, ``can.update``..."""
    return {action: request.user.has_perm(kind.permission(action)) for action in ACTIONS}


@require_GET
@kind_permission("view")
def code_export(request: HttpRequest, kind: RecordKind, file_format: str) -> HttpResponse:
    return exports.export_response(kind=kind, file_format=file_format)


# The sortable columns: each header toggles between ascending and descending.
SORT_COLUMNS = ("code", "name", "updated")


def _list_href(list_url: str, *, query: str, sort: str, page: int | None = None) -> str:
    params = {"q": query} if query else {}
    params["sort"] = sort
    if page and page > 1:
        params["page"] = page
    return f"{list_url}?{urlencode(params)}"


def _sort_headers(list_url: str, query: str, sort: str) -> dict[str, dict[str, str]]:
    headers = {}
    for column in SORT_COLUMNS:
        direction = "ascending" if sort == column else "descending" if sort == f"-{column}" else ""
        # Clicking the column sorted ascending flips it; any other column starts ascending.
        next_sort = f"-{column}" if direction == "ascending" else column
        headers[column] = {
            "href": _list_href(list_url, query=query, sort=next_sort),
            "aria_sort": direction,
        }
    return headers


@require_GET
@kind_permission("view")
def code_list(request: HttpRequest, kind: RecordKind) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    sort = request.GET.get("sort", selectors.DEFAULT_SORT)
    if sort not in selectors.SORTS:
        sort = selectors.DEFAULT_SORT
    records = selectors.code_list(kind=kind, query=query, sort=sort)
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    detail_labels = [kind.detail_label(detail) for detail in kind.details]
    rows = [
        {
            "record": record,
            "details": [
                (label, kind.display(record, detail))
                for label, detail in zip(detail_labels, kind.details, strict=True)
            ],
        }
        for record in page.object_list
    ]
    list_url = _list_url(kind)
    context = {
        "kind": kind,
        "detail_labels": detail_labels,
        "query": query,
        "sort": sort,
        "page": page,
        "rows": rows,
        "count_text": kind.count_label % {"count": page.paginator.count},
        "register_empty": not query and page.paginator.count == 0,
        "list_url": list_url,
        "sort_headers": _sort_headers(list_url, query, sort),
        "previous_href": _list_href(
            list_url, query=query, sort=sort, page=page.previous_page_number()
        )
        if page.has_previous()
        else "",
        "next_href": _list_href(list_url, query=query, sort=sort, page=page.next_page_number())
        if page.has_next()
        else "",
        "can": _can(request, kind),
    }
    return render_screen(request, "codes/list.html", context)


def _form_page(
    request: HttpRequest,
    kind: RecordKind,
    template: str,
    form,
    record=None,
    status: int = 200,
    failure: FailureNotice | None = None,
) -> HttpResponse:
    context = {
        "kind": kind,
        "form": form,
        "record": record,
        "list_url": _list_url(kind),
        "failure": failure,
    }
    return render(request, template, context, status=status)


@require_GET
@kind_permission("view")
def code_detail(request: HttpRequest, kind: RecordKind, code: str) -> HttpResponse:
    """One code: what the register holds, who uses it, and its history in words."""
    record = selectors.code_get(kind=kind, code=code)
    context = {
        "kind": kind,
        "record": record,
        "details": [
            (kind.detail_label(detail), kind.display(record, detail)) for detail in kind.details
        ],
        "usage_text": kind.usage_label % {"count": selectors.code_usage(kind=kind, record=record)},
        "list_url": _list_url(kind),
        "can": _can(request, kind),
        "history": _history(request, kind, record),
        "history_limit": HISTORY_LIMIT,
    }
    return render(request, "codes/detail.html", context)


def _done(request: HttpRequest, kind: RecordKind, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect(_list_url(kind))


@require_http_methods(["GET", "POST"])
@kind_permission("create")
def code_create(request: HttpRequest, kind: RecordKind) -> HttpResponse:
    form = CodeCreateForm(request.POST or None, kind=kind)
    failure = None
    if request.method == "POST" and form.is_valid():
        try:
            record = services.code_create(kind=kind, actor=request.user, **form.cleaned_data)
        except CALL_ERRORS as error:
            failure = _failed(request, kind, form, error)
        except WRITE_ERRORS as error:
            form.add_error(None, error.user_message)
        else:
            text = _("The %(kind)s %(code)s was created.") % {
                "kind": kind.label,
                "code": record.code,
            }
            if "save_and_add" in request.POST:
                messages.success(request, text)
                return redirect("codes:create", kind=kind.slug)
            return _done(request, kind, text)
    return _form_page(request, kind, "codes/form.html", form, failure=failure)


@require_http_methods(["GET", "POST"])
@kind_permission("update")
def code_edit(request: HttpRequest, kind: RecordKind, code: str) -> HttpResponse:
    record = selectors.code_get(kind=kind, code=code)
    form = CodeDetailsForm(request.POST or None, kind=kind, record=record)
    status = 200
    failure = None
    if request.method == "POST" and form.is_valid():
        try:
            services.code_update(
                kind=kind, actor=request.user, record=record, **form.service_arguments()
            )
        except StaleRecord as error:
            return _stale(request, kind, error, form, CodeDetailsForm, "codes/form.html")
        except CALL_ERRORS as error:
            failure = _failed(request, kind, form, error, record)
        except WRITE_ERRORS as error:
            form.add_error(None, error.user_message)
            status = 409 if isinstance(error, RecordBusy) else 200
        else:
            return _done(
                request,
                kind,
                _("The %(kind)s %(code)s was saved.") % {"kind": kind.label, "code": record.code},
            )
    return _form_page(
        request, kind, "codes/form.html", form, record, status=status, failure=failure
    )


@require_http_methods(["GET", "POST"])
@kind_permission("rename")
def code_rename(request: HttpRequest, kind: RecordKind, code: str) -> HttpResponse:
    record = selectors.code_get(kind=kind, code=code)
    old_code = record.code
    form = CodeRenameForm(request.POST or None, kind=kind, record=record)
    failure = None
    if request.method == "POST" and form.is_valid():
        try:
            services.code_rename(
                kind=kind,
                actor=request.user,
                record=record,
                new_code=form.cleaned_data["new_code"],
                version=form.cleaned_data.get("version"),
            )
        except StaleRecord as error:
            return _stale(request, kind, error, form, CodeRenameForm, "codes/rename.html")
        except CALL_ERRORS as error:
            failure = _failed(request, kind, form, error, record)
        except WRITE_ERRORS as error:
            form.add_error(None, error.user_message)
        else:
            return _done(
                request,
                kind,
                _("The code %(old)s is now %(new)s.") % {"old": old_code, "new": record.code},
            )
    return _form_page(request, kind, "codes/rename.html", form, record, failure=failure)


@require_http_methods(["GET", "POST"])
@kind_permission("delete")
def code_delete(request: HttpRequest, kind: RecordKind, code: str) -> HttpResponse:
    record = selectors.code_get(kind=kind, code=code)
    usage = selectors.code_usage(kind=kind, record=record)
    form = CodeDeleteForm(
        request.POST if request.method == "POST" else None, kind=kind, record=record
    )
    error_text = ""
    failure = None
    status = 200
    if request.method == "POST":
        try:
            services.code_delete(
                kind=kind, actor=request.user, record=record, version=form.submitted_version()
            )
        except services.CodeInUse as error:
            usage = error.usage
            status = 409
        except StaleRecord as error:
            return _stale(
                request,
                kind,
                error,
                form,
                CodeDeleteForm,
                "codes/delete.html",
                usage=usage,
                usage_text=kind.usage_label % {"count": usage},
                can=_can(request, kind),
            )
        except CALL_ERRORS as error:
            failure = _failed(request, kind, None, error, record)
            error_text = failure.message
        except RecordBusy as error:
            error_text = error.user_message
            status = 409
        else:
            return _done(
                request,
                kind,
                _("The %(kind)s %(code)s was deleted.") % {"kind": kind.label, "code": record.code},
            )
    context = {
        "kind": kind,
        "record": record,
        "usage": usage,
        "usage_text": kind.usage_label % {"count": usage},
        "error_text": error_text,
        "failure": failure,
        "form": form,
        "list_url": _list_url(kind),
        "can": _can(request, kind),
    }
    return render(request, "codes/delete.html", context, status=status)
