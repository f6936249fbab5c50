"""Export the demo data, adopt it into an empty register, get the same register; again:
nothing changes."""

import pytest

from crmadmin.audit.models import AuditEntry
from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.customers.models import Customer
from crmadmin.demo import codes as codes_demo
from crmadmin.demo import customers as customers_demo
from crmadmin.imports.models import State

from .conftest import register_dump

KINDS = ("statuses", "types", "groups", "fields")


def _download(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.django_db(transaction=True)
def test_export_adopt_round_trip(
    file_format, sandbox_upstream, superuser, administrator_user, client, run_import
):
    codes_demo.seed(actor=superuser)
    customers_demo.seed(actor=superuser)
    before = register_dump()
    client.force_login(administrator_user)
    files = {kind: _download(client, f"/codes/{kind}/export.{file_format}") for kind in KINDS}
    customers_file = _download(client, f"/customers/export.{file_format}")
    calls_before = AuditEntry.objects.exclude(operation="register.adopt").count()

    Customer.objects.all().delete()
    for model in (Field, Group, Type, Status):
        model.objects.all().delete()

    for kind in KINDS:
        job = run_import(
            administrator_user, kind, f"{kind}.{file_format}", files[kind], mode="adopt"
        )
        assert job.state == State.DONE, job.error
    job = run_import(
        administrator_user, "customers", f"customers.{file_format}", customers_file, mode="adopt"
    )
    assert job.state == State.DONE, job.error
    assert job.counts == {"new": 20, "unchanged": 0, "changed": 0, "error": 0}
    assert register_dump() == before
    # Adopting calls nothing: the only new entries are register events.
    assert AuditEntry.objects.exclude(operation="register.adopt").count() == calls_before

    again = run_import(administrator_user, "customers", f"customers.{file_format}", customers_file)
    assert again.state == State.PREVIEWED
    assert again.counts == {"new": 0, "unchanged": 20, "changed": 0, "error": 0}
    for kind in KINDS:
        job = run_import(administrator_user, kind, f"{kind}.{file_format}", files[kind])
        assert job.counts["unchanged"] == len(before[kind]) and job.counts["new"] == 0
    assert register_dump() == before
