"""Computing report cells from the registers (tính số liệu báo cáo từ sổ, R-MCH-03).

One SQL statement per register (and per alternative date field) per report: every cell that reads a register
becomes one ``COUNT(*) FILTER (WHERE …)`` / ``SUM(…) FILTER (…)`` column of a single ``GROUP BY facility``
query over the period's rows. The same call serves one commune (one unit id) and a national roll-up (every
unit id at once), so the cost grows with the register rows of the period, not with the number of cells.

Nothing is cached: a register change shows in the unit's draft report on the next read (no batch job).
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, cast

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Count, Q, Sum

from mchis.units.provinces import province_codes_for

from .definitions import Cell, Filter, FormSpec, Problem, Query, Term
from .matching import unless_q
from .periods import Period

REGISTERS_FILE = Path(__file__).resolve().parent / "forms" / "registers.json"

Number = int | float
ALSO = "+also"  # column suffix of the internal cell holding a query's `also` part


@dataclass(frozen=True)
class RegisterInfo:
    name: str
    model_label: str
    label: str
    unit_field: str
    month_field: str
    voided_field: str = ""  # a voided record (hủy) is never counted

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)


@cache
def registers() -> dict[str, RegisterInfo]:
    data = json.loads(REGISTERS_FILE.read_text(encoding="utf-8"))
    return {
        name: RegisterInfo(
            name, r["model"], r["label"], r["unit_field"], r["month_field"], r.get("voided_field", "")
        )
        for name, r in data["registers"].items()
    }


def _resolve(model: type[models.Model], dotted: str) -> models.Field[Any, Any] | None:
    """The model field a dotted path names (one FK hop allowed), or None."""
    current: Any = model
    field: Any = None
    for part in dotted.split("."):
        if current is None:
            return None
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        current = field.related_model if field.is_relation else None
    return cast("models.Field[Any, Any] | None", field)


def check_against_models(spec: FormSpec, file: str) -> list[Problem]:
    """Every register and field named by the form exists in the register models (loader guard)."""
    problems: list[Problem] = []
    regs = registers()
    checks = [(c.key, c.query, "query") for c in spec.cells if c.query is not None]
    checks += [(k, q.also, "query.also") for k, q, _ in list(checks) if q is not None and q.also is not None]
    for key, q, part in checks:
        if q is None:
            continue
        where = f"$.cells[{key}].{part}"
        info = regs.get(q.register)
        if info is None:
            problems.append(
                Problem(file, f"{where}.register", f"sổ '{q.register}' không tồn tại ({', '.join(regs)})")
            )
            continue
        try:
            model = info.model
        except LookupError:
            problems.append(Problem(file, f"{where}.register", f"mô hình '{info.model_label}' chưa có"))
            continue
        for f in q.filters + tuple(f for alt in q.any_of for f in alt):
            if _resolve(model, f.field) is None:
                problems.append(  # noqa: PERF401
                    Problem(
                        file, f"{where}.filters.{f.field}", f"sổ '{q.register}' không có trường '{f.field}'"
                    )
                )
        if q.measure_field and _resolve(model, q.measure_field) is None:
            problems.append(
                Problem(file, f"{where}.measure", f"sổ '{q.register}' không có trường '{q.measure_field}'")
            )
        if q.period_field:
            pf = _resolve(model, q.period_field)
            if not isinstance(pf, models.DateField):
                problems.append(
                    Problem(
                        file,
                        f"{where}.period_field",
                        f"'{q.period_field}' không phải trường ngày của sổ '{q.register}'",
                    )
                )
            elif q.period_field not in _period_dates(q.register):
                # a write marks only these months changed (registers.ingest): another date would go stale
                problems.append(
                    Problem(
                        file,
                        f"{where}.period_field",
                        f"'{q.period_field}' không phải ngày tính kỳ báo cáo của sổ '{q.register}' (được dùng: "
                        f"{', '.join(_period_dates(q.register)) or 'chỉ tháng của sự kiện'})",
                    )
                )
    return problems


def _period_dates(register: str) -> tuple[str, ...]:
    """The dates besides the event's month by which the register's records may be counted (RegisterDef)."""
    from mchis.registers.definitions import REGISTERS

    reg = REGISTERS.get(register)
    return reg.period_dates if reg is not None else ()


def _filter_q(f: Filter) -> Q:
    path = f.field.replace(".", "__")
    if f.lookup == "ne":
        return ~Q(**{path: f.value})
    value = list(f.value) if f.lookup == "in" else f.value
    return Q(**{path if f.lookup == "exact" else f"{path}__{f.lookup}": value})


def query_q(query: Query, province: str | None = None) -> Q:
    cond = Q()
    for f in query.filters:
        cond &= _filter_q(f)
    if query.any_of:
        alt = Q()
        for group in query.any_of:
            g = Q()
            for f in group:
                g &= _filter_q(f)
            alt |= g
        cond &= alt
    # the matcher's sub-query last: PostgreSQL evaluates a FILTER's AND left to right, so it runs only for the
    # rows the plain conditions keep (a maternal death), not for every row of the month
    if query.unless:
        cond &= unless_q(query.unless, province)
    return cond


def _aggregate(query: Query, province: str | None = None) -> Any:
    cond = query_q(query, province)
    if query.measure == "sum":
        return Sum(query.measure_field.replace(".", "__"), filter=cond)
    if query.measure == "count_distinct":
        return Count(query.measure_field.replace(".", "__"), filter=cond, distinct=True)
    return Count("pk", filter=cond)


def _number(value: Any) -> Number:
    if value is None:
        return 0
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return cast(Number, value)  # Count/Sum of integer fields


# Compiled single-unit statements: (id(spec), register, period field, period type) -> (sql, params, slots).
# Building a 100-aggregate queryset costs ~15 ms of ORM work; the SQL only changes with the unit and dates.
# The entry keeps a reference to its spec so the id() in the key cannot be reused by another object.
_COMPILED: dict[tuple[int, str, str, str], tuple[FormSpec, str, list[Any], list[tuple[int, str]]]] = {}
_COMPILED_MAX = 512
_SENTINEL_UNIT = -7_302_019
_SENTINEL_PROVINCE = "~?"  # never a province code
_SENTINEL_FROM = date(1901, 1, 1)
_SENTINEL_TO = date(1901, 12, 1)


def _group_queryset(
    info: RegisterInfo,
    cells: list[Cell],
    period_field: str,
    period_type: str,
    unit_filter: dict[str, Any],
    start: date,
    stop: date,
    group: str = "",
    province: str | None = None,
) -> tuple[Any, dict[Query, str]]:
    """The grouped statement of `cells` over the period's live rows matching `unit_filter`: one row per unit
    (or per value of the column `group`: one row per record, ``record_values``)."""
    aliases: dict[Query, str] = {}
    for cell in cells:
        assert cell.query is not None
        aliases.setdefault(cell.query, f"v{len(aliases)}")
    when: dict[str, Any]
    if period_field:
        when = {f"{period_field.replace('.', '__')}__range": (start, stop)}
    elif period_type == "yearly":
        when = {f"{info.month_field}__gte": start, f"{info.month_field}__lte": stop}
    else:
        when = {info.month_field: start}
    unit_col = group or f"{info.unit_field}_id"
    qs = info.model._default_manager.filter(**when).filter(**unit_filter).order_by()
    if info.voided_field:
        qs = qs.filter(**{f"{info.voided_field.replace('.', '__')}__isnull": True})
    return qs.values(unit_col).annotate(**{a: _aggregate(q, province) for q, a in aliases.items()}), aliases


def _bounds(info: RegisterInfo, period_field: str, period: Period) -> tuple[date, date]:
    if period_field:
        return period.start, period.end
    if period.type == "yearly":
        return period.start, date(period.start.year, 12, 1)
    return period.start, period.start


def _has_province(info: RegisterInfo) -> bool:
    """Does the register carry its unit's province (`province_code`, the partition key, ADR 0075)?"""
    try:
        info.model._meta.get_field("province_code")
    except FieldDoesNotExist:
        return False
    return info.unit_field == "facility"


