"""The bulk action form: what to do, to which customers, with which new value."""

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _

from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.customers.forms import ListFilterForm
from crmadmin.customers.models import Customer
from crmadmin.customers.selectors import customer_list
from crmadmin.jobs import customer_kinds

MAX_SELECTED = 500
CODE_MAX_LENGTH = Customer._meta.get_field("code").max_length

# action → (job kind, the model of its new value or None, the select's label)
ACTIONS = {
    "set_status": (customer_kinds.SET_STATUS, Status, _("New status")),
    "set_type": (customer_kinds.SET_TYPE, Type, _("New type")),
    "set_group": (customer_kinds.SET_GROUP, Group, _("New group")),
    "clear_field": (customer_kinds.CLEAR_FIELD, Field, _("Field to clear")),
    "delete": (customer_kinds.DELETE, None, ""),
}
ACTION_LABELS = {
    "set_status": _("Set status"),
    "set_type": _("Set type"),
    "set_group": _("Set group"),
    "clear_field": _("Clear a custom field"),
    "delete": _("Delete"),
}


class CodeListField(forms.Field):
    """The codes of the customers ticked on the list page (``?code=A&code=B``)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        values = [str(item).strip() for item in (value or []) if str(item).strip()]
        if len(values) > MAX_SELECTED:
            raise forms.ValidationError(
                _("Select at most %(max)d customers, or use “all matching this filter”."),
                params={"max": MAX_SELECTED},
            )
        for item in values:
            ProhibitNullCharactersValidator()(item)
            if len(item) > CODE_MAX_LENGTH:
                raise forms.ValidationError(_("A selected code is too long."))
        return list(dict.fromkeys(values))


class BulkForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=list(ACTION_LABELS.items()))
    scope = forms.ChoiceField(
        choices=[("selected", _("The selected customers")), ("filter", _("All matching"))],
        required=False,
        widget=forms.HiddenInput,
    )
    code = CodeListField(required=False)
    target = forms.CharField(required=False, max_length=64)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.filters = ListFilterForm(data or {})

    @property
    def chosen_action(self) -> str:
        value = self.data.get("action", "")
        return value if value in ACTIONS else ""

    def target_model(self):
        return ACTIONS[self.chosen_action][1] if self.chosen_action else None

    def target_choices(self):
        model = self.target_model()
        if model is None:
            return []
        return list(model.objects.order_by("name", "code"))

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if not action:
            return cleaned
        model = ACTIONS[action][1]
        cleaned["target_record"] = None
        if model is not None:
            code = cleaned.get("target") or ""
            record = model.objects.filter(code=code).first() if code else None
            if record is None:
                self.add_error("target", _("Choose the new value."))
            cleaned["target_record"] = record
        if cleaned.get("scope") != "filter" and not cleaned.get("code"):
            raise forms.ValidationError(_("Select at least one customer."))
        return cleaned

    @property
    def job_kind(self) -> str:
        return ACTIONS[self.cleaned_data["action"]][0]

    def customers(self):
        """The chosen customers as they are now: frozen into the job when it is made."""
        if self.cleaned_data.get("scope") == "filter":
            return customer_list(**self.filters.criteria())
        return Customer.objects.filter(code__in=self.cleaned_data["code"]).order_by("code")
