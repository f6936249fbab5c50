"""Migration 0006 brings rows written before it to the new search text and phone keys."""

from importlib import import_module

import pytest
from django.apps import apps

from crmadmin.customers.models import Customer, CustomerPhone

from .conftest import make_customer

pytestmark = pytest.mark.django_db

migration = import_module("crmadmin.customers.migrations.0006_search_address_phone_keys")


def test_old_rows_get_the_address_in_their_search_text_and_e164_phone_keys(codes, support_client):
    customer = make_customer(
        "KH0001", "Nguyễn Thị Yến", ["0912345678", "+14155552671"], codes=codes
    )
    # As migration 0005 left it: no address in the text, national digits as keys.
    Customer.objects.filter(pk=customer.pk).update(
        address="45 Trần Hưng Đạo",
        search_text="kh0001\tnguyen thi yen\t",
        phone_digits="912345678 14155552671",
    )
    CustomerPhone.objects.filter(number="0912345678").update(digits="912345678")
    assert support_client.get("/customers/", {"q": "tran hung dao"}).context["customers"] == []

    migration.recompute(apps, None)

    customer.refresh_from_db()
    assert customer.search_text == "\t kh0001\t nguyen thi yen\t \t 45 tran hung dao"
    assert customer.phone_digits == "84912345678 14155552671"
    assert sorted(customer.phones.values_list("digits", flat=True)) == [
        "14155552671",
        "84912345678",
    ]
    for query in ["tran hung dao", "yen nguyen", "+84 912 345 678"]:
        listed = support_client.get("/customers/", {"q": query}).context["customers"]
        assert [c.code for c in listed] == ["KH0001"], query
