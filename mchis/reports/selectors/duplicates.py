"""No double counting upward (issue 12.3): one event recorded by two facilities counts once in an upper total.

A commune station records the delivery, abortion or death of its resident that happened at another facility
(``place = other_facility``: its "CSYT khác" column, so its own report is residence-based). When that other
facility is also counted in the same district or provincial total, the event is in the total twice. Here the
station's record is matched with the other facility's record of the same register — the same person (personal
ID when both rows carry one, else folded name + date of birth), event dates at most one day apart, a death of
the same kind — and the station's record is taken out of the total once. The unit rows keep what each unit
reported; a separate row ("Trùng lặp giữa các cơ sở") shows the subtraction, and the pairs are listed for the
approver. A pair already taken out by an approved report below (frozen in its snapshot) is not taken out again.

Only units counted in the total take part: the filing unit's own facilities and the units whose approved
reports reach it (recursively through the approved reports below).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from mchis.registers.models import Abortion, Death, Delivery, PlaceOfService
from mchis.units.models import ReportingUnit

from ..compute import Number, register_values, registers
from ..definitions import FormSpec
from ..models import ReportInstance
from ..periods import Period
from .forms import APPROVED

REGISTERS: dict[str, Any] = {"delivery": Delivery, "abortion": Abortion, "death": Death}
ROW_ID = "DUP"
ROW_LABEL = "Trùng lặp giữa các cơ sở (trừ một lần)"
BASIS = (
    "Tổng số: mỗi sự kiện tính một lần — hàng của từng đơn vị là số đơn vị đó báo cáo (trạm y tế: theo nơi cư "
    "trú, gồm cả 'CSYT khác'); sự kiện được cả trạm và cơ sở khác cùng ghi thì trừ một lần ở hàng trùng lặp."
)


@dataclass(frozen=True)
class Pair:
    """A station's record (`record_id`) of an event that `other_unit_code` also recorded (`other_record_id`)."""

    register: str
    record_id: int
    unit_code: str
    source_record_id: str
    other_record_id: int
    other_unit_code: str
    other_source_record_id: str
    name: str
    event_date: str
    other_event_date: str
    by: str  # "personal_id" | "name_dob" | "residence" (a derived "CSYT khác" event, residents.py)

    @property
    def key(self) -> tuple[str, int]:
        return (self.register, self.record_id)

    @property
    def register_label(self) -> str:
        return registers()[self.register].label

    @property
    def by_label(self) -> str:
        return {"personal_id": "số định danh", "residence": "nơi cư trú (CSYT khác tự suy ra)"}.get(
            self.by, "họ tên + ngày sinh"
        )


@dataclass
class Duplicates:
    values: dict[str, Number] = field(default_factory=dict)  # taken out of the total (positive numbers)
    pairs: list[Pair] = field(default_factory=list)

    def as_snapshot(self) -> dict[str, Any]:
        return {"values": self.values, "pairs": [asdict(p) for p in self.pairs]}

    @classmethod
    def from_snapshot(cls, data: dict[str, Any] | None) -> Duplicates:
        if not data:
            return cls()
        return cls(dict(data.get("values", {})), [Pair(**p) for p in data.get("pairs", [])])


def counts_once(spec: FormSpec, period: Period) -> bool:
    """Does a total of this form take cross-facility duplicates out (district and provincial monthly forms)?"""
    return spec.level in ("district", "province") and period.type == "monthly"


def counted_units(
    unit: ReportingUnit, period: Period, contributions: Iterable[Any]
) -> tuple[set[int], set[tuple[str, int]]]:
    """(ids of the units whose register rows reach `unit`'s total, pairs already removed below)."""
    counted = {unit.pk}
    removed: set[tuple[str, int]] = set()
    frontier = [(c.unit.pk, c.form_code) for c in contributions if not c.missing]
    seen: set[tuple[int, str]] = set()
    while frontier:
        batch = [f for f in frontier if f not in seen]
        seen.update(batch)
        frontier = []
        if not batch:
            break
        counted.update(uid for uid, _ in batch)
        reports = ReportInstance.objects.filter(
            unit_id__in={uid for uid, _ in batch},
            form__code__in={code for _, code in batch},
            period_start=period.start,
            status__in=APPROVED,
        ).values_list("unit_id", "form__code", "snapshot")
        for uid, code, snap in reports:
            if (uid, code) not in batch or not snap:
                continue
            dup = Duplicates.from_snapshot(snap.get("duplicates"))
            removed.update(p.key for p in dup.pairs)
            frontier += [
                (m["unit_id"], m["form"])
                for m in snap.get("contributions", [])
                if m.get("status") in APPROVED
            ]
    return counted, removed


def same_event(rec: Any, other: Any, register: str) -> bool:
    """Is `other` (another facility's row of the same register) the event of the station's row `rec`? The same
    person (personal ID when `rec` has one — or folded name + date of birth against a row without an ID —,
    else folded name + date of birth), event dates at most one day apart, a death of the same kind."""
    if abs((other.event_date - rec.event_date).days) > 1:
        return False
    if register == "death" and other.death_kind != rec.death_kind:
        return False
    named = bool(rec.full_name_folded and rec.dob) and (other.full_name_folded, other.dob) == (
        rec.full_name_folded,
        rec.dob,
    )
    if rec.personal_id:
        return bool(other.personal_id == rec.personal_id or (other.personal_id == "" and named))
    return named


