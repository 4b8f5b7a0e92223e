"""Women screened for cervical cancer at least once in 5 years (CX_COV's numerator, WHO; ADR 0079).

WHO's coverage counts **women**, not visits: women aged 30–49 screened at least once in the last 5 years, over
the female population 30–49. A distinct count of people over 60 months does not add up from monthly counts, so
the store keeps it as a **stock** per unit and month: element ``CXCOV.W:a30_49`` of unit *u*, month *t* = the
women aged 30–49 at the end of *t* whose **most recent** screening in the 60 months ending with *t* (months
*t*−59 … *t*) was recorded by *u*. Each woman is held by exactly one unit in a month, so the roll-up by deltas (a
node = the sum of its units) counts her once at every level, the nation included. A period's value is the
value of its last month (``selectors.compute``: coverage at the end of the period), not a sum.

Who is one woman (the registers' own rule, ``reports.matching.same_person``): her personal ID when the row has
one; else her folded name + date of birth, joined to the woman with a personal ID whose rows carry the same
name and date of birth when exactly one such ID does; a row with neither an ID nor name + date of birth is a
woman of its own. A screening: a gynaecological exam row (``GynExam``) with VIA/VILI, a cytology or an HPV
sample, not voided, not a station's "CSYT khác" row (the facility that screened her records it: the same
rule as every analytics element). The age is at the end of the month (the age of the population in the
denominator); a woman without a date of birth has no age and is not counted.

Keeping it current: a write of a unit-month recomputes it (``store.recompute_unit_month``), which compares the
unit-month's screenings with what it saw last time (``ScreeningSeen``); when they differ, every woman named
before or after may change holder in the 60 months from that month, at this unit and at every unit that
recorded a screening of hers in months *m*−59 … *m*+59: those unit-months are marked ``DirtyCoverage`` and
recomputed alone (``store.recompute_coverage``).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from mchis.registers.models import GynExam, PlaceOfService
from mchis.units.provinces import province_code_of

FORM = "CXCOV"
ELEMENT = "CXCOV.W:a30_49"
NAMES = {
    ELEMENT: "Phụ nữ 30–49 tuổi đã sàng lọc ung thư cổ tử cung trong 5 năm (người, theo nơi sàng lọc gần nhất)",
}
WINDOW = 60  # months, the month itself included
AGES = (30, 49)
SCREENED = Q(via_done=True) | Q(pap_sample_sent=True) | Q(hpv_sample_sent=True)
CHUNK = 500
ROUNDS = 6  # identity links followed from the seed (ID → name + birth date → ID …)


def is_coverage(element: str) -> bool:
    return element.startswith(f"{FORM}.")


def add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    return date.fromordinal(add_months(month, 1).toordinal() - 1)


def age_on(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


@dataclass(frozen=True)
class Screening:
    id: int
    facility_id: int
    event_date: date
    personal_id: str
    name: str
    dob: date | None

    @property
    def pair(self) -> tuple[str, date] | None:
        return (self.name, self.dob) if self.name and self.dob else None


def _own(unit_id: int) -> Q:
    """The unit's rows, its province named: the gyn register is partitioned by it (ADR 0075)."""
    return Q(province_code=province_code_of(unit_id), facility_id=unit_id)


def _rows(q: Q, first: date, last: date, pairs: list[tuple[str, date]] | None = None) -> list[Screening]:
    """The screenings of months `first` … `last` matching `q`, and when `pairs` are given, only those whose
    (name, birth date) is one of them. PostgreSQL: the exact pairs, answered from `gyn_name_dob_idx` (issue 20:
    the names and the dates as two IN lists matched their cross product, 48,637 rows for 500 pairs at 4 M gyn
    rows, in 1.3 s; the pairs alone take 63 ms, and with the IN lists beside them the planner went back to the
    cross product). SQLite has no unnest: the two IN lists, filtered here."""
    queryset: QuerySet[GynExam] = GynExam.objects.filter(
        q, SCREENED, voided_at__isnull=True, month__gte=first, month__lte=last
    )
    if pairs is not None and connection.vendor == "postgresql":
        queryset = queryset.extra(  # fixed SQL, the values as parameters
            where=["(full_name_folded, dob) IN (SELECT * FROM unnest(%s::varchar[], %s::date[]))"],
            params=[[n for n, _ in pairs], [d for _, d in pairs]],
        )
    elif pairs is not None:
        queryset = queryset.filter(full_name_folded__in={n for n, _ in pairs}, dob__in={d for _, d in pairs})
    rows = queryset.exclude(place=PlaceOfService.OTHER_FACILITY).values_list(
        "pk", "facility_id", "event_date", "personal_id", "full_name_folded", "dob"
    )
    found = [Screening(*r) for r in rows]
    if pairs is None:
        return found
    wanted = set(pairs)
    return [r for r in found if r.pair in wanted]


