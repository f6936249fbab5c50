"""Who may import what: Support customers, Administrators codes too, Managers nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crmadmin.imports.models import Import

from .conftest import csv_bytes

CUSTOMERS = csv_bytes("code,name,phones,status,type,group", "KH001,An,0912345678,MOI,CA_NHAN,HN")
STATUSES = csv_bytes("code,name", "NEW,Mới")


def _upload(client, target, data):
    return client.post("/import/", {"target": target, "file": SimpleUploadedFile("f.csv", data)})


@pytest.mark.parametrize("role", ["manager", None])
def test_no_import_without_write_permissions(role, client_as, codes):
    """A manager, or a signed-in user without a role."""
    client = client_as(role)
    assert client.get("/import/").status_code == 403
    assert _upload(client, "customers", CUSTOMERS).status_code == 403
    assert not Import.objects.exists()


def test_support_imports_customers_but_not_codes(client_as, codes):
    client = client_as("support")
    html = client.get("/import/").content.decode()
    assert 'value="customers"' in html and 'value="statuses"' not in html
    assert _upload(client, "statuses", STATUSES).status_code == 400
    assert not Import.objects.exists()
    assert _upload(client, "customers", CUSTOMERS).status_code == 302


def test_an_administrator_imports_codes_and_support_cannot_open_that_import(client_as, codes):
    admin = client_as("administrator")
    assert _upload(admin, "statuses", STATUSES).status_code == 302
    job = Import.objects.get()
    assert admin.get(f"/import/{job.pk}/").status_code == 200
    support = client_as("support")
    for url in (f"/import/{job.pk}/", f"/import/{job.pk}/errors.csv"):
        assert support.get(url).status_code == 403
    for action in ("columns", "run", "cancel", "resume"):
        assert support.post(f"/import/{job.pk}/{action}/").status_code == 403


@pytest.mark.parametrize(
    ("role", "url", "shown"),
    [
        ("support", "/customers/", True),
        ("manager", "/customers/", False),
        ("support", "/codes/statuses/", False),
        ("administrator", "/codes/statuses/", True),
    ],
)
def test_the_import_buttons_show_only_to_those_who_may(role, url, shown, client_as, codes):
    html = client_as(role).get(url).content.decode()
    assert ('data-action="import"' in html) == shown
