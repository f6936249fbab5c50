"""What the forms accept as a code, and clashes with the register."""

import pytest
from django.urls import reverse

from crmadmin.audit.models import AuditEntry
from crmadmin.codes import services
from crmadmin.kinds import REFERENCE_KINDS as KINDS
from tests.crm import envelope, expect_call

from .conftest import make_record

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("", "required"),
        ("   ", "required"),
        ("KHÁCH", "invalid_code"),  # letters without accents only
        ("KHACH VIP", "invalid_code"),
        ("VIP/2", "invalid_code"),
        ("VIP#1", "invalid_code"),
        ("..", "dots"),
        ("X" * 65, "max_length"),
        ("new", "reserved"),  # /codes/statuses/new/ is the create page
        ("NEW", "reserved"),
    ],
)
def test_create_refuses_a_malformed_code_before_calling_the_crm(client_as, code, error):
    response = client_as("administrator").post(
        reverse("codes:create", kwargs={"kind": "statuses"}), {"code": code, "name": "Tên"}
    )

    assert response.status_code == 200
    assert response.context["form"].has_error("code", error)
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize("code", ["VIP", "vip_2025", "B2B.v-2", "9", "X" * 64])
def test_create_accepts_letters_digits_underscore_dash_and_dot(crm, client_as, code):
    expect_call(
        crm,
        "/api/crm/type/create",
        {"type_no": code, "type_name": "Tên"},
        json=envelope(data=code),
    )

    response = client_as("administrator").post(
        reverse("codes:create", kwargs={"kind": "types"}), {"code": f" {code} ", "name": " Tên "}
    )

    assert response.status_code == 302
    assert KINDS["types"].model.objects.get().code == code


@pytest.mark.parametrize("taken", ["VIP", "vip"])
def test_create_refuses_a_code_the_register_already_holds_in_any_case(client_as, taken):
    make_record("statuses", "VIP", "Khách VIP")

    response = client_as("administrator").post(
        reverse("codes:create", kwargs={"kind": "statuses"}), {"code": taken, "name": "Khác"}
    )

    assert response.status_code == 200
    assert response.context["form"].has_error("code", "taken")
    assert "The code VIP is already taken by “Khách VIP”." in response.content.decode()
    assert AuditEntry.objects.count() == 0


def test_the_same_code_in_another_kind_is_no_clash(crm, client_as):
    make_record("statuses", "VIP", "Khách VIP")
    expect_call(
        crm, "/api/crm/group/create", {"group_no": "VIP", "group_name": "Nhóm VIP"}, json=envelope()
    )

    response = client_as("administrator").post(
        reverse("codes:create", kwargs={"kind": "groups"}), {"code": "VIP", "name": "Nhóm VIP"}
    )

    assert response.status_code == 302


@pytest.mark.parametrize(
    ("new_code", "error"),
    [
        ("VIP", "unchanged"),
        ("MOI", "taken"),
        ("moi", "taken"),
        ("MỚI", "invalid_code"),
        ("A B", "invalid_code"),
        ("", "required"),
        ("new", "reserved"),
    ],
)
def test_rename_refuses_an_unchanged_clashing_or_malformed_code(client_as, new_code, error):
    make_record("statuses", "VIP", "Khách VIP")
    make_record("statuses", "MOI", "Mới")

    response = client_as("administrator").post(
        reverse("codes:rename", kwargs={"kind": "statuses", "code": "VIP"}),
        {"new_code": new_code},
    )

    assert response.status_code == 200
    assert response.context["form"].has_error("new_code", error)
    assert AuditEntry.objects.count() == 0


def test_rename_may_change_only_the_case_of_a_code(crm, client_as):
    make_record("statuses", "vip", "Khách VIP")
    expect_call(
        crm,
        "/api/crm/status/updateNo",
        {"status_no_old": "vip", "status_no_new": "VIP"},
        json=envelope(data="VIP"),
    )

    response = client_as("administrator").post(
        reverse("codes:rename", kwargs={"kind": "statuses", "code": "vip"}), {"new_code": "VIP"}
    )

    assert response.status_code == 302
    assert KINDS["statuses"].model.objects.get().code == "VIP"


def test_a_name_is_required(client_as):
    make_record("statuses", "VIP", "Khách VIP")

    response = client_as("administrator").post(
        reverse("codes:edit", kwargs={"kind": "statuses", "code": "VIP"}), {"name": "  "}
    )

    assert response.context["form"].has_error("name", "required")
    assert AuditEntry.objects.count() == 0


def test_the_service_refuses_a_taken_code_without_calling_the_crm(crm, administrator_user):
    make_record("statuses", "VIP", "Khách VIP")

    with pytest.raises(services.CodeTaken):
        services.code_create(
            kind=KINDS["statuses"], actor=administrator_user, code="vip", name="Khác"
        )

    assert len(crm.calls) == 0
    assert AuditEntry.objects.count() == 0


def test_the_service_refuses_details_the_kind_does_not_have(administrator_user):
    with pytest.raises(TypeError):
        services.code_create(
            kind=KINDS["statuses"], actor=administrator_user, code="X", name="X", description="?"
        )
