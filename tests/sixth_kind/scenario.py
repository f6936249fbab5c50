"""A sixth kind of record, added the way a developer would: one entry in crmadmin/kinds.py.

Run by tests/test_kinds.py in a process of its own (``python -m tests.sixth_kind.scenario``,
with ``DATABASE_URL`` naming a scratch SQLite file). Before anything imports the registry,
this script loads crmadmin/kinds.py with ``ENTRY`` inserted at the end of its table, and
touches nothing else: every other table (operations, sandbox handlers, roles, navigation,
audit labels, reference-code screens) must follow by itself. Then it drives the dashboard
and the sandbox and prints what a user would see, as JSON.
"""

import json
import os
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
END_OF_TABLE = "    )\n}\n"
ENTRY = """\
        RecordKind(
            name="tag",
            slug="tags",
            model_label="sixth_kind.Tag",
            label="tag",
            nav_label="Tags",
            crm_label="thẻ khách hàng",
            details=(Detail("description", "tag_description"),),
            count_label=ngettext_lazy("%(count)d tag", "%(count)d tags", "count"),
            usage_relation="uses",
            usage_label=ngettext_lazy(
                "%(count)d customer wears this tag.", "%(count)d customers wear this tag.", "count"
            ),
            in_use_advice="Take it off those customers first.",
        ),
"""


def load_registry_with_entry() -> None:
    path = ROOT / "crmadmin" / "kinds.py"
    source = path.read_text()
    assert source.count(END_OF_TABLE) == 1, "the registry's table no longer ends as expected"
    module = types.ModuleType("crmadmin.kinds")
    module.__file__ = str(path)
    sys.modules["crmadmin.kinds"] = module
    code = compile(source.replace(END_OF_TABLE, ENTRY + END_OF_TABLE), str(path), "exec")
    exec(code, vars(module))  # noqa: S102 (the registry's own source, plus ENTRY)


def main() -> None:
    load_registry_with_entry()
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.sixth_kind.settings"
    os.environ["CRM_API_TOKEN"] = "test-token"
    import django

    django.setup()

    import responses
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import Client

    from crmadmin.audit.models import AuditEntry
    from crmadmin.sandbox.models import SandboxCode
    from tests.crm import CRM, TENANT, envelope
    from tests.sixth_kind.models import Tag

    call_command("migrate", run_syncdb=True, verbosity=0)
    seen: dict = {}

    def user(role: str):
        person = get_user_model().objects.create_user(role.lower(), password="pw")
        person.groups.add(Group.objects.get(name=role))
        client = Client()
        client.force_login(person)
        return client

    administrator, manager = user("Administrator"), user("Manager")
    seen["roles"] = {
        role: sorted(
            perm
            for perm in Group.objects.get(name=role).permissions.values_list("codename", flat=True)
            if perm.endswith("_tag")
        )
        for role in ("Support", "Administrator", "Manager")
    }
    seen["navigation"] = 'data-nav="tags"' in administrator.get("/").content.decode()
    listing = administrator.get("/codes/tags/")
    seen["list_status"] = listing.status_code
    seen["list_title"] = "Customer tags" in listing.content.decode()

    with responses.RequestsMock() as crm:
        crm.post(
            f"{CRM}/api/crm/tag/create",
            match=[
                responses.matchers.json_params_matcher(
                    {
                        **TENANT,
                        "tag_no": "VANG",
                        "tag_name": "Vàng",
                        "tag_description": "Khách thân thiết",
                    },
                    strict_match=True,
                )
            ],
            json=envelope("VANG"),
        )
        created = administrator.post(
            "/codes/tags/new/", {"code": "VANG", "name": "Vàng", "description": "Khách thân thiết"}
        )
    seen["create_status"] = created.status_code
    seen["register"] = list(Tag.objects.values_list("code", "name", "description"))
    entry = AuditEntry.objects.get()
    seen["audit"] = [entry.operation, entry.record_kind, entry.code, entry.outcome]
    audit_page = manager.get("/audit/", {"record_kind": "tag"}).content.decode()
    seen["audit_label"] = "tag: create" in audit_page
    seen["audit_filter_choice"] = '<option value="tag" selected>tag</option>' in audit_page

    # The sandbox knows the kind too: token, create, change code, delete over its HTTP face.
    sandbox = Client()
    token = sandbox.post(
        "/sandbox/token",
        {"grant_type": "password", "username": "sandbox", "password": "sandbox-password"},
    ).json()["access_token"]

    def sandbox_call(path: str, body: dict) -> dict:
        return sandbox.post(
            f"/sandbox/api/crm/tag/{path}",
            json.dumps({**TENANT, **body}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        ).json()

    seen["sandbox"] = [
        sandbox_call("create", {"tag_no": "BAC", "tag_name": "Bạc"})["status"],
        sandbox_call("create", {"tag_no": "BAC", "tag_name": "Bạc"})["message"],
        sandbox_call("updateNo", {"tag_no_old": "BAC", "tag_no_new": "BACH_KIM"})["data"],
        list(SandboxCode.objects.filter(kind="tag").values_list("code", "name")),
        sandbox_call("delete", {"tag_no": "BACH_KIM"})["data"],
    ]
    print(json.dumps(seen, ensure_ascii=False))


if __name__ == "__main__":
    main()
