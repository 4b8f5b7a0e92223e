"""Analytics API (mounted at /api/v1/): the indicator list and the DHIS2-shaped analytics query.

``GET /api/v1/analytics?dx=ANC4;MMR&pe=LAST_12_MONTHS&ou=USER_ORGUNIT_CHILDREN`` answers like DHIS2's
``/api/analytics`` (``headers``, ``rows`` of strings, ``metaData.items`` / ``metaData.dimensions``,
``height``, ``width``) with the numerator / denominator / factor columns (DHIS2 ``includeNumDen=true``), so tools
that read DHIS2 analytics read ours. Scoped like everything else (R-MCH-07); a machine token needs the
``analytics.view`` scope.
"""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Schema
from pydantic import Field

from mchis.accounts.permissions import require
from mchis.core.http import ApiRequest

from . import selectors

router = Router(tags=["analytics"])


class IndicatorOut(Schema):
    id: str = Field(examples=["ANC4"])
    name: str = Field(examples=["Tỷ lệ phụ nữ đẻ được khám thai ≥ 4 lần trong 3 thời kỳ"])
    name_en: str
    definition: str
    definition_en: str
    numerator: str = Field(examples=["AN.DLV_ANC4:{col}"], description="Phần tử dữ liệu nối bằng + / -")
    denominator: str = Field(examples=["AN.DLV:{col}"], description="'' = không có mẫu số (số đếm)")
    factor: int = Field(examples=[100], description="100 (%), 1000, 100000 …")
    factor_label: str = Field(examples=["%"])
    period_type: str = Field(examples=["monthly"])
    group: str = Field(examples=["maternal"])
    who_reference: str = Field(examples=["WHO SMART ANC.IND.04"])
    who_difference: str
    disaggregations: list[str] = Field(examples=[["a10_14", "a15_19", "a20p"]])


@router.get(
    "/indicators", response=list[IndicatorOut], summary="Danh sách chỉ số (định nghĩa, tử số, mẫu số)"
)
def indicators(request: ApiRequest) -> list[IndicatorOut]:
    require(request.auth, "analytics.view")
    return [
        IndicatorOut(
            id=i.id,
            name=i.name,
            name_en=i.name_en,
            definition=i.definition,
            definition_en=i.definition_en,
            numerator=i.numerator,
            denominator=i.denominator,
            factor=i.factor,
            factor_label=i.factor_label,
            period_type=i.period_type,
            group=i.group,
            who_reference=i.who_reference,
            who_difference=i.who_difference,
            disaggregations=list(i.disaggregations),
        )
        for i in selectors.indicator_list()
    ]


class AnalyticsParams(Schema):
    dx: str = Field(
        examples=["ANC4;MMR"],
        description="Chỉ số (ANC4), chỉ số theo nhóm tuổi (ANC4.a15_19) hoặc phần tử dữ liệu (AN.DLV:total, "
        "BCX3.I.5:total), nối bằng ';'",
        max_length=2000,
    )
    pe: str = Field(
        examples=["LAST_12_MONTHS"],
        description="Kỳ: LAST_12_MONTHS, THIS_YEAR, LAST_YEAR, THIS_MONTH, LAST_MONTH, LAST_3_MONTHS, … hoặc "
        "202601, 2026Q1, 2026; nối bằng ';'. Kỳ ở tương lai bị từ chối.",
        max_length=2000,
    )
    ou: str = Field(
        "USER_ORGUNIT",
        examples=["USER_ORGUNIT_CHILDREN"],
        description="Đơn vị: mã đơn vị, USER_ORGUNIT, USER_ORGUNIT_CHILDREN, USER_ORGUNIT_GRANDCHILDREN, LEVEL-n, "
        "OU_GROUP-<loại> (OU_GROUP-doh); nối bằng ';'",
        max_length=2000,
    )
    approved: bool = Field(
        True, description="true (mặc định) = chỉ số liệu đã duyệt; false = tạm tính (gồm số liệu chưa duyệt)"
    )


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


HEADERS = [
    ("dx", "Data", "TEXT", "java.lang.String", True),
    ("pe", "Period", "TEXT", "java.lang.String", True),
    ("ou", "Organisation unit", "TEXT", "java.lang.String", True),
    ("value", "Value", "NUMBER", "java.lang.Double", False),
    ("numerator", "Numerator", "NUMBER", "java.lang.Double", False),
    ("denominator", "Denominator", "NUMBER", "java.lang.Double", False),
    ("factor", "Factor", "NUMBER", "java.lang.Double", False),
]


def dhis2_shape(result: selectors.Result) -> dict[str, Any]:
    items: dict[str, Any] = {}
    for d in result.dx:
        entry: dict[str, Any] = {"name": d.label}
        if d.indicator is not None:
            entry["definition"] = d.indicator.definition
            entry["factor_label"] = d.indicator.factor_label
        items[d.id] = entry
    for p in result.pe:
        items[p.id] = {"name": p.label}
    for u in result.ou:
        items[u.code] = {"name": u.name, "code": u.code}
    source = "approved" if result.approved else "provisional"
    items[source] = {
        "name": "Số liệu đã duyệt" if result.approved else "Số liệu tạm tính (gồm số liệu chưa duyệt)"
    }
    rows = [
        [r.dx, r.pe, r.ou, _fmt(r.value), _fmt(r.numerator), _fmt(r.denominator), _fmt(r.factor)]
        for r in result.rows
    ]
    return {
        "headers": [
            {"name": n, "column": c, "valueType": vt, "type": t, "hidden": False, "meta": meta}
            for n, c, vt, t, meta in HEADERS
        ],
        "metaData": {
            "items": items,
            "dimensions": {
                "dx": [d.id for d in result.dx],
                "pe": [p.id for p in result.pe],
                "ou": [u.code for u in result.ou],
            },
            "dataSource": source,
            "undefinedValue": "không xác định (mẫu số bằng 0 hoặc chưa có số liệu đã duyệt): value rỗng",
        },
        "rows": rows,
        "height": len(rows),
        "width": len(HEADERS),
        "headerWidth": len(HEADERS),
    }


@router.get("/analytics", summary="Giá trị chỉ số theo chỉ số × kỳ × đơn vị (dạng DHIS2 analytics)")
def analytics(request: ApiRequest, params: Query[AnalyticsParams]) -> dict[str, Any]:
    result = selectors.analytics(
        request.auth, dx=params.dx, pe=params.pe, ou=params.ou, approved=params.approved
    )
    return dhis2_shape(result)
