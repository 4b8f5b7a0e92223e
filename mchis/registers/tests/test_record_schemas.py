"""The JSON Schema of register records (pydantic models, `registers/schemas.py`) agrees with the server's
validator on structure, so the offline form that validates from the schema cannot drift from the server.

Two properties, for every register, on records built by Hypothesis:
- any JSON values: a record the schema accepts has no structural error from the validator;
- values of the JSON type the schema declares: the schema accepts exactly the records without a structural
  error (the validator's extra leniency - "12" for 12, dd/mm/yyyy, a code's Vietnamese name - is for the web
  form and Excel, and stays outside this set).

Catalog membership is not structure: the offline form checks codes against the catalogs it caches, so catalog
fields are drawn from the catalogs here.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema_rs import Draft202012Validator

from mchis.registers.definitions import REGISTERS
from mchis.registers.schemas import record_json_schema
from mchis.registers.validation import Context, FacilityRef, structure_errors, validate_record

CATALOGS = {
    "ethnicity": frozenset(f"{i:02d}" for i in range(1, 56)),
    "contraceptive-method": frozenset(
        {"iud", "injectable", "implant", "pill", "sterilisation", "condom", "other_modern", "traditional"}
    ),
    "icd10": None,  # an open catalog: the structural check only
}
CTX = Context(
    today=date(2026, 6, 30),
    facilities={"TYT01": FacilityRef(1, "TYT01", "/1/", "Trạm Y tế 1")},
    catalog_codes=dict(CATALOGS),
    catalog_names={name: {} for name in CATALOGS},
)
LETTERS = "abcdefghijklmnopqrstuvwxyzĐđăâêôơưáàảãạếềểễệ0123456789"


def _validator(key: str) -> Draft202012Validator:
    return Draft202012Validator(record_json_schema(key), validate_formats=True)


VALIDATORS = {key: _validator(key) for key in REGISTERS}


def _props(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each property's schema without the `anyOf [..., null]` wrapper, plus whether null is allowed."""
    out = {}
    for name, prop in schema["properties"].items():
        options = prop.get("anyOf", [prop])
        typed = next((o for o in options if o.get("type") != "null"), prop)
        out[name] = {**typed, "nullable": any(o.get("type") == "null" for o in options)}
    return out


def _typed(prop: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of the JSON type the schema declares (inside and outside its bounds)."""
    none = st.none()  # null: accepted by both for an optional field, refused by both for a required one
    if "x-catalog" in prop:
        codes = CATALOGS[prop["x-catalog"]]
        if codes is None:  # ICD-10: well-formed and malformed upper-case codes
            return st.one_of(
                none,
                st.from_regex(r"\A[A-Z][0-9]{2}(\.[0-9A-Z]{1,2})?\Z"),
                st.sampled_from(["X1", "ABC", "A1.B"]),
            )
        return st.one_of(none, st.sampled_from(sorted(codes)))
    if "enum" in prop:
        return st.one_of(none, st.sampled_from(prop["enum"]), st.just("khong-co-ma-nay"))
    kind = prop.get("type")
    if kind == "integer":
        lo, hi = int(prop.get("minimum", -5)), int(prop.get("maximum", 100))
        return st.one_of(none, st.integers(lo - 3, hi + 3))
    if kind == "number":
        lo, hi = prop.get("minimum", -5), prop.get("maximum", 100)
        return st.one_of(
            none, st.floats(lo - 3, hi + 3, allow_nan=False), st.integers(int(lo) - 3, int(hi) + 3)
        )
    if kind == "boolean":
        return st.one_of(none, st.booleans())
    if prop.get("format") == "date":
        return st.one_of(
            none,
            st.builds(
                lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
                st.integers(1990, 2030),
                st.integers(0, 13),
                st.integers(0, 32),
            ),
        )
    if kind == "string":
        longest = prop.get("maxLength", 40)
        return st.one_of(none, st.text(LETTERS, max_size=longest + 3), st.just("   "))
    if kind == "array":  # newborns
        item = defs[prop["items"]["$ref"].split("/")[-1]]
        return st.one_of(none, st.lists(_object(item, defs, _typed), max_size=7))
    raise AssertionError(f"no strategy for {prop}")


def _any(prop: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Any JSON value (catalog fields aside, see the module docstring)."""
    if "x-catalog" in prop or prop.get("type") == "array":
        return _typed(prop, defs)
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-100, 10_000), st.floats(allow_nan=False, allow_infinity=False),
        st.text(LETTERS + " /.-,", max_size=30), st.sampled_from(["10/03/2026", "2026-03-10", "có", "1", "0", "12"]),
    )  # fmt: skip
    return st.one_of(_typed(prop, defs), scalars, st.lists(st.integers(), max_size=2))


