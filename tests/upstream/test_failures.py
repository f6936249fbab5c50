"""Every way a CRM call can fail becomes its typed error and exactly one finished audit entry;
the register callback runs only on a confirmed success."""

import pytest
import requests
from responses import matchers

from crmadmin.audit.models import AuditEntry, FailureKind, Outcome
from crmadmin.upstream import (
    UpstreamConnectionError,
    UpstreamError,
    UpstreamHTTPError,
    UpstreamMalformed,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnauthorized,
    call,
)
from crmadmin.upstream.errors import FAILED, REJECTED
from tests.crm import CRM, STATIC_TOKEN, TENANT, envelope

URL = f"{CRM}/api/crm/status/create"
PAYLOAD = {"status_no": "VIP", "status_name": "Khách VIP"}
HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


class Register:
    """Stands for a service's register change: records whether it ran."""

    def __init__(self):
        self.ran = False

    def __call__(self, result):
        self.ran = True
        return "registered"


def only_entry() -> AuditEntry:
    entry = AuditEntry.objects.get()
    assert entry.finished_at is not None
    assert entry.duration_ms is not None
    return entry


@pytest.mark.django_db
@pytest.mark.parametrize("status", [0, "0"], ids=["number", "string"])
def test_status_zero_is_a_rejection_with_the_crms_code_and_message(crm, static_token, status):
    crm.post(
        URL,
        json=envelope(data=None, status=status, error=1002, message="Mã trạng thái đã tồn tại"),
    )
    register = Register()

    with pytest.raises(UpstreamRejected) as caught:
        call("status.create", PAYLOAD, on_success=register)

    error = caught.value
    entry = only_entry()
    assert not register.ran
    assert (error.error_code, error.upstream_message) == ("1002", "Mã trạng thái đã tồn tại")
    assert error.http_status == 200
    assert error.request_id == entry.request_id
    assert error.user_message == (
        "The CRM rejected the request: Mã trạng thái đã tồn tại (error 1002)"
    )
    assert str(error) == error.user_message
    assert entry.outcome == Outcome.REJECTED
    assert entry.failure_kind == FailureKind.REJECTED
    assert entry.http_status == 200
    assert entry.upstream_status == 0
    assert entry.upstream_error == "1002"
    assert entry.upstream_message == "Mã trạng thái đã tồn tại"


@pytest.mark.django_db
def test_a_401_with_a_static_token_is_final(crm, static_token):
    crm.post(URL, status=401, json={"Message": "Authorization has been denied for this request."})

    with pytest.raises(UpstreamUnauthorized) as caught:
        call("status.create", PAYLOAD)

    entry = only_entry()
    assert len(crm.calls) == 1
    assert caught.value.http_status == 401
    assert "credentials" in caught.value.user_message
    assert (entry.outcome, entry.failure_kind, entry.http_status) == (
        Outcome.FAILED,
        FailureKind.UNAUTHORIZED,
        401,
    )


