"""The audit log's hash chain: making links as entries are written, and walking them.

The design (links, keys, anchors, concurrent writers) is explained in the docstring of
``crmadmin.audit.models``. This module holds the one definition of a link's content and
hash, used both when a link is made and when it is verified, so the two cannot drift.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import logging
import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone

from crmadmin.audit.events import CHAIN_FORMAT
from crmadmin.audit.models import AuditEntry, ChainVerification, Outcome

logger = logging.getLogger("crmadmin.audit.chain")

GENESIS = "0" * 64
# The local event that marks where links begin to escape their values (see escape()).
FORMAT_EVENT = CHAIN_FORMAT
CHAIN_FIELDS = ("chain_seq", "chain_hash", "completion_seq", "completion_hash")
# Written when an entry is completed, hashed in its completion link (recorder imports it).
COMPLETED_FIELDS = (
    "finished_at",
    "duration_ms",
    "outcome",
    "failure_kind",
    "http_status",
    "upstream_status",
    "upstream_error",
    "upstream_message",
    "upstream_data",
    "error_detail",
)


def _key() -> bytes:
    return settings.AUDIT_CHAIN_KEY.encode()


@cache
def started_columns() -> tuple[str, ...]:
    """The attnames hashed in an entry's first link: every column but the id, the chain's
    own and the completion's (new columns join automatically; see models' docstring)."""
    skip = {AuditEntry._meta.pk.attname, *CHAIN_FIELDS, *COMPLETED_FIELDS}
    return tuple(f.attname for f in AuditEntry._meta.concrete_fields if f.attname not in skip)


# --- The canonical text of a value ------------------------------------------------------
# One text per value, whichever way it comes: the Python value a writer holds, or the
# database's raw value a verifier reads (SQLite's text, PostgreSQL's objects). Empty
# values (NULL, "", {}, []) have none and are left out of the content.


def _stamp(moment: datetime) -> str:
    """UTC, microseconds, "2026-11-29 08:39:06.808285" (SQLite's own text for it)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(value: Any) -> str | None:
    """The canonical text of a Python value, None for an empty one."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _stamp(value)
    if isinstance(value, (dict, list, tuple)):
        return _json(value) if value else None
    if isinstance(value, float):
        return repr(value)
    return str(value)


@cache
def _json_columns() -> frozenset[str]:
    return frozenset(
        f.attname for f in AuditEntry._meta.concrete_fields if f.get_internal_type() == "JSONField"
    )


def _json_text(value: Any, vendor: str) -> str | None:
    """A JSON column's canonical text: the very text the database gives back for it, so
    that the verifier hashes what it reads without parsing it. On SQLite, the text Django
    stores; on PostgreSQL, jsonb's own output (``column::text``). Elsewhere the value with
    sorted keys (PostgreSQL's form before jsonb's output was used: see ``legacy``)."""
    if value is None or value == {} or value == [] or value == "":
        return None
    if vendor == "sqlite":
        return json.dumps(value)  # Django's adapt_json_value, without an encoder
    if vendor == "postgresql":
        return jsonb_text(value)
    return _json(value)


def _legacy_json_text(text: str) -> str:
    """PostgreSQL links made before jsonb's output was their JSON form (December 2026)
    hashed a JSON value as ``_json`` (sorted keys, no spaces): verify accepts that form
    for a link whose jsonb form does not match, and only that link."""
    return _json(json.loads(text))


# --- jsonb's text, written by Python ------------------------------------------------------
# PostgreSQL keeps a jsonb value in its own normal form and writes it back (jsonb_out) as:
# object keys ordered by their length in UTF-8 bytes, then bytewise, the last of duplicate
# keys kept; ", " and ": " between items; strings escaped as Python's json escapes them
# with ensure_ascii off; numbers as PostgreSQL's numeric writes the number it parsed (no
# exponent, the scale of the text it was given: 1e+16 -> 10000000000000000, -0.0 -> 0.0).
# A writer makes that text from the value it sends (the text json.dumps makes, which is
# what the database parses), so the verifier can hash ``column::text`` as it comes.


def jsonb_text(value: Any) -> str:
    """The text PostgreSQL gives back for ``value`` stored in a jsonb column.

    json's C code does it when every number is written the same by both (the usual case:
    an exponent, or -0.0, is not); else a Python walk with each number as a Decimal."""
    sent = json.dumps(value)
    try:
        ordered = json.loads(sent, parse_float=_plain_float, object_pairs_hook=_jsonb_object)
    except _NumericWritesOtherwise:
        return _jsonb_write(json.loads(sent, parse_float=Decimal))
    return json.dumps(ordered, ensure_ascii=False, separators=(", ", ": "))


class _NumericWritesOtherwise(Exception):
    pass


def _plain_float(text: str) -> float:
    if "e" in text or "E" in text or text == "-0.0":
        raise _NumericWritesOtherwise(text)
    return float(text)


def _jsonb_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return dict(sorted(dict(pairs).items(), key=lambda item: _jsonb_key(item[0])))


def _jsonb_key(key: str) -> tuple[int, bytes]:
    encoded = key.encode()
    return len(encoded), encoded


def _jsonb_write(value: Any) -> str:
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: _jsonb_key(item[0]))
        inner = ", ".join(f"{_jsonb_string(k)}: {_jsonb_write(v)}" for k, v in items)
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_jsonb_write(item) for item in value) + "]"
    if isinstance(value, str):
        return _jsonb_string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.copy_abs() if value.is_zero() else value, "f")
    return str(value)  # an int


def _jsonb_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def escape(text: str) -> str:
    """A value's text on one line: a backslash doubled, a line break written ``\\n``.
    Unescaped, "name=value" lines were ambiguous: a value holding a line break and
    "new_code=X" read the same as the two values apart, so text could be moved from one
    column to a later empty one without breaking the link. JSON text never holds a raw
    line break, and is hashed as the database gives it (see ``_json_text``)."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _line(name: str, value: Any, vendor: str, *, escaped: bool = True) -> str | None:
    """One column's "name=value" line, None for an empty value."""
    if name in _json_columns():
        text = _json_text(value, vendor)
    else:
        text = canonical(value)
        if escaped and text is not None:
            text = escape(text)
    return None if text is None else f"{name}={text}"


