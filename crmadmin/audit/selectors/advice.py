"""What a form says after a failed call, and where it may send the user.

A refusal whose meaning the table knows (``upstream.rejections``) goes to the field it
concerns, in the user's language, with the CRM's own words as a detail line under it.
Every link offered is a page the user's role may open: the record's own history (the
screen passes it when the user may open it), the "Needs attention" item of a call whose
outcome is unknown or whose refusal shows the register and the CRM disagree (every role
may open it), and the audit entry only for those who may read the audit log. "Try again"
is offered only when the CRM certainly made no change, so resending the kept input cannot
make the change twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from crmadmin.audit.models import AuditEntry
from crmadmin.audit.recorder import redact
from crmadmin.kinds import KINDS
from crmadmin.upstream import UpstreamError, UpstreamRejected, auth
from crmadmin.upstream.rejections import Meaning, refusal_of

AUDIT_VIEW = "audit.view_auditentry"


def attention_permission() -> str:
    """Who may open a "Needs attention" item: everyone who may read customers (its screen's
    permission, ``reconcile.views.VIEW``)."""
    return KINDS["customer"].permission("view")


@dataclass(frozen=True)
class Link:
    name: str  # data-link, for tests and styling
    label: str
    url: str


@dataclass(frozen=True)
class FailureNotice:
    """A failed call as the form shows it."""

    message: SafeString  # the sentence, with the CRM's words as a detail line
    field: str | None  # the form field it belongs to; None for the form as a whole
    retry: bool  # offer "Try again": the CRM made no change, resending is safe
    unknown: bool  # the CRM may have made the change: settle it, do not resend
    links: list[Link] = field(default_factory=list)


def with_detail(text: str, detail: str) -> SafeString:
    """``text`` with ``detail`` as a line under it, both escaped."""
    if not detail:
        return format_html("{}", text)
    return format_html('{}<br><small class="crm-detail">{}</small>', text, detail)


def _entry(request_id: str) -> tuple[int, str] | None:
    """The id and operation of the call's audit entry."""
    if not request_id:
        return None
    return AuditEntry.objects.filter(request_id=request_id).values_list("pk", "operation").first()


def _divergence_known(meaning: Meaning | None, operation: str) -> bool:
    """A refusal that reconciliation lists as a divergence: the CRM does not know a record
    the register has (an orphan), or a create refused because only the CRM has the code."""
    if operation.endswith(".create"):
        return meaning is Meaning.DUPLICATE_CODE
    return meaning is Meaning.NOT_FOUND


def failure_notice(
    *,
    error: Exception,
    user,
    fields: Mapping[Meaning, str] | Callable[[Meaning, UpstreamRejected], str | None] | None = None,
    history_url: str = "",
) -> FailureNotice:
    """The notice of ``error`` (an ``UpstreamError`` or ``RegisterNotUpdated``) for ``user``.

    ``fields`` names the form field of each meaning (or is a function of the meaning and
    the error, for fields found from the CRM's words); ``history_url`` is the record's own
    page with its history, given only when the user may open it.
    """
    target = None
    meaning = None
    # The CRM's words are shown as they came, except a secret it might echo.
    secrets = tuple(auth.secrets())
    if isinstance(error, UpstreamRejected):
        refusal = refusal_of(error)
        meaning = refusal.meaning
        message = with_detail(redact(refusal.text, secrets), redact(refusal.detail, secrets))
        if refusal.meaning is not None:
            if callable(fields):
                target = fields(refusal.meaning, error)
            elif fields:
                target = fields.get(refusal.meaning)
    else:
        message = with_detail(redact(getattr(error, "user_message", str(error)), secrets), "")
    # The CRM confirmed the change but the register did not follow: it is listed under
    # "Needs attention" like an unknown outcome, and must not be sent again either.
    acted = error.may_have_acted if isinstance(error, UpstreamError) else True
    links = []
    if history_url:
        links.append(Link("history", gettext("The record's history"), history_url))
    entry = _entry(getattr(error, "request_id", ""))
    entry_id, operation = entry if entry is not None else (None, "")
    needs_attention = acted or _divergence_known(meaning, operation)
    if entry_id is not None and needs_attention and user.has_perm(attention_permission()):
        links.append(
            Link(
                "attention",
                gettext("Settle it under “Needs attention”"),
                reverse("reconcile:item", kwargs={"entry_id": entry_id}),
            )
        )
    if entry_id is not None and user.has_perm(AUDIT_VIEW):
        links.append(
            Link(
                "audit",
                gettext("The call in the audit log"),
                reverse("audit:detail", kwargs={"entry_id": entry_id}),
            )
        )
    return FailureNotice(message=message, field=target, retry=not acted, unknown=acted, links=links)
