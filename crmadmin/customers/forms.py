"""Forms of the customer screens: they validate and normalise, nothing else."""

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.core.codes import CodeField, clashing
from crmadmin.core.forms import DateField, NameField, NumberField, VersionedForm
from crmadmin.core.validators import plain_decimal, validate_no_control
from crmadmin.customers import phones as phone_numbers
from crmadmin.customers.models import Customer
from crmadmin.customers.selectors import DEFAULT_SORT, SORTS, custom_fields
from crmadmin.customers.services import snapshot_of
from crmadmin.kinds import FieldType

CUSTOM_FIELD_PREFIX = "cf_"


def validate_code_is_free(value: str, *, current: Customer | None = None) -> None:
    """The one case policy (:mod:`crmadmin.core.codes`): "kh0001" is taken by "KH0001"."""
    clash = clashing(Customer.objects.all(), value, exclude=current)
    if clash is not None:
        raise ValidationError(
            _("Another customer already has the code “%(code)s”."),
            code="code_taken",
            params={"code": clash.code},
        )


class CodeChoiceField(forms.ModelChoiceField):
    """A status, type or group select: people know them by name, the code disambiguates."""

    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.code})"


class PhoneListWidget(forms.Widget):
    """Any number of ``<input name="phones">``: the template draws them, one per row."""

    def value_from_datadict(self, data, files, name):
        if hasattr(data, "getlist"):
            return data.getlist(name)
        value = data.get(name)
        if value is None:
            return []
        return list(value) if isinstance(value, (list, tuple)) else [value]

    def value_omitted_from_data(self, data, files, name):
        return False


class PhoneListField(forms.Field):
    """The customer's phones, in order: blanks dropped, each validated and put in its
    wire form; at least one, at most :data:`~crmadmin.customers.phones.MAX_PHONES`, and
    no number twice, however it is written ("0912.345.678" is "+84 912 345 678")."""

    widget = PhoneListWidget
    default_error_messages = {
        "required": _("Enter at least one phone number."),
        "too_many": _("A customer has at most %(max)d phone numbers; %(count)d were entered."),
        "repeated": _("“%(number)s” is the same number as “%(first)s”."),
    }

    def to_python(self, value):
        if not value:
            return []
        return [str(raw).strip() for raw in value if str(raw).strip()]

    def validate(self, value):
        if not value:
            raise ValidationError(self.error_messages["required"], code="required")
        if len(value) > phone_numbers.MAX_PHONES:
            raise ValidationError(
                self.error_messages["too_many"],
                code="too_many",
                params={"max": phone_numbers.MAX_PHONES, "count": len(value)},
            )

    def clean(self, value):
        typed = self.to_python(value)
        self.validate(typed)
        numbers: list[str] = []
        errors: list[ValidationError] = []
        first_of: dict[str, str] = {}
        for raw in typed:
            try:
                number, key = phone_numbers.read(raw)
            except ValidationError as error:
                errors.extend(error.error_list)
                continue
            if key in first_of:
                errors.append(
                    ValidationError(
                        self.error_messages["repeated"],
                        code="repeated",
                        params={"number": raw, "first": first_of[key]},
                    )
                )
                continue
            first_of[key] = raw
            numbers.append(number)
        if errors:
            raise ValidationError(errors)
        return numbers


class PhoneNumberField(forms.CharField):
    """A custom field of type ``phone``: one number, validated and sent like the customer's."""

    widget = forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        return phone_numbers.normalise(value)


def _custom_form_field(field: Field) -> forms.Field:
    options: dict[str, Any] = {
        "label": field.name,
        "required": False,
        "help_text": field.description,
    }
    match field.field_type:
        case FieldType.LONG_TEXT:
            return forms.CharField(
                widget=forms.Textarea(attrs={"rows": 3}),
                validators=[validate_no_control],
                **options,
            )
        case FieldType.NUMBER:
            return NumberField(**options)
        case FieldType.DATE:
            return DateField(
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **options
            )
        case FieldType.EMAIL:
            return forms.EmailField(**options)
        case FieldType.PHONE:
            return PhoneNumberField(**options)
        case FieldType.URL:
            return forms.URLField(assume_scheme="https", **options)
        case _:
            return forms.CharField(validators=[validate_no_control], **options)


