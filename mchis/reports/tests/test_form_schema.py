"""The published JSON Schema of the form-definition files (issue 11 item 5; ``reports/formfile.py``).

The schema is generated from the file models, so validating with the models is validating with the schema (no
JSON Schema library is installed). Proven here: every shipped form validates; the committed schema is the
generated one (and ``report_form_schema --check`` says so, or fails in Vietnamese when stale); whatever
``parse_form`` accepts the models accept (Hypothesis: generated definitions and mutated shipped forms); bad files
are refused at the key that is wrong; the API serves the committed file to any signed-in person.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mchis.reports import formfile
from mchis.reports.definitions import (
    _QUERY_KEYS,
    FORMAT,
    LEVELS,
    LOOKUPS,
    OPERATORS,
    PERIOD_TYPES,
    SEVERITIES,
    FormDefinitionError,
    _At,
    _filter,
    _Problems,
    parse_form,
)
from mchis.reports.formfile import SCHEMA_FILE, FormFile, form_schema, schema_text
from mchis.reports.matching import MATCHER_REGISTER
from mchis.reports.services import FORMS_DIR, read_definition, shipped_form_files

from .test_forms_properties import json_values

SHIPPED = shipped_form_files()


def load(path: Any) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def accepted(data: Any) -> bool:
    try:
        parse_form(copy.deepcopy(data), "x.json")
    except FormDefinitionError:
        return False
    return True


_TAGS = {"str", "int", "float", "bool", "none", "list", "dict", "constrained-str", "constrained-int"}


def error_paths(exc: ValidationError) -> list[str]:
    """pydantic's locations written like parse_form's paths ($.sections[0].rows[2].query.measure); the
    internal tags of unions and validators (anything that is not a key of the file) are left out."""
    out = []
    for e in exc.errors():
        path = "$"
        for part in e["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            elif "[" not in part and part not in _TAGS and not re.fullmatch(r"[A-Z]\w*File", part):
                path += f".{part}"
        out.append(path)
    return out


# ----------------------------------------------------------------------------------------- shipped files
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_form_validates_against_the_file_models(path):
    data = load(path)
    assert data["$schema"] == "./form.schema.json"  # editors validate while the file is typed
    FormFile.model_validate(data)
    assert accepted(data)  # and parse_form tolerates the editor's key


def test_the_schema_file_is_not_loaded_as_a_form():
    assert SCHEMA_FILE in FORMS_DIR.glob("*.json")
    assert SCHEMA_FILE not in SHIPPED and len(SHIPPED) == 12


def test_the_schema_key_changes_neither_the_stored_spec_nor_its_checksum(tmp_path):
    """A version that already has submitted reports must reload unchanged after "$schema" was added."""
    with_key = read_definition(FORMS_DIR / "bcx3_tt37_2019.json")
    bare = load(FORMS_DIR / "bcx3_tt37_2019.json")
    del bare["$schema"]
    plain = tmp_path / "bcx3.json"
    plain.write_text(json.dumps(bare, ensure_ascii=False), encoding="utf-8")
    without_key = read_definition(plain)
    assert with_key[1] == without_key[1]
    assert "$schema" not in with_key[2] and with_key[2] == without_key[2]


# ------------------------------------------------------------------------------------- the committed file
def test_the_committed_schema_is_the_generated_one():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "run: python manage.py report_form_schema"
    )
    call_command("report_form_schema", "--check")


def test_check_fails_in_vietnamese_when_the_committed_schema_is_stale(tmp_path, monkeypatch):
    from mchis.reports.management.commands import report_form_schema

    stale = tmp_path / "form.schema.json"
    stale.write_text('{"title": "cũ"}\n', encoding="utf-8")
    monkeypatch.setattr(report_form_schema, "SCHEMA_FILE", stale)
    with pytest.raises(CommandError, match="đã cũ.*report_form_schema"):
        call_command("report_form_schema", "--check")
    assert stale.read_text(encoding="utf-8") == '{"title": "cũ"}\n'  # --check writes nothing
    call_command("report_form_schema")
    assert stale.read_text(encoding="utf-8") == schema_text()


def test_the_schema_is_draft_2020_12_with_the_constants_of_the_parser():
    schema = form_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == formfile.SCHEMA_ID and schema["title"]
    props = schema["properties"]
    assert props["format"]["const"] == FORMAT
    assert props["level"]["enum"] == list(LEVELS)
    assert props["period_type"]["enum"] == list(PERIOD_TYPES)
    defs = schema["$defs"]
    assert set(defs["QueryFile"]["properties"]) == _QUERY_KEYS
    assert defs["QueryFile"]["additionalProperties"] is False
    assert defs["RuleFile"]["properties"]["op"]["enum"] == list(OPERATORS)
    assert defs["RuleFile"]["properties"]["severity"]["enum"] == list(SEVERITIES)
    unless = defs["QueryFile"]["properties"]["unless"]["anyOf"][0]["enum"]
    assert unless == list(MATCHER_REGISTER)
    filters = defs["ColumnFile"]["properties"]["filters"]["anyOf"][0]
    key = formfile._LOOKUP_KEY
    assert key in filters["patternProperties"] and key.endswith(f"__({'|'.join(LOOKUPS)})?$")
    # descriptions are for form authors: Vietnamese
    assert "Mã biểu" in props["code"]["description"]


# ----------------------------------------------------------------- the schema never rejects a valid file
@given(name=st.text(alphabet="ab1_.", max_size=8), lookup=st.sampled_from(["", *LOOKUPS, "like", "_in"]))
def test_the_filter_key_pattern_is_the_parsers(name, lookup):
    """Which keys a filter may have: the schema's pattern and the parser agree (names up to 63 characters)."""
    key = f"{name}__{lookup}" if lookup else name
    value = [1] if lookup == "in" else True
    parsed = _filter(_At(_Problems("x.json"), "$"), key, value, "$") is not None
    assert bool(re.match(formfile._LOOKUP_KEY, key)) == parsed


