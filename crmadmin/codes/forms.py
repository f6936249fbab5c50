"""Forms for the reference codes: they validate; the services write.

One set of forms for every kind: the kind's details (description, field type) are added
from the kinds table, and ``cleaned_data`` become the service's keyword arguments.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crmadmin.codes import selectors
from crmadmin.codes.models import CodeRecord
from crmadmin.core.codes import CodeField
from crmadmin.core.forms import NameField, VersionedForm
from crmadmin.core.validators import validate_no_control
from crmadmin.kinds import Detail, RecordKind


def _detail_field(kind: RecordKind, detail: Detail, current: str | None) -> forms.Field:
    label = kind.detail_label(detail)
    if detail.choices:
        choices = list(detail.choices)
        if current and current not in dict(choices):
            # A type the register holds but this dashboard does not know: keep it
            # selectable, so editing the name does not silently change the type.
            unknown = _("%(value)s (unknown here: shown as text)") % {"value": current}
            choices.append((current, unknown))
        return forms.ChoiceField(label=label, choices=choices, required=detail.required)
    field = kind.model._meta.get_field(detail.attr).formfield(label=label, required=detail.required)
    if isinstance(field.widget, forms.Textarea):
        field.widget.attrs["rows"] = 3
    if isinstance(field, forms.CharField):
        field.validators.append(validate_no_control)
    return field


class CodeDetailsForm(VersionedForm):
    """Name and the kind's details: the edit form, and the base of the create form."""

    def __init__(self, *args, kind: RecordKind, record: CodeRecord | None = None, **kwargs):
        if record is not None and "initial" not in kwargs:
            kwargs["initial"] = kind.snapshot(record)
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.record = record
        if record is not None:
            self.versioned(record.version, kind.snapshot(record))
        else:
            del self.fields["version"], self.fields["opened"]
        self.fields["name"] = NameField(
            label=_("Name"), max_length=kind.model._meta.get_field("name").max_length
        )
        for detail in kind.details:
            current = getattr(record, detail.attr) if record is not None else None
            self.fields[detail.attr] = _detail_field(kind, detail, current)

    def service_arguments(self) -> dict:
        """``cleaned_data`` as the service's keywords (the opened snapshot is the page's)."""
        return {key: value for key, value in self.cleaned_data.items() if key != "opened"}


class CodeCreateForm(CodeDetailsForm):
    def __init__(self, *args, kind: RecordKind, **kwargs):
        super().__init__(*args, kind=kind, **kwargs)
        self.fields = {
            "code": CodeField(label=_("Code")),
            **self.fields,
        }

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        clash = selectors.code_taken(kind=self.kind, code=code)
        if clash is not None:
            raise ValidationError(
                _("The code %(code)s is already taken by “%(name)s”."),
                code="taken",
                params={"code": clash.code, "name": clash.name},
            )
        return code


class CodeRenameForm(VersionedForm):
    def __init__(self, *args, kind: RecordKind, record: CodeRecord, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.record = record
        self.fields["new_code"] = CodeField(label=_("New code"))
        self.versioned(record.version, kind.snapshot(record))

    def clean_new_code(self) -> str:
        new_code = self.cleaned_data["new_code"]
        if new_code == self.record.code:
            raise ValidationError(
                _("The new code is the same as the current one."), code="unchanged"
            )
        clash = selectors.code_taken(kind=self.kind, code=new_code, exclude=self.record)
        if clash is not None:
            raise ValidationError(
                _("The code %(code)s is already taken by “%(name)s”."),
                code="taken",
                params={"code": clash.code, "name": clash.name},
            )
        return new_code


class CodeDeleteForm(VersionedForm):
    """The delete confirmation: only the version it was shown at."""

    def __init__(self, *args, kind: RecordKind, record: CodeRecord, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.record = record
        self.versioned(record.version, kind.snapshot(record))
