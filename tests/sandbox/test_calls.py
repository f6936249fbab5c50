"""The sandbox's 20 CRM calls: routing, authorization, the envelope and every error code."""

import json

import pytest

from crmadmin.sandbox.errors import ErrorCode
from crmadmin.sandbox.models import SandboxCode, SandboxCustomer
from tests.crm import TENANT
from tests.sandbox.helpers import CUSTOMER, FIELD, GROUP, STATUS, TYPE, ok, rejected

pytestmark = pytest.mark.django_db

# --- Routing and authorization ---------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["api/crm/status/create", "API/CRM/Status/Create", "Api/Crm/STATUS/create/"],
)
def test_paths_match_case_insensitively(client, access_token, path):
    response = client.post(
        f"/sandbox/{path}",
        json.dumps({**TENANT, **STATUS}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {access_token}"},
    )

    assert response.json() == ok("VIP")


@pytest.mark.parametrize("spelling", ["updateNo", "updateNO", "updateno", "UPDATENO"])
def test_every_spelling_of_update_no_is_the_same_call(crm, spelling):
    crm("status/create", STATUS)

    response = crm(f"status/{spelling}", {"status_no_old": "VIP", "status_no_new": "VIP2"})

    assert response.json() == ok("VIP2")


def test_unknown_paths_answer_404_json(crm, client):
    for path in ("api/crm/status/list", "api/crm/invoice/create", "api/crm/status", "nothing"):
        response = client.post(f"/sandbox/{path}", "{}", content_type="application/json")
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json"
        assert "No HTTP resource was found" in response.json()["message"]


def test_calls_are_post_only(client):
    response = client.get("/sandbox/api/crm/status/create")

    assert response.status_code == 405
    assert response["Allow"] == "POST"


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer made-up-token", "Basic c2FuZGJveDpzYW5kYm94LXBhc3N3b3Jk"],
)
def test_calls_without_a_valid_token_answer_401(client, db, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}

    response = client.post(
        "/sandbox/api/crm/status/create",
        json.dumps({**TENANT, **STATUS}),
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 401
    assert response.json() == {"message": "Authorization has been denied for this request."}
    assert response["WWW-Authenticate"] == "Bearer"
    assert not SandboxCode.objects.exists()


def test_the_bearer_scheme_is_case_insensitive(client, access_token):
    response = client.post(
        "/sandbox/api/crm/status/create",
        json.dumps({**TENANT, **STATUS}),
        content_type="application/json",
        headers={"Authorization": f"bearer {access_token}"},
    )

    assert response.json() == ok("VIP")


def test_authorization_is_checked_before_the_body(client, db):
    response = client.post(
        "/sandbox/api/crm/status/create", "not json", content_type="application/json"
    )

    assert response.status_code == 401


def test_no_csrf_token_or_session_is_needed(access_token):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    response = strict.post(
        "/sandbox/api/crm/status/create",
        json.dumps({**TENANT, **STATUS}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {access_token}"},
    )

    assert response.json() == ok("VIP")


# --- The envelope of success ----------------------------------------------------


def test_the_20_calls_answer_the_contract_envelope(crm):
    answers = [
        crm("status/create", STATUS),
        crm("type/create", TYPE),
        crm("group/create", GROUP),
        crm("field/create", FIELD),
        crm("customer/create", CUSTOMER),
        crm("status/update", {**STATUS, "status_name": "Rất VIP"}),
        crm("type/update", {**TYPE, "type_name": "Khách lẻ (cũ)"}),
        crm("group/update", {**GROUP, "group_description": ""}),
        crm("field/update", {**FIELD, "field_type": "text"}),
        crm("customer/update", {**CUSTOMER, "customer_name": "Nguyễn Văn Bình"}),
        crm("status/updateNo", {"status_no_old": "VIP", "status_no_new": "VVIP"}),
        crm("type/updateNo", {"type_no_old": "LE", "type_no_new": "LE2"}),
        crm("group/updateNo", {"group_no_old": "HN", "group_no_new": "HN2"}),
        crm("field/updateNo", {"field_no_old": "NGAY_SINH", "field_no_new": "DOB"}),
        crm("customer/updateNO", {"customer_no_old": "KH001", "customer_no_new": "KH002"}),
        crm("customer/delete", {"customer_no": "KH002"}),
        crm("status/delete", {"status_no": "VVIP"}),
        crm("type/delete", {"type_no": "LE2"}),
        crm("group/delete", {"group_no": "HN2"}),
        crm("field/delete", {"field_no": "DOB"}),
    ]

    assert [response.status_code for response in answers] == [200] * 20
    assert [response.json() for response in answers] == [
        ok("VIP"),
        ok("LE"),
        ok("HN"),
        ok("NGAY_SINH"),
        ok("KH001"),
        ok("VIP"),
        ok("LE"),
        ok("HN"),
        ok("NGAY_SINH"),
        ok("KH001"),
        ok("VVIP"),
        ok("LE2"),
        ok("HN2"),
        ok("DOB"),
        ok("KH002"),
        *[ok(True)] * 5,
    ]
    assert not SandboxCode.objects.exists()
    assert not SandboxCustomer.objects.exists()


def test_messages_are_utf8_json(codes):
    response = codes("customer/create", {**CUSTOMER, "customer_status_code": "KHONG_CO"})

    assert response["Content-Type"] == "application/json"
    assert "Không tìm thấy trạng thái khách hàng" in response.content.decode("utf-8")


def test_unknown_keys_are_ignored(crm):
    response = crm("status/create", {**STATUS, "status_color": "red"})

    assert response.json() == ok("VIP")


# --- Error codes ----------------------------------------------------------------


@pytest.mark.parametrize("raw", ["not json", "", "[1, 2]", '"VIP"', "{'single': 'quotes'}"])
def test_a_body_that_is_not_a_json_object_is_rejected(crm, raw):
    message = rejected(crm("status/create", raw=raw), ErrorCode.INVALID_JSON)

    assert "JSON" in message


@pytest.mark.parametrize(
    "tenant",
    [
        {"vbot_id": "VBOT-OTHER", "project_code": "PRJ-TEST"},
        {"vbot_id": "VBOT-TEST", "project_code": "PRJ-OTHER"},
        {"vbot_id": "vbot-test", "project_code": "prj-test"},
    ],
)
def test_a_foreign_tenant_is_rejected(client, access_token, tenant):
    response = client.post(
        "/sandbox/api/crm/status/create",
        json.dumps({**tenant, **STATUS}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {access_token}"},
    )

    rejected(response, ErrorCode.TENANT_MISMATCH)
    assert not SandboxCode.objects.exists()


def test_the_tenant_is_read_from_settings_at_request_time(crm, settings):
    settings.CRM_VBOT_ID = "VBOT-NEW"

    rejected(crm("status/create", STATUS), ErrorCode.TENANT_MISMATCH)

    settings.CRM_PROJECT_CODE = "PRJ-NEW"
    response = crm("status/create", {**STATUS, "vbot_id": "VBOT-NEW", "project_code": "PRJ-NEW"})
    assert response.json() == ok("VIP")


@pytest.mark.parametrize("key", ["vbot_id", "project_code"])
def test_a_missing_tenant_key_is_a_missing_key(client, access_token, key):
    body = {**TENANT, **STATUS}
    del body[key]

    response = client.post(
        "/sandbox/api/crm/status/create",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {access_token}"},
    )

    assert key in rejected(response, ErrorCode.MISSING_KEY)


@pytest.mark.parametrize(
    ("path", "body", "key"),
    [
        ("status/create", {"status_no": "VIP"}, "status_name"),
        ("status/create", {"status_name": "VIP"}, "status_no"),
        ("type/update", {"type_no": "LE"}, "type_name"),
        ("group/create", {"group_no": "HN"}, "group_name"),
        ("field/create", {"field_no": "F", "field_name": "F"}, "field_type"),
        ("field/updateNo", {"field_no_old": "F"}, "field_no_new"),
        ("group/delete", {}, "group_no"),
        ("customer/create", {**CUSTOMER, "customer_name": None}, "customer_name"),
        ("customer/create", {**CUSTOMER, "customer_phones": None}, "customer_phones"),
        ("customer/update", {**CUSTOMER, "customer_group_name": None}, "customer_group_name"),
        ("customer/updateNO", {"customer_no_new": "X"}, "customer_no_old"),
        (
            "customer/create",
            {**CUSTOMER, "fileds": [{"field_key": "NGAY_SINH"}]},
            "fileds[0].field_value",
        ),
        ("customer/create", {**CUSTOMER, "fileds": [{"field_value": "x"}]}, "fileds[0].field_key"),
    ],
)
def test_a_missing_required_key_is_named(crm, path, body, key):
    message = rejected(crm(path, body), ErrorCode.MISSING_KEY)

    assert key in message


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_required_value_counts_as_missing(crm, blank):
    message = rejected(crm("status/create", {**STATUS, "status_no": blank}), ErrorCode.MISSING_KEY)

    assert "status_no" in message


@pytest.mark.parametrize(
    ("path", "body", "key"),
    [
        ("status/create", {**STATUS, "status_no": 42}, "status_no"),
        ("status/create", {**STATUS, "status_name": ["VIP"]}, "status_name"),
        ("field/create", {**FIELD, "field_type": ["date"]}, "field_type"),
        ("group/create", {**GROUP, "group_description": {"text": "x"}}, "group_description"),
        ("customer/create", {**CUSTOMER, "customer_phones": "0912345678"}, "customer_phones"),
        ("customer/create", {**CUSTOMER, "customer_phones": [912345678]}, "customer_phones"),
        ("customer/create", {**CUSTOMER, "customer_email": True}, "customer_email"),
        ("customer/create", {**CUSTOMER, "fileds": {"NGAY_SINH": "x"}}, "fileds"),
        ("customer/create", {**CUSTOMER, "fileds": ["NGAY_SINH"]}, "fileds[0]"),
        (
            "customer/create",
            {**CUSTOMER, "fileds": [{"field_key": "NGAY_SINH", "field_value": 1990}]},
            "fileds[0].field_value",
        ),
        (
            "customer/create",
            {**CUSTOMER, "fileds": [{"field_key": 7, "field_value": "x"}]},
            "fileds[0].field_key",
        ),
        (
            "customer/create",
            {
                **CUSTOMER,
                "fileds": [
                    {"field_key": "NGAY_SINH", "field_value": "1990-01-02"},
                    {"field_key": "NGAY_SINH", "field_value": "1991-01-02"},
                ],
            },
            "NGAY_SINH",
        ),
    ],
)
def test_a_value_of_the_wrong_type_is_named(codes, path, body, key):
    message = rejected(codes(path, body), ErrorCode.WRONG_TYPE)

    assert key in message


@pytest.mark.parametrize(
    ("path", "body", "key"),
    [
        ("status/create", {**STATUS, "status_no": "X" * 65}, "status_no"),
        ("status/create", {**STATUS, "status_name": "X" * 256}, "status_name"),
        ("status/updateNo", {"status_no_old": "VIP", "status_no_new": "X" * 65}, "status_no_new"),
        ("customer/create", {**CUSTOMER, "customer_phones": ["0" * 33]}, "0" * 33),
    ],
)
def test_a_value_too_long_is_rejected(codes, path, body, key):
    message = rejected(codes(path, body), ErrorCode.TOO_LONG)

    assert key in message


def test_the_longest_accepted_values(codes):
    body = {"status_no": "X" * 64, "status_name": "Y" * 255}

    assert codes("status/create", body).json() == ok("X" * 64)


@pytest.mark.parametrize("phones", [[], [""], ["0912345678", "  "]])
def test_a_customer_needs_a_phone(codes, phones):
    rejected(codes("customer/create", {**CUSTOMER, "customer_phones": phones}), ErrorCode.NO_PHONE)

    assert not SandboxCustomer.objects.exists()


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("status/create", STATUS, "VIP"),
        ("type/create", TYPE, "LE"),
        ("group/create", {**GROUP, "group_name": "Hà Nội 2"}, "HN"),
        ("field/create", FIELD, "NGAY_SINH"),
        ("customer/create", CUSTOMER, "KH001"),
    ],
)
def test_creating_an_existing_code_is_a_duplicate(customer, path, body, code):
    message = rejected(customer(path, body), ErrorCode.DUPLICATE_CODE)

    assert code in message


def test_renaming_onto_an_existing_code_is_a_duplicate(customer):
    customer("status/create", {"status_no": "THUONG", "status_name": "Thường"})
    customer("customer/create", {**CUSTOMER, "customer_no": "KH002"})

    rejected(
        customer("status/updateNo", {"status_no_old": "THUONG", "status_no_new": "VIP"}),
        ErrorCode.DUPLICATE_CODE,
    )
    rejected(
        customer("customer/updateNO", {"customer_no_old": "KH002", "customer_no_new": "KH001"}),
        ErrorCode.DUPLICATE_CODE,
    )
    assert set(SandboxCode.objects.filter(kind="status").values_list("code", flat=True)) == {
        "VIP",
        "THUONG",
    }


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("status/update", {"status_no": "NONE", "status_name": "x"}, "NONE"),
        ("type/updateNo", {"type_no_old": "NONE", "type_no_new": "NEW"}, "NONE"),
        ("group/delete", {"group_no": "NONE"}, "NONE"),
        ("field/update", {"field_no": "NONE", "field_name": "x", "field_type": "text"}, "NONE"),
        ("customer/update", {**CUSTOMER, "customer_no": "NONE"}, "NONE"),
        ("customer/updateNO", {"customer_no_old": "NONE", "customer_no_new": "NEW"}, "NONE"),
        ("customer/delete", {"customer_no": "NONE"}, "NONE"),
    ],
)
def test_an_unknown_code_is_rejected(customer, path, body, code):
    message = rejected(customer(path, body), ErrorCode.UNKNOWN_CODE)

    assert code in message


