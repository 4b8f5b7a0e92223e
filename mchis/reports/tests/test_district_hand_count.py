"""R-MCH-03 / R-MCH-05 / issue 12 "done when": a second hand-counted test, for a district.

TTYT A (own ward) with three commune stations (A1, A2, A3) and a district hospital (H), January 2026. Every
register record below is written by hand through the bulk API (`POST /api/v1/registers/{register}/records`),
the stations' BCX3 and the hospital's BCH4–8 are approved, and every cell of BCH4–BCH8 is checked for every unit
row, the cross-facility duplicate row and the total. The expected values were counted by hand from the records
(the comments say why) BEFORE the system's output was read; cells not listed are 0.

One woman of commune A1 (Lê Thị Thu, personal ID 008300000123) delivered by caesarean at the district
hospital on 16/01: A1 recorded her delivery as "CSYT khác" on 15/01 and H recorded it on 16/01. Both rows show
the event as reported; the duplicate row takes A1's record out once, so the district total counts one event.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from mchis.places.models import AdminUnit, CodeVersion, Level
from mchis.reports import services as s
from mchis.reports.selectors import report_view, unit_rows
from mchis.units.models import UnitKind
from mchis.units.services import unit_create

from .registerdata import submit

P = "2026-01"
DUP = "DUP"  # row id of the cross-facility duplicates (subtracted once)


def person(name: str, dob: str, **kw: Any) -> dict[str, Any]:
    return {"full_name": name, "dob": dob, **kw}


def rec(fac: str, rid: str, day: str, place: str, who: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "facility": fac, "source_system": "hand", "source_record_id": rid, "event_date": f"2026-01-{day}",
        "place": place, **who, **fields,
    }  # fmt: skip


AT, OUT, OTHER = "at_facility", "outside", "other_facility"
A1, A2, A3, H, T = "TYT02269", "TYT02296", "TYT02299", "BVH08-01", "TTYT08-01"

THU = person("Lê Thị Thu", "2000-02-02", personal_id="008300000123", ethnicity_code="01")
LAN = person("Vi Thị Lan", "1993-07-07", ethnicity_code="01", sex="F")
DUNG = person("Sầm Thị Dung", "2008-10-10", ethnicity_code="01")
CUC = person("Phan Thị Cúc", "1985-05-05", ethnicity_code="01", sex="F")

RECORDS: dict[str, list[dict[str, Any]]] = {
    "anc": [
        rec(A1, "A1-ANC1", "05", AT, person("Hoàng Thị Nga", "2009-03-01"), is_new_pregnancy=True,
            urine_protein_tested=True, gestational_age_weeks=10),  # 16 years old: adolescent
        rec(A1, "A1-ANC2", "06", OUT, person("Phạm Thị Yến", "1994-01-01"), gestational_age_weeks=20),
        rec(A2, "A2-ANC1", "07", AT, person("Bùi Thị Hoa", "1990-05-05"), is_new_pregnancy=True,
            gestational_age_weeks=8),
        rec(A2, "A2-ANC2", "08", AT, person("Lục Thị Mến", "1993-03-03"), urine_protein_tested=True,
            gestational_age_weeks=24),
        rec(A3, "A3-ANC1", "12", AT, DUNG, is_new_pregnancy=True, urine_protein_tested=True,
            gestational_age_weeks=12),  # 17: adolescent
        rec(T, "T-ANC1", "09", AT, person("Lương Thị Thảo", "1998-01-01"), is_new_pregnancy=True,
            gestational_age_weeks=9),
    ],
    "delivery": [
        rec(A1, "A1-D1", "08", AT, person("Nguyễn Thị Hạnh", "1996-04-10", ethnicity_code="01"),
            gestational_age_weeks=39, delivery_mode="normal", attendant="midwife", anc_visits=4,
            anc_all_trimesters=True, hepb_tested_pregnancy=True, syphilis_tested_pregnancy=True,
            hiv_tested_pregnancy=True, glucose_tested=True, postpartum_week1_date="2026-01-12",
            newborns=[{"outcome": "live", "sex": "F", "weight_grams": 2400, "eenc": True, "vitamin_k1": True,
                       "hepb_vaccine_24h": True, "birth_certificate": True, "newborn_screening": True}]),
        # A1's resident delivered at the district hospital (the hospital records it too: H-D1)
        rec(A1, "A1-D2", "15", OTHER, THU, gestational_age_weeks=38, delivery_mode="caesarean",
            attendant="doctor", newborns=[{"outcome": "live", "sex": "M", "weight_grams": 4100}]),
        rec(A2, "A2-D1", "20", OUT, person("Hà Thị Xuân", "1990-01-01", ethnicity_code="03"),
            gestational_age_weeks=35, delivery_mode="normal", attendant="village_midwife", anc_visits=2,
            postpartum_week2_6_date="2026-01-29",
            newborns=[{"outcome": "live", "sex": "F", "weight_grams": 2300, "asphyxia": True,
                       "kangaroo_care": True, "hepb_vaccine": True}]),
        rec(A2, "A2-D2", "10", AT, LAN, gestational_age_weeks=30, delivery_mode="normal", attendant="midwife",
            anc_visits=3, newborns=[{"outcome": "stillbirth", "sex": "F"}]),
        rec(A3, "A3-D1", "18", AT, DUNG, gestational_age_weeks=38, delivery_mode="instrumental",
            attendant="midwife", anc_visits=1, hepb_tested_labour=True, syphilis_tested_labour=True,
            glucose_tested=True, glucose_high=True, comp_eclampsia=True, postpartum_week1_date="2026-01-20",
            newborns=[{"outcome": "live", "sex": "M", "weight_grams": 3000, "eenc": True, "vitamin_k1": True,
                       "hepb_vaccine": True, "birth_certificate": True},
                      {"outcome": "live", "sex": "F", "weight_grams": 2900, "eenc": True}]),
        rec(H, "H-D1", "16", AT, THU, gestational_age_weeks=38, delivery_mode="caesarean", attendant="doctor",
            anc_visits=5, anc_all_trimesters=True, hiv_tested_pregnancy=True, hiv_positive=True,
            hiv_confirmed_in_pregnancy=True, hiv_arv_treated=True, comp_haemorrhage=True,
            newborns=[{"outcome": "live", "sex": "M", "weight_grams": 4100, "eenc": True, "vitamin_k1": True,
                       "hepb_vaccine_24h": True, "newborn_screening": True, "arv_prophylaxis": True,
                       "birth_certificate": True}]),
        rec(H, "H-D2", "22", AT, CUC, gestational_age_weeks=40, delivery_mode="normal", attendant="doctor",
            anc_visits=4, comp_uterine_rupture=True, comp_infection=True, maternal_death=True,
            newborns=[{"outcome": "live", "sex": "M", "weight_grams": 3500, "eenc": True}]),
        rec(T, "T-D1", "25", AT, person("Tạ Thị Kim", "1992-02-02", ethnicity_code="01"),
            gestational_age_weeks=39, delivery_mode="caesarean", attendant="doctor",
            newborns=[{"outcome": "live", "sex": "F", "weight_grams": 3200, "eenc": True,
                       "birth_certificate": True}]),
    ],
    "abortion": [
        rec(A1, "A1-AB1", "09", AT, person("Đỗ Thị Mơ", "2008-12-12"), gestational_age_weeks=6,
            method="medical"),  # 17: adolescent; ≤ 7 weeks
        rec(A2, "A2-AB1", "18", AT, person("Quan Thị Tâm", "1990-01-01"), gestational_age_weeks=10,
            method="vacuum", complication=True),
        rec(A3, "A3-AB1", "19", AT, person("Mạc Thị Hiền", "1994-01-01"), gestational_age_weeks=14,
            method="dilation"),
        rec(H, "H-AB1", "19", AT, person("Lý Thị Hồng", "1992-01-01"), gestational_age_weeks=8,
            method="vacuum"),
    ],
    "gyn": [
        rec(A1, "A1-G1", "10", AT, person("Trịnh Thị Lý", "1980-01-01"), purpose="screening", via_done=True,
            via_result="positive", hpv_sample_sent=True, hpv_positive=True),
        rec(A2, "A2-G1", "13", AT, person("Lâm Thị Hằng", "1985-01-01"), purpose="treatment", treated=True,
            treated_syphilis=True),
        rec(A2, "A2-G2", "14", AT, person("Tô Thị Bích", "1979-01-01"), purpose="screening",
            pap_sample_sent=True, pap_abnormal=True),
        rec(A3, "A3-G1", "05", AT, person("Lữ Thị Mai", "1982-01-01"), purpose="treatment", treated=True,
            treated_gonorrhoea=True, cryo_or_cautery=True, cervical_cured=True),
        rec(A3, "A3-G2", "06", AT, person("Chu Thị Lệ", "1975-01-01"), purpose="screening", via_done=True,
            via_result="suspect_cancer", leep=True),
        rec(H, "H-G1", "20", AT, person("Đào Thị Minh", "1970-01-01"), purpose="treatment"),
        rec(T, "T-G1", "26", AT, person("Hồ Thị Ngọc", "1983-01-01"), purpose="screening",
            hpv_sample_sent=True),
    ],
    "contraception": [
        rec(A1, "A1-C1", "11", AT, person("Mai Thị Sen", "1990-01-01"), method_code="iud", is_new_user=True),
        rec(A1, "A1-C2", "11", AT, person("Vũ Văn Nam", "1988-01-01", sex="M"), method_code="condom",
            is_new_user=True),
        rec(A1, "A1-C3", "12", AT, person("Cao Thị Hà", "1991-01-01"), method_code="pill", is_new_user=False),
        rec(A2, "A2-C1", "16", AT, person("Đinh Văn Tài", "1985-01-01", sex="M"), method_code="sterilisation",
            is_new_user=True),
        rec(A2, "A2-C2", "17", AT, person("Hứa Thị Nhung", "1995-01-01"), method_code="implant",
            is_new_user=True),
        rec(A3, "A3-C1", "07", AT, person("Ngô Thị Hương", "1996-01-01"), method_code="injectable",
            is_new_user=True),
        rec(A3, "A3-C2", "08", AT, person("Kiều Thị Vân", "1997-01-01"), method_code="traditional",
            is_new_user=True),  # not a modern method: in no column
        rec(H, "H-C1", "21", AT, person("Võ Thị Lan", "1988-01-01", sex="F"), method_code="sterilisation",
            is_new_user=True),
    ],
    "death": [
        rec(A1, "A1-X1", "05", AT, person("Lò Văn An", "2026-01-01", sex="M", ethnicity_code="03"),
            death_kind="child", icd10_code="P21"),  # 4 days old, ethnic minority
        rec(A2, "A2-X1", "11", AT, LAN, death_kind="fetal", gestational_age_weeks=30, icd10_code="P95"),
        rec(A3, "A3-X1", "21", OUT, DUNG, death_kind="maternal", icd10_code="O15",
            obstetric_complication="eclampsia", maternal_death_reviewed=True),
        rec(H, "H-X1", "23", AT, CUC, death_kind="maternal", icd10_code="O71",
            obstetric_complication="uterine_rupture"),
        rec(H, "H-X2", "25", AT, person("Trần Văn Bình", "2025-06-01", sex="M", ethnicity_code="01"),
            death_kind="child", icd10_code="J18"),  # 7 months old
    ],
    "child_exam": [
        rec(A1, "A1-CE1", "15", AT, person("Bé Hà", "2025-01-15", sex="F"), weight_kg=5.5, height_cm=65,
            measured_lying=True),  # 12 months: underweight, stunted, wasted
        rec(A2, "A2-CE1", "20", AT, person("Bé Tuấn", "2024-01-20", sex="M"), weight_kg=16, height_cm=86,
            measured_lying=True),  # exactly 24 months: overweight, not "< 2 years"
        rec(A3, "A3-CE1", "10", AT, person("Bé Khoa", "2025-01-10", sex="M"), weight_kg=9.6, height_cm=75.7,
            measured_lying=True),  # the WHO medians: nothing flagged
    ],
}  # fmt: skip

# --- expected values, counted by hand (cells not listed are 0) ------------------------------------------------
EXPECTED: dict[str, dict[str, dict[str, int]]] = {
    "BCH4": {
        # new pregnancies, adolescent, visits, urine; deliveries; ≥4 visits/3 trimesters; tests; skilled…
        A1: {"3": 1, "4": 1, "5": 2, "6": 1, "7": 2, "9": 1, "10": 1, "11": 1, "12": 1, "15": 1, "17": 1,
             "18": 2, "19": 1, "20": 1},
        A2: {"3": 1, "5": 2, "6": 1, "7": 2, "18": 1, "21": 1},
        A3: {"3": 1, "4": 1, "5": 1, "6": 1, "7": 1, "8": 1, "15": 1, "16": 1, "18": 1, "19": 1, "20": 1,
             "22": 1},
        H: {"7": 2, "9": 1, "12": 1, "13": 1, "14": 1, "17": 1, "18": 2, "19": 1},
        T: {"3": 1, "5": 1, "7": 1, "17": 1, "18": 1, "19": 1},
        DUP: {"7": -1, "17": -1, "18": -1},  # A1-D2 = H-D1: caesarean by a doctor, taken out once
        "total": {"3": 4, "4": 2, "5": 6, "6": 3, "7": 7, "8": 1, "9": 2, "10": 1, "11": 1, "12": 2, "13": 1,
                  "14": 1, "15": 2, "16": 1, "17": 2, "18": 6, "19": 4, "20": 2, "21": 1, "22": 1},
    },
    "BCH5": {
        A1: {},
        A2: {"3": 1, "15": 1},  # abortion complication (case)
        A3: {"3": 1, "4": 1, "7": 1, "8": 1},  # eclampsia: case at the delivery, death in the death register
        H: {"3": 3, "4": 1, "5": 1, "11": 1, "12": 1, "13": 1},  # haemorrhage; rupture (case, death); infection
        T: {},
        DUP: {},  # A1's record of the hospital delivery has no complication
        "total": {"3": 5, "4": 2, "5": 1, "7": 1, "8": 1, "11": 1, "12": 1, "13": 1, "15": 1},
    },
    "BCH6": {
        A1: {"3b": 1, "10": 1, "11": 1, "15": 1, "16": 1},
        A2: {"3a": 1, "3b": 1, "4": 1, "5": 1, "13": 1, "14": 1},
        A3: {"3a": 1, "3b": 1, "4": 1, "6": 1, "7": 1, "8": 1, "9": 1, "10": 1, "12": 1},
        H: {"3a": 1},
        T: {"3b": 1, "15": 1},
        DUP: {},
        "total": {"3a": 3, "3b": 4, "4": 2, "5": 1, "6": 1, "7": 1, "8": 1, "9": 1, "10": 2, "11": 1, "12": 1,
                  "13": 1, "14": 1, "15": 2, "16": 1},
    },
    "BCH7": {
        A1: {"3": 2, "4": 1, "10": 1, "12": 1, "13": 1, "16": 1},  # the pill user is not new
        A2: {"3": 2, "6": 1, "8": 1, "9": 1, "12": 1, "14": 1},
        A3: {"3": 1, "5": 1, "12": 1, "15": 1},  # the traditional method is not counted
        H: {"3": 1, "8": 1, "12": 1, "14": 1},
        T: {},
        DUP: {},
        "total": {"3": 6, "4": 1, "5": 1, "6": 1, "8": 2, "9": 1, "10": 1, "12": 4, "13": 1, "14": 2, "15": 1,
                  "16": 1},
    },
    "BCH8": {
        A1: {"3": 2, "3a": 1, "3c": 1, "4": 2, "4a": 1, "4b": 1, "5": 1, "6": 1, "6a": 1, "7": 1, "10": 1,
             "11": 1, "12": 1, "12a": 1, "13": 1, "13a": 1, "14": 1, "14a": 1, "15": 1, "15a": 1, "15b": 1,
             "16": 1, "16a": 1, "16b": 1, "17": 1, "17a": 1, "17b": 1},
        # the stillbirth (delivery register) and its fetal-death record are one event
        A2: {"3": 1, "3a": 1, "3b": 1, "3e": 1, "3f": 1, "3g": 1, "4": 1, "4a": 1, "6": 1, "9": 1, "14": 1,
             "18": 1},
        A3: {"3": 2, "3a": 1, "3c": 2, "4": 2, "5": 1, "6": 1, "14": 1},
        H: {"3": 2, "3c": 1, "3d": 1, "4": 2, "4b": 1, "5": 1, "6": 1, "6a": 1, "7": 1, "8": 1, "8a": 1,
            "12": 1, "13": 1},
        T: {"3": 1, "3a": 1, "3d": 1, "4": 1},
        DUP: {"3": -1, "4": -1, "4b": -1},  # A1's record of the boy born at H (4100 g)
        "total": {"3": 7, "3a": 4, "3b": 1, "3c": 4, "3d": 2, "3e": 1, "3f": 1, "3g": 1, "4": 7, "4a": 2,
                  "4b": 1, "5": 3, "6": 4, "6a": 2, "7": 2, "8": 1, "8a": 1, "9": 1, "10": 1, "11": 1, "12": 2,
                  "12a": 1, "13": 2, "13a": 1, "14": 3, "14a": 1, "15": 1, "15a": 1, "15b": 1, "16": 1,
                  "16a": 1, "16b": 1, "17": 1, "17a": 1, "17b": 1, "18": 1},
    },
}  # fmt: skip


@pytest.fixture
def district(forms, people, tree, make_user):
    """TTYT A with stations A1, A2, a new A3 and a district hospital H; every record posted by hand."""
    a3_place = AdminUnit.objects.create(
        version=CodeVersion.V2025, level=Level.COMMUNE, code="02299", name="Xã Trung Sơn",
        parent=tree.province_a,
    )  # fmt: skip
    a3 = unit_create(actor=None, code=A3, name="Trạm Y tế xã Trung Sơn", kind=UnitKind.TYT,
                     admin_unit=a3_place, parent=tree.ttyt_a)  # fmt: skip
    hospital = unit_create(actor=None, code=H, name="Bệnh viện huyện Minh Xuân", kind=UnitKind.DISTRICT_HOSPITAL,
                           admin_unit=tree.commune_a1, parent=tree.ttyt_a)  # fmt: skip
    units = {A1: tree.tyt_a1, A2: tree.tyt_a2, A3: a3, H: hospital, T: tree.ttyt_a}
    clients = {}
    for code, unit in units.items():
        c = Client()
        c.force_login(make_user("collector", unit))
        clients[code] = c
    for register, records in RECORDS.items():
        for code in units:
            mine = [r for r in records if r["facility"] == code]
            if not mine:
                continue
            res = clients[code].post(
                f"/api/v1/registers/{register}/records",
                json.dumps({"records": mine}),
                content_type="application/json",
            )
            body = res.json()
            assert res.status_code == 200 and body["rejected"] == 0, (register, code, body)
            assert body["created"] == len(mine), (register, code, body)
    # the stations' BCX3 and the hospital's BCH4–8, approved by the TTYT
    reporters = {code: make_user("reporter", unit) for code, unit in units.items()}
    for code in (A1, A2, A3):
        submit(
            actor=reporters[code], form_code="BCX3", unit_code=code, period=P, warning_comment="đã kiểm tra"
        )
        s.report_approve(actor=people.ttyt_leader, form_code="BCX3", unit_code=code, period=P)
    for form in EXPECTED:
        submit(actor=reporters[H], form_code=form, unit_code=H, period=P, warning_comment="đã kiểm tra")
        s.report_approve(actor=people.ttyt_leader, form_code=form, unit_code=H, period=P)
    return units


@pytest.mark.parametrize("form", sorted(EXPECTED))
def test_r_mch_03_district_every_cell_hand_counted(district, people, form):
    view = report_view(people.ttyt_reporter, form, T, P)
    columns = [c.column for c in view.spec.cells]
    rows = {r.id: r for r in unit_rows(view)}
    assert list(rows) == ([H, A1, A2, A3, T, DUP] if EXPECTED[form][DUP] else [H, A1, A2, A3, T])
    got: dict[str, dict[str, Any]] = {rid: dict(r.values or {}) for rid, r in rows.items()}
    got["total"] = {c.column: view.values[c.key] for c in view.spec.cells}
    expected = {
        rid: {col: cells.get(col, 0) for col in columns}
        for rid, cells in EXPECTED[form].items()
        if rid != DUP or cells
    }
    wrong = [
        (rid, col, got.get(rid, {}).get(col), want)
        for rid, cells in expected.items()
        for col, want in cells.items()
        if got.get(rid, {}).get(col) != want
    ]
    assert wrong == [], wrong
    # the total is the sum of the rows shown (duplicates subtracted once)
    for col in columns:
        assert sum(v[col] for rid, v in got.items() if rid != "total") == got["total"][col], col


def test_r_mch_03_district_duplicate_is_shown_to_the_approver(district, people):
    view = report_view(people.ttyt_leader, "BCH4", T, P)
    pairs = view.duplicates.pairs
    assert [(p.register, p.unit_code, p.source_record_id, p.other_unit_code, p.other_source_record_id, p.by)
            for p in pairs] == [("delivery", A1, "A1-D2", H, "H-D1", "personal_id")]  # fmt: skip
    page = Client()
    page.force_login(people.ttyt_leader)
    html = page.get(f"/reports/BCH4/{T}/{P}/").content.decode()
    assert 'data-testid="duplicates"' in html and "A1-D2" in html and "H-D1" in html


def _post(client: Client, register: str, records: list[dict[str, Any]]) -> None:
    body = json.dumps({"records": records})
    res = client.post(f"/api/v1/registers/{register}/records", body, content_type="application/json")
    assert res.status_code == 200 and res.json()["created"] == len(records), res.content.decode()


def test_r_mch_03_national_rollup_counts_each_event_once(district, tree, make_user):
    """The bulk roll-up (national overviews) takes cross-facility duplicates out like the official totals
    (ADR 0036). District A: every cell of BCH4–8 as counted by hand (A1-D2 = H-D1 once). Province B: a resident
    of B1 delivered at the provincial hospital; B1 records it as "CSYT khác", the hospital records it too. The
    district total of B counts it once (the hospital is not in it), the provincial total once, not twice."""
    from mchis.reports.periods import parse_period
    from mchis.reports.selectors import rollup

    hospital = unit_create(actor=None, code="BVT04", name="Bệnh viện tỉnh Cao Bằng",
                           kind=UnitKind.PROVINCIAL_HOSPITAL, admin_unit=tree.commune_b1, parent=tree.cdc_b)  # fmt: skip
    mai = person("Đinh Thị Mai", "1997-06-06", ethnicity_code="01")  # no personal ID: name + date of birth
    collector_b1, collector_p = Client(), Client()
    collector_b1.force_login(make_user("collector", tree.tyt_b1))
    collector_p.force_login(make_user("collector", hospital))
    birth = {"gestational_age_weeks": 39, "delivery_mode": "normal", "attendant": "doctor",
             "newborns": [{"outcome": "live", "sex": "F", "weight_grams": 3100}]}  # fmt: skip
    _post(collector_b1, "delivery", [rec(tree.tyt_b1.code, "B1-D1", "21", OTHER, mai, **birth)])
    _post(collector_p, "delivery", [rec("BVT04", "P-D1", "22", AT, mai, **birth)])
    out = rollup(parse_period(P))
    for form, cells in EXPECTED.items():
        got = out[(form, tree.ttyt_a.pk)]
        wrong = {k: (got.get(f"T:{k}", 0), v) for k, v in cells["total"].items() if got.get(f"T:{k}", 0) != v}
        assert wrong == {}, (form, wrong)
        extra = {k: v for k, v in got.items() if v and k.split(":", 1)[1] not in cells["total"]}
        assert extra == {}, (form, extra)  # every other cell is 0, as counted
    # province B, deliveries (column 7): B1 1 (its resident, elsewhere), the provincial hospital 1
    assert out[("BCH4", tree.ttyt_b.pk)]["T:7"] == 1  # the hospital is not counted in the district total
    assert out[("BCH4", hospital.pk)]["T:7"] == 1
    assert out[("BCT4", tree.cdc_b.pk)]["T:7"] == 1 + 1 - 1  # B1-D1 = P-D1, taken out once
    assert out[("BCT4", tree.cdc_a.pk)]["T:7"] == 7  # district A's total: its pair is not taken out twice
