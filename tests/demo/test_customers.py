"""The demo customers, created through the services against the sandbox over real HTTP."""

import pytest

from crmadmin.audit.models import AuditEntry
from crmadmin.codes.models import Field
from crmadmin.customers.models import Customer
from crmadmin.demo import codes as codes_demo
from crmadmin.demo import customers as demo


@pytest.mark.django_db(transaction=True)
def test_seed_creates_twenty_vietnamese_customers_once(sandbox_upstream, superuser):
    codes_demo.seed(actor=superuser)

    assert demo.seed(actor=superuser) == 20

    customers = Customer.objects.prefetch_related("phones", "field_values")
    assert customers.count() == 20
    assert Customer.objects.filter(name="Nguyễn Văn An").exists()
    assert Customer.objects.filter(name="Trần Thị Bích").exists()
    assert all(1 <= len(customer.phones.all()) <= 3 for customer in customers)
    assert any(len(customer.phones.all()) > 1 for customer in customers)
    assert all(customer.email for customer in customers)
    field_count = Field.objects.count()
    assert field_count
    assert all(len(customer.field_values.all()) == field_count for customer in customers)
    assert AuditEntry.objects.filter(operation="customer.create", outcome="succeeded").count() == 20
    assert demo.seed(actor=superuser) == 0


@pytest.mark.django_db
def test_seed_without_reference_codes_creates_nothing(superuser):
    assert demo.seed(actor=superuser) == 0
    assert not AuditEntry.objects.exists()
