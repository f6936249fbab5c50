"""The inputs that answered 500, and the ones that must be refused with a clear message
(issue 10, item 9): control characters in addresses, dates out of range, names of nothing
but invisible characters, numbers out of range, codes differing only in case, a call
outlasting its budget."""

import time

import pytest
import requests
from django.core.cache import cache
from django.urls import reverse

from crmadmin.audit import events
from crmadmin.audit.models import AuditEntry
from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.customers.models import Customer
from crmadmin.kinds import REFERENCE_KINDS
from tests.crm import envelope, expect_call
from tests.customers.conftest import make_customer

pytestmark = pytest.mark.django_db

ADDRESS_NOT_UNDERSTOOD = "Address not understood"


@pytest.fixture
def codes(db):
    return {
        "status": Status.objects.create(code="MOI", name="Mới"),
        "type": Type.objects.create(code="CA_NHAN", name="Cá nhân"),
        "group": Group.objects.create(code="HN", name="Hà Nội"),
        "birthday": Field.objects.create(code="NGAY_SINH", name="Ngày sinh", field_type="date"),
        "staff": Field.objects.create(code="SO_NV", name="Số nhân viên", field_type="number"),
    }


# --- Control characters in the address ------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/customers/%00/",
        "/customers/%00/edit/",
        "/customers/KH001%00/delete/",
        "/customers/KH%01/",
        "/customers/KH%0A001/",
        "/codes/statuses/?q=%00",
        "/codes/statuses/MOI%00/edit/",
        "/customers/?q=an%00&status=%00",
        "/customers/export.csv?q=%00",
        "/codes/groups/export.xlsx?q=%00",
        "/customers/?status=%1B",
        "/audit/?code=%00",
        "/audit/dashboard/?days=7%00",
        "/audit/export.csv?code=%00",
        "/jobs/?outcome=%00",
        "/import/?target=%00",
        "/attention/?x%00=1",
    ],
)
@pytest.mark.parametrize("role", ["support", "manager", "superuser"])
def test_a_control_character_in_the_address_gets_a_clear_400(url, role, client_as, codes):
    make_customer("KH001", "Nguyễn Văn An", codes=codes)
    client = client_as(role)

    response = client.get(url)

    assert response.status_code == 400
    assert ADDRESS_NOT_UNDERSTOOD in response.text
    assert "NUL byte" in response.text
    assert response["Content-Type"].startswith("text/html")


def test_the_refusal_speaks_vietnamese(client_as):
    client = client_as("support")

    response = client.get("/customers/%00/", headers={"accept-language": "vi"})

    assert response.status_code == 400
    assert "Không hiểu địa chỉ này" in response.text


def test_a_search_with_a_tab_or_accents_still_works(client_as, codes):
    make_customer("KH001", "Nguyễn Văn An", codes=codes)
    client = client_as("support")

    response = client.get("/customers/", {"q": "nguyen\tan"})

    assert response.status_code == 200
    assert ADDRESS_NOT_UNDERSTOOD not in response.text


# --- Audit filters and exports: dates out of range ------------------------------------

OUT_OF_RANGE = {
    "far-future": ("date_to", "9999-12-31", "Enter a date between"),
    "year-one": ("date_from", "0001-01-01", "Enter a date between"),
    "before-1900": ("date_from", "1899-12-31", "Enter a date between"),
    "after-2100": ("date_to", "2101-01-01", "Enter a date between"),
    "year-10000": ("date_to", "10000-01-01", "Enter a valid date"),
    "impossible": ("date_from", "2025-02-30", "Enter a valid date"),
}


@pytest.mark.parametrize(("name", "value", "message"), OUT_OF_RANGE.values(), ids=OUT_OF_RANGE)
def test_an_audit_date_out_of_range_is_a_filter_error(name, value, message, client_as):
    client = client_as("manager")

    response = client.get(reverse("audit:list"), {name: value})

    assert response.status_code == 200
    assert response.context["form"].errors[name] == [
        *(
            ["Enter a date between 1 Jan 1900 and 31 Dec 2100."]
            if message.startswith("Enter a date between")
            else ["Enter a valid date."]
        )
    ]
    assert message in response.text


