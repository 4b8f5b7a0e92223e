"""The indicator map (bản đồ, issue 15 item 4): a choropleth of the 34 provinces of 2025 (boundaries from
``static/analytics/vn_provinces_2025.geojson``, with the Hoàng Sa and Trường Sa archipelagos), classes by equal
intervals or quantiles, a period slider; a click on a province drills down to the units below it, shown ranked
(no district or commune boundaries are available: docs/analytics.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.http import Http404
from django.templatetags.static import static
from django.utils import timezone

from mchis.core.errors import DomainError
from mchis.core.principal import Principal
from mchis.units.selectors import unit_get_visible

from . import selectors

COLORS = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
NO_DATA = "#d9d9d9"
METHODS = {"equal": "Khoảng đều", "quantile": "Phân vị"}


def classes(values: list[float], method: str = "equal", n: int = 5) -> list[tuple[float, float]]:
    """Class bounds (low, high) for the legend: equal intervals between min and max, or quantiles (each class
    about the same number of areas). Fewer classes when there are fewer distinct values."""
    vals = sorted(values)
    if not vals:
        return []
    lo, hi = vals[0], vals[-1]
    if lo == hi:
        return [(lo, hi)]
    n = max(1, min(n, len(set(vals))))
    if method == "quantile":
        cuts = [vals[min(len(vals) - 1, round(i * len(vals) / n))] for i in range(n)] + [hi]
        bounds = sorted(set(cuts))
        return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)] or [(lo, hi)]
    step = (hi - lo) / n
    return [(round(lo + i * step, 2), round(lo + (i + 1) * step, 2) if i < n - 1 else hi) for i in range(n)]


def class_of(value: float | None, bounds: list[tuple[float, float]]) -> int | None:
    if value is None or not bounds:
        return None
    for i, (_, high) in enumerate(bounds):
        if value <= high:
            return i
    return len(bounds) - 1


def _slider(this_id: str) -> tuple[list[tuple[str, str]], int]:
    today = timezone.localdate().replace(day=1)
    months = [selectors.month_item(selectors.add_months(today, -i)) for i in range(24, -1, -1)]
    ids = [(p.id, p.label) for p in months]
    index = next((i for i, (pid, _) in enumerate(ids) if pid == this_id), len(ids) - 2)
    return ids, index


def map_context(principal: Principal, params: Mapping[str, str]) -> dict[str, Any]:
    dx = (params.get("dx") or "ANC4").split(";")[0]
    pe = (params.get("pe") or "LAST_MONTH").split(";")[0]
    method = params.get("class", "equal") if params.get("class") in METHODS else "equal"
    approved = params.get("approved", "1") != "0"
    unit_code = params.get("unit", "")
    ctx: dict[str, Any] = {
        "dx": dx,
        "pe": pe,
        "method": method,
        "methods": list(METHODS.items()),
        "approved": approved,
        "colors": COLORS,
        "error": "",
        "query": urlencode({"dx": dx, "pe": pe, "class": method, "approved": "1" if approved else "0"}),
    }
    try:
        item = selectors.parse_dx(dx)[0]
        periods = selectors.parse_periods(pe)
    except DomainError as exc:
        return {**ctx, "error": exc.message, "slider": _slider("")[0], "slider_index": 0}
    period = periods[-1]
    ctx["slider"], ctx["slider_index"] = _slider(period.id)
    ctx["item"], ctx["period"] = item, period
    ctx["indicator"] = item.indicator
    parent = None
    if unit_code:
        try:
            parent = unit_get_visible(principal, unit_code)
        except Http404:
            ctx["error"] = f"Không có đơn vị '{unit_code}' trong phạm vi bạn được xem."
    if parent is None:
        units = selectors.provinces(principal)
        level = "province"
    else:
        units = selectors.children_of(principal, parent)
        level = "below"
    result = selectors.compute([item], [period], units, approved=approved)
    by_code = {r.ou: r for r in result.rows}
    values = [r.value for r in result.rows if r.value is not None]
    bounds = classes(values, method)
    areas = []
    for u in units:
        row = by_code.get(u.code)
        value = row.value if row else None
        cls = class_of(value, bounds)
        areas.append(
            {
                "unit": u.code,
                "name": u.name,
                "province": getattr(u.admin_unit, "code", "") if level == "province" else "",
                "value": value,
                "cls": cls,
                "color": COLORS[cls] if cls is not None else NO_DATA,
                "numerator": row.numerator if row else None,
                "denominator": row.denominator if row else None,
            }
        )
    ctx.update(
        {
            "level": level,
            "parent": parent,
            "areas": sorted(areas, key=lambda a: (a["value"] is None, -float(a["value"] or 0))),
            "legend": [(i, lo, hi, COLORS[i]) for i, (lo, hi) in enumerate(bounds)],
            "map_data": {
                "level": level,
                "geojson": static("analytics/vn_provinces_2025.geojson"),
                "areas": areas,
                "pieces": [{"min": lo, "max": hi, "color": COLORS[i]} for i, (lo, hi) in enumerate(bounds)],
                "noData": NO_DATA,
                "title": item.label,
                "drill": "?"
                + urlencode({"dx": dx, "pe": period.id, "class": method, "approved": int(approved)}),
            },
        }
    )
    return ctx
