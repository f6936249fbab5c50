"""``{% attention_warning "customer" customer.code %}``: a record page's warning while an
item about the record is open (templates load it, so lower apps need not import this one)."""

from django import template

from crmadmin.reconcile import selectors

register = template.Library()


@register.inclusion_tag("reconcile/_warning.html")
def attention_warning(kind: str, code: str) -> dict:
    return {"items": selectors.items_about(kind, code)}
