"""Report form definitions as data (biểu mẫu báo cáo, R-MCH-03): parse and validate one definition file.

A form version (phiên bản biểu mẫu) is a JSON document; the format is documented in
``mchis/reports/forms/README.md`` and docs/decisions/0020-report-forms-as-data.md. This module is pure:
it turns a dict into the frozen dataclasses of ``formspec`` or raises ``FormDefinitionError`` listing every
problem as (file, path, reason). Checking field names against the register models happens in ``compute`` (it
needs Django's app registry); the loader calls both before writing anything.

One pydantic model per part of the file (ADR 0038): ``HeaderDef`` (the top-level keys), ``ColumnDef``,
``SectionDef`` → ``RowDef`` → ``CellDef`` (the cells a row spans), ``QueryDef`` and ``RuleDef``. Each validates
its own part in a ``mode="before"`` validator that records every problem — with the file's JSON path and the
reason a form author reads — in the validation context (``_At``: the problem list and the part's path) and
hands pydantic clean values for its typed fields, so one pass reports every problem, not the first.
``parse_form`` runs the parts in file order, then the checks across parts (parents, formula cells, rule
cells), and builds the ``FormSpec``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator

from .formspec import (
    AggregateSource,
    Cell,
    Column,
    Filter,
    FormDefinitionError,
    FormSpec,
    Problem,
    Query,
    Row,
    Rule,
    Section,
    Term,
)
from .matching import MATCHER_REGISTER

__all__ = [
    "FORMAT",
    "LEVELS",
    "LOOKUPS",
    "MEASURES",
    "OPERATORS",
    "PERIOD_TYPES",
    "SEVERITIES",
    "AggregateSource",
    "Cell",
    "Column",
    "Filter",
    "FormDefinitionError",
    "FormSpec",
    "Problem",
    "Query",
    "Row",
    "Rule",
    "Section",
    "Term",
    "parse_expr",
    "parse_form",
]

FORMAT = "mchis.report-form/1"
LEVELS = ("commune", "district", "province", "network")
PERIOD_TYPES = ("monthly", "yearly")
SEVERITIES = ("error", "warning")
OPERATORS = ("==", "!=", ">=", "<=", ">", "<")
MEASURES = ("count", "count_distinct", "sum")
# Lookups allowed in filters: a small, safe subset of Django's (no joins across arbitrary relations).
LOOKUPS = ("exact", "in", "gte", "lte", "gt", "lt", "isnull", "ne")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}\Z")
# A register field, or one hop through a foreign key written with a dot ("delivery.delivery_mode").
_FIELD = re.compile(r"^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?\Z")
_QUERY_KEYS = {"register", "filters", "measure", "any", "period_field", "unless", "also"}


class _Problems:
    """Every problem of one file, in the order the parts are read."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.list: list[Problem] = []

    def err(self, path: str, reason: str) -> None:
        self.list.append(Problem(self.file, path, reason))


@dataclass
class _At:
    """The validation context of one part: where the problems go, the part's JSON path, what the form says
    around it (the form code and columns a row needs, the row ids seen so far)."""

    problems: _Problems
    path: str
    form: _FormCtx | None = None

    def err(self, path: str, reason: str) -> None:
        self.problems.err(path, reason)

    def at(self, path: str) -> _At:
        return _At(self.problems, path, self.form)


@dataclass
class _FormCtx:
    code: str
    columns: list[Column]
    column_ids: set[str]
    row_ids: set[str]
    cells: list[Cell]


def _str(at: _At, obj: dict[str, Any], key: str, path: str, *, required: bool = True) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            at.err(f"{path}.{key}", "thiếu trường bắt buộc")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        at.err(f"{path}.{key}", "phải là chuỗi không rỗng")
        return ""
    return value


def _date(at: _At, obj: dict[str, Any], key: str, path: str, *, required: bool) -> date | None:
    value = obj.get(key)
    if value is None:
        if required:
            at.err(f"{path}.{key}", "thiếu trường bắt buộc (YYYY-MM-DD)")
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        at.err(f"{path}.{key}", f"ngày không hợp lệ {value!r} (cần YYYY-MM-DD)")
        return None


