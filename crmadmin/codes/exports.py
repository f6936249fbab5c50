"""A kind of reference code as CSV or XLSX, with the headers the import recognises.

Columns: ``code``, ``name``, then the kind's details by attribute name (a group's
``description``; a field's ``field_type`` and ``description``).
"""

from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone

from crmadmin.core.spreadsheets import streaming_response
from crmadmin.kinds import RecordKind

CODE = "code"
NAME = "name"


def header(kind: RecordKind) -> list[str]:
    return [CODE, NAME, *(detail.attr for detail in kind.details)]


def rows(kind: RecordKind) -> Iterator[tuple[str, ...]]:
    attrs = ["code", "name", *(detail.attr for detail in kind.details)]
    yield from kind.model.objects.order_by("code").values_list(*attrs).iterator(chunk_size=2000)


def export_response(*, kind: RecordKind, file_format: str) -> StreamingHttpResponse:
    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
    return streaming_response(
        file_format=file_format,
        filename=f"{kind.slug}-{stamp}",
        header=header(kind),
        rows=rows(kind),
        sheet_title=kind.slug,
    )
