"""Issue 12 (last gap): the national roll-up equals the official reports, cell by cell, residents included.

``selectors.rollup`` computes every form of every unit in bulk "as if every report below were approved". Here
every report IS approved, bottom-up, through the real services, and every cell of every form of every unit of
the roll-up is compared with the value the report page shows (``report_view``: the approved snapshot). The data
is the hand-counted district of ``test_district_hand_count`` (TTYT A: stations A1, A2, A3, district hospital H)
plus a provincial hospital PA under CDC A and, in the "residents" case, events of residents served elsewhere
(ADR 0047: derived into their station's "CSYT khác", taken out once where the serving facility is counted):

* H-R1: Xuân, resident of A2, delivers at H — derived into A2; out once in TTYT A's total (H is in it);
* A1-R1: Yên, resident of A3, delivers at station A1 (A1's own service) — derived into A3; out in TTYT A's total;
* H-R2: Bé Tí (2 months), resident of A3, dies at H — derived into A3's child-death rows;
* H-R3: Quý, resident of A2, delivers at H; A2 typed it as "CSYT khác" (A2-R1) — not derived again;
* H-R4: Sáu, resident of A1, has an abortion at H — derived into A1 (abortion register);
* PA-R1: Hằng, resident of A1, caesarean at PA — derived into A1; stays in TTYT A's total, out in CDC A's;
* H-R5: Liên lives in commune 02302, which has no station — derived nowhere, counted once (H's row);
* H-R6: Nga lives in B1's commune (province B) — derived into B1; no total counts both B1 and H: stays in both.

Manual cells (typed by the unit: 0 here) are not in the roll-up: it reads registers only. Every other cell
must be equal.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mchis.places.models import AdminUnit, CodeVersion, Level
from mchis.reports import services as s
from mchis.reports.periods import parse_period
from mchis.reports.selectors import approver_for, forms_in_force, report_view, rollup
from mchis.units.models import ReportingUnit, UnitKind
from mchis.units.services import unit_create

from .registerdata import submit
from .test_district_hand_count import RECORDS, person, rec

P = "2026-01"
AT, OTHER = "at_facility", "other_facility"
A1, A2, A3, H, T = "TYT02269", "TYT02296", "TYT02299", "BVH08-01", "TTYT08-01"
PA, B1 = "BVT08", "TYT01273"
NO_STATION = "02302"


def birth(sex: str, grams: int, mode: str = "normal") -> dict[str, Any]:
    return {"gestational_age_weeks": 39, "delivery_mode": mode, "attendant": "doctor",
            "newborns": [{"outcome": "live", "sex": sex, "weight_grams": grams}]}  # fmt: skip


def woman(name: str, dob: str, home: str = "") -> dict[str, Any]:
    return person(name, dob, ethnicity_code="01", residence_commune_code=home)


QUY = woman("Lò Thị Quý", "1994-09-09")
RESIDENTS: dict[str, list[dict[str, Any]]] = {
    "delivery": [
        rec(H, "H-R1", "11", AT, woman("Nông Thị Xuân", "1995-01-01", "02296"), **birth("F", 3000)),
        rec(A1, "A1-R1", "12", AT, woman("Hà Thị Yên", "1996-02-02", "02299"), **birth("M", 3300)),
        rec(A2, "A2-R1", "13", OTHER, QUY, **birth("M", 3400)),
        rec(H, "H-R3", "13", AT, {**QUY, "residence_commune_code": "02296"}, **birth("M", 3400)),
        rec(PA, "PA-R1", "20", AT, woman("Ma Thị Hằng", "1990-03-03", "02269"),
            **birth("F", 4300, "caesarean")),
        rec(H, "H-R5", "21", AT, woman("Đàm Thị Liên", "1993-04-04", NO_STATION), **birth("F", 2800)),
        rec(H, "H-R6", "22", AT, woman("Bế Thị Nga", "1992-05-05", "01273"), **birth("M", 3100)),
    ],
    "abortion": [
        rec(H, "H-R4", "14", AT, woman("Lăng Thị Sáu", "1991-06-06", "02269"), gestational_age_weeks=7,
            method="medical"),
    ],
    "death": [
        rec(H, "H-R2", "24", AT, person("Bé Tí", "2025-11-10", sex="M", ethnicity_code="01",
                                        residence_commune_code="02299"), death_kind="child", icd10_code="J18"),
    ],
}  # fmt: skip


def _post(unit: ReportingUnit, register: str, records: list[dict[str, Any]], make_user: Any) -> None:
    c = Client()
    c.force_login(make_user("collector", unit))
    res = c.post(f"/api/v1/registers/{register}/records", json.dumps({"records": records}),
                 content_type="application/json")  # fmt: skip
    body = res.json()
    assert res.status_code == 200 and body["created"] == len(records), (register, unit.code, body)


def _approve_everything(make_user: Any) -> None:
    """Every monthly report of every unit, deepest units first, submitted and approved by the real services."""
    period = parse_period(P)
    monthly = [f for f in forms_in_force(period.start) if f.period_type == "monthly"]
    units = sorted(ReportingUnit.objects.all(), key=lambda u: (-u.path.count("/"), u.code))
    people: dict[tuple[str, int], Any] = {}

    def user(role: str, unit: ReportingUnit) -> Any:
        if (role, unit.pk) not in people:
            people[(role, unit.pk)] = make_user(role, unit)
        return people[(role, unit.pk)]

    for unit in units:
        for form in (f for f in monthly if unit.kind in f.unit_kinds):
            approver = approver_for(unit)
            assert approver is not None, unit.code
            submit(actor=user("reporter", unit), form_code=form.code, unit_code=unit.code, period=P,
                   warning_comment="đã kiểm tra")  # fmt: skip
            s.report_approve(
                actor=user("leader", approver), form_code=form.code, unit_code=unit.code, period=P
            )


@pytest.fixture
def province(forms, tree, make_user, request):
    """TTYT A with A1, A2, A3 and H (the hand-counted district), PA under CDC A; with residents: RESIDENTS."""
    a3_place = AdminUnit.objects.create(version=CodeVersion.V2025, level=Level.COMMUNE, code="02299",
                                        name="Xã Trung Sơn", parent=tree.province_a)  # fmt: skip
    AdminUnit.objects.create(version=CodeVersion.V2025, level=Level.COMMUNE, code=NO_STATION,
                             name="Xã Không Trạm", parent=tree.province_a)  # fmt: skip
    a3 = unit_create(actor=None, code=A3, name="Trạm Y tế xã Trung Sơn", kind=UnitKind.TYT, admin_unit=a3_place,
                     parent=tree.ttyt_a)  # fmt: skip
    h = unit_create(actor=None, code=H, name="Bệnh viện huyện Minh Xuân", kind=UnitKind.DISTRICT_HOSPITAL,
                    admin_unit=tree.commune_a1, parent=tree.ttyt_a)  # fmt: skip
    pa = unit_create(actor=None, code=PA, name="Bệnh viện tỉnh Tuyên Quang", kind=UnitKind.PROVINCIAL_HOSPITAL,
                     admin_unit=tree.commune_a1, parent=tree.cdc_a)  # fmt: skip
    units = {A1: tree.tyt_a1, A2: tree.tyt_a2, A3: a3, H: h, T: tree.ttyt_a, PA: pa, B1: tree.tyt_b1}
    data = [RECORDS] + ([RESIDENTS] if request.param else [])
    for records in data:
        for register, rows in records.items():
            for code, unit in units.items():
                mine = [r for r in rows if r["facility"] == code]
                if mine:
                    _post(unit, register, mine, make_user)
    return units


def _typed(spec: Any) -> set[str]:
    """Manual cells and the formulas that read one (directly or through another formula)."""
    typed = {c.key for c in spec.cells if c.manual}
    grew = True
    while grew:
        more = {c.key for c in spec.cells if c.formula and any(t.cell in typed for t in c.formula)} - typed
        typed |= more
        grew = bool(more)
    return typed


def _official(out: dict[tuple[str, int], dict[str, Any]], viewer: Any) -> list[tuple[Any, ...]]:
    """Every (form, unit, cell) where the roll-up and the approved report disagree."""
    codes = dict(ReportingUnit.objects.values_list("pk", "code"))
    wrong = []
    for (form, uid), got in sorted(out.items()):
        view = report_view(viewer, form, codes[uid], P)
        assert view.status == "approved" and not view.live, (form, codes[uid], view.status)
        typed = _typed(view.spec)
        wrong += [
            (form, codes[uid], key, got.get(key), view.values.get(key))
            for key in sorted(set(got) | set(view.values))
            if key not in typed and got.get(key) != view.values.get(key)
        ]
        assert not set(got) & typed, (form, codes[uid])  # the roll-up never invents a typed value
    return wrong


@pytest.mark.parametrize("province", [True], indirect=True, ids=["residents"])
def test_r_mch_03_rollup_equals_every_approved_report_with_residents_served_elsewhere(
    province, tree, make_user
):
    _approve_everything(make_user)
    out = rollup(parse_period(P))
    viewer = make_user("leader", tree.ministry_dept)
    assert {code for code, _ in out} == {"BCX3", "BCH4", "BCH5", "BCH6", "BCH7", "BCH8", "BCT4", "BCT5", "BCT6",
                                         "BCT7", "BCT8"}  # fmt: skip
    assert len(out) == 4 + 4 * 5 + 2 * 5  # 4 stations; TTYT A, H, PA, TTYT B × BCH4–8; CDC A, B × BCT4–8
    assert _official(out, viewer) == []
    # the case is the one described: which events were derived, where they were taken out
    derived = {
        code: sorted(r.source_record_id for r in report_view(viewer, "BCX3", code, P).residents)
        for code in (A1, A2, A3, B1)
    }
    assert derived == {A1: ["H-R4", "PA-R1"], A2: ["H-R1"], A3: ["A1-R1", "H-R2"], B1: ["H-R6"]}
    district = report_view(viewer, "BCH4", T, P)
    assert sorted((p.other_source_record_id, p.by) for p in district.duplicates.pairs) == [
        ("A1-R1", "residence"), ("H-D1", "personal_id"), ("H-R1", "residence"), ("H-R3", "name_dob")
    ]  # fmt: skip
    cdc = report_view(viewer, "BCT4", tree.cdc_a.code, P)
    assert [(p.other_source_record_id, p.by) for p in cdc.duplicates.pairs] == [("PA-R1", "residence")]
    # deliveries (BCH4/BCT4 column 7), each once: the hand count's 7 + Xuân, Yên, Quý, Liên, Nga (at H or A1)
    # + Hằng (A1's derived row: PA is not in the district) = 13 in TTYT A; CDC A: 13 + PA's Hằng − 1 = 13;
    # B1's derived Nga stays in TTYT B (H is not counted there)
    a, b, a3 = tree.ttyt_a.pk, tree.ttyt_b.pk, province[A3].pk
    assert (out[("BCH4", a)]["T:7"], out[("BCT4", tree.cdc_a.pk)]["T:7"], out[("BCH4", b)]["T:7"]) == (
        13,
        13,
        1,
    )
    assert (out[("BCX3", a3)]["I.5:other"], out[("BCX3", a3)]["III.12:other"]) == (1, 1)  # Yên; Bé Tí


@pytest.mark.parametrize("province", [False], indirect=True, ids=["no-residents"])
def test_r_mch_03_rollup_equals_every_approved_report_without_residents_elsewhere(province, tree, make_user):
    """No row carries a residence code: nothing is derived, and the roll-up still equals every report (the
    district's hand-counted totals are checked in test_district_hand_count)."""
    _approve_everything(make_user)
    out = rollup(parse_period(P))
    viewer = make_user("leader", tree.ministry_dept)
    assert _official(out, viewer) == []
    assert all(not report_view(viewer, "BCX3", code, P).residents for code in (A1, A2, A3, B1))
    assert out[("BCH4", tree.ttyt_a.pk)]["T:7"] == 7  # as counted by hand


@pytest.mark.parametrize("province", [True], indirect=True, ids=["residents"])
def test_r_mch_07_rollup_statements_do_not_grow_with_stations(province, tree, make_user):
    """The roll-up reads residents in bulk: more communes, stations and residents served elsewhere add no
    statement (a per-unit read would add at least one per station)."""
    period = parse_period(P)
    with CaptureQueriesContext(connection) as before:
        first = rollup(period)
    extra = []
    for i in range(4):
        code = f"0231{i}"
        place = AdminUnit.objects.create(version=CodeVersion.V2025, level=Level.COMMUNE, code=code,
                                         name=f"Xã Thử {i}", parent=tree.province_a)  # fmt: skip
        extra.append(unit_create(actor=None, code=f"TYT{code}", name=f"Trạm Y tế xã Thử {i}", kind=UnitKind.TYT,
                                 admin_unit=place, parent=tree.ttyt_a))  # fmt: skip
        # a resident of the new commune served at H, and one served at station A2
        _post(province[H], "delivery", [rec(H, f"H-N{i}", "16", AT, woman(f"Lê Thị Mới {i}", "1997-01-01", code),
                                            **birth("F", 3000))], make_user)  # fmt: skip
        _post(province[A2], "death", [rec(A2, f"A2-N{i}", "17", AT, woman(f"Lê Thị Mất {i}", "1980-01-01", code),
                                          death_kind="maternal", icd10_code="O72")], make_user)  # fmt: skip
    with CaptureQueriesContext(connection) as after:
        second = rollup(period)
    assert len(second) == len(first) + 4
    assert all(second[("BCX3", u.pk)]["I.5:other"] == 1 for u in extra)
    assert len(after) <= len(before), (len(before), len(after))
    assert len(after) <= 70, len(after)  # a few per register and form group for the whole tree (58 here)


@pytest.mark.parametrize("province", [True], indirect=True, ids=["residents"])
def test_r_mch_03_residents_read_in_bulk_as_one_station_at_a_time(province, monkeypatch):
    """``residents_of`` for every station at once gives each station what it gives that station alone, also
    when the lists are too long for an IN (...) list (a national roll-up: the rows are read by a wider filter)."""
    from mchis.reports.selectors import form_in_force
    from mchis.reports.selectors import residents as r

    period = parse_period(P)
    spec = form_in_force("BCX3", period.start).parsed()
    stations = {u.pk: (u.code, r.commune_code(u)) for u in province.values() if u.kind == UnitKind.TYT}
    one_by_one = {
        uid: r.resident_events(spec, u, period) for uid, u in ((u.pk, u) for u in province.values())
    }
    one_by_one = {uid: found for uid, found in one_by_one.items() if found}
    assert sorted(len(found) for found in one_by_one.values()) == [1, 1, 2, 2]  # A2; B1; A1, A3
    assert r.residents_of(spec, stations, period) == one_by_one
    monkeypatch.setattr(r, "CHUNK", 0)
    assert r.residents_of(spec, stations, period) == one_by_one


@pytest.mark.parametrize("province", [True], indirect=True, ids=["residents"])
def test_r_mch_03_rollup_is_the_same_when_the_units_are_too_many_to_list(
    province, tree, make_user, monkeypatch
):
    """Above `WIDE_UNIT_LIST` units (the national roll-up) each statement groups every unit's rows and keeps the
    asked ones instead of listing them: the same values, unit by unit and cell by cell, and no unit's rows leak
    into a form it does not file (hospitals' rows are in the registers, but not in BCX3)."""
    from mchis.reports import compute

    period = parse_period(P)
    listed = rollup(period)
    monkeypatch.setattr(compute, "WIDE_UNIT_LIST", 0)
    with CaptureQueriesContext(connection) as queries:
        grouped = rollup(period)
    assert grouped == listed and len(listed) == 4 + 4 * 5 + 2 * 5
    assert any(" IN (" not in q["sql"] and "GROUP BY" in q["sql"] for q in queries.captured_queries)
    assert {code for code, _ in grouped} >= {"BCX3", "BCH4", "BCT4"}
