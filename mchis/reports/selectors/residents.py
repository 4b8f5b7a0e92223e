"""The commune's "CSYT khác" derived from other facilities' records of its residents (issue 12.2, ADR 0047).

A commune station's report is residence-based: besides what the station did (Tại TYT) and what happened
outside any facility (Ngoài CSYT), its "CSYT khác" column counts its residents' events at other facilities.
The station may type them (``place = other_facility``); here they also come from the facilities that served
them: a live row of the delivery, abortion or death register of the month, recorded by another facility as
its own service (``place = at_facility``), whose ``residence_commune_code`` is the station's 2025 commune. A
derived row that matches one of the station's own "other facility" rows (``duplicates.same_event``) is the
event the station already typed: it is not added again.

Each derived row is counted with the form's own queries as if the station had recorded it as "CSYT khác"
(the column filter ``place = other_facility`` read as ``at_facility``; only the cells of rows that have a
"CSYT khác" column: that column and the row's unfiltered "Tổng số"). The rows and their values are frozen in
the station's snapshot (``residents``); an upper total takes a derived row out once, at the lowest total that
also counts the facility that recorded it, and hands the others up with their values mapped
into its own cells (``duplicates.cross_facility_duplicates``). The national roll-up (``rollup.py``) does the same
for every station at once (``residents_of``) with the same take-out rule (``duplicates.derived_taken_out``).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mchis.registers.models import PlaceOfService
from mchis.units.models import ReportingUnit

from ..compute import Number, record_values, registers
from ..definitions import Cell, Filter, FormSpec, Query
from ..models import ReportInstance
from ..periods import Period
from .duplicates import CHUNK, REGISTERS, Pair, same_event
from .forms import APPROVED

PLACE = "place"
OTHER = PlaceOfService.OTHER_FACILITY.value
AT = PlaceOfService.AT_FACILITY.value


@dataclass(frozen=True)
class Resident:
    """A facility's record (`record_id`) of an event of `station`'s resident, and what it adds to the station's
    report cells (`values`: in the cells of the form that carries it at this level)."""

    register: str
    record_id: int
    station: str  # the commune station's unit code
    facility_id: int
    facility: str  # the code of the facility that recorded it
    source_record_id: str
    name: str
    event_date: str
    values: dict[str, Number]

    @property
    def key(self) -> tuple[str, int]:
        return (self.register, self.record_id)

    @property
    def register_label(self) -> str:
        return registers()[self.register].label

    def as_pair(self) -> Pair:
        """The page/API listing of a derived event taken out of a total (matched by residence)."""
        return Pair(
            self.register,
            self.record_id,
            self.station,
            "",
            self.record_id,
            self.facility,
            self.source_record_id,
            self.name,
            self.event_date,
            self.event_date,
            "residence",
        )


def _other_place(query: Query) -> Query | None:
    """The query reading another facility's own service as the station's "CSYT khác"; None: no such part."""
    places = [f for f in query.filters if f.field == PLACE]
    if not places:
        return query
    if places != [Filter(PLACE, "exact", OTHER)]:
        return None
    rest = tuple(f for f in query.filters if f.field != PLACE)
    also = _other_place(query.also) if query.also is not None else None
    return dataclasses.replace(query, filters=(*rest, Filter(PLACE, "exact", AT)), also=also)


_DERIVED: dict[int, tuple[FormSpec, FormSpec | None]] = {}


def derived_spec(spec: FormSpec) -> FormSpec | None:
    """The cells a resident's event at another facility adds to (rows with a "CSYT khác" column)."""
    hit = _DERIVED.get(id(spec))
    if hit is None or hit[0] is not spec:
        if len(_DERIVED) >= 64:
            _DERIVED.clear()
        rows = {
            c.row
            for c in spec.cells
            if c.query is not None and Filter(PLACE, "exact", OTHER) in c.query.filters
        }
        cells: list[Cell] = []
        for c in spec.cells:
            if c.row in rows and c.query is not None and c.query.register in (*REGISTERS, "newborn"):
                q = _other_place(c.query)
                if q is not None:
                    cells.append(dataclasses.replace(c, query=q))
        sub = dataclasses.replace(spec, cells=tuple(cells), rules=(), raw={}) if cells else None
        hit = _DERIVED[id(spec)] = (spec, sub)
    return hit[1]


def commune_code(unit: ReportingUnit) -> str:
    """The station's 2025 commune code ("" when the unit is not placed in a commune)."""
    place = unit.admin_unit
    return place_code(place.code, place.level, place.version)


def place_code(code: str, level: str, version: str) -> str:
    """``commune_code`` from the admin unit's columns (a bulk read of many stations)."""
    return code if level == "commune" and version == "2025" else ""


def resident_events(spec: FormSpec, unit: ReportingUnit, period: Period) -> list[Resident]:
    """The events of `unit`'s residents recorded by other facilities that the station did not type itself."""
    if unit.kind != "tyt":
        return []
    return residents_of(spec, {unit.pk: (unit.code, commune_code(unit))}, period).get(unit.pk, [])


