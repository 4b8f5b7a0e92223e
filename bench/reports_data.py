"""Shared generator for the reports benchmarks: a reporting tree and register rows loaded with COPY.

Not a benchmark itself. Used by bench/reports_live.py and bench/reports_rollup.py. Every NOT NULL column of a
register table is filled from the model's defaults unless the generator sets it, so the rows are what the
registers app would store (derived flags set consistently by the generator).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
DB_NAME = "mchis_bench_reports"
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


def ensure_database() -> None:
    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    exists = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname='{name}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)


def setup(migrate: bool = True) -> None:
    ensure_database()
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("load_report_forms", verbosity=0)


# --- tree --------------------------------------------------------------------------------------------------


def build_tree(tag: str, provinces: int, communes: int, ttyts: int) -> dict[str, Any]:
    """Ministry dept → per province: Sở → CDC (+ provincial hospital) → TTYTs (+ one district hospital each)
    → communes (TYT). Bulk inserts (no audit rows: this is benchmark scaffolding, not business data)."""
    from django.db import transaction

    from mchis.places.models import AdminUnit, CodeVersion, Level
    from mchis.units.models import ReportingUnit, UnitPlacement

    start = date(2000, 1, 1)
    with transaction.atomic():
        prov_places = AdminUnit.objects.bulk_create(
            [
                AdminUnit(
                    version=CodeVersion.V2025,
                    level=Level.PROVINCE,
                    code=f"{tag}{p:02d}"[-8:],
                    name=f"Tỉnh {tag}{p}",
                )
                for p in range(provinces)
            ]
        )
        comm_places = AdminUnit.objects.bulk_create(
            [
                AdminUnit(
                    version=CodeVersion.V2025,
                    level=Level.COMMUNE,
                    code=f"{tag}{p:02d}{c:03d}"[-8:],
                    name=f"Xã {tag}-{p}-{c}",
                    parent=prov_places[p],
                )
                for p in range(provinces)
                for c in range(communes)
            ]
        )
        units: list[ReportingUnit] = []

        def add(code: str, kind: str, place: Any, parent: ReportingUnit | None) -> ReportingUnit:
            u = ReportingUnit(
                code=code,
                name=code,
                kind=kind,
                admin_unit=place,
                parent=parent,
                path=f"/tmp-{code}/",
                depth=0,
            )
            u.save()
            u.path = f"{parent.path if parent else '/'}{u.pk}/"
            u.depth = parent.depth + 1 if parent else 0
            units.append(u)
            return u

        dept = add(f"{tag}-DEPT", "ministry_dept", prov_places[0], None)
        tyts: list[ReportingUnit] = []
        facilities: list[ReportingUnit] = []
        for p in range(provinces):
            doh = add(f"{tag}-SYT{p}", "doh", prov_places[p], dept)
            cdc = add(f"{tag}-CDC{p}", "cdc", prov_places[p], doh)
            facilities.append(add(f"{tag}-BVT{p}", "prov_hospital", prov_places[p], cdc))
            for t in range(ttyts):
                ttyt = add(f"{tag}-TTYT{p}-{t}", "ttyt", comm_places[p * communes + t], cdc)
                facilities.append(ttyt)
                facilities.append(
                    add(f"{tag}-BVH{p}-{t}", "district_hospital", comm_places[p * communes + t], ttyt)
                )
                for c in range(t, communes, ttyts):
                    tyts.append(add(f"{tag}-TYT{p}-{c}", "tyt", comm_places[p * communes + c], ttyt))  # noqa: PERF401
        ReportingUnit.objects.bulk_update(units, ["path", "depth"])
        UnitPlacement.objects.bulk_create(
            [UnitPlacement(unit=u, parent=u.parent, path=u.path, valid_from=start) for u in units]
        )
    return {"dept": dept, "tyts": tyts, "facilities": facilities, "units": units}


# --- register rows ---------------------------------------------------------------------------------------

_seq = [int(time.time() * 1000) % 10_000_000_000]
_delivery_id = [0]


def _next() -> str:
    _seq[0] += 1
    return str(_seq[0])


def copy_rows(model: Any, rows: Iterable[dict[str, Any]], with_id: bool = False) -> int:
    """COPY dict rows into the model's table; unspecified columns get the field's default."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
    defaults: dict[str, Any] = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        else:
            defaults[f.attname] = f.get_default()  # "" for blank text fields, None for nullable ones
    cols = [f.column for f in fields]
    names = [f.attname for f in fields]
    n = 0
    with connection.cursor() as cur:
        sql = f"COPY {model._meta.db_table} ({', '.join(cols)}) FROM STDIN"
        with cur.cursor.copy(sql) as cp:
            for row in rows:
                cp.write_row([row.get(name, defaults[name]) for name in names])
                n += 1
    return n


