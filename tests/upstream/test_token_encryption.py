"""The CRM's tokens are encrypted in the shared cache (Fernet, rotatable keys): checked by
reading the cache table's row raw."""

import base64
import pickle

import pytest
from cryptography.fernet import Fernet
from django.core.cache import cache
from django.db import connection

from crmadmin.upstream import auth, call
from tests.crm import envelope

URL = "http://crm.example.test/api/crm/status/create"
TOKEN_URL = "http://crm.example.test/token"
PAYLOAD = {"status_no": "VIP", "status_name": "Khách VIP"}
ACCESS, REFRESH = "ACCESS-very-secret-4242", "REFRESH-very-secret-9191"


@pytest.fixture
def granted(settings, crm):
    settings.CRM_API_TOKEN = ""
    cache.clear()
    crm.post(
        TOKEN_URL,
        json={
            "access_token": ACCESS,
            "token_type": "bearer",
            "expires_in": 899,
            "refresh_token": REFRESH,
        },
    )
    crm.post(URL, json=envelope(data="VIP"))
    return crm


def raw_cache_row() -> bytes:
    """The cache table's value column for the token, as stored (base64 of a pickle)."""
    table = connection.ops.quote_name("crmadmin_cache")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {table} WHERE cache_key LIKE %s", ["%upstream.token%"])  # noqa: S608
        (value,) = cursor.fetchone()
    return value.encode() if isinstance(value, str) else bytes(value)


@pytest.mark.django_db
def test_the_cache_row_holds_no_token_in_clear(granted):
    call("status.create", PAYLOAD)
    stored = raw_cache_row()
    decoded = base64.b64decode(stored)
    for secret in (ACCESS, REFRESH):
        assert secret.encode() not in stored
        assert secret.encode() not in decoded
    sealed = pickle.loads(decoded)  # noqa: S301 (our own cache row)
    assert isinstance(sealed, bytes) and sealed.startswith(b"gAAAAA")  # a Fernet token
    assert auth.access_token() == ACCESS  # and it is read back


@pytest.mark.django_db
def test_a_rotated_key_still_reads_and_re_encrypts_with_the_new_one(granted, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CRM_TOKEN_CACHE_KEYS = [old]
    call("status.create", PAYLOAD)
    settings.CRM_TOKEN_CACHE_KEYS = [new, old]
    assert auth.access_token() == ACCESS  # no new grant: the old key still opens it
    settings.CRM_TOKEN_CACHE_KEYS = [new]
    assert auth.access_token() == ACCESS  # re-encrypted with the new key on that read
    assert len([c for c in granted.calls if c.request.url == TOKEN_URL]) == 1


@pytest.mark.django_db
def test_a_token_no_key_opens_is_granted_again(granted, settings):
    settings.CRM_TOKEN_CACHE_KEYS = [Fernet.generate_key().decode()]
    call("status.create", PAYLOAD)
    settings.CRM_TOKEN_CACHE_KEYS = [Fernet.generate_key().decode()]
    granted.post(URL, json=envelope(data="VIP"))
    call("status.create", PAYLOAD)
    assert len([c for c in granted.calls if c.request.url == TOKEN_URL]) == 2


@pytest.mark.django_db
def test_a_token_cached_in_clear_before_the_upgrade_is_encrypted_on_first_use(settings, crm):
    settings.CRM_API_TOKEN = ""
    legacy = {"access_token": ACCESS, "refresh_token": REFRESH, "expires_at": 4e9}
    cache.set(auth.cache_key(), legacy, None)
    crm.post(URL, json=envelope(data="VIP"))
    call("status.create", PAYLOAD)  # no grant: the legacy token is used
    assert ACCESS.encode() not in base64.b64decode(raw_cache_row())
