"""Completed age (tuổi tròn), the one helper used everywhere a rule depends on age.

A year or month is completed on its anniversary day; when the birth day does not exist in the month reached
(born 31 January → February; born 29 February → a common year) the anniversary is the last day of that month,
as the Civil Code counts periods in months and years (Bộ luật Dân sự 2015, Điều 148). So:

* ``completed_months(date(2025, 1, 15), date(2026, 1, 15)) == 12`` (exactly 12 months),
  ``completed_months(date(2025, 1, 31), date(2025, 2, 28)) == 1``;
* ``completed_years(date(2020, 3, 10), date(2026, 3, 10)) == 6`` (a child examined on its 6th birthday is
  6, outside the under-6 register); adolescents are 10–19 completed years.
Pure. ``on`` before ``dob`` gives a negative age (an implausible date pair, for the caller's rule to flag).
"""

from __future__ import annotations

import calendar
from datetime import date


def _anniversary_reached(dob: date, on: date) -> bool:
    """Has `on` reached the day of its month that corresponds to the birth day (clamped to month end)?"""
    if dob.day <= 28:  # every month has the day: no calendar needed (the common case, hot in imports)
        return on.day >= dob.day
    last = calendar.monthrange(on.year, on.month)[1]
    return on.day >= min(dob.day, last)


def completed_months(dob: date, on: date) -> int:
    if on < dob:
        return -1 - completed_months(on, dob)
    months = (on.year - dob.year) * 12 + on.month - dob.month
    return months if _anniversary_reached(dob, on) else months - 1


def completed_years(dob: date, on: date) -> int:
    return completed_months(dob, on) // 12
