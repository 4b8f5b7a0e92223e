"""Dates typed by people: dd/mm/yyyy (the one date widget writes it), months as mm/yyyy ("tháng 10/2026").

ISO (yyyy-mm-dd, yyyy-mm) is accepted too, for links and bookmarks; anything else is a clear Vietnamese error.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext

_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MY = re.compile(r"^(?:tháng\s*)?(\d{1,2})[/.\-](\d{4})$", re.I)
_YM = re.compile(r"^(\d{4})-(\d{1,2})$")

DAY_ERROR = "Ngày không hợp lệ: nhập theo dạng dd/mm/yyyy, ví dụ 05/03/2026."
MONTH_ERROR = "Tháng không hợp lệ: nhập theo dạng mm/yyyy, ví dụ 03/2026."


def parse_day(text: str | None) -> date | None:
    """'05/03/2026' (or '2026-03-05') → date; blank → None; anything else → ValueError(DAY_ERROR)."""
    value = (text or "").strip()
    if not value:
        return None
    try:
        if m := _DMY.match(value):
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if m := _ISO.match(value):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise ValueError(DAY_ERROR) from exc
    raise ValueError(DAY_ERROR)


def parse_month(text: str | None) -> date | None:
    """'03/2026', 'tháng 3/2026' or '2026-03' → the first day of that month; blank → None."""
    value = (text or "").strip()
    if not value:
        return None
    try:
        if m := _MY.match(value):
            return date(int(m.group(2)), int(m.group(1)), 1)
        if m := _YM.match(value):
            return date(int(m.group(1)), int(m.group(2)), 1)
    except ValueError as exc:
        raise ValueError(MONTH_ERROR) from exc
    raise ValueError(MONTH_ERROR)


def as_date(value: Any) -> date | None:
    """A date, a datetime or an ISO string (as stored in JSON snapshots) → date; None/blank → None."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def dmy(value: Any) -> str:
    """dd/mm/yyyy for anything date-like; other values unchanged as text ('' for None)."""
    day = as_date(value)
    if day is not None:
        return day.strftime("%d/%m/%Y")
    return "" if value is None else str(value)


def month_text(value: Any) -> str:
    """'tháng 10/2026' (Vietnamese UI) / '10/2026' (English UI)."""

    day = as_date(value)
    if day is None:
        return ""
    return gettext("tháng %(month)s") % {"month": day.strftime("%m/%Y")}
