"""A job's result as CSV: one line per row, with its outcome and message."""

import csv
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from crmadmin.jobs.models import Job, JobRow, RowOutcome

# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _lines(job: Job) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(
        [_("Row"), _("Record"), _("Outcome"), _("Message"), _("Request id"), _("Finished")]
    )
    labels = dict(RowOutcome.choices)
    zone = timezone.get_current_timezone()
    rows = (
        JobRow.objects.filter(job=job)
        .order_by("position")
        .values_list(
            "position", "key", "outcome", "message", "audit_entry__request_id", "finished_at"
        )
    )
    for position, key, outcome, message, request_id, finished_at in rows.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                position + 1,
                _cell(key),
                str(labels.get(outcome, outcome)) if outcome else _("pending"),
                _cell(message),
                request_id or "",
                finished_at.astimezone(zone).isoformat(timespec="seconds") if finished_at else "",
            ]
        )


def csv_response(job: Job) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_lines(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="job-{job.pk}.csv"'
    return response