_ID = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,6}", fullmatch=True)
_NAME = st.from_regex(r"[a-z_][a-z0-9_]{0,6}(\.[a-z_][a-z0-9_]{0,6})?", fullmatch=True).filter(
    lambda s: "__" not in s and not s.endswith("_")
)
_TEXT = st.text(min_size=1, max_size=12).filter(str.strip)
_SCALAR = st.text(max_size=6) | st.integers() | st.floats(allow_nan=False) | st.booleans()
_EMPTY: st.SearchStrategy[Any] = st.sampled_from([None, False, 0, "", [], {}])


@st.composite
def filter_dicts(draw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in draw(st.lists(_NAME, max_size=3, unique=True)):
        lookup = draw(st.sampled_from([*LOOKUPS, ""]))
        key = f"{name}__{lookup}" if lookup else name
        if lookup == "in":
            out[key] = draw(st.lists(_SCALAR, max_size=3))
        elif lookup == "isnull":
            out[key] = draw(st.booleans())
        else:
            out[key] = draw(_SCALAR | st.lists(_SCALAR, max_size=2))
    return out


def optional(draw: Any, target: dict[str, Any], key: str, values: Any) -> None:
    if draw(st.booleans()):
        target[key] = draw(values)


@st.composite
def queries(draw: Any, count_only: bool = False, nested: bool = True) -> dict[str, Any]:
    q: dict[str, Any] = {"register": draw(st.sampled_from(["anc", "delivery", "newborn", "death"]) | _TEXT)}
    optional(draw, q, "filters", st.none() | filter_dicts())
    optional(draw, q, "any", st.lists(st.none() | filter_dicts(), max_size=2))
    optional(draw, q, "period_field", _NAME | _EMPTY)
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(MATCHER_REGISTER)))
        q |= {"unless": name, "register": MATCHER_REGISTER[name]}
    else:
        optional(draw, q, "unless", _EMPTY)
    if nested and draw(st.integers(0, 3)) == 0:
        q["also"] = draw(queries(count_only=True, nested=False))
        count_only = True
    measures = ["count", "count:x", "count:"] if count_only else ["count", "count_distinct:", "sum:"]
    measure = draw(st.sampled_from(measures))
    if measure.endswith(":") and measure != "count:":
        measure += draw(_NAME)
    optional(draw, q, "measure", st.just(measure))
    return q


