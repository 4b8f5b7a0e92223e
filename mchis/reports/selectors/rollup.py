"""National roll-up: every form of every unit computed in bulk (overviews and the benchmark)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mchis.core.scoping import visible_under
from mchis.registers.models import PlaceOfService
from mchis.units.models import ReportingUnit, UnitKind, UnitPlacement
from mchis.units.provinces import province_codes_for

from ..compute import Number, complete, record_values, register_values
from ..definitions import FormSpec
from ..models import FormDefinition
from ..periods import Period
from . import residents
from .duplicates import (
    CHUNK,
    REGISTERS,
    Candidate,
    candidates,
    counts_once,
    derived_taken_out,
    duplicate_values,
    matched,
)
from .forms import forms_in_force
from .view import unmapped_spec

LEVEL_ORDER = {"commune": 0, "district": 1, "province": 2, "network": 3}


def rollup(period: Period, root: ReportingUnit | None = None) -> dict[tuple[str, int], dict[str, Number]]:
    """Every form of every unit (in `root`'s subtree, or the nation) for one period, computed in bulk and
    summed bottom-up as if every report below were approved: {(form code, unit id): {cell: value}}.

    One GROUP BY statement per register per *form* for all units at once (not per unit), then an in-memory
    walk up the tree (as placed on the period's first day). For national overviews and the benchmark; the
    official upper-level reports still sum only approved reports (``compute_live``). Like them:

    * a commune station's BCX3 counts its residents' events recorded by other facilities in its "CSYT khác"
      (ADR 0047: ``residents.residents_of``, every station at once, a fixed number of statements);
    * every district and provincial total counts an event recorded by two facilities once (ADR 0036): the
      station's "other facility" row, typed or derived, is taken out at the lowest total that counts both the
      station and the facility that served her, and not again above it (a derived row not taken out yet is
      handed up with its values mapped into each form's cells, as in the snapshots' ``residents``).

    With every report approved, the result equals every approved report's values except manual cells (typed by
    the unit, unknown here): ``tests/test_rollup_matches_official.py``."""
    placements = UnitPlacement.objects.on(period.start)
    if root is not None:
        placements = visible_under(placements, root, lookup="path")
    parent_of = dict(placements.values_list("unit_id", "parent_id"))
    units = ReportingUnit.objects.filter(pk__in=list(parent_of)).values_list(
        "pk", "kind", "code", "admin_unit__code", "admin_unit__level", "admin_unit__version"
    )
    kinds: dict[int, str] = {}
    stations: dict[int, tuple[str, str]] = {}  # commune stations: (unit code, 2025 commune code)
    for uid, kind, code, place, level, version in units:
        kinds[uid] = kind
        if kind == UnitKind.TYT:
            stations[uid] = (code, residents.place_code(place or "", level or "", version or ""))
    children: dict[int, list[int]] = defaultdict(list)
    for uid, pid in parent_of.items():
        if pid is not None:
            children[pid].append(uid)
    forms = sorted(
        (f for f in forms_in_force(period.start) if f.period_type == period.type),
        key=lambda f: LEVEL_ORDER[f.level],
    )
    by_code = {f.code: f for f in forms}
    out: dict[tuple[str, int], dict[str, Number]] = {}
    # every unit's province, once: named in the register statements of the unit lists below (ADR 0075)
    provinces = province_codes_for(kinds)
    own_by_form = _bulk_register_values(forms, kinds, period, provinces)
    # cross-facility duplicates (ADR 0036, as in the official upper totals): the units each total counts, and
    # the station rows already taken out below it
    pending = candidates(period, set(kinds) if root is not None else None)
    counted: dict[tuple[str, int], frozenset[int]] = {}
    removed: dict[tuple[str, int], frozenset[tuple[str, int]]] = {}
    # derived "CSYT khác" events (ADR 0047) inside each total, not taken out yet (``Computed.residents``)
    derived_in: dict[tuple[str, int], list[residents.Resident]] = {}
    for form in forms:
        spec: FormSpec = form.parsed()
        unit_ids = [u for u, k in kinds.items() if k in form.unit_kinds]
        if not unit_ids:
            continue
        own = own_by_form.get(form.code, {})
        # a commune station's residents served by other facilities, for every station at once
        derived = residents.residents_of(spec, {u: stations[u] for u in unit_ids if u in stations}, period)
        sources: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for cell in spec.cells:
            for src in cell.aggregate:
                sources[src.form].append((src.cell, cell.key))
        # units filing the same form below others (district hospitals under a TTYT) must be done first
        unit_ids.sort(key=lambda u: -len(_path_of(u, parent_of)))
        files = {
            child: frozenset(c for c in sources if c in by_code and kinds[child] in by_code[c].unit_kinds)
            for uid in unit_ids
            for child in children.get(uid, [])
        }
        unmapped = _unmapped_values(spec, files, period, provinces)
        for uid in unit_ids:
            totals = dict(own.get(uid, {}))
            mine = derived.get(uid, [])
            for key, value in residents.added(mine).items():
                totals[key] = totals.get(key, 0) + value
            reached = {uid}
            below: set[tuple[str, int]] = set()
            handed: list[residents.Resident] = []
            for child in children.get(uid, []):
                for key, value in unmapped.get(child, {}).items():
                    totals[key] = totals.get(key, 0) + value
                for code, pairs in sources.items():
                    child_values = out.get((code, child))
                    if child_values is None:
                        continue
                    reached |= counted[(code, child)]
                    below |= removed[(code, child)]
                    for child_cell, our_cell in pairs:
                        totals[our_cell] = totals.get(our_cell, 0) + child_values.get(child_cell, 0)
                    handed += residents.mapped(derived_in[(code, child)], pairs)
            counted[(form.code, uid)] = frozenset(reached)
            taken, keys = _taken_out(spec, period, pending, reached, below)
            # a derived event whose facility this total counts: out once here, else handed up
            if counts_once(spec, period):
                taken_derived, handed = derived_taken_out(handed, reached)
                for key, value in taken_derived.values.items():
                    taken[key] = taken.get(key, 0) + value
            for key, value in taken.items():
                totals[key] = totals.get(key, 0) - value
            removed[(form.code, uid)] = frozenset(below | keys)
            derived_in[(form.code, uid)] = mine + handed
            out[(form.code, uid)] = complete(spec, totals)
    return out


def _taken_out(
    spec: FormSpec,
    period: Period,
    pending: list[Candidate],
    reached: set[int],
    below: set[tuple[str, int]],
) -> tuple[dict[str, Number], set[tuple[str, int]]]:
    """The cell values of the station rows this total takes out once (both facilities counted in it, not
    already taken out below), and those rows, as ``cross_facility_duplicates`` does for an official report."""
    if not pending or not counts_once(spec, period):
        return {}, set()
    new = [
        c
        for c in pending
        if c.record.facility_id in reached
        and c.key not in below
        and any(m.facility_id in reached for m in c.matches)
    ]
    if not new:
        return {}, set()
    only: dict[str, set[int]] = defaultdict(set)
    for c in new:
        only[c.register].add(c.record.pk)
    values: dict[str, Number] = {}
    for cells in duplicate_values(spec, only, {c.record.facility_id for c in new}, period).values():
        for key, value in cells.items():
            values[key] = values.get(key, 0) + value
    return values, {c.key for c in new}


def _unmapped_values(
    spec: FormSpec, files: Mapping[int, frozenset[str]], period: Period, provinces: Mapping[int, str]
) -> dict[int, dict[str, Number]]:
    """The cells of `spec` a register answers but no form of the child maps (BCH4 column 14, ARV, for a
    commune station filing BCX3), from each child's own registers: the same rule as a unit row of the
    official report (``view._fill_from_registers``), so the roll-up never leaves those columns at 0."""
    groups: dict[frozenset[str], list[int]] = defaultdict(list)
    for child, codes in files.items():
        if codes:  # a child filing none of the mapped forms contributes nothing (as in compute_live)
            groups[codes].append(child)
    out: dict[int, dict[str, Number]] = {}
    for codes, child_ids in groups.items():
        sub = unmapped_spec(spec, codes)
        if sub is not None:
            out.update(register_values(sub, child_ids, period, provinces=provinces))
    return out


def _bulk_register_values(
    forms: list[FormDefinition], kinds: dict[int, str], period: Period, provinces: Mapping[int, str]
) -> dict[str, dict[int, dict[str, Number]]]:
    """Own register values of every form: the cells of all forms merged into one spec, so each register is
    scanned once (per date field) for the units of every form, and each form keeps the values of the units
    that file it. At national size a register's month is a large share of its table (PostgreSQL reads it
    whole), and one scan per group of forms read the child-exam register three times (issue 20)."""
    result: dict[str, dict[int, dict[str, Number]]] = {f.code: {} for f in forms}
    merged = []
    split: dict[str, tuple[str, str]] = {}
    for f in forms:
        for c in f.parsed().cells:
            if c.query is not None:
                m = dataclasses.replace(c, row=f"{f.code}|{c.row}")
                merged.append(m)
                split[m.key] = (f.code, c.key)
    filed_by = {f.code: frozenset(f.unit_kinds) for f in forms}
    filing = frozenset().union(*filed_by.values())
    unit_ids = [u for u, k in kinds.items() if k in filing]
    if not merged or not unit_ids:
        return result
    combined = dataclasses.replace(forms[0].parsed(), cells=tuple(merged), raw={})
    for uid, cells in register_values(combined, unit_ids, period, provinces=provinces).items():
        kind = kinds[uid]
        for key, value in cells.items():
            code, original = split[key]
            if kind in filed_by[code]:
                result[code].setdefault(uid, {})[original] = value
    return result


def _path_of(uid: int, parent_of: Mapping[int, int | None]) -> list[int]:
    path: list[int] = []
    cur: int | None = uid
    while cur is not None and len(path) < 32:
        path.append(cur)
        cur = parent_of.get(cur)
    return path


@dataclass(frozen=True)
class Crossing:
    """An event a commune station counts in its "CSYT khác" — typed (`kind` "typed", `record_id` = the station's
    row) or derived from a facility's row of its resident (`kind` "derived", `record_id` = that row) — that a
    facility also recorded as its own service: `facility_ids`, the facilities whose rows hold it (match order).
    `values`: what the station's side adds to each province-level and district-level form's cells ({form code:
    {cell: value}}, formulas completed), as the province's (district's) total counts it."""

    kind: str
    register: str
    record_id: int
    station_id: int
    facility_ids: tuple[int, ...]
    values: dict[str, dict[str, Number]]


def crossings(period: Period, path: str) -> list[Crossing]:
    """Every station-and-facility event of the month (the pairs an upper total takes out once, ADR 0036, and
    the derived "CSYT khác" events, ADR 0047) whose station **or** facility is in the subtree at `path` (a
    province), wherever the other side is. No total of the forms takes out a pair whose two sides are in two
    provinces (no form is filed above a province), nor a district-level form's pair whose two sides are in two
    districts (no district form is filed above a district): the analytics store does, above both (ADR 0078,
    0079). A few statements per register, from either side: the subtree's station rows and the rows of other
    stations that its facilities' rows match (by personal ID or folded name), the residents of its stations and
    the stations of its facilities' residents (both sides in the subtree included: two districts of it)."""
    upper = [
        f
        for f in forms_in_force(period.start)
        if f.period_type == period.type and f.level in ("province", "district")
    ]
    commune = [
        f for f in forms_in_force(period.start) if f.period_type == period.type and f.level == "commune"
    ]
    if period.type != "monthly" or not upper:
        return []
    inside = set(ReportingUnit.objects.filter(path__startswith=path).values_list("pk", flat=True))
    under = {"facility__path__startswith": path}
    found: list[Crossing] = []
    typed: dict[str, list[Candidate]] = {}
    for register, model in REGISTERS.items():
        live = model.objects.filter(voided_at__isnull=True, month=period.start)
        served = live.exclude(place=PlaceOfService.OTHER_FACILITY)
        station_rows = live.filter(place=PlaceOfService.OTHER_FACILITY)
        recs: dict[int, Any] = {r.pk: r for r in station_rows.filter(**under)}
        ours = served.filter(**under)
        pids = sorted(set(ours.exclude(personal_id="").values_list("personal_id", flat=True)))
        names = sorted(
            set(
                ours.exclude(full_name_folded="").exclude(dob=None).values_list("full_name_folded", flat=True)
            )
        )
        for lookup, keys in (("personal_id__in", pids), ("full_name_folded__in", names)):
            for i in range(0, len(keys), CHUNK):
                recs.update((r.pk, r) for r in station_rows.filter(**{lookup: keys[i : i + CHUNK]}))
        hits = [
            c
            for c in matched(register, sorted(recs.values(), key=lambda r: (r.event_date, r.pk)), served)
            if c.record.facility_id in inside or any(m.facility_id in inside for m in c.matches)
        ]
        if hits:
            typed[register] = hits
    specs = {f.code: f.parsed() for f in upper}
    typed_values = {
        code: record_values(
            spec, period, {r: {"pk__in": [c.record.pk for c in cs]} for r, cs in typed.items()}
        )
        for code, spec in specs.items()
    }
    for register, cs in typed.items():
        for c in cs:
            values = {code: typed_values[code].get((register, c.record.pk), {}) for code in specs}
            found.append(
                Crossing(
                    "typed",
                    register,
                    c.record.pk,
                    c.record.facility_id,
                    tuple(m.facility_id for m in c.matches),
                    {code: _completed(specs[code], v) for code, v in values.items()},
                )
            )
    # derived: the subtree's stations' residents served outside it, and its facilities' residents elsewhere
    codes: set[str] = set()
    for model in REGISTERS.values():
        codes.update(
            model.objects.filter(
                voided_at__isnull=True, month=period.start, place=PlaceOfService.AT_FACILITY, **under
            )
            .exclude(residence_commune_code="")
            .values_list("residence_commune_code", flat=True)
            .distinct()
        )
    cols = ("pk", "code", "admin_unit__code", "admin_unit__level", "admin_unit__version")
    tyt = ReportingUnit.objects.filter(kind=UnitKind.TYT)
    rows = list(tyt.filter(path__startswith=path).values_list(*cols))
    ordered = sorted(codes)
    for i in range(0, len(ordered), CHUNK):
        rows += (
            tyt.filter(admin_unit__code__in=ordered[i : i + CHUNK])
            .exclude(path__startswith=path)
            .values_list(*cols)
        )
    stations = {uid: (code, residents.place_code(c or "", lv or "", v or "")) for uid, code, c, lv, v in rows}
    by_code = {f.code: f for f in forms_in_force(period.start)}
    for form in commune:
        spec = form.parsed()
        for uid, events in residents.residents_of(spec, stations, period).items():
            for r in events:
                if uid not in inside and r.facility_id not in inside:
                    continue  # neither side in the subtree: not ours
                values = {}
                for code, target in specs.items():
                    pairs = _chain(target, form.code, by_code)
                    taken = residents.added(residents.mapped([r], pairs))
                    values[code] = _completed(target, taken)
                found.append(Crossing("derived", r.register, r.record_id, uid, (r.facility_id,), values))
    return found


def _completed(spec: FormSpec, values: Mapping[str, Number]) -> dict[str, Number]:
    """The cells an event adds to, its formula cells (linear sums) included."""
    if not values:
        return {}
    return {k: v for k, v in complete(spec, dict(values)).items() if v}


def _chain(
    spec: FormSpec, source: str, by_code: Mapping[str, FormDefinition], depth: int = 0
) -> list[tuple[str, str]]:
    """(cell of form `source`, cell of `spec`) pairs through the forms' `aggregate` chain (BCX3 → BCH → BCT),
    the path a lower total takes up the tree; [] when `spec` never sums `source`."""
    sources: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for cell in spec.cells:
        for src in cell.aggregate:
            sources[src.form].append((src.cell, cell.key))
    if source in sources:
        return sources[source]
    for code, pairs in sources.items():
        if code in by_code and depth < 4:
            below = _chain(by_code[code].parsed(), source, by_code, depth + 1)
            if below:
                return [(low, ours) for low, mid in below for mid2, ours in pairs if mid2 == mid]
    return []
