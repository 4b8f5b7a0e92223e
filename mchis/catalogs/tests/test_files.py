"""The catalog CSV reader: whatever a spreadsheet writes correctly is read back exactly (R-ORG-03, R-ORG-04)."""

from __future__ import annotations

import csv
import io
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from mchis.catalogs.files import read_items

codes = st.from_regex(r"[A-Z][A-Z0-9._\-]{0,10}", fullmatch=True)
names = st.text(
    alphabet=st.characters(categories=("L", "N", "Zs", "P"), exclude_characters="\r\n\x85\u2028\u2029"),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip())


@settings(max_examples=60, deadline=None)
@given(rows=st.dictionaries(codes, st.tuples(names, names), min_size=1, max_size=8), nfd=st.booleans())
def test_r_org_04_written_rows_are_read_back_in_nfc(tmp_path_factory, rows, nfd) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["code", "name_vi", "name_en"])
    for code, (vi, en) in rows.items():
        writer.writerow([code, unicodedata.normalize("NFD", vi) if nfd else vi, en])
    path = tmp_path_factory.mktemp("csv") / "items.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    items = read_items(path)
    assert [i.code for i in items] == list(rows)
    for item in items:
        vi, _ = rows[item.code]
        expected = " ".join(unicodedata.normalize("NFC", vi).split())
        assert item.name_vi == expected
        assert unicodedata.is_normalized("NFC", item.name_vi)
