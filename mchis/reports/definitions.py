"""Report form definitions as data (biểu mẫu báo cáo, R-MCH-03): parse and validate one definition file.

A form version (phiên bản biểu mẫu) is a JSON document; the format is documented in
``mchis/reports/forms/README.md`` and docs/decisions/0020-report-forms-as-data.md. This module is pure:
it turns a dict into frozen dataclasses or raises ``FormDefinitionError`` listing every problem as
(file, path, reason). Checking field names against the register models happens in ``compute`` (it needs
Django's app registry); the loader calls both before writing anything.

Cell keys are ``"<row id>:<column id>"`` (e.g. ``"I.5.1a:tyt"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .matching import MATCHER_REGISTER

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


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.reason}"


class FormDefinitionError(Exception):
    """A malformed definition; ``problems`` lists each (file, path, reason)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Filter:
    field: str
    lookup: str
    value: Any

    def describe(self) -> str:
        sym = {"exact": "=", "ne": "≠", "in": "∈", "gte": "≥", "lte": "≤", "gt": ">", "lt": "<"}
        if self.lookup == "isnull":
            return f"{self.field} {'trống' if self.value else 'có giá trị'}"
        return f"{self.field} {sym[self.lookup]} {self.value!r}"


@dataclass(frozen=True)
class Query:
    """Register query behind a cell: count / count distinct / sum over one register's filtered rows."""

    register: str
    filters: tuple[Filter, ...]
    measure: str = "count"
    measure_field: str = ""
    any_of: tuple[tuple[Filter, ...], ...] = ()
    period_field: str = ""
    unless: str = (
        ""  # a matcher of mchis.reports.matching: rows whose event another register holds are skipped
    )
    also: Query | None = None  # a second register's rows added to the count (one event, one truth)

    def with_filters(self, extra: tuple[Filter, ...]) -> Query:
        """The same query with more filters (a column's), also on its `also` part."""
        return Query(
            self.register,
            tuple(sorted(self.filters + extra, key=lambda f: (f.field, f.lookup))),
            self.measure,
            self.measure_field,
            self.any_of,
            self.period_field,
            self.unless,
            self.also.with_filters(extra) if self.also else None,
        )

    def describe(self) -> str:
        what = {
            "count": "Đếm số bản ghi",
            "count_distinct": f"Đếm số người khác nhau ({self.measure_field})",
            "sum": f"Tổng của trường {self.measure_field}",
        }[self.measure]
        parts = [f.describe() for f in self.filters]
        if self.any_of:
            alts = " hoặc ".join("(" + " và ".join(f.describe() for f in alt) + ")" for alt in self.any_of)
            parts.append(f"[{alts}]")
        cond = " và ".join(parts) or "không có điều kiện thêm"
        when = f"ngày '{self.period_field}' trong kỳ" if self.period_field else "tháng của sự kiện trong kỳ"
        text = f"{what} trong sổ '{self.register}' của đơn vị, {when}, với: {cond}"
        if self.unless:
            text += f", trừ sự kiện đã có ở sổ khác ({self.unless})"
        if self.also:
            text += "; cộng thêm: " + self.also.describe()
        return text


@dataclass(frozen=True)
class Term:
    sign: int
    cell: str = ""
    constant: int = 0


@dataclass(frozen=True)
class AggregateSource:
    """A cell of a lower-level form whose approved values are summed into this cell."""

    form: str
    cell: str


@dataclass(frozen=True)
class Cell:
    row: str
    column: str
    manual: bool
    query: Query | None
    aggregate: tuple[AggregateSource, ...]
    data_element: str
    category_option_combo: str
    formula: tuple[Term, ...] = ()
    # a manual cell the unit must fill before submitting (default for every manual cell; "required": false
    # in the file makes it optional). An empty manual cell has no value at all, never an invented 0.
    required: bool = False
    key: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # computed once: the key is read millions of times in a national roll-up
        object.__setattr__(self, "key", f"{self.row}:{self.column}")

    @property
    def source(self) -> str:
        return "manual" if self.manual else ("formula" if self.formula else "computed")


@dataclass(frozen=True)
class Column:
    id: str
    label: str
    filters: tuple[Filter, ...]
    category_option_combo: str


