"""The rows of the audit log's export, from one table of (field read, header written)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from datetime import datetime

from django.db import connection, transaction
from django.db.models import CharField, TextField
from django.db.models.functions import Cast

from crmadmin.audit.selectors.listing import NEWEST_FIRST, AuditFilters, audit_entries

# (what a row holds, the CSV column's header), in the file's order. Timestamps and the
# request body are read as the database's own text (see ``export_rows``).
COLUMNS = (
    ("id", "id"),
    ("started_text", "started_at"),
    ("finished_text", "finished_at"),
    ("actor_username", "actor_username"),
    ("actor_ip", "actor_ip"),
    ("operation", "operation"),
    ("record_kind", "record_kind"),
    ("code", "code"),
    ("new_code", "new_code"),
    ("shown_outcome", "outcome"),
    ("failure_kind", "failure_kind"),
    ("http_status", "http_status"),
    ("upstream_status", "upstream_status"),
    ("upstream_error", "upstream_error"),
    ("upstream_message", "upstream_message"),
    ("duration_ms", "duration_ms"),
    ("request_id", "request_id"),
    ("body_text", "request_body"),
)
FIELDS = tuple(field for field, _header in COLUMNS)
HEADER = tuple(header for _field, header in COLUMNS)


def export_rows(*, filters: AuditFilters, now: datetime | None = None) -> Iterator[tuple]:
    """Tuples of ``FIELDS``, newest first, read in chunks (constant memory:
    a server-side cursor on PostgreSQL, chunked fetches on SQLite).

    Timestamps and the request body come as the database's own text: Django's
    per-value converters (parse and make aware; decode the JSON) would cost more than
    writing the CSV row, and the export only turns them back into text.

    On PostgreSQL the rows are read inside a transaction: outside one, Django declares
    the cursor WITH HOLD, and the server computes and stores the whole result before
    the first row comes back. (Not on SQLite, where a transaction here would hold the
    database's write lock, and the audit log's writers with it, for the whole export.)
    """
    entries = (
        audit_entries(filters=filters, now=now)
        .annotate(
            started_text=Cast("started_at", CharField()),
            finished_text=Cast("finished_at", CharField()),
            body_text=Cast("request_body", TextField()),
        )
        .order_by(*NEWEST_FIRST)
        .values_list(*FIELDS)
    )
    reading = transaction.atomic() if connection.vendor == "postgresql" else nullcontext()
    with reading:
        yield from entries.iterator(chunk_size=2000)
