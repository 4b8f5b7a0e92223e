"""Property-based tests of the pure validation and search parsing (no database)."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import given
from hypothesis import strategies as st

from mchis.core.text import fold
from mchis.registry import bulk_import, importing, validation
from mchis.registry.search import parse_query

CONTEXT = validation.Context(today=date(2026, 11, 22))


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_dates_in_both_formats_parse_to_the_same_day(day):
    assert validation.parse_date(day.strftime("%d/%m/%Y"), "date_of_birth") == day.isoformat()
    assert validation.parse_date(day.isoformat(), "date_of_birth") == day.isoformat()


@given(st.dictionaries(st.sampled_from(list(validation.FIELDS)), st.text(max_size=30), max_size=12))
def test_r_ch_05_any_input_gives_messages_never_a_crash(raw):
    data, issues = validation.normalise(raw)
    if not issues:
        issues = validation.validate(data, CONTEXT)
    for issue in issues:
        assert issue.level in ("error", "warning")
        assert issue.message and issue.field in validation.FIELDS


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2026, 1, 1)),
    st.sampled_from(["Nguyễn Văn An", "lò thị HOA"]),
)
def test_search_query_splits_name_and_date(day, name):
    parsed = parse_query(f"{name} {day.strftime('%d/%m/%Y')}")
    assert parsed.dates == (day,)
    assert parsed.name == parsed.name.lower() and "ễ" not in parsed.name and "ă" not in parsed.name


@given(st.text(max_size=40))
def test_diff_of_a_record_with_itself_is_empty(name):
    data, _ = validation.normalise({"full_name": name, "sex": "M"})
    assert validation.diff(data, data) == {}


# --- the initial migration's one-pass path (issue 14) equals the general path --------------------------------
_CELLS = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.sampled_from(
        [
            "",
            "  ",
            "Nguyễn Văn An",
            " Lò  Thị Hoa ",
            "Nam",
            " nữ",
            "NU",
            "F",
            "x",
            "01",
            "02",
            "99",
            "03/08/2024",
            "3.8.2024",
            "2024-08-03",
            "2024-08-03 00:00:00",
            "31/02/2020",
            "2024-13-01",
            "12/12/2999",
            "008324116909",
            "008-324.116 909",
            "0083241169",
            "999224116909",
            "008924116909",
            "NHOM1",
            "NHOM1; NHOM2",
            ";",
            "1",
            "me",
            "bo",
        ]
    ),  # fmt: skip
    st.integers(min_value=-5, max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
)


@given(st.dictionaries(st.sampled_from([key for key, _ in importing.COLUMNS]), _CELLS))
def test_one_pass_import_normalisation_equals_the_general_path(row):
    general = validation.normalise(importing.row_to_raw({**row, "thon": ""}, {})[0])
    data, issues = importing.normalised_row(row)
    assert (data, issues) == general
    assert list(data) == list(general[0])  # same key order: the history's diff is written in it


@given(st.dictionaries(st.sampled_from(list(validation.FIELDS)), st.text(max_size=30), max_size=12))
def test_creation_diff_is_the_diff_from_nothing(raw):
    data, _ = validation.normalise(raw)
    assert validation.creation_diff(data) == validation.diff({}, data)
    assert list(validation.creation_diff(data)) == list(validation.diff({}, data))


@given(
    st.text(
        alphabet=st.sampled_from(
            "aăâđĐeêioôơuưyAĂÂEÊOÔƠUƯYnguyễnẮằẳẵặ \t\n\u00a0\u2003\u0301\u0300\u0323ΑΣσςİ"
        ),
        max_size=30,
    )
)
def test_folding_a_name_word_by_word_is_folding_it_whole(text):
    assert bulk_import._fold_by_word(text) == fold(text)
    assert bulk_import._fold_by_word(text) == fold(text)  # again: from the word cache