def content(names, values, *, vendor: str, escaped: bool = True) -> str:
    """ "name=value" lines of the non-empty values, in the columns' order (``escaped``:
    see :func:`escape`; links before ``FORMAT_EVENT`` are not)."""
    lines = (
        _line(name, value, vendor, escaped=escaped)
        for name, value in zip(names, values, strict=True)
    )
    return "\n".join(line for line in lines if line is not None)


# Equal values of these types have one text. Not floats: 0.0 == -0.0, "0.0" != "-0.0".
_SCALARS = (str, int, bool, datetime, enum.Enum)


def contents(names, rows: list[dict[str, Any]], *, vendor: str) -> list[str]:
    """:func:`content` of each row (a mapping of column to value), for many rows that
    differ in few columns (an import's events): a column holding one value in every row
    is made text once. 100,000 adopted customers' events spent 3 s on this alone."""
    if not rows:
        return []
    first = rows[0]

    def alike(a, b) -> bool:
        # The very object, or an equal scalar of the same type (1 == 1.0 == True, yet
        # their texts differ); containers and floats only when they are the very object.
        if a is b:
            return True
        return type(a) is type(b) and isinstance(a, _SCALARS) and a == b

    same = {name for name in names if all(alike(row[name], first[name]) for row in rows)}
    fixed = {name: _line(name, first[name], vendor) for name in same}
    varying = [name for name in names if name not in same]
    made = []
    for row in rows:
        lines = {name: _line(name, row[name], vendor) for name in varying}
        lines.update(fixed)
        made.append("\n".join(text for name in names if (text := lines[name]) is not None))
    return made


