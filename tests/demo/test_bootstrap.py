"""`make run`'s preparation: complete the first time, a no-op the second."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command


@pytest.mark.django_db
def test_bootstrap_prepares_once_and_creates_nothing_twice(settings, tmp_path, monkeypatch):
    settings.STATIC_ROOT = tmp_path / "static"
    monkeypatch.setenv("CRMADMIN_ADMIN_PASSWORD", "first-run-password-1")

    first = StringIO()
    call_command("bootstrap", stdout=first)
    assert "Created superuser 'admin'" in first.getvalue()
    assert (tmp_path / "static" / "css" / "app.css").exists()

    second = StringIO()
    call_command("bootstrap", stdout=second)
    assert "No migrations to apply" in second.getvalue()
    assert "exists already" in second.getvalue()
    assert get_user_model().objects.filter(username="admin").count() == 1