@pytest.mark.parametrize(("name", "value", "message"), OUT_OF_RANGE.values(), ids=OUT_OF_RANGE)
def test_an_audit_export_out_of_range_is_refused_before_streaming(name, value, message, client_as):
    client = client_as("manager")

    response = client.get(reverse("audit:export"), {name: value})

    assert response.status_code == 400
    assert not response.streaming
    assert message in response.text
    assert not AuditEntry.objects.filter(operation=events.AUDIT_EXPORTED).exists()


def test_the_last_and_first_days_in_range_export_whole_files(client_as):
    client = client_as("manager")

    response = client.get(
        reverse("audit:export"), {"date_from": "1900-01-01", "date_to": "2100-12-31"}
    )

    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0].startswith("id,")


# --- Names -----------------------------------------------------------------------------

INVISIBLE_NAMES = {
    "zero-width-space": "\u200b",
    "byte-order-mark": "\ufeff",
    "no-break-space": "\u00a0",
    "word-joiner": "\u2060",
    "rtl-marks": "\u200f\u202e",
    "tabs": "\t\t",
    "control": "\x01\x02",
    "mixed": " \u200b\u00a0\ufeff ",
}
CONTROL_INSIDE = {
    "tab": "Nguyễn\tAn",
    "line-break": "Nguyễn\nAn",
    "escape": "Nguyễn\x1b[31mAn",
    "nul": "Nguyễn\x00An",
    "zero-width-inside": "Ng\u200buyễn An",
    "override-inside": "An \u202eNAV",
}
INVISIBLE_MESSAGE = (
    "Enter a name that can be seen: this one is only spaces or invisible characters."
)

# kind → (create URL, the rest of a valid create form)
KIND_FORMS = {
    "customers": ("customers:create", {}),
    "statuses": ("codes:create", {"code": "VIP"}),
    "types": ("codes:create", {"code": "DN"}),
    "groups": ("codes:create", {"code": "HCM", "description": ""}),
    "fields": ("codes:create", {"code": "WEB", "field_type": "text", "description": ""}),
}


def _refused(kind: str) -> int:
    """A form sent back with errors: 422 on the customer screens, 200 on the codes'."""
    return 422 if kind == "customers" else 200


def _create(client, kind: str, codes, **data):
    route, rest = KIND_FORMS[kind]
    if kind == "customers":
        rest = {
            "code": "KH0001",
            "phones": ["0912345678"],
            "status": codes["status"].pk,
            "type": codes["type"].pk,
            "group": codes["group"].pk,
        }
        return client.post(reverse(route), {**rest, **data})
    return client.post(reverse(route, kwargs={"kind": kind}), {**rest, **data})


@pytest.mark.parametrize("kind", KIND_FORMS)
@pytest.mark.parametrize("name", INVISIBLE_NAMES.values(), ids=INVISIBLE_NAMES)
def test_a_name_of_only_invisible_characters_is_refused_at_the_field(
    kind, name, crm, client_as, codes
):
    response = _create(client_as("administrator"), kind, codes, name=name)

    assert response.status_code == _refused(kind)
    assert response.context["form"].errors["name"] == [INVISIBLE_MESSAGE]
    assert INVISIBLE_MESSAGE in response.text
    assert not AuditEntry.objects.exists()  # nothing was sent


@pytest.mark.parametrize("kind", KIND_FORMS)
@pytest.mark.parametrize("name", CONTROL_INSIDE.values(), ids=CONTROL_INSIDE)
def test_a_control_or_hidden_character_inside_a_name_is_refused(kind, name, crm, client_as, codes):
    response = _create(client_as("administrator"), kind, codes, name=name)

    assert response.status_code == _refused(kind)
    [message] = response.context["form"].errors["name"]
    assert message.startswith("A name cannot contain")
    assert not AuditEntry.objects.exists()


