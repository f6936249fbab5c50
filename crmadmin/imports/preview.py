"""The preview: every row of the file checked and compared with the register.

Each row becomes an ``ImportRow`` classified *new* (its code is not in the register),
*unchanged*, *changed* (with the field-by-field comparison) or *error* (each problem
with its column and message). The register is read once, up front, into dictionaries:
a row then costs no query, which is what makes 100,000 rows a matter of seconds
(bench/import_export.py). Only the columns the mapping names are compared and applied;
an attribute without a column keeps the register's value.
"""

import codecs
import gc
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.core.bulk import insert_rows
from crmadmin.core.codes import validate_code
from crmadmin.core.spreadsheets import unneutralise
from crmadmin.core.text import fold
from crmadmin.core.validators import CONTROL, clean_name
from crmadmin.customers import phones as phone_numbers
from crmadmin.customers.forms import _custom_form_field, _wire_value
from crmadmin.customers.models import Customer, CustomerFieldValue, CustomerPhone
from crmadmin.imports.mapping import CUSTOMERS, FIELD_ROLE_PREFIX, PHONES, REFERENCE_ROLES
from crmadmin.imports.models import Import, ImportRow, Outcome, RowClass, State
from crmadmin.imports.reading import FileRefused, Table, limited, open_table
from crmadmin.kinds import REFERENCE_KINDS as KINDS
from crmadmin.kinds import RecordKind as CodeKind

BATCH = 2000
_ROW_COLUMNS = (
    "job_id",
    "number",
    "code",
    "row_class",
    "cells",
    "values",
    "changes",
    "errors",
    "outcome",
    "message",
)
_PHONE_SPLIT = re.compile(r"[,;/]")
_validate_email = EmailValidator()
Progress = Callable[[int, int], None]  # (rows done, rows expected)


def stored_path(job: Import) -> Path:
    return settings.IMPORT_DIR / job.stored_name


@dataclass
class Checked:
    """One row's verdict, before it is stored."""

    row_class: str = RowClass.NEW
    code: str = ""
    values: dict = field(default_factory=dict)
    changes: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def error(self, column: str, message: str) -> None:
        self.errors.append([column, message])


class _Columns:
    """The row's cells by role, with the file's header of each role for messages."""

    def __init__(self, headers: list[str], mapping: list[str], *, from_csv: bool):
        self.positions: dict[str, list[int]] = defaultdict(list)
        for position, role in enumerate(mapping):
            if role:
                self.positions[role].append(position)
        self.headers = headers
        self.from_csv = from_csv

    def mapped(self, role: str) -> bool:
        return role in self.positions

    def header(self, role: str) -> str:
        positions = self.positions.get(role)
        return self.headers[positions[0]] if positions else role

    def values(self, cells: list[str], role: str) -> list[str]:
        found = []
        for position in self.positions.get(role, ()):
            value = cells[position] if position < len(cells) else ""
            found.append(unneutralise(value) if self.from_csv else value)
        return found

    def value(self, cells: list[str], role: str) -> str:
        positions = self.positions.get(role)
        if not positions:
            return ""
        position = positions[0]
        value = cells[position] if position < len(cells) else ""
        # Only a cell starting with the quote can be a neutralised formula.
        return unneutralise(value) if self.from_csv and value[:1] == "'" else value


def _text(checked: Checked, columns: _Columns, cells, role: str, *, limit: int, required: bool):
    value = columns.value(cells, role)
    header = columns.header(role)
    if CONTROL.search(value):
        checked.error(header, _("Contains invisible control characters."))
        return value
    if required and not value:
        checked.error(header, _("A value is required."))
    elif len(value) > limit:
        checked.error(
            header,
            _("Too long: %(length)d characters, at most %(limit)d.")
            % {"length": len(value), "limit": limit},
        )
    return value


def _name(checked: Checked, columns: _Columns, cells) -> str:
    """The row's name, by the forms' rule (:func:`crmadmin.core.validators.clean_name`)."""
    value = _text(checked, columns, cells, "name", limit=255, required=True)
    if not value or CONTROL.search(value):
        return value
    try:
        return clean_name(value)
    except ValidationError as error:
        checked.error(columns.header("name"), " ".join(error.messages))
        return value