@st.composite
def definitions(draw: Any) -> dict[str, Any]:
    """A varied definition meant to be valid: every key, every accepted shape (absent, null, empty, falsy)."""
    col_ids = draw(st.lists(_ID, min_size=1, max_size=3, unique=True))
    columns = []
    for cid in col_ids:
        col: dict[str, Any] = {"id": cid, "label": draw(_TEXT)}
        optional(draw, col, "filters", st.none() | filter_dicts())
        optional(draw, col, "dhis2_coc", json_values)
        optional(draw, col, "x_note", json_values)  # a key the parser ignores
        columns.append(col)
    row_ids = draw(st.lists(_ID, min_size=1, max_size=5, unique=True))
    rows: list[dict[str, Any]] = []
    plain: list[str] = []  # query and manual cells: what formulas and rules may name
    formula_cells: list[tuple[dict[str, Any], str]] = []
    for rid in row_ids:
        row: dict[str, Any] = {"id": rid, "label": draw(_TEXT)}
        rcols = draw(st.lists(st.sampled_from(col_ids), min_size=1, unique=True))
        if draw(st.booleans()) or rcols != col_ids:
            row["columns"] = rcols
        kind = draw(st.sampled_from(["query", "manual", "formula"]))
        if kind == "query":
            row["query"] = draw(queries())
        elif kind == "manual":
            row["manual"] = True
            optional(draw, row, "required", st.booleans())
        cells: dict[str, Any] = {}
        for cid in draw(st.lists(st.sampled_from(rcols), max_size=2, unique=True)):
            over = draw(st.sampled_from(["query", "manual", "formula", "coc"]))
            cell: dict[str, Any] = {}
            if over == "query":
                cell = {"manual": False, "query": draw(queries()), "formula": None}
                optional(draw, cell, "ignore_column_filters", st.booleans())
            elif over == "manual":
                cell = {"manual": True}
                optional(draw, cell, "required", st.booleans())
            elif over == "formula":
                cell = {"manual": False, "query": None}
            optional(draw, cell, "dhis2_coc", json_values)
            optional(draw, cell, "dhis2_data_element", json_values)
            optional(draw, cell, "aggregate", st.lists(st.fixed_dictionaries({"form": _TEXT}), max_size=2))
            cells[cid] = cell
        if cells or draw(st.booleans()):
            row["cells"] = cells or draw(_EMPTY)
        for cid in rcols:
            cell_kind = kind
            spec = cells.get(cid, {})
            if "query" in spec:
                cell_kind = "query" if spec["query"] else "formula"
            elif spec.get("manual") is True:
                cell_kind = "manual"
            if cell_kind == "formula":
                formula_cells.append((spec if "query" in spec else row, cid))
            else:
                plain.append(f"{rid}:{cid}")
        optional(draw, row, "no", json_values)
        optional(draw, row, "dhis2_data_element", json_values)
        optional(
            draw, row, "aggregate", st.lists(st.fixed_dictionaries({"form": _TEXT, "cell": _ID}), max_size=2)
        )
        optional(draw, row, "parent", st.sampled_from(row_ids) | _EMPTY)
        optional(draw, row, "x_note", json_values)
        rows.append(row)
    terms = st.sampled_from(plain) if plain else st.integers(0, 9).map(str)
    term = terms | st.integers(-9, 99).map(str)
    expr = st.lists(term, min_size=1, max_size=3).map(
        lambda ts: "  ".join(t if i == 0 else f"{'+-'[len(t) % 2]} {t}" for i, t in enumerate(ts))
    )
    for target, _cid in formula_cells:
        target["formula"] = draw(expr | st.integers(0, 99)) if plain else draw(st.integers(0, 99).map(str))
    rules = []
    for vid in draw(st.lists(_TEXT, max_size=3, unique_by=str.strip)):
        rule: dict[str, Any] = {"id": vid, "left": draw(expr), "op": draw(st.sampled_from(OPERATORS))}
        rule["right"] = draw(expr)
        optional(draw, rule, "severity", st.sampled_from(SEVERITIES))
        optional(draw, rule, "message", json_values)
        rules.append(rule)
    valid_from = draw(st.dates())
    data: dict[str, Any] = {
        "format": FORMAT,
        "code": draw(_ID),
        "version": draw(_TEXT),
        "title": draw(_TEXT),
        "legal_basis": draw(_TEXT),
        "valid_from": valid_from.isoformat(),
        "level": draw(st.sampled_from(LEVELS)),
        "period_type": draw(st.sampled_from(PERIOD_TYPES)),
        "unit_kinds": draw(st.lists(st.text(max_size=5), min_size=1, max_size=3)),
        "columns": columns,
        "sections": [{"id": draw(_TEXT), "title": draw(_TEXT), "rows": rows}],
    }
    optional(draw, data, "valid_to", st.none() | st.dates(min_value=valid_from).map(lambda d: d.isoformat()))
    optional(draw, data, "deadline_days", st.none() | st.integers(1, 366))
    optional(draw, data, "dhis2_dataset", _TEXT | _EMPTY)
    optional(draw, data, "$schema", st.just("./form.schema.json"))
    optional(draw, data, "x_note", json_values)
    if rules or draw(st.booleans()):
        data["validation"] = rules
    return data


@pytest.mark.one_engine  # form definitions parsed in memory
@settings(max_examples=120, deadline=None)
@given(definitions())
def test_a_definition_parse_form_accepts_always_validates(data):
    assume(accepted(data))
    FormFile.model_validate(data)


SHIPPED_DATA = [load(p) for p in SHIPPED]


