"""Issue 10 item 5: after a failure or a timeout no message sends a user to a page their
role may not open; "Try again" resubmits the kept input, and is offered only when the CRM
certainly changed nothing (a timeout's retry could make the change twice)."""

import re

import pytest
import requests
from django.urls import reverse

from crmadmin.audit.models import AuditEntry
from crmadmin.customers.models import Customer
from tests.crm import envelope, expect_call

from .conftest import make_customer

pytestmark = pytest.mark.django_db

ROLES = ["support", "administrator", "superuser"]

REJECTED = {"json": envelope(data=None, status=0, error=4242, message="Không được phép")}
REFUSED_CODE = {"json": envelope(data=None, status=0, error=1101, message="Mã đã tồn tại")}
TIMEOUT = {"body": requests.exceptions.ReadTimeout("read timed out")}
CONNECT_TIMEOUT = {"body": requests.exceptions.ConnectTimeout("connect timed out")}
UNREACHABLE = {"body": requests.exceptions.ConnectionError("refused")}
BAD_GATEWAY = {"status": 502, "body": "<html>502 Bad Gateway</html>"}
GARBLED = {"body": "not json"}

# (the CRM's answer, whether the CRM may have made the change all the same)
FAILURES = {
    "rejected": (REJECTED, False),
    "refused-code": (REFUSED_CODE, False),
    "read-timeout": (TIMEOUT, True),
    "connect-timeout": (CONNECT_TIMEOUT, False),
    "unreachable": (UNREACHABLE, False),
    "http-502": (BAD_GATEWAY, True),
    "malformed": (GARBLED, True),
}

WIRE = {
    "customer_no": "KH0300",
    "customer_name": "Vũ Thị Lan",
    "customer_phones": ["0912345678"],
    "customer_address": "",
    "customer_email": "",
    "customer_status_code": "MOI",
    "customer_type_code": "CA_NHAN",
    "customer_group_name": "Hà Nội",
}


def typed(codes, **changes):
    return {
        "code": "KH0300",
        "name": "Vũ Thị Lan",
        "phones": ["0912345678"],
        "status": codes["status"].pk,
        "type": codes["type"].pk,
        "group": codes["group"].pk,
        **changes,
    }


def alert(text: str) -> str:
    """The failure's alert: from the error box to the form (or the end of the page)."""
    start = text.index('id="form-errors"')
    end = text.find("<form", start)
    return text[start : end if end != -1 else None]