def test_invisible_characters_around_a_customer_name_are_not_sent(crm, client_as, codes):
    expect_call(
        crm,
        "/api/crm/customer/create",
        {
            "customer_no": "KH0001",
            "customer_name": "Nguyễn Văn An",
            "customer_phones": ["0912345678"],
            "customer_status_code": "MOI",
            "customer_type_code": "CA_NHAN",
            "customer_group_name": "Hà Nội",
            "customer_address": "",
            "customer_email": "",
        },
    )

    response = _create(
        client_as("support"), "customers", codes, name="\ufeff\u200b Nguyễn Văn An\u00a0\u2060"
    )

    assert response.status_code == 302
    assert Customer.objects.get(code="KH0001").name == "Nguyễn Văn An"


@pytest.mark.parametrize("kind", sorted(REFERENCE_KINDS))
def test_invisible_characters_around_a_reference_name_are_not_sent(kind, crm, client_as, codes):
    prefix = REFERENCE_KINDS[kind].name
    path = f"/api/crm/{prefix}/create"
    _route, rest = KIND_FORMS[kind]
    wire = {f"{prefix}_no": rest["code"], f"{prefix}_name": "Khách VIP"}
    if kind == "fields":
        wire["field_type"] = "text"
    expect_call(crm, path, wire, json=envelope(data=rest["code"]))

    response = _create(client_as("administrator"), kind, codes, name="\u200bKhách VIP\ufeff ")

    assert response.status_code == 302
    assert REFERENCE_KINDS[kind].model.objects.get(code=rest["code"]).name == "Khách VIP"


# --- Number and date custom fields ---------------------------------------------------

REFUSED_NUMBERS = {
    "huge-exponent": ("1e999999", "Too many digits"),
    "inf": ("inf", "Enter a number."),
    "nan": ("nan", "Enter a number."),
    "minus-inf": ("-Infinity", "Enter a number."),
    "1e20": ("1e20", "Too many digits"),
    "10^15": ("1000000000000000", "Too many digits"),
    "seven-decimals": ("0.1234567", "no more than 6 decimal places"),
    "tiny": ("1e-999999", "digits"),
    "fifty-digits": ("1" * 50, "Too many digits"),
    "hex": ("0x10", "Enter a number."),
}


@pytest.mark.parametrize(("value", "message"), REFUSED_NUMBERS.values(), ids=REFUSED_NUMBERS)
def test_a_number_field_refuses_values_out_of_range(value, message, crm, client_as, codes):
    field = f"cf_{codes['staff'].pk}"

    response = _create(client_as("support"), "customers", codes, name="An", **{field: value})

    assert response.status_code == 422
    [shown] = response.context["form"].errors[field]
    assert message in shown
    assert not AuditEntry.objects.exists()


ACCEPTED_NUMBERS = {
    "scientific": ("1.25E+1", "12.5"),
    "trailing-zeros": ("12.500", "12.5"),
    "hundred": ("100", "100"),
    "million-as-exponent": ("1e6", "1000000"),
    "negative-zero": ("-0", "0"),
    "largest": ("999999999999999.999999", "999999999999999.999999"),
    "smallest-step": ("-0.000001", "-0.000001"),
}


