"""R-MCH-03: report forms are versioned data files, validated precisely, loaded atomically."""

from __future__ import annotations

import contextlib
import copy
import csv
import json
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given
from hypothesis import strategies as st

from mchis.reports.definitions import FormDefinitionError, parse_expr, parse_form
from mchis.reports.models import FormDefinition
from mchis.reports.selectors import form_in_force
from mchis.reports.services import FORMS_DIR, forms_load

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _bcx() -> dict:
    return json.loads((FORMS_DIR / "bcx3_tt37_2019.json").read_text(encoding="utf-8"))


def test_r_mch_03_commune_form_has_every_row_of_the_ministry_list_in_three_sections():
    spec = parse_form(_bcx(), "bcx3")
    with (FIXTURES / "mch_commune_report_rows.csv").open(encoding="utf-8") as fh:
        expected = {f"{r['section']}.{r['row_no']}" for r in csv.DictReader(fh)}
    ids = {r.id for r in spec.rows()}
    # "Tr đó: nam / Tr đó: nữ" is split into two rows
    assert (expected - {"III.1.1"}) <= ids and {"III.1.1m", "III.1.1f"} <= ids
    assert [s.id for s in spec.sections] == ["I", "II", "III"]
    assert spec.legal_basis == "Thông tư 37/2019/TT-BYT" and spec.level == "commune"
    deliveries = spec.cell("I.5.1a:tyt").query
    assert deliveries and deliveries.register == "delivery"
    assert {(f.field, f.value) for f in deliveries.filters} == {
        ("is_adolescent", True),
        ("place", "at_facility"),
    }
    assert spec.cell("I.1:total").manual


def test_r_mch_03_district_forms_have_every_column_of_the_ministry_list():
    with (FIXTURES / "mch_district_province_report_columns.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for bieu in "45678":
        for prefix in ("bch", "bct"):
            spec = parse_form(json.loads((FORMS_DIR / f"{prefix}{bieu}_tt37_2019.json").read_text()), prefix)
            assert [c.id for c in spec.columns] == [r["col_no"] for r in rows if r["bieu"] == bieu]


def test_r_mch_03_loader_loads_all_shipped_forms(db):
    call_command("load_report_forms")
    codes = set(FormDefinition.objects.values_list("code", flat=True))
    assert codes == {"BCX3", "MLBC1"} | {f"BCH{i}" for i in "45678"} | {f"BCT{i}" for i in "45678"}
    assert FormDefinition.objects.get(code="MLBC1").period_type == "yearly"
    call_command("load_report_forms")  # idempotent
    assert FormDefinition.objects.count() == 12


@pytest.mark.parametrize(
    ("mutate", "path", "reason"),
    [
        (lambda d: d.pop("code"), "$.code", "thiếu"),
        (lambda d: d.update(level="village"), "$.level", "không hợp lệ"),
        (lambda d: d.update(valid_from="2020-13-01"), "$.valid_from", "ngày không hợp lệ"),
        (
            lambda d: d["sections"][0]["rows"][2].update(query={"register": "anc", "measure": "avg"}),
            "$.sections[0].rows[2].query.measure",
            "measure",
        ),
        (
            lambda d: d["sections"][0]["rows"][2].update(
                query={"register": "anc", "filters": {"x__like": 1}}
            ),
            "$.sections[0].rows[2].query.filters.x__like",
            "phép so",
        ),
        (
            lambda d: d["sections"][0]["rows"][2].update(columns=["total", "nowhere"]),
            "$.sections[0].rows[2].columns",
            "nowhere",
        ),
        (
            lambda d: d["validation"].append({"id": "x", "left": "I.99:total", "op": ">=", "right": "0"}),
            "$.validation",
            "I.99:total",
        ),
        (
            lambda d: d["validation"].append({"id": "y", "left": "I.2:total", "op": "=>", "right": "0"}),
            "$.validation",
            "phép so",
        ),
        (lambda d: d["sections"][0]["rows"][3].update(id="I.2"), "$.sections[0].rows[3].id", "bị trùng"),
    ],
)
def test_r_mch_03_malformed_definition_reports_file_path_and_reason(mutate, path, reason):
    data = copy.deepcopy(_bcx())
    mutate(data)
    with pytest.raises(FormDefinitionError, match=r"bad\.json: ") as exc:
        parse_form(data, "bad.json")
    problems = exc.value.problems
    assert any(p.file == "bad.json" and p.path.startswith(path) and reason in p.reason for p in problems), (
        problems
    )


def test_r_mch_03_unknown_register_field_is_refused_and_nothing_is_loaded(db, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_bcx(), ensure_ascii=False), encoding="utf-8")
    bad_data = _bcx()
    bad_data["code"] = "BCX9"
    bad_data["sections"][0]["rows"][2]["query"] = {"register": "anc", "filters": {"no_such_field": True}}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_data, ensure_ascii=False), encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": ', encoding="utf-8")
    with pytest.raises(CommandError, match=r"2 lỗi: không nạp tệp nào\."):
        call_command("load_report_forms", str(good), str(bad), str(broken))
    assert FormDefinition.objects.count() == 0  # all or nothing
    with pytest.raises(FormDefinitionError, match=r"bad\.json: ") as exc:
        forms_load(actor=None, paths=[good, bad, broken])
    text = "\n".join(str(p) for p in exc.value.problems)
    assert (
        "bad.json: $.cells[I.2:total].query.filters.no_such_field: sổ 'anc' không có trường 'no_such_field'"
        in text
    )
    assert "broken.json: dòng 1" in text


