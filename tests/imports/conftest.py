"""Import tests: files are kept in a temporary directory; helpers run an import through
the services and its tasks through a job worker (``jobs_worker --burst``)."""

import unicodedata

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.customers.models import Customer
from crmadmin.imports import services, tasks
from crmadmin.imports.models import Import


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.IMPORT_DIR = tmp_path / "imports"
    return settings.IMPORT_DIR


@pytest.fixture
def run_import(django_capture_on_commit_callbacks):
    """upload → columns (as guessed or given) → preview; with ``mode``, run it too."""

    def run(actor, target, name, data: bytes, *, mode=None, verify=False, mapping=None) -> Import:
        with django_capture_on_commit_callbacks(execute=True):
            job = services.import_upload(
                actor=actor, target=target, uploaded=SimpleUploadedFile(name, data)
            )
            job = services.import_set_mapping(job=job, mapping=mapping or job.mapping)
        work_the_queue(tasks.preview_import, job.pk)
        job.refresh_from_db()
        if mode:
            with django_capture_on_commit_callbacks(execute=True):
                services.import_start(actor=actor, job=job, mode=mode, verify=verify)
            job.refresh_from_db()
            if job.crm_job_id:  # sync or verify: a job of the job engine
                call_command("jobs_worker", burst=True)
            else:
                work_the_queue(tasks.apply_import, job.pk, getattr(actor, "pk", None))
            job = Import.objects.get(pk=job.pk)  # its job's end hook brought it up to date
        return job

    return run


def work_the_queue(task, *args) -> None:
    """What a job worker does: run every queued task, then stop. Inside a test's
    transaction a worker cannot run (it closes the connection it shares with the test),
    so the task that was just queued runs in place instead."""
    if connection.in_atomic_block:
        task.call(*args)
    else:
        call_command("jobs_worker", burst=True)


def register_dump() -> dict:
    """The whole register as plain data, to compare before and after."""
    dump = {
        "statuses": sorted(Status.objects.values_list("code", "name")),
        "types": sorted(Type.objects.values_list("code", "name")),
        "groups": sorted(Group.objects.values_list("code", "name", "description")),
        "fields": sorted(Field.objects.values_list("code", "name", "field_type", "description")),
        "customers": [],
    }
    for customer in Customer.objects.prefetch_related(
        "phones", "field_values__field"
    ).select_related("status", "type", "group"):
        dump["customers"].append(
            (
                customer.code,
                customer.name,
                customer.email,
                customer.address,
                customer.status.code,
                customer.type.code,
                customer.group.code,
                [phone.number for phone in customer.phones.order_by("position")],
                sorted((value.field.code, value.value) for value in customer.field_values.all()),
                customer.search_text,
                customer.phone_digits,
            )
        )
    return dump


@pytest.fixture
def codes(db):
    return {
        "status": Status.objects.create(code="MOI", name="Mới"),
        "status_vip": Status.objects.create(code="VIP", name="Khách VIP"),
        "type": Type.objects.create(code="CA_NHAN", name="Cá nhân"),
        "group": Group.objects.create(code="HN", name="Hà Nội"),
        "birthday": Field.objects.create(code="NGAY_SINH", name="Ngày sinh", field_type="date"),
        "note": Field.objects.create(code="GHI_CHU", name="Ghi chú", field_type="text"),
    }


_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def windows_1258(text: str) -> bytes:
    """As old Vietnamese Excel writes it: letters precomposed, tone marks combining."""
    out = []
    for char in text:
        try:
            out.append(char.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            tones = "".join(c for c in parts if c in _TONE_MARKS)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))
            out.append((base + tones).encode("cp1258"))
    return b"".join(out)


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    text = "\r\n".join(lines) + "\r\n"
    if encoding == "cp1258":
        return windows_1258(text)
    return text.encode(encoding)
