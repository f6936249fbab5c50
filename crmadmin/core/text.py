"""Text folding for forgiving search: case- and accent-insensitive, Vietnamese included."""

import functools
import re
import sys
import unicodedata

_SPACES = re.compile(r"\s+")
# đ/Đ are letters of their own, not d with a combining mark, so NFKD leaves them alone.
_EXTRA = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "ø": "o", "ł": "l", "ß": "ss"})


@functools.cache
def _without_marks() -> dict[int, str | None]:
    """A ``str.translate`` table deleting every combining mark (922 code points) and
    doing :data:`_EXTRA`: one C call per text instead of a Python test per character,
    which made folding the search columns of 100,000 imported customers take seconds.
    Built on first use (0.15 s), as most texts folded are ASCII and never need it.
    Applied after NFKD, which leaves the letters of ``_EXTRA`` as they are (and may
    uncover one, as "ǿ" gives "ø" and a mark)."""
    table: dict[int, str | None] = dict.fromkeys(
        point for point in range(sys.maxunicode + 1) if unicodedata.combining(chr(point))
    )
    table.update(_EXTRA)
    return table


def fold(text: str | None) -> str:
    """Lower-case ``text``, strip accents and collapse white space.

    ``fold("  Nguyễn   Văn Đạt ")`` is ``"nguyen van dat"``: stored beside the
    original in an indexed column and applied to the query, so ``LIKE`` does the rest.
    """
    if not text:
        return ""
    if text.isascii():
        # Nothing to decompose or translate: casefold() is lower() on ASCII.
        return _SPACES.sub(" ", text.lower()).strip()
    stripped = unicodedata.normalize("NFKD", text).translate(_without_marks())
    # casefold() may make one of _EXTRA's letters again ("Ø" gives "ø").
    return _SPACES.sub(" ", stripped.casefold().translate(_EXTRA)).strip()
