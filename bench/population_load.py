"""Population load at national size (issue 15, ADR 0078/0079): `manage.py load_population` on a file of every
2025 commune × sex × 5-year age band (3,321 × 2 × 17 = 112,914 rows), on SQLite and on PostgreSQL.

    nice -n 10 python bench/population_load.py --db sqlite      # a fresh SQLite file under /tmp
    nice -n 10 python bench/population_load.py --db postgres    # database mchis_bench_population (created)

The database gets the 2025 administrative units (`load_admin_units`) and one commune station (TYT) in every
2025 commune under its province's Sở Y tế (bulk scaffolding, no audit rows), so the load also rewrites the store's
population elements (`POP.*`) of 3,321 stations × 12 months and rolls them up the tree, as in production. The
file is generated here (synthetic figures from the demo pyramid, `population.demo_csv`: not real data). Timed:
the first load of the year, then a second load that replaces it (delete old rows, write the new, store deltas).
Prints rows, seconds, rows/s and the load average. Never touches another database.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
PG_NAME = "mchis_bench_population"


def configure(db: str) -> str:
    if db == "postgres":
        url = f"postgres://postgres@127.0.0.1:5432/{PG_NAME}"
    else:
        url = f"sqlite:///{Path(tempfile.gettempdir()) / 'mchis_bench_population.sqlite3'}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    if db == "postgres":
        import reports_data  # after DATABASE_URL: its default is another database

        reports_data.ensure_database()
    return url


def scaffold() -> int:
    """2025 admin units, and a Sở Y tế per province with a station in each of its communes (idempotent)."""
    from django.core.management import call_command
    from django.db import transaction

    from mchis.places.models import AdminUnit, CodeVersion, Level
    from mchis.units.models import ReportingUnit, UnitPlacement

    call_command("migrate", verbosity=0)
    if not AdminUnit.objects.filter(version=CodeVersion.V2025, level=Level.COMMUNE).exists():
        t = time.perf_counter()
        call_command("load_admin_units", verbosity=0)
        print(f"admin units loaded in {time.perf_counter() - t:.0f} s")
    communes = list(
        AdminUnit.objects.filter(version=CodeVersion.V2025, level=Level.COMMUNE).values_list(
            "pk", "code", "parent_id"
        )
    )
    if ReportingUnit.objects.filter(code__startswith="PB-TYT").count() == len(communes):
        return len(communes)
    from datetime import date

    with transaction.atomic():
        first = (
            AdminUnit.objects.filter(version=CodeVersion.V2025, level=Level.PROVINCE).order_by("code").first()
        )
        top = ReportingUnit(
            code="PB-BYT", name="Bộ Y tế (bench)", kind="ministry", admin_unit=first, path="/tmp-PB-BYT/"
        )
        top.save()
        top.path = f"/{top.pk}/"
        top.save(update_fields=["path"])
        units = [top]
        dohs: dict[int, ReportingUnit] = {}
        for pk, code in AdminUnit.objects.filter(version=CodeVersion.V2025, level=Level.PROVINCE).values_list(
            "pk", "code"
        ):
            u = ReportingUnit(
                code=f"PB-SYT{code}", name=f"Sở Y tế {code}", kind="doh", admin_unit_id=pk, parent=top,
                path=f"/tmp-PB-SYT{code}/", depth=1,
            )  # fmt: skip
            u.save()
            u.path = f"{top.path}{u.pk}/"
            dohs[pk] = u
            units.append(u)
        stations = ReportingUnit.objects.bulk_create(
            [
                ReportingUnit(
                    code=f"PB-TYT{code}",
                    name=f"Trạm Y tế {code}",
                    kind="tyt",
                    admin_unit_id=pk,
                    parent=dohs[parent],
                    path=f"/tmp-PB-TYT{code}/",
                    depth=2,
                )  # fmt: skip
                for pk, code, parent in communes
            ]
        )
        for s in stations:
            s.path = f"{s.parent.path}{s.pk}/"  # type: ignore[union-attr]
        units += stations
        ReportingUnit.objects.bulk_update(units, ["path"], batch_size=2000)
        UnitPlacement.objects.bulk_create(
            [UnitPlacement(unit=u, parent=u.parent, path=u.path, valid_from=date(2025, 7, 1)) for u in units],
            batch_size=2000,
        )
    return len(communes)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--year", type=int, default=2026)
    args = ap.parse_args()
    url = configure(args.db)
    import django

    django.setup()
    from django.core.management import call_command

    from mchis.analytics.models import RollupValue, UnitMonthValue
    from mchis.analytics.population import demo_csv
    from mchis.places.models import AdminUnit, CodeVersion, Level

    stations = scaffold()
    codes = list(
        AdminUnit.objects.filter(version=CodeVersion.V2025, level=Level.COMMUNE).values_list(
            "code", flat=True
        )
    )
    print(f"database {url.split('@')[-1]}: {len(codes):,} communes (2025), {stations:,} stations")
    for run, seed in (("first load", 1), ("reload (replaces)", 2)):
        text = demo_csv(codes, seed=seed)
        rows = text.count("\n") - 1
        path = Path(tempfile.gettempdir()) / f"population_{args.year}_national.csv"
        path.write_text(text, encoding="utf-8")
        load = os.getloadavg()
        t = time.perf_counter()
        call_command(
            "load_population",
            str(path),
            "--year",
            str(args.year),
            "--source",
            "Bench (mô phỏng)",
            verbosity=0,
        )
        wall = time.perf_counter() - t
        after = os.getloadavg()
        print(
            f"{args.db:<8} {run:<18} {rows:>8,} rows  {wall:7.1f} s  {rows / wall:8,.0f} rows/s  "
            f"load average {load[0]:.2f} → {after[0]:.2f} (1 min)"
        )
    pop = UnitMonthValue.objects.filter(element__startswith="POP.").count()
    roll = RollupValue.objects.filter(element__startswith="POP.").count()
    print(f"store: {pop:,} station-month population values, {roll:,} roll-up rows")


if __name__ == "__main__":
    main()
