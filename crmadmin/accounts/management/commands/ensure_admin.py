"""Create the superuser ``admin`` once, for a fresh installation."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the superuser 'admin' if it does not exist. The password comes from "
        "CRMADMIN_ADMIN_PASSWORD, or is generated and printed once."
    )

    def handle(self, *args, **options) -> None:
        user_model = get_user_model()
        if user_model.objects.filter(username="admin").exists():
            self.stdout.write("Superuser 'admin' exists already; nothing to do.")
            return
        password = os.environ.get("CRMADMIN_ADMIN_PASSWORD", "")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser(username="admin", email="", password=password)
        if generated:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created superuser 'admin' with the password: {password}\n"
                    "It is shown only this once. Change it with: "
                    ".venv/bin/python manage.py changepassword admin"
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    "Created superuser 'admin' with the password from CRMADMIN_ADMIN_PASSWORD."
                )
            )