def digest(previous: str, seq: int, text: str, key: bytes | None = None) -> str:
    message = f"{previous}\n{seq}\n{text}".encode()
    # hmac.digest: OpenSSL's one-shot HMAC, several times faster than hmac.new per link.
    return hmac.digest(key or _key(), message, hashlib.sha256).hex()


def started_content(entry: AuditEntry, vendor: str) -> str:
    names = started_columns()
    return content(names, [getattr(entry, name) for name in names], vendor=vendor)


def completed_content(
    chain_hash: str, values: dict[str, Any], vendor: str, *, escaped: bool = True
) -> str:
    completed = [values[name] for name in COMPLETED_FIELDS]
    return f"entry={chain_hash}\n" + content(
        COMPLETED_FIELDS, completed, vendor=vendor, escaped=escaped
    )


# --- Making links -----------------------------------------------------------------------

# PostgreSQL advisory lock taken by every writer of a link, until its transaction ends.
WRITERS_LOCK = 0x4155444954  # "AUDIT"
_last_link_sql: dict[str, str] = {}


def _last_link_query(connection) -> str:
    """The last link (seq, hash), whether an entry's first link or a completion: two
    probes of the two unique indexes."""
    if connection.alias not in _last_link_sql:
        quote = connection.ops.quote_name
        table = quote(AuditEntry._meta.db_table)
        parts = [
            f"SELECT * FROM (SELECT {quote(seq)} AS seq, {quote(digest)} AS hash "  # noqa: S608
            f"FROM {table} WHERE {quote(seq)} IS NOT NULL "
            f"ORDER BY {quote(seq)} DESC LIMIT 1) AS {alias}"
            for seq, digest, alias in (
                ("chain_seq", "chain_hash", "started"),
                ("completion_seq", "completion_hash", "completed"),
            )
        ]
        _last_link_sql[connection.alias] = (
            f"{parts[0]} UNION ALL {parts[1]} ORDER BY 1 DESC LIMIT 1"
        )
    return _last_link_sql[connection.alias]


def last_link(connection) -> tuple[int, str]:
    with connection.cursor() as cursor:
        cursor.execute(_last_link_query(connection))
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


@dataclass(frozen=True)
class Link:
    seq: int
    hash: str


def next_link(connection, text: str, *, after: Link | None = None) -> Link:
    """The next link, with ``text`` as its content (``after``: the link this transaction
    has just made and not yet written).

    Runs inside the caller's transaction, which holds the writers' lock from here to its
    commit: SQLite's write lock (this project's transactions begin IMMEDIATE), or a
    PostgreSQL advisory lock (see the models' docstring)."""
    if after is not None:
        seq, previous = after.seq + 1, after.hash
    else:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [WRITERS_LOCK])
        last_seq, previous = last_link(connection)
        seq = last_seq + 1
    made = digest(previous, seq, text)
    if seq % settings.AUDIT_ANCHOR_EVERY == 0:
        transaction.on_commit(lambda: write_anchor(seq, made), using=connection.alias)
    return Link(seq, made)


def make_links(
    connection,
    started_text: str,
    completed: dict[str, Any] | None,
    *,
    after: Link | None = None,
    escaped: bool = True,
) -> tuple[dict[str, Any], Link]:
    """The chain columns of an entry about to be inserted: its first link over
    ``started_text`` and, for a finished entry (``completed``: its ``COMPLETED_FIELDS``
    values), its completion link right after. Returns the columns and the last link
    made, the ``after`` of the next entry linked in the same transaction."""
    link = next_link(connection, started_text, after=after)
    columns = {"chain_seq": link.seq, "chain_hash": link.hash}
    if completed is not None:
        text = completed_content(link.hash, completed, connection.vendor, escaped=escaped)
        link = next_link(connection, text, after=link)
        columns.update(completion_seq=link.seq, completion_hash=link.hash)
    return columns, link


def link_new_entry(entry: AuditEntry, connection) -> None:
    """Give an entry about to be inserted its link(s): a finished one gets both."""
    finished = entry.outcome != Outcome.PENDING
    completed = {name: getattr(entry, name) for name in COMPLETED_FIELDS} if finished else None
    columns, _link = make_links(connection, started_content(entry, connection.vendor), completed)
    for name, value in columns.items():
        setattr(entry, name, value)


