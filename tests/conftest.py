"""Fixtures shared by the whole suite: users in each role, the sandbox, a browser."""

import os
import shutil

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from hypothesis import settings as hypothesis_settings

from crmadmin.accounts.roles import ADMINISTRATOR, MANAGER, SUPPORT
from tests.crm import STATIC_TOKEN, fake_crm

# Property tests stay quick in `make test`: a modest number of examples, no per-example
# deadline (a loaded CI machine is slow, not wrong), no example database left behind.
# HYPOTHESIS_PROFILE=thorough explores more.
hypothesis_settings.register_profile("crmadmin", max_examples=60, deadline=None, database=None)
hypothesis_settings.register_profile("thorough", max_examples=2000, deadline=None, database=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "crmadmin"))

# Playwright's sync API runs an event loop in the test thread; Django must allow ORM
# calls there (the browser tests use live_server with transaction=True).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct-horse-battery"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROLES = {
    "support": SUPPORT,
    "administrator": ADMINISTRATOR,
    "manager": MANAGER,
}


@pytest.fixture
def make_user(db):
    """``make_user("support")`` → a user in that role (``"superuser"`` and ``None`` too)."""

    def make(role: str | None, username: str | None = None):
        username = username or f"{role or 'norole'}-user"
        user_model = get_user_model()
        if role == "superuser":
            return user_model.objects.create_superuser(username=username, password=PASSWORD)
        user = user_model.objects.create_user(username=username, password=PASSWORD)
        if role:
            user.groups.add(Group.objects.get(name=ROLES[role]))
        return user

    return make


@pytest.fixture
def support_user(make_user):
    return make_user("support")


@pytest.fixture
def administrator_user(make_user):
    return make_user("administrator")


@pytest.fixture
def manager_user(make_user):
    return make_user("manager")


@pytest.fixture
def superuser(make_user):
    return make_user("superuser")


@pytest.fixture
def client_as(client, make_user):
    """``client_as("manager")`` → the test client, signed in as a fresh user of that role."""

    def sign_in(role: str | None):
        user = make_user(role)
        client.force_login(user)
        client.user = user
        return client

    return sign_in


@pytest.fixture
def sandbox_upstream(live_server, settings):
    """Point the upstream client at the sandbox served by ``live_server`` (real HTTP)."""
    from django.core.cache import cache

    settings.CRM_API_URL = f"{live_server.url}/sandbox"
    settings.CRM_API_TOKEN = ""
    cache.clear()
    yield settings.CRM_API_URL
    # Drop the kept-alive connections, so the live server's threads end with the test.
    from crmadmin.upstream import transport

    transport.session().close()


# --- The CRM as ``responses`` (helpers in tests/crm.py) ---------------------


@pytest.fixture
def static_token(settings):
    """The client sends this token and never asks the token endpoint for one."""
    settings.CRM_API_TOKEN = STATIC_TOKEN
    return STATIC_TOKEN


@pytest.fixture
def crm(static_token):
    """The fake CRM with the static token: every registered answer must be used, and
    nothing else is reachable. (tests/upstream and tests/sandbox have their own ``crm``.)"""
    with fake_crm() as mock:
        yield mock


# --- Browser -----------------------------------------------------------------


def _chromium_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not _chromium_available():
        if os.environ.get("CRMADMIN_REQUIRE_BROWSER"):
            pytest.fail(
                f"Chromium is required (CRMADMIN_REQUIRE_BROWSER) but {CHROMIUM} is missing"
            )
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture(scope="session")
def browser(launch_browser, live_server):
    """pytest-playwright's browser, closed before the live server stops (so the server
    thread does not see Chromium's connections close after its database is gone)."""
    browser = launch_browser()
    yield browser
    browser.close()


@pytest.fixture
def browser_login(live_server):
    """Sign in through the real login form: ``browser_login(page, user)``."""

    def login(page, user, password: str = PASSWORD):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", user.get_username())
        page.fill("#id_password", password)
        page.click("#main button[type=submit]")
        # Home, or Customers for Support (issue 10 item 8).
        page.wait_for_url(
            lambda url: url in {f"{live_server.url}/", f"{live_server.url}/customers/"}
        )
        return page

    return login


# --- Audit triggers ----------------------------------------------------------


@pytest.fixture(autouse=True)
def _audit_delete_trigger_lifted_for_flush(request):
    """Let Django flush a SQLite test database after a transactional test.

    The audit log's DELETE trigger (migration audit 0002) rejects the ``DELETE FROM`` a
    SQLite flush runs; PostgreSQL flushes with TRUNCATE, which row triggers do not see.
    The trigger is (re)created for every test that uses the database and lifted just
    before a transactional test's flush (this fixture's teardown runs first).
    """
    marker = request.node.get_closest_marker("django_db")
    uses_db = marker is not None or {"db", "transactional_db", "live_server"} & set(
        request.fixturenames
    )
    if not uses_db:
        yield
        return
    from django.db import connection

    from crmadmin.audit import triggers

    request.getfixturevalue("_django_db_helper")
    triggers.create_sqlite_delete_trigger(connection)
    yield
    if not connection.in_atomic_block:
        triggers.drop_sqlite_delete_trigger(connection)