def _filter(at: _At, key: str, value: Any, path: str) -> Filter | None:
    name, _, lookup = key.partition("__")
    lookup = lookup or "exact"
    if not _FIELD.match(name):
        reason = f"tên trường không hợp lệ {name!r}"
    elif lookup not in LOOKUPS:
        reason = f"phép so '{lookup}' không được hỗ trợ (cho phép: {', '.join(LOOKUPS)})"
    elif lookup == "in" and not isinstance(value, list):
        reason = "giá trị của __in phải là danh sách"
    elif lookup == "isnull" and not isinstance(value, bool):
        reason = "giá trị của __isnull phải là true/false"
    elif not isinstance(value, str | int | float | bool | list) or isinstance(value, dict):
        reason = "giá trị phải là chuỗi, số, true/false hoặc danh sách"
    else:
        return Filter(name, lookup, tuple(value) if isinstance(value, list) else value)
    at.err(f"{path}.{key}", reason)
    return None


def _filters(at: _At, raw: Any, path: str) -> tuple[Filter, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        at.err(path, 'filters phải là object {"trường__phép_so": giá trị}')
        return ()
    out = [f for key, value in raw.items() if (f := _filter(at, key, value, path)) is not None]
    return tuple(sorted(out, key=lambda f: (f.field, f.lookup)))


def parse_expr(text: str) -> tuple[Term, ...]:
    """'I.5:total - I.5:tyt + 3' -> terms. Raises ValueError on junk."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("biểu thức rỗng")
    terms: list[Term] = []
    stripped = text.strip()
    # Split on + / - that are surrounded by spaces, so row ids like 'I.5.1a' or 'II.3-x' stay intact.
    tokens = re.split(r"\s+([+-])\s+", stripped)
    sign = 1
    for i, part in enumerate(tokens):
        if i % 2 == 1:
            sign = -1 if part == "-" else 1
            continue
        tok = part.strip()
        if tok.startswith("-") and tok[1:].isdigit():
            terms.append(Term(-sign, constant=int(tok[1:])))
        elif tok.isdigit():
            terms.append(Term(sign, constant=int(tok)))
        elif ":" in tok and " " not in tok:
            terms.append(Term(sign, cell=tok))
        else:
            raise ValueError(f"không hiểu '{tok}' (cần 'hàng:cột' hoặc số nguyên)")
    return tuple(terms)


class _Part(BaseModel):
    """A part of the file. ``read`` validates it at a path; the problems go to the context, never raised."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    @classmethod
    def read(cls, raw: Any, at: _At) -> Self | None:
        """The part, or None when it is not even an object (its problem is recorded)."""
        try:
            return cls.model_validate(raw, context=at)
        except ValidationError as exc:  # a value the part's own checks let through: still a precise problem
            for e in exc.errors():
                where = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in e["loc"])
                at.err(f"{at.path}{where}", f"giá trị không hợp lệ ({e['msg']})")
            return None


def _context(info: ValidationInfo) -> _At:
    at = info.context
    assert isinstance(at, _At), "a form part is read with _Part.read(raw, at)"
    return at