# (answer registered with responses, expected error, failure kind, HTTP status on the entry)
FAILURES = {
    "http-500-envelope": (
        {"status": 500, "json": envelope(data=None, status=0, error=500, message="Lỗi hệ thống")},
        UpstreamHTTPError,
        FailureKind.HTTP_ERROR,
        500,
    ),
    "http-502-html-page": (
        {"status": 502, "body": HTML_502, "content_type": "text/html"},
        UpstreamHTTPError,
        FailureKind.HTTP_ERROR,
        502,
    ),
    "http-404": (
        {"status": 404, "body": "Not Found", "content_type": "text/plain"},
        UpstreamHTTPError,
        FailureKind.HTTP_ERROR,
        404,
    ),
    "200-not-json": (
        {"status": 200, "body": "<html>maintenance</html>", "content_type": "text/html"},
        UpstreamMalformed,
        FailureKind.MALFORMED,
        200,
    ),
    "200-empty": (
        {"status": 200, "body": ""},
        UpstreamMalformed,
        FailureKind.MALFORMED,
        200,
    ),
    "200-json-not-the-envelope": (
        {"status": 200, "json": {"ok": True, "code": "VIP"}},
        UpstreamMalformed,
        FailureKind.MALFORMED,
        200,
    ),
    "200-json-list": (
        {"status": 200, "json": [envelope()]},
        UpstreamMalformed,
        FailureKind.MALFORMED,
        200,
    ),
    "200-unknown-status": (
        {"status": 200, "json": envelope(status=2)},
        UpstreamMalformed,
        FailureKind.MALFORMED,
        200,
    ),
    "read-timeout": (
        {"body": requests.exceptions.ReadTimeout("read timed out")},
        UpstreamTimeout,
        FailureKind.TIMEOUT,
        None,
    ),
    "connect-timeout": (
        {"body": requests.exceptions.ConnectTimeout("connect timed out")},
        UpstreamTimeout,
        FailureKind.TIMEOUT,
        None,
    ),
    "connection-refused": (
        {"body": requests.exceptions.ConnectionError("[Errno 111] Connection refused")},
        UpstreamConnectionError,
        FailureKind.CONNECTION,
        None,
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answer", "error_class", "failure_kind", "http_status"),
    FAILURES.values(),
    ids=FAILURES.keys(),
)
def test_each_failure_is_typed_and_leaves_one_failed_entry(
    crm, static_token, answer, error_class, failure_kind, http_status
):
    crm.post(URL, **answer)
    register = Register()

    with pytest.raises(error_class) as caught:
        call("status.create", PAYLOAD, on_success=register)

    error = caught.value
    entry = only_entry()
    assert not register.ran
    assert len(crm.calls) == 1  # never retried
    assert error.failure_kind == failure_kind
    assert error.http_status == http_status
    assert error.request_id == entry.request_id
    assert entry.outcome == Outcome.FAILED
    assert entry.failure_kind == failure_kind
    assert entry.http_status == http_status
    assert entry.request_body == {**TENANT, **PAYLOAD}
    assert error.user_message and STATIC_TOKEN not in str(error)


@pytest.mark.django_db
def test_an_html_error_page_is_kept_for_the_operator_not_shown_to_the_user(crm, static_token):
    crm.post(URL, status=502, body=HTML_502, content_type="text/html")

    with pytest.raises(UpstreamHTTPError) as caught:
        call("status.create", PAYLOAD)

    assert caught.value.user_message == (
        "The CRM answered with an error (HTTP 502). Nothing was changed here, but the CRM "
        "may have made the change: do not send it again before its outcome is settled under "
        "“Needs attention”."
    )
    assert "nginx" not in str(caught.value)
    assert "502 Bad Gateway" in only_entry().error_detail


@pytest.mark.django_db
def test_a_5xx_envelope_keeps_the_crms_words(crm, static_token):
    crm.post(URL, status=500, json=envelope(data=None, status=0, error=500, message="Lỗi"))

    with pytest.raises(UpstreamHTTPError):
        call("status.create", PAYLOAD)

    entry = only_entry()
    assert (entry.upstream_status, entry.upstream_error, entry.upstream_message) == (
        0,
        "500",
        "Lỗi",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (
            requests.exceptions.ReadTimeout(),
            "The CRM did not answer within 15 seconds. Nothing was changed here, but the CRM "
            "may have made the change: do not send it again before its outcome is settled "
            "under “Needs attention”.",
        ),
        (
            requests.exceptions.ConnectTimeout(),
            "The CRM could not be reached within 3.05 seconds. Nothing was changed here; "
            "try again in a moment.",
        ),
        (
            requests.exceptions.ConnectionError(),
            "The CRM could not be reached. Nothing was changed here; try again in a moment.",
        ),
    ],
    ids=["read-timeout", "connect-timeout", "connection"],
)
def test_the_user_is_told_what_to_do_next(crm, static_token, failure, message):
    crm.post(URL, body=failure)
    with pytest.raises(UpstreamError) as caught:
        call("status.create", PAYLOAD)
    assert caught.value.user_message == message


@pytest.mark.django_db
def test_the_configured_timeouts_are_used(crm, static_token, settings):
    settings.CRM_CONNECT_TIMEOUT = 1.5
    settings.CRM_READ_TIMEOUT = 7.0
    crm.post(URL, json=envelope(), match=[matchers.request_kwargs_matcher({"timeout": (1.5, 7.0)})])
    call("status.create", PAYLOAD)