@pytest.mark.one_engine
@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_shipped_form_mutated_and_still_accepted_still_validates(data):
    """One key of the file (top level, a column, a section, a rule) set to any JSON value or removed."""
    form = copy.deepcopy(data.draw(st.sampled_from(SHIPPED_DATA)))
    parts = [form, *form["columns"], form["sections"][0], *form.get("validation", [])[:2]]
    part = data.draw(st.sampled_from(parts))
    key = data.draw(st.sampled_from(sorted(part)) | st.sampled_from(["valid_to", "deadline_days", "x"]))
    if data.draw(st.booleans()):
        part.pop(key, None)
    else:
        part[key] = data.draw(json_values)
    assume(accepted(form))
    FormFile.model_validate(form)


# --------------------------------------------------------------------------- bad files, refused by name
BCX3 = load(FORMS_DIR / "bcx3_tt37_2019.json")


def _first_query_row(form: dict[str, Any]) -> dict[str, Any]:
    return next(r for s in form["sections"] for r in s["rows"] if "query" in r)


def _set(path: str, value: Any) -> Any:
    def mutate(form: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = form
        for p in parents:
            target = target[int(p)] if p.isdigit() else target[p]
        target[last] = value

    return mutate


def _query(key: str, value: Any) -> Any:
    def mutate(form: dict[str, Any]) -> None:
        _first_query_row(form)["query"][key] = value

    return mutate


def _also_under_sum(form: dict[str, Any]) -> None:
    _first_query_row(form)["query"] |= {"measure": "sum:age", "also": {"register": "death"}}


def _drop(key: str) -> Any:
    return lambda form: form.pop(key)


BAD = {
    "deadline_days is text": (_set("deadline_days", "5"), "$.deadline_days"),
    "deadline_days out of range": (_set("deadline_days", 400), "$.deadline_days"),
    "level not an enum value": (_set("level", "ward"), "$.level"),
    "period_type not an enum value": (_set("period_type", "weekly"), "$.period_type"),
    "format wrong": (_set("format", "mchis.report-form/2"), "$.format"),
    "code missing": (_drop("code"), "$.code"),
    "code with a space": (_set("code", "BC X3"), "$.code"),
    "title blank": (_set("title", "  "), "$.title"),
    "valid_from not a date": (_set("valid_from", "01/01/2020"), "$.valid_from"),
    "unit_kinds a string": (_set("unit_kinds", "tyt"), "$.unit_kinds"),
    "columns empty": (_set("columns", []), "$.columns"),
    "column label a number": (_set("columns.0.label", 3), "$.columns[0].label"),
    "column filter lookup unknown": (
        _set("columns.1.filters", {"place__like": "x"}),
        "$.columns[1].filters.place__like",
    ),
    "rule op not an enum value": (_set("validation.0.op", "=<"), "$.validation[0].op"),
    "rule severity not an enum value": (_set("validation.0.severity", "fatal"), "$.validation[0].severity"),
    "rule side without spaces": (_set("validation.0.left", "I.5:tyt+I.6:tyt"), "$.validation[0].left"),
    "unknown key in a query": (_query("registre", "anc"), ".query.registre"),
    "query measure unknown": (_query("measure", "avg:age"), ".query.measure"),
    "query register a number": (_query("register", 7), ".query.register"),
    "__in given a string": (_query("filters", {"outcome__in": "live"}), ".query.filters"),
    "__isnull given a string": (_query("filters", {"outcome__isnull": "yes"}), ".query.filters"),
    "unless not a matcher": (_query("unless", "same_person"), ".query.unless"),
    "unless of another register": (_query("unless", "stillbirth_in_delivery_register"), ".query"),
    "also under a sum": (_also_under_sum, ".query"),
    "rows not a list": (_set("sections.0.rows", {"id": "I"}), "$.sections[0].rows"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_file_is_refused_at_the_key_that_is_wrong(name):
    mutate, path = BAD[name]
    form = copy.deepcopy(BCX3)
    mutate(form)
    assert not accepted(form), "the parser refuses it too"
    try:
        FormFile.model_validate(form)
    except ValidationError as exc:
        paths = error_paths(exc)
    else:
        raise AssertionError(f"{name}: the file models accepted it")
    if not path.startswith("$"):
        path = next(
            f"$.sections[{si}].rows[{ri}]{path}"
            for si, s in enumerate(form["sections"])
            for ri, r in enumerate(s["rows"])
            if r is _first_query_row(form)
        )
    assert path in paths, paths


# ------------------------------------------------------------------------------------------------- API
def test_the_api_serves_the_committed_schema_to_any_signed_in_person(tree, make_user):
    for role, unit in (("system_admin", tree.ministry), ("collector", tree.tyt_a1)):
        client = Client()
        client.force_login(make_user(role, unit))
        response = client.get("/api/v1/reports/form-schema")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/json")
        assert response.content.decode() == SCHEMA_FILE.read_text(encoding="utf-8")
    assert Client().get("/api/v1/reports/form-schema").status_code == 401
