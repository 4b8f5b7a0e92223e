"""Register records as pydantic models, and the JSON Schema they publish.

One model per register, built from the `FieldSpec` tables in `definitions.py` (a field is declared once): the
structural contract of a record sent to `POST /api/v1/registers/{register}/records` and of the offline entry
form, which validates in the browser from the exported JSON Schema (`manage.py export_register_schemas`, or
`GET /api/v1/registers/{register}/schema`).

The server's validator (`validation.validate_record`) stays the one that decides: it also reads what people
type in the web form and in Excel (dd/mm/yyyy dates, "có/không", a code's Vietnamese name), looks codes up in
the catalogs, and applies the registers' rules. The schema is the strict JSON form of the same structure:
`tests/test_record_schemas.py` holds that a record the schema accepts has no structural error from the
validator, and that a structural error of the validator (type, range, length, list, required, unknown field)
is refused by the schema too.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from .definitions import MAX_NEWBORNS, NEWBORN_FIELDS, REGISTERS, FieldSpec, RegisterDef, get_register

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# A record sent by a machine client names its row in the sending system (the idempotency key of an upsert).
API_REQUIRED = frozenset({"source_record_id"})
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
NOT_BLANK = r"\S"
ICD10 = r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,2})?$"  # catalogs.ICD10_PATTERN, in the regex dialect of JSON Schema


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _value_type(spec: FieldSpec, *, required: bool) -> Any:
    """The annotation of one field's value (without None)."""
    info: dict[str, Any] = {}
    if spec.kind == "date":
        # ISO only: "format": "date" alone lets some checkers accept 20260310, which the validator does not read.
        return Annotated[date, Field(json_schema_extra={"pattern": ISO_DATE})]
    if spec.kind in ("int", "decimal"):
        if spec.min is not None:
            info["ge"] = spec.min
        if spec.max is not None:
            info["le"] = spec.max
        return Annotated[int if spec.kind == "int" else float, Field(strict=True, **info)]
    if spec.kind == "bool":
        return Annotated[bool, Field(strict=True)]
    if spec.kind == "choice":
        # An optional choice may be sent blank (""), as the validator reads it: no value.
        values = tuple(v for v in spec.choice_values() if v) + (() if required else ("",))
        return Literal[values]
    # A required text must hold more than spaces (the validator trims, then finds it blank).
    text: dict[str, Any] = {"pattern": NOT_BLANK} if required else {}
    if spec.catalog == "icd10":  # the validator's own structural check (any listed code also has this shape)
        return Annotated[str, Field(pattern=ICD10, json_schema_extra={"x-catalog": spec.catalog})]
    if spec.kind == "catalog":
        return Annotated[str, Field(**text, json_schema_extra={"x-catalog": spec.catalog})]
    return Annotated[str, Field(**text, max_length=spec.max_length)]


def _field(spec: FieldSpec, *, required: bool) -> tuple[Any, Any]:
    value = _value_type(spec, required=required)
    described: dict[str, Any] = {"title": spec.label}
    if spec.help:
        described["description"] = spec.help
    elif spec.kind == "catalog":
        described["description"] = f"Mã danh mục '{spec.catalog}'"
    if required:
        return value, Field(..., **described)
    return value | None, Field(None, **described)


@cache
def newborn_model() -> type[BaseModel]:
    """One newborn of a delivery (sổ đẻ)."""
    return _build(
        "Newborn", "Trẻ sơ sinh", {spec.name: _field(spec, required=spec.required) for spec in NEWBORN_FIELDS}
    )


@cache
def record_model(key: str) -> type[BaseModel]:
    """The pydantic model of one record of register `key` (404 `UnknownRegister` for an unknown key)."""
    reg: RegisterDef = get_register(key)
    name = "".join(part.title() for part in key.split("_")) + "Record"
    fields: dict[str, Any] = {
        spec.name: _field(spec, required=spec.required or spec.name in API_REQUIRED)
        for spec in reg.all_fields
    }
    if reg.newborns:
        fields["newborns"] = (
            list[newborn_model()],  # type: ignore[misc]  # a model built at run time
            Field(..., min_length=1, max_length=MAX_NEWBORNS, title="Trẻ sơ sinh"),
        )
    return _build(name, reg.label, fields)


def _build(name: str, title: str, fields: dict[str, Any]) -> type[BaseModel]:
    base = type(f"_{name}Base", (_Record,), {"model_config": ConfigDict(extra="forbid", title=title)})
    model: type[BaseModel] = create_model(name, __base__=base, **fields)
    return model


def record_json_schema(key: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one record of register `key`."""
    schema = record_model(key).model_json_schema()
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"/api/v1/registers/{key}/schema", **schema}


def all_json_schemas() -> dict[str, dict[str, Any]]:
    """Every register's record schema, by register key (what the offline form caches)."""
    return {key: record_json_schema(key) for key in REGISTERS}