def _single_unit(
    spec: FormSpec,
    info: RegisterInfo,
    cells: list[Cell],
    period_field: str,
    unit_id: int,
    period: Period,
    province: str,
) -> dict[str, Any] | None:
    """One unit: run the cached compiled statement with the unit, its province and the dates swapped in (the
    province named as a literal: PostgreSQL reads only that partition of a partitioned register)."""
    key = (id(spec), info.name, period_field, period.type)
    compiled = _COMPILED.get(key)
    if compiled is None or compiled[0] is not spec:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        unit_col = f"{info.unit_field}_id"
        unit_filter: dict[str, Any] = {unit_col: _SENTINEL_UNIT}
        named = _SENTINEL_PROVINCE if _has_province(info) else None
        if named is not None:
            unit_filter["province_code"] = named
        qs, aliases = _group_queryset(
            info, cells, period_field, period.type, unit_filter, _SENTINEL_FROM, _SENTINEL_TO, province=named
        )
        sql, params = qs.query.sql_with_params()
        # Backends adapt dates differently (date objects on PostgreSQL, ISO strings on SQLite): match both.
        slots = [(i, "unit") for i, p in enumerate(params) if p == _SENTINEL_UNIT]
        slots += [(i, "province") for i, p in enumerate(params) if p == _SENTINEL_PROVINCE]
        for what, sentinel in (("from", _SENTINEL_FROM), ("to", _SENTINEL_TO)):
            slots += [(i, what) for i, p in enumerate(params) if p == sentinel]
            slots += [(i, what + ":str") for i, p in enumerate(params) if p == sentinel.isoformat()]
        compiled = _COMPILED[key] = (spec, sql, list(params), slots)
    _, sql, params, slots = compiled
    start, stop = _bounds(info, period_field, period)
    values = list(params)
    for i, what in slots:
        if what == "unit":
            values[i] = unit_id
        elif what == "province":
            values[i] = province
        else:
            day = start if what.startswith("from") else stop
            values[i] = day.isoformat() if what.endswith(":str") else day
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, values)
        row = cur.fetchone()
        names = [c[0] for c in cur.description] if cur.description else []
    return dict(zip(names, row, strict=True)) if row else None


