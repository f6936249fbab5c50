"""Applying a previewed import: its new and changed rows, in one of two modes.

- **adopt**: the records are already in the CRM. They are written to the register in
  batches, without a CRM call, each with a ``register.adopt`` event in the audit log
  (actor, file name, SHA-256, import). With ``verify``, each row is first sent to the CRM
  as an update with the file's values (one audited call per row) and adopted only when
  the CRM accepts it.
- **sync**: one audited call per row through the ordinary services: create for a new
  row, update for a changed one.

Plain adopt runs here, batch after batch (``run_apply``, cancellation checked between
batches). Sync and adopt-with-verify are a job of the job engine (``imports.job_kinds``,
``apply_row`` per row): its concurrency and rate limits, audit entries tagged with the
job, cancel, retry of failed rows, and resume after a dead worker without sending a row
twice. Either way rows are taken in file order among those not yet done, so running the
import again only does what is left; each row ends ``done``, ``failed`` (with the CRM's
message) or, for a call whose worker died mid-flight, ``unknown`` (never sent again).
"""

from collections.abc import Callable
from typing import NamedTuple

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from crmadmin.codes import services as code_services
from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.core.locks import RecordBusy
from crmadmin.core.versions import StaleRecord
from crmadmin.customers import services as customer_services
from crmadmin.customers.models import Customer
from crmadmin.imports.mapping import CUSTOMERS
from crmadmin.imports.models import Import, ImportRow, Mode, Outcome, State
from crmadmin.jobs.kinds import RowFailed
from crmadmin.kinds import REFERENCE_KINDS as KINDS
from crmadmin.upstream import UpstreamError

ADOPT_BATCH = 5000
Progress = Callable[[int, int], None]


def rows_to_apply(job: Import):
    return job.rows.filter(outcome__in=(Outcome.PENDING, Outcome.FAILED)).order_by("number")


def makes_calls(job: Import) -> bool:
    """Whether the import's rows are CRM calls (a job), rather than register inserts."""
    return job.mode == Mode.SYNC or bool(job.verify)


