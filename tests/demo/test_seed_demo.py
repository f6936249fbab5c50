"""``manage.py seed_demo``: demo data through the client into a sandbox the command serves itself.

Most tests replace the reference-code and customer seeders with small ones, to pin the
command's own mechanism: when it runs, its temporary server, the token dance, the audit
trail, and what it leaves behind. The last one runs the real demo end to end.
"""

import sys
import types
from io import StringIO

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import CommandError, call_command

import crmadmin.demo
from crmadmin.audit.models import AuditEntry, Outcome
from crmadmin.codes.models import Group, Status, Type
from crmadmin.customers.models import Customer
from crmadmin.sandbox.models import SandboxCode, SandboxCustomer, SandboxToken
from crmadmin.upstream import UpstreamRejected, auth, call

LOCAL_SANDBOX = "http://127.0.0.1:8000/sandbox"


class Seen:
    """What the fake seeders observed while the command ran."""

    actors: list
    urls: list[str]
    cache_keys: list[str]


def _codes_seed(*, actor):
    Seen.actors.append(actor)
    Seen.urls.append(settings.CRM_API_URL)
    for operation, code, name, model in (
        ("status.create", "VIP", "Khách VIP", Status),
        ("type.create", "LE", "Khách lẻ", Type),
        ("group.create", "HN", "Hà Nội", Group),
    ):
        kind = operation.split(".")[0]
        call(
            operation,
            {f"{kind}_no": code, f"{kind}_name": name},
            actor=actor,
            on_success=lambda result, model=model, code=code, name=name: model.objects.create(
                code=code, name=name
            ),
        )
    Seen.cache_keys.append(auth.cache_key())


def _customers_seed(*, actor):
    Seen.actors.append(actor)
    call(
        "customer.create",
        {
            "customer_no": "KH001",
            "customer_name": "Nguyễn Văn An",
            "customer_phones": ["0912345678"],
            "customer_status_code": "VIP",
            "customer_type_code": "LE",
            "customer_group_name": "Hà Nội",
        },
        actor=actor,
        on_success=lambda result: Customer.objects.create(
            code="KH001",
            name="Nguyễn Văn An",
            status=Status.objects.get(code="VIP"),
            type=Type.objects.get(code="LE"),
            group=Group.objects.get(code="HN"),
        ),
    )


@pytest.fixture
def seeders(monkeypatch, settings):
    """Small seeders in place of crmadmin.demo.codes and crmadmin.demo.customers."""
    Seen.actors, Seen.urls, Seen.cache_keys = [], [], []
    for name, seed in (
        ("crmadmin.demo.codes", _codes_seed),
        ("crmadmin.demo.customers", _customers_seed),
    ):
        module = types.ModuleType(name)
        module.seed = seed
        monkeypatch.setitem(sys.modules, name, module)
        monkeypatch.setattr(crmadmin.demo, name.rpartition(".")[2], module, raising=False)
    settings.CRM_API_URL = LOCAL_SANDBOX
    cache.clear()
    return Seen


@pytest.fixture
def admin(make_user):
    make_user("superuser", username="root")  # an older superuser: "admin" is preferred
    return make_user("superuser", username="admin")


def _run() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_seeds_through_the_client_into_its_own_sandbox_as_admin(seeders, admin):
    output = _run()

    assert "Demo data created as admin through the sandbox: 3 reference codes and 1 customers" in (
        output
    )
    # The seeders ran against a temporary server of this project, then settings came back.
    assert seeders.actors == [admin, admin]
    assert seeders.urls[0].startswith("http://127.0.0.1:")
    assert seeders.urls[0].endswith("/sandbox")
    assert seeders.urls[0] != LOCAL_SANDBOX
    assert settings.CRM_API_URL == LOCAL_SANDBOX
    # The records are in the sandbox and in the register.
    assert set(SandboxCode.objects.values_list("kind", "code")) == {
        ("status", "VIP"),
        ("type", "LE"),
        ("group", "HN"),
    }
    assert SandboxCustomer.objects.get().group.name == "Hà Nội"
    assert Customer.objects.get().status.code == "VIP"
    # Every call, the token grant included, is audited as admin and succeeded.
    entries = list(AuditEntry.objects.all())
    assert sorted(entry.operation for entry in entries) == [
        "auth.token",
        "customer.create",
        "group.create",
        "status.create",
        "type.create",
    ]
    assert {(entry.actor, entry.outcome) for entry in entries} == {(admin, Outcome.SUCCEEDED)}
    assert SandboxToken.objects.count() == 2
    # The token of the temporary server is not left in the cache.
    assert cache.get(seeders.cache_keys[0]) is None


@pytest.mark.django_db(transaction=True)
def test_ignores_sandbox_latency_failures_and_a_static_token(seeders, admin, settings):
    settings.CRM_SANDBOX_FAILURE_RATE = 1.0
    settings.CRM_SANDBOX_LATENCY_MS = 5_000
    settings.CRM_API_TOKEN = "a-token-the-sandbox-never-issued"

    assert "1 customers" in _run()

    assert AuditEntry.objects.filter(outcome=Outcome.SUCCEEDED).count() == 5
    assert settings.CRM_SANDBOX_FAILURE_RATE == 1.0
    assert settings.CRM_API_TOKEN == "a-token-the-sandbox-never-issued"