def residents_of(
    spec: FormSpec, stations: Mapping[int, tuple[str, str]], period: Period
) -> dict[int, list[Resident]]:
    """``resident_events`` of many commune stations at once ({station id: (unit code, 2025 commune code)}, only
    stations: ``kind = tyt``): {station id: its derived events}, stations without any left out. A fixed number
    of statements however many stations and rows (a national roll-up): per register the residents' rows and the
    stations' own "CSYT khác" rows, then every row's cell values in one grouped statement per register."""
    if spec.level != "commune" or period.type != "monthly":
        return {}
    sub = derived_spec(spec)
    by_code: dict[str, list[int]] = defaultdict(list)
    for uid, (_, code) in stations.items():
        if code:
            by_code[code].append(uid)
    if sub is None or not by_code:
        return {}
    codes = sorted(by_code)
    # a national roll-up names every commune: read the rows of all residence codes rather than list them
    where: dict[str, Any] = {"month": period.start, "place": AT}
    where |= (
        {"residence_commune_code__in": codes} if len(codes) <= CHUNK else {"residence_commune_code__gt": ""}
    )
    found: list[tuple[int, str, Any]] = []  # (station id, register, facility's row), in the report's order
    for register, model in REGISTERS.items():
        live = model.objects.filter(voided_at__isnull=True, month=period.start)
        rows = [
            (uid, row)
            for row in live.filter(**where)
            .select_related("facility")
            .order_by("facility__code", "event_date", "pk")
            for uid in by_code.get(row.residence_commune_code, ())
            if uid != row.facility_id
        ]
        if not rows:
            continue
        ids = sorted({uid for uid, _ in rows})
        typed_rows = live.filter(place=OTHER)
        if len(ids) <= CHUNK:
            typed_rows = typed_rows.filter(facility_id__in=ids)
        typed: dict[int, list[Any]] = defaultdict(list)
        for own in typed_rows:
            typed[own.facility_id].append(own)
        for uid, row in rows:
            if any(same_event(own, row, register) for own in typed.get(uid, ())):
                continue  # the station typed this event as "CSYT khác": counted once, as typed
            found.append((uid, register, row))
    if not found:
        return {}
    record_ids: dict[str, set[int]] = defaultdict(set)
    for _, register, row in found:
        record_ids[register].add(row.pk)
    values = record_values(
        sub,
        period,
        {r: {"pk__in": sorted(pks)} if len(pks) <= CHUNK else where for r, pks in record_ids.items()},
    )
    out: dict[int, list[Resident]] = defaultdict(list)
    for uid, register, row in found:
        out[uid].append(
            Resident(
                register,
                row.pk,
                stations[uid][0],
                row.facility_id,
                row.facility.code,
                row.source_record_id,
                row.full_name,
                f"{row.event_date:%d/%m/%Y}",
                {k: v for k, v in values.get((register, row.pk), {}).items() if v},
            )
        )
    return dict(out)


def added(residents: Iterable[Resident]) -> dict[str, Number]:
    total: dict[str, Number] = {}
    for r in residents:
        for key, value in r.values.items():
            total[key] = total.get(key, 0) + value
    return total


def as_snapshot(residents: Iterable[Resident]) -> list[dict[str, Any]]:
    return [asdict(r) for r in residents]


def from_snapshot(data: list[dict[str, Any]] | None) -> list[Resident]:
    return [Resident(**r) for r in data or []]


def below(spec: FormSpec, contributions: Iterable[Any], period: Period) -> list[Resident]:
    """The derived events still inside the approved reports directly below, their values mapped into `spec`'s
    cells through each cell's `aggregate` (what each of them adds to this total through that unit's row)."""
    sources: dict[str, list[tuple[str, str]]] = {}
    for cell in spec.cells:
        for src in cell.aggregate:
            sources.setdefault(src.form, []).append((src.cell, cell.key))
    approved = [(c.unit.pk, c.form_code) for c in contributions if not c.missing]
    if not approved:
        return []
    reports = ReportInstance.objects.filter(
        unit_id__in={uid for uid, _ in approved},
        form__code__in={code for _, code in approved},
        period_start=period.start,
        status__in=APPROVED,
    ).values_list("unit_id", "form__code", "snapshot")
    out: list[Resident] = []
    for uid, code, snap in sorted(reports, key=lambda r: (r[0], r[1])):
        if (uid, code) not in approved or not snap:
            continue
        out += mapped(from_snapshot(snap.get("residents")), sources.get(code, []))
    return out


def mapped(residents: Iterable[Resident], pairs: Iterable[tuple[str, str]]) -> list[Resident]:
    """`residents` of a unit's report with their values mapped into an upper form's cells (`pairs`: (cell of
    the unit's form, cell of the upper form), from the upper cells' `aggregate`)."""
    pairs = list(pairs)
    out: list[Resident] = []
    for r in residents:
        values: dict[str, Number] = {}
        for child_cell, our_cell in pairs:
            if r.values.get(child_cell):
                values[our_cell] = values.get(our_cell, 0) + r.values[child_cell]
        if values:  # a form that maps none of its cells has nothing of it to count or take out
            out.append(dataclasses.replace(r, values=values))
    return out
