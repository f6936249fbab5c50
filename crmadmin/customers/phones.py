"""Phone numbers, by the book (Google's libphonenumber, as the ``phonenumbers`` package):
what is sent to the CRM, the key that compares two numbers, and what search looks for.

Staff type numbers the way customers say them: ``0912 345 678``, ``0912.345.678``,
``+84 (0) 912 345 678``, ``0084 912 345 678``, ``84912345678``. Numbers without a
country code are read as numbers of ``settings.PHONE_DEFAULT_REGION`` (VN). Then:

- :func:`normalise` validates a number and gives its wire form: a number of the default
  region in its national form, as the vendor's examples write them (``0912345678``); any
  other in E.164 (``+14155552671``).
- :func:`comparison_key` gives the digits of E.164 without the ``+`` (``84912345678``):
  one key per number however it was typed, stored in ``CustomerPhone.digits`` and
  (space-separated) ``Customer.phone_digits``, and compared by the duplicate warnings.
- :func:`search_digits` gives the digits a search word looks for inside those keys.
"""

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# At most this many phones per customer: the form and the import refuse more, before
# any call to the CRM.
MAX_PHONES = 20
# A search term needs this many significant digits before it is compared with phones:
# fewer would match a large share of all numbers and tell the user nothing.
MIN_SEARCH_DIGITS = 4

# What staff may type: ASCII digits, a leading "+", and the usual separators. Letters
# are refused although libphonenumber would read "0912abc678" as a keypad word.
_TYPED = re.compile(r"\(?\+?[0-9\s.\-()/]*[0-9][0-9\s.\-()/]*")
# "+84 (0) 912": the trunk prefix written in brackets after the country code.
_BRACKETED_TRUNK = re.compile(r"\(\s*0\s*\)")
_SEPARATORS = re.compile(r"[\s.\-()/+]")


def default_region() -> str:
    return settings.PHONE_DEFAULT_REGION


def _parse(raw: str) -> phonenumbers.PhoneNumber | None:
    """The number ``raw`` writes, or None when it writes none (letters, too short...)."""
    text = (raw or "").strip()
    if not _TYPED.fullmatch(text):
        return None
    try:
        return phonenumbers.parse(text, default_region())
    except phonenumbers.NumberParseException:
        return None


def normalise(raw: str) -> str:
    """The wire form of ``raw``, or ``ValidationError`` when it is no valid phone number.

    ``normalise("0912.345.678")``, ``normalise("+84 (0) 912 345 678")`` and
    ``normalise("0084 912 345 678")`` are ``"0912345678"``;
    ``normalise("+1 415-555-2671")`` is ``"+14155552671"``.
    """
    return read(raw)[0]


def read(raw: str) -> tuple[str, str]:
    """:func:`normalise` and :func:`comparison_key` of ``raw`` at the cost of one parse."""
    number = _parse(raw)
    if number is None:
        raise ValidationError(
            _("“%(number)s” is not a phone number: use digits, optionally a leading +."),
            code="phone_characters",
            params={"number": (raw or "").strip()},
        )
    if number.extension or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _(
                "“%(number)s” is not a valid phone number. A number of another country "
                "needs its country code, e.g. +1 415 555 2671."
            ),
            code="phone_invalid",
            params={"number": raw.strip()},
        )
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number.country_code == phonenumbers.country_code_for_region(default_region()):
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return "".join(ch for ch in national if ch.isdigit()), e164[1:]
    return e164, e164[1:]


def is_wire_form(number: str, key: str) -> bool:
    """Whether a stored ``number`` with its stored comparison ``key`` is already what
    :func:`read` gives for it: ``("0912345678", "84912345678")`` in the default region,
    ``("+14155552671", "14155552671")`` abroad. Readers of many rows (an import's preview)
    take such a number as it is instead of parsing it again: the library costs ~57 µs a
    number, 14 s of a 250,000-phone preview in which nearly every number is already known.
    """
    if not key.isascii() or not key.isdigit() or not number.isascii():
        return False
    country = str(phonenumbers.country_code_for_region(default_region()))
    if number.startswith("+"):
        # Country codes are prefix-free: a key that starts with the home one is a home
        # number, which goes out in national form.
        return number[1:] == key and not key.startswith(country)
    return number.startswith("0") and number.isdigit() and key == country + number[1:]


def comparison_key(number: str) -> str:
    """The digits of ``number`` in E.164 (country code first, no ``+``): every way of
    writing one number gives one key. A stored value that is no number (written before
    numbers were validated) keeps its plain digits."""
    parsed = _parse(number)
    if parsed is None:
        return "".join(ch for ch in number or "" if ch.isascii() and ch.isdigit())
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]


def search_digits(term: str) -> str | None:
    """The digits to look for inside the stored keys, or None when ``term`` is no phone.

    A whole number, in any form, gives its key (``"0912 345 678"`` and ``"+84 912 345
    678"`` give ``"84912345678"``). A part of one gives its digits, without the trunk
    prefix ``0`` of a national number or the ``00`` before a country code
    (``"0912 345"`` gives ``"912345"``, ``"+84 9123"`` and ``"0084 9123"`` give
    ``"849123"``, ``"345 678"`` gives ``"345678"``), when at least
    :data:`MIN_SEARCH_DIGITS` remain. Anything but digits and separators gives None.
    """
    term = _BRACKETED_TRUNK.sub("", (term or "").strip())
    compact = _SEPARATORS.sub("", term)
    if not compact.isascii() or not compact.isdigit():
        return None
    number = _parse(term)
    if number is not None and phonenumbers.is_valid_number(number):
        return comparison_key(term)
    if term.startswith("+"):
        digits = compact
    elif compact.startswith("00"):
        digits = compact[2:]
    else:
        trunk = phonenumbers.PhoneMetadata.metadata_for_region(default_region()).national_prefix
        digits = compact.removeprefix(trunk) if trunk else compact
    if len(digits) < MIN_SEARCH_DIGITS:
        return None
    return digits