# --- Customers ------------------------------------------------------------------------
class _References:
    """One kind of code (status, type or group) by code and by folded name."""

    def __init__(self, model, label: str):
        self.label = label
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        self.shown: dict[int, str] = {}
        self.answers: dict[tuple[str, str], tuple[int | None, str]] = {}
        for pk, code, name in model.objects.values_list("pk", "code", "name"):
            self.by_code[code] = pk
            self.by_name[fold(name)].append(pk)
            self.shown[pk] = f"{code} · {name}"

    def find(self, value: str, how: str) -> tuple[int | None, str]:
        """(pk, "") or (None, why not); ``how`` is "code", "name" or "" for either.
        A file names few distinct codes: each answer is worked out once."""
        known = self.answers.get((value, how))
        if known is None:
            known = self.answers[value, how] = self._find(value, how)
        return known

    def _find(self, value: str, how: str) -> tuple[int | None, str]:
        if how in ("code", "") and value in self.by_code:
            return self.by_code[value], ""
        if how in ("name", ""):
            matches = self.by_name.get(fold(value), [])
            if len(matches) == 1:
                return matches[0], ""
            if len(matches) > 1:
                return None, _("Several %(kind)s are named “%(value)s”: give the code.") % {
                    "kind": self.label,
                    "value": value,
                }
        return None, _("Unknown %(kind)s “%(value)s”: import it first.") % {
            "kind": self.label,
            "value": value,
        }


