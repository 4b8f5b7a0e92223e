"""Dashboards per user group (R-AN-01): commune station, district, province, Ministry analyst, auditor.

A unit's dashboard (``Dashboard`` + its favourites, edited by those who may, shared by the unit's users)
replaces the group's default, which is defined here as data: a title, a display kind and the selection.
Every item is computed like the pivot page and says whether it shows approved or provisional values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from django.urls import reverse

from mchis.core.errors import DomainError
from mchis.core.principal import Principal

from . import maps, pivot, selectors
from .models import Dashboard

GROUP_LABELS = {
    "commune": "Trạm y tế xã",
    "district": "Tuyến huyện / khu vực",
    "province": "Tuyến tỉnh",
    "ministry": "Bộ Y tế (toàn quốc)",
    "auditor": "Phúc tra",
}
KIND_GROUPS = {
    "tyt": "commune",
    "private_clinic": "commune",
    "ubnd_xa": "commune",
    "ttyt": "district",
    "district_hospital": "district",
    "doh": "province",
    "cdc": "province",
    "prov_hospital": "province",
    "child_protection": "province",
    "ministry": "ministry",
    "ministry_dept": "ministry",
}


def q(**kw: str) -> str:
    return urlencode(kw)


DEFAULTS: dict[str, list[tuple[str, str, str]]] = {
    "commune": [
        (
            "Tháng này: khám thai ≥ 4 lần",
            "single",
            q(dx="ANC4", pe="THIS_MONTH", ou="USER_ORGUNIT", approved="0"),
        ),
        (
            "Tháng này: phụ nữ đẻ",
            "single",
            q(dx="AN.DLV:total", pe="THIS_MONTH", ou="USER_ORGUNIT", approved="0"),
        ),
        (
            "Phụ nữ đẻ và trẻ đẻ sống, 12 tháng qua",
            "column",
            q(
                dx="AN.DLV:total;AN.LIVE:total",
                pe="LAST_12_MONTHS",
                ou="USER_ORGUNIT",
                rows="pe",
                cols="dx",
                approved="0",
            ),
        ),
        (
            "Chăm sóc thai sản, 12 tháng qua",
            "line",
            q(
                dx="ANC4;HIV_TEST;SBA",
                pe="LAST_12_MONTHS",
                ou="USER_ORGUNIT",
                rows="pe",
                cols="dx",
                approved="0",
            ),
        ),
    ],
    "district": [
        (
            "Khám thai ≥ 4 lần theo trạm, 3 tháng qua",
            "column",
            q(dx="ANC4", pe="LAST_3_MONTHS", ou="USER_ORGUNIT_CHILDREN", rows="ou", cols="dx", sort="desc"),
        ),
        (
            "Tính đầy đủ, kịp thời của báo cáo tháng trước",
            "table",
            q(
                dx="COMPLETENESS;TIMELINESS",
                pe="LAST_MONTH",
                ou="USER_ORGUNIT_CHILDREN",
                rows="ou",
                cols="dx",
            ),
        ),
        (
            "Phụ nữ đẻ, 12 tháng qua (tạm tính)",
            "line",
            q(dx="AN.DLV:total", pe="LAST_12_MONTHS", ou="USER_ORGUNIT", rows="pe", cols="dx", approved="0"),
        ),
    ],
    "province": [
        ("Tỷ lệ đẻ tại cơ sở y tế, năm nay", "single", q(dx="FAC_DLV", pe="THIS_YEAR", ou="USER_ORGUNIT")),
        (
            "Khám thai ≥ 4 lần theo khu vực, quý trước",
            "column",
            q(dx="ANC4", pe="LAST_QUARTER", ou="OU_GROUP-ttyt", rows="ou", cols="dx", sort="desc"),
        ),
        (
            "Tính đầy đủ, kịp thời, tháng trước",
            "table",
            q(
                dx="COMPLETENESS;TIMELINESS",
                pe="LAST_MONTH",
                ou="USER_ORGUNIT_GRANDCHILDREN",
                rows="ou",
                cols="dx",
            ),
        ),
    ],
    "ministry": [
        ("Khám thai ≥ 4 lần theo tỉnh, tháng trước", "map", q(dx="ANC4", pe="LAST_MONTH")),
        ("Tỷ số tử vong mẹ toàn quốc, năm nay", "single", q(dx="MMR", pe="THIS_YEAR", ou="USER_ORGUNIT")),
        (
            "Tử vong sơ sinh, trẻ dưới 1 tuổi, dưới 5 tuổi",
            "line",
            q(dx="NMR;IMR;U5MR", pe="LAST_4_QUARTERS", ou="USER_ORGUNIT", rows="pe", cols="dx"),
        ),
        (
            "Tính đầy đủ theo tỉnh, tháng trước",
            "table",
            q(
                dx="COMPLETENESS;TIMELINESS",
                pe="LAST_MONTH",
                ou="OU_GROUP-doh",
                rows="ou",
                cols="dx",
                sort="asc",
            ),
        ),
    ],
    "auditor": [
        (
            "Điểm chất lượng dữ liệu theo đơn vị, tháng này",
            "table",
            q(
                dx="DQ_DUNG;DQ_DU;DQ_SACH;DQ_SONG;DQ_THONG_NHAT;DQ_DUNG_CHUNG",
                pe="THIS_MONTH",
                ou="USER_ORGUNIT_CHILDREN",
                rows="ou",
                cols="dx",
            ),
        ),
        (
            "Tính đầy đủ, kịp thời, 6 tháng qua",
            "line",
            q(dx="COMPLETENESS;TIMELINESS", pe="LAST_6_MONTHS", ou="USER_ORGUNIT", rows="pe", cols="dx"),
        ),
    ],
}


def group_of(principal: Principal) -> str:
    if getattr(principal, "role", None) == "auditor":
        return "auditor"
    unit = principal.unit
    if unit is None:
        return "ministry"
    return KIND_GROUPS.get(unit.kind, "commune")


@dataclass
class Item:
    title: str
    kind: str
    query: str
    favorite_id: int | None = None
    approved: bool = True
    error: str = ""
    grid: pivot.Grid | None = None
    chart: dict[str, Any] | None = None
    single: float | None = None
    map: dict[str, Any] | None = None
    url: str = ""


@dataclass
class Board:
    name: str
    group: str
    is_default: bool
    items: list[Item] = field(default_factory=list)

    @property
    def group_label(self) -> str:
        return GROUP_LABELS[self.group]


def render_item(principal: Principal, item: Item) -> Item:
    params = {k: v[-1] for k, v in parse_qs(item.query).items()}
    item.approved = params.get("approved", "1") != "0"
    if item.kind == "map":
        ctx = maps.map_context(principal, params)
        item.error = ctx["error"]
        item.map = ctx.get("map_data")
        item.url = reverse("analytics:map") + "?" + item.query
        return item
    item.url = reverse("analytics:pivot") + "?" + item.query
    try:
        result = selectors.analytics(
            principal,
            dx=params.get("dx", ""),
            pe=params.get("pe", ""),
            ou=params.get("ou", ""),
            approved=item.approved,
        )
        grid = pivot.arrange(
            result,
            rows=params.get("rows", "ou"),
            cols=params.get("cols", "pe"),
            sort=params.get("sort", ""),
            totals=item.kind == "table" and params.get("totals", "1") != "0",
        )
    except DomainError as exc:
        item.error = exc.message
        return item
    item.grid = grid
    if item.kind == "single":
        item.single = grid.cells[0][0].value if grid.cells and grid.cells[0] else None
    elif item.kind != "table":
        item.chart = pivot.chart_data(grid, item.kind)
    return item


def board_for(principal: Principal) -> Board:
    """The principal's unit dashboard if it has one, else its group's default."""
    group = group_of(principal)
    unit = principal.unit
    saved = Dashboard.objects.filter(unit=unit).first() if unit is not None else None
    if saved is not None:
        board = Board(saved.name, group, False)
        for it in saved.items.select_related("favorite").order_by("position", "id"):
            board.items.append(Item(it.favorite.name, it.favorite.kind, it.favorite.query, it.favorite_id))
    else:
        board = Board(f"Bảng điều khiển mặc định — {GROUP_LABELS[group]}", group, True)
        board.items = [Item(title, kind, query) for title, kind, query in DEFAULTS[group]]
    board.items = [render_item(principal, i) for i in board.items]
    return board
