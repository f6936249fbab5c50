"""Every kind and every action, through the screens: the exact wire body, the register after
success, and after a rejection or a timeout an unchanged register, the input kept and the
reason shown."""

import pytest
import requests
from django.urls import reverse

from crmadmin.audit.models import AuditEntry
from crmadmin.kinds import REFERENCE_KINDS as KINDS
from tests.crm import envelope, expect_call

from .conftest import make_record

# slug → what an administrator types in the create form, and the exact body the CRM gets.
CREATE = {
    "statuses": (
        "/api/crm/status/create",
        {"code": "VIP", "name": "Khách VIP"},
        {"status_no": "VIP", "status_name": "Khách VIP"},
    ),
    "types": (
        "/api/crm/type/create",
        {"code": "DOANH_NGHIEP", "name": "Doanh nghiệp"},
        {"type_no": "DOANH_NGHIEP", "type_name": "Doanh nghiệp"},
    ),
    "groups": (
        "/api/crm/group/create",
        {"code": "HN", "name": "Hà Nội", "description": "Khách miền Bắc"},
        {"group_no": "HN", "group_name": "Hà Nội", "group_description": "Khách miền Bắc"},
    ),
    "fields": (
        "/api/crm/field/create",
        {"code": "NGAY_SINH", "name": "Ngày sinh", "field_type": "date", "description": "DOB"},
        {
            "field_no": "NGAY_SINH",
            "field_name": "Ngày sinh",
            "field_type": "date",
            "field_description": "DOB",
        },
    ),
}

# slug → (existing record, the edit form's input, the exact body).
UPDATE = {
    "statuses": (
        {"code": "VIP", "name": "VIP"},
        "/api/crm/status/update",
        {"name": "Khách hàng VIP"},
        {"status_no": "VIP", "status_name": "Khách hàng VIP"},
    ),
    "types": (
        {"code": "CA_NHAN", "name": "Ca nhan"},
        "/api/crm/type/update",
        {"name": "Cá nhân"},
        {"type_no": "CA_NHAN", "type_name": "Cá nhân"},
    ),
    "groups": (
        {"code": "HN", "name": "Ha Noi", "description": "Bắc"},
        "/api/crm/group/update",
        {"name": "Hà Nội", "description": "Hà Nội và các tỉnh phía Bắc"},
        {
            "group_no": "HN",
            "group_name": "Hà Nội",
            "group_description": "Hà Nội và các tỉnh phía Bắc",
        },
    ),
    "fields": (
        {"code": "WEBSITE", "name": "Web", "field_type": "text", "description": ""},
        "/api/crm/field/update",
        {"name": "Website", "field_type": "url", "description": "Trang web công ty"},
        {
            "field_no": "WEBSITE",
            "field_name": "Website",
            "field_type": "url",
            "field_description": "Trang web công ty",
        },
    ),
}

RENAME = {
    "statuses": ("/api/crm/status/updateNo", "status_no_old", "status_no_new"),
    "types": ("/api/crm/type/updateNo", "type_no_old", "type_no_new"),
    "groups": ("/api/crm/group/updateNo", "group_no_old", "group_no_new"),
    "fields": ("/api/crm/field/updateNo", "field_no_old", "field_no_new"),
}

DELETE = {
    "statuses": ("/api/crm/status/delete", "status_no"),
    "types": ("/api/crm/type/delete", "type_no"),
    "groups": ("/api/crm/group/delete", "group_no"),
    "fields": ("/api/crm/field/delete", "field_no"),
}

SLUGS = sorted(KINDS)
REJECTION = {"json": envelope(data=None, status=0, error=409, message="Mã đã tồn tại trên CRM")}
REJECTION_SHOWN = ("Mã đã tồn tại trên CRM", "409")
TIMEOUT = {"body": requests.exceptions.ReadTimeout("read timed out")}
TIMEOUT_SHOWN = ("did not answer within",)

pytestmark = pytest.mark.django_db


def test_the_cases_cover_every_kind_in_the_table():
    assert set(KINDS) == set(CREATE) == set(UPDATE) == set(RENAME) == set(DELETE)


def register_state(slug):
    kind = KINDS[slug]
    return sorted(
        (record.code, record.name, *(getattr(record, d.attr) for d in kind.details))
        for record in kind.model.objects.all()
    )


def record_of(slug, code):
    return KINDS[slug].model.objects.get(code=code)


def the_entry():
    return AuditEntry.objects.get()


