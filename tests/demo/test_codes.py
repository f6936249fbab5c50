"""Demo reference codes: created through the services, so through the CRM and the audit log."""

import json
import re

import pytest
import responses

from crmadmin.audit.models import AuditEntry
from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.demo.codes import seed
from tests.crm import CRM, TENANT, envelope

EXPECTED_CODES = {
    Status: ["DANG_CHAM_SOC", "MOI", "NGUNG", "VIP"],
    Type: ["CA_NHAN", "DOANH_NGHIEP"],
    Group: ["DN", "HCM", "HN"],
    Field: ["GHI_CHU", "NGAY_SINH", "NGUON", "SO_NHAN_VIEN", "WEBSITE"],
}


@pytest.mark.django_db
def test_seed_creates_each_kind_through_the_crm_and_skips_what_exists(settings, superuser):
    settings.CRM_API_TOKEN = "test-token"
    with responses.RequestsMock() as crm:
        crm.post(re.compile(rf"{re.escape(CRM)}/api/crm/\w+/create"), json=envelope())

        created = seed(actor=superuser)
        again = seed(actor=superuser)
        sent = [json.loads(call.request.body) for call in crm.calls]

    assert created == 14
    assert again == 0
    assert len(sent) == 14  # the second run sent nothing
    bodies = {next(v for k, v in body.items() if k.endswith("_no")): body for body in sent}
    for model, codes in EXPECTED_CODES.items():
        assert list(model.objects.values_list("code", flat=True)) == codes
    assert Status.objects.get(code="VIP").name == "Khách VIP"
    assert Group.objects.get(code="HCM").description.startswith("Khách hàng khu vực TP.")
    assert dict(Field.objects.values_list("code", "field_type")) == {
        "NGAY_SINH": "date",
        "GHI_CHU": "textarea",
        "WEBSITE": "url",
        "SO_NHAN_VIEN": "number",
        "NGUON": "text",
    }
    assert bodies["DANG_CHAM_SOC"] == {
        **TENANT,
        "status_no": "DANG_CHAM_SOC",
        "status_name": "Đang chăm sóc",
    }
    assert bodies["NGAY_SINH"] == {
        **TENANT,
        "field_no": "NGAY_SINH",
        "field_name": "Ngày sinh",
        "field_type": "date",
    }
    assert AuditEntry.objects.filter(outcome="succeeded", actor=superuser).count() == 14


@pytest.mark.django_db(transaction=True)
def test_seed_against_the_sandbox_over_http(sandbox_upstream, superuser):
    assert seed(actor=superuser) == 14

    assert Status.objects.count() == 4
    assert Field.objects.count() == 5
    entries = AuditEntry.objects.exclude(operation="auth.token")
    assert entries.count() == 14
    assert set(entries.values_list("outcome", flat=True)) == {"succeeded"}
