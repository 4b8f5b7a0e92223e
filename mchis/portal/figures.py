"""From the analytics store's approved values to the figures a publication freezes, with the disclosure rules
applied.

Pure: takes the areas' values per period (``sources.area_values``: each month, and each year over its published
months - ``months`` says how many) and returns ``FigureRow``s; the services write them. The value of a figure is
the analytics value (``Area.values``); the portal does no arithmetic of its own. Disclosure control works on the
counts behind each figure (its numerator and denominator): below the province, every (parent area, count, year)
is one protected table - its areas × months, with the parent's figure of each month and each area's year figure
published beside it. A count shared by several statistics (the deliveries, the denominator of ANC4) is
protected once, so the same number is hidden the same way wherever it appears.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from .disclosure import BELOW_PROVINCE, Rules, Table, protect, rate_decision
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
    count: str, by_period: Mapping[str, Mapping[str, Area]], months: list[str], rules: Rules
) -> dict[tuple[str, str], str]:
    """{(area code, period): "primary" | "complementary"} for one count, below the province."""
    out: dict[tuple[str, str], str] = {}
    for year, in_year in months_by_year(months).items():
        tables: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
        for month in in_year:
            for area in by_period.get(month, {}).values():
                if area.level in BELOW_PROVINCE and count in area.counts:
                    tables[area.parent][(area.code, month)] = area.counts[count]
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
    by_period: Mapping[str, Mapping[str, Area]],
    rules: Rules,
) -> list[FigureRow]:
    months = sorted(p for p in by_period if "-" in p)
    years = months_by_year(months)
    wanted = {lvl for lvl in levels if rules.publishes(lvl)}
    hidden_cache: dict[str, dict[tuple[str, str], str]] = {}

    def hidden(count: str) -> dict[tuple[str, str], str]:
        if count not in hidden_cache:
            hidden_cache[count] = _hidden_counts(count, by_period, months, rules)
        return hidden_cache[count]

    entries = [(m, 1, a) for m in months for a in by_period[m].values()]
    entries += [(y, len(years[y]), a) for y in years for a in by_period.get(y, {}).values()]
    rows: list[FigureRow] = []
    for stat in statistics:
        for period, n_months, area in entries:
            figure = area.values.get(stat.key)
            if area.level not in wanted or figure is None:  # no approved data: nothing to publish
                continue
            num, den = figure.numerator, figure.denominator
            why = hidden(stat.count_key("numerator")).get((area.code, period), "")
            if den is not None and not why and hidden(stat.count_key("denominator")).get((area.code, period)):
                why = "complementary"
            if stat.kind == "count":
                suppressed, flag = bool(why), ""
            else:
                decision = rate_decision(area.level, den, parts_suppressed=bool(why), rules=rules)
                suppressed, flag = decision.suppressed, decision.flag
                why = why or ("rate" if suppressed else "")
            rows.append(
                FigureRow(
                    stat.key, period, n_months, area.level, area.code, area.name, area.province_code,
                    area.path, None if suppressed else figure.value, None if suppressed else num,
                    None if suppressed else den, suppressed, why if suppressed else "", flag,
                    area.approved, area.expected,
                )
            )  # fmt: skip
    return rows