PLACES = ["at_facility"] * 7 + ["outside"] * 2 + ["other_facility"]


def _person(rng: random.Random, day: date) -> dict[str, Any]:
    age = rng.choice([16, 18, 19, 22, 25, 27, 29, 31, 33, 36, 40])
    eth = "01" if rng.random() < 0.8 else rng.choice(["02", "03", "04", "05"])
    return {
        "dob": date(day.year - age, 6, 1),
        "age_years": age,
        "is_adolescent": age <= 19,
        "ethnicity_code": eth,
        "is_ethnic_minority": eth != "01",
        "full_name": "Nguyễn Thị Bench",
        "full_name_folded": "nguyen thi bench",
    }


def register_rows(
    unit_id: int, month: date, scale: dict[str, float], rng: random.Random
) -> dict[str, list[dict[str, Any]]]:
    """One unit-month of register rows; `scale` = mean rows per register for this kind of unit."""
    out: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("anc", "delivery", "newborn", "abortion", "gyn", "contraception", "death")
    }
    days = 28

    def base(kind: str) -> dict[str, Any]:
        day = month + timedelta(days=rng.randrange(days))
        row = {
            "facility_id": unit_id,
            "event_date": day,
            "month": month,
            "place": rng.choice(PLACES),
            "source_record_id": _next(),
        }
        row.update(_person(rng, day))
        return row

    def n(kind: str) -> int:
        mean = scale.get(kind, 0)
        return max(0, int(rng.gauss(mean, mean**0.5))) if mean else 0

    for _ in range(n("anc")):
        r = base("anc")
        r.update(
            is_new_pregnancy=rng.random() < 0.25,
            urine_protein_tested=rng.random() < 0.6,
            trimester=rng.randint(1, 3),
            hiv_tested=rng.random() < 0.3,
        )
        out["anc"].append(r)
    for _ in range(n("delivery")):
        r = base("delivery")
        skilled = rng.random() < 0.9
        r.update(
            delivery_mode=rng.choice(["normal"] * 6 + ["instrumental", "caesarean", "caesarean"]),
            skilled_attendant=skilled,
            attended_by_health_worker=skilled or rng.random() < 0.5,
            anc_managed=rng.random() < 0.9,
            anc_4_in_3_trimesters=rng.random() < 0.7,
            hepb_tested_pregnancy=rng.random() < 0.6,
            syphilis_tested_pregnancy=rng.random() < 0.5,
            hiv_tested_pregnancy=rng.random() < 0.6,
            glucose_tested=rng.random() < 0.4,
            comp_haemorrhage=rng.random() < 0.01,
            postpartum_week1_date=r["event_date"] + timedelta(days=3) if rng.random() < 0.7 else None,
            postpartum_week2_6_date=r["event_date"] + timedelta(days=20) if rng.random() < 0.5 else None,
        )
        # derived as the validator derives it: days from the birth to the first postnatal visit
        r["postpartum_first_days"] = (
            3 if r["postpartum_week1_date"] else (20 if r["postpartum_week2_6_date"] else None)
        )
        _delivery_id[0] += 1
        r["id"] = _delivery_id[0]
        out["delivery"].append(r)
        for order in (1, 2) if rng.random() < 0.01 else (1,):
            w = int(rng.gauss(3100, 450))
            live = rng.random() < 0.995
            out["newborn"].append(
                {
                    "delivery_id": r["id"],
                    "facility_id": unit_id,
                    "month": month,
                    "event_date": r["event_date"],
                    "place": r["place"],
                    "birth_order": order,
                    "outcome": "live" if live else "stillbirth",
                    "sex": rng.choice("MF"),
                    "weight_grams": w,
                    "weighed": True,
                    "low_birth_weight": w < 2500,
                    "high_birth_weight": w > 4000,
                    "is_preterm": rng.random() < 0.08,
                    "eenc": rng.random() < 0.8,
                    "vitamin_k1": rng.random() < 0.9,
                    "hepb_vaccine": rng.random() < 0.8,
                    "hepb_vaccine_24h": rng.random() < 0.7,
                    "birth_certificate": rng.random() < 0.9,
                    "is_ethnic_minority": r["is_ethnic_minority"],
                }
            )
    for _ in range(n("abortion")):
        r = base("abortion")
        w = rng.randint(5, 16)
        r.update(
            gestational_age_weeks=w, gestational_band="le_7" if w <= 7 else ("w8_12" if w <= 12 else "gt_12")
        )
        out["abortion"].append(r)
    for _ in range(n("gyn")):
        r = base("gyn")
        via = rng.random() < 0.3
        r.update(
            purpose=rng.choice(["treatment", "screening"]),
            treated=rng.random() < 0.4,
            via_done=via,
            via_result=rng.choice(["negative"] * 8 + ["positive", "suspect_cancer"]) if via else "",
        )
        out["gyn"].append(r)
    for _ in range(n("contraception")):
        r = base("contraception")
        r.update(
            method_code=rng.choice(
                [
                    "iud",
                    "injectable",
                    "implant",
                    "pill",
                    "pill",
                    "condom",
                    "condom",
                    "sterilisation",
                    "traditional",
                ]
            ),
            is_new_user=rng.random() < 0.4,
        )
        out["contraception"].append(r)
    for _ in range(n("death")):
        r = base("death")
        kind = rng.choice(["maternal", "fetal", "child", "child"])
        r.update(death_kind=kind, under_5y=kind == "child", under_1y=kind == "child" and rng.random() < 0.6)
        out["death"].append(r)
    return out


