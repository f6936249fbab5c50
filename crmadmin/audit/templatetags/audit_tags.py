"""Filters for the audit screens: labels of operations and outcomes, durations, JSON."""

import json

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from crmadmin.audit import forms

register = template.Library()


@register.filter
def operation_label(name: str) -> str:
    return forms.operation_label(name)


@register.filter
def kind_label(kind: str) -> str:
    return forms.kind_label(kind)


@register.filter
def outcome_label(shown_outcome: str) -> str:
    return forms.outcome_label(shown_outcome)


@register.filter
def duration(milliseconds: float | None) -> str:
    """``42.7`` → "43 ms", ``1534`` → "1.53 s"; empty when unknown."""
    if milliseconds is None:
        return ""
    if milliseconds < 1000:
        return _("%(value)s ms") % {"value": number_format(round(milliseconds))}
    return _("%(value)s s") % {"value": number_format(round(milliseconds / 1000, 2), 2)}


@register.filter
def pretty_json(value) -> str:
    """Indented JSON with Vietnamese (and any non-ASCII text) left readable."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


@register.filter
def percent(fraction: float | None) -> str:
    if fraction is None:
        return ""
    return _("%(value)s%%") % {"value": number_format(round(fraction * 100, 1), 1)}
