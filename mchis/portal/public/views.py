"""The public statistics portal under /public/ (issue 16): no login, read from the published store only.

Thin views over ``public.selectors``; every page is cached (``caching.public_cached``). An unknown statistic,
province or period is a Vietnamese 404 page, whatever the URL or query string says.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from ..disclosure import rules_from
from . import selectors
from .caching import public_cached
from .charts import sparkline


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "portal/404.html", status=404)


def _period(request: HttpRequest, allowed: list[str], default: str | None) -> str | None:
    """The ?period= a page shows: one that is published, else nothing (a 404 by the caller)."""
    asked = request.GET.get("period")
    if asked is None or asked == "":
        return default
    return asked if asked in allowed else None


@require_GET
@public_cached()
def home(request: HttpRequest) -> HttpResponse:
    stats = selectors.statistics()
    latest = selectors.latest("VN")
    cards = []
    for s in stats:
        trend = selectors.series(s.key, "VN")
        cards.append(
            {"stat": s, "figure": latest.get(s.key), "spark": sparkline([f.value for f in trend[-12:]])}
        )
    return render(
        request,
        "portal/home.html",
        {"cards": cards, "provinces": selectors.provinces(), "under_review": selectors.under_review()},
    )


@require_GET
@public_cached()
def indicators(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/indicators.html", {"stats": selectors.statistics()})


@require_GET
@public_cached("period")
def indicator(request: HttpRequest, key: str) -> HttpResponse:
    stat = selectors.statistic(key)
    if stat is None:
        return not_found(request)
    months = selectors.months(key)
    years = selectors.years(key)
    period = _period(request, months + years, months[-1] if months else (years[-1] if years else None))
    if period is None:
        return not_found(request)
    national = selectors.series(key, "VN")
    by_province = selectors.by_period(key, "province", period)
    chart = {
        "title": stat.name,
        "unit": stat.unit,
        "periods": [f.period for f in national],
        "values": [None if f.value is None else float(f.value) for f in national],
        "map": {f.area_code: None if f.value is None else float(f.value) for f in by_province},
        "names": {f.area_code: f.area_name for f in by_province},
    }
    return render(
        request,
        "portal/indicator.html",
        {
            "stat": stat,
            "period": period,
            "periods": list(reversed(months)) + list(reversed(years)),
            "national": national,
            "by_province": by_province,
            "year_grid": selectors.grid(key, "province", years),
            "chart_json": json.dumps(chart, ensure_ascii=False),
        },
    )


@require_GET
@public_cached("period")
def province(request: HttpRequest, code: str) -> HttpResponse:
    prov = selectors.province(code)
    if prov is None:
        return not_found(request)
    stats = selectors.statistics()
    months = selectors.months()
    years = selectors.years()
    period = _period(request, months + years, months[-1] if months else None)
    if period is None:
        return not_found(request)
    trends: list[dict[str, Any]] = []
    for s in stats:
        series = selectors.series(s.key, code)
        if series:
            trends.append(
                {
                    "stat": s,
                    "key": s.key,
                    "latest": series[-1],
                    "periods": [f.period for f in series],
                    "values": [None if f.value is None else float(f.value) for f in series],
                }
            )
    districts: dict[str, dict[str, Any]] = {}
    for s in stats:
        for f in selectors.by_period(s.key, "district", period, province_code=code):
            districts.setdefault(f.area_code, {"name": f.area_name, "cells": {}})["cells"][s.key] = f
    district_rows = [
        {"name": d["name"], "cells": [d["cells"].get(s.key) for s in stats]}
        for d in sorted(districts.values(), key=lambda d: d["name"])
    ]
    return render(
        request,
        "portal/province.html",
        {
            "province": prov,
            "stats": stats,
            "trends": trends,
            "chart_json": json.dumps(
                {t["stat"].key: {"periods": t["periods"], "values": t["values"]} for t in trends},
                ensure_ascii=False,
            ),
            "period": period,
            "periods": list(reversed(months)) + list(reversed(years)),
            "district_rows": district_rows,
        },
    )


@require_GET
@public_cached()
def methods(request: HttpRequest) -> HttpResponse:
    rules = rules_from(getattr(settings, "PORTAL_DISCLOSURE", None))
    return render(request, "portal/methods.html", {"rules": rules, "revisions": selectors.revisions()})


@require_GET
def language(request: HttpRequest, code: str) -> HttpResponse:
    """Switch language without a form (public pages are cached, so they carry no CSRF token)."""
    target = request.GET.get("next", "/public/")
    if not target.startswith("/public/") or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        target = "/public/"
    response = HttpResponseRedirect(target)
    if code in {c for c, _ in settings.LANGUAGES}:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, code, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@require_GET
def not_found_view(request: HttpRequest) -> HttpResponse:
    """Any other address under /public/: the portal's own Vietnamese 404 page."""
    return not_found(request)
