"""The import commands' shared run: the web's steps, in the foreground, with progress."""

import threading
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from crmadmin.imports import mapping as columns
from crmadmin.imports import services
from crmadmin.imports.apply import makes_calls, run_apply
from crmadmin.imports.models import Import, Mode, Outcome, State
from crmadmin.imports.preview import run_preview
from crmadmin.imports.reading import FileRefused
from crmadmin.jobs import runner
from crmadmin.jobs.models import Job


def add_arguments(parser) -> None:
    parser.add_argument("file", help="CSV (UTF-8, UTF-16, Windows-1258) or XLSX file")
    parser.add_argument("--mode", choices=Mode.values, required=True)
    parser.add_argument(
        "--verify",
        action="store_true",
        help="adopt mode: send each row to the CRM as an update first (one call per row)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="check every row and report; change nothing"
    )
    parser.add_argument("--user", help="the username the audit log names (default: none)")


def run(command: BaseCommand, target: str, options: dict) -> None:
    path = Path(options["file"])
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    actor = None
    if options.get("user"):
        actor = get_user_model().objects.filter(username=options["user"]).first()
        if actor is None:
            raise CommandError(f"no user {options['user']!r}")
    try:
        with path.open("rb") as file:
            uploaded = SimpleUploadedFile(path.name, file.read())
        job = services.import_upload(actor=actor, target=target, uploaded=uploaded)
    except FileRefused as refused:
        raise CommandError(str(refused)) from None
    problems = columns.problems(target, job.mapping)
    if problems:
        raise CommandError(
            "The columns cannot be guessed: "
            + " ".join(problems)
            + " Headers: "
            + ", ".join(job.headers)
        )
    _show_mapping(command, job)
    Import.objects.filter(pk=job.pk).update(state=State.PREVIEWING)
    job = run_preview(job, progress=_progress(command, "checked"))
    command.stdout.write("")
    if job.state == State.FAILED:
        raise CommandError(job.error)
    counts = job.counts
    command.stdout.write(
        f"Preview of import {job.pk}: {counts['new']} new, {counts['changed']} changed, "
        f"{counts['unchanged']} unchanged, {counts['error']} with errors."
    )
    for row in job.rows.filter(row_class="error").order_by("number")[:20]:
        problems = "; ".join(f"{column}: {message}" for column, message in row.errors)
        command.stdout.write(f"  row {row.number}: {problems}")
    if counts["error"] > 20:
        command.stdout.write(f"  … and {counts['error'] - 20} more rows with errors.")
    if options["dry_run"]:
        command.stdout.write("Dry run: nothing was changed.")
        return
    if not counts["new"] and not counts["changed"]:
        command.stdout.write("Nothing to import.")
        return
    verify = options["verify"] and options["mode"] == Mode.ADOPT
    if (options["mode"] == Mode.SYNC or verify) and actor is None:
        raise CommandError(
            "Sync and --verify make one CRM call per row, as a job in someone's name: "
            "give --user USERNAME (its audit entries and the job are that user's)."
        )
    Import.objects.filter(pk=job.pk).update(mode=options["mode"], verify=verify)
    job.refresh_from_db()
    if makes_calls(job):
        job = _run_job_inline(command, actor, job)
    else:
        job = run_apply(job, actor=actor, progress=_progress(command, "imported"))
    command.stdout.write("")
    done = job.rows.filter(outcome=Outcome.DONE).count()
    failed = job.rows.filter(outcome=Outcome.FAILED)
    command.stdout.write(
        f"Import {job.pk} ({job.get_mode_display()}): {done} imported, {failed.count()} failed."
    )
    unknown = job.rows.filter(outcome=Outcome.UNKNOWN).count()
    if unknown:
        command.stdout.write(
            f"  {unknown} rows were in flight when a worker stopped: outcome unknown, not "
            "sent again (see the job and Needs attention)."
        )
    for row in failed.order_by("number")[:20]:
        command.stdout.write(f"  row {row.number} {row.code}: {row.message}")
    if failed.exists():
        raise CommandError(
            f"{failed.count()} rows failed; fix the cause and retry them from /import/{job.pk}/."
        )


def _run_job_inline(command: BaseCommand, actor, job: Import) -> Import:
    """Create the import's job and run it here (the job engine's ``run``), printing its
    progress; a job worker that picks up its queued task later finds it finished."""
    try:
        job = services.import_start(actor=actor, job=job, mode=job.mode, verify=job.verify)
    except (services.ImportNotAllowed, PermissionDenied) as refused:
        raise CommandError(str(refused) or f"{actor} may not run this import.") from None
    crm_job_id = job.crm_job_id
    command.stdout.write(f"Job {crm_job_id}: one CRM call per row, as {actor}.")
    outcome = []
    worker = threading.Thread(target=_run_and_close, args=(crm_job_id, outcome))
    worker.start()
    report = _progress(command, "sent")
    while worker.is_alive():
        worker.join(timeout=0.5)
        report(*Job.objects.values_list("done", "total").get(pk=crm_job_id))
    report(*Job.objects.values_list("done", "total").get(pk=crm_job_id))
    job = services.import_follow(Import.objects.get(pk=job.pk))
    if job.state == State.APPLYING:  # the job did not end here (another worker has it)
        command.stdout.write("")
        command.stdout.write(f"The job is {outcome[0] if outcome else 'elsewhere'}; see /jobs/.")
    return job


def _run_and_close(job_id: int, outcome: list) -> None:
    try:
        outcome.append(runner.run(job_id))
    finally:
        connections.close_all()


def _show_mapping(command: BaseCommand, job: Import) -> None:
    pairs = [
        f"{header} → {role or '(ignored)'}"
        for header, role in zip(job.headers, job.mapping, strict=False)
    ]
    command.stdout.write("Columns: " + "; ".join(pairs))


def _progress(command: BaseCommand, verb: str):
    last = [-1]

    def report(done: int, total: int) -> None:
        percent = int(done * 100 / total) if total else 100
        if percent != last[0]:
            last[0] = percent
            command.stdout.write(f"\r{done}/{total} rows {verb} ({percent}%)", ending="")
            command.stdout.flush()

    return report
