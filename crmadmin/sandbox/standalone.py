"""Settings for the sandbox served on its own, as a stand-in CRM in a process of its own
(``bench/bulk_job.py`` runs it under gunicorn; a team can point several dashboards at
one), with ``crmadmin.sandbox.wsgi``.

The project's settings, with only the sandbox's URLs (still under ``/sandbox/``) and none
of the dashboard's middleware: the CRM API has no sessions, users, CSRF, messages or
pages, and every request would otherwise pay for them. Database connections are kept
open across requests (one per server thread), as the real CRM's would be.
"""

from crmadmin.settings import *  # noqa: F403

# New objects, not edits of the project's: importing this module changes nothing else.
INSTALLED_APPS = list(dict.fromkeys([*INSTALLED_APPS, "crmadmin.sandbox"]))  # noqa: F405
ROOT_URLCONF = "crmadmin.sandbox.standalone_urls"
MIDDLEWARE: list[str] = []
DATABASES = {**DATABASES, "default": {**DATABASES["default"], "CONN_MAX_AGE": None}}  # noqa: F405
