"""Property-based tests of the pure validation and search parsing (no database)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from mchis.registry import validation
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