@pytest.mark.parametrize(("typed", "sent"), ACCEPTED_NUMBERS.values(), ids=ACCEPTED_NUMBERS)
def test_an_accepted_number_goes_on_the_wire_as_a_plain_decimal(typed, sent, crm, client_as, codes):
    expect_call(
        crm,
        "/api/crm/customer/create",
        {
            "customer_no": "KH0001",
            "customer_name": "An",
            "customer_phones": ["0912345678"],
            "customer_status_code": "MOI",
            "customer_type_code": "CA_NHAN",
            "customer_group_name": "Hà Nội",
            "customer_address": "",
            "customer_email": "",
            "fileds": [{"field_key": "SO_NV", "field_value": sent}],
        },
    )

    response = _create(
        client_as("support"), "customers", codes, name="An", **{f"cf_{codes['staff'].pk}": typed}
    )

    assert response.status_code == 302
    assert AuditEntry.objects.get().request_body["fileds"] == [
        {"field_key": "SO_NV", "field_value": sent}
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0001-01-01", "Enter a date between 1 Jan 1900 and 31 Dec 2100."),
        ("9999-12-31", "Enter a date between 1 Jan 1900 and 31 Dec 2100."),
        ("1899-12-31", "Enter a date between 1 Jan 1900 and 31 Dec 2100."),
        ("2101-01-01", "Enter a date between 1 Jan 1900 and 31 Dec 2100."),
        ("10000-01-01", "Enter a valid date."),
    ],
)
def test_a_date_field_keeps_to_the_same_range_as_the_audit_filters(
    value, message, crm, client_as, codes
):
    field = f"cf_{codes['birthday'].pk}"

    response = _create(client_as("support"), "customers", codes, name="An", **{field: value})

    assert response.status_code == 422
    assert response.context["form"].errors[field] == [message]


# --- Codes that differ only in case -------------------------------------------------

CASE_KINDS = ["customers", *sorted(REFERENCE_KINDS)]


def _existing(kind: str, code: str, codes):
    if kind == "customers":
        return make_customer(
            code, f"Khách {code}", phones=(f"09120000{len(code):02d}",), codes=codes
        )
    model = REFERENCE_KINDS[kind].model
    extra = {"field_type": "text"} if kind == "fields" else {}
    return model.objects.create(code=code, name=f"Tên {code}", **extra)


@pytest.mark.parametrize("kind", CASE_KINDS)
def test_creating_a_code_that_differs_only_in_case_is_refused(kind, crm, client_as, codes):
    _existing(kind, "VIP2025", codes)

    response = _create(client_as("administrator"), kind, codes, code="vip2025", name="Mới")

    assert response.status_code == _refused(kind)
    [message] = response.context["form"].errors["code"]
    assert "VIP2025" in message
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("kind", CASE_KINDS)
def test_recoding_to_a_code_that_differs_only_in_case_is_refused(kind, crm, client_as, codes):
    _existing(kind, "VIP2025", codes)
    other = _existing(kind, "KHAC", codes)
    if kind == "customers":
        url = reverse("customers:rename", kwargs={"code": other.code})
    else:
        url = reverse("codes:rename", kwargs={"kind": kind, "code": other.code})

    response = client_as("administrator").post(url, {"new_code": "Vip2025"})

    assert response.status_code == _refused(kind)
    [message] = response.context["form"].errors["new_code"]
    assert "VIP2025" in message
    assert not AuditEntry.objects.exists()


# --- A call outlasting its budget ----------------------------------------------------


def test_a_read_timeout_is_a_clear_message_not_a_500(crm, client_as, codes):
    """The view's side: the CRM not answering in time is said plainly, nothing changes."""
    crm.post(
        "http://crm.example.test/api/crm/customer/create",
        body=requests.exceptions.ReadTimeout("read timed out"),
    )

    response = _create(client_as("support"), "customers", codes, name="An")

    assert response.status_code < 500
    assert "did not answer within" in response.text
    assert not Customer.objects.exists()
    entry = AuditEntry.objects.get(operation="customer.create")
    assert (entry.outcome, entry.failure_kind) == ("failed", "timeout")