COMMUNE_SCALE: dict[str, float] = {
    "anc": 60,
    "delivery": 4,
    "abortion": 1,
    "gyn": 30,
    "contraception": 25,
    "death": 0.3,
}
HOSPITAL_SCALE: dict[str, float] = {
    "anc": 150,
    "delivery": 80,
    "abortion": 30,
    "gyn": 200,
    "contraception": 20,
    "death": 2,
}


def load_registers(
    units: list[tuple[int, dict[str, float]]], months: list[date], seed: int = 1
) -> dict[str, int]:
    """COPY rows for every (unit, month); returns row counts per register. One transaction per month."""
    from django.db import connection, transaction

    from mchis.registers import models as R

    models = {
        "anc": R.AncVisit,
        "delivery": R.Delivery,
        "newborn": R.Newborn,
        "abortion": R.Abortion,
        "gyn": R.GynExam,
        "contraception": R.Contraception,
        "death": R.Death,
    }
    rng = random.Random(seed)
    totals = dict.fromkeys(models, 0)
    _delivery_id[0] = (R.Delivery.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    for month in months:
        batch: dict[str, list[dict[str, Any]]] = {k: [] for k in models}
        for uid, scale in units:
            for k, rows in register_rows(uid, month, scale, rng).items():
                batch[k].extend(rows)
        with transaction.atomic():
            for k, model in models.items():
                totals[k] += copy_rows(model, iter_rows(batch[k]), with_id=k == "delivery")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('registers_delivery','id'), (SELECT max(id) FROM registers_delivery))"
        )
        for model in models.values():
            cur.execute(f"ANALYZE {model._meta.db_table}")
    return totals


def iter_rows(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from rows


def months(first: date, count: int) -> list[date]:
    out = []
    y, m = first.year, first.month
    for _ in range(count):
        out.append(date(y, m, 1))
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out