@pytest.mark.django_db
def test_a_bug_inside_the_transport_leaves_the_entry_failed_not_missing(crm, static_token):
    crm.post(URL, body=RuntimeError("adapter exploded"))
    register = Register()

    with pytest.raises(RuntimeError, match="adapter exploded"):
        call("status.create", PAYLOAD, on_success=register)

    entry = only_entry()
    assert not register.ran
    assert entry.outcome == Outcome.FAILED
    assert entry.failure_kind == FailureKind.INTERNAL
    assert entry.error_detail == "RuntimeError: adapter exploded"


@pytest.mark.django_db
def test_an_entry_that_cannot_be_completed_stays_pending(crm, static_token, monkeypatch):
    """If even the completion fails (database gone), the entry stays: 'outcome unknown'."""
    from crmadmin.audit import recorder

    def database_gone(*args, **kwargs):
        raise ConnectionResetError("database connection lost")

    crm.post(URL, body=RuntimeError("adapter exploded"))
    monkeypatch.setattr(recorder, "complete", database_gone)

    with pytest.raises(RuntimeError, match="adapter exploded"):
        call("status.create", PAYLOAD)

    entry = AuditEntry.objects.get()
    assert entry.outcome == Outcome.PENDING
    assert entry.finished_at is None


@pytest.mark.django_db
def test_on_success_runs_once_and_its_value_is_returned(crm, static_token):
    crm.post(URL, json=envelope(data="VIP"))
    seen = []

    def register(result):
        seen.append((result.data, AuditEntry.objects.get().outcome))
        return "the new Status row"

    result = call("status.create", PAYLOAD, on_success=register)

    # It ran inside the completing transaction, before the entry was finished.
    assert seen == [("VIP", Outcome.PENDING)]
    assert result.value == "the new Status row"
    assert only_entry().outcome == Outcome.SUCCEEDED


@pytest.mark.django_db
def test_a_register_failure_after_a_confirmed_change_is_recorded_as_succeeded(
    crm, static_token, make_user
):
    crm.post(URL, json=envelope(data="VIP"))

    def register(result):
        make_user(None, username="written-then-rolled-back")
        raise LookupError("status row vanished")

    with pytest.raises(LookupError):
        call("status.create", PAYLOAD, on_success=register)

    entry = only_entry()
    assert entry.outcome == Outcome.SUCCEEDED
    assert entry.upstream_data == "VIP"
    assert entry.error_detail == (
        "The CRM confirmed the change, but the local register could not be updated: "
        "LookupError: status row vanished"
    )
    # The register's half-done change was rolled back with the failing transaction.
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="written-then-rolled-back").exists()


def test_error_outcomes_match_the_audit_models_choices():
    assert FAILED == Outcome.FAILED and REJECTED == Outcome.REJECTED
    kinds = {c.failure_kind for c in UpstreamError.__subclasses__()} | {"internal"}
    assert kinds == set(FailureKind.values)


def test_the_environment_s_proxy_settings_still_apply_read_once_per_origin(monkeypatch):
    """The session does not read the environment per request; ``post`` passes what the
    environment says for the CRM's origin (a deployment behind an egress proxy)."""
    from crmadmin.upstream import transport

    monkeypatch.setattr(transport, "_environments", {})
    monkeypatch.setenv("HTTPS_PROXY", "http://egress.example.test:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example.test")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company-ca.pem")

    outside = transport.environment_for("https://crm.example.test/api/crm/customer/update")
    inside = transport.environment_for("https://internal.example.test/api/crm/customer/update")

    assert outside["proxies"]["https"] == "http://egress.example.test:3128"
    assert outside["verify"] == "/etc/ssl/company-ca.pem"
    assert "https" not in inside["proxies"]
    monkeypatch.setenv("HTTPS_PROXY", "http://changed.example.test:3128")
    assert transport.environment_for("https://crm.example.test/token") == outside
    assert transport.session().trust_env is False
