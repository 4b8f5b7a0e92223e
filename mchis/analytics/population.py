"""Population denominators (dân số làm mẫu số, issue 15): the yearly reference table and its store elements.

The table (``Population``: 2025 commune × year × sex × 5-year age band, one version in force per year, loaded
from CSV by ``manage.py load_population``) gives each commune station (TYT, placed in its 2025 commune) the
population of its commune. The store holds a few sums of it as data elements of every station-month of the
year (``POP.F:a30_49`` = women 30–49), rolled up the unit tree by deltas like the analytics elements; they are
**stocks**, not counts: a period's value is the mean over its months (``selectors.compute``), so a year's
denominator is the year's population, not twelve times it.

A commune without a station, or a station not placed in a 2025 commune, is in no unit's denominator (the
indicators' definitions say so).
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from mchis.places.models import AdminUnit, CodeVersion, Level

from .models import Population, PopulationVersion

FORM = "POP"
SEXES = {"F": "F", "M": "M", "nữ": "F", "nu": "F", "nam": "M"}
AGE_BANDS = tuple(f"{a}_{a + 4}" for a in range(0, 80, 5)) + ("80p",)
COLUMNS = ("commune_code", "sex", "age_band", "people")
MAX_PEOPLE = 2_000_000  # no commune has as many people in one sex and band: a typo


def _bands(low: int, high: int | None) -> tuple[str, ...]:
    out = []
    for band in AGE_BANDS:
        start = int(band.split("_")[0].rstrip("p"))
        if start >= low and (high is None or start + 4 <= high):
            out.append(band)
    return tuple(out)


# element -> (sexes, age bands); add a row here (and `analytics_rebuild`) for a new denominator
ELEMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "POP.T:total": (("F", "M"), AGE_BANDS),
    "POP.F:total": (("F",), AGE_BANDS),
    "POP.M:total": (("M",), AGE_BANDS),
    "POP.T:a0_4": (("F", "M"), _bands(0, 4)),
    "POP.F:a15_49": (("F",), _bands(15, 49)),
    "POP.F:a30_49": (("F",), _bands(30, 49)),
}
NAMES = {
    "POP.T:total": "Dân số — tổng số",
    "POP.F:total": "Dân số nữ — tổng số",
    "POP.M:total": "Dân số nam — tổng số",
    "POP.T:a0_4": "Dân số 0–4 tuổi",
    "POP.F:a15_49": "Phụ nữ 15–49 tuổi",
    "POP.F:a30_49": "Phụ nữ 30–49 tuổi",
}


def is_population(element: str) -> bool:
    return element.startswith(f"{FORM}.")


@dataclass(frozen=True)
class Row:
    commune_id: int
    sex: str
    age_band: str
    people: int


def parse_csv(text: str) -> tuple[list[Row], list[str]]:
    """Rows of a population CSV (header ``commune_code,sex,age_band,people``; sex F/M or Nữ/Nam; bands
    0_4 … 75_79, 80p), and every problem as a Vietnamese message naming its line. Nothing is written here."""
    errors: list[str] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return [], [f"Dòng 1: thiếu cột {', '.join(missing)} (cần đủ các cột: {', '.join(COLUMNS)})."]
    communes = dict(
        AdminUnit.objects.filter(version=CodeVersion.V2025, level=Level.COMMUNE).values_list("code", "pk")
    )
    rows: list[Row] = []
    seen: dict[tuple[int, str, str], int] = {}
    for line, raw in enumerate(reader, start=2):
        data = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        code, sex_text, band, count = (data.get(c, "") for c in COLUMNS)
        problems = []
        commune = communes.get(code)
        if commune is None:
            problems.append(f"mã xã '{code}' không có trong danh mục xã, phường năm 2025")
        sex = SEXES.get(sex_text) or SEXES.get(sex_text.lower())
        if sex is None:
            problems.append(f"giới '{sex_text}' không hợp lệ (F/M hoặc Nữ/Nam)")
        if band not in AGE_BANDS:
            problems.append(f"nhóm tuổi '{band}' không hợp lệ (0_4, 5_9, …, 75_79, 80p)")
        try:
            people = int(count.replace(".", "").replace(",", "")) if count else -1
        except ValueError:
            people = -1
        if not 0 <= people <= MAX_PEOPLE:
            problems.append(f"số dân '{count}' phải là số nguyên từ 0 đến {MAX_PEOPLE:,}".replace(",", "."))
        if problems:
            errors.append(f"Dòng {line}: " + "; ".join(problems) + ".")
            continue
        assert commune is not None and sex is not None
        key = (commune, sex, band)
        if key in seen:
            errors.append(f"Dòng {line}: trùng xã {code}, giới {sex}, nhóm tuổi {band} với dòng {seen[key]}.")
            continue
        seen[key] = line
        rows.append(Row(commune, sex, band, people))
    if not rows and not errors:
        errors.append("Tệp không có dòng số liệu nào.")
    return rows, errors


def in_force(year: int) -> PopulationVersion | None:
    return PopulationVersion.objects.filter(year=year, replaced_at__isnull=True).first()


def commune_values(year: int, commune_ids: list[int] | None = None) -> dict[int, dict[str, float]]:
    """{commune id: {element: people}} of the version in force for `year` (empty without one)."""
    version = in_force(year)
    if version is None:
        return {}
    rows = Population.objects.filter(version=version)
    if commune_ids is not None:
        rows = rows.filter(commune_id__in=commune_ids)
    cells: dict[int, dict[tuple[str, str], int]] = {}
    for commune, sex, band, people in rows.values_list("commune_id", "sex", "age_band", "people"):
        cells.setdefault(commune, {})[(sex, band)] = people
    out: dict[int, dict[str, float]] = {}
    for commune, got in cells.items():
        out[commune] = {
            e: float(sum(got.get((s, b), 0) for s in sexes for b in bands))
            for e, (sexes, bands) in ELEMENTS.items()
        }
    return out


def months_of(year: int) -> list[date]:
    return [date(year, m, 1) for m in range(1, 13)]


DEMO_STRUCTURE = Path(__file__).resolve().parent / "fixtures" / "population_structure_demo.csv"
DEMO_SOURCE = "Mô phỏng (demo): số liệu tổng hợp, không phải dân số thật"


def demo_csv(commune_codes: list[str], seed: int = 0) -> str:
    """A synthetic population CSV for these communes (the demo): each commune 3,000–25,000 people (fixed by its
    code and the seed, so a later demo run gives earlier communes the same figures), shared out by sex and age
    band as the fixture's synthetic pyramid. Not real data: the source says so."""
    lines = [
        line
        for line in DEMO_STRUCTURE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    shares = [(sex, band, float(v)) for sex, band, v in (row.split(",") for row in lines[1:])]
    out = [",".join(COLUMNS)]
    for code in sorted(set(commune_codes)):
        total = random.Random(f"population:{code}:{seed}").randint(3_000, 25_000)
        out += [f"{code},{sex},{band},{round(total * share / 1000)}" for sex, band, share in shares]
    return "\n".join(out) + "\n"
