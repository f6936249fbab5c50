"""The operation table can be read anywhere, even before Django has loaded its apps."""

import subprocess
import sys
from pathlib import Path

from crmadmin.kinds import KINDS as REGISTRY
from crmadmin.upstream import OPERATIONS

KINDS = tuple(REGISTRY)

ROOT = Path(__file__).resolve().parent.parent.parent


def test_five_kinds_with_four_calls_each():
    assert KINDS == ("customer", "status", "type", "group", "field")
    assert {(op.kind, op.action) for op in OPERATIONS.values()} == {
        (kind, action) for kind in KINDS for action in ("create", "update", "rename", "delete")
    }


def test_the_table_and_errors_import_before_the_app_registry_is_ready():
    """Models (the sandbox's, for one) may import the table at module level."""
    code = (
        "import django.apps, crmadmin.upstream as u;"
        "from crmadmin.upstream import UpstreamRejected, OPERATIONS;"
        "assert not django.apps.apps.ready;"
        "print(len(OPERATIONS), UpstreamRejected.failure_kind)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": ""},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["20", "rejected"]
