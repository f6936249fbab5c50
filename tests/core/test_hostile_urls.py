"""Every URL pattern, probed with hostile input by every role: never a 500 (issue 10, item 9).

The walk reads ``get_resolver()`` recursively, so a page added later is probed too. Each
path argument is filled with a NUL byte, other control characters, a huge number, a
10,000-character string, a far date and invisible text; each page is also asked with
hostile query strings and sent a hostile POST body. PostgreSQL refuses NUL in a text
parameter where SQLite does not, so this runs on both databases in CI.
"""

import re
from urllib.parse import quote, urlencode

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.customers.models import Customer
from tests.customers.conftest import make_customer

ROLES = (None, "support", "administrator", "manager", "superuser")

# Values for a path argument; each is percent-encoded as a browser would send it.
PATH_VALUES = {
    "nul": "\x00",
    "nul-in-code": "VIP\x00",
    "control": "\x01\x1b[31m\x7f",
    "huge-int": "9" * 40,
    "long-text": "x" * 10_000,
    "far-date": "9999-12-31",
    "invisible": "\u200b\ufeff\u2060",
    "percent": "%",
}

# Hostile text for query parameters. A NUL stands for every control character (the
# middleware refuses them alike); the 10,000 characters go to the search boxes only, where
# a pasted text lands, and a shorter long text elsewhere.
_HOSTILE_TEXT = {"nul": "a\x00b", "invisible": "\u200b\ufeff", "huge-number": "9" * 40}
_PARAMETERS = (
    "q",
    "code",
    "status",
    "type",
    "group",
    "field",
    "sort",
    "page",
    "actor",
    "operation",
    "record_kind",
    "outcome",
    "job",
    "before",
    "after",
    "days",
    "class",
    "target",
    "next",
    "kind",
    "ids",
    "action",
    "select_all",
)
QUERIES = {
    **{
        f"text-{label}": {name: value for name in _PARAMETERS}
        for label, value in _HOSTILE_TEXT.items()
    },
    "long-text": {name: "x" * (10_000 if name in ("q", "code") else 300) for name in _PARAMETERS},
    "calendar-ends": {"date_from": "0001-01-01", "date_to": "9999-12-31"},
    "not-dates": {"date_from": "2025-02-30", "date_to": "10000-01-01"},
    "negative-page": {"page": "-1", "job": "-9" * 30, "days": "-7"},
}
# A POST body with a hostile value in every field a form of the dashboard reads.
POST_FIELDS = (
    "code",
    "new_code",
    "name",
    "email",
    "address",
    "phones",
    "status",
    "type",
    "group",
    "description",
    "field_type",
    "version",
    "opened",
    "confirm",
    "ids",
    "action",
    "select_all",
    "step",
    "meaning",
    "target",
    "mode",
    "language",
    "next",
    "remove_phone",
    "username",
    "password",
)

_CONVERTER = re.compile(r"<(?:[^>:]+:)?[^>]+>")
_GROUP = re.compile(r"\(\?P<[^>]+>[^)]*\)")


def _routes(patterns=None, prefix=""):
    """Every pattern as a route string, ``<...>`` marking each argument."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = _as_route(str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + route)
        elif isinstance(pattern, URLPattern):
            yield prefix + route


def _as_route(text: str) -> str:
    """A regex pattern (the admin's, the sandbox's) read as a route with ``<arg>`` holes."""
    text = text.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    return _GROUP.sub("<arg>", text).replace("\\", "")


ROUTES = sorted(set(_routes()))


# What a hole holds when another hole of the same route is the hostile one.
_REAL = {"kind": "statuses", "code": "MOI"}


def _paths(route: str) -> list[str]:
    """The route with every hole hostile; with several holes, also each hole alone
    hostile and the others real (``/codes/statuses/%00/edit/``)."""
    holes = _CONVERTER.findall(route)
    if not holes:
        return ["/" + route]
    paths = []
    for value in PATH_VALUES.values():
        hostile = quote(value, safe="")
        paths.append("/" + _CONVERTER.sub(hostile, route))
        if len(holes) > 1:
            for index in range(len(holes)):
                parts = _CONVERTER.split(route)
                filled = [
                    hostile if position == index else _real(hole)
                    for position, hole in enumerate(holes)
                ]
                paths.append("/" + "".join(_interleave(parts, filled)))
    return paths


def _real(hole: str) -> str:
    name = hole.strip("<>").rpartition(":")[2]
    return _REAL.get(name, "1")


def _interleave(parts: list[str], fillings: list[str]):
    for part, filling in zip(parts, [*fillings, ""], strict=True):
        yield part
        yield filling


@pytest.fixture
def register(db):
    """A little of everything, so hostile query strings reach real records' pages too."""
    codes = {
        "status": Status.objects.create(code="MOI", name="Mới"),
        "type": Type.objects.create(code="CA_NHAN", name="Cá nhân"),
        "group": Group.objects.create(code="HN", name="Hà Nội"),
    }
    Field.objects.create(code="NGAY_SINH", name="Ngày sinh", field_type="date")
    Field.objects.create(code="SO_NV", name="Số nhân viên", field_type="number")
    make_customer("KH001", "Nguyễn Văn An", codes=codes)
    return codes


