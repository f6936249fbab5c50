"""The registry of record kinds: everything about a kind follows from its one entry."""

import json
import os
import subprocess
import sys
from pathlib import Path

from crmadmin.accounts.roles import ROLE_PERMISSIONS
from crmadmin.core.navigation import NAV_ENTRIES
from crmadmin.kinds import KINDS, REFERENCE_KINDS
from crmadmin.sandbox.operations import HANDLERS
from crmadmin.upstream.operations import OPERATIONS

ROOT = Path(__file__).resolve().parent.parent


def test_every_table_is_derived_from_the_five_entries():
    assert list(KINDS) == ["customer", "status", "type", "group", "field"]
    assert list(REFERENCE_KINDS) == ["statuses", "types", "groups", "fields"]
    assert len(OPERATIONS) == len(HANDLERS) == 4 * len(KINDS)
    assert [entry.key for entry in NAV_ENTRIES][: len(KINDS)] == [k.slug for k in KINDS.values()]
    granted = {name for names in ROLE_PERMISSIONS.values() for name in names}
    assert {kind.permission("view") for kind in KINDS.values()} <= granted


def test_a_sixth_kind_needs_one_entry_and_its_model(tmp_path):
    """tests/sixth_kind/scenario.py adds one entry to crmadmin/kinds.py (and its model lives
    in a throw-away app); the screens, the client, the audit log and the sandbox follow."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.sixth_kind.scenario"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            "PATH": os.environ.get("PATH", ""),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'sixth.sqlite3'}",
            "CACHE_URL": "locmemcache://",
        },
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["roles"] == {
        "Support": ["view_tag"],
        "Administrator": ["add_tag", "change_tag", "delete_tag", "rename_tag", "view_tag"],
        "Manager": ["view_tag"],
    }
    assert seen["navigation"] is True
    assert (seen["list_status"], seen["list_title"]) == (200, True)
    assert seen["create_status"] == 302
    assert seen["register"] == [["VANG", "Vàng", "Khách thân thiết"]]
    assert seen["audit"] == ["tag.create", "tag", "VANG", "succeeded"]
    assert seen["audit_label"] is True
    assert seen["audit_filter_choice"] is True
    assert seen["sandbox"] == [
        1,
        "Mã thẻ khách hàng đã tồn tại: BAC.",
        "BACH_KIM",
        [["BACH_KIM", "Bạc"]],
        True,
    ]
