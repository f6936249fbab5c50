"""The screen kit: one way to answer a page or its htmx partial, one sort header, one
pager, one form field, one code field, and stylesheets that do not fight each other."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from crmadmin.audit.models import AuditEntry
from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.core.codes import CODE_MAX_LENGTH
from crmadmin.customers.models import Customer
from crmadmin.kinds import REFERENCE_KINDS as KINDS
from crmadmin.sandbox import models as sandbox_models
from tests.audit.conftest import entry_fields
from tests.crm import envelope, expect_call
from tests.customers.conftest import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference(db):
    return {
        "status": Status.objects.create(code="MOI", name="Mới"),
        "type": Type.objects.create(code="CA_NHAN", name="Cá nhân"),
        "group": Group.objects.create(code="HN", name="Hà Nội"),
    }


@pytest.fixture
def crowded(reference):
    """More than one page of every list."""
    for number in range(30):
        make_customer(
            f"KH{number:03d}", f"Khách {number}", [f"09000000{number:02d}"], codes=reference
        )
        Status.objects.create(code=f"S{number:02d}", name=f"Trạng thái {number}")
    AuditEntry.objects.bulk_create(
        [AuditEntry(**entry_fields(code=f"C{number}")) for number in range(60)]
    )


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client


LISTS = {
    "customers": (reverse("customers:list"), '<input type="hidden" name="sort" id="id_sort"'),
    "statuses": (reverse("codes:list", kwargs={"kind": "statuses"}), '<div id="code-results"'),
    "audit": (reverse("audit:list"), '<form id="audit-filters"'),
}


@pytest.mark.parametrize("screen", LISTS)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "partial"])
def test_every_list_varies_on_hx_request_and_answers_page_or_partial(
    superuser_client, crowded, screen, htmx
):
    url, partial_start = LISTS[screen]
    headers = {"HX-Request": "true"} if htmx else {}

    response = superuser_client.get(url, headers=headers)

    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    text = response.text
    if htmx:
        assert "<html" not in text
        assert text.lstrip().startswith(partial_start)
    else:
        assert "<html" in text
        assert partial_start in text


def test_a_history_restore_gets_the_whole_page(superuser_client, crowded):
    response = superuser_client.get(
        reverse("customers:list"),
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )

    assert "<html" in response.text
    assert "HX-Request" in response["Vary"]


SORTED = {
    "customers": (reverse("customers:list"), {"sort": "-name"}, "descending"),
    "statuses": (reverse("codes:list", kwargs={"kind": "statuses"}), {"sort": "name"}, "ascending"),
    "audit": (reverse("audit:list"), {}, "descending"),
}


@pytest.mark.parametrize("screen", SORTED)
def test_sort_arrows_are_hidden_from_screen_readers(superuser_client, crowded, screen):
    url, query, direction = SORTED[screen]

    text = superuser_client.get(url, query).text

    header = re.search(rf'<th scope="col" aria-sort="{direction}">(.*?)</th>', text, re.S)
    assert header, f"no header sorted {direction}"
    arrow = "▲" if direction == "ascending" else "▼"
    assert f'<span class="sort-arrow" aria-hidden="true">{arrow}</span>' in header.group(1)
    # No arrow anywhere a screen reader would read it out.
    visible = re.sub(r'<span class="sort-arrow" aria-hidden="true">[▲▼]</span>', "", text)
    assert "▲" not in visible and "▼" not in visible


PAGED = {
    "customers": (reverse("customers:list"), "Page 1 of 2"),
    "statuses": (reverse("codes:list", kwargs={"kind": "statuses"}), "Page 1 of 2"),
    "audit": (reverse("audit:list"), ""),
}


@pytest.mark.parametrize("screen", PAGED)
def test_every_list_pages_with_the_one_pager(superuser_client, crowded, screen):
    url, summary = PAGED[screen]

    text = superuser_client.get(url).text

    pager = re.search(r'<nav class="pager" aria-label="Pages">(.*?)</nav>', text, re.S)
    assert pager
    assert re.search(r'<a href="[^"]+" hx-get="[^"]+"[^>]* rel="next"', pager.group(1))
    assert '<span aria-hidden="true">→</span>' in pager.group(1)
    assert summary in pager.group(1)
    assert 'rel="prev"' not in pager.group(1)


def _invalid_forms(reference):
    customer = make_customer("KH001", "An", codes=reference)
    return {
        "customer create": (reverse("customers:create"), {"code": "KH 1"}, "code"),
        "customer rename": (
            reverse("customers:rename", kwargs={"code": customer.code}),
            {"new_code": "?"},
            "new_code",
        ),
        "status create": (
            reverse("codes:create", kwargs={"kind": "statuses"}),
            {"code": ""},
            "code",
        ),
        "status rename": (
            reverse("codes:rename", kwargs={"kind": "statuses", "code": "MOI"}),
            {"new_code": "A B"},
            "new_code",
        ),
        "group edit": (
            reverse("codes:edit", kwargs={"kind": "groups", "code": "HN"}),
            {"name": ""},
            "name",
        ),
    }


FORMS = ["customer create", "customer rename", "status create", "status rename", "group edit"]


@pytest.mark.parametrize("form", FORMS)
def test_an_invalid_field_is_marked_described_and_its_label_says_required(
    superuser_client, reference, form
):
    url, data, name = _invalid_forms(reference)[form]

    text = superuser_client.post(url, data).text

    field_id = f"id_{name}"
    widget = re.search(rf'<input[^>]*id="{field_id}"[^>]*>', text).group(0)
    assert 'aria-invalid="true"' in widget
    described_by = re.search(r'aria-describedby="([^"]+)"', widget).group(1).split()
    assert f"{field_id}_error" in described_by
    for described in described_by:
        assert f'id="{described}"' in text
    assert re.search(rf'<ul class="errorlist" id="{field_id}_error"><li>[^<]+</li></ul>', text)
    label = re.search(rf'<label for="{field_id}"[^>]*>(.*?)</label>', text, re.S).group(0)
    assert 'class="has-error"' in label
    assert '<abbr class="required" title="required">*</abbr>' in label


# --- One code field, one validator, one case policy -------------------------------------

CODE_FORMS = {
    "customers": lambda: (reverse("customers:create"), "code"),
    **{
        slug: (lambda slug=slug: (reverse("codes:create", kwargs={"kind": slug}), "code"))
        for slug in KINDS
    },
}


@pytest.mark.parametrize("kind", CODE_FORMS)
@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("KH 01", "no spaces"),
        ("-KH", "starting with a letter or a digit"),
        ("KHÁCH", "without accents"),
        ("..", "at least one letter or digit"),
        ("X" * (CODE_MAX_LENGTH + 1), f"at most {CODE_MAX_LENGTH} characters"),
    ],
)
def test_every_kind_refuses_the_same_malformed_codes(superuser_client, kind, code, message):
    url, field = CODE_FORMS[kind]()

    response = superuser_client.post(url, {field: code, "name": "Tên"})

    assert response.status_code in (200, 422)
    assert message in " ".join(response.context["form"].errors[field])


def _existing(kind: str, reference) -> str:
    if kind == "customers":
        make_customer("KH0001", "An", codes=reference)
        return "KH0001"
    model = KINDS[kind].model
    extra = {"field_type": "text"} if model is Field else {}
    model.objects.create(code="VIP_1", name="Khách VIP", **extra)
    return "VIP_1"


@pytest.mark.parametrize("kind", CODE_FORMS)
def test_every_kind_refuses_a_code_that_differs_only_in_case(superuser_client, reference, kind):
    existing = _existing(kind, reference)
    url, field = CODE_FORMS[kind]()

    response = superuser_client.post(url, {field: existing.lower(), "name": "Khác"})

    assert response.status_code in (200, 422)
    errors = " ".join(response.context["form"].errors[field])
    assert existing in errors and ("already has the code" in errors or "already taken" in errors)
    assert not AuditEntry.objects.exists()


def test_customer_may_change_only_the_case_of_its_own_code(crm, superuser_client, reference):
    make_customer("kh0001", "An", codes=reference)
    expect_call(
        crm,
        "/api/crm/customer/updateNO",
        {"customer_no_old": "kh0001", "customer_no_new": "KH0001"},
        json=envelope(data="KH0001"),
    )

    response = superuser_client.post(
        reverse("customers:rename", kwargs={"code": "kh0001"}), {"new_code": "KH0001"}
    )

    assert response.status_code == 302
    assert Customer.objects.get().code == "KH0001"


@pytest.mark.parametrize(
    "model", [Customer, Status, Type, Group, Field, sandbox_models.SandboxCustomer]
)
def test_the_code_length_is_defined_once(model):
    assert model._meta.get_field("code").max_length == CODE_MAX_LENGTH


# --- Stylesheets ------------------------------------------------------------------------

APP_SHEETS = sorted((Path(settings.BASE_DIR) / "static" / "css").glob("*.css"))


def _selectors(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"@media[^{]*{", "", css)
    return [
        selector.strip()
        for block in re.findall(r"([^{}]+){[^{}]*}", css)
        for selector in block.split(",")
        if selector.strip()
    ]


@pytest.mark.parametrize(
    "sheet", [p for p in APP_SHEETS if p.name != "app.css"], ids=lambda p: p.name
)
def test_per_app_stylesheets_style_only_their_own_screens(sheet):
    """Every selector names something of its own screens (a class or id that app.css does
    not define), so loading a screen's sheet never restyles the rest of the page."""
    global_names = {
        name
        for selector in _selectors((sheet.parent / "app.css").read_text())
        for name in re.findall(r"[.#][\w-]+", selector)
    }
    for selector in _selectors(sheet.read_text()):
        own = [name for name in re.findall(r"[.#][\w-]+", selector) if name not in global_names]
        assert own, f"{sheet.name}: {selector!r} restyles what app.css defines for every page"
