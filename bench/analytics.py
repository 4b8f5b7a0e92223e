"""Analytics at national scale (issue 15), on PostgreSQL: read speed of the store, freshness with a worker,
recompute time of one unit-month.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mchis_analytics REDIS_URL=redis://127.0.0.1:6379/1 \
    nice -n 10 python bench/analytics.py [--provinces 34 --communes 330 --months 36 --writes 20]

Builds (once; reused on later runs) a tree of 1 ministry → 34 Sở Y tế → CDC → 10 TTYT → 330 trạm y tế xã per
province (≈ 11,700 reporting units) and seeds the store tables directly with COPY: every station × 36 months ×
the elements the measured indicators read (own values, and the pre-rolled-up values of every ancestor — what the
recompute maintains). Then measures (p50 / p95 over repeated calls, the same selectors the pages and the API use):

* a pivot of one indicator by 34 provinces × 12 months (target p95 < 500 ms);
* a national single value (one indicator, last year, the nation; target p95 < 200 ms);
* the province map (34 provinces + classes; target p95 < 500 ms);
* the recompute of one unit-month from real register rows (report engine + deltas up the tree);
* freshness: with a Celery worker started here (REDIS_URL), the lag from a register write's commit to its value
  in the provisional store, over --writes writes (target < 60 s).
Prints the figures, their ratios to the targets and the sizes.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mchis_analytics")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

ELEMENTS = {  # element -> (mean per station-month, share approved)
    "AN.DLV:total": 6.0,
    "AN.DLV_ANC4:total": 4.5,
    "AN.DLV_HOME:total": 0.4,
    "AN.DLV_SBA:total": 5.6,
    "AN.LIVE:total": 6.1,
    "AN.MAT_DEATH:total": 0.01,
    "RPT.expected": 1.0,
    "RPT.submitted": 0.97,
    "RPT.on_time": 0.9,
    "APPROVED.any": 1.0,
}
TAG = "BA"


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def build_tree(provinces: int, communes: int, ttyts: int) -> list[int]:
    """Units by bulk insert (paths set from the ids); returns the station ids. Reused when present."""
    from mchis.places.models import AdminUnit, CodeVersion, Level
    from mchis.units.models import ReportingUnit

    existing = list(ReportingUnit.objects.filter(code__startswith=f"{TAG}-TYT").values_list("pk", flat=True))
    if existing:
        return existing
    admin, _ = AdminUnit.objects.get_or_create(
        version=CodeVersion.V2025, level=Level.PROVINCE, code="BA", defaults={"name": "Tỉnh mô phỏng"}
    )
    root = ReportingUnit.objects.create(
        code=f"{TAG}-BYT",
        name="Bộ Y tế (mô phỏng)",
        kind="ministry",
        admin_unit=admin,
        path="/tmp-root/",
        depth=0,
    )
    root.path = f"/{root.pk}/"
    root.save(update_fields=["path"])

    def level(parents: list[ReportingUnit], per: int, kind: str, prefix: str) -> list[ReportingUnit]:
        objs = [
            ReportingUnit(
                code=f"{TAG}-{prefix}{par.pk}-{i}",
                name=f"{prefix} {i} thuộc {par.pk}",
                kind=kind,
                admin_unit=admin,
                parent=par,
                path=f"/tmp-{prefix}{par.pk}-{i}/",
                depth=par.depth + 1,
            )
            for par in parents
            for i in range(per)
        ]
        made = ReportingUnit.objects.bulk_create(objs, batch_size=2000)
        for u in made:
            u.path = f"{u.parent.path}{u.pk}/"
        ReportingUnit.objects.bulk_update(made, ["path"], batch_size=2000)
        return made

    dohs = level([root], provinces, "doh", "SYT")
    cdcs = level(dohs, 1, "cdc", "CDC")
    ttyt = level(cdcs, ttyts, "ttyt", "TTYT")
    tyts = level(ttyt, communes // ttyts, "tyt", "TYT")
    return [u.pk for u in tyts]


def seed_store(stations: list[int], months: list[date]) -> tuple[int, int]:
    """Own values of every station × month × element by COPY, then the roll-ups of every ancestor in SQL."""
    from mchis.analytics.models import RollupValue, UnitMonthValue
    from mchis.units.models import ReportingUnit

    own, roll = UnitMonthValue._meta.db_table, RollupValue._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {own} WHERE month = %s", [months[0]])
        if cur.fetchone()[0] >= len(stations):
            cur.execute(f"SELECT COUNT(*) FROM {own}")
            n_own = cur.fetchone()[0]
            cur.execute(f"SELECT COUNT(*) FROM {roll}")
            return n_own, cur.fetchone()[0]
    rng = random.Random(15)
    t = time.perf_counter()
    with (
        connection.cursor() as cur,
        cur.copy(f"COPY {own} (unit_id, month, element, provisional, approved) FROM STDIN") as copy,
    ):
        for uid in stations:
            size = rng.uniform(0.3, 2.0)
            for m in months:
                for element, mean in ELEMENTS.items():
                    if element.startswith(("RPT", "APPROVED")):
                        v = 1.0 if rng.random() < mean else 0.0
                    else:
                        v = float(max(0, round(rng.gauss(mean * size, mean * size / 3))))
                    if v:
                        copy.write_row((uid, m, element, v, v if element != "AN.DLV_HOME:total" else v))
    print(f"  own values by COPY: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    pairs = []
    for uid, path in ReportingUnit.objects.filter(pk__in=stations).values_list("pk", "path"):
        pairs += [(uid, int(a)) for a in path.strip("/").split("/")]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE anc (unit_id int, node_id int) ON COMMIT DROP")
        with cur.copy("COPY anc (unit_id, node_id) FROM STDIN") as copy:
            for row in pairs:
                copy.write_row(row)
        cur.execute(f"""
            INSERT INTO {roll} (node_id, element, month, provisional, approved)
            SELECT anc.node_id, v.element, v.month, SUM(v.provisional), SUM(COALESCE(v.approved, 0))
            FROM {own} v JOIN anc ON anc.unit_id = v.unit_id GROUP BY anc.node_id, v.element, v.month""")
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {own}; ANALYZE {roll}")
        cur.execute(f"SELECT COUNT(*) FROM {own}")
        n_own = cur.fetchone()[0]
        cur.execute(f"SELECT COUNT(*) FROM {roll}")
        n_roll = cur.fetchone()[0]
    print(f"  roll-ups of every ancestor: {time.perf_counter() - t:.1f} s")
    return n_own, n_roll


def timed(fn, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def report(name: str, ms: list[float], target: float) -> None:
    p95 = p(ms, 0.95)
    print(
        f"{name:<46} p50 {p(ms, 0.5):7.1f} ms   p95 {p95:7.1f} ms   target < {target:.0f} ms   "
        f"ratio {p95 / target:.2f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--provinces", type=int, default=34)
    ap.add_argument("--communes", type=int, default=330)
    ap.add_argument("--ttyts", type=int, default=10)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--writes", type=int, default=20)
    args = ap.parse_args()
    call_command("migrate", verbosity=0)
    from mchis.accounts.models import User
    from mchis.analytics import maps, selectors
    from mchis.reports.services import forms_load, shipped_form_files
    from mchis.units.models import ReportingUnit

    forms_load(actor=None, paths=shipped_form_files())
    t = time.perf_counter()
    stations = build_tree(args.provinces, args.communes, args.ttyts)
    root = ReportingUnit.objects.get(code=f"{TAG}-BYT")
    n_units = ReportingUnit.objects.filter(path__startswith=root.path).count()
    print(
        f"tree: {n_units:,} reporting units ({len(stations):,} stations) in {time.perf_counter() - t:.1f} s"
    )
    this = timezone.localdate().replace(day=1)
    months = [selectors.add_months(this, -i) for i in range(args.months, 0, -1)]
    n_own, n_roll = seed_store(stations, months)
    print(
        f"store: {n_own:,} own values, {n_roll:,} roll-up values ({args.months} months, {len(ELEMENTS)} elements)"
    )
    analyst, _ = User.objects.get_or_create(
        username="bench.analytics", defaults={"role": "viewer", "unit": root}
    )
    if analyst.unit_id != root.pk:
        analyst.unit = root
        analyst.save(update_fields=["unit"])

    def pivot() -> None:
        r = selectors.analytics(analyst, dx="ANC4", pe="LAST_12_MONTHS", ou="OU_GROUP-doh")
        assert len(r.rows) == args.provinces * 12

    def single() -> None:
        r = selectors.analytics(analyst, dx="ANC4", pe="THIS_YEAR", ou="USER_ORGUNIT")
        assert r.rows[0].value is not None

    def province_map() -> None:
        ctx = maps.map_context(analyst, {"dx": "ANC4", "pe": "LAST_MONTH"})
        assert len(ctx["areas"]) == args.provinces

    for fn in (pivot, single, province_map):
        fn()  # warm (form specs, closures)
    print()
    report("pivot: 1 indicator × 34 provinces × 12 months", timed(pivot, args.repeat), 500)
    report("national single value (this year)", timed(single, args.repeat), 200)
    report("province map (34 provinces, classes)", timed(province_map, args.repeat), 500)
    recompute_and_freshness(stations[0], args.writes)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"\nmachine load: {load}")


def recompute_and_freshness(station: int, writes: int) -> None:
    from mchis.analytics.models import RollupValue
    from mchis.analytics.store import recompute_unit_month
    from mchis.core.changes import unit_months_changed
    from mchis.registers import models as R
    from mchis.units.models import ReportingUnit

    unit = ReportingUnit.objects.get(pk=station)
    this = timezone.localdate().replace(day=1)
    seq = int(time.time())

    def delivery(i: int) -> None:
        R.Delivery.objects.create(
            facility=unit, event_date=this, month=this, source_record_id=f"bench-{seq}-{i}",
            place="at_facility", age_years=20 + i % 20, anc_4_in_3_trimesters=i % 2 == 0,
        )  # fmt: skip

    for i in range(40):
        delivery(i)
    ms = []
    for i in range(10):
        delivery(1000 + i)
        with transaction.atomic():
            t = time.perf_counter()
            recompute_unit_month(unit.pk, this)
            ms.append((time.perf_counter() - t) * 1000)
    print(
        f"{'recompute of one unit-month (report engine)':<46} p50 {p(ms, 0.5):7.1f} ms   "
        f"p95 {p(ms, 0.95):7.1f} ms   (one station, {40 + 10} register rows in the month)"
    )
    if not os.environ.get("REDIS_URL"):
        print("freshness: skipped (set REDIS_URL to measure it with a worker)")
        return
    env = {**os.environ, "CELERY_TASK_ALWAYS_EAGER": "0"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default", "-c", "1", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(8)  # the worker starts
        national = ReportingUnit.objects.get(code=f"{TAG}-BYT").pk

        def current() -> float:
            row = RollupValue.objects.filter(node_id=national, element="AN.DLV:total", month=this).first()
            return row.provisional if row else 0.0

        lags = []
        for i in range(writes):
            before = current()
            with transaction.atomic():
                delivery(5000 + i)
                unit_months_changed([(unit.pk, this)])  # what the register write path calls
            committed = time.perf_counter()
            while current() <= before:
                if time.perf_counter() - committed > 120:
                    raise SystemExit("freshness: no value after 120 s")
                time.sleep(0.05)
            lags.append(time.perf_counter() - committed)
            time.sleep(random.uniform(0.2, 1.0))
        print(
            f"{'freshness: write → provisional national value':<46} p50 {p(lags, 0.5):7.2f} s    "
            f"p95 {p(lags, 0.95):7.2f} s    max {max(lags):.2f} s   target < 60 s   ratio {p(lags, 0.95) / 60:.3f}"
            f"   ({writes} writes, 1 worker)"
        )
        print(f"  lag distribution (s): {', '.join(f'{x:.2f}' for x in sorted(lags))}")
        print(f"  mean {statistics.mean(lags):.2f} s")
    finally:
        worker.terminate()
        worker.wait(timeout=30)


if __name__ == "__main__":
    main()
