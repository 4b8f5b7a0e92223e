"""Completed age (mchis.core.ages): the one helper for every age rule (issue 12 item 10)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mchis.core.ages import completed_months, completed_years

DATES = st.dates(min_value=date(1950, 1, 1), max_value=date(2090, 12, 31))


def add_months(day: date, n: int) -> date:
    """The anniversary `n` months after `day`, clamped to the month's last day (Civil Code Điều 148)."""
    y, m = divmod(day.month - 1 + n, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def test_r_mch_03_exactly_twelve_months_is_twelve_completed_months():
    assert completed_months(date(2025, 1, 15), date(2026, 1, 15)) == 12
    assert completed_months(date(2025, 1, 15), date(2026, 1, 14)) == 11
    assert completed_years(date(2025, 1, 15), date(2026, 1, 15)) == 1


def test_r_mch_03_month_end_and_leap_day_anniversaries():
    assert completed_months(date(2025, 1, 31), date(2025, 2, 28)) == 1
    assert completed_months(date(2025, 1, 31), date(2025, 2, 27)) == 0
    assert completed_years(date(2024, 2, 29), date(2025, 2, 28)) == 1
    assert completed_years(date(2024, 2, 29), date(2025, 2, 27)) == 0


def test_r_mch_03_sixth_birthday_is_six_completed_years():
    assert completed_years(date(2020, 3, 10), date(2026, 3, 10)) == 6
    assert completed_years(date(2020, 3, 10), date(2026, 3, 9)) == 5


def test_r_mch_03_adolescent_bands_in_completed_years():
    dob = date(2010, 6, 1)
    assert completed_years(dob, date(2020, 5, 31)) == 9
    assert completed_years(dob, date(2020, 6, 1)) == 10
    assert completed_years(dob, date(2030, 5, 31)) == 19
    assert completed_years(dob, date(2030, 6, 1)) == 20


@given(DATES, st.integers(min_value=0, max_value=600))
def test_r_mch_03_age_is_n_on_the_nth_anniversary_and_n_minus_1_the_day_before(dob, n):
    day = add_months(dob, n)
    assert completed_months(dob, day) == n
    if n > 0 and day - timedelta(days=1) >= dob and add_months(dob, n - 1) < day:
        assert completed_months(dob, day - timedelta(days=1)) == n - 1


@given(DATES, DATES)
def test_r_mch_03_completed_age_is_monotone_and_years_are_months_div_12(a, b):
    dob, on = min(a, b), max(a, b)
    months = completed_months(dob, on)
    assert months >= 0 and completed_years(dob, on) == months // 12
    assert completed_months(dob, on + timedelta(days=1)) >= months
    if dob < on:
        assert completed_months(on, dob) < 0
