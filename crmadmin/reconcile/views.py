"""The "Needs attention" screen: every divergence, and the one-click steps that resolve it."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from crmadmin.accounts.roles import ADMINISTRATOR
from crmadmin.audit.models import AuditEntry
from crmadmin.core.locks import RecordBusy
from crmadmin.reconcile import selectors, services
from crmadmin.reconcile.kinds import kind_of
from crmadmin.upstream import RegisterNotUpdated, UpstreamError
from crmadmin.upstream.rejections import Meaning

# Everyone with a role reads the screen; writing needs the record kind's own permission.
VIEW = "customers.view_customer"
STEPS = {
    "probe": services.probe,
    "resend": services.resend_create,
    "recreate": services.recreate,
    "remove": services.remove_from_register,
    "adopt": services.adopt,
}
MEANING_LABELS = {
    Meaning.NOT_FOUND: gettext_lazy("The record does not exist in the CRM (not found)"),
    Meaning.DUPLICATE_CODE: gettext_lazy("The record already exists in the CRM (duplicate code)"),
}


def may_resolve(user, item: selectors.Item) -> bool:
    return user.has_perm(item.kind.write_permission)


def is_administrator(user) -> bool:
    return user.is_superuser or user.groups.filter(name=ADMINISTRATOR).exists()


def _entry_url(user, entry: AuditEntry | None) -> str:
    if entry is None or not user.has_perm("audit.view_auditentry"):
        return ""
    return reverse("audit:detail", kwargs={"entry_id": entry.pk})


@require_GET
@permission_required(VIEW, raise_exception=True)
def attention_list(request: HttpRequest) -> HttpResponse:
    items = selectors.open_items()
    rows = [{"item": item, "can_resolve": may_resolve(request.user, item)} for item in items]
    return render(
        request,
        "reconcile/list.html",
        {"rows": rows, "limit": selectors.ITEM_LIMIT, "full": len(items) >= selectors.ITEM_LIMIT},
    )


@require_GET
@permission_required(VIEW, raise_exception=True)
def attention_count(request: HttpRequest) -> HttpResponse:
    """The navigation's link with the open count, loaded after the page (so no page pays
    for it); nothing when there is nothing to resolve."""
    return render(request, "reconcile/_nav.html", {"count": selectors.open_count()})


@require_http_methods(["GET", "POST"])
@permission_required(VIEW, raise_exception=True)
def attention_item(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = get_object_or_404(AuditEntry, pk=entry_id)
    item = selectors.item_for(entry)
    error = ""
    status = 200
    if request.method == "POST":
        if item is None:
            messages.info(request, _("This item is already resolved."))
            return redirect("reconcile:item", entry_id=entry.pk)
        if not may_resolve(request.user, item):
            raise PermissionDenied
        step = request.POST.get("step", "")
        if step == "remove" and not is_administrator(request.user):
            raise PermissionDenied
        try:
            if step == "interpret":
                resolution = services.interpret(
                    entry=entry, meaning=request.POST.get("meaning", ""), actor=request.user
                )
            elif step in STEPS:
                resolution = STEPS[step](entry=entry, actor=request.user)
            else:
                raise services.CannotResolve(_("Choose one of the steps offered."))
        except (services.CannotResolve, UpstreamError, RegisterNotUpdated, RecordBusy) as failure:
            error = failure.user_message
            status = 409 if isinstance(failure, RecordBusy) else 422
        else:
            level = messages.SUCCESS if resolution.closes else messages.WARNING
            messages.add_message(request, level, resolution.finding)
            if resolution.closes:
                return redirect("reconcile:list")
            return redirect("reconcile:item", entry_id=entry.pk)
    kind = kind_of(entry.record_kind) if entry.record_kind else None
    record_url = ""
    if kind is not None:
        for code in (entry.new_code, entry.code):
            if code and kind.exists(code):
                record_url = kind.page(code)
                break
    pending = item.pending_step if item else None
    choices = []
    if pending is not None and pending.offer == "choose":
        choices = [
            {"value": meaning.value, "label": MEANING_LABELS[meaning]}
            for meaning in services.CHOICES.get(pending.step, ())
        ]
    context = {
        "entry": entry,
        "item": item,
        "pending": pending,
        "choices": choices,
        "resolutions": [
            {"resolution": resolution, "url": _entry_url(request.user, resolution.probe)}
            for resolution in selectors.resolutions_of(entry)
        ],
        "entry_url": _entry_url(request.user, entry),
        "record_url": record_url,
        "can_resolve": item is not None and may_resolve(request.user, item),
        "is_administrator": is_administrator(request.user),
        "error": error,
    }
    return render(request, "reconcile/item.html", context, status=status)


@require_http_methods(["GET", "POST"])
@permission_required(VIEW, raise_exception=True)
def restore(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Restore a deleted record from its delete's snapshot (confirmation, then a create)."""
    entry = get_object_or_404(AuditEntry, pk=entry_id)
    if not entry.record_kind or not entry.operation.endswith(".delete"):
        raise Http404(_("Only a delete can be restored."))
    kind = kind_of(entry.record_kind)
    if not request.user.has_perm(kind.write_permission):
        raise PermissionDenied
    error = ""
    status = 200
    try:
        _kind, body = services.restore_plan(entry)
    except services.CannotResolve as refusal:
        body = None
        error = refusal.user_message
        status = 409 if request.method == "POST" else 200
    if request.method == "POST" and body is not None:
        try:
            services.restore(entry=entry, actor=request.user)
        except (services.CannotResolve, RecordBusy, RegisterNotUpdated) as failure:
            error = failure.user_message
            status = 422
        else:
            code = body[kind.code_key]
            messages.success(request, _("%(code)s was restored.") % {"code": code})
            return redirect(kind.page(code))
    context = {
        "entry": entry,
        "kind": kind,
        "body": body,
        "snapshot": entry.snapshot_before or {},
        "error": error,
        "entry_url": _entry_url(request.user, entry),
    }
    return render(request, "reconcile/restore.html", context, status=status)