def link_entries(entries: list[AuditEntry]) -> list[AuditEntry]:
    """Link entries built in memory, in order, for a bulk insert the caller makes in the
    same transaction (the seeding of a benchmark, a data migration)."""
    connection = connections[router.db_for_write(AuditEntry)]
    for entry in entries:
        link_new_entry(entry, connection)
    return entries


# --- Anchors ----------------------------------------------------------------------------


def write_anchor(seq: int, made: str) -> None:
    """Copy the head to the application log and, when configured, the anchor file."""
    at = timezone.now().isoformat()
    logger.info("audit chain anchor seq=%s hash=%s at=%s", seq, made, at)
    path = settings.AUDIT_ANCHOR_FILE
    if path:
        try:
            with open(path, "a", encoding="utf-8") as anchors:
                anchors.write(json.dumps({"seq": seq, "hash": made, "at": at}) + "\n")
        except OSError:
            logger.exception("could not append the audit chain anchor to %s", path)


def read_anchors(path: str | Path) -> dict[int, str]:
    """The anchors of a file of JSON lines (``{"seq": N, "hash": "..."}``); bad lines are
    reported as ValueError, since a mangled anchor file is itself a finding."""
    anchors: dict[int, str] = {}
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                anchors[int(record["seq"])] = str(record["hash"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"line {number} of {path} is not an anchor") from exc
    return anchors


def head() -> tuple[int, str]:
    """The chain's last link (number, hash)."""
    alias = router.db_for_read(AuditEntry)
    return last_link(connections[alias])


# --- Verifying --------------------------------------------------------------------------


@dataclass
class Result:
    ok: bool
    links: int  # links checked
    verified_seq: int  # the last link found good
    verified_entry_id: int | None
    message: str
    verified_hash: str = GENESIS


class _Mac:
    """HMAC-SHA256 (RFC 2104) of many messages under one key, with the key's two padded
    blocks hashed once instead of for every message as ``hmac.digest`` does: a link's
    message is a few hundred bytes, so that is a third of its cost. Equal to ``digest``
    (tests pin it)."""

    def __init__(self, key: bytes):
        block = hashlib.sha256().block_size
        if len(key) > block:
            key = hashlib.sha256(key).digest()
        key = key.ljust(block, b"\0")
        self._inner = hashlib.sha256(key.translate(_IPAD))
        self._outer = hashlib.sha256(key.translate(_OPAD))

    def hexdigest(self, message: bytes) -> str:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


_IPAD = bytes(byte ^ 0x36 for byte in range(256))
_OPAD = bytes(byte ^ 0x5C for byte in range(256))


# --- Reading raw rows fast: the database writes the content -------------------------------
# Verifying a million entries reads two million links. Django's per-value converters, or
# parsing each JSON value to write it again, would take minutes: so the database writes
# each link's content itself, as one string per row, from every column whose canonical
# text it can write exactly (text, integers, timestamps, and JSON as it gives it back).
# Python reads the few others (a float) with one small function per column.

_TEXT_TYPES = {"CharField", "TextField", "SlugField", "EmailField", "URLField"}
_INTEGER_TYPES = {
    "ForeignKey",
    "OneToOneField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "PositiveBigIntegerField",
}
_EMPTY_JSON = ("{}", "[]", '""', "null")

_SQL_TEXT = {
    # How each database writes the canonical text of a column, NULL for an empty value.
    "sqlite": {
        **dict.fromkeys([*_TEXT_TYPES, "GenericIPAddressField"], "NULLIF({c}, '')"),
        **dict.fromkeys(_INTEGER_TYPES, "CAST({c} AS TEXT)"),
        "JSONField": "NULLIF(NULLIF(NULLIF({c}, '{{}}'), '[]'), '\"\"')",
        "DateTimeField": "CASE WHEN length({c}) = 19 THEN {c} || '.000000' "
        "WHEN length({c}) = 26 THEN {c} END",
    },
    "postgresql": {
        **dict.fromkeys(_TEXT_TYPES, "NULLIF({c}, '')"),
        # inet's own output (a host without "/32"; ::text would add it).
        "GenericIPAddressField": "abbrev({c})",
        **dict.fromkeys(_INTEGER_TYPES, "{c}::text"),
        "DateTimeField": "to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
        # Selected on its own (see _plan), so that a link of the older form can be read.
        "JSONField": "NULLIF(NULLIF(NULLIF(NULLIF({c}::text, '{{}}'), '[]'), '\"\"'), 'null')",
    },
}
_NEWLINE = {"sqlite": "char(10)", "postgresql": "chr(10)"}
_BACKSLASH = {"sqlite": "char(92)", "postgresql": "chr(92)"}


def _read_text(value):
    return value or None


def _read_float(value):
    return None if value is None else repr(float(value))


def _read_boolean(value):
    return None if value is None else ("true" if value else "false")


def _reader(field, connection, *, escaped: bool = True):
    """Python's reading of a column the database does not write (a float, a boolean, a
    column of a type added later: Django's own conversion, then the canonical text)."""
    kind = field.get_internal_type()
    if kind == "FloatField":
        return _read_float
    if kind == "BooleanField":
        return _read_boolean
    converters = connection.ops.get_db_converters(field) + field.get_db_converters(connection)

    def read(value):
        for converter in converters:
            value = converter(value, field, connection)
        if field.get_internal_type() == "JSONField":
            return _json_text(value, connection.vendor)
        text = canonical(value)
        return escape(text) if escaped and text is not None else text

    return read


@dataclass(frozen=True)
class _Step:
    """One selected value of a link's row: "name=text" lines the database wrote (no
    prefix), or a value Python writes as "{prefix}{read(value)}"."""

    prefix: str = ""
    read: Any = None
    legacy: Any = None  # the older form's reading (PostgreSQL's JSON), if it differs


class _Plan:
    """How to read the content of some columns: the SQL expressions to select, and a step
    per selected value. Consecutive columns the database writes become one expression."""

    def __init__(self, connection, names, *, escaped: bool = True):
        meta = AuditEntry._meta
        quote = connection.ops.quote_name
        templates = _SQL_TEXT.get(connection.vendor, {})
        newline = _NEWLINE.get(connection.vendor, "char(10)")
        backslash = _BACKSLASH.get(connection.vendor, "char(92)")
        self.selected: list[str] = []
        self.steps: list[_Step] = []
        run: list[str] = []

        def close_run():
            if run:
                self.selected.append(" || ".join(run))
                self.steps.append(_Step())
                run.clear()

        for name in names:
            field = meta.get_field(name)
            kind = field.get_internal_type()
            template = templates.get(kind)
            text = template.format(c=quote(field.column)) if template else None
            if text is not None and escaped and kind in _TEXT_TYPES:  # as escape() does
                text = (
                    f"REPLACE(REPLACE({text}, {backslash}, {backslash} || {backslash}), "
                    f"{newline}, {backslash} || 'n')"
                )
            if text is not None and not (connection.vendor == "postgresql" and kind == "JSONField"):
                run.append(f"COALESCE('{name}=' || ({text}) || {newline}, '')")
                continue
            close_run()
            if text is not None:  # PostgreSQL's JSON: its text as given, or the older form
                self.selected.append(text)
                self.steps.append(_Step(f"{name}=", _read_text, _legacy_json_text))
            else:
                self.selected.append(quote(field.column))
                self.steps.append(_Step(f"{name}=", _reader(field, connection, escaped=escaped)))
        close_run()
        self.simple = len(self.steps) == 1 and self.steps[0].read is None
        self.has_legacy = any(step.legacy is not None for step in self.steps)

    def content(self, values, *, legacy: bool = False) -> str:
        if self.simple:
            return values[0].removesuffix("\n")
        parts = []
        for step, value in zip(self.steps, values, strict=True):
            if step.read is None:
                parts.append(value)
            elif value is not None:
                text = (step.legacy if legacy and step.legacy else step.read)(value)
                if text is not None:
                    parts.append(f"{step.prefix}{text}\n")
        return "".join(parts).removesuffix("\n")

    def legacy_content(self, values) -> str | None:
        """The content in the older form, None when it is the same as the current one."""
        if not self.has_legacy or all(
            value is None for step, value in zip(self.steps, values, strict=True) if step.legacy
        ):
            return None
        return self.content(values, legacy=True)


def _raw_rows(connection, selected: list[str], *, seq_column: str, first: int, last: int):
    """Raw rows of the ``selected`` expressions where ``first`` <= ``seq_column`` <=
    ``last``, in its order, in chunks (a server-side cursor on PostgreSQL)."""
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {', '.join(selected)} "  # noqa: S608 (the model's own names)
        f"FROM {quote(AuditEntry._meta.db_table)} "
        f"WHERE {quote(seq_column)} BETWEEN %s AND %s ORDER BY {quote(seq_column)}"
    )
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(sql, [first, last])
        while rows := cursor.fetchmany(5000):
            yield from rows
    finally:
        cursor.close()


