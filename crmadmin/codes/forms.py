"""Forms for the reference codes: they validate; the services write.

One set of forms for every kind: the kind's details (description, field type) are added
from the kinds table, and ``cleaned_data`` become the service's keyword arguments.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from crmadmin.codes import selectors
from crmadmin.codes.kinds import CodeKind, Detail
from crmadmin.codes.models import CodeRecord

CODE_MAX_LENGTH = 64

validate_code_characters = RegexValidator(
    r"\A[A-Za-z0-9_.\-]+\Z",
    _("Use only letters (A to Z, without accents), digits, “_”, “-” and “.”; no spaces."),
    code="invalid_code",
)


def validate_code_not_dots(value: str) -> None:
    # "." and ".." cannot be addressed in a URL: browsers resolve them as path segments.
    if value.strip(".") == "":
        raise ValidationError(_("A code needs at least one letter or digit."), code="dots")


def code_field(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=CODE_MAX_LENGTH,
        strip=True,
        validators=[validate_code_characters, validate_code_not_dots],
        help_text=_(
            "Up to %(max)d letters, digits, “_”, “-” or “.”, as the CRM knows it, e.g. VIP_2025."
        )
        % {"max": CODE_MAX_LENGTH},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


def _detail_field(kind: CodeKind, detail: Detail, current: str | None) -> forms.Field:
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
    return field


class CodeDetailsForm(forms.Form):
    """Name and the kind's details: the edit form, and the base of the create form."""

    def __init__(self, *args, kind: CodeKind, record: CodeRecord | None = None, **kwargs):
        if record is not None and "initial" not in kwargs:
            kwargs["initial"] = kind.snapshot(record)
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.record = record
        self.fields["name"] = kind.model._meta.get_field("name").formfield(
            label=_("Name"), required=True
        )
        for detail in kind.details:
            current = getattr(record, detail.attr) if record is not None else None
            self.fields[detail.attr] = _detail_field(kind, detail, current)


class CodeCreateForm(CodeDetailsForm):
    def __init__(self, *args, kind: CodeKind, **kwargs):
        super().__init__(*args, kind=kind, **kwargs)
        self.fields = {"code": code_field(_("Code")), **self.fields}

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


class CodeRenameForm(forms.Form):
    def __init__(self, *args, kind: CodeKind, record: CodeRecord, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.record = record
        self.fields["new_code"] = code_field(_("New code"))

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
