"""R-MCH-03 / R-MCH-05: manual cells (ô nhập tay) start empty, accept non-negative integers only, are named by
their row label and column name, keep their values, block submission while required and empty; the form's
rules run on them (on the page as values change, and again at submission)."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.test import Client

from mchis.core.errors import ValidationFailed
from mchis.core.models import AuditEvent
from mchis.reports import selectors
from mchis.reports import services as s
from mchis.reports.compute import complete
from mchis.reports.definitions import parse_form
from mchis.reports.models import ReportInstance, ReportStatus

from .registerdata import submit

P = "2026-01"


def kw(tree):
    return {"form_code": "BCX3", "unit_code": tree.tyt_a1.code, "period": P}


def login(user):
    c = Client()
    c.force_login(user)
    return c


def test_r_mch_03_manual_cell_starts_empty_not_zero(forms, people, tree):
    # given a commune report nobody has typed into
    view = selectors.report_view(people.tyt_reporter, "BCX3", tree.tyt_a1.code, P)
    # then the manual cells have no value at all (not 0), in the view and through the API
    assert "I.1:total" not in view.values and "I.1.1:total" not in view.values
    got = login(people.tyt_reporter).get(f"/api/v1/reports/BCX3/{tree.tyt_a1.code}/{P}").json()
    cell = next(c for c in got["cells"] if c["row"] == "I.1")
    assert cell == {"row": "I.1", "column": "total", "value": None, "source": "manual"}


def test_r_mch_03_optional_empty_manual_cell_and_its_formula_stay_empty():
    # given a form with an optional manual cell and a formula over it
    spec = parse_form(
        {
            "format": "mchis.report-form/1",
            "code": "X1",
            "version": "v1",
            "title": "X",
            "legal_basis": "test",
            "valid_from": "2020-01-01",
            "level": "commune",
            "period_type": "monthly",
            "unit_kinds": ["tyt"],
            "columns": [{"id": "total", "label": "Tổng số"}],
            "sections": [
                {
                    "id": "S",
                    "title": "S",
                    "rows": [
                        {"id": "A", "label": "Nhập tay", "manual": True, "required": False},
                        {"id": "B", "label": "Từ sổ", "query": {"register": "delivery"}},
                        {"id": "C", "label": "Cộng", "formula": "A:{column} + B:{column}"},
                    ],
                }
            ],
        }
    )
    assert not spec.cell("A:total").required
    # when it is completed with nothing typed
    values = complete(spec, {"B:total": 4})
    # then the empty manual cell and the formula needing it are absent, the register count is kept
    assert values == {"B:total": 4}
    assert complete(spec, {"A:total": 0, "B:total": 4}) == {"A:total": 0, "B:total": 4, "C:total": 4}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (-1, "không được âm"),
        ("-1", "không được âm"),
        (2.5, "không phải là số nguyên"),
        ("2,5", "không phải là số nguyên"),
        ("năm", "không phải là số nguyên không âm"),
        (True, "không phải là số nguyên"),
    ],
)
def test_r_mch_05_manual_cell_accepts_non_negative_integers_only(forms, people, tree, raw, message):
    # when a manual cell gets a negative, decimal or text value next to a valid one
    with pytest.raises(ValidationFailed, match="không có ô nào được lưu") as exc:
        s.report_set_manual_values(
            actor=people.tyt_reporter, values={"I.1:total": 7, "I.1.1:total": raw}, **kw(tree)
        )
    # then the error names the cell by its row label and column name, and nothing was written
    (err,) = exc.value.errors
    assert err["field"] == "I.1.1:total"
    assert message in str(err["message"]) and "Trđ: vị thành niên — Tổng số" in str(err["message"])
    assert not ReportInstance.objects.filter(manual_values__has_key="I.1:total").exists()
    assert not AuditEvent.objects.filter(action="report.edit").exists()


def test_r_mch_05_required_manual_cell_empty_blocks_submission(forms, people, tree):
    # given only the total of pregnant women typed
    s.report_set_manual_values(actor=people.tyt_reporter, values={"I.1:total": 4}, **kw(tree))
    # when the unit submits
    with pytest.raises(ValidationFailed, match="chưa hợp lệ") as exc:
        s.report_submit(actor=people.tyt_reporter, **kw(tree))
    # then the empty adolescent cell blocks it, named by its label
    assert [(e["field"], e["rule"]) for e in exc.value.errors] == [("I.1.1:total", "required")]
    assert "Trđ: vị thành niên — Tổng số" in str(exc.value.errors[0]["message"])
    assert ReportInstance.objects.get().status == ReportStatus.DRAFT


def test_r_mch_05_snapshot_holds_typed_values_only(forms, people, tree):
    # given typed zeros (a real answer) in both manual cells
    r = submit(actor=people.tyt_reporter, **kw(tree))
    # then the snapshot carries exactly what was typed, and the cell count matches the form
    assert r.snapshot["values"]["I.1:total"] == 0 and r.manual_values == {"I.1:total": 0, "I.1.1:total": 0}
    spec = r.form.parsed()
    assert set(r.snapshot["values"]) == {c.key for c in spec.cells}


def test_r_mch_05_adolescents_above_total_typed_on_the_page_blocks_submission(forms, people, tree):
    """Issue 13.4: "adolescents 5 > total 1" was saved and submitted without a word. The rule itself fired on
    stored values; what reached the submission was not what the person saw: the manual inputs came back
    empty after saving, so saving again (or typing only one cell) erased the stored values, an erased cell
    counted as 0 (0 ≤ 0 passes), and the submit button was a separate form that dropped typed values. Now the
    inputs keep their values, the submit button sends the values on screen, and an empty cell blocks."""
    c = login(people.tyt_reporter)
    base = f"/reports/BCX3/{tree.tyt_a1.code}/{P}"
    # when the officer types total 1, adolescents 5 and presses "Gửi báo cáo" straight away
    page = c.post(
        f"{base}/act/submit/", {"cell:I.1:total": "1", "cell:I.1.1:total": "5"}, follow=True
    ).content.decode()
    # then the values were saved, the report was not sent, and the page says why
    report = ReportInstance.objects.get()
    assert report.manual_values == {"I.1:total": 1, "I.1.1:total": 5}
    assert report.status == ReportStatus.DRAFT
    assert "Hàng I.1.1 (trong đó) không được lớn hơn hàng I.1." in html.unescape(page)
    # and the inputs show what was typed, labelled by row and column
    assert re.search(r'name="cell:I.1:total"[^>]*value="1"', page)
    assert re.search(r'name="cell:I.1.1:total"[^>]*value="5"', page)
    assert "Tổng số phụ nữ có thai — Tổng số" in page
    # when the cells are cleared (the old erasing save) and submitted
    c.post(f"{base}/act/submit/", {"cell:I.1:total": "", "cell:I.1.1:total": ""})
    # then submission is still blocked: empty is not 0
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT and report.manual_values == {}
    # when corrected on screen and submitted, it goes
    c.post(f"{base}/act/submit/", {"cell:I.1:total": "6", "cell:I.1.1:total": "5"})
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert report.snapshot is not None and report.snapshot["values"]["I.1.1:total"] == 5


def test_r_mch_05_page_carries_the_rules_for_live_checks(forms, people, tree):
    # given the report page of the unit that fills it in
    page = login(people.tyt_reporter).get(f"/reports/BCX3/{tree.tyt_a1.code}/{P}/").content.decode()
    # then the manual-cells form carries the form's rules, formulas and current values as JSON (CSP: no
    # inline script) and the checks island is loaded
    raw = re.search(r'id="manual-form"[^>]*data-checks="([^"]*)"', page)
    assert raw is not None and "reports/checks.js" in page
    data = json.loads(html.unescape(raw.group(1)))
    rule = next(r for r in data["rules"] if r["id"] == "sub-I.1.1-total")
    assert (
        rule["left"] == [[1, "I.1.1:total", 0]]
        and rule["op"] == "<="
        and rule["right"] == [[1, "I.1:total", 0]]
    )
    assert data["manual"] == ["I.1:total", "I.1.1:total"] and "I.1:total" not in data["values"]
    # and the empty required cells are listed before anything is sent
    assert "Chưa nhập ô bắt buộc" in page


def test_r_mch_05_outliers_are_shown_to_the_sender_before_sending(forms, people, tree):
    # given three earlier months with 10 pregnant women each, frozen
    for month in ("2025-10", "2025-11", "2025-12"):
        args = {"form_code": "BCX3", "unit_code": tree.tyt_a1.code, "period": month}
        s.report_set_manual_values(
            actor=people.tyt_reporter, values={"I.1:total": 10, "I.1.1:total": 1}, **args
        )
        s.report_submit(actor=people.tyt_reporter, **args)
    # when the sender types 90 this month
    s.report_set_manual_values(
        actor=people.tyt_reporter, values={"I.1:total": 90, "I.1.1:total": 1}, **kw(tree)
    )
    page = login(people.tyt_reporter).get(f"/reports/BCX3/{tree.tyt_a1.code}/{P}/").content.decode()
    # then the page flags that cell by its label, to the sender, before sending
    section = page[page.index('data-testid="outliers"') :]
    assert "Tổng số phụ nữ có thai — Tổng số" in section and "Kiểm tra lại các ô này trước khi gửi" in section
    # and the approver sees it too once sent
    s.report_submit(actor=people.tyt_reporter, warning_comment="", **kw(tree))
    page = login(people.ttyt_leader).get(f"/reports/BCX3/{tree.tyt_a1.code}/{P}/").content.decode()
    assert 'data-cell="I.1:total"' in page[page.index('data-testid="outliers"') :]


def test_r_mch_05_api_manual_values_precise_errors_nothing_written(forms, people, tree):
    c = login(people.tyt_reporter)
    url = f"/api/v1/reports/BCX3/{tree.tyt_a1.code}/{P}"
    for bad in (-1, 2.5, "năm"):
        r = c.put(url, {"values": {"I.1:total": 3, "I.1.1:total": bad}}, content_type="application/json")
        assert r.status_code == 422, (bad, r.content)
        assert r.json()["errors"][0]["field"] == "I.1.1:total"
        assert "Trđ: vị thành niên — Tổng số" in r.json()["errors"][0]["message"]
    assert not ReportInstance.objects.filter(manual_values__has_key="I.1:total").exists()
    r = c.put(url, {"values": {"I.1:total": 3, "I.1.1:total": 1}}, content_type="application/json")
    assert r.status_code == 200
    assert ReportInstance.objects.get().manual_values == {"I.1:total": 3, "I.1.1:total": 1}
