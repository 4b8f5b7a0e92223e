"""Spreadsheet formula injection (R-SEC-06, OWASP CSV injection; issue 10 item 5): every Excel/CSV file the
system writes goes through `mchis.core.spreadsheets`, which neutralises text cells that would start a formula."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from openpyxl import load_workbook

from mchis.core import spreadsheets
from mchis.core.audit import log_event
from mchis.core.context import RequestMeta, reset_meta, set_meta

ROOT = Path(__file__).resolve().parents[3]
HOSTILE = ['=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"]
# Modules that write a CSV/xlsx nobody opens in a spreadsheet program, with the reason.
NOT_EXPORTS = {
    "mchis/quality/dedupe.py": "the duplicate scan's working file, read back by DuckDB on the server only",
    "mchis/demo/services.py": "synthetic truth labels of the demo generator, read back by the model fitter",
}
WRITER = re.compile(r"\bWorkbook\s*\(|csv\.(writer|DictWriter)\s*\(|from openpyxl import[^\n]*\bWorkbook\b")


def test_r_sec_06_every_spreadsheet_writer_goes_through_the_safe_helper() -> None:
    """Grep the source: no module but the helper builds an openpyxl Workbook or a csv writer itself."""
    offenders = []
    sources = sorted((ROOT / "mchis").rglob("*.py"))
    assert len(sources) > 100, "the source scan found no modules"
    for path in sources:
        rel = path.relative_to(ROOT).as_posix()
        if "/tests/" in rel or rel == "mchis/core/spreadsheets.py" or rel in NOT_EXPORTS:
            continue
        text = path.read_text(encoding="utf-8")
        for match in WRITER.finditer(text):
            if "CalamineWorkbook" in text[max(0, match.start() - 9) : match.end()]:
                continue  # the reader
            offenders.append(f"{rel}:{text[: match.start()].count(chr(10)) + 1}: {match.group(0)}")
    assert not offenders, "write spreadsheets with mchis.core.spreadsheets:\n" + "\n".join(offenders)


@pytest.mark.parametrize("value", HOSTILE)
def test_r_sec_06_formula_starting_text_is_neutralised(value: str) -> None:
    assert spreadsheets.neutralise(value) == "'" + value
    assert spreadsheets.neutralise("Nguyễn Văn A") == "Nguyễn Văn A"
    assert spreadsheets.neutralise(-3) == -3 and spreadsheets.neutralise(date(2025, 1, 1)) == date(2025, 1, 1)


@pytest.mark.parametrize("write_only", [False, True])
def test_r_sec_06_workbook_cells_come_out_as_text(write_only: bool) -> None:
    book = spreadsheets.workbook(write_only=write_only)
    sheet = book.create_sheet("S") if write_only else book.active
    sheet.append(["ok", *HOSTILE, 5])
    if not write_only:
        sheet.cell(row=2, column=1, value="=1+1")
    buffer = io.BytesIO()
    book.save(buffer)
    rows = list(load_workbook(buffer).worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("ok", *["'" + v for v in HOSTILE], 5)
    if not write_only:
        assert rows[1][0] == "'=1+1"


def test_r_sec_06_csv_cells_come_out_as_text() -> None:
    out = io.StringIO()
    spreadsheets.csv_writer(out).writerows([["a", "=cmd|' /C calc'!A0", 1]])
    assert out.getvalue().startswith("a,'=cmd")


@pytest.mark.django_db
def test_r_sec_06_audit_log_export_neutralises_user_agent_and_reason(tree, make_user) -> None:
    # given an audit row whose User-Agent and reason were typed by an attacker
    token = set_meta(RequestMeta(ip="10.0.0.1", user_agent='=HYPERLINK("http://evil","x")'))
    try:
        with transaction.atomic():
            log_event(actor=None, action="child.approve", object_type="child", object_id=1,
                      scope_path=tree.tyt_a1.path, reason="@SUM(1+1)")  # fmt: skip
    finally:
        reset_meta(token)
    from mchis.accounts.testing import step_up_session

    admin = make_user("unit_admin", tree.ttyt_a)
    client = Client()
    client.force_login(admin)
    step_up_session(client)
    # when the audit log is exported
    response = client.get("/audit/export.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    row = next(r for r in rows[1:] if r[header.index("Hành động")] == "child.approve")
    # then both come out as text
    assert row[header.index("Trình duyệt")].startswith("'=HYPERLINK")
    assert row[header.index("Lý do")] == "'@SUM(1+1)"


@pytest.mark.django_db
def test_r_sec_06_report_export_neutralises_the_unit_name(tree, make_user) -> None:
    from mchis.reports.services import forms_load, shipped_form_files
    from mchis.units.models import ReportingUnit

    forms_load(actor=None, paths=shipped_form_files())
    ReportingUnit.objects.filter(pk=tree.tyt_a1.pk).update(name="=cmd|' /C calc'!A0")
    client = Client()
    client.force_login(make_user("leader", tree.tyt_a1))
    response = client.get(f"/reports/BCX3/{tree.tyt_a1.code}/2026-01/xlsx")
    assert response.status_code == 200, response.status_code
    values = [
        v for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True) for v in r
    ]
    assert "'=cmd|' /C calc'!A0" in values and "=cmd|' /C calc'!A0" not in values