def links_in(text: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', alert(text))


def form_of(text: str) -> str:
    """The customer form (not the sign-out form of the navigation)."""
    start = text.index('id="customer-form"')
    return text[start : text.index("</form>", start)]


def hidden(text: str, name: str) -> str:
    return re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', text).group(1)


def perform(client, crm, codes, operation: str, answer: dict):
    """One customer call of ``operation`` that gets ``answer``; the page it renders."""
    if operation == "create":
        expect_call(crm, "/api/crm/customer/create", WIRE, **answer)
        return client.post(reverse("customers:create"), typed(codes))
    make_customer("KH0300", "Vũ Thị Lan", codes=codes)
    if operation == "edit":
        expect_call(
            crm, "/api/crm/customer/update", {**WIRE, "customer_name": "Vũ Thị Lan Anh"}, **answer
        )
        data = typed(codes, name="Vũ Thị Lan Anh")
        del data["code"]
        return client.post(reverse("customers:edit", kwargs={"code": "KH0300"}), data)
    if operation == "rename":
        expect_call(
            crm,
            "/api/crm/customer/updateNO",
            {"customer_no_old": "KH0300", "customer_no_new": "KH0301"},
            **answer,
        )
        return client.post(
            reverse("customers:rename", kwargs={"code": "KH0300"}), {"new_code": "KH0301"}
        )
    expect_call(crm, "/api/crm/customer/delete", {"customer_no": "KH0300"}, **answer)
    return client.post(reverse("customers:delete", kwargs={"code": "KH0300"}))


@pytest.mark.parametrize("operation", ["create", "edit", "rename", "delete"])
@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("role", ROLES)
def test_every_link_after_a_failure_opens_for_the_role(
    crm, codes, client_as, role, failure, operation
):
    client = client_as(role)
    answer, may_have_acted = FAILURES[failure]

    response = perform(client, crm, codes, operation, answer)

    assert response.status_code == 422
    links = links_in(response.text)
    for link in links:
        followed = client.get(link.split("#")[0])
        assert followed.status_code == 200, (link, followed.status_code)
    box = alert(response.text)
    may_read_audit = client.user.has_perm("audit.view_auditentry")
    assert any("/audit/" in link for link in links) == may_read_audit
    if not may_read_audit:
        assert "audit log" not in box
    if operation != "create":
        # The record's own history, which every one of these roles may open.
        assert "/customers/KH0300/#history" in links
    entry = AuditEntry.objects.get(operation__startswith="customer.")
    attention = reverse("reconcile:item", kwargs={"entry_id": entry.pk})
    # An unknown outcome, or a code only the CRM has (listed there to be adopted).
    divergence = failure == "refused-code" and operation == "create"
    assert (attention in links) == (may_have_acted or divergence)


@pytest.mark.parametrize("failure", list(FAILURES))
def test_try_again_is_offered_only_when_the_crm_changed_nothing(crm, codes, client_as, failure):
    answer, may_have_acted = FAILURES[failure]

    response = perform(client_as("support"), crm, codes, "create", answer)

    button = '<button type="submit" name="retry" value="1" data-action="try-again">Try again'
    assert (button in form_of(response.text)) == (not may_have_acted)
    state = re.search(r'data-failure="(\w+)"', response.text).group(1)
    assert state == ("unknown" if may_have_acted else "known")
    if may_have_acted:
        assert "“Try again” is not offered" in alert(response.text)


def test_try_again_resubmits_the_kept_input_and_saves_it(crm, codes, support_client):
    customer = make_customer("KH0300", "Vũ Thị Lan", codes=codes)
    opened = support_client.get(reverse("customers:edit", kwargs={"code": "KH0300"}))
    data = typed(
        codes,
        name="Vũ Thị Lan Anh",
        version=hidden(opened.text, "version"),
        opened=hidden(opened.text, "opened"),
    )
    del data["code"]
    wire = {**WIRE, "customer_name": "Vũ Thị Lan Anh"}
    expect_call(crm, "/api/crm/customer/update", wire, **UNREACHABLE)
    failed = support_client.post(reverse("customers:edit", kwargs={"code": "KH0300"}), data)
    assert failed.status_code == 422
    form = form_of(failed.text)
    assert 'data-action="try-again"' in form
    # The re-rendered form carries what was typed and the version it was opened at.
    assert 'value="Vũ Thị Lan Anh"' in form
    assert hidden(form, "version") == data["version"]
    expect_call(crm, "/api/crm/customer/update", wire)

    # Pressing "Try again" submits the same form, with the button's name.
    again = support_client.post(
        reverse("customers:edit", kwargs={"code": "KH0300"}),
        {**data, "version": hidden(form, "version"), "opened": hidden(form, "opened"), "retry": 1},
    )

    assert again.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "Vũ Thị Lan Anh"
    assert list(AuditEntry.objects.values_list("outcome", flat=True).order_by("pk")) == [
        "failed",
        "succeeded",
    ]


def test_a_timed_out_create_points_to_needs_attention_not_to_a_resend(crm, codes, support_client):
    response = perform(support_client, crm, codes, "create", TIMEOUT)

    assert 'data-action="try-again"' not in response.text
    entry = AuditEntry.objects.get()
    item = support_client.get(reverse("reconcile:item", kwargs={"entry_id": entry.pk}))
    assert item.status_code == 200
    assert "Outcome unknown" in item.text
    assert not Customer.objects.exists()
    # The message itself names the page, in words every role can follow.
    assert "do not send it again before its outcome is settled under “Needs attention”" in (
        response.text
    )


def test_the_advice_reads_in_vietnamese(crm, codes, support_client):
    expect_call(crm, "/api/crm/customer/create", WIRE, **TIMEOUT)

    response = support_client.post(
        reverse("customers:create"), typed(codes), HTTP_ACCEPT_LANGUAGE="vi"
    )

    box = alert(response.text)
    assert "Xác định kết quả trong mục “Cần xử lý”" in box
    assert "Không có nút “Thử lại”" in box
