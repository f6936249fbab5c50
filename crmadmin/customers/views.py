"""Customer screens: thin views over the forms, selectors and services."""

import re
from collections.abc import Callable
from datetime import date
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from crmadmin.audit.selectors.advice import failure_notice
from crmadmin.audit.selectors.listing import HISTORY_LIMIT, record_history
from crmadmin.audit.selectors.story import stories
from crmadmin.core.locks import RecordBusy
from crmadmin.core.screens import render_screen
from crmadmin.core.versions import StaleRecord, changes_between
from crmadmin.customers import exports, selectors, services
from crmadmin.customers.forms import (
    CUSTOM_FIELD_PREFIX,
    CustomerForm,
    DeleteForm,
    ListFilterForm,
    RenameForm,
    VersionedForm,
)
from crmadmin.customers.models import Customer
from crmadmin.customers.phones import MAX_PHONES
from crmadmin.kinds import FieldType
from crmadmin.upstream import RegisterNotUpdated, UpstreamError, UpstreamRejected
from crmadmin.upstream.rejections import Meaning

PAGE_SIZE = 25
SORTABLE_COLUMNS = (
    ("code", gettext_lazy("Code")),
    ("name", gettext_lazy("Name")),
    ("changed", gettext_lazy("Last change")),
)


def shown_field_value(value) -> str:
    """A custom-field value as the detail shows it: a date in the language's one format."""
    if value.field.field_type == FieldType.DATE:
        try:
            return date_format(date.fromisoformat(value.value), "DATE_FORMAT")
        except ValueError:
            pass  # not a date (set before the field's type changed): shown as it is
    return value.value


# The labels of a customer snapshot's wire keys, for "what changed since you opened it".
SNAPSHOT_LABELS = {
    "customer_no": gettext_lazy("Code"),
    "customer_name": gettext_lazy("Name"),
    "customer_phones": gettext_lazy("Phones"),
    "customer_address": gettext_lazy("Address"),
    "customer_email": gettext_lazy("E-mail"),
    "customer_status_code": gettext_lazy("Status"),
    "customer_type_code": gettext_lazy("Type"),
    "customer_group_name": gettext_lazy("Group"),
    "fileds": gettext_lazy("Custom fields"),
}


class MovedTo(Exception):
    """The code asked for is an earlier code of a customer the register still has."""

    def __init__(self, code: str) -> None:
        self.code = code


def _customer_or_404(code: str) -> Customer:
    customer = selectors.customer_by_code(code)
    if customer is None:
        current = selectors.current_code_of(code)
        if current is not None:
            raise MovedTo(current)
        raise Http404(_("No customer has the code “%(code)s”.") % {"code": code})
    return customer


def follows_renames(view):
    """A URL with an earlier code of a customer redirects to the same page under its
    current code, when the rename history leads to exactly one customer."""

    @wraps(view)
    def wrapped(request: HttpRequest, code: str, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, code, *args, **kwargs)
        except MovedTo as moved:
            if request.method == "POST":
                # A form opened under the old code: the record's version tells whether it
                # is stale (it is: its code changed), and the user's input is kept.
                return view(request, moved.code, *args, **kwargs)
            url = reverse(request.resolver_match.view_name, kwargs={"code": moved.code})
            if request.GET:
                url += "?" + request.GET.urlencode()
            return redirect(url)

    return wrapped


def _changes(form: VersionedForm, current: Customer) -> list[dict]:
    found = changes_between(form.opened_snapshot(), services.snapshot_of(current))
    return [
        {**change, "label": SNAPSHOT_LABELS.get(change["key"], change["key"])} for change in found
    ]