@pytest.mark.django_db(transaction=True)
def test_a_call_exceeding_the_budget_ends_with_a_timeout_message(
    sandbox_upstream, client_as, codes, settings
):
    """A real slow CRM (the sandbox at 1.5 s per answer) against a budget of 1 s: the
    request ends within the budget, long before gunicorn's --timeout 40 would kill the
    worker, with the timeout message and a failed entry instead of a 500."""
    settings.CRM_CALL_BUDGET = 1.0
    settings.CRM_SANDBOX_LATENCY_MS = 1500
    cache.clear()
    client = client_as("support")
    started = time.monotonic()

    response = _create(client, "customers", codes, name="An")

    elapsed = time.monotonic() - started
    assert response.status_code < 500
    assert elapsed < settings.CRM_CALL_BUDGET + 2
    assert "within" in response.text and "seconds" in response.text
    assert not Customer.objects.exists()
    entry = AuditEntry.objects.filter(operation__startswith="customer.").get()
    assert (entry.outcome, entry.failure_kind) == ("failed", "timeout")


# --- Every form refuses NUL at every field ------------------------------------------


def _forms(codes):
    from crmadmin.accounts.forms import SignInForm
    from crmadmin.audit.forms import AuditFilterForm
    from crmadmin.codes import forms as code_forms
    from crmadmin.customers import forms as customer_forms
    from crmadmin.imports.forms import MappingForm, RunForm, UploadForm
    from crmadmin.jobs.forms import BulkForm

    customer = make_customer("KH001", "Nguyễn Văn An", codes=codes)
    status = codes["status"]
    statuses = REFERENCE_KINDS["statuses"]
    yield "customer-create", lambda data: customer_forms.CustomerForm(data)
    yield "customer-edit", lambda data: customer_forms.CustomerForm(data, customer=customer)
    yield "customer-rename", lambda data: customer_forms.RenameForm(data, customer=customer)
    yield "customer-list-filter", lambda data: customer_forms.ListFilterForm(data)
    yield "audit-filter", lambda data: AuditFilterForm(data, actors=_actors())
    for slug, kind in sorted(REFERENCE_KINDS.items()):
        yield f"{slug}-create", lambda data, kind=kind: code_forms.CodeCreateForm(data, kind=kind)
    yield (
        "status-edit",
        lambda data: code_forms.CodeDetailsForm(data, kind=statuses, record=status),
    )
    yield (
        "status-rename",
        lambda data: code_forms.CodeRenameForm(data, kind=statuses, record=status),
    )
    yield "bulk", lambda data: BulkForm(data)
    yield "import-upload", lambda data: UploadForm(data, targets=[("customers", "Customers")])
    yield (
        "import-mapping",
        lambda data: MappingForm(data, target="customers", headers=["a", "b"], mapping=["", ""]),
    )
    yield "import-run", lambda data: RunForm(data)
    yield "sign-in", lambda data: SignInForm(None, data=data)


def _actors():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.all()


FORM_NAMES = [
    "customer-create",
    "customer-edit",
    "customer-rename",
    "customer-list-filter",
    "audit-filter",
    *(f"{slug}-create" for slug in sorted(REFERENCE_KINDS)),
    "status-edit",
    "status-rename",
    "bulk",
    "import-upload",
    "import-mapping",
    "import-run",
    "sign-in",
]


@pytest.mark.parametrize("form_name", FORM_NAMES)
@pytest.mark.parametrize("value", ["\x00", "VIP\x00", "\x00" * 3])
def test_every_form_refuses_nul_at_every_field(form_name, value, codes):
    """A NUL byte never reaches a service or a query: each field that got one says so
    (checkboxes and the hidden version pair excepted: they never carry text)."""
    from django import forms

    factory = dict(_forms(codes))[form_name]
    names = list(factory(None).fields)
    data = {name: value for name in names}
    form = factory(data)

    assert not form.is_valid()
    assert "\x00" not in repr(form.cleaned_data)
    texty = [
        name
        for name, field in form.fields.items()
        if not isinstance(field, forms.BooleanField) and name not in ("version", "opened")
    ]
    assert set(texty) <= set(form.errors), form.errors