class CustomerChecker:
    def __init__(self, headers: list[str], mapping: list[str], *, from_csv: bool):
        self.columns = _Columns(headers, mapping, from_csv=from_csv)
        self.references = {
            "status": _References(Status, _("status")),
            "type": _References(Type, _("type")),
            "group": _References(Group, _("group")),
        }
        fields = {f.code: f for f in Field.objects.all()}
        self.fields = [
            (fields[role.removeprefix(FIELD_ROLE_PREFIX)], role)
            for role in self.columns.positions
            if role.startswith(FIELD_ROLE_PREFIX) and role.removeprefix(FIELD_ROLE_PREFIX) in fields
        ]
        self.form_fields = {f.pk: _custom_form_field(f) for f, _role in self.fields}
        self._load_register()
        self.seen_codes: dict[str, int] = {}
        self.seen_phones: dict[str, tuple[str, int]] = {}
        # Translated once, not once per row.
        self.labels = {
            "name": str(_("Name")),
            "phones": str(_("Phones")),
            "email": str(_("E-mail")),
            "address": str(_("Address")),
        }

    def _load_register(self) -> None:
        self.register: dict[str, tuple] = {
            code: rest
            for code, *rest in Customer.objects.values_list(
                "code", "pk", "name", "email", "address", "status_id", "type_id", "group_id"
            ).iterator(chunk_size=5000)
        }
        codes_by_pk = {rest[0]: code for code, rest in self.register.items()}
        self.phones: dict[int, list[str]] = defaultdict(list)
        self.phone_keys: dict[int, list[str]] = defaultdict(list)
        self.phone_owner: dict[str, str] = {}
        # Numbers the register holds in their wire form, with their keys: read without
        # parsing again (phones.is_wire_form).
        self.known_numbers: dict[str, str] = {}
        for customer_id, number, digits in (
            CustomerPhone.objects.order_by("customer_id", "position", "id")
            .values_list("customer_id", "number", "digits")
            .iterator(chunk_size=5000)
        ):
            self.phones[customer_id].append(number)
            self.phone_keys[customer_id].append(digits)
            if phone_numbers.is_wire_form(number, digits):
                self.known_numbers[number] = digits
            self.phone_owner.setdefault(digits, codes_by_pk.get(customer_id, ""))
        self.field_values: dict[int, dict[int, str]] = defaultdict(dict)
        if self.fields:
            for customer_id, field_id, value in CustomerFieldValue.objects.filter(
                field_id__in=[f.pk for f, _role in self.fields]
            ).values_list("customer_id", "field_id", "value"):
                self.field_values[customer_id][field_id] = value

    def check(self, number: int, cells: list[str]) -> Checked:
        columns = self.columns
        checked = Checked()
        code = _text(checked, columns, cells, "code", limit=64, required=True)
        checked.code = code
        if code and not checked.errors:
            try:
                validate_code(code)
            except ValidationError as error:
                checked.error(columns.header("code"), " ".join(error.messages))
            first = self.seen_codes.setdefault(code, number)
            if first != number:
                checked.error(
                    columns.header("code"),
                    _("The code “%(code)s” is repeated in the file (first on row %(row)d).")
                    % {"code": code, "row": first},
                )
        values = checked.values
        values["name"] = _name(checked, columns, cells)
        values["phones"], values["phone_keys"] = self._phones(checked, cells, code, number)
        if columns.mapped("email"):
            email = _text(checked, columns, cells, "email", limit=254, required=False)
            if email:
                try:
                    _validate_email(email)
                except ValidationError:
                    checked.error(
                        columns.header("email"),
                        _("“%(value)s” is not an e-mail address.") % {"value": email},
                    )
            values["email"] = email
        if columns.mapped("address"):
            values["address"] = _text(checked, columns, cells, "address", limit=500, required=False)
        for name, roles in REFERENCE_ROLES.items():
            values[name] = self._reference(checked, cells, name, roles)
        if self.fields:
            values["fields"] = self._field_values(checked, cells)
        if checked.errors:
            checked.row_class = RowClass.ERROR
            return checked
        existing = self.register.get(code)
        if existing is None:
            checked.row_class = RowClass.NEW
        else:
            checked.changes = self._changes(existing, values)
            checked.row_class = RowClass.CHANGED if checked.changes else RowClass.UNCHANGED
        return checked

    def _phones(
        self, checked: Checked, cells, code: str, number: int
    ) -> tuple[list[str], list[str]]:
        """The row's numbers in their wire form, and their comparison keys (kept with the
        row, so applying it never parses a number again)."""
        header = self.columns.header(PHONES)
        numbers: list[str] = []
        keys: list[str] = []
        seen: set[str] = set()
        for cell in self.columns.values(cells, PHONES):
            for raw in _PHONE_SPLIT.split(cell):
                if not raw.strip():
                    continue
                phone = raw.strip()
                digits = self.known_numbers.get(phone)
                if digits is None:
                    try:
                        phone, digits = phone_numbers.read(raw)
                    except ValidationError as error:
                        checked.error(header, " ".join(error.messages))
                        continue
                if digits in seen:
                    continue
                seen.add(digits)
                owner = self.phone_owner.get(digits)
                if owner and owner != code:
                    checked.error(
                        header,
                        _("The phone %(number)s belongs to the customer %(owner)s.")
                        % {"number": phone, "owner": owner},
                    )
                elif code:
                    earlier = self.seen_phones.setdefault(digits, (code, number))
                    if earlier[0] != code:
                        checked.error(
                            header,
                            _("The phone %(number)s is also given to %(owner)s on row %(row)d.")
                            % {"number": phone, "owner": earlier[0], "row": earlier[1]},
                        )
                numbers.append(phone)
                keys.append(digits)
        if not numbers and not any(column == header for column, _m in checked.errors):
            checked.error(header, _("A value is required: at least one phone number."))
        if len(numbers) > phone_numbers.MAX_PHONES:
            checked.error(
                header,
                _("At most %(max)d phone numbers per customer; this row has %(count)d.")
                % {"max": phone_numbers.MAX_PHONES, "count": len(numbers)},
            )
        return numbers, keys

    def _reference(self, checked: Checked, cells, name: str, roles) -> int | None:
        references = self.references[name]
        for role in roles:
            if not self.columns.mapped(role):
                continue
            value = self.columns.value(cells, role)
            header = self.columns.header(role)
            if not value:
                checked.error(header, _("A value is required."))
                return None
            how = role.removeprefix(name).removeprefix("_")
            pk, problem = references.find(value, how)
            if problem:
                checked.error(header, problem)
            return pk
        return None

    def _field_values(self, checked: Checked, cells) -> dict[str, str]:
        found = {}
        for definition, role in self.fields:
            raw = self.columns.value(cells, role)
            if CONTROL.search(raw):
                checked.error(
                    self.columns.header(role), _("Contains invisible control characters.")
                )
                continue
            try:
                value = _wire_value(self.form_fields[definition.pk].clean(raw))
            except ValidationError as error:
                checked.error(self.columns.header(role), " ".join(error.messages))
                continue
            found[definition.code] = value
        return found

    def _changes(self, existing: tuple, values: dict) -> list:
        pk, name, email, address, status_id, type_id, group_id = existing
        changes = []

        def compare(label: str, before, after) -> None:
            if before != after:
                changes.append([label, before, after])

        labels = self.labels
        compare(labels["name"], name, values["name"])
        stored_phones = self.phones.get(pk, [])
        # One number in another notation ("+84912345678" stored, "0912345678" read) is no
        # change: compared by their keys (the stored ones as stored) when the text differs.
        if (
            stored_phones != values["phones"]
            and self.phone_keys.get(pk, []) != values["phone_keys"]
        ):
            changes.append(
                [labels["phones"], ", ".join(stored_phones), ", ".join(values["phones"])]
            )
        if "email" in values:
            compare(labels["email"], email, values["email"])
        if "address" in values:
            compare(labels["address"], address, values["address"])
        for name_, stored in (("status", status_id), ("type", type_id), ("group", group_id)):
            references = self.references[name_]
            if stored != values[name_]:
                changes.append(
                    [
                        references.label.capitalize(),
                        references.shown.get(stored, ""),
                        references.shown.get(values[name_], ""),
                    ]
                )
        stored_values = self.field_values.get(pk, {})
        for definition, _role in self.fields:
            compare(
                definition.name,
                stored_values.get(definition.pk, ""),
                values["fields"].get(definition.code, ""),
            )
        return changes


