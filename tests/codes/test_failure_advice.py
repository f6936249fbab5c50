"""Issue 10 item 5 for the reference codes: every link after a failure opens for the role
that sees it, "Try again" only when the CRM changed nothing, and the code's own history (on
its own page, which every role may open) in plain words with what was sent and came back."""

import re

import pytest
import requests
from django.urls import reverse

from crmadmin.audit.models import AuditEntry
from tests.crm import envelope, expect_call

from .conftest import make_record

pytestmark = pytest.mark.django_db

ROLES = ["administrator", "superuser"]
FAILURES = {
    "rejected": ({"json": envelope(data=None, status=0, error=77, message="Từ chối")}, False),
    "read-timeout": ({"body": requests.exceptions.ReadTimeout("slow")}, True),
    "unreachable": ({"body": requests.exceptions.ConnectionError("refused")}, False),
}


def perform(client, crm, operation: str, answer: dict):
    if operation == "create":
        expect_call(
            crm, "/api/crm/status/create", {"status_no": "VIP", "status_name": "VIP"}, **answer
        )
        return client.post(
            reverse("codes:create", kwargs={"kind": "statuses"}), {"code": "VIP", "name": "VIP"}
        )
    make_record("statuses", "VIP", "VIP")
    kwargs = {"kind": "statuses", "code": "VIP"}
    if operation == "edit":
        expect_call(
            crm,
            "/api/crm/status/update",
            {"status_no": "VIP", "status_name": "Khách VIP"},
            **answer,
        )
        return client.post(reverse("codes:edit", kwargs=kwargs), {"name": "Khách VIP"})
    if operation == "rename":
        expect_call(
            crm,
            "/api/crm/status/updateNo",
            {"status_no_old": "VIP", "status_no_new": "VIP2"},
            **answer,
        )
        return client.post(reverse("codes:rename", kwargs=kwargs), {"new_code": "VIP2"})
    expect_call(crm, "/api/crm/status/delete", {"status_no": "VIP"}, **answer)
    return client.post(reverse("codes:delete", kwargs=kwargs))


def alert(text: str) -> str:
    start = text.index("data-form-error")
    return text[start : text.index("</div>\n", text.index("failure-advice", start))]


@pytest.mark.parametrize("operation", ["create", "edit", "rename", "delete"])
@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("role", ROLES)
def test_every_link_after_a_failure_opens_for_the_role(crm, client_as, role, failure, operation):
    client = client_as(role)
    answer, may_have_acted = FAILURES[failure]

    response = perform(client, crm, operation, answer)

    assert response.status_code == 200  # as before issue 10
    box = alert(response.text)
    links = re.findall(r'href="([^"]+)"', box)
    for link in links:
        assert client.get(link.split("#")[0]).status_code == 200, link
    may_read_audit = client.user.has_perm("audit.view_auditentry")
    assert any("/audit/" in link for link in links) == may_read_audit
    if not may_read_audit:
        assert "audit log" not in box
    if operation != "create":
        assert "/codes/statuses/VIP/#history" in links
    entry = AuditEntry.objects.get()
    assert (reverse("reconcile:item", kwargs={"entry_id": entry.pk}) in links) == may_have_acted
    retry = 'name="retry" value="1" data-action="try-again"'
    assert (retry in response.text) == (not may_have_acted)


def test_try_again_resubmits_the_kept_input(crm, admin_client):
    perform(admin_client, crm, "create", FAILURES["unreachable"][0])
    expect_call(crm, "/api/crm/status/create", {"status_no": "VIP", "status_name": "VIP"})

    again = admin_client.post(
        reverse("codes:create", kwargs={"kind": "statuses"}),
        {"code": "VIP", "name": "VIP", "retry": "1"},
    )

    assert again.status_code == 302
    assert list(AuditEntry.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "failed",
        "succeeded",
    ]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["Failed: Từ chối", "Tried: Changed", "Name: VIP → Khách VIP"]),
        ("vi", ["Thất bại: Từ chối", "Đã thử: Đã sửa", "Tên: VIP → Khách VIP"]),
    ],
)
@pytest.mark.parametrize("reader", ["support", "manager", "administrator"])
def test_the_codes_own_page_tells_its_history(
    crm, admin_client, client_as, reader, language, words
):
    perform(admin_client, crm, "edit", FAILURES["rejected"][0])

    # (client_as signs the one test client in as another user.)
    reader_client = admin_client if reader == "administrator" else client_as(reader)
    page = reader_client.get(
        reverse("codes:detail", kwargs={"kind": "statuses", "code": "VIP"}),
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert page.status_code == 200
    history = page.text.split('id="history"')[1]
    for word in words:
        assert word in history
    assert "<details" in history
    assert "&quot;status_name&quot;: &quot;Khách VIP&quot;" in history
    assert "status.update" not in history
    # Entries link to the audit log only for those who may read it.
    assert ("/audit/" in history) == (reader == "manager")


def test_the_list_links_each_code_to_its_page(admin_client):
    make_record("groups", "HN", "Hà Nội")

    listing = admin_client.get(reverse("codes:list", kwargs={"kind": "groups"}))

    assert 'href="/codes/groups/HN/" data-action="detail"' in listing.text