def format_boundary(connection) -> int:
    """The first link made in the escaped form (see :func:`escape`): the link of the
    ``FORMAT_EVENT`` that migration audit 0005 wrote into a chain that had links already;
    0 when there is none (a chain begun in the escaped form). The event is a link like
    any other: deleting it or moving it breaks the chain."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MIN({connection.ops.quote_name('chain_seq')}) "  # noqa: S608
            f"FROM {connection.ops.quote_name(AuditEntry._meta.db_table)} "
            f"WHERE {connection.ops.quote_name('operation')} = %s",
            [FORMAT_EVENT],
        )
        row = cursor.fetchone()
    return row[0] or 0 if row else 0


def _links_in_either_form(connection, first: int, last: int) -> Iterator[tuple]:
    """:func:`_links`, those before the format boundary read in the older form."""
    boundary = format_boundary(connection)
    if first < boundary:
        yield from _links(connection, first, min(last, boundary - 1), escaped=False)
    if last >= boundary:
        yield from _links(connection, max(first, boundary), last)


def _links(connection, first: int, last: int, *, escaped: bool = True) -> Iterator[tuple]:
    """Every link from ``first`` to ``last`` in number order, as (seq, stored hash,
    content, entry id, values, plan, prefix): merged from the entries in first-link order
    and in completion order."""
    started_plan = _Plan(connection, started_columns(), escaped=escaped)
    completed_plan = _Plan(connection, COMPLETED_FIELDS, escaped=escaped)
    quote = connection.ops.quote_name
    started = _raw_rows(
        connection,
        [quote("chain_seq"), quote("chain_hash"), quote("id"), *started_plan.selected],
        seq_column="chain_seq",
        first=first,
        last=last,
    )
    completed = _raw_rows(
        connection,
        [quote(c) for c in ("completion_seq", "completion_hash", "id", "chain_hash")]
        + completed_plan.selected,
        seq_column="completion_seq",
        first=first,
        last=last,
    )
    started_content, completed_content = started_plan.content, completed_plan.content

    waiting = next(completed, None)
    for row in started:
        seq = row[0]
        while waiting is not None and waiting[0] < seq:
            values = waiting[4:]
            prefix = f"entry={waiting[3]}\n"
            text = prefix + completed_content(values)
            yield waiting[0], waiting[1], text, waiting[2], values, completed_plan, prefix
            waiting = next(completed, None)
        values = row[3:]
        yield seq, row[1], started_content(values), row[2], values, started_plan, ""
    while waiting is not None:
        values = waiting[4:]
        prefix = f"entry={waiting[3]}\n"
        text = prefix + completed_content(values)
        yield waiting[0], waiting[1], text, waiting[2], values, completed_plan, prefix
        waiting = next(completed, None)


# A chain this long is walked in stretches, by as many processes at once (``workers``).
SPLIT_FROM_LINKS = 200_000


@dataclass
class _Stretch:
    """The walk of links ``first`` to ``last``: how far it found them good."""

    ok: bool
    checked: int
    last_seq: int
    last_hash: str
    last_entry: int | None
    message: str = ""


def _stored_hash(connection, seq: int) -> str | None:
    """The hash stored for link ``seq`` (an entry's first link or a completion)."""
    quote = connection.ops.quote_name
    table = quote(AuditEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('chain_hash')} FROM {table} WHERE {quote('chain_seq')} = %s "  # noqa: S608
            f"UNION ALL SELECT {quote('completion_hash')} FROM {table} "
            f"WHERE {quote('completion_seq')} = %s",
            [seq, seq],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _next_link(connection, seq: int) -> tuple[int, int] | None:
    """(number, entry id) of the first link after ``seq``."""
    found = [
        AuditEntry.everything.using(connection.alias)
        .filter(**{f"{column}__gt": seq})
        .order_by(column)
        .values_list(column, "id")
        .first()
        for column in ("chain_seq", "completion_seq")
    ]
    found = [link for link in found if link is not None]
    return min(found) if found else None


def _walk(alias: str, first: int, last: int, anchors: dict[int, str]) -> _Stretch:
    """Check links ``first`` to ``last``: each present, each matching its hash over the
    stored hash of the link before it, each anchor in the stretch equal to its link."""
    connection = connections[alias]
    previous = GENESIS if first == 1 else (_stored_hash(connection, first - 1) or "")
    expected, checked, last_entry = first, 0, None
    mac = _Mac(_key())
    matches = hmac.compare_digest

    def broken(message: str) -> _Stretch:
        return _Stretch(False, checked, expected - 1, previous, last_entry, message)

    def missing(seq: int, entry_id: int) -> _Stretch:
        return broken(
            f"link {expected} is missing (the next one is {seq}, entry {entry_id}): "
            "an entry was deleted"
        )

    # PostgreSQL: server-side cursors need a transaction (else WITH HOLD materialises).
    with transaction.atomic(using=alias) if connection.vendor == "postgresql" else _nothing():
        links = _links_in_either_form(connection, first, last)
        for seq, stored, text, entry_id, values, plan, prefix in links:
            if seq != expected:
                return missing(seq, entry_id)
            if not matches(mac.hexdigest(f"{previous}\n{seq}\n{text}".encode()), stored):
                legacy = plan.legacy_content(values)
                if legacy is None or not matches(
                    mac.hexdigest(f"{previous}\n{seq}\n{prefix}{legacy}".encode()), stored
                ):
                    return broken(
                        f"link {seq} (entry {entry_id}) does not match its hash: the entry "
                        "was changed, or forged without the chain key"
                    )
            anchor = anchors.get(seq)
            if anchor is not None and anchor != stored:
                return broken(f"link {seq} (entry {entry_id}) differs from its anchor")
            previous, expected, checked, last_entry = stored, seq + 1, checked + 1, entry_id
        if expected <= last:  # the stretch's last links are missing
            return missing(*_next_link(connection, expected))
    return _Stretch(True, checked, last, previous, last_entry)


def _walk_in_child(alias: str, first: int, last: int, anchors: dict[int, str]) -> _Stretch:
    # The connection objects a forked child inherits are copies of its parent's, and one
    # of them may still hold the parent's socket (one the parent opened in another
    # context): the child makes a connection of its own and leaves those alone.
    connections[alias] = connections.create_connection(alias)
    try:
        return _walk(alias, first, last, anchors)
    finally:
        connections[alias].close()


def _walk_stretches(alias: str, head_seq: int, anchors: dict[int, str], workers: int):
    """The stretches' walks, in order: in ``workers`` forked processes at once when the
    chain is long, the connection can be handed over (no open transaction: the test
    suite's), the database is a file or a server, and this process has no other thread
    (a fork copies locks other threads may hold); else one after the other here."""
    count = max(1, workers) if head_seq >= SPLIT_FROM_LINKS else 1
    bounds = [1 + head_seq * k // count for k in range(count + 1)]
    stretches = [
        (bounds[k], bounds[k + 1] - 1 if k + 1 < count else head_seq) for k in range(count)
    ]
    jobs = [
        (alias, first, last, {s: h for s, h in anchors.items() if first <= s <= last})
        for first, last in stretches
    ]
    connection = connections[alias]
    in_memory = getattr(connection, "is_in_memory_db", lambda: False)()
    if count == 1 or connection.in_atomic_block or in_memory or threading.active_count() > 1:
        return [_walk(*job) for job in jobs]
    # Forked children open their own connections: none may share the parent's.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        return list(pool.map(_walk_in_child, *zip(*jobs, strict=True)))


def verify(*, anchors: dict[int, str] | None = None, workers: int | None = None) -> Result:
    """Walk the chain from its first link to its last; stop at the first broken link.

    ``anchors`` (seq → hash, from the anchor file or the log) must all be found in the
    chain, and so must the link the last successful verification reached: that is how
    a table cut short at its end (deleted or truncated) is noticed. A long chain is cut
    in ``workers`` stretches (default: two, or one on a single core) walked at once: a
    stretch starts on the stored hash of the link before it, which the stretch before
    checks."""
    anchors = dict(anchors or {})
    earlier = ChainVerification.objects.filter(ok=True, verified_seq__gt=0).first()
    if earlier is not None:
        anchors.setdefault(earlier.verified_seq, earlier.verified_hash)
    alias = router.db_for_read(AuditEntry)
    head_seq, _head_hash = last_link(connections[alias])
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    checked, verified_seq, verified_hash, last_entry = 0, 0, GENESIS, None
    for stretch in _walk_stretches(alias, head_seq, anchors, workers) if head_seq else []:
        checked += stretch.checked
        if stretch.checked:
            verified_seq, verified_hash = stretch.last_seq, stretch.last_hash
            last_entry = stretch.last_entry
        if not stretch.ok:
            return Result(False, checked, verified_seq, last_entry, stretch.message, verified_hash)

    def broken(message: str) -> Result:
        return Result(False, checked, verified_seq, last_entry, message, verified_hash)

    beyond = [seq for seq in anchors if not 1 <= seq <= head_seq]
    if beyond:
        return broken(
            f"an anchor records link {min(beyond)} but the chain ends at link "
            f"{head_seq}: entries at its end were deleted, or the table was truncated"
        )
    unchained = (
        AuditEntry.everything.filter(chain_seq__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    if unchained is not None:
        return broken(f"entry {unchained} is outside the chain (inserted behind it)")
    badly_finished = (
        AuditEntry.everything.exclude(outcome=Outcome.PENDING)
        .filter(completion_seq__isnull=True)
        .values_list("id", flat=True)
        .first()
    )
    if badly_finished is not None:
        return broken(
            f"entry {badly_finished} is finished but its completion is not in the chain: "
            "it was changed behind the application"
        )
    return Result(True, checked, verified_seq, last_entry, "", verified_hash)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def verify_and_record(
    *, anchors: dict[int, str] | None = None, workers: int | None = None
) -> ChainVerification:
    """Verify, keep the result for the dashboard, and anchor the verified head."""
    started_at = timezone.now()
    result = verify(anchors=anchors, workers=workers)
    record = ChainVerification.objects.create(
        started_at=started_at,
        finished_at=timezone.now(),
        ok=result.ok,
        links=result.links,
        verified_seq=result.verified_seq,
        verified_entry_id=result.verified_entry_id,
        verified_hash=result.verified_hash,
        message=result.message,
    )
    if result.ok and result.verified_seq:
        write_anchor(result.verified_seq, result.verified_hash)
    return record


def latest_verification(*, ok: bool | None = None) -> ChainVerification | None:
    """The latest run of ``audit_verify`` (the latest successful one with ``ok=True``)."""
    runs = ChainVerification.objects.all()
    return (runs if ok is None else runs.filter(ok=ok)).first()
