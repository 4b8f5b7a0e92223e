"""Contract of /api/v1/reports and /api/v1/exports (R-MCH-05, R-MCH-07, R-INT-02)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.test import Client
from lxml import etree
from openpyxl import load_workbook

from mchis.reports.exports import excel_report
from mchis.reports.selectors import report_view

from .registerdata import fill_required, january_dataset

XSD = Path(__file__).resolve().parent.parent / "fixtures" / "adx" / "adx_loose.xsd"
P = "2026-01"


@pytest.fixture
def as_user():
    def make(user):
        c = Client()
        c.force_login(user)
        return c

    return make


def url(tree, form="BCX3", unit=None, period=P, action=""):
    u = f"/api/v1/reports/{form}/{unit or tree.tyt_a1.code}/{period}"
    return f"{u}/{action}" if action else u


def test_r_mch_05_api_walks_submit_return_submit_approve(forms, people, tree, as_user):
    january_dataset(tree.tyt_a1, tree.tyt_a2)
    tyt, ttyt = as_user(people.tyt_reporter), as_user(people.ttyt_leader)
    got = tyt.get(url(tree)).json()
    assert got["state"] == "draft" and got["live"] is True and got["actions"] == ["submit"]
    cell = next(c for c in got["cells"] if c["row"] == "I.5" and c["column"] == "tyt")
    assert cell == {"row": "I.5", "column": "tyt", "value": 1, "source": "computed"}
    assert next(c for c in got["cells"] if c["row"] == "I.1")["source"] == "manual"
    assert (
        tyt.put(
            url(tree), {"values": {"I.1:total": 10, "I.1.1:total": 0}}, content_type="application/json"
        ).status_code
        == 200
    )
    r = tyt.post(url(tree, action="submit"), {}, content_type="application/json")
    assert r.status_code == 200 and r.json()["state"] == "submitted" and len(r.json()["checksum"]) == 64
    assert tyt.post(url(tree, action="submit"), {}, content_type="application/json").status_code == 409
    r = ttyt.post(url(tree, action="return"), {"reason": ""}, content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "reason"
    assert (
        ttyt.post(url(tree, action="return"), {"reason": "Sai"}, content_type="application/json").json()[
            "state"
        ]
        == "returned"
    )
    tyt.post(url(tree, action="submit"), {}, content_type="application/json")
    assert ttyt.get(url(tree)).json()["actions"] == ["approve", "return"]
    r = tyt.post(url(tree, action="approve"), {}, content_type="application/json")
    assert r.status_code == 403
    r = ttyt.post(url(tree, action="approve"), {}, content_type="application/json")
    assert r.json()["state"] == "approved"
    body = ttyt.get(url(tree)).json()
    assert [t["action"] for t in body["timeline"]] == ["submit", "return", "submit", "approve"]
    assert body["timeline"][1]["reason"] == "Sai" and body["live"] is False


def test_r_mch_07_api_hides_reports_outside_jurisdiction(forms, people, tree, as_user):
    other = as_user(people.ttyt_b_leader)
    assert other.get(url(tree)).status_code == 404
    assert other.post(url(tree, action="approve"), {}, content_type="application/json").status_code == 404
    assert (
        other.get("/api/v1/exports/dhis2/dataValueSets", {"period": P, "unit": tree.tyt_a1.code}).status_code
        == 404
    )
    assert as_user(people.tyt_reporter).get(url(tree, form="NOPE")).status_code == 404
    assert as_user(people.tyt_reporter).get(url(tree, period="2026-13")).status_code == 404


def _approved(people, tree, as_user):
    january_dataset(tree.tyt_a1, tree.tyt_a2)
    as_user(people.tyt_reporter).put(
        url(tree), {"values": {"I.1:total": 10, "I.1.1:total": 1}}, content_type="application/json"
    )
    fill_required(people.tyt_reporter, "BCX3", tree.tyt_a1.code, "2026-01")
    as_user(people.tyt_reporter).post(url(tree, action="submit"), {}, content_type="application/json")
    as_user(people.ttyt_leader).post(url(tree, action="approve"), {}, content_type="application/json")


def test_r_int_02_data_value_sets_structure(forms, people, tree, as_user):
    _approved(people, tree, as_user)
    r = as_user(people.ttyt_leader).get(
        "/api/v1/exports/dhis2/dataValueSets", {"period": P, "unit": tree.ttyt_a.code}
    )
    assert r.status_code == 200
    values = r.json()["dataValues"]
    assert len(values) == 318 + 14  # + the 14 nutrition rows (issue 12.8)
    for v in values:
        assert set(v) == {"dataElement", "period", "orgUnit", "categoryOptionCombo", "value"}
        assert v["period"] == "202601" and v["orgUnit"] == tree.tyt_a1.code and isinstance(v["value"], str)
    hit = [v for v in values if v["dataElement"] == "BCX3_I_5" and v["categoryOptionCombo"] == "AT_TYT"]
    assert hit == [
        {
            "dataElement": "BCX3_I_5",
            "period": "202601",
            "orgUnit": tree.tyt_a1.code,
            "categoryOptionCombo": "AT_TYT",
            "value": "1",
        }
    ]
    # not approved -> not exported
    assert as_user(people.ttyt_leader).get(
        "/api/v1/exports/dhis2/dataValueSets", {"period": "2026-02", "unit": tree.ttyt_a.code}
    ).json() == {"dataValues": []}


def test_r_int_02_adx_validates_against_the_adx_schema(forms, people, tree, as_user):
    _approved(people, tree, as_user)
    r = as_user(people.ttyt_leader).get("/api/v1/exports/adx", {"period": P, "unit": tree.ttyt_a.code})
    assert r.status_code == 200 and r["Content-Type"] == "application/adx+xml"
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    doc = etree.fromstring(r.content)
    schema.assertValid(doc)
    ns = {"a": "urn:ihe:qrph:adx:2015"}
    group = doc.find("a:group", ns)
    assert group.get("period") == "2026-01-01/P1M" and group.get("orgUnit") == tree.tyt_a1.code
    dv = doc.xpath("//a:dataValue[@dataElement='BCX3_I_5' and @categoryOptionCombo='TOTAL']", namespaces=ns)
    assert dv[0].get("value") == "3"
    # the schema check can fail: a value that is not a decimal is rejected
    dv[0].set("value", "ba")
    assert not schema.validate(doc)


def test_r_an_02_excel_has_the_form_layout(forms, people, tree):
    january_dataset(tree.tyt_a1, tree.tyt_a2)
    view = report_view(people.tyt_reporter, "BCX3", tree.tyt_a1.code, P)
    wb = load_workbook(io.BytesIO(excel_report(view)))
    ws = wb.active
    assert ws["A2"].value.startswith("Biểu 3/BCX")
    assert [ws.cell(row=6, column=j).value for j in range(1, 7)] == [
        "STT",
        "Nội dung",
        "Tổng số",
        "Tại TYT",
        "Ngoài CSYT (tại nhà, trên đường…)",
        "CSYT khác",
    ]
    rows = {ws.cell(row=r, column=2).value: r for r in range(7, ws.max_row + 1)}
    r5 = rows["Số phụ nữ đẻ"]
    assert [ws.cell(row=r5, column=j).value for j in range(3, 7)] == [3, 1, 1, 1]


def test_r_an_02_pdf_renders(forms, people, tree, as_user):
    january_dataset(tree.tyt_a1, tree.tyt_a2)
    r = as_user(people.tyt_reporter).get(f"/reports/BCX3/{tree.tyt_a1.code}/{P}/pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")


def test_r_mch_03_unit_that_does_not_file_the_form_gets_404(forms, people, tree, as_user):
    c = as_user(people.ttyt_leader)
    assert c.get(url(tree, form="BCX3", unit=tree.ttyt_a.code)).status_code == 404
    assert c.get(url(tree, form="BCH4", unit=tree.ttyt_a.code)).status_code == 200
    assert c.get(url(tree, form="MLBC1", unit=tree.ttyt_a.code, period="2025")).status_code == 200
    assert c.get(url(tree, form="MLBC1", unit=tree.ttyt_a.code, period="2025-01")).status_code == 404


def test_r_int_02_contract_paths_are_in_the_openapi_schema(db):
    from config.api import api

    paths = api.get_openapi_schema()["paths"]
    for p in (
        "/api/v1/reports/{form}/{unit}/{period}",
        "/api/v1/reports/{form}/{unit}/{period}/{action}",
        "/api/v1/exports/dhis2/dataValueSets",
        "/api/v1/exports/adx",
    ):
        assert p in paths
    responses = paths["/api/v1/reports/{form}/{unit}/{period}"]["get"]["responses"]
    assert any(str(code) == "200" for code in responses)