# --- Reference codes ------------------------------------------------------------------
class CodeChecker:
    def __init__(self, kind: CodeKind, headers: list[str], mapping: list[str], *, from_csv: bool):
        self.kind = kind
        self.columns = _Columns(headers, mapping, from_csv=from_csv)
        self.details = [d for d in kind.details if self.columns.mapped(d.attr)]
        attrs = ["code", "name", *(d.attr for d in kind.details)]
        self.register = {
            row[0]: row[1:] for row in kind.model.objects.values_list(*attrs).iterator()
        }
        # Group names are unique in the CRM: customers name their group by it.
        self.unique_names = kind.slug == "groups"
        self.name_owner = {fold(row[0]): code for code, row in self.register.items()}
        self.seen_codes: dict[str, int] = {}
        self.seen_names: dict[str, tuple[str, int]] = {}

    def check(self, number: int, cells: list[str]) -> Checked:
        columns = self.columns
        checked = Checked()
        code = _text(checked, columns, cells, "code", limit=64, required=True)
        checked.code = code
        if code and not checked.errors:
            try:
                validate_code(code)
            except ValidationError as error:
                checked.error(columns.header("code"), " ".join(error.messages))
            first = self.seen_codes.setdefault(code, number)
            if first != number:
                checked.error(
                    columns.header("code"),
                    _("The code “%(code)s” is repeated in the file (first on row %(row)d).")
                    % {"code": code, "row": first},
                )
        name = _name(checked, columns, cells)
        checked.values["name"] = name
        if self.unique_names and name:
            folded = fold(name)
            owner = self.name_owner.get(folded)
            earlier = self.seen_names.setdefault(folded, (code, number))
            if owner and owner != code:
                checked.error(
                    columns.header("name"),
                    _("The group %(owner)s already has this name.") % {"owner": owner},
                )
            elif earlier[0] != code:
                checked.error(
                    columns.header("name"),
                    _("Row %(row)d gives this name to the group %(owner)s too.")
                    % {"row": earlier[1], "owner": earlier[0]},
                )
        for detail in self.details:
            limit = self.kind.model._meta.get_field(detail.attr).max_length or 10_000
            checked.values[detail.attr] = _text(
                checked, columns, cells, detail.attr, limit=limit, required=detail.required
            )
        if checked.errors:
            checked.row_class = RowClass.ERROR
            return checked
        existing = self.register.get(code)
        if existing is None:
            checked.row_class = RowClass.NEW
            return checked
        stored = dict(zip(["name", *(d.attr for d in self.kind.details)], existing, strict=True))
        labels = {"name": str(_("Name"))} | {
            d.attr: str(self.kind.detail_label(d)) for d in self.kind.details
        }
        checked.changes = [
            [labels[attr], stored[attr], value]
            for attr, value in checked.values.items()
            if stored[attr] != value
        ]
        checked.row_class = RowClass.CHANGED if checked.changes else RowClass.UNCHANGED
        return checked