def connected(
    pids: Iterable[str], pairs: Iterable[tuple[str, date]], first: date, last: date
) -> dict[int, Screening]:
    """Every screening of months `first` … `last` linked to these personal IDs and (name, birth date) pairs,
    following the links (a row's ID and its name + birth date) until nothing new: the same rows whichever of
    a woman's rows one starts from, so every unit resolves her the same way."""
    rows: dict[int, Screening] = {}
    seen_p: set[str] = set()
    seen_n: set[tuple[str, date]] = set()
    want_p, want_n = set(pids) - {""}, set(pairs)
    for _ in range(ROUNDS):
        if not want_p and not want_n:
            break
        seen_p |= want_p
        seen_n |= want_n
        ids = sorted(want_p)
        for i in range(0, len(ids), CHUNK):
            # "<> ''" said in so many words: it is the condition of the partial index `gyn_pid_idx`, and PostgreSQL
            # proves it from an IN list of at most 100 values only — with 500, every partition was read whole
            by_id = Q(personal_id__in=ids[i : i + CHUNK]) & ~Q(personal_id="")
            rows.update((r.id, r) for r in _rows(by_id, first, last))
        named = sorted(want_n)
        for i in range(0, len(named), CHUNK):
            rows.update((r.id, r) for r in _rows(Q(), first, last, named[i : i + CHUNK]))
        want_p = {r.personal_id for r in rows.values() if r.personal_id} - seen_p
        want_n = {p for r in rows.values() if (p := r.pair)} - seen_n
    return rows


def women(rows: Iterable[Screening]) -> dict[tuple[str, ...], list[Screening]]:
    """The screenings of each woman (see the module docstring for who is one woman)."""
    rows = list(rows)
    ids_of: dict[tuple[str, date], set[str]] = defaultdict(set)
    for r in rows:
        if r.personal_id and r.pair:
            ids_of[r.pair].add(r.personal_id)
    out: dict[tuple[str, ...], list[Screening]] = defaultdict(list)
    for r in rows:
        key: tuple[str, ...]
        if r.personal_id:
            key = ("id", r.personal_id)
        elif r.pair:
            ids = ids_of.get(r.pair, set())
            key = ("id", next(iter(ids))) if len(ids) == 1 else ("name", r.name, r.dob.isoformat())  # type: ignore[union-attr]
        else:
            key = ("row", str(r.id))
        out[key].append(r)
    return out


def women_screened(unit_id: int, month: date) -> int:
    """Women aged 30–49 at the end of `month` whose latest screening in the 60 months ending with it was
    recorded by this unit."""
    first = add_months(month, 1 - WINDOW)
    seed = _rows(_own(unit_id), first, month)
    if not seed:
        return 0
    rows = connected({r.personal_id for r in seed}, {p for r in seed if (p := r.pair)}, first, month)
    rows.update((r.id, r) for r in seed)
    end = month_end(month)
    count = 0
    for screenings in women(rows.values()).values():
        latest = max(screenings, key=lambda r: (r.event_date, r.id))
        if latest.facility_id != unit_id:
            continue
        dobs = [r for r in screenings if r.dob]
        if not dobs:
            continue
        dob = max(dobs, key=lambda r: (r.event_date, r.id)).dob
        assert dob is not None
        if AGES[0] <= age_on(dob, end) <= AGES[1]:
            count += 1
    return count


def seen(unit_id: int, month: date) -> tuple[str, list[list[str]]]:
    """The unit-month's screenings as the count sees them: a digest and the people they name."""
    rows = sorted(_rows(_own(unit_id), month, month), key=lambda r: r.id)
    material = [
        [r.id, r.event_date.isoformat(), r.personal_id, r.name, r.dob.isoformat() if r.dob else ""]
        for r in rows
    ]
    digest = hashlib.sha256(json.dumps(material).encode()).hexdigest() if rows else ""
    people = sorted({(r.personal_id, r.name, r.dob.isoformat() if r.dob else "") for r in rows})
    return digest, [list(p) for p in people]


def reached(unit_id: int, month: date, people: Iterable[Iterable[str]]) -> set[tuple[int, date]]:
    """The unit-months whose count may change when the screenings of (unit, month) naming `people` change:
    months `month` … `month`+59 of this unit and of every unit holding a screening of one of these women in
    months `month`−59 … `month`+59 (the windows that contain `month`)."""
    pids: set[str] = set()
    pairs: set[tuple[str, date]] = set()
    for pid, name, dob in people:
        if pid:
            pids.add(pid)
        if name and dob:
            pairs.add((name, date.fromisoformat(dob)))
    # Months after the current one are not counted until they come (the store's daily sweep opens each new
    # month, `units_to_open`): a write of this month reaches one month per unit, not sixty.
    current = timezone.localdate().replace(day=1)
    months = [m for m in (add_months(month, i) for i in range(WINDOW)) if m <= current]
    if not months:
        return set()
    units = {unit_id}
    if pids or pairs:
        rows = connected(pids, pairs, add_months(month, 1 - WINDOW), months[-1])
        units |= {r.facility_id for r in rows.values()}
    return {(u, m) for u in units for m in months}


def units_to_open(month: date) -> list[int]:
    """Units holding a screening in the 60 months ending with `month`: the units whose count of a new month
    must be made (no write of that month need have happened for the window to move)."""
    rows = GynExam.objects.filter(
        SCREENED, voided_at__isnull=True, month__gte=add_months(month, 1 - WINDOW), month__lte=month
    ).exclude(place=PlaceOfService.OTHER_FACILITY)
    return sorted(set(rows.values_list("facility_id", flat=True).distinct()))
