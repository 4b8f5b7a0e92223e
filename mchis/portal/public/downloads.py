"""Open data under /public/data/: every public table as CSV and JSON at a stable URL, the data dictionary, and
the ADX (SDMX-compatible) export of the published monthly figures. Built from the published store only."""

from __future__ import annotations

import io
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from mchis.core.adx import AdxGroup, AdxValue, adx_xml
from mchis.core.spreadsheets import csv_writer

from ..models import PublishedFigure
from . import selectors
from .caching import public_cached
from .views import not_found

DATA_SET = "MCHIS_PORTAL"

# (column, type, Vietnamese description, English description): the data dictionary, in file order
FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("statistic", "text", "Mã chỉ tiêu (xem danh mục chỉ tiêu)", "Statistic code (see the statistics list)"),
    ("period", "text", "Kỳ: YYYY-MM (tháng) hoặc YYYY (tổng các tháng đã công bố của năm)",
     "Period: YYYY-MM (month) or YYYY (sum of the year's published months)"),
    ("months", "integer", "Số tháng cộng dồn trong kỳ", "Number of months summed in the period"),
    ("level", "text", "Cấp: national (toàn quốc), province (tỉnh), district (TTYT khu vực)",
     "Level: national, province, district (district health centre)"),
    ("area_code", "text", "Mã địa bàn: VN, mã tỉnh 2025 (GSO) hoặc mã đơn vị", "Area code: VN, 2025 GSO province code or unit code"),
    ("area_name", "text", "Tên địa bàn", "Area name"),
    ("province_code", "text", "Mã tỉnh chứa địa bàn (trống với toàn quốc)", "Province code of the area (empty for the nation)"),
    ("value", "decimal", "Giá trị (trống nếu bị ẩn hoặc không xác định)", "Value (empty when suppressed or undefined)"),
    ("numerator", "integer", "Tử số (với tỉ lệ) hoặc số đếm", "Numerator (rates) or the count"),
    ("denominator", "integer", "Mẫu số (với tỉ lệ)", "Denominator (rates)"),
    ("suppressed", "boolean", "true nếu giá trị bị ẩn để bảo vệ bí mật (xem trang phương pháp)",
     "true when the value is suppressed to protect confidentiality (see the methods page)"),
    ("suppression", "text", "Lý do ẩn: primary (số nhỏ), complementary (ẩn bổ sung), rate (mẫu số nhỏ)",
     "Why: primary (small count), complementary, rate (small denominator)"),
    ("flag", "text", "small_denominator: mẫu số nhỏ, diễn giải thận trọng", "small_denominator: interpret with care"),
    ("reports_approved", "integer", "Số đơn vị báo cáo có số liệu đã duyệt được tổng hợp", "Reporting units whose approved data are summed"),
    ("reports_expected", "integer", "Số đơn vị phải báo cáo", "Reporting units due to report"),
    ("published_on", "date", "Ngày công bố", "Date published"),
    ("revised_on", "date", "Ngày điều chỉnh gần nhất (trống nếu chưa điều chỉnh)", "Date of the last revision"),
    ("previous_value", "decimal", "Giá trị trước khi điều chỉnh", "Value before the revision"),
    ("under_review_since", "date", "Đang được rà soát từ ngày (báo cáo nguồn bị hủy duyệt)",
     "Under review since (a source report was un-approved)"),
)  # fmt: skip
COLUMNS = [f[0] for f in FIELDS]


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral_value() else format(value, "f")
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if hasattr(value, "isoformat") else value


def _record(f: PublishedFigure) -> dict[str, Any]:
    return {c: _cell(getattr(f, c)) for c in COLUMNS}


def _csv(rows: Any, filename: str) -> HttpResponse:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(COLUMNS)
    for f in rows:
        record = _record(f)
        writer.writerow([record[c] for c in COLUMNS])
    response = HttpResponse(out.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _json(payload: Any) -> HttpResponse:
    return HttpResponse(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        content_type="application/json; charset=utf-8",
    )


def _statistic(s: Any) -> dict[str, Any]:
    return {
        "code": s.key, "name": s.name, "name_en": s.name_en, "definition": s.definition,
        "definition_en": s.definition_en, "kind": s.kind, "factor": s.factor, "unit": s.unit,
        "source": s.source, "source_en": s.source_en,
    }  # fmt: skip


@require_GET
@public_cached()
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/data.html", {"stats": selectors.statistics(), "fields": FIELDS})


@require_GET
@public_cached()
def dictionary_json(request: HttpRequest) -> HttpResponse:
    return _json(
        {
            "fields": [
                {"name": n, "type": t, "description": vi, "description_en": en} for n, t, vi, en in FIELDS
            ],
            "statistics": [_statistic(s) for s in selectors.statistics()],
        }
    )


@require_GET
@public_cached()
def dictionary_csv(request: HttpRequest) -> HttpResponse:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["name", "type", "description", "description_en"])
    for row in FIELDS:
        writer.writerow(row)
    response = HttpResponse(out.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="data-dictionary.csv"'
    return response


@require_GET
@public_cached()
def all_csv(request: HttpRequest) -> HttpResponse:
    return _csv(selectors.all_rows(), "mchis-public-statistics.csv")


@require_GET
@public_cached()
def all_json(request: HttpRequest) -> HttpResponse:
    return _json(
        {
            "statistics": [_statistic(s) for s in selectors.statistics()],
            "figures": [_record(f) for f in selectors.all_rows()],
        }
    )


@require_GET
@public_cached()
def statistic_csv(request: HttpRequest, key: str) -> HttpResponse:
    if selectors.statistic(key) is None:
        return not_found(request)
    return _csv(selectors.all_rows(key), f"{key}.csv")


@require_GET
@public_cached()
def statistic_json(request: HttpRequest, key: str) -> HttpResponse:
    stat = selectors.statistic(key)
    if stat is None:
        return not_found(request)
    return _json({"statistic": _statistic(stat), "figures": [_record(f) for f in selectors.all_rows(key)]})


def adx_groups(rows: Any) -> list[AdxGroup]:
    """One group per (area, month): the unsuppressed monthly values (a suppressed value is left out, never 0)."""
    groups: dict[tuple[str, str], AdxGroup] = {}
    for f in rows:
        if "-" not in f.period or f.suppressed or f.value is None:
            continue
        key = (f.area_code, f.period)
        if key not in groups:
            groups[key] = AdxGroup(f.area_code, f"{f.period}-01/P1M", DATA_SET, [])
        groups[key].values.append(AdxValue(f.statistic.upper().replace("-", "_"), _cell(f.value)))
    return list(groups.values())


@require_GET
@public_cached()
def adx(request: HttpRequest) -> HttpResponse:
    exported: datetime = timezone.now()
    response = HttpResponse(
        adx_xml(adx_groups(selectors.all_rows()), exported), content_type="application/adx+xml"
    )
    response["Content-Disposition"] = 'attachment; filename="mchis-public-statistics.adx.xml"'
    return response
