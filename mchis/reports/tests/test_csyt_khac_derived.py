"""Issue 12 item 2 / ADR 0047: a commune's "CSYT khác" derived from other facilities' records of its residents,
counted once in the district and provincial totals (ADR 0036). Expected values counted by hand.

Province B, January 2026: station B1 (commune 01273) under TTYT B, district hospital HB under TTYT B, provincial
hospital PB under CDC B. Records (every one through the bulk API):

* B1-D1: Thảo delivers at B1 (girl 3,000 g) — the station's own service;
* B1-D2: B1 types Lan's delivery at HB as "CSYT khác" (boy 3,200 g); HB-D2 is HB's record of it;
* HB-D1: Mai (resident of 01273) delivers at HB (girl 3,100 g) — B1 did not type it: derived;
* HB-D3: Kim, resident of another commune (02269), delivers at HB — not B1's resident;
* HB-D4: Ngọc (resident of 01273) at HB, voided by HB — counts nowhere;
* PB-D1: Hoa (resident of 01273) delivers by caesarean at PB (boy 4,200 g) — derived;
* HB-X1: Bé An (3 months, resident of 01273) dies at HB — derived into the child-death rows.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from mchis.reports import services as s
from mchis.reports.selectors import report_view, unit_rows
from mchis.units.models import UnitKind
from mchis.units.services import unit_create

from .registerdata import submit

P = "2026-01"
AT, OTHER = "at_facility", "other_facility"
B1, HB, PB, TB, CB = "TYT01273", "BVH04-01", "BVT04", "TTYT04-01", "CDC04"
HOME = "01273"


def rec(fac: str, rid: str, day: str, place: str, name: str, dob: str, **fields: Any) -> dict[str, Any]:
    return {
        "facility": fac, "source_system": "hand", "source_record_id": rid, "event_date": f"2026-01-{day}",
        "place": place, "full_name": name, "dob": dob, "ethnicity_code": "01", **fields,
    }  # fmt: skip


def birth(sex: str, grams: int, mode: str = "normal") -> dict[str, Any]:
    return {"gestational_age_weeks": 39, "delivery_mode": mode, "attendant": "doctor",
            "newborns": [{"outcome": "live", "sex": sex, "weight_grams": grams}]}  # fmt: skip


RECORDS = {
    "delivery": [
        rec(B1, "B1-D1", "05", AT, "Lục Thị Thảo", "1995-05-05", **birth("F", 3000)),
        rec(B1, "B1-D2", "09", OTHER, "Vi Thị Lan", "1993-07-07", **birth("M", 3200)),
        rec(HB, "HB-D2", "10", AT, "Vi Thị Lan", "1993-07-07", residence_commune_code=HOME, **birth("M", 3200)),
        rec(HB, "HB-D1", "12", AT, "Đinh Thị Mai", "1997-06-06", residence_commune_code=HOME,
            **birth("F", 3100)),
        rec(HB, "HB-D3", "14", AT, "Tạ Thị Kim", "1992-02-02", residence_commune_code="02269",
            **birth("F", 2900)),
        rec(HB, "HB-D4", "15", AT, "Hà Thị Ngọc", "1991-01-01", residence_commune_code=HOME,
            **birth("F", 3300)),
        rec(PB, "PB-D1", "20", AT, "Nông Thị Hoa", "1996-03-03", residence_commune_code=HOME,
            **birth("M", 4200, "caesarean")),
    ],
    "death": [
        rec(HB, "HB-X1", "18", AT, "Bé An", "2025-10-10", sex="M", death_kind="child", icd10_code="J18",
            residence_commune_code=HOME),
    ],
}  # fmt: skip


@pytest.fixture
def province_b(forms, tree, make_user):
    hb = unit_create(actor=None, code=HB, name="Bệnh viện huyện Thục Phán", kind=UnitKind.DISTRICT_HOSPITAL,
                     admin_unit=tree.commune_b1, parent=tree.ttyt_b)  # fmt: skip
    pb = unit_create(actor=None, code=PB, name="Bệnh viện tỉnh Cao Bằng", kind=UnitKind.PROVINCIAL_HOSPITAL,
                     admin_unit=tree.commune_b1, parent=tree.cdc_b)  # fmt: skip
    units = {B1: tree.tyt_b1, HB: hb, PB: pb, TB: tree.ttyt_b, CB: tree.cdc_b}
    for register, records in RECORDS.items():
        for code, unit in units.items():
            mine = [r for r in records if r["facility"] == code]
            if mine:
                c = Client()
                c.force_login(make_user("collector", unit))
                res = c.post(f"/api/v1/registers/{register}/records", json.dumps({"records": mine}),
                             content_type="application/json")  # fmt: skip
                assert res.status_code == 200 and res.json()["created"] == len(mine), res.content.decode()
    hb_collector = Client()
    hb_collector.force_login(make_user("collector", hb))
    from mchis.registers.models import Delivery

    voided = Delivery.objects.get(source_record_id="HB-D4")
    res = hb_collector.delete(f"/api/v1/registers/delivery/records/{voided.pk}",
                              json.dumps({"reason": "ghi nhầm"}), content_type="application/json")  # fmt: skip
    assert res.status_code in (200, 204), res.content.decode()
    return units


def approve(unit: Any, form: str, leader: Any, make_user: Any) -> None:
    submit(actor=make_user("reporter", unit), form_code=form, unit_code=unit.code, period=P,
           warning_comment="đã kiểm tra")  # fmt: skip
    s.report_approve(actor=leader, form_code=form, unit_code=unit.code, period=P)


def cells(view: Any, row: str, columns: tuple[str, ...]) -> dict[str, Any]:
    return {c: view.values.get(f"{row}:{c}") for c in columns}


def test_r_mch_03_commune_csyt_khac_derived_from_other_facilities(province_b, tree, make_user):
    """BCX3 of B1, counted by hand (module docstring); the derived events are listed for the approver."""
    view = report_view(make_user("reporter", tree.tyt_b1), "BCX3", B1, P)
    cols = ("total", "tyt", "out", "other")
    # Thảo at the station; Lan typed; Mai (HB) and Hoa (PB) derived; Kim lives elsewhere; Ngọc is voided
    assert cells(view, "I.5", cols) == {"total": 4, "tyt": 1, "out": 0, "other": 3}
    assert cells(view, "III.1", cols) == {"total": 4, "tyt": 1, "out": 0, "other": 3}
    assert cells(view, "III.1.1m", cols) == {"total": 2, "tyt": 0, "out": 0, "other": 2}  # Lan's, Hoa's boys
    assert cells(view, "III.7", cols) == {"total": 1, "tyt": 0, "out": 0, "other": 1}  # Hoa's boy, 4,200 g
    assert cells(view, "III.12", cols) == {"total": 1, "tyt": 0, "out": 0, "other": 1}  # Bé An, 3 months
    assert cells(view, "III.13", cols) == {"total": 1, "tyt": 0, "out": 0, "other": 1}
    assert cells(view, "III.10", cols) == {"total": 0, "tyt": 0, "out": 0, "other": 0}
    assert sorted((r.register, r.facility, r.source_record_id) for r in view.residents) == [
        ("death", HB, "HB-X1"), ("delivery", HB, "HB-D1"), ("delivery", PB, "PB-D1"),
    ]  # fmt: skip
    # the station and its approver see which events were derived: API `residents`, a list on the page
    c = Client()
    c.force_login(make_user("leader", tree.ttyt_b))
    body = c.get(f"/api/v1/reports/BCX3/{B1}/{P}").json()
    assert sorted((r["other_unit"], r["other_source_record_id"]) for r in body["residents"]) == [
        (HB, "HB-D1"), (HB, "HB-X1"), (PB, "PB-D1"),
    ]  # fmt: skip
    html = c.get(f"/reports/BCX3/{B1}/{P}/").content.decode()
    assert 'data-testid="residents"' in html and "Đinh Thị Mai" in html and "PB-D1" in html


def test_r_mch_03_csyt_khac_derived_counted_once_in_district_and_province(province_b, tree, make_user):
    units = province_b
    ttyt_leader, cdc_leader = make_user("leader", tree.ttyt_b), make_user("leader", tree.cdc_b)
    approve(units[B1], "BCX3", ttyt_leader, make_user)
    for form in ("BCH4", "BCH8"):
        approve(units[HB], form, ttyt_leader, make_user)
    district = report_view(make_user("reporter", tree.ttyt_b), "BCH4", TB, P)
    rows = {r.id: r.values or {} for r in unit_rows(district)}
    assert list(rows) == [HB, B1, TB, "DUP"]
    # deliveries (column 7): HB 3 (Lan, Mai, Kim); B1 4 (Thảo, Lan typed, Mai and Hoa derived);
    # DUP −2 (Lan: B1's typed row = HB-D2; Mai: derived from HB-D1); total 5 = Thảo, Lan, Mai, Kim, Hoa
    assert (rows[HB]["7"], rows[B1]["7"], rows[TB]["7"]) == (3, 4, 0)
    assert rows["DUP"]["7"] == -2
    assert district.values["T:7"] == 5
    assert district.values["T:17"] == 0  # Hoa's caesarean is at PB, outside the district's facilities
    pairs = sorted((p.register, p.unit_code, p.source_record_id, p.other_unit_code, p.other_source_record_id,
                    p.by) for p in district.duplicates.pairs)  # fmt: skip
    assert pairs == [("delivery", B1, "", HB, "HB-D1", "residence"),
                     ("delivery", B1, "B1-D2", HB, "HB-D2", "name_dob")]  # fmt: skip
    # child health: live births (3) HB 3 + B1 4 − 2 = 5; > 4,000 g (4b) only Hoa's boy: B1 1, stays (PB is
    # not in the district); deaths under 1 year (12) HB 1 + B1 1 (derived) − 1 = 1
    bch8 = report_view(make_user("reporter", tree.ttyt_b), "BCH8", TB, P)
    assert (bch8.values["T:3"], bch8.values["T:4b"], bch8.values["T:12"], bch8.values["T:13"]) == (5, 1, 1, 1)
    # the province: TTYT B's totals + PB's row; Hoa (PB-D1, handed up by the district) is taken out there
    for form in ("BCH4", "BCH8"):
        approve(units[TB], form, cdc_leader, make_user)
        approve(units[PB], form, cdc_leader, make_user)
    province = report_view(cdc_leader, "BCT4", CB, P)
    prow = {r.id: r.values or {} for r in unit_rows(province)}
    assert (prow[TB]["7"], prow[PB]["7"], prow["DUP"]["7"]) == (5, 1, -1)
    assert province.values["T:7"] == 5  # Thảo, Lan, Mai, Kim, Hoa: each once
    assert [(p.other_unit_code, p.other_source_record_id, p.by) for p in province.duplicates.pairs] == [
        (PB, "PB-D1", "residence")
    ]
    bct8 = report_view(cdc_leader, "BCT8", CB, P)
    assert (bct8.values["T:3"], bct8.values["T:4b"], bct8.values["T:12"]) == (5, 1, 1)


def test_r_mch_03_csyt_khac_stays_in_the_total_while_the_facility_is_missing(province_b, tree, make_user):
    """Until HB's report is approved its row is missing from the district total: nothing is taken out, B1's
    derived events stay in the total once (through B1's row)."""
    approve(province_b[B1], "BCX3", make_user("leader", tree.ttyt_b), make_user)
    district = report_view(make_user("reporter", tree.ttyt_b), "BCH4", TB, P)
    assert district.values["T:7"] == 4  # B1's 4: HB is missing, Lan's typed row stays B1's
    assert [p.by for p in district.duplicates.pairs] == []
