"""Form pieces shared by the screens."""

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crmadmin.core import validators
from crmadmin.core.versions import OPENED_MAX_CHARS, read_opened, sign_opened
from crmadmin.kinds import NAME_MAX_LENGTH


class NameField(forms.CharField):
    """A name (a customer's, a status's, ...): :func:`validators.clean_name`'s rule."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", NAME_MAX_LENGTH)
        super().__init__(strip=False, **kwargs)

    def to_python(self, value: Any) -> str:
        return validators.clean_name(super().to_python(value))


class NumberField(forms.DecimalField):
    """A number within :mod:`validators`' range, cleaned to a normalised ``Decimal``
    (send it with :func:`validators.plain_decimal`)."""

    default_error_messages = {
        "too_long": _(
            "Too many digits: at most %(integer)d before the point and %(decimals)d after."
        ),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_digits=validators.NUMBER_INTEGER_DIGITS + validators.NUMBER_DECIMAL_PLACES,
            decimal_places=validators.NUMBER_DECIMAL_PLACES,
            **kwargs,
        )
        self.widget.attrs.setdefault("step", "any")

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, str) and len(value.strip()) > validators.NUMBER_MAX_CHARS:
            raise self._too_long()
        number = super().to_python(value)
        if number is None or not number.is_finite():
            return number  # DecimalField.validate says "Enter a number."
        if number == 0:
            return Decimal(0)
        # Checked before normalize(), which over- or underflows past an exponent of 10^6.
        if number.adjusted() >= validators.NUMBER_INTEGER_DIGITS:
            raise self._too_long()
        if number.adjusted() < -validators.NUMBER_DECIMAL_PLACES:
            return number  # the decimal-places check refuses it
        # 12.50 and 1.25E+1 are the same number; the range counts its significant digits.
        return number.normalize()

    def _too_long(self) -> ValidationError:
        return ValidationError(
            self.error_messages["too_long"],
            code="too_long",
            params={
                "integer": validators.NUMBER_INTEGER_DIGITS,
                "decimals": validators.NUMBER_DECIMAL_PLACES,
            },
        )


class DateField(forms.DateField):
    """A date between :data:`validators.DATE_MIN` and :data:`validators.DATE_MAX`."""

    default_validators = [validators.validate_date_in_range]


class VersionedForm(forms.Form):
    """A form about an existing record: it carries the record's version and the record as
    it was when the form was opened, so a change made since refuses it (HTTP 409).

    A missing or garbled version counts as "the version just loaded": the service still
    checks it under the record's lock.
    """

    version = forms.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput
    )
    opened = forms.CharField(
        required=False, max_length=OPENED_MAX_CHARS, strip=False, widget=forms.HiddenInput
    )

    def versioned(self, version: int, snapshot: dict[str, Any]) -> None:
        self.fields["version"].initial = version
        self.fields["opened"].initial = sign_opened(snapshot)

    def clean_version(self) -> int | None:
        return self.cleaned_data.get("version")

    def _clean_fields(self) -> None:
        super()._clean_fields()
        # A tampered hidden field is not the user's mistake: fall back, never show it.
        for name in ("version", "opened"):
            if name in self._errors:
                del self._errors[name]
                self.cleaned_data[name] = None

    def opened_snapshot(self) -> dict[str, Any] | None:
        return read_opened(self.data.get("opened"))

    def submitted_version(self) -> int | None:
        if not self.is_bound:
            return None
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get("version")