class QueryDef(_Part):
    """``query``: the register rows behind a cell (count / count distinct / sum), optional ``also`` part."""

    register_name: str
    filters: tuple[Filter, ...] = ()
    measure: str = "count"
    measure_field: str = ""
    any_of: tuple[tuple[Filter, ...], ...] = ()
    period_field: str = ""
    unless: str = ""
    also: QueryDef | None = None
    ok: bool = True  # False: the part is malformed (its problems are recorded), no query is built

    @model_validator(mode="before")
    @classmethod
    def _check(cls, raw: Any, info: ValidationInfo) -> dict[str, Any]:
        at = _context(info)
        path = at.path
        if not isinstance(raw, dict):
            at.err(path, "query phải là object {register, filters, measure}")
            return {"register_name": "", "ok": False}
        register = _str(at, raw, "register", path)
        measure_raw = raw.get("measure", "count")
        measure, _, mfield = str(measure_raw).partition(":")
        if measure not in MEASURES:
            at.err(
                f"{path}.measure",
                f"measure '{measure_raw}' không hợp lệ (count | count_distinct:trường | sum:trường)",
            )
        elif measure != "count" and not _FIELD.match(mfield):
            at.err(f"{path}.measure", f"'{measure}' cần tên trường, ví dụ '{measure}:person_key'")
        unknown = set(raw) - _QUERY_KEYS
        if unknown:
            at.err(path, f"khóa không được hỗ trợ: {', '.join(sorted(unknown))}")
        any_raw = raw.get("any", [])
        if not isinstance(any_raw, list):
            at.err(f"{path}.any", "phải là danh sách các nhóm điều kiện (nối bằng HOẶC)")
            any_raw = []
        any_of = tuple(_filters(at, alt, f"{path}.any[{i}]") for i, alt in enumerate(any_raw))
        period_field = raw.get("period_field", "")
        if period_field and (not isinstance(period_field, str) or not _FIELD.match(period_field)):
            at.err(f"{path}.period_field", "phải là tên một trường ngày của sổ")
            period_field = ""
        unless = cls._unless(at, raw.get("unless", ""), register, path)
        also = None
        if "also" in raw:
            also = QueryDef.read(raw["also"], at.at(f"{path}.also"))
            if also is not None and not also.ok:
                also = None
            if also is not None and (also.also is not None or also.measure != "count" or measure != "count"):
                at.err(f"{path}.also", "'also' chỉ một cấp, và cả hai phần đều phải là 'count'")
                also = None
        return {
            "register_name": register,
            "filters": _filters(at, raw.get("filters"), f"{path}.filters"),
            "measure": measure,
            "measure_field": mfield,
            "any_of": any_of,
            "period_field": period_field or "",
            "unless": unless,
            "also": also,
        }

    @staticmethod
    def _unless(at: _At, unless: Any, register: str, path: str) -> str:
        if unless and (not isinstance(unless, str) or unless not in MATCHER_REGISTER):
            at.err(
                f"{path}.unless",
                f"'{unless}' không phải phép đối chiếu đã biết ({', '.join(MATCHER_REGISTER)})",
            )
            return ""
        if unless and MATCHER_REGISTER[unless] != register:
            at.err(
                f"{path}.unless",
                f"'{unless}' dùng cho sổ '{MATCHER_REGISTER[unless]}', không phải '{register}'",
            )
            return ""
        return str(unless or "")

    def query(self) -> Query:
        also = self.also.query() if self.also is not None else None
        return Query(
            self.register_name,
            self.filters,
            self.measure,
            self.measure_field,
            self.any_of,
            self.period_field,
            self.unless,
            also,
        )


class HeaderDef(_Part):
    """The top-level keys: what the form is, when it is in force, who files it."""

    code: str
    version: str
    title: str
    legal_basis: str
    valid_from: date | None
    valid_to: date | None
    level: str
    period_type: str
    unit_kinds: tuple[str, ...]
    deadline_days: int | None
    dataset: str

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        at = _context(info)
        if data.get("format") != FORMAT:
            at.err("$.format", f"phải là '{FORMAT}'")
        code = _str(at, data, "code", "$")
        if code and not _ID.match(code):
            at.err("$.code", "mã biểu chỉ gồm chữ, số, '.', '_', '-'")
        out: dict[str, Any] = {"code": code}
        for key in ("version", "title", "legal_basis"):
            out[key] = _str(at, data, key, "$")
        valid_from = _date(at, data, "valid_from", "$", required=True)
        valid_to = _date(at, data, "valid_to", "$", required=False)
        if valid_from and valid_to and valid_to < valid_from:
            at.err("$.valid_to", "valid_to phải sau valid_from")
        level = _str(at, data, "level", "$")
        if level and level not in LEVELS:
            at.err("$.level", f"level '{level}' không hợp lệ ({', '.join(LEVELS)})")
        period_type = _str(at, data, "period_type", "$")
        if period_type and period_type not in PERIOD_TYPES:
            at.err("$.period_type", f"period_type '{period_type}' không hợp lệ ({', '.join(PERIOD_TYPES)})")
        kinds = data.get("unit_kinds")
        if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
            at.err("$.unit_kinds", 'phải là danh sách loại đơn vị lập biểu (ví dụ ["tyt"])')
            kinds = []
        deadline = data.get("deadline_days")
        if deadline is not None and (
            not isinstance(deadline, int) or isinstance(deadline, bool) or not 0 < deadline <= 366
        ):
            at.err("$.deadline_days", "phải là số ngày nguyên từ 1 đến 366")
            deadline = None
        dataset = data.get("dhis2_dataset") or code
        if not isinstance(dataset, str):
            at.err("$.dhis2_dataset", "phải là chuỗi")
            dataset = code
        return out | {
            "valid_from": valid_from,
            "valid_to": valid_to,
            "level": level,
            "period_type": period_type,
            "unit_kinds": tuple(kinds),
            "deadline_days": deadline,
            "dataset": dataset,
        }