def _refused_as_stale(
    request: HttpRequest, error: StaleRecord, form: VersionedForm, form_class, template, **context
) -> HttpResponse:
    """HTTP 409 before any call: what changed since the form was opened, and the user's
    input on a form now carrying the current version (submitting it again re-applies it)."""
    if error.deleted:
        return render(
            request,
            "customers/gone.html",
            {"code": error.code, "message": error.user_message},
            status=409,
        )
    current = selectors.customer_by_code(error.current.code) or error.current
    changes = _changes(form, current)
    data = request.POST.copy()
    fresh = form_class(customer=current)
    data["version"] = str(current.version)
    data["opened"] = fresh["opened"].initial
    again = form_class(data, customer=current)
    again.is_valid()
    context.update(
        {
            "form": again,
            "customer": current,
            "stale": {
                "message": error.user_message,
                "changes": changes,
                "by": current.updated_by,
                "at": current.updated_at,
            },
        }
    )
    return render(request, template, context, status=409)


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def customer_list(request: HttpRequest) -> HttpResponse:
    filters = ListFilterForm(request.GET)
    criteria = filters.criteria()
    page = selectors.customer_page(number=request.GET.get("page"), per_page=PAGE_SIZE, **criteria)
    filtered = bool(
        criteria["query"]
        or criteria["status"]
        or criteria["type"]
        or criteria["group"]
        or criteria["field"]
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
    can_bulk = request.user.has_perm("customers.change_customer") or request.user.has_perm(
        "customers.delete_customer"
    )
    context = {
        "filters": filters,
        "field_filter": criteria["field"],
        "can_bulk": can_bulk and page.paginator.count > 0,
        "bulk_actions": _bulk_actions(request.user),
        "bulk_filters": [
            (name, value)
            for name in ("q", "status", "type", "group", "field", "sort")
            if (value := request.GET.get(name))
        ],
        "page_obj": page,
        "customers": page.object_list,
        "filtered": filtered,
        "criteria": criteria,
        "filter_count": sum(
            1 for name in ("query", "status", "type", "group", "field") if criteria[name]
        ),
        "register_empty": register_empty,
        "query": criteria["query"],
        "sort": sort,
        "columns": columns,
    }
    return render_screen(request, "customers/list.html", context)


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def customer_export(request: HttpRequest, file_format: str) -> HttpResponse:
    """The list's current filter and order as a CSV or XLSX download."""
    criteria = ListFilterForm(request.GET).criteria()
    customers = selectors.customer_list(**criteria)
    return exports.export_response(customers=customers, file_format=file_format)


# The bulk actions of the list (run as background jobs, crmadmin/jobs/): the action
# names the jobs' confirmation page takes, and who may choose each.
BULK_ACTIONS = (
    ("set_status", gettext_lazy("Set status…"), "customers.change_customer"),
    ("set_type", gettext_lazy("Set type…"), "customers.change_customer"),
    ("set_group", gettext_lazy("Set group…"), "customers.change_customer"),
    ("delete", gettext_lazy("Delete…"), "customers.delete_customer"),
)


def _bulk_actions(user) -> list[tuple[str, str]]:
    return [
        (value, label) for value, label, permission in BULK_ACTIONS if user.has_perm(permission)
    ]


# The customer form's field for each refusal the table of meanings knows.
REFUSAL_FIELDS = {
    Meaning.DUPLICATE_CODE: "code",
    Meaning.UNKNOWN_STATUS: "status",
    Meaning.UNKNOWN_TYPE: "type",
    Meaning.UNKNOWN_GROUP: "group",
}


def _refusal_field(form) -> Callable[[Meaning, UpstreamRejected], str | None]:
    """Where a known refusal goes on ``form``: its field, or the custom field whose code the
    CRM's words name (when exactly one does); None when the form has no such field."""

    def field_of(meaning: Meaning, error: UpstreamRejected) -> str | None:
        if meaning is Meaning.UNKNOWN_FIELD:
            words = error.upstream_message or ""
            named = [
                field
                for field in getattr(form, "custom_fields", ())
                if re.search(rf"(?<![\w-]){re.escape(field.code)}(?![\w-])", words)
            ]
            return f"{CUSTOM_FIELD_PREFIX}{named[0].pk}" if len(named) == 1 else None
        name = (
            "new_code" if meaning is Meaning.DUPLICATE_CODE and "new_code" in form.fields else None
        )
        name = name or REFUSAL_FIELDS.get(meaning)
        return name if name in form.fields else None

    return field_of


def _failed(request: HttpRequest, form, error: Exception, customer: Customer | None):
    """Put a failed call's notice on ``form`` (at its field when the refusal is known) and
    return it for the page: its links and whether "Try again" is offered."""
    history_url = ""
    if customer is not None and request.user.has_perm("customers.view_customer"):
        history_url = reverse("customers:detail", kwargs={"code": customer.code}) + "#history"
    notice = failure_notice(
        error=error,
        user=request.user,
        fields=_refusal_field(form) if form is not None else {},
        history_url=history_url,
    )
    if form is not None:
        form.add_error(notice.field, notice.message)
    return notice


def _render_form(
    request: HttpRequest, form: CustomerForm, *, duplicates=(), status=200, failure=None
):
    context = {
        "form": form,
        "customer": form.customer,
        "duplicates": duplicates,
        "failure": failure,
    }
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
    except StaleRecord as error:
        return _refused_as_stale(
            request, error, form, CustomerForm, "customers/form.html", duplicates=()
        )
    except RecordBusy as error:
        form.add_error(None, error.user_message)
        return _render_form(request, form, status=409)
    except (UpstreamError, RegisterNotUpdated) as error:
        failure = _failed(request, form, error, form.customer)
        return _render_form(request, form, status=422, failure=failure)
    return customer


def _phone_rows_edited(request: HttpRequest, customer: Customer | None = None):
    """The form again after its plain "Add phone" or remove button (no JavaScript): what was
    typed, with one phone row more or fewer, nothing validated or saved. None otherwise."""
    adding = "add_phone" in request.POST
    if not adding and "remove_phone" not in request.POST:
        return None
    phones = request.POST.getlist("phones")
    if adding:
        if len(phones) < MAX_PHONES:  # at the limit the button is disabled anyway
            phones.append("")
    else:
        index = request.POST["remove_phone"]
        if index.isdigit() and int(index) < len(phones):
            del phones[int(index)]
    initial = {name: request.POST.get(name) for name in request.POST if name != "phones"}
    initial["phones"] = phones
    form = CustomerForm(initial=initial, customer=customer)
    if adding:
        form.focus_last_phone = True
        for field in form.fields.values():
            field.widget.attrs.pop("autofocus", None)
    return _render_form(request, form)


@require_http_methods(["GET", "POST"])
@permission_required("customers.add_customer", raise_exception=True)
def customer_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render_form(request, CustomerForm(initial={"code": selectors.next_free_code()}))
    if edited := _phone_rows_edited(request):
        return edited
    outcome = _submit(request, CustomerForm(request.POST), services.customer_create)
    if isinstance(outcome, HttpResponse):
        return outcome
    messages.success(request, _("Customer %(code)s was created.") % {"code": outcome.code})
    if "save_and_add" in request.POST:
        return redirect("customers:create")
    return redirect("customers:detail", code=outcome.code)


@require_http_methods(["GET", "POST"])
@permission_required("customers.change_customer", raise_exception=True)
@follows_renames
def customer_edit(request: HttpRequest, code: str) -> HttpResponse:
    customer = _customer_or_404(code)
    if request.method != "POST":
        return _render_form(request, CustomerForm(customer=customer))
    if edited := _phone_rows_edited(request, customer):
        return edited
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
@follows_renames
def customer_detail(request: HttpRequest, code: str) -> HttpResponse:
    if selectors.customer_by_code(code) is None and selectors.current_code_of(code) is None:
        deleted = selectors.last_delete_of(code)
        if deleted is not None:
            # Gone from the register: say when and by whom, and offer to restore it.
            return render(
                request, "customers/deleted.html", {"code": code, "entry": deleted}, status=404
            )
    customer = _customer_or_404(code)
    history = record_history(kind="customer", code=customer.code)
    can_open_audit = request.user.has_perm("audit.view_auditentry")
    can_restore = request.user.has_perm("customers.change_customer")
    entries = [
        {
            "entry": story.entry,
            "story": story,
            "outcome": story.outcome,
            "url": reverse("audit:detail", kwargs={"entry_id": story.entry.pk})
            if can_open_audit
            else "",
            "restore_url": reverse("reconcile:restore", kwargs={"entry_id": story.entry.pk})
            if can_restore
            and story.entry.operation == "customer.delete"
            and story.entry.outcome == "succeeded"
            else "",
        }
        for story in stories(history)
    ]
    context = {
        "customer": customer,
        "phones": list(customer.phones.all()),
        "field_values": [
            (value, shown_field_value(value)) for value in customer.field_values.all()
        ],
        "history": entries,
        "history_limit": HISTORY_LIMIT,
    }
    return render(request, "customers/detail.html", context)


@require_http_methods(["GET", "POST"])
@permission_required("customers.rename_customer", raise_exception=True)
@follows_renames
def customer_rename(request: HttpRequest, code: str) -> HttpResponse:
    customer = _customer_or_404(code)
    form = RenameForm(request.POST or None, customer=customer)
    status = 200
    failure = None
    if request.method == "POST":
        status = 422
        if form.is_valid():
            old_code = customer.code
            try:
                renamed = services.customer_rename(
                    actor=request.user,
                    customer=customer,
                    new_code=form.cleaned_data["new_code"],
                    version=form.cleaned_data.get("version"),
                )
            except StaleRecord as error:
                return _refused_as_stale(request, error, form, RenameForm, "customers/rename.html")
            except RecordBusy as error:
                form.add_error(None, error.user_message)
                status = 409
            except (UpstreamError, RegisterNotUpdated) as error:
                failure = _failed(request, form, error, customer)
            else:
                messages.success(
                    request,
                    _("Customer %(old)s is now %(new)s.") % {"old": old_code, "new": renamed.code},
                )
                return redirect("customers:detail", code=renamed.code)
    return render(
        request,
        "customers/rename.html",
        {"form": form, "customer": customer, "failure": failure},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@permission_required("customers.delete_customer", raise_exception=True)
@follows_renames
def customer_delete(request: HttpRequest, code: str) -> HttpResponse:
    customer = _customer_or_404(code)
    form = DeleteForm(request.POST if request.method == "POST" else None, customer=customer)
    error = ""
    failure = None
    status = 200
    if request.method == "POST":
        form.is_valid()  # only the hidden version: never invalid
        try:
            services.customer_delete(
                actor=request.user, customer=customer, version=form.submitted_version()
            )
        except StaleRecord as stale:
            return _refused_as_stale(request, stale, form, DeleteForm, "customers/delete.html")
        except RecordBusy as busy:
            error = busy.user_message
            status = 409
        except (UpstreamError, RegisterNotUpdated) as crm_failure:
            failure = _failed(request, None, crm_failure, customer)
            error = failure.message
            status = 422
        else:
            messages.success(request, _("Customer %(code)s was deleted.") % {"code": code})
            return redirect("customers:list")
    return render(
        request,
        "customers/delete.html",
        {"customer": customer, "error": error, "form": form, "failure": failure},
        status=status,
    )