def run_apply(job: Import, *, actor, progress: Progress | None = None) -> Import:
    """Adopt every row not yet done, in batches; the import ends ``done`` or ``cancelled``."""
    total = job.rows.exclude(outcome=Outcome.SKIPPED).count()
    Import.objects.filter(pk=job.pk).update(
        state=State.APPLYING,
        total=total,
        processed=job.rows.filter(outcome=Outcome.DONE).count(),
        error="",
    )
    event = {"file": job.file_name, "digest": job.digest, "import": job.pk}
    cancelled = _adopt_in_batches(job, actor=actor, event=event, progress=progress)
    Import.objects.filter(pk=job.pk).update(
        state=State.CANCELLED if cancelled else State.DONE, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def _cancel_requested(job: Import) -> bool:
    return Import.objects.filter(pk=job.pk, cancel_requested=True).exists()


def _advance(job: Import, rows: int, progress: Progress | None) -> None:
    Import.objects.filter(pk=job.pk).update(processed=F("processed") + rows)
    if progress:
        done, total = Import.objects.values_list("processed", "total").get(pk=job.pk)
        progress(done, total)


def _ids_to_apply(job: Import) -> list[int]:
    """The rows still to do, in file order, read once: asking the database for "the next
    rows not yet done" again and again sorts what is left each time."""
    return list(rows_to_apply(job).values_list("pk", flat=True))


def _adopt_in_batches(job: Import, *, actor, event: dict, progress) -> bool:
    field_ids = _field_ids()
    ids = _ids_to_apply(job)
    for start in range(0, len(ids), ADOPT_BATCH):
        if _cancel_requested(job):
            return True
        batch = [
            RowData(*values)
            for values in ImportRow.objects.filter(
                pk__in=ids[start : start + ADOPT_BATCH],
                outcome__in=(Outcome.PENDING, Outcome.FAILED),
            )
            .order_by("number")
            .values_list("pk", "number", "code", "values")
        ]
        if not batch:
            continue
        if job.target == CUSTOMERS:
            adoptions = []
            for row in batch:
                try:
                    adoptions.append(_adoption(row, event, field_ids))
                except StaleRow as stale:
                    ImportRow.objects.filter(pk=row.pk).update(
                        outcome=Outcome.FAILED, message=str(stale)
                    )
            adopted = {adoption.code for adoption in adoptions}
            batch = [row for row in batch if row.code in adopted]
            customer_services.customers_adopt(actor=actor, adoptions=adoptions)
        else:
            code_services.codes_adopt(
                kind=KINDS[job.target],
                actor=actor,
                records=[_code_record(row, event) for row in batch],
            )
        ImportRow.objects.filter(pk__in=[row.pk for row in batch]).update(
            outcome=Outcome.DONE, message=""
        )
        _advance(job, len(batch), progress)
    return False


def apply_row(*, import_id: int, row_id: int, actor) -> str:
    """One row of a sync or adopt-with-verify import, as a row of its job (see
    ``imports.job_kinds``): one audited call, then the row is ``done``; a refusal marks it
    ``failed`` with the CRM's message and is raised again for the job's report."""
    job = Import.objects.filter(pk=import_id).first()
    if job is None:
        raise RowFailed(_("This import no longer exists."))
    row = ImportRow.objects.filter(pk=row_id, job_id=import_id).first()
    if row is None:
        raise RowFailed(_("This row is no longer in the import."))
    if row.outcome == Outcome.DONE:
        return _("Already imported: nothing was sent.")
    event = {"file": job.file_name, "digest": job.digest, "import": job.pk}
    try:
        if job.mode == Mode.ADOPT:
            _verify_and_adopt(job, row, actor=actor, adoption=_adoption(row, event, _field_ids()))
        else:
            _sync(job, row, actor=actor)
    except UpstreamError as error:
        _row_failed(
            row,
            _("%(message)s (request %(request)s)")
            % {
                "message": error.user_message,
                "request": error.request_id,
            },
        )
        raise
    except (code_services.CodeError, RecordBusy, StaleRecord) as error:
        _row_failed(row, str(error.user_message))
        raise RowFailed(error.user_message) from error
    except StaleRow as stale:
        _row_failed(row, str(stale))
        raise RowFailed(str(stale)) from stale
    ImportRow.objects.filter(pk=row.pk).update(outcome=Outcome.DONE, message="")
    return ""


def _row_failed(row: ImportRow, message: str) -> None:
    ImportRow.objects.filter(pk=row.pk).exclude(outcome=Outcome.DONE).update(
        outcome=Outcome.FAILED, message=message
    )


def _verify_and_adopt(job: Import, row: ImportRow, *, actor, adoption) -> None:
    if job.target == CUSTOMERS:
        customer_services.customer_adopt_verified(actor=actor, adoption=adoption)
    else:
        code_services.code_adopt_verified(
            kind=KINDS[job.target], actor=actor, record=_code_record(row, adoption.event)
        )


def _sync(job: Import, row: ImportRow, *, actor) -> None:
    values = row.values
    if job.target != CUSTOMERS:
        kind = KINDS[job.target]
        details = {d.attr: values[d.attr] for d in kind.details if d.attr in values}
        existing = kind.model.objects.filter(code=row.code).first()
        if existing is None:
            code_services.code_create(
                kind=kind, actor=actor, code=row.code, name=values["name"], **details
            )
        else:
            code_services.code_update(
                kind=kind, actor=actor, record=existing, name=values["name"], **details
            )
        return
    customer = (
        Customer.objects.filter(code=row.code)
        .prefetch_related("phones", "field_values__field")
        .first()
    )
    fields = Field.objects.in_bulk(list(values.get("fields", {})), field_name="code")
    file_values = {fields[code]: value for code, value in values.get("fields", {}).items()}
    common = {
        "actor": actor,
        "name": values["name"],
        "phones": values["phones"],
        "status": Status.objects.get(pk=values["status"]),
        "type": Type.objects.get(pk=values["type"]),
        "group": Group.objects.get(pk=values["group"]),
    }
    if customer is None:
        customer_services.customer_create(
            code=row.code,
            email=values.get("email", ""),
            address=values.get("address", ""),
            field_values=file_values,
            **common,
        )
        return
    stored = {value.field: value.value for value in customer.field_values.all()}
    customer_services.customer_update(
        customer=customer,
        email=values.get("email", customer.email),
        address=values.get("address", customer.address),
        field_values={**stored, **file_values},
        **common,
    )


class RowData(NamedTuple):
    """What applying needs of an ``ImportRow``, without building the model instance."""

    pk: int
    number: int
    code: str
    values: dict


class StaleRow(Exception):
    """The register changed since the preview in a way the row cannot be applied over."""


def _field_ids() -> dict[str, int]:
    return dict(Field.objects.values_list("code", "pk"))


def _adoption(row: ImportRow, event: dict, field_ids: dict[str, int]):
    values = row.values
    file_fields = values.get("fields", {})
    gone = [code for code in file_fields if code not in field_ids]
    if gone:
        raise StaleRow(
            _("The custom field %(code)s no longer exists: upload the file again.")
            % {"code": gone[0]}
        )
    return customer_services.Adoption(
        code=row.code,
        name=values["name"],
        phones=values["phones"],
        phone_keys=values.get("phone_keys"),
        status_id=values["status"],
        type_id=values["type"],
        group_id=values["group"],
        email=values.get("email"),
        address=values.get("address"),
        field_values={field_ids[code]: value for code, value in file_fields.items()},
        event={**event, "row": row.number},
    )


def _code_record(row: ImportRow, event: dict) -> dict:
    return {"code": row.code, **row.values, "event": {**event, "row": row.number}}
