"""The one spreadsheet writer behind every export: CSV and XLSX, streamed in chunks.

Both formats take a header and an iterable of rows (tuples of text) and yield bytes as
they go, so an export of a million rows costs no more memory than one of ten.

CSV follows the audit export's rules: UTF-8 with a byte-order mark (Excel otherwise
reads the machine's legacy code page and mangles Vietnamese), CRLF line ends, and text a
spreadsheet would run as a formula (leading ``=``, ``+``, ``-``, ``@``, tab or carriage
return) gets a leading quote. The import strips that quote again (:func:`unneutralise`),
so an export re-imports unchanged.

XLSX is written as Excel writes it: one sheet whose text cells point into a table of
shared strings. A text cell is never a formula, so it needs no quote. The zip is written
to a sink that is drained after each chunk of rows (``zipfile`` writes data descriptors
when it cannot seek), so the response starts at once; the shared strings (each distinct
text once) follow the sheet. openpyxl's write-only mode builds the same file at a
quarter of the speed (no lxml here), too slow for 100,000 customers in five seconds; and
openpyxl reads shared strings several times faster than inline ones, which keeps the
import of an exported workbook within its target (bench/import_export.py).
"""

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

from django.http import StreamingHttpResponse

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value: str) -> str:
    """``=1+1`` → ``'=1+1``: a spreadsheet shows the text instead of running it."""
    if value and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """The inverse of :func:`neutralise`, for text read back from a CSV file."""
    if value.startswith("'") and value[1:2] and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


# --- CSV ------------------------------------------------------------------------------
_FORMULA_FIRST = frozenset(FORMULA_STARTS)
CSV_ROWS_PER_CHUNK = 2000


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[bytes]:
    """The CSV in chunks of ``CSV_ROWS_PER_CHUNK`` rows (a few hundred kB each)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([neutralise(cell) for cell in header])
    first = _FORMULA_FIRST
    rows = iter(rows)
    while True:
        batch = list(islice(rows, CSV_ROWS_PER_CHUNK))
        if batch:
            # neutralise() inlined: a call per cell was a tenth of the export's time.
            writer.writerows(
                [[cell if cell[:1] not in first else "'" + cell for cell in row] for row in batch]
            )
        text = buffer.getvalue()
        if text:
            yield text.encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
        if not batch:
            return


# --- XLSX -----------------------------------------------------------------------------
# Characters XML 1.0 cannot hold at all: Excel writes them as _xHHHH_, and so do we.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STATIC_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PKG_REL_NS}">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PKG_REL_NS}">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/styles" Target="styles.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        f'<styleSheet xmlns="{_MAIN_NS}">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}


def _xml_text(value: str) -> str:
    """Markup-escaped text; characters XML cannot hold are left for :func:`_xml_valid`,
    which runs once over a whole chunk (a search per cell costs a tenth of the export)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_valid(text: str) -> str:
    if _XML_INVALID.search(text):
        return _XML_INVALID.sub(lambda match: f"_x{ord(match.group()):04X}_", text)
    return text


class _SharedStrings:
    """Each distinct text once, numbered in order of first use."""

    def __init__(self):
        self.index: dict[str, int] = {}

    def row(self, row: Sequence[str], style: str = "") -> str:
        index = self.index
        cells = []
        for cell in row:
            if not cell:
                cells.append("<c/>")
                continue
            number = index.get(cell)
            if number is None:
                number = index[cell] = len(index)
            cells.append(f'<c t="s"{style}><v>{number}</v></c>')
        return "<row>" + "".join(cells) + "</row>"

    def parts(self) -> Iterator[str]:
        count = len(self.index)
        yield (f'{_XML_DECLARATION}<sst xmlns="{_MAIN_NS}" count="{count}" uniqueCount="{count}">')
        texts = iter(self.index)
        while batch := list(islice(texts, 5000)):
            yield _xml_valid(
                "".join(f'<si><t xml:space="preserve">{_xml_text(text)}</t></si>' for text in batch)
            )
        yield "</sst>"


class _Sink(io.RawIOBase):
    """A write-only, unseekable stream whose bytes are taken out after each chunk."""

    def __init__(self):
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def xlsx_chunks(
    header: Sequence[str], rows: Iterable[Sequence[str]], *, sheet_title: str = "Sheet1"
) -> Iterator[bytes]:
    sink = _Sink()
    strings = _SharedStrings()
    title = _xml_valid(_xml_text(re.sub(r"[\[\]:*?/\\]", " ", sheet_title)[:31] or "Sheet1"))
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for name, text in _STATIC_PARTS.items():
            book.writestr(name, _XML_DECLARATION + text)
        book.writestr(
            "xl/workbook.xml",
            f'{_XML_DECLARATION}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><sheets>'
            f'<sheet name="{title}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        yield sink.drain()
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                (
                    f'{_XML_DECLARATION}<worksheet xmlns="{_MAIN_NS}">'
                    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" '
                    'topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                    "</sheetView></sheetViews><sheetData>" + strings.row(header, ' s="1"')
                ).encode()
            )
            rows = iter(rows)
            while batch := list(islice(rows, ROWS_PER_CHUNK)):
                sheet.write("".join([strings.row(row) for row in batch]).encode())
                yield sink.drain()
            sheet.write(b"</sheetData></worksheet>")
        with book.open("xl/sharedStrings.xml", "w", force_zip64=True) as table:
            for part in strings.parts():
                table.write(part.encode())
                yield sink.drain()
    yield sink.drain()


def streaming_response(
    *,
    file_format: str,
    filename: str,
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    sheet_title: str = "Sheet1",
) -> StreamingHttpResponse:
    """A download of ``rows`` as ``filename`` + ``.csv`` or ``.xlsx`` (``file_format``)."""
    if file_format == "xlsx":
        chunks = xlsx_chunks(header, rows, sheet_title=sheet_title)
        content_type = XLSX_CONTENT_TYPE
    else:
        chunks = csv_chunks(header, rows)
        content_type = CSV_CONTENT_TYPE
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{file_format}"'
    response["Cache-Control"] = "no-store"
    return response
