"""The import's CRM calls as job kinds: sync (create or update) and adopt-with-verify,
one kind per target (customers, each reference-code kind) so that starting or retrying
one needs that target's permission. A job row is one import row, frozen by id; its
handler is ``apply.apply_row`` (one audited call through the ordinary services)."""

from django.utils.translation import gettext_lazy

from crmadmin.imports.apply import apply_row
from crmadmin.imports.mapping import CUSTOMERS
from crmadmin.jobs.kinds import JobKind, register
from crmadmin.kinds import REFERENCE_KINDS as KINDS

SYNC = "sync"
VERIFY = "verify"
LABELS = {
    SYNC: gettext_lazy("Import: create or update in the CRM"),
    VERIFY: gettext_lazy("Import: check with the CRM, then add to the register"),
}


def kind_name(target: str, calls: str) -> str:
    return f"import.{calls}.{target}"


def run_import_row(*, actor, parameters, row) -> str:
    return apply_row(import_id=parameters["import"], row_id=row.data["row"], actor=actor)


def _created(job) -> None:
    from crmadmin.imports.services import import_job_created

    import_job_created(job)


def _ended(job) -> None:
    from crmadmin.imports.services import import_job_ended

    import_job_ended(job)


def _register_all() -> None:
    permissions = {CUSTOMERS: "customers.add_customer"}
    permissions.update({slug: kind.permission("create") for slug, kind in KINDS.items()})
    for target, permission in permissions.items():
        row_url = ("customers:detail", "code") if target == CUSTOMERS else None
        for calls, label in LABELS.items():
            register(
                JobKind(
                    kind_name(target, calls),
                    label,
                    permission,
                    run_import_row,
                    row_url,
                    on_created=_created,
                    on_ended=_ended,
                )
            )


_register_all()
