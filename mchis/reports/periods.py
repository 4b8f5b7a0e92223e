"""Report periods and deadlines (kỳ báo cáo, thời hạn gửi báo cáo, R-MCH-04). Pure functions.

A monthly period runs from 00:00 on day 1 to 24:00 on the last day, Asia/Ho_Chi_Minh time; a yearly
period (network reports, báo cáo mạng lưới) the whole calendar year. The deadline is N days after the
period ends, at 24:00 local time: commune 5, district and provincial facilities 15, province 25, unless the
form sets its own ``deadline_days``. Timeliness is judged on the submission time.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_DEADLINE_DAYS = {"commune": 5, "district": 15, "province": 25, "network": 25}
# Unit kinds whose reports are due on the district/provincial-facility deadline (15 days).
FACILITY_KINDS = {"ttyt", "district_hospital", "prov_hospital"}
_MONTH = re.compile(r"^(\d{4})-(\d{2})\Z")
_YEAR = re.compile(r"^(\d{4})\Z")


@dataclass(frozen=True, order=True)
class Period:
    start: date
    type: str  # "monthly" | "yearly"

    @property
    def end(self) -> date:
        """Last day of the period (inclusive)."""
        if self.type == "yearly":
            return date(self.start.year, 12, 31)
        return date(
            self.start.year, self.start.month, calendar.monthrange(self.start.year, self.start.month)[1]
        )

    @property
    def code(self) -> str:
        return f"{self.start.year}" if self.type == "yearly" else f"{self.start:%Y-%m}"

    @property
    def dhis2(self) -> str:
        return f"{self.start.year}" if self.type == "yearly" else f"{self.start:%Y%m}"

    @property
    def adx(self) -> str:
        return f"{self.start.isoformat()}/{'P1Y' if self.type == 'yearly' else 'P1M'}"

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=VN)

    @property
    def ends_at(self) -> datetime:
        """24:00 of the last day = 00:00 of the next day (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=VN)

    def label(self) -> str:
        return (
            f"Năm {self.start.year}"
            if self.type == "yearly"
            else f"Tháng {self.start.month:02d}/{self.start.year}"
        )

    def previous(self, n: int = 1) -> Period:
        if self.type == "yearly":
            return Period(date(self.start.year - n, 1, 1), "yearly")
        months = self.start.year * 12 + self.start.month - 1 - n
        return Period(date(months // 12, months % 12 + 1, 1), "monthly")

    def __str__(self) -> str:
        return self.code


def parse_period(text: str) -> Period:
    """'2026-01' -> monthly, '2026' -> yearly. ValueError with a Vietnamese message otherwise."""
    m = _MONTH.match(text or "")
    if m and 1 <= int(m.group(2)) <= 12 and 2000 <= int(m.group(1)) <= 2100:
        return Period(date(int(m.group(1)), int(m.group(2)), 1), "monthly")
    y = _YEAR.match(text or "")
    if y and 2000 <= int(y.group(1)) <= 2100:
        return Period(date(int(y.group(1)), 1, 1), "yearly")
    raise ValueError(f"Kỳ báo cáo '{text}' không hợp lệ (cần YYYY-MM hoặc YYYY).")


def period_containing(day: date, period_type: str) -> Period:
    if period_type == "yearly":
        return Period(date(day.year, 1, 1), "yearly")
    return Period(date(day.year, day.month, 1), "monthly")


def deadline_days_for(level: str, unit_kind: str, override: int | None = None) -> int:
    """Commune reports 5 days; district and provincial *facilities* 15; the province's report 25."""
    if override:
        return override
    if level == "province" and unit_kind in FACILITY_KINDS:
        return DEFAULT_DEADLINE_DAYS["district"]
    return DEFAULT_DEADLINE_DAYS[level]


def deadline(period: Period, days: int) -> datetime:
    """24:00 (local) of the N-th day after the period's last day."""
    return period.ends_at + timedelta(days=days)


def is_late(submitted_at: datetime | None, due: datetime, now: datetime) -> bool:
    """Late = submitted after the deadline, or not yet submitted and the deadline has passed."""
    if submitted_at is None:
        return now >= due
    return submitted_at >= due
