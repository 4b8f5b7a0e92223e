"""Build the shipped TT 37/2019 form files from the Ministry row/column lists (run by hand, output committed).

    python -m mchis.reports.forms.generate

The product never runs this: it reads the JSON files it wrote. It exists so the mapping row -> register query
is reviewable in one table, and the CSVs in ../fixtures stay the source of the row labels and order.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
LEGAL = "Thông tư 37/2019/TT-BYT"
VALID_FROM = "2020-01-01"
MODERN = ["iud", "injectable", "implant", "pill", "sterilisation", "condom", "other_modern"]

PLACE_COLUMNS = [
    {"id": "total", "label": "Tổng số", "dhis2_coc": "TOTAL"},
    {"id": "tyt", "label": "Tại TYT", "filters": {"place": "at_facility"}, "dhis2_coc": "AT_TYT"},
    {
        "id": "out",
        "label": "Ngoài CSYT (tại nhà, trên đường…)",
        "filters": {"place": "outside"},
        "dhis2_coc": "OUTSIDE",
    },
    {
        "id": "other",
        "label": "CSYT khác",
        "filters": {"place": "other_facility"},
        "dhis2_coc": "OTHER_FACILITY",
    },
    {"id": "c_total", "label": "Mắc: Tổng số", "dhis2_coc": "CASE_TOTAL"},
    {"id": "c_tyt", "label": "Mắc: Tại TYT", "filters": {"place": "at_facility"}, "dhis2_coc": "CASE_AT_TYT"},
    {"id": "c_out", "label": "Mắc: Ngoài CSYT", "filters": {"place": "outside"}, "dhis2_coc": "CASE_OUTSIDE"},
    {"id": "d_total", "label": "TV: Tổng số", "dhis2_coc": "DEATH_TOTAL"},
    {"id": "d_tyt", "label": "TV: Tại TYT", "filters": {"place": "at_facility"}, "dhis2_coc": "DEATH_AT_TYT"},
    {"id": "d_out", "label": "TV: Ngoài CSYT", "filters": {"place": "outside"}, "dhis2_coc": "DEATH_OUTSIDE"},
]
COLSETS = {
    "Tổng số": ["total"],
    "Tổng số | Tại TYT | Ngoài CSYT": ["total", "tyt", "out"],
    "4": ["total", "tyt", "out", "other"],
    "comp": ["c_total", "c_tyt", "c_out", "d_total", "d_tyt", "d_out"],
}


def q(
    register: str,
    measure: Any = "count",
    any_: Any = None,
    period_field: Any = "",
    unless_: Any = "",
    also_: Any = None,
    **filters: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {"register": register, "filters": filters, "measure": measure}
    if any_:
        out["any"] = any_
    if period_field:
        out["period_field"] = period_field
    if unless_:
        out["unless"] = unless_
    if also_:
        out["also"] = also_
    return out


LIVE = {"outcome": "live"}
# One event, one truth (issue 12.7): a stillbirth in the delivery register is a fetal death (≥ 22 weeks: the
# delivery register only holds births from 22 weeks) whether or not the death register has it; a fetal death
# in the death register adds only when the same facility's delivery register does not hold that stillbirth.
FETAL_DEATHS = q(
    "newborn",
    outcome="stillbirth",
    also_=q("death", death_kind="fetal", unless_="stillbirth_in_delivery_register"),
)
# Maternal deaths: the death register, plus a death marked in a delivery outcome that it does not hold.
MATERNAL_DEATHS = q(
    "death",
    death_kind="maternal",
    also_=q("delivery", maternal_death=True, unless_="maternal_death_in_death_register"),
)
# Child nutrition from the child-exam register (issue 12.8): WHO 2006 z-scores computed at write time
# (registers.validation.child_zscores), cut-offs < −2 SD (underweight, stunted, wasted: oedema counts as wasted)
# and > +2 SD (overweight). Counted per exam (lượt) of a child under 5 (completed months < 60) in the month.
# Not in the Ministry's row list (`in_core_listing = mchis` in the fixture): row id -> (query, parent, BCH8 col).
U5 = {"age_months__lt": 60}
U2 = {"age_months__lt": 24}
MEASURED = {"weight_kg__isnull": False}
NUTRITION: dict[str, tuple[Any, str, str]] = {
    "III.14": (q("child_exam", **U5, **MEASURED), "", "14"),
    "III.14.1": (q("child_exam", sex="F", **U5, **MEASURED), "III.14", "14a"),
}
for _row, _flag, _col in (("15", "underweight", "15"), ("16", "stunted", "16"), ("17", "wasted", "17"),
                          ("18", "overweight", "18")):  # fmt: skip
    NUTRITION[f"III.{_row}"] = (q("child_exam", **{_flag: True}, **U5), "", _col)
    NUTRITION[f"III.{_row}.1"] = (q("child_exam", **{_flag: True}, sex="F", **U5), f"III.{_row}", f"{_col}a")
    NUTRITION[f"III.{_row}.2"] = (q("child_exam", **{_flag: True}, **U2), f"III.{_row}", f"{_col}b")


# Row -> (query | "manual" | formula string, parent row for "sub-row ≤ total" rules)
COMMUNE: dict[str, tuple[Any, str]] = {
    "I.1": ("manual", ""),
    "I.1.1": ("manual", "I.1"),
    "I.2": (q("anc", is_new_pregnancy=True), ""),
    "I.2.1": (q("anc", is_new_pregnancy=True, is_adolescent=True), "I.2"),
    "I.3": (q("anc"), ""),
    "I.4": (q("anc", urine_protein_tested=True), "I.3"),
    "I.5": (q("delivery"), ""),
    "I.5.1a": (q("delivery", is_adolescent=True), "I.5"),
    "I.5.1b": (q("delivery", is_ethnic_minority=True), "I.5"),
    "I.5.1c": (q("delivery", anc_managed=True), "I.5"),
    "I.5.1d": (q("delivery", tetanus_fully_vaccinated=True), "I.5"),
    "I.5.2": (q("delivery", anc_4_in_3_trimesters=True), "I.5"),
    "I.5.2a": (q("delivery", anc_4_in_3_trimesters=True, is_ethnic_minority=True), "I.5.2"),
    "I.5.3": (q("delivery", any_=[{"hepb_tested_pregnancy": True}, {"hepb_tested_labour": True}]), "I.5"),
    "I.5.3a": (q("delivery", hepb_tested_pregnancy=True), "I.5.3"),
    "I.5.3b": (q("delivery", hepb_tested_labour=True), "I.5.3"),
    "I.5.3c": (q("delivery", hepb_positive=True), "I.5.3"),
    "I.5.4": (
        q("delivery", any_=[{"syphilis_tested_pregnancy": True}, {"syphilis_tested_labour": True}]),
        "I.5",
    ),
    "I.5.4a": (q("delivery", syphilis_tested_pregnancy=True), "I.5.4"),
    "I.5.4b": (q("delivery", syphilis_tested_labour=True), "I.5.4"),
    "I.5.4c": (q("delivery", syphilis_positive=True), "I.5.4"),
    "I.5.5a": (q("delivery", hiv_tested_pregnancy=True), "I.5"),
    "I.5.5b": (q("delivery", hiv_tested_labour=True), "I.5"),
    "I.5.6": (q("delivery", hiv_positive=True), "I.5"),
    "I.5.7": (q("delivery", hiv_confirmed_in_pregnancy=True), "I.5.6"),
    "I.5.8": (q("delivery", glucose_tested=True), "I.5"),
    "I.5.8a": (q("delivery", glucose_high=True), "I.5.8"),
    "I.5.9b": (q("delivery", attended_by_health_worker=True), "I.5"),
    "I.5.9c": (q("delivery", skilled_attendant=True), "I.5.9b"),
    "I.6": (q("newborn", birth_certificate=True), ""),
    "I.7": ("I.8.1:{column} + I.8.2:{column}", ""),
    "I.8.1": (q("delivery", period_field="postpartum_week1_date"), ""),
    "I.8.2": (q("delivery", period_field="postpartum_week2_6_date"), ""),
    "I.9": (" + ".join(f"I.9.{i}:{{column}}" for i in range(1, 8)), ""),
    "I.10": (MATERNAL_DEATHS, ""),
    "I.10.1": (q("death", death_kind="maternal", maternal_death_reviewed=True), "I.10"),
    "II.1": (q("gyn"), ""),
    "II.1.1": (q("gyn", via_done=True), "II.1"),
    "II.1.2": (q("gyn", via_done=True, via_result="positive"), "II.1.1"),
    "II.1.3": (q("gyn", via_done=True, via_result="suspect_cancer"), "II.1.1"),
    "II.1.4": (q("gyn", pap_sample_sent=True), "II.1"),
    "II.1.5": (q("gyn", hpv_sample_sent=True), "II.1"),
    "II.2": (q("gyn", treated=True), ""),
    "II.2.2": (q("gyn", hpv_vaccinated=True), ""),
    "II.3": (q("contraception", is_new_user=True, method_code__in=MODERN), ""),
    "II.3.1": (q("contraception", is_new_user=True, method_code="iud"), "II.3"),
    "II.3.2": (q("contraception", is_new_user=True, method_code="injectable"), "II.3"),
    "II.3.3": (q("contraception", is_new_user=True, method_code="implant"), "II.3"),
    "II.3.4": (q("contraception", is_new_user=True, method_code="pill"), "II.3"),
    "II.3.5": (q("contraception", is_new_user=True, method_code="sterilisation"), "II.3"),
    "II.3.6": (q("contraception", is_new_user=True, method_code="sterilisation", sex="M"), "II.3.5"),
    "II.3.7": (q("contraception", is_new_user=True, method_code="condom"), "II.3"),
    "II.3.8": (q("contraception", is_new_user=True, method_code="other_modern"), "II.3"),
    "II.4": (q("contraception", complication=True), ""),
    "II.5": (q("abortion"), ""),
    "II.5.1": (q("abortion", gestational_band="le_7"), "II.5"),
    "II.5.2": (q("abortion", is_adolescent=True), "II.5"),
    "III.1": (q("newborn", **LIVE), ""),
    "III.1.1m": (q("newborn", sex="M", **LIVE), "III.1"),
    "III.1.1f": (q("newborn", sex="F", **LIVE), "III.1"),
    "III.1.2": (q("newborn", is_ethnic_minority=True, **LIVE), "III.1"),
    "III.2": (q("newborn", eenc=True, **LIVE), "III.1"),
    "III.2a": (
        q("newborn", eenc=True, **{"delivery.delivery_mode__in": ["normal", "instrumental"]}, **LIVE),
        "III.2",
    ),
    "III.2b": (q("newborn", eenc=True, **{"delivery.delivery_mode": "caesarean"}, **LIVE), "III.2"),
    "III.2c": (q("newborn", kangaroo_care=True, **LIVE), "III.1"),
    "III.3": (q("newborn", is_preterm=True, **LIVE), "III.1"),
    "III.4": (q("newborn", asphyxia=True, **LIVE), "III.1"),
    "III.5": (q("newborn", weighed=True, **LIVE), "III.1"),
    "III.6": (q("newborn", low_birth_weight=True, **LIVE), "III.5"),
    "III.7": (q("newborn", high_birth_weight=True, **LIVE), "III.5"),
    "III.8.1": (q("newborn", vitamin_k1=True, **LIVE), "III.1"),
    "III.8.2": (q("newborn", hepb_vaccine=True, **LIVE), "III.1"),
    "III.8.3": (q("newborn", hepb_vaccine_24h=True, **LIVE), "III.8.2"),
    "III.9": (FETAL_DEATHS, ""),
    "III.10": (q("death", death_kind="child", under_7d=True), "III.11"),
    "III.11": (q("death", death_kind="child", under_28d=True), "III.12"),
    "III.12": (q("death", death_kind="child", under_1y=True), "III.13"),
    "III.12.1": (q("death", death_kind="child", under_1y=True, is_ethnic_minority=True), "III.12"),
    "III.13": (q("death", death_kind="child", under_5y=True), ""),
    "III.13.1": (q("death", death_kind="child", under_5y=True, is_ethnic_minority=True), "III.13"),
    **{rid: (spec, parent) for rid, (spec, parent, _) in NUTRITION.items()},
}
# Obstetric complications: cases (Mắc) from the delivery/newborn/abortion registers, deaths (TV) from deaths.
COMPLICATIONS = {
    "I.9.1": (q("delivery", comp_haemorrhage=True), "haemorrhage"),
    "I.9.2": (q("delivery", comp_eclampsia=True), "eclampsia"),
    "I.9.3": (q("newborn", neonatal_tetanus=True), "neonatal_tetanus"),
    "I.9.4": (q("delivery", comp_uterine_rupture=True), "uterine_rupture"),
    "I.9.5": (q("delivery", comp_infection=True), "infection"),
    "I.9.6": (q("abortion", complication=True), "abortion"),
    "I.9.7": (q("delivery", comp_other=True), "other"),
}
SECTION_TITLES = {
    "I": "I. Chăm sóc bà mẹ",
    "II": "II. Khám chữa phụ khoa, kế hoạch hóa gia đình và phá thai",
    "III": "III. Sức khỏe trẻ em",
}


def commune_form() -> dict[str, Any]:
    sections: dict[str, list[dict[str, Any]]] = {"I": [], "II": [], "III": []}
    rules: list[dict[str, Any]] = []
    with (FIXTURES / "mch_commune_report_rows.csv").open(encoding="utf-8") as fh:
        src = list(csv.DictReader(fh))
    expanded = []
    for r in src:
        rid = f"{r['section']}.{r['row_no']}"
        if rid == "III.1.1":  # "Tr đó: nam / Tr đó: nữ" is two rows
            expanded.append((r, "III.1.1m", "Tr đó: nam", "1.1"))
            expanded.append((r, "III.1.1f", "Tr đó: nữ", "1.1"))
        else:
            expanded.append((r, rid, r["label_vi"], r["row_no"]))
    for r, rid, label, no in expanded:
        cols_text = r["columns"]
        if cols_text.startswith("Mắc/TV"):
            cols = COLSETS["comp"]
        elif cols_text.count("|") == 3:
            cols = COLSETS["4"]
        else:
            cols = COLSETS[cols_text]
        row: dict[str, Any] = {"id": rid, "no": no, "label": label, "columns": cols}
        if r["in_core_listing"] == "ext":
            row["note"] = "Hàng bổ sung (ext) theo phần mềm thống kê của Bộ"
        elif r["in_core_listing"] == "mchis":
            row["note"] = "Hàng bổ sung: dinh dưỡng trẻ em theo chuẩn WHO 2006, tính từ sổ khám trẻ em"
        if rid in COMPLICATIONS:
            cases, death_code = COMPLICATIONS[rid]
            death = q("death", obstetric_complication=death_code)
            row["cells"] = {c: {"query": cases} for c in cols if c.startswith("c_")}
            row["cells"].update({c: {"query": death} for c in cols if c.startswith("d_")})
            row["parent"] = "I.9"
        else:
            spec, parent = COMMUNE[rid]
            if spec == "manual":
                row["manual"] = True
            elif isinstance(spec, str):
                row["formula"] = spec
            else:
                row["query"] = spec
            if parent:
                row["parent"] = parent
        sections[r["section"]].append(row)
    for rows in sections.values():
        for row in rows:
            cols = row["columns"]
            if row.get("parent"):
                for c in cols:
                    rules.append(  # noqa: PERF401
                        {
                            "id": f"sub-{row['id']}-{c}",
                            "left": f"{row['id']}:{c}",
                            "op": "<=",
                            "right": f"{row['parent']}:{c}",
                            "severity": "error",
                            "message": f"Hàng {row['id']} (trong đó) không được lớn hơn hàng {row['parent']}.",
                        }
                    )
            if cols == COLSETS["4"]:
                rules.append(
                    {
                        "id": f"place-{row['id']}",
                        "left": f"{row['id']}:total",
                        "op": "==",
                        "right": f"{row['id']}:tyt + {row['id']}:out + {row['id']}:other",
                        "severity": "error",
                        "message": f"Hàng {row['id']}: Tổng số phải bằng Tại TYT + Ngoài CSYT + CSYT khác.",
                    }
                )
            elif cols == COLSETS["Tổng số | Tại TYT | Ngoài CSYT"]:
                rules.append(
                    {
                        "id": f"place-{row['id']}",
                        "left": f"{row['id']}:total",
                        "op": ">=",
                        "right": f"{row['id']}:tyt + {row['id']}:out",
                        "severity": "error",
                        "message": f"Hàng {row['id']}: Tổng số không được nhỏ hơn Tại TYT + Ngoài CSYT.",
                    }
                )
    rules += [
        {
            "id": "births-vs-deliveries",
            "left": "III.1:total",
            "op": ">=",
            "right": "I.5:total",
            "severity": "warning",
            "message": "Số trẻ đẻ ra sống thường không ít hơn số phụ nữ đẻ (trừ thai chết lưu): kiểm tra lại sổ đẻ.",
        },
        {
            "id": "sex-split",
            "left": "III.1.1m:total + III.1.1f:total",
            "op": "<=",
            "right": "III.1:total",
            "severity": "error",
            "message": "Trẻ nam + trẻ nữ không được lớn hơn tổng số trẻ đẻ ra sống.",
        },
        {
            "id": "new-preg-vs-visits",
            "left": "I.2:total",
            "op": "<=",
            "right": "I.3:total",
            "severity": "error",
            "message": "Số phụ nữ mới có thai không được lớn hơn số lượt khám thai.",
        },
    ]
    return {
        "format": "mchis.report-form/1",
        "code": "BCX3",
        "version": "TT37-2019",
        "title": "Biểu 3/BCX — Hoạt động chăm sóc sức khỏe bà mẹ, trẻ em (tuyến xã)",
        "legal_basis": LEGAL,
        "valid_from": VALID_FROM,
        "valid_to": None,
        "level": "commune",
        "unit_kinds": ["tyt"],
        "period_type": "monthly",
        "dhis2_dataset": "BCX3",
        "columns": PLACE_COLUMNS,
        "sections": [{"id": k, "title": SECTION_TITLES[k], "rows": v} for k, v in sections.items()],
        "validation": rules,
    }


# Forms 4-8: column -> (query or formula, BCX3 cell aggregated from a commune's approved report, or "")
BCH: dict[str, dict[str, tuple[Any, str]]] = {
    "4": {
        "3": (q("anc", is_new_pregnancy=True), "I.2:total"),
        "4": (q("anc", is_new_pregnancy=True, is_adolescent=True), "I.2.1:total"),
        "5": (q("anc"), "I.3:total"),
        "6": (q("anc", urine_protein_tested=True), "I.4:total"),
        "7": (q("delivery"), "I.5:total"),
        "8": (q("delivery", is_adolescent=True), "I.5.1a:total"),
        "9": (q("delivery", anc_4_in_3_trimesters=True), "I.5.2:total"),
        "10": (q("delivery", hepb_tested_pregnancy=True), "I.5.3a:total"),
        "11": (q("delivery", syphilis_tested_pregnancy=True), "I.5.4a:total"),
        "12": (q("delivery", hiv_tested_pregnancy=True), "I.5.5a:total"),
        "13": (q("delivery", hiv_confirmed_in_pregnancy=True), "I.5.7:total"),
        "14": (q("delivery", hiv_positive=True, hiv_arv_treated=True), ""),
        "15": (q("delivery", glucose_tested=True), "I.5.8:total"),
        "16": (q("delivery", delivery_mode="instrumental"), ""),
        "17": (q("delivery", delivery_mode="caesarean"), ""),
        "18": (q("delivery", skilled_attendant=True), "I.5.9c:total"),
        "19": (q("newborn", birth_certificate=True), "I.6:total"),
        "20": (q("delivery", period_field="postpartum_week1_date"), "I.8.1:total"),
        "21": (q("delivery", period_field="postpartum_week2_6_date"), "I.8.2:total"),
        "22": (q("death", death_kind="maternal", maternal_death_reviewed=True), "I.10.1:total"),
    },
    "5": {
        "3": (" + ".join(f"T:{c}" for c in ("5", "7", "9", "11", "13", "15", "17")), ""),
        "4": (" + ".join(f"T:{c}" for c in ("6", "8", "10", "12", "14", "16", "18")), ""),
        **{str(5 + 2 * i): (COMPLICATIONS[f"I.9.{i + 1}"][0], f"I.9.{i + 1}:c_total") for i in range(7)},
        **{
            str(6 + 2 * i): (
                q("death", obstetric_complication=COMPLICATIONS[f"I.9.{i + 1}"][1]),
                f"I.9.{i + 1}:d_total",
            )
            for i in range(7)
        },
    },
    "6": {
        "3a": (q("gyn", purpose="treatment"), ""),
        "3b": (q("gyn", purpose="screening"), ""),
        "4": (q("gyn", treated=True), "II.2:total"),
        "5": (q("gyn", treated_syphilis=True), ""),
        "6": (q("gyn", treated_gonorrhoea=True), ""),
        "7": (q("gyn", cryo_or_cautery=True), ""),
        "8": (q("gyn", leep=True), ""),
        "9": (q("gyn", cervical_cured=True), ""),
        "10": (q("gyn", via_done=True), "II.1.1:total"),
        "11": (q("gyn", via_done=True, via_result="positive"), "II.1.2:total"),
        "12": (q("gyn", via_done=True, via_result="suspect_cancer"), "II.1.3:total"),
        "13": (q("gyn", pap_sample_sent=True), "II.1.4:total"),
        "14": (q("gyn", pap_abnormal=True), ""),
        "15": (q("gyn", hpv_sample_sent=True), "II.1.5:total"),
        "16": (q("gyn", hpv_positive=True), ""),
    },
    "7": {
        "3": (q("contraception", is_new_user=True, method_code__in=MODERN), "II.3:total"),
        "4": (q("contraception", is_new_user=True, method_code="iud"), "II.3.1:total"),
        "5": (q("contraception", is_new_user=True, method_code="injectable"), "II.3.2:total"),
        "6": (q("contraception", is_new_user=True, method_code="implant"), "II.3.3:total"),
        "7": (q("contraception", is_new_user=True, method_code="pill"), "II.3.4:total"),
        "8": (q("contraception", is_new_user=True, method_code="sterilisation"), "II.3.5:total"),
        "9": (q("contraception", is_new_user=True, method_code="sterilisation", sex="M"), "II.3.6:total"),
        "10": (q("contraception", is_new_user=True, method_code="condom"), "II.3.7:total"),
        "11": (q("contraception", is_new_user=True, method_code="other_modern"), "II.3.8:total"),
        "12": (q("abortion"), "II.5:total"),
        "13": (q("abortion", gestational_band="le_7"), "II.5.1:total"),
        "14": (q("abortion", gestational_band="w8_12"), ""),
        "15": (q("abortion", gestational_band="gt_12"), ""),
        "16": (q("abortion", is_adolescent=True), "II.5.2:total"),
    },
    "8": {
        "3": (q("newborn", **LIVE), "III.1:total"),
        "3a": (q("newborn", sex="F", **LIVE), "III.1.1f:total"),
        "3b": (q("newborn", is_ethnic_minority=True, **LIVE), "III.1.2:total"),
        "3c": (
            q("newborn", eenc=True, **{"delivery.delivery_mode__in": ["normal", "instrumental"]}, **LIVE),
            "III.2a:total",
        ),
        "3d": (q("newborn", eenc=True, **{"delivery.delivery_mode": "caesarean"}, **LIVE), "III.2b:total"),
        "3e": (q("newborn", kangaroo_care=True, **LIVE), "III.2c:total"),
        "3f": (q("newborn", is_preterm=True, **LIVE), "III.3:total"),
        "3g": (q("newborn", asphyxia=True, **LIVE), "III.4:total"),
        "4": (q("newborn", weighed=True, **LIVE), "III.5:total"),
        "4a": (q("newborn", low_birth_weight=True, **LIVE), "III.6:total"),
        "4b": (q("newborn", high_birth_weight=True, **LIVE), "III.7:total"),
        "5": (q("newborn", vitamin_k1=True, **LIVE), "III.8.1:total"),
        "6": (q("newborn", hepb_vaccine=True, **LIVE), "III.8.2:total"),
        "6a": (q("newborn", hepb_vaccine_24h=True, **LIVE), "III.8.3:total"),
        "7": (q("newborn", newborn_screening=True, **LIVE), ""),
        "8": (q("newborn", mother_hiv_positive=True, **LIVE), ""),
        "8a": (q("newborn", mother_hiv_positive=True, arv_prophylaxis=True, **LIVE), ""),
        "9": (FETAL_DEATHS, "III.9:total"),
        "10": (q("death", death_kind="child", under_7d=True), "III.10:total"),
        "11": (q("death", death_kind="child", under_28d=True), "III.11:total"),
        "12": (q("death", death_kind="child", under_1y=True), "III.12:total"),
        "12a": (q("death", death_kind="child", under_1y=True, is_ethnic_minority=True), "III.12.1:total"),
        "13": (q("death", death_kind="child", under_5y=True), "III.13:total"),
        "13a": (q("death", death_kind="child", under_5y=True, is_ethnic_minority=True), "III.13.1:total"),
        **{col: (spec, f"{rid}:total") for rid, (spec, _, col) in NUTRITION.items()},
    },
}
# "Trong đó" columns of forms 4-8 that must not exceed their total column.
BCH_SUBS = {
    "4": [("4", "3"), ("6", "5"), ("8", "7"), ("9", "7"), ("15", "7"), ("16", "7"), ("17", "7"), ("18", "7")],
    "5": [],
    "6": [("11", "10"), ("12", "10")],
    "7": [(c, "3") for c in ("4", "5", "6", "7", "8", "10", "11")]
    + [("9", "8"), ("13", "12"), ("14", "12"), ("15", "12"), ("16", "12")],
    "8": [(c, "3") for c in ("3a", "3b", "3c", "3d", "3e", "3f", "3g", "4", "5", "6", "7", "8")]
    + [
        ("4a", "4"),
        ("4b", "4"),
        ("6a", "6"),
        ("8a", "8"),
        ("10", "11"),
        ("11", "12"),
        ("12", "13"),
        ("12a", "12"),
        ("13a", "13"),
        ("14a", "14"),
    ]
    + [(f"{n}{x}", n) for n in ("15", "16", "17", "18") for x in ("a", "b")],
}


def district_form(bieu: str, level: str) -> dict[str, Any]:
    suffix = "BCH" if level == "district" else "BCT"
    code = f"{suffix}{bieu}"
    with (FIXTURES / "mch_district_province_report_columns.csv").open(encoding="utf-8") as fh:
        cols = [r for r in csv.DictReader(fh) if r["bieu"] == bieu]
    title = cols[0]["title"]
    columns = [{"id": c["col_no"], "label": c["column_label_vi"], "dhis2_coc": "TOTAL"} for c in cols]
    cells: dict[str, Any] = {}
    for c in cols:
        spec, bcx_cell = BCH[bieu][c["col_no"]]
        cell: dict[str, Any] = {"dhis2_data_element": f"{code}_C{c['col_no']}"}
        if isinstance(spec, str):
            cell["formula"] = spec
        else:
            cell["query"] = spec
            agg = []
            if level == "district" and bcx_cell:
                agg.append({"form": "BCX3", "cell": bcx_cell})
            if level == "district":  # district hospitals under a TTYT send the same form
                agg.append({"form": code, "cell": f"T:{c['col_no']}"})
            if level == "province":
                agg.append({"form": f"BCH{bieu}", "cell": f"T:{c['col_no']}"})
            cell["aggregate"] = agg
        cells[c["col_no"]] = cell
    rules = [
        {
            "id": f"sub-{a}",
            "left": f"T:{a}",
            "op": "<=",
            "right": f"T:{b}",
            "severity": "error",
            "message": f"Cột {a} (trong đó) không được lớn hơn cột {b}.",
        }
        for a, b in BCH_SUBS[bieu]
    ]
    return {
        "format": "mchis.report-form/1",
        "code": code,
        "version": "TT37-2019",
        "title": f"Biểu {bieu}/{suffix} — {title.capitalize()}",
        "legal_basis": LEGAL,
        "valid_from": VALID_FROM,
        "valid_to": None,
        "level": level,
        "unit_kinds": ["ttyt", "district_hospital", "prov_hospital"] if level == "district" else ["cdc"],
        "period_type": "monthly",
        "dhis2_dataset": code,
        "columns": columns,
        "sections": [
            {
                "id": "T",
                "title": title,
                "rows": [
                    {
                        "id": "T",
                        "no": "",
                        "label": "Tổng cộng (đơn vị và các đơn vị trực thuộc đã duyệt)",
                        "cells": cells,
                    }
                ],
            }
        ],
        "validation": rules,
    }


def network_form() -> dict[str, Any]:
    rows = [
        ("N1", "Số trạm y tế xã"),
        ("N1.1", "Trđ: Số TYT có bác sĩ làm việc"),
        ("N1.2", "Trđ: Số TYT có hộ sinh hoặc y sĩ sản nhi"),
        ("N1.3", "Trđ: Số TYT thực hiện đỡ đẻ"),
        ("N2", "Số nhân viên y tế thôn bản hoạt động"),
        ("N3", "Số cô đỡ thôn bản được đào tạo"),
        ("N4", "Số cơ sở y tế có khoa/phòng sản"),
        ("N5", "Số giường bệnh sản khoa"),
        ("N6", "Số giường bệnh nhi khoa"),
    ]
    parents = {"N1.1": "N1", "N1.2": "N1", "N1.3": "N1"}
    return {
        "format": "mchis.report-form/1",
        "code": "MLBC1",
        "version": "TT37-2019",
        "title": "Biểu 1 (năm) — Mạng lưới chăm sóc SKBMTE/SKSS",
        "legal_basis": LEGAL,
        "valid_from": VALID_FROM,
        "valid_to": None,
        "level": "network",
        "unit_kinds": ["ttyt", "cdc", "doh"],
        "period_type": "yearly",
        "dhis2_dataset": "MLBC1",
        "columns": [{"id": "total", "label": "Số lượng", "dhis2_coc": "TOTAL"}],
        "sections": [
            {
                "id": "N",
                "title": "Mạng lưới (số liệu nhập tay tại thời điểm 31/12)",
                "rows": [
                    {
                        "id": rid,
                        "no": rid[1:],
                        "label": label,
                        "manual": True,
                        "aggregate": [{"form": "MLBC1", "cell": f"{rid}:total"}],
                        **({"parent": parents[rid]} if rid in parents else {}),
                    }
                    for rid, label in rows
                ],
            }
        ],
        "validation": [
            {
                "id": f"sub-{r}",
                "left": f"{r}:total",
                "op": "<=",
                "right": f"{p}:total",
                "severity": "error",
                "message": f"Hàng {r} không được lớn hơn hàng {p}.",
            }
            for r, p in parents.items()
        ],
    }


def main() -> None:
    out = {"bcx3_tt37_2019.json": commune_form(), "mlbc1_tt37_2019.json": network_form()}
    for bieu in ("4", "5", "6", "7", "8"):
        out[f"bch{bieu}_tt37_2019.json"] = district_form(bieu, "district")
        out[f"bct{bieu}_tt37_2019.json"] = district_form(bieu, "province")
    for name, data in out.items():
        # editors (VS Code…) validate the file against the published schema while it is edited
        data = {"$schema": "./form.schema.json"} | data
        (HERE / name).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(name)


if __name__ == "__main__":
    main()