WIDE_UNIT_LIST = 500  # more units than this: group all units' rows and keep the asked ones (register_values)


def register_values(
    spec: FormSpec,
    unit_ids: list[int],
    period: Period,
    only: Mapping[str, Collection[int]] | None = None,
    provinces: Mapping[int, str] | None = None,
) -> dict[int, dict[str, Number]]:
    """{unit id: {cell key: value}} for every query cell, one GROUP BY statement per register/date field.

    `only` ({register: record ids}) restricts the count to those records (newborns: of those deliveries) and
    skips every other register: the cells a given set of records contributes (cross-facility duplicates).
    `provinces` ({unit id: province code}, of these units at least): given by a caller that computes many unit
    lists, so the province look-up is made once, not per call."""
    groups, also = _cell_groups(spec)
    out: dict[int, dict[str, Number]] = {uid: {} for uid in unit_ids}
    if not unit_ids:
        return out
    regs = registers()
    wide_units = len(unit_ids) > WIDE_UNIT_LIST
    # the units' provinces, named in each statement so a partitioned register reads only their partitions
    if provinces is None:
        provinces = {} if wide_units else province_codes_for(unit_ids)
    for (register, period_field), cells in groups.items():
        info = regs[register]
        pairs = _aliases(cells)
        restrict: dict[str, Any] = {}
        if only is not None:
            ids = only.get("delivery" if register == "newborn" else register)
            if not ids:
                continue
            restrict = {"delivery_id__in" if register == "newborn" else "pk__in": list(ids)}
        if len(unit_ids) == 1 and not restrict:
            province = provinces.get(unit_ids[0], "")
            row = _single_unit(spec, info, cells, period_field, unit_ids[0], period, province)
            if row:
                out[unit_ids[0]].update({k: _number(row[a]) for k, a in pairs})
            continue
        start, stop = _bounds(info, period_field, period)
        unit_col = f"{info.unit_field}_id"
        # Thousands of units (the national roll-up: every station of the nation): listing them made the
        # statement cost more (building it, splitting its parameters, planning an IN of 7,000 ids) than grouping
        # every unit's rows of the period and dropping the few units not asked for.
        wide = wide_units and not restrict
        unit_filter = {} if wide else {f"{unit_col}__in": unit_ids, **restrict}
        if not wide_units and _has_province(info):
            unit_filter["province_code__in"] = sorted({provinces.get(u, "") for u in unit_ids})
        qs, _ = _group_queryset(info, cells, period_field, period.type, unit_filter, start, stop)
        for row in qs:
            values = out.get(row[unit_col])
            if values is not None:  # always, unless `wide`
                values.update({k: _number(row[a]) for k, a in pairs})
    _add_also(out.values(), also)
    return out