# --- The preview as a whole -----------------------------------------------------------
def checker_for(job: Import, table: Table):
    from_csv = table.file_format == "csv"
    if job.target == CUSTOMERS:
        return CustomerChecker(job.headers, job.mapping, from_csv=from_csv)
    return CodeChecker(KINDS[job.target], job.headers, job.mapping, from_csv=from_csv)


def estimate_rows(path: Path, encoding: str) -> int:
    """About how many data rows a CSV file has: its line ends counted (a cell holding a
    line break counts twice), for the progress bar."""
    newline = b"\n"
    if encoding == "utf-16":
        with path.open("rb") as file:
            newline = b"\n\x00" if file.read(2) == codecs.BOM_UTF16_LE else b"\x00\n"
    count = 0
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            count += chunk.count(newline)
    return max(count - 1, 0)


def run_preview(job: Import, *, progress: Progress | None = None) -> Import:
    """Read the whole file, classify every row, store them; the job ends ``previewed``
    (or ``failed`` with the reason when the file turns out unreadable)."""
    path = stored_path(job)
    try:
        table = open_table(path)
        rows = limited(table.rows)
        expected = table.expected_rows or (
            estimate_rows(path, table.encoding) if table.file_format == "csv" else 0
        )
        Import.objects.filter(pk=job.pk).update(
            state=State.PREVIEWING, total=expected, processed=0, error=""
        )
        ImportRow.objects.filter(job=job).delete()
        checker = checker_for(job, table)
        # The register, now held in dictionaries (hundreds of thousands of objects), is
        # left out of the garbage collector's full passes: each one walked it all again,
        # which made reading a workbook (many short-lived objects) several times slower.
        gc.freeze()
        counts = dict.fromkeys(RowClass.values, 0)
        done = 0
        for batch in _batches(rows, BATCH):
            stored = []
            for number, cells in batch:
                checked = checker.check(number, cells)
                counts[checked.row_class] += 1
                applies = checked.row_class in (RowClass.NEW, RowClass.CHANGED)
                stored.append(
                    (
                        job.pk,
                        number,
                        checked.code[:128],
                        checked.row_class,
                        cells if checked.row_class == RowClass.ERROR else [],
                        checked.values if applies else {},
                        checked.changes,
                        checked.errors,
                        Outcome.PENDING if applies else Outcome.SKIPPED,
                        "",
                    )
                )
            # One prepared INSERT per batch: bulk_create's per-row model instances and
            # field compilation were a third of the preview's time.
            with transaction.atomic():
                insert_rows(ImportRow, _ROW_COLUMNS, stored)
            done += len(stored)
            Import.objects.filter(pk=job.pk).update(processed=done, total=max(expected, done))
            if progress:
                progress(done, max(expected, done))
    except FileRefused as refused:
        Import.objects.filter(pk=job.pk).update(
            state=State.FAILED, error=str(refused), finished_at=timezone.now()
        )
        ImportRow.objects.filter(job=job).delete()
        path.unlink(missing_ok=True)  # refused: nothing more will be read from it
        job.refresh_from_db()
        return job
    finally:
        gc.unfreeze()
    Import.objects.filter(pk=job.pk).update(
        state=State.PREVIEWED, counts=counts, total=done, processed=done
    )
    # The rows now hold all the run needs (and the error rows their cells): the file,
    # customers' personal data, is not kept any longer than that.
    path.unlink(missing_ok=True)
    job.refresh_from_db()
    return job


def _batches(rows: Iterator, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
