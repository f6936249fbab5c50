"""Settings for the test suite: the real settings module, in development mode.

The upstream defaults to an address no test reaches by accident: client tests pin it
with ``responses``; integration and browser tests point it at the sandbox of their
``live_server`` (the ``sandbox_upstream`` fixture).
"""

import os
import tempfile

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("CRM_SANDBOX", "true")
os.environ.setdefault("CRM_API_URL", "http://crm.example.test")
os.environ.setdefault("CRM_USERNAME", "sandbox")
os.environ.setdefault("CRM_PASSWORD", "sandbox-password")
os.environ.setdefault("CRM_VBOT_ID", "VBOT-TEST")
os.environ.setdefault("CRM_PROJECT_CODE", "PRJ-TEST")

from crmadmin.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Quiet tests; a test that reads a worker process's log asks for INFO.
LOGGING["root"]["level"] = os.environ.get("TEST_LOG_LEVEL", "WARNING")  # noqa: F405
# Live-server threads must not keep connections open past a test: PostgreSQL refuses to
# drop a test database that still has users.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # Background jobs run their calls in threads, and the job tests start real worker
    # processes: they all need a database file they can open, which an in-memory test
    # database is not (and shared-cache memory databases lock instead of waiting).
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"crmadmin-test-{os.getpid()}.sqlite3")
    }