# --- create --------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_create_sends_the_exact_body_then_adds_to_the_register(slug, crm, admin_client):
    path, form, body = CREATE[slug]
    expect_call(crm, path, body, json=envelope(data=form["code"]))

    response = admin_client.post(reverse("codes:create", kwargs={"kind": slug}), form)

    assert response.status_code == 302
    assert response["Location"] == reverse("codes:list", kwargs={"kind": slug})
    record = record_of(slug, form["code"])
    for attr, value in form.items():
        assert getattr(record, attr) == value
    assert record.created_by == admin_client.user
    assert record.updated_by == admin_client.user
    entry = the_entry()
    assert (entry.outcome, entry.actor, entry.snapshot_before) == (
        "succeeded",
        admin_client.user,
        None,
    )
    page = admin_client.get(response["Location"]).content.decode()
    assert f"{form['code']} was created" in page


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize(
    ("answer", "shown"), [(REJECTION, REJECTION_SHOWN), (TIMEOUT, TIMEOUT_SHOWN)]
)
def test_create_failure_keeps_register_and_input(slug, answer, shown, crm, admin_client):
    path, form, body = CREATE[slug]
    make_record(slug, "OTHER", "Một mã khác")
    before = register_state(slug)
    expect_call(crm, path, body, **answer)

    response = admin_client.post(reverse("codes:create", kwargs={"kind": slug}), form)

    assert response.status_code == 200
    assert register_state(slug) == before
    page = response.content.decode()
    for text in shown:
        assert text in page
    form_obj = response.context["form"]
    assert {name: form_obj[name].value() for name in form} == form
    assert f'value="{form["code"]}"' in page
    assert f'value="{form["name"]}"' in page
    assert the_entry().outcome in ("rejected", "failed")


# --- update --------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_update_sends_the_exact_body_then_changes_the_register(slug, crm, admin_client):
    existing, path, form, body = UPDATE[slug]
    record = make_record(slug, **existing)
    expect_call(crm, path, body, json=envelope(data=existing["code"]))

    response = admin_client.post(
        reverse("codes:edit", kwargs={"kind": slug, "code": record.code}), form
    )

    assert response.status_code == 302
    record.refresh_from_db()
    for attr, value in form.items():
        assert getattr(record, attr) == value
    assert record.updated_by == admin_client.user
    entry = the_entry()
    assert entry.outcome == "succeeded"
    assert entry.snapshot_before == existing


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize(
    ("answer", "shown"), [(REJECTION, REJECTION_SHOWN), (TIMEOUT, TIMEOUT_SHOWN)]
)
def test_update_failure_keeps_register_and_input(slug, answer, shown, crm, admin_client):
    existing, path, form, body = UPDATE[slug]
    record = make_record(slug, **existing)
    before = register_state(slug)
    expect_call(crm, path, body, **answer)

    response = admin_client.post(
        reverse("codes:edit", kwargs={"kind": slug, "code": record.code}), form
    )

    assert response.status_code == 200
    assert register_state(slug) == before
    page = response.content.decode()
    for text in shown:
        assert text in page
    form_obj = response.context["form"]
    assert {name: form_obj[name].value() for name in form} == form
    assert f'value="{form["name"]}"' in page


# --- rename --------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_rename_sends_old_and_new_code_then_renames_in_the_register(slug, crm, admin_client):
    path, old_key, new_key = RENAME[slug]
    record = make_record(slug, "VIP", "Khách VIP")
    expect_call(crm, path, {old_key: "VIP", new_key: "VIP_2025"}, json=envelope(data="VIP_2025"))

    response = admin_client.post(
        reverse("codes:rename", kwargs={"kind": slug, "code": "VIP"}), {"new_code": " VIP_2025 "}
    )

    assert response.status_code == 302
    renamed = KINDS[slug].model.objects.get(pk=record.pk)
    assert (renamed.code, renamed.name, renamed.updated_by) == (
        "VIP_2025",
        "Khách VIP",
        admin_client.user,
    )
    assert not KINDS[slug].model.objects.filter(code="VIP").exists()
    entry = the_entry()
    assert (entry.outcome, entry.code, entry.new_code) == ("succeeded", "VIP", "VIP_2025")
    assert entry.snapshot_before["code"] == "VIP"
    page = admin_client.get(response["Location"]).content.decode()
    assert "VIP is now VIP_2025" in page


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize(
    ("answer", "shown"), [(REJECTION, REJECTION_SHOWN), (TIMEOUT, TIMEOUT_SHOWN)]
)
def test_rename_failure_keeps_register_and_input(slug, answer, shown, crm, admin_client):
    path, old_key, new_key = RENAME[slug]
    make_record(slug, "VIP", "Khách VIP")
    before = register_state(slug)
    expect_call(crm, path, {old_key: "VIP", new_key: "VIP_2025"}, **answer)

    response = admin_client.post(
        reverse("codes:rename", kwargs={"kind": slug, "code": "VIP"}), {"new_code": "VIP_2025"}
    )

    assert response.status_code == 200
    assert register_state(slug) == before
    page = response.content.decode()
    for text in shown:
        assert text in page
    assert 'value="VIP_2025"' in page
    # The page still names the record by its current code.
    assert response.context["record"].code == "VIP"