def _wire_value(value: Any) -> str:
    """A custom field's cleaned value as the CRM receives it (a string)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return plain_decimal(value)  # "12.5", never "1.25E+1"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


class CustomerForm(VersionedForm):
    """Create (with ``code``) or edit (``customer`` given, no ``code``) one customer.

    Custom fields are added from the register's definitions as ``cf_<id>``;
    :meth:`service_arguments` turns ``cleaned_data`` into the service's keyword arguments.
    """

    max_phones = phone_numbers.MAX_PHONES  # the template disables "Add phone" there

    code = CodeField(label=_("Code"))
    name = NameField(label=_("Name"))
    phones = PhoneListField(label=_("Phones"))
    email = forms.EmailField(label=_("E-mail"), required=False)
    address = forms.CharField(label=_("Address"), max_length=500, required=False)
    status = CodeChoiceField(label=_("Status"), queryset=Status.objects.order_by("name", "code"))
    type = CodeChoiceField(label=_("Type"), queryset=Type.objects.order_by("name", "code"))
    group = CodeChoiceField(label=_("Group"), queryset=Group.objects.order_by("name", "code"))
    # Set by the "Save anyway" button after the duplicate warning.
    confirm_duplicates = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, customer: Customer | None = None, **kwargs: Any) -> None:
        self.customer = customer
        if customer is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_of(customer)
        super().__init__(*args, **kwargs)
        if customer is not None:
            del self.fields["code"]
            self.fields["name"].widget.attrs["autofocus"] = True
            self.versioned(customer.version, snapshot_of(customer))
        else:
            del self.fields["version"], self.fields["opened"]
            self.fields["code"].widget.attrs["autofocus"] = True
        self.fields["email"].widget.attrs["autocomplete"] = "off"
        self.custom_fields = list(custom_fields())
        for field in self.custom_fields:
            self.fields[f"{CUSTOM_FIELD_PREFIX}{field.pk}"] = _custom_form_field(field)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        validate_code_is_free(code)
        return code

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip()

    def phone_rows(self) -> list[str]:
        """The phone inputs to draw: what was typed (after an error), or the stored ones."""
        values = self["phones"].value() or []
        rows = [str(value) for value in values]
        return rows or [""]

    def custom_bound_fields(self) -> list[forms.BoundField]:
        return [self[f"{CUSTOM_FIELD_PREFIX}{field.pk}"] for field in self.custom_fields]

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        arguments = {
            "name": data["name"],
            "phones": data["phones"],
            "email": data["email"],
            "address": data["address"],
            "status": data["status"],
            "type": data["type"],
            "group": data["group"],
            "field_values": {
                field: _wire_value(data.get(f"{CUSTOM_FIELD_PREFIX}{field.pk}"))
                for field in self.custom_fields
            },
        }
        if self.customer is None:
            arguments["code"] = data["code"]
        else:
            arguments["version"] = data.get("version")
        return arguments


def initial_of(customer: Customer) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "name": customer.name,
        "phones": [phone.number for phone in customer.phones.all()],
        "email": customer.email,
        "address": customer.address,
        "status": customer.status_id,
        "type": customer.type_id,
        "group": customer.group_id,
    }
    for value in customer.field_values.all():
        initial[f"{CUSTOM_FIELD_PREFIX}{value.field_id}"] = value.value
    return initial


class RenameForm(VersionedForm):
    new_code = CodeField(label=_("New code"))

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        self.customer = customer
        super().__init__(*args, **kwargs)
        self.fields["new_code"].widget.attrs["autofocus"] = True
        self.versioned(customer.version, snapshot_of(customer))

    def clean_new_code(self) -> str:
        new_code = self.cleaned_data["new_code"]
        if new_code == self.customer.code:
            raise ValidationError(
                _("That is the current code; enter a different one."), code="code_unchanged"
            )
        validate_code_is_free(new_code, current=self.customer)
        return new_code


class DeleteForm(VersionedForm):
    """The delete confirmation: only the version it was shown at."""

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        self.customer = customer
        super().__init__(*args, **kwargs)
        self.versioned(customer.version, snapshot_of(customer))


class ListFilterForm(forms.Form):
    """The list's search box, filters and sort: never invalid, unknown values ignored."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200, strip=True)
    status = CodeChoiceField(
        label=_("Status"),
        queryset=Status.objects.order_by("name", "code"),
        required=False,
        to_field_name="code",
        empty_label=_("All statuses"),
    )
    type = CodeChoiceField(
        label=_("Type"),
        queryset=Type.objects.order_by("name", "code"),
        required=False,
        to_field_name="code",
        empty_label=_("All types"),
    )
    group = CodeChoiceField(
        label=_("Group"),
        queryset=Group.objects.order_by("name", "code"),
        required=False,
        to_field_name="code",
        empty_label=_("All groups"),
    )
    # Customers with a value in this custom field (the field's delete page links here).
    field = forms.ModelChoiceField(
        queryset=Field.objects.all(), required=False, to_field_name="code", widget=forms.HiddenInput
    )
    sort = forms.ChoiceField(
        required=False, choices=[(key, key) for key in SORTS], widget=forms.HiddenInput
    )

    def criteria(self) -> dict[str, Any]:
        """Keyword arguments for ``customer_list``: the valid values, defaults otherwise."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "query": data.get("q") or "",
            "status": data.get("status"),
            "type": data.get("type"),
            "group": data.get("group"),
            "field": data.get("field"),
            "sort": data.get("sort") or DEFAULT_SORT,
        }
