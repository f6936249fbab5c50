"""Issue 10 item 7: required fields marked on every form, phone rows added and removed
without JavaScript, the next free code suggested, "Save and add another", focus on the
first error (in Chromium)."""

import re

import pytest
from django.urls import reverse

from crmadmin.audit.models import AuditEntry
from crmadmin.customers import selectors
from crmadmin.customers.models import Customer
from crmadmin.customers.phones import MAX_PHONES
from tests.crm import envelope, expect_call
from tests.customers.test_wire import CREATE_WIRE, create_form

from .conftest import make_customer

REQUIRED = '<abbr class="required" title="required">*</abbr>'


def _labels(html: str) -> dict[str, str]:
    return dict(re.findall(r'<label for="id_([\w]+)"[^>]*>(.*?)</label>', html, re.S))


FORMS = {
    "sign in": (lambda codes: reverse("login"), {"username", "password"}, set()),
    "customer create": (
        lambda codes: reverse("customers:create"),
        {"code", "name", "status", "type", "group"},
        {"email", "address"},
    ),
    "customer edit": (
        lambda codes: reverse("customers:edit", kwargs={"code": "KH0001"}),
        {"name", "status", "type", "group"},
        {"email", "address"},
    ),
    "customer rename": (
        lambda codes: reverse("customers:rename", kwargs={"code": "KH0001"}),
        {"new_code"},
        set(),
    ),
    "status create": (
        lambda codes: reverse("codes:create", kwargs={"kind": "statuses"}),
        {"code", "name"},
        set(),
    ),
    "field create": (
        lambda codes: reverse("codes:create", kwargs={"kind": "fields"}),
        {"code", "name", "field_type"},
        {"description"},
    ),
    "group edit": (
        lambda codes: reverse("codes:edit", kwargs={"kind": "groups", "code": "HN"}),
        {"name"},
        {"description"},
    ),
    "type rename": (
        lambda codes: reverse("codes:rename", kwargs={"kind": "types", "code": "CA_NHAN"}),
        {"new_code"},
        set(),
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("form", FORMS)
def test_every_form_marks_its_required_fields(client, superuser, codes, form):
    make_customer("KH0001", "An", codes=codes)
    url, required, optional = FORMS[form]
    if form != "sign in":
        client.force_login(superuser)

    labels = _labels(client.get(url(codes)).text)

    for name in required:
        assert REQUIRED in labels[name], name
    for name in optional:
        assert REQUIRED not in labels[name], name


@pytest.mark.django_db
def test_the_phones_are_marked_required_too(support_client, codes):
    html = support_client.get(reverse("customers:create")).text
    assert re.search(rf'id="phones-label">Phones {re.escape(REQUIRED)}</span>', html)


PHONES = ["0912345678", "0987654321", "02838221234"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("button", "shown"),
    [
        ({"add_phone": "1"}, [*PHONES, ""]),
        ({"remove_phone": "0"}, PHONES[1:]),
        ({"remove_phone": "1"}, [PHONES[0], PHONES[2]]),
        ({"remove_phone": "9"}, PHONES),
        ({"remove_phone": "x\x00"}, PHONES),
    ],
)
@pytest.mark.parametrize("screen", ["create", "edit"])
def test_phone_rows_are_added_and_removed_without_javascript(
    support_client, codes, button, shown, screen
):
    if screen == "edit":
        make_customer("KH0001", "Nguyễn Văn An", codes=codes)
        url = reverse("customers:edit", kwargs={"code": "KH0001"})
    else:
        url = reverse("customers:create")
    data = create_form(codes, phones=PHONES, email="not an address", **button)
    before = list(Customer.objects.values_list("code", "name"))

    response = support_client.post(url, data)

    assert response.status_code == 200
    html = response.text
    assert re.findall(r'<input type="tel" name="phones" value="([^"]*)"', html) == shown
    assert 'value="Nguyễn Văn An"' in html  # what was typed stays
    assert 'value="not an address"' in html
    assert 'aria-invalid="true"' not in html  # nothing was validated yet
    assert list(Customer.objects.values_list("code", "name")) == before
    assert not AuditEntry.objects.exists()
    if "add_phone" in button:
        new_row = re.findall(r'<input type="tel" name="phones"[^>]*>', html)[-1]
        assert "autofocus" in new_row
        assert len(re.findall(r"\bautofocus\b", html)) == 1


@pytest.mark.django_db
def test_without_javascript_add_phone_stops_at_the_limit_too(support_client, codes):
    many = [f"09120000{n:02d}" for n in range(MAX_PHONES)]
    html = support_client.post(
        reverse("customers:create"), create_form(codes, phones=many, add_phone="1")
    ).text
    assert len(re.findall(r'<input type="tel" name="phones"', html)) == MAX_PHONES
    assert re.search(r'<button[^>]*id="add-phone"[^>]* disabled>', html)
    fewer = support_client.post(
        reverse("customers:create"), create_form(codes, phones=many[:3], add_phone="1")
    ).text
    assert not re.search(r'<button[^>]*id="add-phone"[^>]* disabled>', fewer)


@pytest.mark.django_db
def test_each_phone_row_has_a_plain_remove_button_and_enter_still_saves(support_client, codes):
    html = support_client.post(
        reverse("customers:create"), create_form(codes, phones=PHONES, add_phone="1")
    ).text

    removes = re.findall(r'<button type="submit" name="remove_phone" value="(\d+)"', html)
    assert removes == ["0", "1", "2", "3"]
    form = html[html.index('<form method="post" class="card customer-form"') :]
    first_submit = re.search(r"<button type=\"submit\"[^>]*>", form).group(0)
    assert "name=" not in first_submit  # Enter presses this one: it saves


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("existing", "suggested"),
    [
        ([], ""),
        (["KH0001"], "KH0002"),
        (["KH0001", "KH0019", "KH0007"], "KH0020"),
        (["KH9"], "KH10"),
        (["VIP_ABC"], ""),
        (["A-0099", "KH0001", "KH0002", "kh0003"], "kh0004"),  # as the latest is written
        (["kh0009", "KH0001"], "KH0010"),  # case never tells two codes apart
        (["KH0010", "kh0009", "KH0001"], "KH0011"),
        (["KH0002", "KH0001"], "KH0003"),  # the latest is KH0001; KH0002 is taken
    ],
)
def test_the_create_form_suggests_the_next_free_code(support_client, codes, existing, suggested):
    for number, code in enumerate(existing):
        make_customer(code, f"Khách {number}", [f"09000000{number:02d}"], codes=codes)

    html = support_client.get(reverse("customers:create")).text

    assert selectors.next_free_code() == suggested
    field = re.search(r'<input type="text" name="code"[^>]*>', html).group(0)
    assert (f'value="{suggested}"' in field) if suggested else ("value=" not in field)


@pytest.mark.django_db
def test_save_and_add_another_customer(crm, support_client, codes):
    expect_call(crm, "/api/crm/customer/create", CREATE_WIRE, json=envelope(data="KH0001"))

    response = support_client.post(
        reverse("customers:create"), create_form(codes, save_and_add="1"), follow=True
    )

    assert response.redirect_chain == [(reverse("customers:create"), 302)]
    assert "Customer KH0001 was created." in response.text
    assert re.search(r'<input type="text" name="code" value="KH0002"', response.text)
    assert Customer.objects.get().code == "KH0001"


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["statuses", "types", "groups", "fields"])
def test_save_and_add_another_reference_code(crm, client_as, kind):
    wire = {"statuses": "status", "types": "type", "groups": "group", "fields": "field"}[kind]
    body = {f"{wire}_no": "X1", f"{wire}_name": "Tên"}
    data = {"code": "X1", "name": "Tên"}
    if kind == "fields":
        body["field_type"] = data["field_type"] = "text"
    expect_call(crm, f"/api/crm/{wire}/create", body, json=envelope(data="X1"))

    response = client_as("administrator").post(
        reverse("codes:create", kwargs={"kind": kind}), {**data, "save_and_add": "1"}, follow=True
    )

    assert response.redirect_chain == [(reverse("codes:create", kwargs={"kind": kind}), 302)]
    assert "X1 was created." in response.text
