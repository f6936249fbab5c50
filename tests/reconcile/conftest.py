"""Reconciliation tests: the sandbox over real HTTP (``live_server``), the register real.

Helpers force the situations the issue lists, deterministically: a process that dies
after the CRM answered (the entry stays pending), a register change that fails after the
CRM's success, records the CRM lost (orphans) or has alone (only upstream).
"""

import contextlib
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from crmadmin.audit import recorder
from crmadmin.audit.models import AuditEntry
from crmadmin.codes import services as code_services
from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.customers import services as customer_services
from crmadmin.customers.models import Customer
from crmadmin.kinds import REFERENCE_KINDS as KINDS
from crmadmin.sandbox.models import SandboxCustomer, SandboxFieldValue


class Crash(BaseException):
    """The worker process dies (``kill -9``): nothing after this point runs."""


@pytest.fixture
def codes(sandbox_upstream, superuser):
    """One status, type, group and custom field, in the sandbox and the register."""
    create = code_services.code_create
    create(kind=KINDS["statuses"], actor=superuser, code="VIP", name="Khách VIP")
    create(kind=KINDS["types"], actor=superuser, code="LE", name="Khách lẻ")
    create(kind=KINDS["groups"], actor=superuser, code="HN", name="Hà Nội", description="")
    create(
        kind=KINDS["fields"],
        actor=superuser,
        code="NGUON",
        name="Nguồn",
        field_type="text",
        description="",
    )
    return {
        "status": Status.objects.get(code="VIP"),
        "type": Type.objects.get(code="LE"),
        "group": Group.objects.get(code="HN"),
        "field": Field.objects.get(code="NGUON"),
    }


def customer_values(codes, **overrides):
    values = {
        "name": "Nguyễn Văn An",
        "phones": ["0912345678"],
        "email": "an@example.vn",
        "address": "12 Hàng Bạc",
        "status": codes["status"],
        "type": codes["type"],
        "group": codes["group"],
        "field_values": {codes["field"]: "Hội chợ"},
    }
    values.update(overrides)
    return values


@pytest.fixture
def make_customer(codes, superuser):
    def make(code="KH1", **overrides):
        return customer_services.customer_create(
            actor=superuser, code=code, **customer_values(codes, **overrides)
        )

    return make


def register_state() -> dict:
    """Every customer of the register, as comparable data."""
    return {
        customer.code: {
            "name": customer.name,
            "phones": [phone.number for phone in customer.phones.order_by("position")],
            "email": customer.email,
            "address": customer.address,
            "status": customer.status.code,
            "type": customer.type.code,
            "group": customer.group.name,
            "fields": {value.field.code: value.value for value in customer.field_values.all()},
        }
        for customer in Customer.objects.select_related("status", "type", "group")
    }


def sandbox_state() -> dict:
    """Every customer the sandbox (the CRM) holds, in the same shape."""
    return {
        customer.code: {
            "name": customer.name,
            "phones": list(customer.phones),
            "email": customer.email,
            "address": customer.address,
            "status": customer.status.code,
            "type": customer.type.code,
            "group": customer.group.name,
            "fields": {
                value.field.code: value.value
                for value in SandboxFieldValue.objects.filter(customer=customer).select_related(
                    "field"
                )
            },
        }
        for customer in SandboxCustomer.objects.select_related("status", "type", "group")
    }


def assert_register_equals_sandbox():
    assert register_state() == sandbox_state()


@contextlib.contextmanager
def crash_after_answer():
    """The next call's process dies after the CRM answered, before anything was recorded:
    its entry stays pending (shown as "outcome unknown" once the call budget is over)."""
    original = recorder.complete

    def die(*args, **kwargs):
        raise Crash

    recorder.complete = die
    try:
        with contextlib.suppress(Crash):
            yield
    finally:
        recorder.complete = original
    entry = AuditEntry.objects.exclude(operation="auth.token").order_by("-id").first()
    assert entry.is_pending
    # The call budget has long passed (pending entries may still be updated).
    AuditEntry.objects.filter(pk=entry.pk).update(
        started_at=timezone.now() - timedelta(seconds=settings.CRM_CALL_BUDGET + 60)
    )


def last_entry(operation: str | None = None) -> AuditEntry:
    entries = AuditEntry.objects.exclude(operation="auth.token")
    if operation:
        entries = entries.filter(operation=operation)
    return entries.order_by("-id").first()