def test_codes_are_per_kind(codes):
    # A type may carry the code of a status: they are different records.
    assert codes("type/create", {"type_no": "VIP", "type_name": "VIP"}).json() == ok("VIP")
    rejected(codes("type/delete", {"type_no": "HN"}), ErrorCode.UNKNOWN_CODE)


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        ("customer_status_code", "KHONG_CO", ErrorCode.UNKNOWN_STATUS),
        ("customer_type_code", "KHONG_CO", ErrorCode.UNKNOWN_TYPE),
        ("customer_group_name", "KHONG_CO", ErrorCode.UNKNOWN_GROUP),
        # A group is named by its name on the wire, not by its code.
        ("customer_group_name", "HN", ErrorCode.UNKNOWN_GROUP),
        ("fileds", [{"field_key": "KHONG_CO", "field_value": "x"}], ErrorCode.UNKNOWN_FIELD),
    ],
)
def test_a_customer_pointing_at_a_missing_record_is_rejected(customer, key, value, error):
    for path, body in (
        ("customer/create", {**CUSTOMER, "customer_no": "KH002", key: value}),
        ("customer/update", {**CUSTOMER, key: value}),
    ):
        message = rejected(customer(path, body), error)
        assert "KHONG_CO" in message or "HN" in message

    assert list(SandboxCustomer.objects.values_list("code", flat=True)) == ["KH001"]
    assert SandboxCustomer.objects.get().status.code == "VIP"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("status/delete", {"status_no": "VIP"}),
        ("type/delete", {"type_no": "LE"}),
        ("group/delete", {"group_no": "HN"}),
        ("field/delete", {"field_no": "NGAY_SINH"}),
    ],
)
def test_deleting_a_record_customers_use_is_refused(customer, path, body):
    customer("customer/create", {**CUSTOMER, "customer_no": "KH002"})

    message = rejected(customer(path, body), ErrorCode.IN_USE)

    assert "2 khách hàng" in message
    assert SandboxCode.objects.count() == 4


def test_group_names_must_be_unique(codes):
    message = rejected(
        codes("group/create", {"group_no": "HN2", "group_name": "Hà Nội"}),
        ErrorCode.DUPLICATE_GROUP_NAME,
    )
    assert "Hà Nội" in message

    codes("group/create", {"group_no": "HCM", "group_name": "Hồ Chí Minh"})
    rejected(
        codes("group/update", {"group_no": "HCM", "group_name": "Hà Nội"}),
        ErrorCode.DUPLICATE_GROUP_NAME,
    )
    # Keeping its own name is no clash.
    response = codes("group/update", {"group_no": "HN", "group_name": "Hà Nội"})
    assert response.json() == ok("HN")


def test_a_rejected_call_changes_nothing(customer):
    before = list(SandboxCustomer.objects.values())

    rejected(
        customer("customer/update", {**CUSTOMER, "customer_type_code": "KHONG_CO"}),
        ErrorCode.UNKNOWN_TYPE,
    )

    assert list(SandboxCustomer.objects.values()) == before
