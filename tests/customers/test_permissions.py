"""Every customer URL, every role, GET and POST: Support, Administrator and superusers write,
Managers read, a user without a role sees nothing, and nobody signed out gets in."""

import pytest

from tests.crm import envelope, expect_call

from .conftest import make_customer

pytestmark = pytest.mark.django_db

WRITERS = ("support", "administrator", "superuser")
ROLES = ("support", "administrator", "manager", "superuser", None)

# url, method → status for a writer, for a manager, for a user without a role.
# POSTs carry no data: a writer gets the form back (422) unless the action needs none.
MATRIX = [
    ("/customers/", "get", 200, 200, 403),
    ("/customers/", "post", 405, 405, 405),
    ("/customers/new/", "get", 200, 403, 403),
    ("/customers/new/", "post", 422, 403, 403),
    ("/customers/new/phone-row/", "get", 200, 403, 403),
    ("/customers/new/phone-row/", "post", 405, 405, 405),
    ("/customers/KH0001/", "get", 200, 200, 403),
    ("/customers/KH0001/", "post", 405, 405, 405),
    ("/customers/KH0001/edit/", "get", 200, 403, 403),
    ("/customers/KH0001/edit/", "post", 422, 403, 403),
    ("/customers/KH0001/rename/", "get", 200, 403, 403),
    ("/customers/KH0001/rename/", "post", 422, 403, 403),
    ("/customers/KH0001/delete/", "get", 200, 403, 403),
    ("/customers/KH0001/delete/", "post", 302, 403, 403),
]


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "no-role")
@pytest.mark.parametrize(("url", "method", "writer", "manager", "nobody"), MATRIX)
def test_permission_matrix(crm, codes, client_as, role, url, method, writer, manager, nobody):
    make_customer("KH0001", "Nguyễn Văn An", codes=codes)
    expected = writer if role in WRITERS else manager if role == "manager" else nobody
    if url.endswith("/delete/") and method == "post" and expected == 302:
        expect_call(crm, "/api/crm/customer/delete", {"customer_no": "KH0001"}, json=envelope(True))

    response = getattr(client_as(role), method)(url)

    assert response.status_code == expected


@pytest.mark.parametrize(("url", "method", "writer", "manager", "nobody"), MATRIX)
def test_signed_out_users_are_sent_to_the_login_page(
    client, codes, url, method, writer, manager, nobody
):
    make_customer("KH0001", "Nguyễn Văn An", codes=codes)

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_managers_see_no_write_actions_on_the_detail_page(client_as, codes):
    make_customer("KH0001", "Nguyễn Văn An", codes=codes)

    response = client_as("manager").get("/customers/KH0001/")

    for action in ["edit", "rename", "delete"]:
        assert f'data-action="{action}"' not in response.text
