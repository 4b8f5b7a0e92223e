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
into its own cells (``duplicates.cross_facility_duplicates``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from mchis.registers.models import PlaceOfService
from mchis.units.models import ReportingUnit

from ..compute import Number, register_values, registers
from ..definitions import Cell, Filter, FormSpec, Query
from ..models import ReportInstance
from ..periods import Period
from .duplicates import REGISTERS, Pair, same_event
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
    return place.code if place.level == "commune" and place.version == "2025" else ""


def resident_events(spec: FormSpec, unit: ReportingUnit, period: Period) -> list[Resident]:
    """The events of `unit`'s residents recorded by other facilities that the station did not type itself."""
    if spec.level != "commune" or period.type != "monthly" or unit.kind != "tyt":
        return []
    sub = derived_spec(spec)
    code = commune_code(unit)
    if sub is None or not code:
        return []
    out: list[Resident] = []
    for register, model in REGISTERS.items():
        live = model.objects.filter(voided_at__isnull=True, month=period.start)
        rows = list(
            live.filter(residence_commune_code=code, place=AT)
            .exclude(facility_id=unit.pk)
            .select_related("facility")
            .order_by("facility__code", "event_date", "pk")
        )
        if not rows:
            continue
        typed = list(live.filter(facility_id=unit.pk, place=OTHER))
        for row in rows:
            if any(same_event(own, row, register) for own in typed):
                continue  # the station typed this event as "CSYT khác": counted once, as typed
            values = register_values(sub, [row.facility_id], period, only={register: [row.pk]})
            out.append(
                Resident(
                    register,
                    row.pk,
                    unit.code,
                    row.facility_id,
                    row.facility.code,
                    row.source_record_id,
                    row.full_name,
                    f"{row.event_date:%d/%m/%Y}",
                    {k: v for k, v in values.get(row.facility_id, {}).items() if v},
                )
            )
    return out


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
        for r in from_snapshot(snap.get("residents")):
            mapped: dict[str, Number] = {}
            for child_cell, our_cell in sources.get(code, []):
                if r.values.get(child_cell):
                    mapped[our_cell] = mapped.get(our_cell, 0) + r.values[child_cell]
            if mapped:  # a form that maps none of its cells has nothing of it to count or take out
                out.append(dataclasses.replace(r, values=mapped))
    return out
