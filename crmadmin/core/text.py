"""Text folding for forgiving search: case- and accent-insensitive, Vietnamese included."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# đ/Đ are letters of their own, not d with a combining mark, so NFKD leaves them alone.
_EXTRA = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "ø": "o", "ł": "l", "ß": "ss"})


def fold(text: str | None) -> str:
    """Lower-case ``text``, strip accents and collapse white space.

    ``fold("  Nguyễn   Văn Đạt ")`` is ``"nguyen van dat"``: stored beside the
    original in an indexed column and applied to the query, so ``LIKE`` does the rest.
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.translate(_EXTRA))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold().translate(_EXTRA)).strip()
