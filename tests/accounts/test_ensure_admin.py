from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command


@pytest.mark.django_db
def test_generates_a_password_once_and_says_how_to_change_it(monkeypatch):
    monkeypatch.delenv("CRMADMIN_ADMIN_PASSWORD", raising=False)
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    text = out.getvalue()
    password = text.split("password: ")[1].split()[0]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password(password)
    assert "changepassword admin" in text

    again = StringIO()
    call_command("ensure_admin", stdout=again)
    assert "exists already" in again.getvalue()
    assert get_user_model().objects.filter(username="admin").count() == 1
    assert password not in again.getvalue()


@pytest.mark.django_db
def test_takes_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("CRMADMIN_ADMIN_PASSWORD", "from-the-environment-42")
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    assert "from-the-environment-42" not in out.getvalue()
    assert get_user_model().objects.get(username="admin").check_password("from-the-environment-42")
