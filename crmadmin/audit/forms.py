"""The audit list's filter form, and the human labels of operations and outcomes."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from crmadmin.audit import events
from crmadmin.audit.models import LOCAL, Outcome
from crmadmin.audit.selectors.listing import AuditFilters
from crmadmin.audit.selectors.outcome import SHOWN_IN_PROGRESS, SHOWN_UNKNOWN
from crmadmin.core.forms import DateField
from crmadmin.kinds import CREATE, DELETE, KINDS, RENAME, UPDATE
from crmadmin.upstream.operations import OPERATIONS, TOKEN_OPERATION

KIND_LABELS = {
    **{kind.name: kind.audit_label for kind in KINDS.values()},
    LOCAL: _("local event"),
}
ACTION_LABELS = {
    CREATE: _("create"),
    UPDATE: _("update"),
    RENAME: _("change code"),
    DELETE: _("delete"),
}
# What the screens call an entry's outcome: the stored one, except that a pending entry
# is "in progress" while young and "outcome unknown" once older than the threshold.
OUTCOME_LABELS = {
    Outcome.SUCCEEDED.value: _("succeeded"),
    Outcome.REJECTED.value: _("rejected"),
    Outcome.FAILED.value: _("failed"),
    SHOWN_UNKNOWN: _("outcome unknown"),
    SHOWN_IN_PROGRESS: _("in progress"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def operation_label(name: str) -> str:
    """``"status.rename"`` → "status: change code"; ``"auth.token"`` → "token request"."""
    if name == TOKEN_OPERATION:
        return str(_("token request"))
    if name in events.LABELS:
        return str(events.LABELS[name])
    operation = OPERATIONS.get(name)
    if operation is None:
        return name
    return f"{kind_label(operation.kind)}: {ACTION_LABELS.get(operation.action, operation.action)}"


def outcome_label(shown_outcome: str) -> str:
    return str(OUTCOME_LABELS.get(shown_outcome, shown_outcome))


def _operation_choices():
    names = [TOKEN_OPERATION, *OPERATIONS, *events.LABELS]
    return [("", _("Any operation")), *((name, operation_label(name)) for name in names)]


class PlainSelect(forms.Select):
    """A ``<select>`` written in Python: Django's widget templates render every option
    through a template of its own, which costs more than the rest of the page once
    the actor list holds the whole staff."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (
                    option["value"],
                    mark_safe(" selected") if option["selected"] else "",
                    option["label"],
                )
                for _group, choices, _index in widget["optgroups"]
                for option in choices
            ),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), options
        )


class AuditFilterForm(forms.Form):
    """Validates the list's GET parameters; an invalid value is reported and ignored."""

    # The people who have entries, as (id, username) read once: a ModelChoiceField would
    # iterate its queryset through a server-side cursor on PostgreSQL, for fifty rows.
    actor = forms.TypedChoiceField(
        label=_("Actor"), coerce=int, empty_value=None, required=False, widget=PlainSelect
    )
    operation = forms.ChoiceField(
        label=_("Operation"), choices=_operation_choices, required=False, widget=PlainSelect
    )
    record_kind = forms.ChoiceField(
        label=_("Record kind"),
        choices=lambda: [
            ("", _("Any kind")),
            *((kind, kind_label(kind)) for kind in (*KINDS, LOCAL)),
        ],
        required=False,
        widget=PlainSelect,
    )
    code = forms.CharField(label=_("Code"), max_length=128, required=False, strip=True)
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=lambda: [("", _("Any outcome")), *OUTCOME_LABELS.items()],
        required=False,
        widget=PlainSelect,
    )
    date_from = DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    job = forms.IntegerField(
        label=_("Job"),
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, actors, **kwargs):
        super().__init__(*args, **kwargs)
        username = actors.model.USERNAME_FIELD
        self.fields["actor"].choices = [
            ("", _("Anyone")),
            *((str(pk), name) for pk, name in actors.values_list("pk", username)),
        ]
        self.fields["code"].widget.attrs.update({"type": "search", "autocomplete": "off"})

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def filters(self) -> AuditFilters:
        """The filters of the fields that are valid (call after ``is_valid()``)."""
        data = getattr(self, "cleaned_data", {})
        return AuditFilters(
            actor_id=data.get("actor"),
            operation=data.get("operation") or "",
            record_kind=data.get("record_kind") or "",
            code=data.get("code") or "",
            outcome=data.get("outcome") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            job_id=data.get("job"),
        )
