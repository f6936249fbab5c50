"""Phone numbers: what is sent to the CRM, and the form that search compares.

Staff type numbers the way customers say them: ``0912 345 678``, ``0912.345.678``,
``(+84) 912-345-678``. The CRM receives the number with the punctuation removed and a
leading ``+`` kept (:func:`normalise`); search compares the *national significant
number* (:func:`national_digits`): the digits without the Vietnamese trunk prefix ``0``
or country code ``84``, so every way of writing one number finds the same customer.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MIN_DIGITS = 8
MAX_DIGITS = 15  # E.164's maximum
# A search term needs this many significant digits before it is compared with phones:
# fewer would match a large share of all numbers and tell the user nothing.
MIN_SEARCH_DIGITS = 4

VIETNAM_COUNTRY_CODE = "84"
# Vietnamese national significant numbers: 9 digits (mobiles, most landlines) or 10
# (Hanoi/HCMC landlines with an area code of two digits).
_VIETNAM_NSN_LENGTHS = (9, 10)

_SEPARATORS = re.compile(r"[\s.\-()/]")
_SEARCH_SEPARATORS = re.compile(r"[\s.\-()/+]")


def normalise(raw: str) -> str:
    """Remove spaces, dots, dashes, slashes and parentheses; keep a leading ``+``.

    ``normalise(" (+84) 912.345-678 ")`` is ``"+84912345678"``. The result is not
    checked: :func:`validate` says whether it is a phone number.
    """
    compact = _SEPARATORS.sub("", raw or "")
    if compact.startswith("+"):
        return "+" + compact[1:]
    return compact


def validate(number: str) -> None:
    """Raise ``ValidationError`` unless ``number`` (already normalised) is a phone number."""
    body = number[1:] if number.startswith("+") else number
    if not body.isdigit() or not body.isascii():
        raise ValidationError(
            _("“%(number)s” is not a phone number: use digits, optionally a leading +."),
            code="phone_characters",
            params={"number": number},
        )
    if not MIN_DIGITS <= len(body) <= MAX_DIGITS:
        raise ValidationError(
            _("“%(number)s” has %(count)d digits; a phone number has %(min)d to %(max)d."),
            code="phone_length",
            params={"number": number, "count": len(body), "min": MIN_DIGITS, "max": MAX_DIGITS},
        )


def _strip_prefix(digits: str) -> str:
    rest = digits.removeprefix(VIETNAM_COUNTRY_CODE)
    if rest != digits and len(rest) in _VIETNAM_NSN_LENGTHS:
        return rest
    if digits.startswith("0"):
        return digits[1:]
    return digits


def national_digits(number: str) -> str:
    """The digits search compares: ``0912345678``, ``+84912345678`` and ``84912345678``
    all give ``912345678``. A foreign number keeps its digits (country code included).
    """
    digits = "".join(ch for ch in number if ch.isascii() and ch.isdigit())
    return _strip_prefix(digits)


def search_digits(term: str) -> str | None:
    """The digits to look for inside stored numbers, or None when ``term`` is no phone.

    A term qualifies when, once spaces, dots, dashes, parentheses and ``+`` are removed,
    it is all digits and, after dropping a leading ``84``/``0`` the same way as stored
    numbers, at least :data:`MIN_SEARCH_DIGITS` remain: ``"345 678"`` gives ``"345678"``,
    ``"0912 345"`` gives ``"912345"``. A bare ``84`` is dropped only before a whole
    Vietnamese number (``"8491"`` may be part of one); after a ``+`` it always is.
    """
    term = (term or "").strip()
    compact = _SEARCH_SEPARATORS.sub("", term)
    if not compact.isascii() or not compact.isdigit():
        return None
    if term.startswith("+") and compact.startswith(VIETNAM_COUNTRY_CODE):
        digits = compact.removeprefix(VIETNAM_COUNTRY_CODE)
    else:
        digits = _strip_prefix(compact)
    if len(digits) < MIN_SEARCH_DIGITS:
        return None
    return digits