@dataclass(frozen=True)
class Candidate:
    """A station's "other facility" row and the other facilities' rows of the same event (by date, then id)."""

    register: str
    record: Any
    matches: tuple[Any, ...]

    @property
    def key(self) -> tuple[str, int]:
        return (self.register, self.record.pk)


CHUNK = 500  # values per IN (...) list (SQLite's variable limit): longer lists are chunked or read wider


def candidates(period: Period, facility_ids: Collection[int] | None = None) -> list[Candidate]:
    """Every live "other facility" row of the month that another facility's row matches, both facilities in
    `facility_ids` (None: everywhere). A few statements per register, however many rows: the station rows are
    read once, the possible matches by their personal IDs and folded names, and paired here."""
    out: list[Candidate] = []
    for register, model in REGISTERS.items():
        live = model.objects.filter(voided_at__isnull=True, month=period.start)
        if facility_ids is not None:
            live = live.filter(facility_id__in=facility_ids)
        recs = list(
            live.filter(place=PlaceOfService.OTHER_FACILITY).order_by("facility__code", "event_date", "pk")
        )
        out += matched(register, recs, live.exclude(place=PlaceOfService.OTHER_FACILITY))
    return out


def matched(register: str, recs: Sequence[Any], served: Any) -> list[Candidate]:
    """The station rows `recs` (one register) that rows of `served` (a queryset of other facilities' own rows)
    match, as candidates: the possible matches read by personal IDs and folded names, paired here."""
    if not recs:
        return []
    pool: dict[int, Any] = {}
    pids = sorted({r.personal_id for r in recs if r.personal_id})
    names = sorted({r.full_name_folded for r in recs if r.full_name_folded and r.dob})
    for lookup, values in (("personal_id__in", pids), ("full_name_folded__in", names)):
        for i in range(0, len(values), CHUNK):
            pool.update((o.pk, o) for o in served.filter(**{lookup: values[i : i + CHUNK]}))
    ordered = sorted(pool.values(), key=lambda o: (o.event_date, o.pk))
    out = []
    for rec in recs:
        matches = tuple(
            o for o in ordered if o.facility_id != rec.facility_id and same_event(rec, o, register)
        )
        if matches:
            out.append(Candidate(register, rec, matches))
    return out


def pair_of(candidate: Candidate, other: Any, codes: Mapping[int, str]) -> Pair:
    rec = candidate.record
    by = "personal_id" if rec.personal_id and rec.personal_id == other.personal_id else "name_dob"
    return Pair(
        candidate.register,
        rec.pk,
        codes[rec.facility_id],
        rec.source_record_id,
        other.pk,
        codes[other.facility_id],
        other.source_record_id,
        rec.full_name,
        f"{rec.event_date:%d/%m/%Y}",
        f"{other.event_date:%d/%m/%Y}",
        by,
    )


def find_pairs(counted: set[int], period: Period, removed: set[tuple[str, int]]) -> list[Pair]:
    codes = dict(ReportingUnit.objects.filter(pk__in=counted).values_list("pk", "code"))
    return [pair_of(c, c.matches[0], codes) for c in candidates(period, counted) if c.key not in removed]


def duplicate_values(
    spec: FormSpec, records: Mapping[str, Collection[int]], stations: Collection[int], period: Period
) -> dict[int, dict[str, Number]]:
    """{station id: {cell: value}}: what the station rows `records` ({register: ids}) add to `spec`'s cells."""
    values = register_values(spec, list(stations), period, only=records)
    return {uid: {k: v for k, v in cells.items() if v} for uid, cells in values.items()}


def derived_taken_out(derived: Iterable[Any], counted: Collection[int]) -> tuple[Duplicates, list[Any]]:
    """The derived "CSYT khác" events (``residents.Resident``) a total counting the units `counted` takes out
    (the facility that recorded one is counted: its own row holds the event) with their values, and the others
    (handed up: a higher total that counts that facility takes them out)."""
    taken = Duplicates()
    up = []
    for r in derived:
        if r.facility_id not in counted:
            up.append(r)
            continue
        taken.pairs.append(r.as_pair())
        for key, value in r.values.items():
            taken.values[key] = taken.values.get(key, 0) + value
    return taken, up


def cross_facility_duplicates(
    spec: FormSpec,
    unit: ReportingUnit,
    period: Period,
    contributions: Iterable[Any],
    derived: Sequence[Any] = (),
) -> tuple[Duplicates, list[Any]]:
    """The events an upper-level total would count twice, and the cell values to take out once; and the
    derived "CSYT khác" events (`derived`: ``residents.Resident``, values in this form's cells, from the
    approved reports below) that stay in the total, to hand up.

    A derived event is taken out here when the facility that recorded it is counted in this total (its own
    row holds the event); otherwise a higher total that counts that facility takes it out."""
    if not counts_once(spec, period):
        return Duplicates(), list(derived)
    counted, removed = counted_units(unit, period, contributions)
    taken, up = derived_taken_out(derived, counted)
    pairs = find_pairs(counted, period, removed)
    if not pairs:
        return taken, up
    only: dict[str, set[int]] = {}
    for p in pairs:
        only.setdefault(p.register, set()).add(p.record_id)
    station_ids = list(
        ReportingUnit.objects.filter(code__in={p.unit_code for p in pairs}).values_list("pk", flat=True)
    )
    values = taken.values
    for cells in duplicate_values(spec, only, station_ids, period).values():
        for key, value in cells.items():
            values[key] = values.get(key, 0) + value
    return Duplicates(values, pairs + taken.pairs), up
