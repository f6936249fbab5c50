"""Write a development ``.env`` beside manage.py, once (``make run`` calls it first).

Without it, only ``make`` (which exports ``DEBUG=true``) could run the project: a plain
``python manage.py changepassword admin`` from the README would stop with "cannot start
with DEBUG off". An existing ``.env`` is never touched.
"""

import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

TEMPLATE = """\
# Written by `make run` for development on this computer; see .env.example for every setting.
# Production: replace this file (DEBUG=false and the CRM's settings).
DEBUG=true
SECRET_KEY={secret_key}
"""


class Command(BaseCommand):
    help = "Write a development .env (DEBUG on, a random SECRET_KEY) unless one exists."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--path", default=str(Path(settings.BASE_DIR) / ".env"))

    def handle(self, *args, path: str, **options) -> None:
        target = Path(path)
        if target.exists():
            return
        target.write_text(TEMPLATE.format(secret_key=secrets.token_urlsafe(50)))
        target.chmod(0o600)
        self.stdout.write(f"Wrote a development {target.name} (DEBUG on).")