def test_r_mch_03_new_circular_is_a_new_version_file_and_both_coexist_by_date(db, tmp_path):
    call_command("load_report_forms")
    v2 = _bcx()
    v2["version"] = "TT23-2025"
    v2["legal_basis"] = "Thông tư 23/2025/TT-BYT"
    v2["valid_from"] = "2026-01-01"
    row = v2["sections"][0]["rows"][2]
    assert row["id"] == "I.2"
    row["label"] = "Phụ nữ mới có thai (TT 23)"
    row["query"] = {"register": "anc", "filters": {"is_new_pregnancy": True, "trimester": 1}}
    path = tmp_path / "bcx3_tt23_2025.json"
    path.write_text(json.dumps(v2, ensure_ascii=False), encoding="utf-8")
    call_command("load_report_forms", str(path))
    assert FormDefinition.objects.filter(code="BCX3").count() == 2
    old = form_in_force("BCX3", date(2025, 12, 1))
    new = form_in_force("BCX3", date(2026, 1, 1))
    assert old.version == "TT37-2019" and new.version == "TT23-2025"
    assert ("trimester", 1) in {(f.field, f.value) for f in new.parsed().cell("I.2:total").query.filters}
    assert "trimester" not in {f.field for f in old.parsed().cell("I.2:total").query.filters}


def test_r_mch_03_cell_query_is_human_readable():
    spec = parse_form(_bcx(), "bcx3")
    query = spec.cell("II.5.1:out").query
    assert query is not None
    text = query.describe()
    assert (
        "Đếm số bản ghi" in text
        and "'abortion'" in text
        and "gestational_band = 'le_7'" in text
        and "place = 'outside'" in text
    )


@given(st.lists(st.tuples(st.sampled_from(["+", "-"]), st.integers(0, 999)), min_size=1, max_size=6))
def test_r_mch_03_expression_parser_round_trips_integer_sums(terms):
    text = " ".join(f"{s} {n}" if i else f"{n}" for i, (s, n) in enumerate(terms))
    parsed = parse_expr(text)
    expected = terms[0][1] + sum((n if s == "+" else -n) for s, n in terms[1:])
    assert sum(t.sign * t.constant for t in parsed) == expected


@given(st.text(min_size=1, max_size=20))
def test_r_mch_03_expression_parser_never_crashes(text):
    with contextlib.suppress(ValueError):
        parse_expr(text)


def test_r_mch_03_a_period_date_the_register_does_not_declare_is_refused(db, tmp_path):
    """A write marks changed only the months of the record and of its register's period dates (analytics,
    registers.ingest): a form counting by another date (the mother's date of birth) would go stale, so the
    loader refuses it, naming the dates that may be used."""
    bad_data = _bcx()
    bad_data["code"] = "BCX9"
    bad_data["sections"][0]["rows"][2]["query"] = {"register": "anc", "period_field": "dob"}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(FormDefinitionError, match=r"bad\.json: ") as exc:
        forms_load(actor=None, paths=[bad])
    text = "\n".join(str(p) for p in exc.value.problems)
    assert (
        "period_field: 'dob' không phải ngày tính kỳ báo cáo của sổ 'anc' (được dùng: chỉ tháng của sự kiện)"
        in text
    )
    assert FormDefinition.objects.count() == 0