class ColumnDef(_Part):
    """``columns[i]``: id, label, the filters added to every query cell of the column, DHIS2 category."""

    id: str
    label: str
    filters: tuple[Filter, ...]
    dhis2_coc: str

    @model_validator(mode="before")
    @classmethod
    def _check(cls, rc: Any, info: ValidationInfo) -> dict[str, Any]:
        at = _context(info)
        assert at.form is not None
        p = at.path
        cid = _str(at, rc, "id", p)
        if cid and not _ID.match(cid):
            at.err(f"{p}.id", f"mã cột không hợp lệ {cid!r}")
        if cid in at.form.column_ids:
            at.err(f"{p}.id", f"mã cột '{cid}' bị trùng")
        at.form.column_ids.add(cid)
        return {
            "id": cid,
            "label": _str(at, rc, "label", p),
            "filters": _filters(at, rc.get("filters"), f"{p}.filters"),
            "dhis2_coc": str(rc.get("dhis2_coc") or cid),
        }

    @classmethod
    def read_all(cls, raw_cols: Any, at: _At) -> list[Column]:
        if not isinstance(raw_cols, list) or not raw_cols:
            at.err("$.columns", "cần danh sách cột không rỗng")
            raw_cols = []
        columns: list[Column] = []
        for i, rc in enumerate(raw_cols):
            if not isinstance(rc, dict):
                at.err(f"$.columns[{i}]", "cột phải là object")
                continue
            col = cls.read(rc, at.at(f"$.columns[{i}]"))
            if col is not None:
                columns.append(Column(col.id, col.label, col.filters, col.dhis2_coc))
        return columns


class CellDef(_Part):
    """One cell of a row (a row's ``query``/``formula``/``manual``, overridden by ``cells.<column>``)."""

    cell: Cell

    @model_validator(mode="before")
    @classmethod
    def _check(cls, raw: Any, info: ValidationInfo) -> dict[str, Any]:
        at = _context(info)
        assert at.form is not None
        rr, rid, cid, spec, row_query, dhis2 = raw
        cp = at.path
        manual = spec.get("manual", rr.get("manual", False) is True) is True
        required_raw = spec.get("required", rr.get("required", True))
        if not isinstance(required_raw, bool):
            at.err(f"{cp}.required", "phải là true/false")
            required_raw = True
        query: Query | None = None
        formula: tuple[Term, ...] = ()
        fraw = spec.get("formula", rr.get("formula"))
        if fraw is not None and not manual:
            try:
                formula = parse_expr(str(fraw).format(row=rid, column=cid))
            except (ValueError, KeyError, IndexError) as exc:
                at.err(f"{cp}.formula", str(exc))
            if not formula:
                at.err(f"{cp}.formula", "công thức rỗng")
        if not manual and not formula:
            qraw = spec.get("query", row_query)
            if qraw is None:
                at.err(
                    cp, "ô cần 'query' (truy vấn sổ), 'formula' (công thức) hoặc 'manual': true (nhập tay)"
                )
            else:
                base = QueryDef.read(qraw, at.at(f"{cp}.query"))
                if base is not None and base.ok:
                    extra = () if spec.get("ignore_column_filters") else _column_filters(at.form.columns, cid)
                    query = base.query().with_filters(extra)
        aggs = cls._aggregate(at, spec.get("aggregate", rr.get("aggregate", [])), rid, cid)
        coc = spec.get("dhis2_coc") or next(
            (c.category_option_combo for c in at.form.columns if c.id == cid), cid
        )
        cell = Cell(
            rid,
            cid,
            manual,
            query,
            aggs,
            str(spec.get("dhis2_data_element") or dhis2),
            str(coc),
            formula,
            manual and required_raw,
        )
        return {"cell": cell}

    @staticmethod
    def _aggregate(at: _At, agg_raw: Any, rid: str, cid: str) -> tuple[AggregateSource, ...]:
        aggs: list[AggregateSource] = []
        if not isinstance(agg_raw, list):
            at.err(f"{at.path}.aggregate", "phải là danh sách {form, cell}")
            agg_raw = []
        for ai, a in enumerate(agg_raw):
            if not isinstance(a, dict) or not isinstance(a.get("form"), str):
                at.err(f"{at.path}.aggregate[{ai}]", 'cần {"form": mã biểu, "cell": "hàng:cột"}')
                continue
            try:
                target = str(a.get("cell", "{row}:{column}")).format(row=rid, column=cid)
            except (KeyError, IndexError, ValueError):
                at.err(f"{at.path}.aggregate[{ai}].cell", "ô 'hàng:cột'; chỉ được dùng {row} và {column}")
                continue
            aggs.append(AggregateSource(a["form"], target))
        return tuple(aggs)


