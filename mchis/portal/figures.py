"""From summed report cells to the figures a publication freezes, with the disclosure rules applied.

Pure: takes the areas' values per month (``sources.area_values``) and returns ``FigureRow``s; the services
write them. Months are published as they are, and each year as the sum of its published months (``months``
says how many). Below the province, every (parent area, statistic, year) is one protected table: its areas ×
months, with the parent's figure of each month and each area's year figure published beside it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from .disclosure import BELOW_PROVINCE, Rules, Table, protect, rate, rate_decision
from .sources import Area, months_by_year
from .statistics import Statistic


@dataclass
class FigureRow:
    statistic: str
    period: str
    months: int
    level: str
    area_code: str
    area_name: str
    province_code: str
    area_path: str
    value: Decimal | None
    numerator: int | None
    denominator: int | None
    suppressed: bool
    suppression: str
    flag: str
    reports_approved: int
    reports_expected: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.statistic, self.period, self.area_code)


def _hidden_counts(
    cell: str, areas_by_month: Mapping[str, Mapping[str, Area]], months: list[str], rules: Rules
) -> dict[tuple[str, str], str]:
    """{(area code, period): "primary" | "complementary"} for one report cell, below the province."""
    out: dict[tuple[str, str], str] = {}
    for year, in_year in months_by_year(months).items():
        tables: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
        for month in in_year:
            for area in areas_by_month.get(month, {}).values():
                if area.level in BELOW_PROVINCE and area.approved:
                    tables[area.parent][(area.code, month)] = area.cells.get(cell, 0)
        for cells in tables.values():
            table = Table.from_cells(cells)
            protection = protect(table, rules)
            for kind, found in (("primary", protection.primary), ("complementary", protection.complementary)):
                for c in found:
                    out[(c[1], c[2] if c[0] == "x" else year)] = kind
    return out


def build(
    statistics: list[Statistic],
    levels: list[str],
    areas_by_month: Mapping[str, Mapping[str, Area]],
    rules: Rules,
) -> list[FigureRow]:
    months = sorted(areas_by_month)
    wanted = {lvl for lvl in levels if rules.publishes(lvl)}
    # area → year → summed cells over the year's published months
    years: dict[tuple[str, str], Area] = {}
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for month in months:
        for area in areas_by_month[month].values():
            key = (area.code, month[:4])
            total = years.get(key)
            if total is None:
                total = years[key] = Area(
                    area.level, area.code, area.name, area.province_code, area.path, area.parent
                )
            for cell, amount in area.cells.items():
                total.cells[cell] = total.cells.get(cell, 0) + amount
            total.approved += area.approved
            total.expected += area.expected
            counts[key] += 1
    rows: list[FigureRow] = []
    hidden_cache: dict[str, dict[tuple[str, str], str]] = {}

    def hidden(cell: str) -> dict[tuple[str, str], str]:
        if cell not in hidden_cache:
            hidden_cache[cell] = _hidden_counts(cell, areas_by_month, months, rules)
        return hidden_cache[cell]

    entries = [(m, 1, a) for m in months for a in areas_by_month[m].values()]
    entries += [(year, counts[(code, year)], a) for (code, year), a in years.items()]
    for stat in statistics:
        for period, n_months, area in entries:
            if area.level not in wanted or not area.approved:  # no approved report: nothing to publish
                continue
            num = area.cells.get(stat.numerator, 0)
            den = area.cells.get(stat.denominator, 0) if stat.denominator else None
            why = hidden(stat.numerator).get((area.code, period), "")
            if stat.denominator and not why and hidden(stat.denominator).get((area.code, period)):
                why = "complementary"
            if stat.kind == "count":
                value: Decimal | None = Decimal(num)
                suppressed, flag = bool(why), ""
            else:
                decision = rate_decision(area.level, den, parts_suppressed=bool(why), rules=rules)
                suppressed, flag = decision.suppressed, decision.flag
                why = why or ("rate" if suppressed else "")
                value = rate(num, den, stat.factor)
            rows.append(
                FigureRow(
                    stat.key, period, n_months, area.level, area.code, area.name, area.province_code,
                    area.path, None if suppressed else value, None if suppressed else num,
                    None if suppressed else den, suppressed, why if suppressed else "", flag,
                    area.approved, area.expected,
                )
            )  # fmt: skip
    return rows
