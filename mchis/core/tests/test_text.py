"""Search keys (R-ORG-04): `fold` made cheaper for the bulk register API (issue 20) gives the same keys."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from mchis.core.text import fold

_SPACES = re.compile(r"\s+")


def _fold_as_it_was(value: str | None) -> str:
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", stripped.lower()).strip()


def test_r_org_04_fold_drops_diacritics_case_and_extra_spaces():
    assert fold("  Nguyễn   Văn\tĐức ") == "nguyen van duc"
    assert fold("TRẦN THỊ ĐÀO") == "tran thi dao" and fold(None) == fold("") == ""


_VIETNAMESE = st.sampled_from(
    list("ăâđêôơưĂÂĐÊÔƠƯàảãáạầẩẫấậềểễếệờởỡớợừửữứự \t\n\x1c\x85\u00a0\u2003\u0301\u0323")
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_VIETNAMESE | st.characters(codec="utf-8"), max_size=20).map("".join))
def test_fold_is_the_per_character_fold(text):
    assert fold(text) == _fold_as_it_was(text)
