"""Start-up in production mode: refuses missing settings, and is secure by default."""

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "crmadmin.example.com",
    "CRM_API_URL": "https://crm.example.com",
    "CRM_USERNAME": "crm-user",
    "CRM_PASSWORD": "crm-password",
    "CRM_VBOT_ID": "VBOT-1",
    "CRM_PROJECT_CODE": "PRJ-1",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    clean.update(
        ENV_FILE="/dev/null",
        DJANGO_SETTINGS_MODULE="crmadmin.settings",
        DATABASE_URL=f"sqlite:///{Path(tempfile.gettempdir()) / 'crmadmin-settings-test.sqlite3'}",
        **env,
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_mode_without_settings_refuses_to_start_naming_each_one():
    result = manage("check", DEBUG="false")
    assert result.returncode != 0
    message = result.stderr.strip()
    assert message.startswith("error: crmadmin cannot start with DEBUG off")
    for name in (
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "CRM_API_URL",
        "CRM_USERNAME and CRM_PASSWORD (or CRM_API_TOKEN)",
        "CRM_VBOT_ID",
        "CRM_PROJECT_CODE",
    ):
        assert name in message
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "CRM_VBOT_ID"])
def test_each_missing_setting_is_named_alone(missing):
    env = {key: value for key, value in PRODUCTION.items() if key != missing}
    result = manage("check", **env)
    assert result.returncode != 0
    assert f"missing required setting(s): {missing}." in result.stderr


def test_a_static_token_replaces_the_crm_account():
    env = {k: v for k, v in PRODUCTION.items() if k not in ("CRM_USERNAME", "CRM_PASSWORD")}
    result = manage("check", CRM_API_TOKEN="static-token", **env)
    assert result.returncode == 0, result.stderr


def test_deploy_check_is_clean_in_a_production_like_environment():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_development_mode_needs_nothing():
    result = manage("check", DEBUG="true")
    assert result.returncode == 0, result.stderr