def _object(schema: dict[str, Any], defs: dict[str, Any], values: Any) -> st.SearchStrategy[dict[str, Any]]:
    props = _props(schema)
    fields = {name: values(prop, defs) for name, prop in props.items()}
    # Every field present or absent; sometimes a field the register does not have.
    return st.builds(
        lambda chosen, extra: {k: v for k, v in chosen.items() if v is not _ABSENT} | extra,
        st.fixed_dictionaries({k: st.one_of(st.just(_ABSENT), v) for k, v in fields.items()}),
        st.one_of(st.just({}), st.just({"khong_co_truong_nay": 1})),
    )


_ABSENT = object()


def _records(key: str, values: Any) -> st.SearchStrategy[dict[str, Any]]:
    schema = record_json_schema(key)
    return _object(schema, schema.get("$defs", {}), values)


def _agree(key: str, record: dict[str, Any], *, exact: bool) -> None:
    accepted = VALIDATORS[key].is_valid(record)
    errors = structure_errors(REGISTERS[key], record, CTX)
    if accepted:
        assert errors == [], f"the schema accepts what the validator refuses: {record} → {errors}"
    elif exact:
        assert errors, f"the schema refuses what the validator reads: {record}: {_why(key, record)}"
    # What the validator reports on structure is part of what it reports on the record.
    reported = validate_record(REGISTERS[key], record, CTX).errors
    assert all(e in reported for e in errors)


def _why(key: str, record: dict[str, Any]) -> list[str]:
    return [e.message for e in VALIDATORS[key].iter_errors(record)]


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("key", sorted(REGISTERS))
def test_the_schema_accepts_nothing_the_validator_refuses(key: str) -> None:
    @FAST
    @given(_records(key, _any))
    def check(record: dict[str, Any]) -> None:
        _agree(key, record, exact=False)

    check()


@pytest.mark.parametrize("key", sorted(REGISTERS))
def test_on_values_of_the_declared_types_schema_and_validator_agree_exactly(key: str) -> None:
    @FAST
    @given(_records(key, _typed))
    def check(record: dict[str, Any]) -> None:
        _agree(key, record, exact=True)

    check()


def _minimal(key: str) -> dict[str, Any]:
    """A structurally valid record with only the required fields."""
    values: dict[str, Any] = {
        "facility": "TYT01", "source_record_id": "R-1", "event_date": "2026-03-10", "full_name": "Trần Thị Hoa",
        "gestational_age_weeks": 8, "method_code": "iud", "is_new_user": True, "icd10_code": "O72",
        "newborns": [{"outcome": "live"}],
    }  # fmt: skip
    schema = record_json_schema(key)
    out = {}
    for name in schema["required"]:
        prop = _props(schema)[name]
        out[name] = values[name] if name in values else prop["enum"][0]
    return out


@pytest.mark.parametrize("key", sorted(REGISTERS))
def test_a_minimal_record_passes_both_and_each_missing_required_field_fails_both(key: str) -> None:
    record = _minimal(key)
    assert VALIDATORS[key].is_valid(record) and structure_errors(REGISTERS[key], record, CTX) == []
    for name in record:
        partial = {k: v for k, v in record.items() if k != name}
        assert not VALIDATORS[key].is_valid(partial)
        assert [e["field"] for e in structure_errors(REGISTERS[key], partial, CTX)] == [name]


@pytest.mark.django_db
def test_the_api_route_and_the_export_command_publish_the_same_schema(collector, tmp_path) -> None:
    api = Client()
    api.force_login(collector)
    served = api.get("/api/v1/registers/delivery/schema").json()
    assert served == record_json_schema("delivery")
    assert served["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert served["properties"]["newborns"]["maxItems"] == 6 and "newborns" in served["required"]
    call_command("export_register_schemas", out=str(tmp_path))
    written = {p.name for p in tmp_path.iterdir()}
    assert written == {f"{key}.schema.json" for key in REGISTERS}
    assert json.loads((tmp_path / "delivery.schema.json").read_text(encoding="utf-8")) == served
