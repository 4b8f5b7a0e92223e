"""R-MCH-03 / R-MCH-07: district and provincial forms 4–8 (BCH/BCT) in the official layout — one row per
reporting unit below, the upper unit's own facilities as its own row, and the total row (Tổng số) = their sum."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from mchis.registers import models as R
from mchis.reports import services as s
from mchis.reports.exports import MISSING_NOTE, TOTAL_LABEL, excel_report
from mchis.reports.models import ReportInstance
from mchis.reports.selectors import report_view, unit_rows

from .registerdata import JAN, january_dataset, rec, submit

P = "2026-01"


@pytest.fixture
def district(forms, people, tree):
    """TTYT A with two communes: A1 approved (3 deliveries, 2 new pregnancies), A2 never submitted (it has one
    new pregnancy in its registers, which must not show up), plus one caesarean in the TTYT's own ward."""
    january_dataset(tree.tyt_a1, tree.tyt_a2)
    rec(R.Delivery, tree.ttyt_a, JAN, place="at_facility", delivery_mode="caesarean")
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    s.report_approve(actor=people.ttyt_leader, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    return tree


def _sum_of_rows(view, rows):
    return {
        c.key: sum(r.values.get(c.column, 0) for r in rows if r.values is not None) for c in view.spec.cells
    }


def test_r_mch_03_bch_report_has_one_row_per_commune_and_own_row(district, people):
    tree = district
    view = report_view(people.ttyt_reporter, "BCH4", tree.ttyt_a.code, P)
    rows = unit_rows(view)
    assert [(r.id, r.own, r.missing) for r in rows] == [
        (tree.tyt_a1.code, False, False),
        (tree.tyt_a2.code, False, True),
        (tree.ttyt_a.code, True, False),
    ]
    a1, a2, own = rows
    assert a1.values is not None and own.values is not None
    # column 17 (caesareans) is not a cell of the commune form: computed from A1's registers (d3)
    assert (a1.values["7"], a1.values["17"], a1.values["3"]) == (3, 1, 2)
    assert (own.values["7"], own.values["17"], own.values["3"]) == (1, 1, 0)
    assert a2.values is None and a2.status == ""  # missing, not zero (its live ANC visit does not travel up)
    assert view.values["T:7"] == 4 and view.values["T:3"] == 2
    assert _sum_of_rows(view, rows) == view.values


def test_r_mch_03_total_equals_sum_of_rows_with_formula_columns(district, people):
    view = report_view(people.ttyt_reporter, "BCH5", district.ttyt_a.code, P)
    rows = unit_rows(view)
    assert any(c.formula for c in view.spec.cells)  # BCH5 columns 3 and 4 are formulas
    assert _sum_of_rows(view, rows) == view.values
    assert any(v for v in view.values.values())


def test_r_mch_03_frozen_bch_keeps_its_rows_and_bct_lists_the_ttyt(district, people):
    tree = district
    live = unit_rows(report_view(people.ttyt_reporter, "BCH4", tree.ttyt_a.code, P))
    submit(actor=people.ttyt_reporter, form_code="BCH4", unit_code=tree.ttyt_a.code, period=P)
    rec(R.Delivery, tree.ttyt_a, JAN, place="at_facility")  # after submission: not in the frozen rows
    frozen_view = report_view(people.cdc_leader, "BCH4", tree.ttyt_a.code, P)
    frozen = unit_rows(frozen_view)
    assert not frozen_view.live
    assert [(r.id, r.values) for r in frozen] == [(r.id, r.values) for r in live]
    # snapshots written before the own part was stored: own row = total minus the approved rows below
    rep = ReportInstance.objects.get(form__code="BCH4", unit=tree.ttyt_a)
    assert rep.snapshot is not None
    del rep.snapshot["own"]
    rep.save(update_fields=["snapshot"])
    old = unit_rows(report_view(people.cdc_leader, "BCH4", tree.ttyt_a.code, P))
    assert old[-1].values == live[-1].values
    s.report_approve(actor=people.cdc_leader, form_code="BCH4", unit_code=tree.ttyt_a.code, period=P)
    prov = report_view(people.cdc_reporter, "BCT4", tree.cdc_a.code, P)
    rows = unit_rows(prov)
    assert [r.id for r in rows][-1] == tree.cdc_a.code and rows[-1].own
    ttyt_row = next(r for r in rows if r.id == tree.ttyt_a.code)
    assert ttyt_row.values is not None and ttyt_row.values["7"] == 4
    assert _sum_of_rows(prov, rows) == prov.values


def test_r_mch_03_commune_form_keeps_its_row_layout(forms, people, tree):
    view = report_view(people.tyt_reporter, "BCX3", tree.tyt_a1.code, P)
    assert unit_rows(view) == []


def test_r_mch_03_excel_rows_in_order_with_total_last(district, people):
    tree = district
    view = report_view(people.ttyt_reporter, "BCH4", tree.ttyt_a.code, P)
    ws = load_workbook(io.BytesIO(excel_report(view))).active
    cols = [c.id for c in view.spec.columns]
    assert ws["A2"].value.startswith("Biểu 4/BCH") and tree.ttyt_a.name in ws["A1"].value
    assert ws["A3"].value.startswith("Tháng 01/2026")
    assert [ws.cell(row=6, column=j).value for j in (1, 2)] == ["STT", "Tên đơn vị"]
    assert [ws.cell(row=7, column=j).value for j in range(1, len(cols) + 3)] == ["1", "2", *cols]
    body = [[ws.cell(row=r, column=j).value for j in range(1, len(cols) + 3)] for r in range(8, 12)]
    assert [row[0] for row in body] == [1, 2, 3, None]
    assert body[0][1] == tree.tyt_a1.name
    assert body[1][1] == f"{tree.tyt_a2.name} — {MISSING_NOTE}"
    assert body[2][1].startswith(tree.ttyt_a.name) and body[3][1] == TOTAL_LABEL
    c7 = cols.index("7") + 2
    assert [row[c7] for row in body] == [3, None, 1, 4]
    assert all(v is None for v in body[1][2:])  # the missing commune: empty, not 0
    for j in range(2, len(cols) + 2):  # total row = sum of the unit rows, column by column
        assert body[3][j] == sum(row[j] or 0 for row in body[:3])
    texts = {ws.cell(row=r, column=c).value for r in range(12, ws.max_row + 1) for c in range(1, 30)}
    assert {"Người lập biểu", "Thủ trưởng đơn vị"} <= texts


def test_r_mch_03_api_lists_per_unit_cells_and_keeps_the_total_row(district, people):
    tree = district
    c = Client()
    c.force_login(people.ttyt_leader)
    body = c.get(f"/api/v1/reports/BCH4/{tree.ttyt_a.code}/{P}").json()
    cells = {(x["row"], x["column"]): x for x in body["cells"]}
    assert cells[("T", "7")] == {"row": "T", "column": "7", "value": 4, "source": "computed"}
    assert cells[(tree.tyt_a1.code, "7")] == {
        "row": tree.tyt_a1.code,
        "column": "7",
        "value": 3,
        "source": "reported",
    }
    assert cells[(tree.tyt_a2.code, "7")] == {
        "row": tree.tyt_a2.code,
        "column": "7",
        "value": None,
        "source": "missing",
    }
    assert cells[(tree.ttyt_a.code, "17")]["value"] == 1
    assert [(r["row"], r["missing"], r["own"]) for r in body["unit_rows"]] == [
        (tree.tyt_a1.code, False, False),
        (tree.tyt_a2.code, True, False),
        (tree.ttyt_a.code, False, True),
    ]
    rows = {x["row"] for x in body["cells"]}
    assert rows == {"T", tree.tyt_a1.code, tree.tyt_a2.code, tree.ttyt_a.code}
    for col in (c.id for c in report_view(people.ttyt_leader, "BCH4", tree.ttyt_a.code, P).spec.columns):
        parts = [
            cells[(u, col)]["value"] or 0 for u in (tree.tyt_a1.code, tree.tyt_a2.code, tree.ttyt_a.code)
        ]
        assert cells[("T", col)]["value"] == sum(parts)


def test_r_mch_03_page_and_pdf_show_the_unit_rows(district, people):
    tree = district
    c = Client()
    c.force_login(people.ttyt_leader)
    html = c.get(f"/reports/BCH4/{tree.ttyt_a.code}/{P}/").content.decode()
    assert 'data-testid="unit-grid"' in html
    assert (
        html.index(tree.tyt_a1.name)
        < html.index(f'data-row="{tree.tyt_a2.code}"')
        < html.index('data-row="total"')
    )
    assert f'data-cell="{tree.tyt_a2.code}:7">—<' in html
    assert f'data-cell="{tree.tyt_a1.code}:7">3<' in html and 'data-cell="T:7">4<' in html
    pdf = c.get(f"/reports/BCH4/{tree.ttyt_a.code}/{P}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_r_mch_03_unit_rows_compute_every_column_a_register_answers(forms, people, tree):
    """Issue 12 item 1: ARV for HIV+ women, instrumental deliveries, abortion bands, gynaecology exams and
    screening, newborn screening, children of HIV+ mothers are not cells of the commune form (BCX3); the
    district forms compute them from each approved commune's registers. A commune without an approved
    report stays missing, its register rows do not travel up."""
    for unit in (tree.tyt_a1, tree.tyt_a2):  # the same activity in both communes; only A1 gets approved
        d = rec(R.Delivery, unit, JAN, place="at_facility", delivery_mode="instrumental", hiv_positive=True,
                hiv_arv_treated=True)  # fmt: skip
        R.Newborn.objects.create(delivery=d, facility=unit, month=d.month, event_date=JAN, place="at_facility",
                                 birth_order=1, outcome="live", newborn_screening=True, mother_hiv_positive=True,
                                 arv_prophylaxis=True)  # fmt: skip
        rec(R.Abortion, unit, JAN, place="at_facility", gestational_age_weeks=10, gestational_band="w8_12")
        rec(R.Abortion, unit, JAN, place="at_facility", gestational_age_weeks=14, gestational_band="gt_12")
        rec(R.GynExam, unit, JAN, place="at_facility", purpose="treatment", treated=True, treated_syphilis=True,
            leep=True)  # fmt: skip
        rec(R.GynExam, unit, JAN, place="at_facility", purpose="screening", pap_sample_sent=True,
            pap_abnormal=True, hpv_sample_sent=True, hpv_positive=True)  # fmt: skip
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    s.report_approve(actor=people.ttyt_leader, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)

    expected = {  # hand-counted from the records above (A1 only)
        "BCH4": {"14": 1, "16": 1, "17": 0},
        "BCH6": {"3a": 1, "3b": 1, "5": 1, "8": 1, "14": 1, "16": 1},
        "BCH7": {"14": 1, "15": 1},
        "BCH8": {"7": 1, "8": 1, "8a": 1},
    }
    for form, cols in expected.items():
        view = report_view(people.ttyt_reporter, form, tree.ttyt_a.code, P)
        rows = {r.id: r for r in unit_rows(view)}
        a1, a2 = rows[tree.tyt_a1.code], rows[tree.tyt_a2.code]
        assert a1.values is not None and a2.values is None, form
        assert {c: a1.values[c] for c in cols} == cols, form
        assert {c: view.values[f"T:{c}"] for c in cols} == cols, form  # A2's identical rows do not count
        assert _sum_of_rows(view, list(rows.values())) == view.values, form


def test_r_mch_03_national_rollup_counts_every_column_the_official_report_does(forms, people, tree):
    """The bulk roll-up (national overview) computes the station columns its commune form does not carry
    (ARV, caesareans, abortion bands, gynaecology, newborn screening…) exactly like the official report."""
    from mchis.reports.periods import parse_period
    from mchis.reports.selectors import rollup

    january_dataset(tree.tyt_a1, tree.tyt_b1)
    a1 = tree.tyt_a1
    rec(R.Delivery, a1, JAN, place="at_facility", hiv_positive=True, hiv_arv_treated=True)
    rec(R.Delivery, a1, JAN, place="at_facility", delivery_mode="instrumental")
    rec(R.Abortion, a1, JAN, place="at_facility", gestational_age_weeks=10, gestational_band="w8_12")
    rec(R.GynExam, a1, JAN, place="at_facility", purpose="screening", leep=True, hpv_positive=True)
    d = rec(R.Delivery, a1, JAN, place="at_facility")
    R.Newborn.objects.create(
        delivery=d, facility=a1, month=JAN.replace(day=1), event_date=JAN, place="at_facility",
        outcome="live", newborn_screening=True, mother_hiv_positive=True, arv_prophylaxis=True,
    )  # fmt: skip
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=a1.code, period=P, warning_comment="ok")
    s.report_approve(actor=people.ttyt_leader, form_code="BCX3", unit_code=a1.code, period=P)
    out = rollup(parse_period(P))
    for code, col in (("BCH4", "14"), ("BCH4", "16"), ("BCH7", "14"), ("BCH6", "8"), ("BCH8", "7")):
        assert out[(code, tree.ttyt_a.pk)][f"T:{col}"] >= 1, (code, col)  # never a silent 0
    for code in ("BCH4", "BCH5", "BCH6", "BCH7", "BCH8"):
        official = report_view(people.ttyt_reporter, code, tree.ttyt_a.code, P).values
        assert out[(code, tree.ttyt_a.pk)] == official, code
