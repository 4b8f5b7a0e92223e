"""Property tests of the form-definition parser (issue 11: the parser of the files a new circular adds).

Whatever a file holds, `parse_form` answers with a spec or a FormDefinitionError listing precise problems
(file, JSON path, Vietnamese reason) — never another exception; and a shipped form with one required key
removed or given a wrong type is refused with a problem at that key's path.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mchis.reports.definitions import FormDefinitionError, parse_form

FORMS = Path(__file__).resolve().parents[1] / "forms"
BCX3 = json.loads((FORMS / "bcx3_tt37_2019.json").read_text(encoding="utf-8"))
REQUIRED = ("code", "version", "title", "legal_basis", "valid_from", "level", "period_type", "unit_kinds")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=25,
)


@given(json_values)
def test_any_json_is_a_spec_or_precise_problems(data):
    try:
        parse_form(data, "x.json")
    except FormDefinitionError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.file == "x.json" and p.path.startswith("$") and p.reason


@given(
    key=st.sampled_from(REQUIRED),
    value=st.none() | st.integers() | st.lists(st.integers(), max_size=2) | st.just(""),
)
def test_a_required_key_missing_or_mistyped_is_named(key, value):
    data = copy.deepcopy(BCX3)
    if value is None:
        del data[key]
    else:
        data[key] = value
    try:
        parse_form(data, "bcx3.json")
    except FormDefinitionError as exc:
        assert any(p.path == f"$.{key}" for p in exc.problems), exc.problems
    else:
        raise AssertionError(f"{key}={value!r} was accepted")


def test_the_shipped_form_parses_the_same_twice():
    assert parse_form(copy.deepcopy(BCX3), "a") == parse_form(copy.deepcopy(BCX3), "a")


def _query_row(form):
    return next(r for s in form["sections"] for r in s["rows"] if "query" in r)


@pytest.mark.parametrize(
    ("where", "key", "value", "path"),
    [
        ("section", "rows", None, "$.sections[0].rows"),
        ("query", "unless", [1], ".query.unless"),
        ("row", "parent", [1], ".parent"),
        ("row", "aggregate", [{"form": "BCX3", "cell": "{x}"}], ".aggregate[0].cell"),
        ("row", "aggregate", [{"form": "BCX3", "cell": "{0}"}], ".aggregate[0].cell"),
        ("row", "aggregate", [{"form": "BCX3", "cell": "{"}], ".aggregate[0].cell"),
    ],
)
def test_values_that_used_to_crash_the_parser_are_problems(where, key, value, path):
    """Found by the schema's property test (test_form_schema): a problem at the key, never a TypeError."""
    data = copy.deepcopy(BCX3)
    row = _query_row(data)
    {"section": data["sections"][0], "query": row["query"], "row": row}[where][key] = value
    if not path.startswith("$"):
        si, ri = next((si, s["rows"].index(row)) for si, s in enumerate(data["sections"]) if row in s["rows"])
        path = f"$.sections[{si}].rows[{ri}]{path}"
    try:
        parse_form(data, "bcx3.json")
    except FormDefinitionError as exc:
        assert any(p.path.startswith(path) for p in exc.problems), exc.problems
    else:
        raise AssertionError(f"{key}={value!r} was accepted")