def _probe(client, method: str, url: str, data=None):
    try:
        response = client.get(url) if method == "GET" else client.post(url, data or {})
    except Exception as error:  # the test client re-raises a view's exception
        return f"{method} {url[:120]!r}: {type(error).__name__}: {str(error)[:200]}"
    if response.status_code >= 500:
        return f"{method} {url[:120]!r}: HTTP {response.status_code}"
    return None


def _signed_in(client, make_user, role):
    if role is None:
        client.logout()
        return None
    user = make_user(role, username=f"probe-{role}")
    client.force_login(user)
    return user


def _probed(route: str, role: str | None) -> bool:
    """Django's admin lets in staff only: for the roles, who are not staff, every admin
    page is the same redirect to its login, probed already as the anonymous visitor."""
    return not route.startswith("admin/") or role in (None, "superuser")


def _keep_signed_in(client, user):
    # POST /logout/ signs the client out: the rest of the walk stays in the role.
    if user is not None and "_auth_user_id" not in client.session:
        client.force_login(user)


def test_the_walk_reaches_every_screen():
    """The walk is not vacuous: it sees the pages of every app, with their arguments."""
    assert {"customers/<code>/edit/", "codes/<kind>/<code>/rename/", "audit/export.csv"} <= set(
        route.replace("<str:code>", "<code>").replace("<slug:kind>", "<kind>") for route in ROUTES
    )
    assert any(route.startswith("import/") for route in ROUTES)
    assert any(route.startswith("jobs/") for route in ROUTES)
    assert any(route.startswith("admin/") for route in ROUTES)


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonymous")
def test_hostile_paths_never_answer_500(role, client, make_user, register, crm):
    user = _signed_in(client, make_user, role)
    body = {name: "\x00" for name in POST_FIELDS}
    failures = []
    for route in ROUTES:
        if not _probed(route, role):
            continue
        for url in _paths(route):
            failures.append(_probe(client, "GET", url))
            failures.append(_probe(client, "POST", url, body))
            _keep_signed_in(client, user)
    failures = [failure for failure in failures if failure]
    assert not failures, "\n".join(failures)
    assert Customer.objects.filter(code="KH001").exists()


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonymous")
def test_hostile_queries_never_answer_500(role, client, make_user, register, crm):
    user = _signed_in(client, make_user, role)
    real = {"<str:code>": "KH001", "<slug:kind>": "statuses", "<code>": "KH001"}
    failures = []
    for route in ROUTES:
        if route.startswith("sandbox/") or not _probed(route, role):
            continue  # the sandbox: the CRM emulator's own wire, tested in tests/sandbox
        path = "/" + route
        for hole, value in real.items():
            path = path.replace(hole, value)
        if _CONVERTER.search(path):
            path = "/" + _CONVERTER.sub("1", route)
        for query in QUERIES.values():
            failures.append(_probe(client, "GET", f"{path}?{urlencode(query)}"))
            if role is not None:
                failures.append(
                    _probe(
                        client,
                        "POST",
                        f"{path}?{urlencode(query)}",
                        {name: query.get(name, "\x00") for name in POST_FIELDS},
                    )
                )
                _keep_signed_in(client, user)
    failures = [failure for failure in failures if failure]
    assert not failures, "\n".join(failures)
