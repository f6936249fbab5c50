"""Customer screens: thin views over the forms, selectors and services."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from crmadmin.audit.selectors import unknown_cutoff
from crmadmin.customers import selectors, services
from crmadmin.customers.forms import CustomerForm, ListFilterForm, RenameForm
from crmadmin.customers.models import Customer
from crmadmin.upstream import UpstreamError

PAGE_SIZE = 25
SORTABLE_COLUMNS = (
    ("code", gettext_lazy("Code")),
    ("name", gettext_lazy("Name")),
    ("changed", gettext_lazy("Last change")),
)


def _wants_partial(request: HttpRequest) -> bool:
    # A history restore (back button) needs the whole page, not the fragment.
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def _customer_or_404(code: str) -> Customer:
    customer = selectors.customer_by_code(code)
    if customer is None:
        raise Http404(_("No customer has the code “%(code)s”.") % {"code": code})
    return customer


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def customer_list(request: HttpRequest) -> HttpResponse:
    filters = ListFilterForm(request.GET)
    criteria = filters.criteria()
    page = selectors.customer_page(number=request.GET.get("page"), per_page=PAGE_SIZE, **criteria)
    filtered = bool(
        criteria["query"] or criteria["status"] or criteria["type"] or criteria["group"]
    )
    register_empty = page.paginator.count == 0 and (not filtered or selectors.register_is_empty())
    sort = criteria["sort"]
    columns = [
        {
            "key": key,
            "label": label,
            "next_sort": f"-{key}" if sort == key else key,
            "aria_sort": "ascending" if sort == key else "descending" if sort == f"-{key}" else "",
        }
        for key, label in SORTABLE_COLUMNS
    ]
    context = {
        "filters": filters,
        "page_obj": page,
        "customers": page.object_list,
        "filtered": filtered,
        "register_empty": register_empty,
        "query": criteria["query"],
        "sort": sort,
        "columns": columns,
    }
    template = "customers/list.html#results" if _wants_partial(request) else "customers/list.html"
    return render(request, template, context)


def _render_form(request: HttpRequest, form: CustomerForm, *, duplicates=(), status=200):
    context = {"form": form, "customer": form.customer, "duplicates": duplicates}
    return render(request, "customers/form.html", context, status=status)


def _submit(request: HttpRequest, form: CustomerForm, save) -> HttpResponse | Customer:
    """Validate, warn about shared contacts, then save through ``save(**arguments)``.

    Returns the saved customer, or the form page to show again (errors, the duplicate
    warning, or the CRM's refusal) with everything the user typed.
    """
    if not form.is_valid():
        return _render_form(request, form, status=422)
    arguments = form.service_arguments()
    if not form.cleaned_data["confirm_duplicates"]:
        duplicates = selectors.customers_sharing_contacts(
            phones=arguments["phones"], email=arguments["email"], exclude=form.customer
        )
        if duplicates:
            return _render_form(request, form, duplicates=duplicates, status=409)
    try:
        customer = save(actor=request.user, **arguments)
    except UpstreamError as error:
        form.add_error(None, error.user_message)
        return _render_form(request, form, status=422)
    return customer


@require_http_methods(["GET", "POST"])
@permission_required("customers.add_customer", raise_exception=True)
def customer_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render_form(request, CustomerForm())
    outcome = _submit(request, CustomerForm(request.POST), services.customer_create)
    if isinstance(outcome, HttpResponse):
        return outcome
    messages.success(request, _("Customer %(code)s was created.") % {"code": outcome.code})
    return redirect("customers:detail", code=outcome.code)


@require_http_methods(["GET", "POST"])
@permission_required("customers.change_customer", raise_exception=True)
def customer_edit(request: HttpRequest, code: str) -> HttpResponse:
    customer = _customer_or_404(code)
    if request.method != "POST":
        return _render_form(request, CustomerForm(customer=customer))
    form = CustomerForm(request.POST, customer=customer)

    def save(**arguments):
        return services.customer_update(customer=customer, **arguments)

    outcome = _submit(request, form, save)
    if isinstance(outcome, HttpResponse):
        return outcome
    messages.success(request, _("Customer %(code)s was saved.") % {"code": outcome.code})
    return redirect("customers:detail", code=outcome.code)


@require_GET
def customer_phone_row(request: HttpRequest) -> HttpResponse:
    """One more empty phone input for the form's "Add phone" button."""
    if not (
        request.user.has_perm("customers.add_customer")
        or request.user.has_perm("customers.change_customer")
    ):
        raise PermissionDenied
    return render(request, "customers/form.html#phone_row", {"value": "", "focus": True})


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def customer_detail(request: HttpRequest, code: str) -> HttpResponse:
    customer = _customer_or_404(code)
    history = selectors.customer_history(customer.code)
    can_open_audit = request.user.has_perm("audit.view_auditentry")
    cutoff = unknown_cutoff()
    entries = []
    for entry in history:
        # A pending entry whose process stopped before recording the answer.
        unknown = entry.is_pending and entry.started_at < cutoff
        entries.append(
            {
                "entry": entry,
                "outcome": "unknown" if unknown else entry.outcome,
                "outcome_label": _("outcome unknown") if unknown else entry.get_outcome_display(),
                "url": reverse("audit:detail", kwargs={"entry_id": entry.pk})
                if can_open_audit
                else "",
            }
        )
    context = {
        "customer": customer,
        "phones": list(customer.phones.all()),
        "field_values": list(customer.field_values.all()),
        "history": entries,
        "history_limit": selectors.HISTORY_LIMIT,
    }
    return render(request, "customers/detail.html", context)


@require_http_methods(["GET", "POST"])
@permission_required("customers.rename_customer", raise_exception=True)
def customer_rename(request: HttpRequest, code: str) -> HttpResponse:
    customer = _customer_or_404(code)
    form = RenameForm(request.POST or None, customer=customer)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            old_code = customer.code
            try:
                services.customer_rename(
                    actor=request.user, customer=customer, new_code=form.cleaned_data["new_code"]
                )
            except UpstreamError as error:
                form.add_error(None, error.user_message)
            else:
                messages.success(
                    request,
                    _("Customer %(old)s is now %(new)s.") % {"old": old_code, "new": customer.code},
                )
                return redirect("customers:detail", code=customer.code)
    return render(
        request, "customers/rename.html", {"form": form, "customer": customer}, status=status
    )


@require_http_methods(["GET", "POST"])
@permission_required("customers.delete_customer", raise_exception=True)
def customer_delete(request: HttpRequest, code: str) -> HttpResponse:
    customer = _customer_or_404(code)
    error = ""
    status = 200
    if request.method == "POST":
        try:
            services.customer_delete(actor=request.user, customer=customer)
        except UpstreamError as failure:
            error = failure.user_message
            status = 422
        else:
            messages.success(request, _("Customer %(code)s was deleted.") % {"code": code})
            return redirect("customers:list")
    return render(
        request, "customers/delete.html", {"customer": customer, "error": error}, status=status
    )