@dataclass(frozen=True)
class Row:
    id: str
    no: str
    label: str
    columns: tuple[str, ...]
    parent: str = ""


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Rule:
    id: str
    left: tuple[Term, ...]
    op: str
    right: tuple[Term, ...]
    severity: str
    message: str

    def describe(self) -> str:
        def side(terms: tuple[Term, ...]) -> str:
            out = []
            for i, t in enumerate(terms):
                sign = "-" if t.sign < 0 else ("+" if i else "")
                out.append(f"{sign}{t.cell or t.constant}")
            return " ".join(out)

        return f"{side(self.left)} {self.op} {side(self.right)}"


@dataclass(frozen=True)
class FormSpec:
    code: str
    version: str
    title: str
    legal_basis: str
    valid_from: date
    valid_to: date | None
    level: str
    period_type: str
    unit_kinds: tuple[str, ...]
    deadline_days: int | None
    dataset: str
    columns: tuple[Column, ...]
    sections: tuple[Section, ...]
    cells: tuple[Cell, ...]
    rules: tuple[Rule, ...]
    raw: dict[str, Any] = field(repr=False, compare=False, hash=False, default_factory=dict)

    def cell(self, key: str) -> Cell:
        return self.cell_map[key]

    @property
    def cell_map(self) -> dict[str, Cell]:
        return {c.key: c for c in self.cells}

    @property
    def column_map(self) -> dict[str, Column]:
        return {c.id: c for c in self.columns}

    def rows(self) -> list[Row]:
        return [r for s in self.sections for r in s.rows]

    def cell_label(self, key: str) -> str:
        """'Tổng số phụ nữ có thai — Tổng số': the row label and the column name a person reads."""
        row_id, _, col_id = key.partition(":")
        row = next((r for r in self.rows() if r.id == row_id), None)
        col = self.column_map.get(col_id)
        if row is None or col is None:
            return key
        return f"{row.label} — {col.label}"


class _Ctx:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def err(self, path: str, reason: str) -> None:
        self.problems.append(Problem(self.file, path, reason))


def _str(ctx: _Ctx, obj: dict[str, Any], key: str, path: str, *, required: bool = True) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            ctx.err(f"{path}.{key}", "thiếu trường bắt buộc")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        ctx.err(f"{path}.{key}", "phải là chuỗi không rỗng")
        return ""
    return value


def _date(ctx: _Ctx, obj: dict[str, Any], key: str, path: str, *, required: bool) -> date | None:
    value = obj.get(key)
    if value is None:
        if required:
            ctx.err(f"{path}.{key}", "thiếu trường bắt buộc (YYYY-MM-DD)")
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        ctx.err(f"{path}.{key}", f"ngày không hợp lệ {value!r} (cần YYYY-MM-DD)")
        return None


