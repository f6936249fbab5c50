"""The reference-code screens: one set of views for every kind in the kinds table."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crmadmin.codes import selectors, services
from crmadmin.codes.forms import CodeCreateForm, CodeDetailsForm, CodeRenameForm
from crmadmin.codes.kinds import ACTIONS, CodeKind, get_kind
from crmadmin.upstream import UpstreamError

PAGE_SIZE = 25


def kind_permission(action: str) -> Callable:
    """Resolve the URL's kind (404 if unknown) and require ``codes.<verb>_<model>`` (403)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, kind: str, **kwargs) -> HttpResponse:
            code_kind = get_kind(kind)
            if not request.user.has_perm(code_kind.permission(action)):
                raise PermissionDenied
            return view(request, code_kind, **kwargs)

        return wrapped

    return decorator


def _list_url(kind: CodeKind) -> str:
    return reverse("codes:list", kwargs={"kind": kind.slug})


def _can(request: HttpRequest, kind: CodeKind) -> dict[str, bool]:
    """Which write buttons this user sees: ``can.create``, ``can.update``..."""
    return {action: request.user.has_perm(kind.permission(action)) for action in ACTIONS}


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
def code_list(request: HttpRequest, kind: CodeKind) -> HttpResponse:
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
    htmx = request.htmx
    template = "codes/list.html"
    if htmx and not htmx.history_restore_request:
        template += "#results"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _form_page(
    request: HttpRequest, kind: CodeKind, template: str, form, record=None, status: int = 200
) -> HttpResponse:
    context = {"kind": kind, "form": form, "record": record, "list_url": _list_url(kind)}
    return render(request, template, context, status=status)


def _done(request: HttpRequest, kind: CodeKind, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect(_list_url(kind))


@require_http_methods(["GET", "POST"])
@kind_permission("create")
def code_create(request: HttpRequest, kind: CodeKind) -> HttpResponse:
    form = CodeCreateForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.code_create(kind=kind, actor=request.user, **form.cleaned_data)
        except (UpstreamError, services.CodeError) as error:
            form.add_error(None, error.user_message)
        else:
            return _done(
                request,
                kind,
                _("The %(kind)s %(code)s was created.") % {"kind": kind.label, "code": record.code},
            )
    return _form_page(request, kind, "codes/form.html", form)


@require_http_methods(["GET", "POST"])
@kind_permission("update")
def code_edit(request: HttpRequest, kind: CodeKind, code: str) -> HttpResponse:
    record = selectors.code_get(kind=kind, code=code)
    form = CodeDetailsForm(request.POST or None, kind=kind, record=record)
    if request.method == "POST" and form.is_valid():
        try:
            services.code_update(kind=kind, actor=request.user, record=record, **form.cleaned_data)
        except UpstreamError as error:
            form.add_error(None, error.user_message)
        else:
            return _done(
                request,
                kind,
                _("The %(kind)s %(code)s was saved.") % {"kind": kind.label, "code": record.code},
            )
    return _form_page(request, kind, "codes/form.html", form, record)


@require_http_methods(["GET", "POST"])
@kind_permission("rename")
def code_rename(request: HttpRequest, kind: CodeKind, code: str) -> HttpResponse:
    record = selectors.code_get(kind=kind, code=code)
    old_code = record.code
    form = CodeRenameForm(request.POST or None, kind=kind, record=record)
    if request.method == "POST" and form.is_valid():
        try:
            services.code_rename(
                kind=kind, actor=request.user, record=record, new_code=form.cleaned_data["new_code"]
            )
        except (UpstreamError, services.CodeError) as error:
            form.add_error(None, error.user_message)
        else:
            return _done(
                request,
                kind,
                _("The code %(old)s is now %(new)s.") % {"old": old_code, "new": record.code},
            )
    return _form_page(request, kind, "codes/rename.html", form, record)


@require_http_methods(["GET", "POST"])
@kind_permission("delete")
def code_delete(request: HttpRequest, kind: CodeKind, code: str) -> HttpResponse:
    record = selectors.code_get(kind=kind, code=code)
    usage = selectors.code_usage(kind=kind, record=record)
    error_text = ""
    status = 200
    if request.method == "POST":
        try:
            services.code_delete(kind=kind, actor=request.user, record=record)
        except services.CodeInUse as error:
            usage = error.usage
            status = 409
        except UpstreamError as error:
            error_text = error.user_message
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
        "list_url": _list_url(kind),
        "can": _can(request, kind),
    }
    return render(request, "codes/delete.html", context, status=status)
