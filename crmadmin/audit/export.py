"""The audit log as CSV: streamed in chunks, so a million rows cost no more memory than ten.

UTF-8 with a byte-order mark, because Excel otherwise reads the file as the machine's
legacy code page and mangles Vietnamese. Text that people or the CRM chose (usernames,
codes, the CRM's error and message) gets a leading quote when a spreadsheet would run it
as a formula (leading ``=``, ``+``, ``-``, ``@``, tab or carriage return).

Per-row work is kept to what the file needs: this loop runs a million times for a
full export (bench/audit_log.py measures it).
"""

import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, tzinfo
from itertools import islice

from django.http import StreamingHttpResponse
from django.utils import timezone

from crmadmin.audit.selectors.export_rows import HEADER, export_rows
from crmadmin.audit.selectors.listing import AuditFilters

BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows written per chunk of the response: fewer, larger writes to the socket.
_ROWS_PER_CHUNK = 500
_EOL = "\r\n"  # as csv.writer and Excel have it


class _LocalStamps:
    """ISO 8601 in ``zone`` from the database's UTC timestamp text, memoised per minute.

    ``"2026-11-29 08:39:06.808285"`` (SQLite) or ``"...06.808285+00"`` (PostgreSQL in
    UTC) becomes ``"2026-11-29T15:39:06.808285+07:00"``. Seconds and their fraction
    never change between UTC and a zone whose offset is whole minutes, so only the
    minute is converted, once: parsing and converting every value would cost a quarter
    of the row's time.
    """

    def __init__(self, zone: tzinfo):
        self.zone = zone
        self.minutes: dict[str, tuple[str, str] | None] = {}

    def __call__(self, text: str | None) -> str:
        if text is None:
            return ""
        minute, rest = text[:16], text[16:].removesuffix("+00")
        if 3 < len(rest) < 10:  # PostgreSQL drops trailing zeros: ":06.8" is ":06.800000"
            rest = rest.ljust(10, "0")
        known = self.minutes.get(minute, False)
        if known is False:
            if len(self.minutes) >= 1024:  # rows come in time order: recent minutes suffice
                self.minutes.clear()
            known = self.minutes[minute] = self._convert_minute(minute)
        if known is None:
            return self._convert(text)
        return known[0] + rest + known[1]

    def _convert_minute(self, minute: str) -> tuple[str, str] | None:
        try:
            local = datetime.fromisoformat(minute).replace(tzinfo=UTC).astimezone(self.zone)
        except ValueError:
            return None
        offset = local.utcoffset()
        if len(minute) != 16 or offset is None or offset.seconds % 60:
            return None
        iso = local.isoformat()  # "2026-11-29T15:39:00+07:00"
        return iso[:16], iso[19:]

    def _convert(self, text: str) -> str:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.zone).isoformat()


# Escapes that cannot become plain characters inside JSON text: control characters
# and surrogate halves (emoji, as json.dumps writes them). Bodies with these take the
# slow, general path.
_KEEP_ESCAPED = re.compile(r"\\u(?:00[01]|d[89a-f])", re.IGNORECASE)


def _body(text: str | None) -> str | None:
    """The request body's JSON with non-ASCII text readable (SQLite stores it escaped)."""
    if text and "\\u" in text:
        return _unescaped(text)
    return text


def _unescaped(text: str) -> str:
    """``{"name": "Nguy\\u1ec5n"}`` → ``{"name": "Nguyễn"}``.

    Python's ``raw_unicode_escape`` codec turns exactly the ``\\uXXXX`` escapes back
    into characters (a ``u`` after an escaped backslash is left alone), several times
    faster than decoding and re-encoding the JSON; the rest take the general path.
    """
    if not _KEEP_ESCAPED.search(text):
        try:
            return text.encode("ascii").decode("raw_unicode_escape")
        except UnicodeError:
            pass
    return json.dumps(json.loads(text), ensure_ascii=False)


def _cell(value: str | None) -> str:
    """Text as one CSV field: neutralised against formulas, then as RFC 4180 and Python's
    csv module write it, quoted (quotes doubled) only when it holds a quote, a comma or a
    line break."""
    if not value:
        return ""
    if value.startswith(_FORMULA_STARTS):
        value = "'" + value
    if '"' in value or "," in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def _line(row: tuple, stamp: _LocalStamps) -> str:
    (
        entry_id,
        started_at,
        finished_at,
        actor_username,
        actor_ip,
        operation,
        record_kind,
        code,
        new_code,
        outcome,
        failure_kind,
        http_status,
        upstream_status,
        upstream_error,
        upstream_message,
        duration_ms,
        request_id,
        request_body,
    ) = row
    # Ids, timestamps, operation names, outcomes, failure kinds, request ids (hex), IP
    # addresses and numbers come from fixed vocabularies and never need quoting; the
    # text that people or the CRM chose is neutralised and quoted as needed (``_cell``).
    return ",".join(
        (
            str(entry_id),
            stamp(started_at),
            stamp(finished_at),
            _cell(actor_username),
            actor_ip or "",
            operation,
            record_kind,
            _cell(code),
            _cell(new_code),
            outcome,
            failure_kind,
            "" if http_status is None else str(http_status),
            "" if upstream_status is None else str(upstream_status),
            _cell(upstream_error),
            _cell(upstream_message),
            "" if duration_ms is None else str(duration_ms),
            request_id,
            _cell(_body(request_body)),
        )
    )


def csv_chunks(rows: Iterable[tuple], *, zone: tzinfo) -> Iterator[str]:
    """The CSV text of ``rows`` (tuples in ``export_rows.COLUMNS`` order, which ``_line``
    unpacks), BOM and header first, in chunks of ``_ROWS_PER_CHUNK`` rows.

    Lines are formatted here rather than by ``csv.writer``: the csv module quotes
    character by character, which for the JSON body (all quotes and commas) took three
    quarters of the time of a row; ``str.replace`` does the same in a fraction of it.
    """
    stamp = _LocalStamps(zone)
    yield BOM + ",".join(HEADER) + _EOL
    rows = iter(rows)
    while batch := list(islice(rows, _ROWS_PER_CHUNK)):
        yield _EOL.join([_line(row, stamp) for row in batch]) + _EOL


def csv_response(*, filters: AuditFilters) -> StreamingHttpResponse:
    zone = timezone.get_current_timezone()
    now = timezone.now()
    response = StreamingHttpResponse(
        csv_chunks(export_rows(filters=filters, now=now), zone=zone),
        content_type="text/csv; charset=utf-8",
    )
    filename = f"audit-log-{timezone.localtime(now, zone):%Y-%m-%d-%H%M}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
