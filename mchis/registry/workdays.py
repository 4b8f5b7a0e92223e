"""Working days in Vietnam (weekends and public holidays via `holidays`), for R-CH-06 deadlines."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache

import holidays


@cache
def _vn_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _vn_holidays(day.year)


def add_working_days(start: datetime, days: int = 1) -> datetime:
    """The same time of day `days` working days later (a request filed on Friday is due Monday)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current.date()):
            remaining -= 1
    return current
