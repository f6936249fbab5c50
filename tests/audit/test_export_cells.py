"""The audit export's cells: whatever text people or the CRM chose, a spreadsheet reads it
back as that text and never runs it as a formula."""

import csv

from hypothesis import example, given
from hypothesis import strategies as st

from crmadmin.audit.export import _cell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def read_back(cell: str) -> list[str]:
    """The fields a CSV reader finds in a line made of this cell between two others."""
    return next(csv.reader([f"a,{cell},b"], strict=True))


@given(st.text())
@example('=HYPERLINK("http://x","y")')
@example("-1+1")
@example('say "hi", then\r\nleave')
@example("\t@SUM(A1)")
def test_a_cell_reads_back_as_its_text_never_as_a_formula(text):
    fields = read_back(_cell(text))
    assert len(fields) == 3
    shown = fields[1]
    assert not shown.startswith(FORMULA_STARTS)
    if text.startswith(FORMULA_STARTS):
        assert shown == "'" + text
    else:
        assert shown == text


@given(st.text(alphabet=st.characters(blacklist_characters='",\r\n'), min_size=1))
def test_plain_text_is_written_without_quotes(text):
    cell = _cell(text)
    assert not cell.startswith('"')
    # Unchanged, or neutralised by one leading apostrophe (a text may itself start with one).
    assert cell in (text, "'" + text)
