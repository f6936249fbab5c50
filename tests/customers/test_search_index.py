"""Customers inserted in bulk (an import's adopt step) fill the SQLite search index in one
statement at the end instead of one trigger call each: they must be found exactly as
customers saved one by one, and the trigger must be back afterwards, failure or not."""

import pytest
from django.db import connection, transaction

from crmadmin.customers.models import Customer
from crmadmin.customers.search_index import INSERT_TRIGGER, customers_inserted_in_bulk
from crmadmin.customers.services import Adoption, customers_adopt

from .conftest import make_customer

LIST = "/customers/"
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the FTS5 index and its triggers are SQLite's"
)


def codes_listed(response) -> list[str]:
    return sorted(customer.code for customer in response.context["customers"])


def adoption(code, name, phones, codes, **extra):
    return Adoption(
        code=code,
        name=name,
        phones=phones,
        status_id=codes["status"].pk,
        type_id=codes["type"].pk,
        group_id=codes["group"].pk,
        **extra,
    )


def trigger_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [INSERT_TRIGGER])
        return cursor.fetchone() is not None


@pytest.mark.django_db
def test_customers_adopted_in_bulk_are_found_by_every_search(codes, support_client):
    make_customer("KH0001", "Trần Bình", ["0987000111"], codes=codes)
    customers_adopt(
        actor=None,
        adoptions=[
            adoption("KH0100", "Nguyễn Thị Yến", ["0912345678"], codes, address="12 Lê Lợi"),
            adoption("KH0101", "Đỗ Minh Khánh", ["02838221234"], codes, email="k@x.vn"),
        ],
    )
    assert codes_listed(support_client.get(LIST, {"q": "yen nguyen"})) == ["KH0100"]
    assert codes_listed(support_client.get(LIST, {"q": "le loi"})) == ["KH0100"]
    assert codes_listed(support_client.get(LIST, {"q": "0912 345 678"})) == ["KH0100"]
    assert codes_listed(support_client.get(LIST, {"q": "3822 1234"})) == ["KH0101"]
    assert codes_listed(support_client.get(LIST, {"q": "k@x.vn"})) == ["KH0101"]
    # The customer saved before and one saved after are indexed as ever.
    make_customer("KH0200", "Phạm Hà", ["0911222333"], codes=codes)
    assert codes_listed(support_client.get(LIST, {"q": "pham ha"})) == ["KH0200"]
    assert codes_listed(support_client.get(LIST, {"q": "tran binh"})) == ["KH0001"]


@sqlite_only
@pytest.mark.django_db
def test_the_trigger_is_back_after_the_block_and_after_a_failure(codes):
    with transaction.atomic():
        with customers_inserted_in_bulk(connection):
            assert not trigger_exists()
        assert trigger_exists()
    with (
        pytest.raises(RuntimeError),
        transaction.atomic(),
        customers_inserted_in_bulk(connection),
    ):
        make_customer("KH0300", "Vũ Lan", ["0911000999"], codes=codes)
        raise RuntimeError("the batch failed")
    assert trigger_exists()
    assert not Customer.objects.filter(code="KH0300").exists()
    make_customer("KH0301", "Vũ Lan", ["0911000999"], codes=codes)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM customers_customer_search WHERE customers_customer_search MATCH %s",
            ['"vu lan"'],
        )
        assert [row[0] for row in cursor.fetchall()] == [Customer.objects.get(code="KH0301").pk]
