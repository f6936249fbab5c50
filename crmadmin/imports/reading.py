"""Reading an uploaded file as a table: format and encoding detected, limits enforced.

CSV may come as UTF-8 (with or without a byte-order mark), UTF-16 (Excel's "Unicode
text", tab-separated, always with a BOM) or Windows-1258 (old Vietnamese Excel, which
writes tone marks as combining characters: every cell is normalised to NFC). The
separator is the one of ``,`` ``;`` or tab that the header line uses most. XLSX is read
by openpyxl in read-only mode, row by row, so a large sheet is never held whole.

Anything that is not such a table is refused with :class:`FileRefused`, whose message
says what is wrong and what to do; nothing here raises anything else for a bad file.
"""

import codecs
import csv
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# An OLE compound document: an encrypted (password-protected) workbook, or an old .xls.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_SEPARATORS = (",", ";", "\t")
_CHUNK = 1 << 20
# A cell longer than this is refused by the row checks anyway; the csv module must not
# refuse the whole file for it first.
_CSV_FIELD_LIMIT = 1 << 20
# Text files have no control characters but tab and line ends.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FileRefused(Exception):
    """The file cannot be imported; ``str(error)`` says why, for the person uploading it."""


@dataclass
class Table:
    """An opened file: its header row, and its data rows as lists of text."""

    file_format: str  # "csv" or "xlsx"
    encoding: str  # for CSV: "utf-8", "utf-16" or "windows-1258"; "" for XLSX
    headers: list[str]
    rows: Iterator[list[str]] = field(repr=False)
    separator: str = ","
    expected_rows: int = 0  # what the workbook says it holds (0: unknown)
    close: Callable[[], None] = field(default=lambda: None, repr=False)  # when not reading on


def max_rows() -> int:
    return settings.IMPORT_MAX_ROWS


def max_bytes() -> int:
    return settings.IMPORT_MAX_BYTES


def refuse_size(size: int) -> None:
    if size > max_bytes():
        raise FileRefused(
            _("The file is %(size)s; files of up to %(limit)s can be imported. Split it.")
            % {"size": filesizeformat(size), "limit": filesizeformat(max_bytes())}
        )
    if size == 0:
        raise FileRefused(_("The file is empty."))


def open_table(path: Path) -> Table:
    """The file at ``path`` as a table, or :class:`FileRefused`."""
    refuse_size(path.stat().st_size)
    with path.open("rb") as file:
        start = file.read(8)
    if start.startswith(_ZIP_MAGIC):
        return _open_xlsx(path)
    if start.startswith(_OLE_MAGIC):
        raise FileRefused(
            _(
                "This workbook is password-protected, or in the old .xls format. Open it in "
                "Excel, remove the password and save it as .xlsx (or CSV UTF-8), then "
                "upload that file."
            )
        )
    return _open_csv(path, _detect_encoding(path))


def cell_text(value) -> str:
    """A cell as text: NFC-normalised, surrounding spaces removed."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        text = str(int(value))
    elif isinstance(value, datetime):
        text = value.isoformat(sep=" ") if value.time() != time(0) else value.date().isoformat()
    elif isinstance(value, date | time):
        text = value.isoformat()
    else:
        text = str(value)
    text = text.strip()
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


# --- CSV ------------------------------------------------------------------------------
def _detect_encoding(path: Path) -> str:
    """utf-8, utf-16 or windows-1258, or :class:`FileRefused` for binary content."""
    with path.open("rb") as file:
        head = file.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return _checked(path, "utf-8-sig")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return _checked(path, "utf-16")
    if _decodes(path, "utf-8"):
        return _checked(path, "utf-8")
    return _checked(path, "windows-1258")


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as file:
        try:
            while chunk := file.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _checked(path: Path, encoding: str) -> str:
    """``encoding`` if the whole file decodes to text without control characters."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as file:
        try:
            while chunk := file.read(_CHUNK):
                text = decoder.decode(chunk)
                if _CONTROL.search(text):
                    raise FileRefused(_binary_message())
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise FileRefused(_binary_message()) from None
    return encoding


def _binary_message() -> str:
    return _(
        "This file is not a table: it holds binary data. Upload a CSV file (UTF-8, "
        "UTF-16 or Windows-1258) or an Excel workbook (.xlsx)."
    )


