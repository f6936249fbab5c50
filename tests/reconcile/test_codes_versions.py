"""Reference codes obey the same rules: stale forms refused (409) and re-applied, old
codes redirect, the lock names the writer."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crmadmin.codes import services as code_services
from crmadmin.codes.models import Status
from crmadmin.core.models import RecordLease
from crmadmin.kinds import REFERENCE_KINDS as KINDS
from crmadmin.sandbox.models import SandboxCode

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_stale_status_form_is_refused_then_reapplied(client_as, codes, superuser):
    client = client_as("administrator")
    url = reverse("codes:edit", kwargs={"kind": "statuses", "code": "VIP"})
    page = client.get(url)
    opened = {
        "name": "Khách rất VIP",
        **{k: page.context["form"][k].value() for k in ("version", "opened")},
    }
    code_services.code_update(
        kind=KINDS["statuses"], actor=superuser, record=Status.objects.get(code="VIP"), name="Khác"
    )

    stale = client.post(url, opened)
    assert stale.status_code == 409
    assert re.search(r'data-change="name".*Khách VIP.*Khác', stale.text, re.S)
    assert 'value="Khách rất VIP"' in stale.text
    assert SandboxCode.objects.get(kind="status", code="VIP").name == "Khác"

    form = stale.context["form"]
    again = client.post(
        url,
        {
            "name": "Khách rất VIP",
            "version": form["version"].value(),
            "opened": form["opened"].value(),
        },
    )
    assert again.status_code == 302
    assert Status.objects.get(code="VIP").name == "Khách rất VIP"
    assert SandboxCode.objects.get(kind="status", code="VIP").name == "Khách rất VIP"


def test_an_old_status_code_redirects_and_a_held_lock_names_the_writer(client_as, codes, superuser):
    code_services.code_rename(
        kind=KINDS["statuses"],
        actor=superuser,
        record=Status.objects.get(code="VIP"),
        new_code="VVIP",
    )
    client = client_as("administrator")
    old = client.get(reverse("codes:edit", kwargs={"kind": "statuses", "code": "VIP"}))
    assert old.status_code == 302
    assert old["Location"] == reverse("codes:edit", kwargs={"kind": "statuses", "code": "VVIP"})

    url = reverse("codes:edit", kwargs={"kind": "statuses", "code": "VVIP"})
    now = timezone.now()
    # Another process (Carol's worker) holds the lease.
    RecordLease.objects.create(
        kind="status",
        code="VVIP",
        token="carol",
        holder="carol",
        acquired_at=now,
        expires_at=now + timedelta(seconds=30),
    )
    busy = client.post(url, {"name": "Tên mới"})
    assert busy.status_code == 409
    assert "carol is saving VVIP" in busy.text
    assert Status.objects.get(code="VVIP").name == "Khách VIP"
