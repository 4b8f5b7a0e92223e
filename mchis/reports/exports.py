"""Report outputs (R-AN-02, R-INT-02): Excel in the form's layout, PDF, DHIS2 dataValueSets JSON and ADX XML.

The DHIS2/ADX mapping is data: each cell carries ``data_element`` and ``category_option_combo`` codes from the
form file (``dhis2_data_element`` / ``dhis2_coc``, with defaults ``<FORM>_<row>`` and the column's code), and
org units are exported by unit code unless ``settings.REPORTS_ORGUNIT_CODES`` maps a unit code to another one.
Only approved reports are exported to the statistics software.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from mchis.core.adx import AdxGroup, AdxValue, adx_xml
from mchis.core.spreadsheets import workbook

from .models import ReportInstance
from .selectors import ReportView, UnitRow, unit_rows


def org_unit_code(unit: Any) -> str:
    mapping: dict[str, str] = getattr(settings, "REPORTS_ORGUNIT_CODES", {}) or {}
    return str(mapping.get(unit.code, unit.code))


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


TOTAL_LABEL = "Tổng số"
MISSING_NOTE = "chưa có báo cáo được duyệt"


def _signature(ws: Any, row: int, right_col: int) -> int:
    """Khối chữ ký of the official forms: date line, Người lập biểu (left), Thủ trưởng đơn vị (right)."""
    bold = Font(bold=True)
    italic = Font(italic=True)
    right_col = max(right_col, 4)
    ws.cell(row=row, column=right_col, value="…, ngày … tháng … năm …").font = italic
    ws.cell(row=row + 1, column=2, value="Người lập biểu").font = bold
    ws.cell(row=row + 1, column=right_col, value="Thủ trưởng đơn vị").font = bold
    ws.cell(row=row + 2, column=2, value="(Ký, ghi rõ họ tên)").font = italic
    ws.cell(row=row + 2, column=right_col, value="(Ký, ghi rõ họ tên, đóng dấu)").font = italic
    return row + 3


def excel_report(view: ReportView) -> bytes:
    """One sheet in the form's layout: district/provincial forms one row per unit (``excel_units``); the
    commune form: heading (unit, form, period, legal basis), then STT | Nội dung | one column per form column,
    then the signature block."""
    rows = unit_rows(view)
    if rows:
        return excel_units(view, rows)
    wb = workbook()
    ws = wb.active
    assert ws is not None
    ws.title = view.form.code[:31]
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    bold = Font(bold=True)
    grey = PatternFill("solid", fgColor="DDDDDD")
    cols = list(view.spec.columns)
    ws["A1"] = view.unit.name
    ws["A1"].font = bold
    ws["A2"] = view.spec.title
    ws["A2"].font = Font(bold=True, size=13)
    ws["A3"] = f"{view.period.label()} · {view.spec.legal_basis} · phiên bản {view.spec.version}"
    ws["A4"] = f"Trạng thái: {view.report.get_status_display()}" + (
        f" · mã kiểm tra {view.report.snapshot_checksum[:16]}" if view.report.snapshot_checksum else ""
    )
    header = ["STT", "Nội dung", *[c.label for c in cols]]
    for j, text in enumerate(header, start=1):
        cell = ws.cell(row=6, column=j, value=text)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = border
    r = 7
    for section in view.spec.sections:
        ws.cell(row=r, column=1, value=section.id).font = bold
        ws.cell(row=r, column=2, value=section.title).font = bold
        r += 1
        for row in section.rows:
            ws.cell(row=r, column=1, value=row.no).border = border
            label = ws.cell(row=r, column=2, value=row.label)
            label.border = border
            label.alignment = Alignment(wrap_text=True)
            for j, col in enumerate(cols, start=3):
                cell = ws.cell(row=r, column=j)
                cell.border = border
                if col.id in row.columns:
                    cell.value = view.values.get(f"{row.id}:{col.id}")
                else:
                    cell.fill = grey
            r += 1
    _signature(ws, r + 1, len(cols) + 1)
    ws.column_dimensions["A"].width = 8
    ws.column_dimensions["B"].width = 60
    for j in range(3, len(cols) + 3):
        ws.column_dimensions[get_column_letter(j)].width = 12
    ws.freeze_panes = "C7"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def excel_units(view: ReportView, rows: list[UnitRow]) -> bytes:
    """Official BCH/BCT layout: unit and title lines, period, header (STT | Tên đơn vị | form columns), a row of
    column numbers (1, 2, then the form's column ids, which are the official column numbers), one row per unit
    below in code order then the unit's own facilities, the total row (Tổng số = row ``T`` of the report, the
    sum of the rows above), then the signature block. A unit without an approved report has empty value cells
    (greyed) and "chưa có báo cáo được duyệt" after its name: missing, not zero."""
    wb = workbook()
    ws = wb.active
    assert ws is not None
    ws.title = view.form.code[:31]
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    bold = Font(bold=True)
    grey = PatternFill("solid", fgColor="DDDDDD")
    center = Alignment(wrap_text=True, vertical="center", horizontal="center")
    cols = list(view.spec.columns)
    ws["A1"] = f"Đơn vị báo cáo: {view.unit.name}"
    ws["A1"].font = bold
    ws["A2"] = view.spec.title
    ws["A2"].font = Font(bold=True, size=13)
    ws["A3"] = f"{view.period.label()} · {view.spec.legal_basis} · phiên bản {view.spec.version}"
    ws["A4"] = f"Trạng thái: {view.report.get_status_display()}" + (
        f" · mã kiểm tra {view.report.snapshot_checksum[:16]}" if view.report.snapshot_checksum else ""
    )
    header = ["STT", "Tên đơn vị", *[c.label for c in cols]]
    numbers = ["1", "2", *[c.id for c in cols]]
    for j, (text, no) in enumerate(zip(header, numbers, strict=True), start=1):
        for r, value in ((6, text), (7, no)):
            cell = ws.cell(row=r, column=j, value=value)
            cell.font = bold
            cell.alignment = center
            cell.border = border
    r = 8
    for i, unit_row in enumerate(rows, start=1):
        ws.cell(row=r, column=1, value=i).border = border
        label = unit_row.label + (f" — {MISSING_NOTE}" if unit_row.missing else "")
        name = ws.cell(row=r, column=2, value=label)
        name.border = border
        name.alignment = Alignment(wrap_text=True)
        for j, col in enumerate(cols, start=3):
            cell = ws.cell(row=r, column=j)
            cell.border = border
            if unit_row.values is None:
                cell.fill = grey
            else:
                cell.value = unit_row.values.get(col.id)
        r += 1
    total_row = view.spec.rows()[0]
    ws.cell(row=r, column=1).border = border
    total = ws.cell(row=r, column=2, value=TOTAL_LABEL)
    total.font = bold
    total.border = border
    for j, col in enumerate(cols, start=3):
        cell = ws.cell(row=r, column=j, value=view.values.get(f"{total_row.id}:{col.id}", 0))
        cell.font = bold
        cell.border = border
    _signature(ws, r + 2, len(cols) + 1)
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 40
    for j in range(3, len(cols) + 3):
        ws.column_dimensions[get_column_letter(j)].width = 11
    ws.freeze_panes = "C8"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def unit_grid(view: ReportView) -> dict[str, Any] | None:
    """Per-unit grid for the page and the PDF (None for forms without the per-unit layout)."""
    rows = unit_rows(view)
    if not rows:
        return None
    total_row = view.spec.rows()[0]
    cols = list(view.spec.columns)
    return {
        "numbers": ["1", "2", *[c.id for c in cols]],
        "rows": [
            {
                "no": i,
                "row": u,
                "cells": [
                    {"key": f"{u.id}:{c.id}", "value": None if u.values is None else u.values.get(c.id)}
                    for c in cols
                ],
            }
            for i, u in enumerate(rows, start=1)
        ],
        "total": {
            "label": TOTAL_LABEL,
            "cells": [
                {"key": f"{total_row.id}:{c.id}", "value": view.values.get(f"{total_row.id}:{c.id}", 0)}
                for c in cols
            ],
        },
    }


def pdf_report(view: ReportView, base_url: str = "") -> bytes:
    from weasyprint import HTML

    html = render_to_string(
        "reports/report_pdf.html", {"view": view, "grid": grid(view), "unit_grid": unit_grid(view)}
    )
    pdf: bytes = HTML(string=html, base_url=base_url or None).write_pdf()
    return pdf


def grid(view: ReportView) -> list[dict[str, Any]]:
    """Sections → rows → one entry per form column (None where the row has no such column), for templates."""
    out = []
    for section in view.spec.sections:
        rows = []
        for row in section.rows:
            cells: list[dict[str, Any] | None] = []
            for col in view.spec.columns:
                key = f"{row.id}:{col.id}"
                if col.id in row.columns:
                    c = view.spec.cell_map[key]
                    cells.append(
                        {"key": key, "value": view.values.get(key), "source": c.source, "column": col.id}
                    )
                else:
                    cells.append(None)
            rows.append({"row": row, "cells": cells})
        out.append({"section": section, "rows": rows})
    return out


def data_value_sets(reports: list[ReportInstance]) -> dict[str, Any]:
    """DHIS2 Web API ``dataValueSets`` payload: one entry per cell of every approved report."""
    values = []
    for rep in reports:
        spec = rep.form.parsed()
        period = (
            rep.period_start.strftime("%Y")
            if rep.period_type == "yearly"
            else rep.period_start.strftime("%Y%m")
        )
        snap = (rep.snapshot or {}).get("values", {})
        org = org_unit_code(rep.unit)
        for cell in spec.cells:
            values.append(  # noqa: PERF401
                {
                    "dataElement": cell.data_element,
                    "period": period,
                    "orgUnit": org,
                    "categoryOptionCombo": cell.category_option_combo,
                    "value": _fmt(snap.get(cell.key, 0)),
                }
            )
    return {"dataValues": values}


def adx_document(reports: list[ReportInstance], exported: datetime | None = None) -> bytes:
    """ADX (IHE QRPH, urn:ihe:qrph:adx:2015): one <group> per report, disaggregation as an attribute."""
    exported = exported or timezone.now()
    attr = getattr(settings, "REPORTS_ADX_DISAGGREGATION_ATTRIBUTE", "categoryOptionCombo")
    groups = []
    for rep in reports:
        spec = rep.form.parsed()
        suffix = "P1Y" if rep.period_type == "yearly" else "P1M"
        snap = (rep.snapshot or {}).get("values", {})
        values = [
            AdxValue(cell.data_element, _fmt(snap.get(cell.key, 0)), {attr: cell.category_option_combo})
            for cell in spec.cells
        ]
        groups.append(
            AdxGroup(
                org_unit_code(rep.unit),
                f"{rep.period_start.isoformat()}/{suffix}",
                spec.dataset,
                values,
                {"completeDate": (rep.approved_at or exported).date().isoformat()},
            )
        )
    return adx_xml(groups, exported)
