"""The fake CRM shared by the tests that stand ``responses`` in for it.

The ``crm`` fixture (tests/conftest.py) is :func:`fake_crm` with the static token set;
the client tests (tests/upstream) use it without a token and choose one per test.
"""

import responses
from responses import matchers

CRM = "http://crm.example.test"
TENANT = {"vbot_id": "VBOT-TEST", "project_code": "PRJ-TEST"}
STATIC_TOKEN = "test-token"


def envelope(data="OK", status=1, error=0, message="success"):
    return {"status": status, "error": error, "message": message, "data": data}


def fake_crm() -> responses.RequestsMock:
    """Every registered answer must be used, and nothing else is reachable."""
    return responses.RequestsMock(assert_all_requests_are_fired=True)


def expect_call(mock, path: str, wire: dict, *, headers=None, match=(), **answer):
    """One CRM answer that matches only the exact body (tenant pair added) and the token.

    ``headers`` are further request headers that must be sent, ``match`` further
    ``responses`` matchers. Without ``json`` or ``body`` the answer is a success envelope
    carrying the customer code of ``wire``.
    """
    if "body" not in answer:
        answer.setdefault("json", envelope(wire.get("customer_no") or wire.get("customer_no_new")))
    return mock.post(
        f"{CRM}{path}",
        match=[
            matchers.json_params_matcher({**TENANT, **wire}, strict_match=True),
            matchers.header_matcher({"Authorization": f"Bearer {STATIC_TOKEN}", **(headers or {})}),
            *match,
        ],
        **answer,
    )