def _customers_seed_with_unknown_status(*, actor):
    call(
        "customer.create",
        {
            "customer_no": "KH001",
            "customer_name": "Nguyễn Văn An",
            "customer_phones": ["0912345678"],
            "customer_status_code": "KHONG_CO",
            "customer_type_code": "LE",
            "customer_group_name": "Hà Nội",
        },
        actor=actor,
    )


@pytest.mark.django_db(transaction=True)
def test_a_rejected_call_stops_the_command_with_the_crms_reason(seeders, admin, monkeypatch):
    monkeypatch.setattr(
        sys.modules["crmadmin.demo.customers"], "seed", _customers_seed_with_unknown_status
    )

    with pytest.raises(CommandError, match="Demo data stopped half-way") as raised:
        _run()

    assert isinstance(raised.value.__cause__, UpstreamRejected)
    assert "Không tìm thấy trạng thái khách hàng có mã: KHONG_CO" in str(raised.value)
    entry = AuditEntry.objects.get(operation="customer.create")
    assert (entry.actor, entry.outcome, entry.upstream_error) == (admin, Outcome.REJECTED, "1103")
    assert not Customer.objects.exists()
    assert settings.CRM_API_URL == LOCAL_SANDBOX


@pytest.mark.django_db(transaction=True)
def test_clears_sandbox_records_the_empty_register_does_not_know(seeders, admin):
    SandboxCode.objects.create(kind="status", code="VIP", name="Left over")

    output = _run()

    assert "Cleared 1 sandbox records" in output
    assert SandboxCode.objects.get(kind="status").name == "Khách VIP"


@pytest.mark.django_db
def test_does_nothing_when_the_sandbox_is_off(seeders, admin, settings):
    settings.CRM_SANDBOX = False

    assert "the built-in sandbox is off" in _run()

    assert seeders.actors == []
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["https://crm.example.vn", "http://crm.example.test/sandbox", "http://127.0.0.1:8000/api"],
)
@pytest.mark.django_db
def test_does_nothing_when_the_upstream_is_not_the_local_sandbox(seeders, admin, settings, url):
    settings.CRM_API_URL = url

    assert f"the upstream is {url}, not this server's sandbox" in _run()

    assert seeders.actors == []


@pytest.mark.parametrize("url", ["http://localhost:8123/sandbox/", "http://[::1]:8000/sandbox"])
@pytest.mark.django_db(transaction=True)
def test_any_loopback_sandbox_address_counts_as_local(seeders, admin, settings, url):
    settings.CRM_API_URL = url

    assert "Demo data created" in _run()
    assert url == settings.CRM_API_URL


@pytest.mark.django_db
def test_does_nothing_when_the_register_holds_records(seeders, admin):
    Type.objects.create(code="LE", name="Khách lẻ")

    assert "the register already holds 1 records" in _run()

    assert seeders.actors == []
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_does_nothing_without_a_superuser(seeders, make_user):
    make_user("administrator")

    assert "there is no superuser to act as" in _run()

    assert seeders.actors == []


@pytest.mark.django_db(transaction=True)
def test_acts_as_the_first_superuser_when_there_is_no_admin(seeders, make_user):
    first = make_user("superuser", username="first")
    make_user("superuser", username="second")

    assert "Demo data created as first" in _run()

    assert seeders.actors == [first, first]


@pytest.mark.django_db(transaction=True)
def test_the_real_demo_lands_in_the_register_and_the_sandbox_alike(admin, settings):
    settings.CRM_API_URL = LOCAL_SANDBOX
    cache.clear()

    output = _run()

    customers = list(Customer.objects.select_related("status", "type", "group"))
    assert len(customers) >= 15
    assert f"and {len(customers)} customers" in output
    sandbox = {customer.code: customer for customer in SandboxCustomer.objects.all()}
    assert set(sandbox) == {customer.code for customer in customers}
    for customer in customers:
        mirrored = sandbox[customer.code]
        assert mirrored.name == customer.name
        assert (mirrored.status.code, mirrored.type.code, mirrored.group.name) == (
            customer.status.code,
            customer.type.code,
            customer.group.name,
        )
        assert mirrored.phones == [phone.number for phone in customer.phones.all()]
    for model, kind in ((Status, "status"), (Type, "type"), (Group, "group")):
        assert set(model.objects.values_list("code", flat=True)) == set(
            SandboxCode.objects.filter(kind=kind).values_list("code", flat=True)
        )
    entries = AuditEntry.objects.all()
    assert {(entry.actor, entry.outcome) for entry in entries} == {(admin, Outcome.SUCCEEDED)}
    assert entries.filter(operation="customer.create").count() == len(customers)
    assert entries.filter(operation="auth.token").count() == 1
