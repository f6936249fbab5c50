"""The input rules every form and import shares: names, free text, numbers and dates.

Each rule is here once, so the customer form, the reference-code forms, the audit filters
and the import preview refuse the same things with the same words.
"""

import datetime
import re
import unicodedata
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

# Control characters other than tab, line feed and carriage return: never typed, and
# refused by PostgreSQL (NUL) or unreadable in a spreadsheet or a log (the rest).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Inside a name, the characters that make two names look alike while they differ, or
# reorder what is shown around them (a "Trojan source" override): zero-width space,
# word joiner, byte-order mark, and the bidirectional embeddings, overrides and isolates.
# Zero-width (non-)joiners and the plain direction marks stay: scripts and emoji use them.
_HIDDEN_INSIDE = re.compile("[\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069]")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def _invisible(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in _INVISIBLE_CATEGORIES


def _edge_invisible(char: str) -> bool:
    # A control character at an edge is refused, not quietly dropped (below).
    return _invisible(char) and not CONTROL.match(char)


def validate_no_control(value: str) -> None:
    """Free text (an address, a description): line breaks and tabs are fine, other
    control characters are refused."""
    if value and CONTROL.search(value):
        raise ValidationError(_("Contains invisible control characters."), code="control")


def clean_name(value: str) -> str:
    """A person's or a record's name, as the register keeps it.

    Invisible characters around it (spaces, no-break spaces, zero-width spaces, byte-order
    marks, direction marks) are dropped; a name that is nothing else is refused, and so is
    one with a control character or a hidden character inside.
    """
    if not value.strip(" "):
        return ""  # left blank: the field's own "required" says so
    start, end = 0, len(value)
    while start < end and _edge_invisible(value[start]):
        start += 1
    while end > start and _edge_invisible(value[end - 1]):
        end -= 1
    name = value[start:end]
    if value and all(_invisible(char) for char in name):
        raise ValidationError(
            _("Enter a name that can be seen: this one is only spaces or invisible characters."),
            code="invisible_name",
        )
    if CONTROL.search(name) or "\t" in name or "\n" in name or "\r" in name:
        raise ValidationError(
            _("A name cannot contain control characters, tabs or line breaks."),
            code="control_in_name",
        )
    if _HIDDEN_INSIDE.search(name):
        raise ValidationError(
            _("A name cannot contain zero-width spaces or text-direction overrides."),
            code="hidden_in_name",
        )
    return name


# Numbers of custom fields: |x| < 10^15 with at most 6 decimals. Every such number is
# exact in a decimal column and in a spreadsheet's double (15 significant digits), and
# no plausible business figure (a count, an amount in VND) goes beyond it.
NUMBER_INTEGER_DIGITS = 15
NUMBER_DECIMAL_PLACES = 6
# More characters than any number in range needs, sign and point included, plus room
# for spaces and an exponent: a longer input is refused before it is parsed.
NUMBER_MAX_CHARS = 40


def plain_decimal(value: Decimal) -> str:
    """``Decimal("1.25E+1")`` → ``"12.5"``; ``Decimal("100")`` → ``"100"``: the form a
    person reads, and the one the CRM receives (never an exponent, never "-0")."""
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


# Dates: from 1 January 1900 to 31 December 2100. Spreadsheets (the exports) count days
# from 1900; the audit filters' day arithmetic and time-zone shifts stay far from the
# calendar's ends (9999-12-31 plus a day is an overflow); a birthday, a contract date or
# an audit date outside this span is a typing mistake.
DATE_MIN = datetime.date(1900, 1, 1)
DATE_MAX = datetime.date(2100, 12, 31)


def validate_date_in_range(value: datetime.date | None) -> None:
    if value is None:
        return
    if not DATE_MIN <= value <= DATE_MAX:
        raise ValidationError(
            _("Enter a date between %(first)s and %(last)s."),
            code="date_out_of_range",
            params={"first": date_format(DATE_MIN), "last": date_format(DATE_MAX)},
        )
