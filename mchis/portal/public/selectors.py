"""Every read of the public portal: the published store only (Publication, PublishedStatistic,
PublishedFigure), and only figures of publications in force.

No principal: everything here is public. Nothing here may import another app's models or selectors (the
import-linter contract ``portal-public-reads-published-store-only`` in pyproject.toml); every period, area and
statistic a visitor can reach is one that a publication in force contains - a query string naming anything else
finds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from ..models import PublicationStatus, PublishedFigure, PublishedStatistic


def figures() -> QuerySet[PublishedFigure]:
    """The public figures: only those of publications in force."""
    return PublishedFigure.objects.filter(publication__status=PublicationStatus.PUBLISHED)


def statistics() -> list[PublishedStatistic]:
    keys = set(figures().values_list("statistic", flat=True).distinct())
    return [s for s in PublishedStatistic.objects.all() if s.key in keys]


def statistic(key: str) -> PublishedStatistic | None:
    if not figures().filter(statistic=key).exists():
        return None
    return PublishedStatistic.objects.filter(key=key).first()


@dataclass(frozen=True)
class Province:
    code: str
    name: str


def provinces() -> list[Province]:
    rows = figures().filter(level="province").values_list("area_code", "area_name").distinct()
    return sorted({Province(c, n) for c, n in rows}, key=lambda p: p.name)


def province(code: str) -> Province | None:
    return next((p for p in provinces() if p.code == code), None)


def months(key: str | None = None) -> list[str]:
    qs = figures().filter(months=1, period__contains="-")
    if key:
        qs = qs.filter(statistic=key)
    return sorted(set(qs.values_list("period", flat=True)))


def years(key: str | None = None) -> list[str]:
    qs = figures().exclude(period__contains="-")
    if key:
        qs = qs.filter(statistic=key)
    return sorted(set(qs.values_list("period", flat=True)))


def series(key: str, area_code: str) -> list[PublishedFigure]:
    """The monthly figures of one statistic in one area, oldest first (a trend)."""
    return list(figures().filter(statistic=key, area_code=area_code, period__contains="-").order_by("period"))


def latest(area_code: str) -> dict[str, PublishedFigure]:
    """{statistic: its latest monthly figure} in one area."""
    out: dict[str, PublishedFigure] = {}
    for f in figures().filter(area_code=area_code, period__contains="-").order_by("period"):
        out[f.statistic] = f
    return out


def by_period(key: str, level: str, period: str, province_code: str = "") -> list[PublishedFigure]:
    qs = figures().filter(statistic=key, level=level, period=period)
    if province_code:
        qs = qs.filter(province_code=province_code)
    return list(qs.order_by("area_name"))


@dataclass
class Grid:
    """Areas (rows) × periods (columns) of one statistic: a public table."""

    periods: list[str]
    rows: list[tuple[str, str, list[PublishedFigure | None]]]  # (area code, area name, cells)


def grid(key: str, level: str, periods: list[str], province_code: str = "") -> Grid:
    qs = figures().filter(statistic=key, level=level, period__in=periods)
    if province_code:
        qs = qs.filter(province_code=province_code)
    cells: dict[tuple[str, str], PublishedFigure] = {}
    names: dict[str, str] = {}
    for f in qs:
        cells[(f.area_code, f.period)] = f
        names[f.area_code] = f.area_name
    rows = [
        (code, names[code], [cells.get((code, p)) for p in periods])
        for code in sorted(names, key=lambda c: names[c])
    ]
    return Grid(periods, rows)


def all_rows(key: str | None = None) -> QuerySet[PublishedFigure]:
    """Every public figure (open data), in a stable order."""
    qs = figures()
    if key:
        qs = qs.filter(statistic=key)
    return qs.order_by("statistic", "level", "province_code", "area_code", "period")


def revisions() -> list[PublishedFigure]:
    return list(figures().exclude(revised_on=None).order_by("-revised_on", "statistic", "area_name")[:200])


def under_review() -> int:
    return figures().exclude(under_review_since=None).count()


def bulletin_periods() -> dict[str, list[str]]:
    """{"monthly": months, "yearly": years} that have national or provincial figures."""
    qs = figures().filter(level__in=["national", "province"])
    periods = set(qs.values_list("period", flat=True))
    return {
        "monthly": sorted((p for p in periods if "-" in p), reverse=True),
        "yearly": sorted((p for p in periods if "-" not in p), reverse=True),
    }


def bulletin(period: str) -> dict[str, list[PublishedFigure]]:
    """{statistic: national + provincial figures of the period}."""
    out: dict[str, list[PublishedFigure]] = defaultdict(list)
    for f in (
        figures().filter(period=period, level__in=["national", "province"]).order_by("level", "area_name")
    ):
        out[f.statistic].append(f)
    return dict(out)


def map_values(key: str, period: str) -> dict[str, Decimal | None]:
    return {f.area_code: f.value for f in by_period(key, "province", period)}
