"""What the CRM's rejection codes mean: the one table, easy to change.

The real CRM documents no error codes, so the defaults are the built-in sandbox's
(``crmadmin/sandbox/errors.py``). A deployment that learns the real codes overrides or
extends the table with the ``CRM_REJECTION_CODES`` setting (``code=meaning,...``).
Forms use a meaning to put a refusal at the field it concerns; reconciliation uses
``NOT_FOUND`` and ``DUPLICATE_CODE`` to read the answer of a probe.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crmadmin.upstream.errors import UpstreamError, UpstreamRejected


class Meaning(StrEnum):
    DUPLICATE_CODE = "duplicate_code"
    NOT_FOUND = "not_found"
    UNKNOWN_STATUS = "unknown_status"
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_GROUP = "unknown_group"
    UNKNOWN_FIELD = "unknown_field"
    IN_USE = "in_use"
    DUPLICATE_GROUP_NAME = "duplicate_group_name"


DEFAULT_MEANINGS: dict[str, Meaning] = {
    "1101": Meaning.DUPLICATE_CODE,
    "1102": Meaning.NOT_FOUND,
    "1103": Meaning.UNKNOWN_STATUS,
    "1104": Meaning.UNKNOWN_TYPE,
    "1105": Meaning.UNKNOWN_GROUP,
    "1106": Meaning.UNKNOWN_FIELD,
    "1107": Meaning.IN_USE,
    "1108": Meaning.DUPLICATE_GROUP_NAME,
}


def meanings() -> dict[str, Meaning]:
    """The table in force: the defaults, overridden by ``CRM_REJECTION_CODES``."""
    table = dict(DEFAULT_MEANINGS)
    for code, meaning in getattr(settings, "CRM_REJECTION_CODES", {}).items():
        table[str(code).strip()] = Meaning(meaning)
    return table


def meaning_of(error: UpstreamError) -> Meaning | None:
    """The meaning of a rejection, or None for any other failure or an unmapped code."""
    if not isinstance(error, UpstreamRejected) or not error.error_code:
        return None
    return meaning_of_code(error.error_code)


def meaning_of_code(code: object) -> Meaning | None:
    """The meaning of the CRM's error code ``code`` (as an audit entry keeps it), if known."""
    if code in (None, ""):
        return None
    return meanings().get(str(code).strip())


# What each meaning tells the user, in the user's language, at the field it concerns.
MEANING_TEXTS: dict[Meaning, Promise] = {
    Meaning.DUPLICATE_CODE: _("The CRM already has a record with this code."),
    Meaning.NOT_FOUND: _("The CRM does not know this record."),
    Meaning.UNKNOWN_STATUS: _("The CRM does not know this status."),
    Meaning.UNKNOWN_TYPE: _("The CRM does not know this type."),
    Meaning.UNKNOWN_GROUP: _("The CRM does not know this group."),
    Meaning.UNKNOWN_FIELD: _("The CRM does not know this custom field."),
    Meaning.IN_USE: _("The CRM refuses: the record is still in use."),
    Meaning.DUPLICATE_GROUP_NAME: _("The CRM already has a group with this name."),
}


@dataclass(frozen=True)
class Refusal:
    """A rejection as the screens show it: what it means (None when the table does not
    know its code), the sentence for the user, and the CRM's own words as a detail line."""

    meaning: Meaning | None
    text: str
    detail: str


def crm_words(*, message: str, error_code: object) -> str:
    """The CRM's own text and error code, as the detail line under a message."""
    message = (message or "").strip()
    code = "" if error_code in (None, "") else str(error_code).strip()
    if message and code:
        return gettext("The CRM said: “%(message)s” (error %(code)s)") % {
            "message": message,
            "code": code,
        }
    if message:
        return gettext("The CRM said: “%(message)s”") % {"message": message}
    if code:
        return gettext("The CRM's error code: %(code)s") % {"code": code}
    return ""


def refusal_of(error: UpstreamRejected) -> Refusal:
    """A rejection's meaning and words: a known code in the user's language, any other
    with the general message (which quotes the CRM)."""
    meaning = meaning_of(error)
    detail = crm_words(message=error.upstream_message, error_code=error.error_code)
    if meaning is None:
        return Refusal(meaning=None, text=error.user_message, detail="")
    return Refusal(meaning=meaning, text=str(MEANING_TEXTS[meaning]), detail=detail)
