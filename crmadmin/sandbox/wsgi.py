"""WSGI entry of the sandbox served on its own: ``gunicorn crmadmin.sandbox.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crmadmin.sandbox.standalone")
application = get_wsgi_application()
