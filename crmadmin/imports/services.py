"""The import's life: upload, columns, preview, run, cancel, resume.

Each step changes the ``Import`` and hands the long work to the queue once the step's
transaction is committed: the preview and plain adopt as tasks (``imports.tasks``); sync
and adopt-with-verify as a job of the job engine (``imports.job_kinds``), whose state
the import follows through the job kind's hooks (``import_job_created``, ``import_job_ended``).
"""

import hashlib
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from crmadmin.imports import mapping as columns
from crmadmin.imports.apply import makes_calls, rows_to_apply
from crmadmin.imports.job_kinds import SYNC, VERIFY, kind_name
from crmadmin.imports.models import Import, ImportRow, Mode, Outcome, RememberedMapping, State
from crmadmin.imports.preview import stored_path
from crmadmin.imports.reading import FileRefused, open_table, refuse_size
from crmadmin.jobs.models import Job, JobRow, JobState, RowOutcome
from crmadmin.jobs.services import JobNotAllowed, job_cancel, job_create


class ImportNotAllowed(Exception):
    """The step does not fit the import's present state; the message says why."""


def import_upload(*, actor, target: str, uploaded: UploadedFile) -> Import:
    """Keep the file, read its header row and guess (or recall) the columns.

    Raises :class:`FileRefused` (nothing kept) when the file cannot be a table to import.
    """
    refuse_size(uploaded.size or 0)
    settings.IMPORT_DIR.mkdir(parents=True, exist_ok=True)
    stored_name = uuid.uuid4().hex
    path = settings.IMPORT_DIR / stored_name
    digest = hashlib.sha256()
    with path.open("wb") as file:
        for chunk in uploaded.chunks():
            digest.update(chunk)
            file.write(chunk)
    try:
        table = open_table(path)
        table.close()
        guessed = columns.guess(target, table.headers)
        if not any(guessed):
            raise FileRefused(
                _(
                    "The first row names no column this import knows. The first row must "
                    "be the header, e.g. %(example)s."
                )
                % {"example": ", ".join(_example_headers(target))}
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    remembered = RememberedMapping.objects.filter(
        target=target, signature=columns.signature(target, table.headers)
    ).first()
    mapping = guessed
    if remembered is not None and len(remembered.mapping) == len(table.headers):
        mapping = remembered.mapping
    return Import.objects.create(
        target=target,
        file_name=Path(uploaded.name or "upload").name[:255],
        stored_name=stored_name,
        digest=digest.hexdigest(),
        size=path.stat().st_size,
        file_format=table.file_format,
        encoding=table.encoding,
        headers=table.headers,
        mapping=mapping,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )


def _example_headers(target: str) -> list[str]:
    if target == columns.CUSTOMERS:
        return ["code", "name", "phones", "status", "type", "group"]
    return ["code", "name"]


def import_set_mapping(*, job: Import, mapping: list[str]) -> Import:
    """Keep the columns (and remember them for the same headers) and start the preview.

    Raises :class:`ImportNotAllowed` with the problems when the mapping cannot be used.
    """
    if job.state not in (State.MAPPING, State.FAILED) or not stored_path(job).exists():
        raise ImportNotAllowed(
            _("This import is past choosing its columns: upload the file again.")
        )
    problems = columns.problems(job.target, mapping)
    if problems:
        raise ImportNotAllowed(" ".join(problems))
    with transaction.atomic():
        Import.objects.filter(pk=job.pk).update(
            mapping=mapping, state=State.PREVIEWING, processed=0, total=0, error=""
        )
        RememberedMapping.objects.update_or_create(
            target=job.target,
            signature=columns.signature(job.target, job.headers),
            defaults={"mapping": mapping},
        )
        transaction.on_commit(lambda: _enqueue_preview(job.pk))
    job.refresh_from_db()
    return job


def _enqueue_preview(import_id: int) -> None:
    from crmadmin.imports.tasks import preview_import

    preview_import.using(queue_name=settings.JOBS_QUEUE).enqueue(import_id)


def import_start(*, actor, job: Import, mode: str, verify: bool) -> Import:
    """Run the previewed import: plain adopt as a task of batched inserts; sync and
    adopt-with-verify (one CRM call per row) as a job owned by ``actor``."""
    if job.state != State.PREVIEWED:
        raise ImportNotAllowed(_("This import is not ready to run."))
    if mode not in Mode.values:
        raise ImportNotAllowed(_("Choose how to import the rows."))
    if not job.rows.filter(outcome=Outcome.PENDING).exists():
        raise ImportNotAllowed(_("Nothing to import: no row is new or changed."))
    with transaction.atomic():
        Import.objects.filter(pk=job.pk).update(
            mode=mode, verify=verify and mode == Mode.ADOPT, state=State.APPLYING
        )
        job.refresh_from_db()
        if makes_calls(job):
            _start_job(actor=actor, job=job)
        else:
            transaction.on_commit(lambda: _enqueue_apply(job.pk, actor))
    job.refresh_from_db()
    return job


def _start_job(*, actor, job: Import, retry_of: Job | None = None) -> Job:
    """A job over the rows not yet done (pending or failed; never an unknown one)."""
    if actor is None or not actor.is_authenticated:
        raise ImportNotAllowed(_("Calls to the CRM are made in someone's name: sign in."))
    rows = rows_to_apply(job).values_list("pk", "code")
    crm_job = job_create(
        owner=actor,
        kind=kind_name(job.target, VERIFY if job.mode == Mode.ADOPT else SYNC),
        parameters={"import": job.pk},
        rows=((code, {"row": pk}) for pk, code in rows.iterator(chunk_size=2000)),
        description=_("Import of %(file)s (%(mode)s)")
        % {"file": job.file_name, "mode": job.get_mode_display()},
        retry_of=retry_of,
    )
    return crm_job  # the import follows it from now on: import_job_created


_FOLLOWED = {
    JobState.FINISHED: State.DONE,
    JobState.CANCELLED: State.CANCELLED,
    JobState.FAILED: State.FAILED,
}


def import_job_created(crm_job: Job) -> None:
    """The import follows each job made for it from the moment it exists, a retry
    started from the jobs screen too (``JobKind.on_created``, in the transaction that
    makes the job)."""
    Import.objects.filter(pk=crm_job.parameters.get("import")).update(
        crm_job=crm_job,
        state=State.APPLYING,
        cancel_requested=False,
        total=crm_job.total,
        processed=0,
        error="",
        finished_at=None,
    )


def import_job_ended(crm_job: Job) -> None:
    """Once its job has ended, the import ends the same way, and rows the job settled
    (failed by the runner itself, or in flight when a worker died: outcome unknown) say
    so (``JobKind.on_ended``, run by whoever ended the job). Idempotent."""
    job = Import.objects.filter(pk=crm_job.parameters.get("import"), crm_job=crm_job).first()
    if job is None or job.state not in (State.APPLYING, State.CANCELLED):
        return
    if crm_job.is_active or _FOLLOWED[crm_job.state] == job.state:
        return
    with transaction.atomic():
        settled = JobRow.objects.filter(
            job=crm_job, outcome__in=(RowOutcome.FAILED, RowOutcome.UNKNOWN)
        ).values_list("data", "outcome", "message")
        for data, outcome, message in settled.iterator():
            # A failure the row's handler recorded keeps its own (fuller) message.
            unknown = outcome == RowOutcome.UNKNOWN
            ImportRow.objects.filter(
                pk=data.get("row"),
                job=job,
                outcome__in=(Outcome.PENDING, Outcome.FAILED) if unknown else (Outcome.PENDING,),
            ).update(outcome=Outcome.UNKNOWN if unknown else Outcome.FAILED, message=message)
        # A call that succeeded while its worker died before marking the row done was
        # settled "succeeded" from its audit entry: the row is done, not to be sent again.
        pending = set(job.rows.filter(outcome=Outcome.PENDING).values_list("pk", flat=True))
        if pending:
            succeeded = JobRow.objects.filter(job=crm_job, outcome=RowOutcome.SUCCEEDED)
            done = [
                data.get("row")
                for data in succeeded.values_list("data", flat=True).iterator()
                if data.get("row") in pending
            ]
            ImportRow.objects.filter(pk__in=done, outcome=Outcome.PENDING).update(
                outcome=Outcome.DONE, message=""
            )
        Import.objects.filter(pk=job.pk, crm_job=crm_job).update(
            state=_FOLLOWED[crm_job.state],
            error=crm_job.error and _("The job stopped on an unexpected error."),
            finished_at=crm_job.finished_at,
        )


def import_follow(job: Import) -> Import:
    """The import as it stands, after passing on its job's end once more: what the job's
    end hook did already (idempotent), for a caller that must be sure of it before it
    reports (the operator's command, which ran the job itself)."""
    if job.crm_job_id is not None:
        import_job_ended(Job.objects.get(pk=job.crm_job_id))
    job.refresh_from_db()
    return job


def import_cancel(*, actor, job: Import) -> Import:
    """Ask the run to stop: a job finishes the calls in flight and sends no more; plain
    adopt stops after the batch it is on. Nothing already done is undone."""
    if job.state != State.APPLYING:
        raise ImportNotAllowed(_("This import is not running."))
    if job.crm_job_id is not None:
        try:
            job_cancel(actor=actor, job=job.crm_job)
        except JobNotAllowed as refused:
            raise ImportNotAllowed(str(refused)) from refused
        return import_follow(job)
    Import.objects.filter(pk=job.pk).update(cancel_requested=True)
    job.refresh_from_db()
    return job


def import_resume(*, actor, job: Import) -> Import:
    """Run the rows not yet done (after a cancel, a crash or failures) once more. A row
    whose call's outcome is unknown is left out: it may have reached the CRM."""
    job = import_follow(job)
    if job.state not in (State.CANCELLED, State.DONE, State.FAILED) or not job.mode:
        raise ImportNotAllowed(_("This import cannot be resumed."))
    if not rows_to_apply(job).exists():
        raise ImportNotAllowed(_("Every row is done: nothing to resume."))
    with transaction.atomic():
        if makes_calls(job):
            _start_job(actor=actor, job=job, retry_of=job.crm_job)
        else:
            Import.objects.filter(pk=job.pk).update(state=State.APPLYING, cancel_requested=False)
            transaction.on_commit(lambda: _enqueue_apply(job.pk, actor))
    job.refresh_from_db()
    return job


def _enqueue_apply(import_id: int, actor) -> None:
    from crmadmin.imports.tasks import apply_import

    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    apply_import.using(queue_name=settings.JOBS_QUEUE).enqueue(import_id, actor_id)