def _filters(ctx: _Ctx, raw: Any, path: str) -> tuple[Filter, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        ctx.err(path, 'filters phải là object {"trường__phép_so": giá trị}')
        return ()
    out = []
    for key, value in raw.items():
        name, _, lookup = key.partition("__")
        lookup = lookup or "exact"
        if not _FIELD.match(name):
            ctx.err(f"{path}.{key}", f"tên trường không hợp lệ {name!r}")
            continue
        if lookup not in LOOKUPS:
            ctx.err(f"{path}.{key}", f"phép so '{lookup}' không được hỗ trợ (cho phép: {', '.join(LOOKUPS)})")
            continue
        if lookup == "in" and not isinstance(value, list):
            ctx.err(f"{path}.{key}", "giá trị của __in phải là danh sách")
            continue
        if lookup == "isnull" and not isinstance(value, bool):
            ctx.err(f"{path}.{key}", "giá trị của __isnull phải là true/false")
            continue
        if not isinstance(value, str | int | float | bool | list) or isinstance(value, dict):
            ctx.err(f"{path}.{key}", "giá trị phải là chuỗi, số, true/false hoặc danh sách")
            continue
        out.append(Filter(name, lookup, tuple(value) if isinstance(value, list) else value))
    return tuple(sorted(out, key=lambda f: (f.field, f.lookup)))


def _query(ctx: _Ctx, raw: Any, path: str) -> Query | None:
    if not isinstance(raw, dict):
        ctx.err(path, "query phải là object {register, filters, measure}")
        return None
    register = _str(ctx, raw, "register", path)
    measure_raw = raw.get("measure", "count")
    measure, _, mfield = str(measure_raw).partition(":")
    if measure not in MEASURES:
        ctx.err(
            f"{path}.measure",
            f"measure '{measure_raw}' không hợp lệ (count | count_distinct:trường | sum:trường)",
        )
    elif measure != "count" and not _FIELD.match(mfield):
        ctx.err(f"{path}.measure", f"'{measure}' cần tên trường, ví dụ '{measure}:person_key'")
    unknown = set(raw) - {"register", "filters", "measure", "any", "period_field", "unless", "also"}
    if unknown:
        ctx.err(path, f"khóa không được hỗ trợ: {', '.join(sorted(unknown))}")
    any_raw = raw.get("any", [])
    if not isinstance(any_raw, list):
        ctx.err(f"{path}.any", "phải là danh sách các nhóm điều kiện (nối bằng HOẶC)")
        any_raw = []
    any_of = tuple(_filters(ctx, alt, f"{path}.any[{i}]") for i, alt in enumerate(any_raw))
    period_field = raw.get("period_field", "")
    if period_field and (not isinstance(period_field, str) or not _FIELD.match(period_field)):
        ctx.err(f"{path}.period_field", "phải là tên một trường ngày của sổ")
        period_field = ""
    unless = raw.get("unless", "")
    if unless and unless not in MATCHER_REGISTER:
        ctx.err(
            f"{path}.unless", f"'{unless}' không phải phép đối chiếu đã biết ({', '.join(MATCHER_REGISTER)})"
        )
        unless = ""
    elif unless and MATCHER_REGISTER[unless] != register:
        ctx.err(
            f"{path}.unless", f"'{unless}' dùng cho sổ '{MATCHER_REGISTER[unless]}', không phải '{register}'"
        )
        unless = ""
    also = None
    if "also" in raw:
        also = _query(ctx, raw["also"], f"{path}.also")
        if also is not None and (also.also is not None or also.measure != "count" or measure != "count"):
            ctx.err(f"{path}.also", "'also' chỉ một cấp, và cả hai phần đều phải là 'count'")
            also = None
    return Query(
        register,
        _filters(ctx, raw.get("filters"), f"{path}.filters"),
        measure,
        mfield,
        any_of,
        period_field,
        unless,
        also,
    )


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


def parse_form(data: Any, file: str = "<dữ liệu>") -> FormSpec:
    """Validate one definition; return the spec or raise FormDefinitionError with every problem found."""
    ctx = _Ctx(file)
    if not isinstance(data, dict):
        raise FormDefinitionError([Problem(file, "$", "tệp phải chứa một object JSON")])
    if data.get("format") != FORMAT:
        ctx.err("$.format", f"phải là '{FORMAT}'")
    code = _str(ctx, data, "code", "$")
    if code and not _ID.match(code):
        ctx.err("$.code", "mã biểu chỉ gồm chữ, số, '.', '_', '-'")
    version = _str(ctx, data, "version", "$")
    title = _str(ctx, data, "title", "$")
    legal_basis = _str(ctx, data, "legal_basis", "$")
    valid_from = _date(ctx, data, "valid_from", "$", required=True)
    valid_to = _date(ctx, data, "valid_to", "$", required=False)
    if valid_from and valid_to and valid_to < valid_from:
        ctx.err("$.valid_to", "valid_to phải sau valid_from")
    level = _str(ctx, data, "level", "$")
    if level and level not in LEVELS:
        ctx.err("$.level", f"level '{level}' không hợp lệ ({', '.join(LEVELS)})")
    period_type = _str(ctx, data, "period_type", "$")
    if period_type and period_type not in PERIOD_TYPES:
        ctx.err("$.period_type", f"period_type '{period_type}' không hợp lệ ({', '.join(PERIOD_TYPES)})")
    kinds = data.get("unit_kinds")
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
        ctx.err("$.unit_kinds", 'phải là danh sách loại đơn vị lập biểu (ví dụ ["tyt"])')
        kinds = []
    deadline = data.get("deadline_days")
    if deadline is not None and (
        not isinstance(deadline, int) or isinstance(deadline, bool) or not 0 < deadline <= 366
    ):
        ctx.err("$.deadline_days", "phải là số ngày nguyên từ 1 đến 366")
        deadline = None
    dataset = data.get("dhis2_dataset") or code
    if not isinstance(dataset, str):
        ctx.err("$.dhis2_dataset", "phải là chuỗi")
        dataset = code

    columns: list[Column] = []
    raw_cols = data.get("columns")
    if not isinstance(raw_cols, list) or not raw_cols:
        ctx.err("$.columns", "cần danh sách cột không rỗng")
        raw_cols = []
    seen_cols: set[str] = set()
    for i, rc in enumerate(raw_cols):
        p = f"$.columns[{i}]"
        if not isinstance(rc, dict):
            ctx.err(p, "cột phải là object")
            continue
        cid = _str(ctx, rc, "id", p)
        if cid and not _ID.match(cid):
            ctx.err(f"{p}.id", f"mã cột không hợp lệ {cid!r}")
        if cid in seen_cols:
            ctx.err(f"{p}.id", f"mã cột '{cid}' bị trùng")
        seen_cols.add(cid)
        columns.append(
            Column(
                cid,
                _str(ctx, rc, "label", p),
                _filters(ctx, rc.get("filters"), f"{p}.filters"),
                str(rc.get("dhis2_coc") or cid),
            )
        )
    col_ids = [c.id for c in columns]

    sections: list[Section] = []
    cells: list[Cell] = []
    row_ids: set[str] = set()
    raw_sections = data.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        ctx.err("$.sections", "cần danh sách phần (sections) không rỗng")
        raw_sections = []
    for si, rs in enumerate(raw_sections):
        sp = f"$.sections[{si}]"
        if not isinstance(rs, dict):
            ctx.err(sp, "phần phải là object")
            continue
        rows: list[Row] = []
        raw_rows = rs.get("rows")
        if not isinstance(raw_rows, list) or not raw_rows:
            ctx.err(f"{sp}.rows", "cần danh sách hàng không rỗng")
            raw_rows = []
        for ri, rr in enumerate(raw_rows):
            rp = f"{sp}.rows[{ri}]"
            if not isinstance(rr, dict):
                ctx.err(rp, "hàng phải là object")
                continue
            rid = _str(ctx, rr, "id", rp)
            if rid and not _ID.match(rid):
                ctx.err(f"{rp}.id", f"mã hàng không hợp lệ {rid!r}")
            if rid in row_ids:
                ctx.err(f"{rp}.id", f"mã hàng '{rid}' bị trùng")
            row_ids.add(rid)
            rcols = rr.get("columns", col_ids)
            if not isinstance(rcols, list) or not rcols:
                ctx.err(f"{rp}.columns", "phải là danh sách mã cột")
                rcols = []
            for c in rcols:
                if c not in col_ids:
                    ctx.err(f"{rp}.columns", f"cột '{c}' không được khai báo trong $.columns")
            rcols = [c for c in rcols if c in col_ids]
            manual_row = rr.get("manual", False) is True
            row_query = rr.get("query")
            overrides = rr.get("cells") or {}
            if not isinstance(overrides, dict):
                ctx.err(f"{rp}.cells", "phải là object {mã cột: {...}}")
                overrides = {}
            for oc in overrides:
                if oc not in rcols:
                    ctx.err(f"{rp}.cells.{oc}", f"cột '{oc}' không thuộc hàng này")
            row_agg = rr.get("aggregate", [])
            dhis2 = rr.get("dhis2_data_element") or f"{code}_{rid}".replace(".", "_")
            for cid in rcols:
                cp = f"{rp}.cells.{cid}" if cid in overrides else rp
                spec = overrides.get(cid, {})
                if not isinstance(spec, dict):
                    ctx.err(cp, "ô phải là object")
                    continue
                manual = spec.get("manual", manual_row) is True
                required_raw = spec.get("required", rr.get("required", True))
                if not isinstance(required_raw, bool):
                    ctx.err(f"{cp}.required", "phải là true/false")
                    required_raw = True
                query: Query | None = None
                formula: tuple[Term, ...] = ()
                fraw = spec.get("formula", rr.get("formula"))
                if fraw is not None and not manual:
                    try:
                        formula = parse_expr(str(fraw).format(row=rid, column=cid))
                    except (ValueError, KeyError, IndexError) as exc:
                        ctx.err(f"{cp}.formula", str(exc))
                    if not formula:
                        ctx.err(f"{cp}.formula", "công thức rỗng")
                if not manual and not formula:
                    qraw = spec.get("query", row_query)
                    if qraw is None:
                        ctx.err(
                            cp,
                            "ô cần 'query' (truy vấn sổ), 'formula' (công thức) hoặc 'manual': true (nhập tay)",
                        )
                    else:
                        base = _query(ctx, qraw, f"{cp}.query")
                        if base:
                            extra = (
                                () if spec.get("ignore_column_filters") else column_map_filters(columns, cid)
                            )
                            query = base.with_filters(extra)
                agg_raw = spec.get("aggregate", row_agg)
                aggs: list[AggregateSource] = []
                if not isinstance(agg_raw, list):
                    ctx.err(f"{cp}.aggregate", "phải là danh sách {form, cell}")
                    agg_raw = []
                for ai, a in enumerate(agg_raw):
                    if not isinstance(a, dict) or not isinstance(a.get("form"), str):
                        ctx.err(f"{cp}.aggregate[{ai}]", 'cần {"form": mã biểu, "cell": "hàng:cột"}')
                        continue
                    target = str(a.get("cell", "{row}:{column}")).format(row=rid, column=cid)
                    aggs.append(AggregateSource(a["form"], target))
                cells.append(
                    Cell(
                        rid,
                        cid,
                        manual,
                        query,
                        tuple(aggs),
                        str(spec.get("dhis2_data_element") or dhis2),
                        str(spec.get("dhis2_coc") or _coc(columns, cid)),
                        formula,
                        manual and required_raw,
                    )
                )
            rows.append(
                Row(
                    rid,
                    str(rr.get("no", rid)),
                    _str(ctx, rr, "label", rp),
                    tuple(rcols),
                    str(rr.get("parent", "")),
                )
            )
        sections.append(Section(_str(ctx, rs, "id", sp), _str(ctx, rs, "title", sp), tuple(rows)))

    for si, rs in enumerate(raw_sections):
        for ri, rr in enumerate(rs.get("rows", []) if isinstance(rs, dict) else []):
            parent = rr.get("parent") if isinstance(rr, dict) else None
            if parent and parent not in row_ids:
                ctx.err(f"$.sections[{si}].rows[{ri}].parent", f"hàng cha '{parent}' không tồn tại")

    cell_keys = {c.key for c in cells}
    formula_keys = {c.key for c in cells if c.formula}
    for c in cells:
        for t in c.formula:
            if t.cell and t.cell not in cell_keys:
                ctx.err(f"$.cells[{c.key}].formula", f"ô '{t.cell}' không tồn tại trong biểu")
            elif t.cell in formula_keys:
                # one level only: formulas sum query/manual cells, so there is no evaluation order or cycle
                ctx.err(
                    f"$.cells[{c.key}].formula",
                    f"ô '{t.cell}' cũng là công thức; chỉ được cộng các ô truy vấn/nhập tay",
                )
    rules: list[Rule] = []
    raw_rules = data.get("validation", [])
    if not isinstance(raw_rules, list):
        ctx.err("$.validation", "phải là danh sách quy tắc")
        raw_rules = []
    rule_ids: set[str] = set()
    for vi, rv in enumerate(raw_rules):
        vp = f"$.validation[{vi}]"
        if not isinstance(rv, dict):
            ctx.err(vp, "quy tắc phải là object")
            continue
        rid = _str(ctx, rv, "id", vp)
        if rid in rule_ids:
            ctx.err(f"{vp}.id", f"mã quy tắc '{rid}' bị trùng")
        rule_ids.add(rid)
        op = rv.get("op")
        if op not in OPERATORS:
            ctx.err(f"{vp}.op", f"phép so '{op}' không hợp lệ ({' '.join(OPERATORS)})")
        severity = rv.get("severity", "error")
        if severity not in SEVERITIES:
            ctx.err(f"{vp}.severity", "phải là 'error' hoặc 'warning'")
        sides: list[tuple[Term, ...]] = []
        for side in ("left", "right"):
            try:
                terms = parse_expr(rv.get(side, ""))
            except ValueError as exc:
                ctx.err(f"{vp}.{side}", str(exc))
                terms = ()
            for t in terms:
                if t.cell and t.cell not in cell_keys:
                    ctx.err(f"{vp}.{side}", f"ô '{t.cell}' không tồn tại trong biểu")
            sides.append(terms)
        rules.append(Rule(rid, sides[0], str(op), sides[1], str(severity), str(rv.get("message") or "")))

    if not cells and not ctx.problems:
        ctx.err("$.sections", "biểu không có ô nào")
    if ctx.problems:
        raise FormDefinitionError(ctx.problems)
    assert valid_from is not None
    return FormSpec(
        code=code,
        version=version,
        title=title,
        legal_basis=legal_basis,
        valid_from=valid_from,
        valid_to=valid_to,
        level=level,
        period_type=period_type,
        unit_kinds=tuple(kinds),
        deadline_days=deadline,
        dataset=dataset,
        columns=tuple(columns),
        sections=tuple(sections),
        cells=tuple(cells),
        rules=tuple(rules),
        raw=data,
    )


def column_map_filters(columns: list[Column], cid: str) -> tuple[Filter, ...]:
    for c in columns:
        if c.id == cid:
            return c.filters
    return ()


def _coc(columns: list[Column], cid: str) -> str:
    for c in columns:
        if c.id == cid:
            return c.category_option_combo
    return cid
