"""Issue 10 item 4 for the reference codes: a duplicate code at the code field (create and
change of code, every kind), a group name already used at the name field, the CRM's own
words as a detail line, the input kept and the HTTP status as before (200)."""

import re

import pytest
from django.urls import reverse

from crmadmin.kinds import REFERENCE_KINDS as KINDS
from tests.crm import envelope, expect_call

from .conftest import make_record
from .test_writes import CREATE

pytestmark = pytest.mark.django_db


def refused(error, message):
    return {"json": envelope(data=None, status=0, error=error, message=message)}


def field_errors(text: str, field_id: str) -> str:
    found = re.search(rf'<ul class="errorlist" id="{field_id}_error">(.*?)</ul>', text, re.S)
    return found.group(1) if found else ""


@pytest.mark.parametrize("slug", list(KINDS))
def test_a_duplicate_code_on_create_is_shown_at_the_code_field(crm, admin_client, slug):
    path, typed, wire = CREATE[slug]
    words = f"Mã {KINDS[slug].crm_label} đã tồn tại: {typed['code']}."
    expect_call(crm, path, wire, **refused(1101, words))

    response = admin_client.post(reverse("codes:create", kwargs={"kind": slug}), typed)

    assert response.status_code == 200
    at_field = field_errors(response.text, "id_code")
    assert "The CRM already has a record with this code." in at_field
    assert f"The CRM said: “{words}” (error 1101)" in at_field
    assert f'value="{typed["code"]}"' in response.text
    assert f'value="{typed["name"]}"' in response.text
    assert not KINDS[slug].model.objects.exists()


@pytest.mark.parametrize("slug", list(KINDS))
def test_a_duplicate_new_code_is_shown_at_the_new_code_field(crm, admin_client, slug):
    kind = KINDS[slug]
    make_record(slug, "OLD")
    expect_call(
        crm,
        f"/api/crm/{kind.name}/updateNo",
        {kind.key("no_old"): "OLD", kind.key("no_new"): "TAKEN"},
        **refused(1101, "Mã đã tồn tại: TAKEN."),
    )

    response = admin_client.post(
        reverse("codes:rename", kwargs={"kind": slug, "code": "OLD"}),
        {"new_code": "TAKEN"},
        HTTP_ACCEPT_LANGUAGE="vi",
    )

    assert response.status_code == 200
    at_field = field_errors(response.text, "id_new_code")
    assert "CRM đã có một bản ghi mang mã này." in at_field
    assert "CRM trả lời: “Mã đã tồn tại: TAKEN.” (mã lỗi 1101)" in at_field
    assert 'value="TAKEN"' in response.text
    assert kind.model.objects.get().code == "OLD"


@pytest.mark.parametrize(
    ("action", "url_name", "wire_path", "data", "wire"),
    [
        (
            "create",
            "codes:create",
            "/api/crm/group/create",
            {"code": "HN2", "name": "Hà Nội"},
            {"group_no": "HN2", "group_name": "Hà Nội"},
        ),
        (
            "update",
            "codes:edit",
            "/api/crm/group/update",
            {"name": "Hà Nội"},
            {"group_no": "HCM", "group_name": "Hà Nội"},
        ),
    ],
)
def test_a_group_name_already_used_is_shown_at_the_name_field(
    crm, admin_client, action, url_name, wire_path, data, wire
):
    make_record("groups", "HCM", "Hồ Chí Minh")
    expect_call(crm, wire_path, wire, **refused(1108, "Tên nhóm khách hàng đã được dùng: Hà Nội."))
    kwargs = {"kind": "groups"} if action == "create" else {"kind": "groups", "code": "HCM"}

    response = admin_client.post(reverse(url_name, kwargs=kwargs), data)

    assert response.status_code == 200
    at_field = field_errors(response.text, "id_name")
    assert "The CRM already has a group with this name." in at_field
    assert "Tên nhóm khách hàng đã được dùng: Hà Nội." in at_field
    assert 'value="Hà Nội"' in response.text


def test_an_unmapped_code_keeps_the_general_message(crm, admin_client, settings):
    settings.CRM_REJECTION_CODES = {"1101": "not_found"}  # 1101 no longer a duplicate
    path, typed, wire = CREATE["statuses"]
    expect_call(crm, path, wire, **refused(9999, "Không xác định"))

    response = admin_client.post(reverse("codes:create", kwargs={"kind": "statuses"}), typed)

    assert "The CRM rejected the request: Không xác định (error 9999)" in response.text
    assert field_errors(response.text, "id_code") == ""


def test_the_remapped_table_places_the_deployments_own_code(crm, admin_client, settings):
    settings.CRM_REJECTION_CODES = {"DUP-01": "duplicate_code"}
    path, typed, wire = CREATE["types"]
    expect_call(crm, path, wire, **refused("DUP-01", "duplicate"))

    response = admin_client.post(reverse("codes:create", kwargs={"kind": "types"}), typed)

    at_field = field_errors(response.text, "id_code")
    assert "The CRM already has a record with this code." in at_field
    assert "The CRM said: “duplicate” (error DUP-01)" in at_field