# --- delete --------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_delete_sends_the_code_then_removes_it_from_the_register(slug, crm, admin_client):
    path, key = DELETE[slug]
    make_record(slug, "CU", "Cũ")
    make_record(slug, "KEEP", "Giữ lại")
    expect_call(crm, path, {key: "CU"}, json=envelope(data=True))

    response = admin_client.post(reverse("codes:delete", kwargs={"kind": slug, "code": "CU"}))

    assert response.status_code == 302
    assert [r.code for r in KINDS[slug].model.objects.all()] == ["KEEP"]
    entry = the_entry()
    assert (entry.outcome, entry.code, entry.actor) == ("succeeded", "CU", admin_client.user)
    assert entry.snapshot_before["name"] == "Cũ"
    page = admin_client.get(response["Location"]).content.decode()
    assert "CU was deleted" in page


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize(
    ("answer", "shown"), [(REJECTION, REJECTION_SHOWN), (TIMEOUT, TIMEOUT_SHOWN)]
)
def test_delete_failure_keeps_the_record_and_says_why(slug, answer, shown, crm, admin_client):
    path, key = DELETE[slug]
    make_record(slug, "CU", "Cũ")
    before = register_state(slug)
    expect_call(crm, path, {key: "CU"}, **answer)

    response = admin_client.post(reverse("codes:delete", kwargs={"kind": slug, "code": "CU"}))

    assert response.status_code == 200
    assert register_state(slug) == before
    page = response.content.decode()
    for text in shown:
        assert text in page
    # Still offered: the user may try again.
    assert 'type="submit" class="danger"' in page


# --- optional details ------------------------------------------------------------------


def test_a_blank_description_is_left_out_of_a_create(crm, admin_client):
    expect_call(
        crm,
        "/api/crm/group/create",
        {"group_no": "DN", "group_name": "Đà Nẵng"},
        json=envelope(data="DN"),
    )

    response = admin_client.post(
        reverse("codes:create", kwargs={"kind": "groups"}),
        {"code": "DN", "name": "Đà Nẵng", "description": "  "},
    )

    assert response.status_code == 302
    assert record_of("groups", "DN").description == ""


def test_clearing_a_description_sends_it_empty_so_the_crm_clears_it_too(crm, admin_client):
    make_record("fields", "GHI_CHU", "Ghi chú", field_type="textarea", description="Cũ")
    expect_call(
        crm,
        "/api/crm/field/update",
        {
            "field_no": "GHI_CHU",
            "field_name": "Ghi chú",
            "field_type": "textarea",
            "field_description": "",
        },
        json=envelope(data="GHI_CHU"),
    )

    response = admin_client.post(
        reverse("codes:edit", kwargs={"kind": "fields", "code": "GHI_CHU"}),
        {"name": "Ghi chú", "field_type": "textarea", "description": ""},
    )

    assert response.status_code == 302
    assert record_of("fields", "GHI_CHU").description == ""


def test_an_unknown_field_type_is_kept_when_only_the_name_changes(crm, admin_client):
    make_record("fields", "KIND", "Loại", field_type="CUSTOMER_INFORMATION_KIND")
    edit_url = reverse("codes:edit", kwargs={"kind": "fields", "code": "KIND"})

    page = admin_client.get(edit_url).content.decode()
    assert '<option value="CUSTOMER_INFORMATION_KIND" selected>' in page
    list_page = admin_client.get(reverse("codes:list", kwargs={"kind": "fields"}))
    assert "CUSTOMER_INFORMATION_KIND" in list_page.content.decode()

    expect_call(
        crm,
        "/api/crm/field/update",
        {"field_no": "KIND", "field_name": "Loại khách", "field_type": "CUSTOMER_INFORMATION_KIND"},
        json=envelope(data="KIND"),
    )
    response = admin_client.post(
        edit_url, {"name": "Loại khách", "field_type": "CUSTOMER_INFORMATION_KIND"}
    )
    assert response.status_code == 302
    assert record_of("fields", "KIND").field_type == "CUSTOMER_INFORMATION_KIND"


def test_a_field_type_outside_the_known_ones_cannot_be_chosen_for_a_new_field(admin_client):
    response = admin_client.post(
        reverse("codes:create", kwargs={"kind": "fields"}),
        {"code": "X", "name": "X", "field_type": "CUSTOMER_INFORMATION_KIND"},
    )

    assert response.status_code == 200
    assert response.context["form"].has_error("field_type", "invalid_choice")
    assert AuditEntry.objects.count() == 0
