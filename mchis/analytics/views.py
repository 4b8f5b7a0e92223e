"""Analytics pages (R-AN-01): the pivot table / data visualizer, the map, dashboards. Thin: parse the
selection from the URL (the URL holds the whole selection, so every view is bookmarkable), call selectors /
services, render. Charts are drawn by ``static/analytics/analytics.js`` from JSON in the page (CSP: no inline
script)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from mchis.accounts.permissions import can, require
from mchis.core.errors import DomainError
from mchis.core.http import AuthedRequest, content_disposition
from mchis.core.spreadsheets import csv_writer, workbook

from . import dashboards, maps, pivot, selectors, services
from .definitions import Indicator
from .models import FavoriteKind

KINDS = [k for k in FavoriteKind.values if k != "map"]
GROUP_LABELS = {
    "maternal": "Sức khỏe bà mẹ",
    "newborn": "Sơ sinh",
    "child": "Trẻ em và dinh dưỡng",
    "mortality": "Tử vong",
    "rh": "Sức khỏe sinh sản",
    "reporting": "Báo cáo",
    "quality": "Chất lượng dữ liệu",
}
UNIT_KEYWORDS = [
    ("USER_ORGUNIT", "Đơn vị của tôi"),
    ("USER_ORGUNIT_CHILDREN", "Các đơn vị trực thuộc"),
    ("USER_ORGUNIT_GRANDCHILDREN", "Các đơn vị dưới hai cấp"),
    ("OU_GROUP-doh", "Mọi Sở Y tế (theo tỉnh)"),
    ("OU_GROUP-ttyt", "Mọi Trung tâm Y tế khu vực"),
    ("OU_GROUP-tyt", "Mọi trạm y tế xã"),
]


@dataclass
class Selection:
    dx: str
    pe: str
    ou: str
    rows: str = "ou"
    cols: str = "pe"
    kind: str = "table"
    approved: bool = True
    sort: str = ""
    totals: bool = True

    @property
    def query(self) -> str:
        return urlencode(
            {
                "dx": self.dx,
                "pe": self.pe,
                "ou": self.ou,
                "rows": self.rows,
                "cols": self.cols,
                "type": self.kind,
                "approved": "1" if self.approved else "0",
                "sort": self.sort,
                "totals": "1" if self.totals else "0",
            }
        )

    @property
    def chosen(self) -> dict[str, set[str]]:
        return {k: set(filter(None, getattr(self, k).split(";"))) for k in ("dx", "pe", "ou")}


def _joined(request: AuthedRequest, key: str, default: str = "") -> str:
    values = [v for part in request.GET.getlist(key) for v in part.split(";") if v.strip()]
    return ";".join(dict.fromkeys(v.strip() for v in values)) or default


def selection_of(request: AuthedRequest) -> Selection:
    g = request.GET
    kind = g.get("type", "table")
    return Selection(
        dx=_joined(request, "dx"),
        pe=_joined(request, "pe", "LAST_12_MONTHS"),
        ou=_joined(request, "ou", "USER_ORGUNIT_CHILDREN"),
        rows=g.get("rows", "ou") if g.get("rows") in pivot.DIMENSIONS else "ou",
        cols=g.get("cols", "pe") if g.get("cols") in pivot.DIMENSIONS else "pe",
        kind=kind if kind in KINDS else "table",
        approved=g.get("approved", "1") != "0",
        sort=g.get("sort", "") if g.get("sort") in ("asc", "desc") else "",
        totals=g.get("totals", "1") != "0",
    )


def period_options(today: date | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    this = (today or timezone.localdate()).replace(day=1)
    months = [selectors.month_item(selectors.add_months(this, -i)) for i in range(24)]
    quarters = selectors.parse_periods("THIS_QUARTER;LAST_4_QUARTERS", today=this)
    years = [selectors.year_item(this.year - i) for i in range(6)]
    return [
        ("Kỳ tương đối", [(k, selectors.RELATIVE_LABELS[k]) for k in selectors.RELATIVE]),
        ("Tháng", [(p.id, p.label) for p in months]),
        ("Quý", [(p.id, p.label) for p in quarters]),
        ("Năm", [(p.id, p.label) for p in years]),
    ]


def dx_options() -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for ind in selectors.indicator_list():
        groups.setdefault(GROUP_LABELS.get(ind.group, ind.group), []).append((ind.id, ind.name))
    ages = [
        (f"{i.id}.{a}", f"{i.name} ({selectors.AGE_LABELS[a]})")
        for i in selectors.indicator_list()
        for a in i.disaggregations
    ]
    out = [(label, items) for label, items in groups.items()]
    out.append(("Chỉ số theo nhóm tuổi (nhóm tuổi của WHO)", ages))
    by_group: dict[str, list[tuple[str, str]]] = {}
    for e in selectors.element_list():
        by_group.setdefault(e.group, []).append((e.id, e.name))
    for group, items in by_group.items():
        title = {
            "AN": "Phần tử dữ liệu phân tích (từ sổ)",
            "POP": "Dân số (mẫu số, bảng dân số năm)",
            "CXCOV": "Sàng lọc ung thư cổ tử cung trong 5 năm (số người)",
        }.get(group, f"Ô báo cáo biểu {group}")
        out.append((title, items))
    return out


def unit_options(request: AuthedRequest) -> list[tuple[str, list[tuple[str, str]]]]:
    roots = selectors.roots_of(request.user)
    units = selectors.units_for_picker(request.user, roots)
    return [("Theo vị trí", UNIT_KEYWORDS), ("Đơn vị", [(u.code, u.name) for u in units])]


def definitions_of(result: selectors.Result | None) -> list[Indicator]:
    if result is None:
        return []
    seen: dict[str, Indicator] = {}
    for d in result.dx:
        if d.indicator is not None:
            seen.setdefault(d.indicator.id, d.indicator)
    return list(seen.values())


def _compute(
    request: AuthedRequest, sel: Selection
) -> tuple[selectors.Result | None, pivot.Grid | None, str]:
    if not sel.dx:
        return None, None, ""
    try:
        result = selectors.analytics(request.user, dx=sel.dx, pe=sel.pe, ou=sel.ou, approved=sel.approved)
        grid = pivot.arrange(result, rows=sel.rows, cols=sel.cols, sort=sel.sort, totals=sel.totals)
    except DomainError as exc:
        return None, None, exc.message
    return result, grid, ""


@login_required
def pivot_page(request: AuthedRequest) -> HttpResponse:
    """Bảng tổng hợp và biểu đồ: chọn chỉ số, kỳ, đơn vị; đặt mỗi chiều vào hàng, cột hoặc bộ lọc."""
    require(request.user, "analytics.view")
    sel = selection_of(request)
    result, grid, error = _compute(request, sel)
    fmt = request.GET.get("format", "")
    if grid is not None and fmt in ("csv", "xlsx"):
        return _download(grid, fmt, sel)
    chart = (
        pivot.chart_data(grid, sel.kind) if grid is not None and sel.kind not in ("table", "single") else None
    )
    return render(
        request,
        "analytics/pivot.html",
        {
            "sel": sel,
            "chosen": sel.chosen,
            "result": result,
            "grid": grid,
            "error": error,
            "chart": chart,
            "kinds": [(k, FavoriteKind(k).label) for k in KINDS],
            "dimensions": [(d, pivot.DIMENSION_LABELS[d]) for d in pivot.DIMENSIONS],
            "dx_options": dx_options(),
            "pe_options": period_options(),
            "ou_options": unit_options(request),
            "definitions": definitions_of(result),
            "favorites": selectors.favorites_for(request.user),
            "can_share": can(request.user, "analytics.favorite_share"),
            "query": sel.query,
        },
    )


def _download(grid: pivot.Grid, fmt: str, sel: Selection) -> HttpResponse:
    table = pivot.table_rows(grid)
    source = "Số liệu đã duyệt" if sel.approved else "Số liệu tạm tính (gồm số liệu chưa duyệt)"
    name = f"phan-tich-{timezone.localdate():%Y%m%d}"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv_writer(out)
        writer.writerow([source])
        for line in table:
            writer.writerow(line)
        resp = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
        resp["Content-Disposition"] = content_disposition(f"{name}.csv")
        return resp
    wb = workbook()
    ws = wb.active
    ws.title = "Phân tích"
    ws.append([source])
    for line in table:
        ws.append(line)
    buf = io.BytesIO()
    wb.save(buf)
    resp = HttpResponse(
        buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    resp["Content-Disposition"] = content_disposition(f"{name}.xlsx")
    return resp


@login_required
@require_POST
def favorite_save(request: AuthedRequest) -> HttpResponse:
    require(request.user, "analytics.view")
    p = request.POST
    target = p.get("next_page", "pivot")
    try:
        fav = services.favorite_save(
            actor=request.user,
            name=p.get("name", ""),
            kind=p.get("kind", "table"),
            query=p.get("query", ""),
            shared=p.get("shared") == "1",
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        base = reverse("analytics:map" if target == "map" else "analytics:pivot")
        return redirect(f"{base}?{p.get('query', '')}")
    messages.success(request, f"Đã lưu mục ưa thích «{fav.name}».")
    base = reverse("analytics:map" if fav.kind == "map" else "analytics:pivot")
    return redirect(f"{base}?{fav.query}")


@login_required
@require_POST
def favorite_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    services.favorite_delete(actor=request.user, favorite_id=pk)  # 404 outside, 403 not the owner
    messages.success(request, "Đã xóa mục ưa thích.")
    return redirect("analytics:pivot")


@login_required
def map_page(request: AuthedRequest) -> HttpResponse:
    """Bản đồ chỉ số theo tỉnh (34 tỉnh, thành phố 2025, có Hoàng Sa và Trường Sa); bấm vào tỉnh để xem các
    đơn vị cấp dưới (không có ranh giới huyện/xã: xếp hạng dạng biểu đồ thanh)."""
    require(request.user, "analytics.view")
    ctx = maps.map_context(request.user, request.GET)
    ctx["dx_options"] = dx_options()[: len(GROUP_LABELS) + 1]
    ctx["can_share"] = can(request.user, "analytics.favorite_share")
    ctx["definitions"] = [ctx["indicator"]] if ctx.get("indicator") else []
    return render(request, "analytics/map.html", ctx)


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    """Bảng điều khiển của đơn vị (mặc định theo nhóm người dùng): các mục ưa thích đã lưu."""
    require(request.user, "analytics.view")
    board = dashboards.board_for(request.user)
    return render(
        request,
        "analytics/dashboard.html",
        {"board": board, "can_edit": can(request.user, "analytics.dashboard_edit")},
    )


@login_required
def dashboard_edit(request: AuthedRequest) -> HttpResponse:
    require(request.user, "analytics.dashboard_edit")
    favorites = selectors.favorites_for(request.user)
    board = dashboards.board_for(request.user)
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("items") if v.isdigit()]
        try:
            services.dashboard_save(actor=request.user, name=request.POST.get("name", ""), favorite_ids=ids)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Đã lưu bảng điều khiển của đơn vị.")
            return redirect("analytics:dashboard")
    on_board = {i.favorite_id for i in board.items if i.favorite_id}
    return render(
        request,
        "analytics/dashboard_edit.html",
        {"board": board, "favorites": favorites, "on_board": on_board},
    )