def _open_csv(path: Path, encoding: str) -> Table:
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    text = path.open("r", encoding=encoding, newline="")
    first = text.readline()
    separator = max(_SEPARATORS, key=first.count)
    text.seek(0)
    reader = csv.reader(text, delimiter=separator)
    try:
        header_row = next(reader, None)
    except csv.Error as error:
        text.close()
        raise FileRefused(_("The first row cannot be read: %(error)s") % {"error": error}) from None
    headers = [cell_text(cell) for cell in header_row or ()]
    _refuse_no_header(headers, separator_found=bool(first.count(separator)))

    def rows() -> Iterator[list[str]]:
        with text:
            try:
                for row in reader:
                    # cell_text() for text, inlined: ASCII needs no normalising.
                    yield [
                        stripped if stripped.isascii() else cell_text(stripped)
                        for stripped in (cell.strip() for cell in row)
                    ]
            except csv.Error as error:
                raise FileRefused(
                    _("Line %(line)d cannot be read: %(error)s")
                    % {"line": reader.line_num, "error": error}
                ) from None

    name = {"utf-8-sig": "utf-8"}.get(encoding, encoding)
    return Table("csv", name, headers, rows(), separator, close=text.close)


def _refuse_no_header(headers: list[str], *, separator_found: bool) -> None:
    if not any(headers):
        raise FileRefused(
            _(
                "The first row is empty. The first row must name the columns (code, name, "
                "phones…); remove the empty rows above it."
            )
        )
    if not separator_found and len(headers) <= 1 and len(headers[0]) > 64:
        raise FileRefused(
            _("This file is not a table: its first line has no columns separated by commas.")
        )


# --- XLSX -----------------------------------------------------------------------------
def _unreadable_workbook(error: BaseException) -> FileRefused:
    return FileRefused(
        _("This Excel workbook cannot be read (%(error)s). Save it again as .xlsx.")
        % {"error": str(error)[:200] or type(error).__name__}
    )


def _open_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise _unreadable_workbook(error) from None
    if "xl/workbook.xml" not in names:
        raise FileRefused(
            _("This zip file is not an Excel workbook (.xlsx). Upload a .xlsx or CSV file.")
        )
    # A file object, not the path: openpyxl refuses a path that does not end in .xlsx.
    handle = path.open("rb")
    book = None

    def close() -> None:
        if book is not None:
            book.close()
        handle.close()

    try:
        book = load_workbook(handle, read_only=True, data_only=True)
        if not book.worksheets:
            raise FileRefused(_("This Excel workbook has no sheet."))
        sheet = book.worksheets[0]
        if sheet.max_row and sheet.max_row - 1 > max_rows():
            raise too_many_rows()
        values = sheet.iter_rows(values_only=True)
        header_row = next(values, None)
        headers = [cell_text(cell) for cell in header_row or ()]
        while headers and not headers[-1]:
            headers.pop()
        _refuse_no_header(headers, separator_found=True)
    except FileRefused:
        close()
        raise
    except Exception as error:  # openpyxl raises whatever its XML parser meets
        close()
        raise _unreadable_workbook(error) from None

    def rows() -> Iterator[list[str]]:
        try:
            for row in values:
                yield [cell_text(cell) for cell in row]
        except FileRefused:
            raise
        except Exception as error:  # a damaged sheet part, found mid-way
            raise _unreadable_workbook(error) from None
        finally:
            close()

    expected = max((sheet.max_row or 1) - 1, 0)
    return Table("xlsx", "", headers, rows(), expected_rows=expected, close=close)


def too_many_rows() -> FileRefused:
    return FileRefused(
        _("The file has more than %(limit)s rows. Split it into files of at most %(limit)s rows.")
        % {"limit": f"{max_rows():,}"}
    )


def limited(rows: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """(row number as the spreadsheet shows it, cells) for each row that is not blank;
    :class:`FileRefused` past the row limit."""
    limit = max_rows()
    count = 0
    for number, row in enumerate(rows, start=2):
        if not any(row):
            continue
        count += 1
        if count > limit:
            raise too_many_rows()
        yield number, row