def record_values(
    spec: FormSpec, period: Period, where: Mapping[str, Mapping[str, Any]]
) -> dict[tuple[str, int], dict[str, Number]]:
    """{(register, record id): {cell key: value}}: what each record adds to `spec`'s query cells, as
    ``register_values`` counts it for its facility with ``only`` = that one record — for every live record of
    the period of a register `where` names that matches `where[register]` (lookups on that register's model; a
    newborn counts for its delivery, under the delivery's lookups). One GROUP BY record statement per
    register/date field, however many records (the derived "CSYT khác" rows of a whole nation at once)."""
    groups, also = _cell_groups(spec)
    out: dict[tuple[str, int], dict[str, Number]] = {}
    regs = registers()
    for (register, period_field), cells in groups.items():
        owner = "delivery" if register == "newborn" else register
        lookups = where.get(owner)
        if lookups is None:
            continue
        info = regs[register]
        if register == "newborn":
            lookups, column = {f"delivery__{k}": v for k, v in lookups.items()}, "delivery_id"
        else:
            column = info.model._meta.pk.attname
        pairs = _aliases(cells)
        start, stop = _bounds(info, period_field, period)
        qs, _ = _group_queryset(info, cells, period_field, period.type, dict(lookups), start, stop, column)
        for row in qs:
            out.setdefault((owner, row[column]), {}).update({k: _number(row[a]) for k, a in pairs})
    _add_also(out.values(), also)
    return out


def _cell_groups(spec: FormSpec) -> tuple[dict[tuple[str, str], list[Cell]], list[tuple[str, str]]]:
    """The query cells of `spec` by (register, date field), a query's `also` part as a cell of its own; and
    the (cell key, key of its `also` part) pairs whose two counts are added (``_add_also``)."""
    groups: dict[tuple[str, str], list[Cell]] = defaultdict(list)
    also: list[tuple[str, str]] = []
    for cell in spec.cells:
        if cell.query is not None:
            groups[(cell.query.register, cell.query.period_field)].append(cell)
            if cell.query.also is not None:
                extra_q = cell.query.also
                extra_cell = dataclasses.replace(cell, column=f"{cell.column}{ALSO}", query=extra_q)
                groups[(extra_q.register, extra_q.period_field)].append(extra_cell)
                also.append((cell.key, extra_cell.key))
    return groups, also


def _aliases(cells: list[Cell]) -> list[tuple[str, str]]:
    """(cell key, column alias) of each cell, one alias per distinct query (built once: rows are many)."""
    aliases: dict[Query, str] = {}
    pairs: list[tuple[str, str]] = []
    for cell in cells:
        assert cell.query is not None
        pairs.append((cell.key, aliases.setdefault(cell.query, f"v{len(aliases)}")))
    return pairs


def _add_also(rows: Iterable[dict[str, Number]], also: list[tuple[str, str]]) -> None:
    for values in rows:
        for key, also_key in also:
            extra = values.pop(also_key, 0)
            if extra or key in values:
                values[key] = values.get(key, 0) + extra


def evaluate_terms(terms: tuple[Term, ...], values: dict[str, Number]) -> Number:
    return sum(t.sign * (values.get(t.cell, 0) if t.cell else t.constant) for t in terms)


_SHAPES: dict[
    int, tuple[FormSpec, list[str], list[tuple[str, tuple[Term, ...]]], list[str], frozenset[str]]
] = {}


def _shape(
    spec: FormSpec,
) -> tuple[list[str], list[tuple[str, tuple[Term, ...]]], list[str], frozenset[str]]:
    """(plain cell keys, formula cells, all keys in order, manual keys) of a spec, computed once per spec."""
    hit = _SHAPES.get(id(spec))
    if hit is None or hit[0] is not spec:
        if len(_SHAPES) >= 512:
            _SHAPES.clear()
        plain = [c.key for c in spec.cells if not c.formula]
        formulas = [(c.key, c.formula) for c in spec.cells if c.formula]
        manual = frozenset(c.key for c in spec.cells if c.manual)
        hit = _SHAPES[id(spec)] = (spec, plain, formulas, [c.key for c in spec.cells], manual)
    return hit[1], hit[2], hit[3], hit[4]


def complete(spec: FormSpec, values: dict[str, Number]) -> dict[str, Number]:
    """Fill every cell of the form: zeros where no register row matched (a count of nothing is a true 0),
    formulas from the other cells. A manual cell nobody filled stays absent (empty, never an invented 0),
    and so does a formula that needs it."""
    plain, formulas, order, manual = _shape(spec)
    full = {k: values.get(k, 0) for k in plain if k in values or k not in manual}
    for key, terms in formulas:
        if all(not t.cell or t.cell in full for t in terms):
            full[key] = evaluate_terms(terms, full)
    return {k: full[k] for k in order if k in full}
