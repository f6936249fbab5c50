"""Codes, as staff type them: one field, one validator, one case policy for every kind.

Customers, statuses, types, groups and custom fields are all named by a code. The same
rules apply to each:

- at most ``CODE_MAX_LENGTH`` characters (the CRM's limit, and the register's columns);
- letters A to Z without accents, digits, "_", "-" and ".", starting with a letter or a
  digit, without spaces (leading and trailing ones are trimmed);
- not a path word of the kinds' pages (``RESERVED_CODES``: "new"), in any case;
- **case is kept but never distinguishes two records**: a code that differs only in case
  from another record's of the same kind is refused (:func:`clashing`). The CRM's lookups
  may well ignore case (its routes do), so "vip" beside "VIP" would be an accident. A
  record may change only the case of its own code.
"""

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _

from crmadmin.kinds import CODE_MAX_LENGTH  # the registry's, with the other lengths

_CODE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.\-]*\Z")

# Path words of the kinds' pages, lower-case: /customers/new/ and /codes/<kind>/new/ are
# the create pages, so a record coded "new" would have no page of its own. Refused in any
# case by validate_code, so by the forms and by imports alike.
RESERVED_CODES = frozenset({"new"})


def validate_code(value: str) -> None:
    if value.strip(".") == "":
        # "." and ".." cannot be addressed in a URL: browsers resolve them as path segments.
        raise ValidationError(_("A code needs at least one letter or digit."), code="dots")
    if not _CODE.match(value):
        raise ValidationError(
            _(
                "Use letters (A to Z, without accents), digits, “_”, “-” and “.” only, "
                "starting with a letter or a digit; no spaces."
            ),
            code="invalid_code",
        )
    if value.lower() in RESERVED_CODES:
        raise ValidationError(
            _("“%(code)s” is reserved by the dashboard; choose another code."),
            code="reserved",
            params={"code": value},
        )


class CodeField(forms.CharField):
    """A code input, checked by :func:`validate_code` (reserved path words included)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text",
            _("Up to %(max)d letters, digits, “_”, “-” or “.”, as the CRM knows it, e.g. VIP_2025.")
            % {"max": CODE_MAX_LENGTH},
        )
        super().__init__(
            max_length=CODE_MAX_LENGTH,
            strip=True,
            validators=[validate_code],
            widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            **kwargs,
        )


def clashing(records: QuerySet, code: str, *, exclude: Model | None = None) -> Model | None:
    """The record of ``records`` whose code equals ``code`` ignoring case, if any
    (``exclude``: the record being renamed, which may change the case of its own code)."""
    matches = records.filter(code__iexact=code)
    if exclude is not None:
        matches = matches.exclude(pk=exclude.pk)
    return matches.order_by("pk").first()