class RowDef(_Part):
    """``sections[i].rows[j]``: a row, the columns it spans and its cells."""

    row: Row
    cells: tuple[Cell, ...]

    @model_validator(mode="before")
    @classmethod
    def _check(cls, rr: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        at = _context(info)
        form = at.form
        assert form is not None
        rp = at.path
        rid = _str(at, rr, "id", rp)
        if rid and not _ID.match(rid):
            at.err(f"{rp}.id", f"mã hàng không hợp lệ {rid!r}")
        if rid in form.row_ids:
            at.err(f"{rp}.id", f"mã hàng '{rid}' bị trùng")
        form.row_ids.add(rid)
        col_ids = [c.id for c in form.columns]
        rcols = rr.get("columns", col_ids)
        if not isinstance(rcols, list) or not rcols:
            at.err(f"{rp}.columns", "phải là danh sách mã cột")
            rcols = []
        for c in rcols:
            if c not in col_ids:
                at.err(f"{rp}.columns", f"cột '{c}' không được khai báo trong $.columns")
        rcols = [c for c in rcols if c in col_ids]
        overrides = rr.get("cells") or {}
        if not isinstance(overrides, dict):
            at.err(f"{rp}.cells", "phải là object {mã cột: {...}}")
            overrides = {}
        for oc in overrides:
            if oc not in rcols:
                at.err(f"{rp}.cells.{oc}", f"cột '{oc}' không thuộc hàng này")
        dhis2 = rr.get("dhis2_data_element") or f"{form.code}_{rid}".replace(".", "_")
        cells: list[Cell] = []
        for cid in rcols:
            cp = f"{rp}.cells.{cid}" if cid in overrides else rp
            spec = overrides.get(cid, {})
            if not isinstance(spec, dict):
                at.err(cp, "ô phải là object")
                continue
            cell = CellDef.read((rr, rid, cid, spec, rr.get("query"), dhis2), at.at(cp))
            if cell is not None:
                cells.append(cell.cell)
        label = _str(at, rr, "label", rp)
        row = Row(rid, str(rr.get("no", rid)), label, tuple(rcols), str(rr.get("parent", "")))
        return {"row": row, "cells": tuple(cells)}


class SectionDef(_Part):
    """``sections[i]``: a titled list of rows."""

    section: Section
    cells: tuple[Cell, ...]

    @model_validator(mode="before")
    @classmethod
    def _check(cls, rs: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        at = _context(info)
        sp = at.path
        raw_rows = rs.get("rows")
        if not isinstance(raw_rows, list) or not raw_rows:
            at.err(f"{sp}.rows", "cần danh sách hàng không rỗng")
            raw_rows = []
        rows: list[Row] = []
        cells: list[Cell] = []
        for ri, rr in enumerate(raw_rows):
            if not isinstance(rr, dict):
                at.err(f"{sp}.rows[{ri}]", "hàng phải là object")
                continue
            row = RowDef.read(rr, at.at(f"{sp}.rows[{ri}]"))
            if row is not None:
                rows.append(row.row)
                cells += row.cells
        section = Section(_str(at, rs, "id", sp), _str(at, rs, "title", sp), tuple(rows))
        return {"section": section, "cells": tuple(cells)}


class RuleDef(_Part):
    """``validation[i]``: a rule between cells (``left op right``), error or warning."""

    rule: Rule

    @model_validator(mode="before")
    @classmethod
    def _check(cls, raw: tuple[dict[str, Any], set[str], set[str]], info: ValidationInfo) -> dict[str, Any]:
        at = _context(info)
        rv, rule_ids, cell_keys = raw
        vp = at.path
        rid = _str(at, rv, "id", vp)
        if rid in rule_ids:
            at.err(f"{vp}.id", f"mã quy tắc '{rid}' bị trùng")
        rule_ids.add(rid)
        op = rv.get("op")
        if op not in OPERATORS:
            at.err(f"{vp}.op", f"phép so '{op}' không hợp lệ ({' '.join(OPERATORS)})")
        severity = rv.get("severity", "error")
        if severity not in SEVERITIES:
            at.err(f"{vp}.severity", "phải là 'error' hoặc 'warning'")
        sides: list[tuple[Term, ...]] = []
        for side in ("left", "right"):
            try:
                terms = parse_expr(rv.get(side, ""))
            except ValueError as exc:
                at.err(f"{vp}.{side}", str(exc))
                terms = ()
            for t in terms:
                if t.cell and t.cell not in cell_keys:
                    at.err(f"{vp}.{side}", f"ô '{t.cell}' không tồn tại trong biểu")
            sides.append(terms)
        rule = Rule(rid, sides[0], str(op), sides[1], str(severity), str(rv.get("message") or ""))
        return {"rule": rule}


def _sections(raw_sections: Any, at: _At) -> tuple[list[Section], list[Cell]]:
    if not isinstance(raw_sections, list) or not raw_sections:
        at.err("$.sections", "cần danh sách phần (sections) không rỗng")
        raw_sections = []
    sections: list[Section] = []
    cells: list[Cell] = []
    for si, rs in enumerate(raw_sections):
        if not isinstance(rs, dict):
            at.err(f"$.sections[{si}]", "phần phải là object")
            continue
        part = SectionDef.read(rs, at.at(f"$.sections[{si}]"))
        if part is not None:
            sections.append(part.section)
            cells += part.cells
    assert at.form is not None
    for si, rs in enumerate(
        raw_sections
    ):  # a parent may come after its child: checked once all rows are read
        rows = rs.get("rows") if isinstance(rs, dict) else None
        for ri, rr in enumerate(rows if isinstance(rows, list) else []):  # not a list: already reported
            parent = rr.get("parent") if isinstance(rr, dict) else None
            if parent and (not isinstance(parent, str) or parent not in at.form.row_ids):
                at.err(f"$.sections[{si}].rows[{ri}].parent", f"hàng cha '{parent}' không tồn tại")
    return sections, cells


def _formula_cells(cells: list[Cell], at: _At) -> None:
    cell_keys = {c.key for c in cells}
    formula_keys = {c.key for c in cells if c.formula}
    for c in cells:
        for t in c.formula:
            if t.cell and t.cell not in cell_keys:
                at.err(f"$.cells[{c.key}].formula", f"ô '{t.cell}' không tồn tại trong biểu")
            elif t.cell in formula_keys:
                # one level only: formulas sum query/manual cells, so there is no evaluation order or cycle
                at.err(
                    f"$.cells[{c.key}].formula",
                    f"ô '{t.cell}' cũng là công thức; chỉ được cộng các ô truy vấn/nhập tay",
                )


def _rules(raw_rules: Any, cells: list[Cell], at: _At) -> list[Rule]:
    if not isinstance(raw_rules, list):
        at.err("$.validation", "phải là danh sách quy tắc")
        raw_rules = []
    rules: list[Rule] = []
    rule_ids: set[str] = set()
    cell_keys = {c.key for c in cells}
    for vi, rv in enumerate(raw_rules):
        if not isinstance(rv, dict):
            at.err(f"$.validation[{vi}]", "quy tắc phải là object")
            continue
        part = RuleDef.read((rv, rule_ids, cell_keys), at.at(f"$.validation[{vi}]"))
        if part is not None:
            rules.append(part.rule)
    return rules


def parse_form(data: Any, file: str = "<dữ liệu>") -> FormSpec:
    """Validate one definition; return the spec or raise FormDefinitionError with every problem found."""
    if not isinstance(data, dict):
        raise FormDefinitionError([Problem(file, "$", "tệp phải chứa một object JSON")])
    problems = _Problems(file)
    top = _At(problems, "$")
    header = HeaderDef.read(data, top)
    if header is None:
        raise FormDefinitionError(problems.list)
    form = _FormCtx(header.code, [], set(), set(), [])
    at = _At(problems, "$", form)
    form.columns = ColumnDef.read_all(data.get("columns"), at)
    sections, cells = _sections(data.get("sections"), at)
    _formula_cells(cells, at)
    rules = _rules(data.get("validation", []), cells, at)
    if not cells and not problems.list:
        problems.err("$.sections", "biểu không có ô nào")
    if problems.list:
        raise FormDefinitionError(problems.list)
    assert header.valid_from is not None
    return FormSpec(
        code=header.code,
        version=header.version,
        title=header.title,
        legal_basis=header.legal_basis,
        valid_from=header.valid_from,
        valid_to=header.valid_to,
        level=header.level,
        period_type=header.period_type,
        unit_kinds=header.unit_kinds,
        deadline_days=header.deadline_days,
        dataset=header.dataset,
        columns=tuple(form.columns),
        sections=tuple(sections),
        cells=tuple(cells),
        rules=tuple(rules),
        raw=data,
    )


def _column_filters(columns: list[Column], cid: str) -> tuple[Filter, ...]:
    for c in columns:
        if c.id == cid:
            return c.filters
    return ()
