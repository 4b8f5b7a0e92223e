"""Vietnamese text helpers (R-ORG-04): NFC storage and diacritic-free search keys."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfc(value: str | None) -> str:
    """Normalise to NFC and collapse whitespace; None becomes ''."""
    if not value:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


class _FoldTable(dict[int, int | None]):
    """`str.translate` table for `fold`: a combining mark (category Mn) is dropped, đ/Đ become d/D, any other
    character stays. Filled as characters are met (a C-speed lookup afterwards); characters past U+2FFF are
    looked up each time rather than kept, so the table stays small whatever the input."""

    def __missing__(self, code: int) -> int | None:
        value = None if unicodedata.category(chr(code)) == "Mn" else code
        if code < 0x3000:
            self[code] = value
        return value


_FOLD = _FoldTable({ord("đ"): ord("d"), ord("Đ"): ord("D")})


def fold(value: str | None) -> str:
    """Search key: lower case, no diacritics, đ→d. "Nguyễn Văn An" → "nguyen van an".

    (Issue 20: one `unicodedata.category` call per character was a fifth of a register record's validation;
    `str.translate` over a cached table gives the same key.)"""
    if not value:
        return ""
    if not value.isascii():  # (ASCII: nothing to decompose, no marks, no đ)
        value = unicodedata.normalize("NFD", value).translate(_FOLD)
    return " ".join(value.lower().split())  # str.split's whitespace is re's \s (both Py_UNICODE_ISSPACE)
