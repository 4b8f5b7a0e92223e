"""One commune report computed live (R-MCH-03): p50/p95 latency with 5 years of registers of a province of
~1,000,000 people loaded (target p95 < 200 ms).

    nice -n 10 python bench/reports_live.py --generate        # once: tree + ~1.2M register rows (COPY)
    nice -n 10 python bench/reports_live.py --samples 300     # measure

DB: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/mchis_bench_reports). A province of ~1,000,000
people: ~100 communes (TYT), 10 TTYT each with a district hospital, one provincial hospital; per commune-month
≈ 60 ANC visits, 4 deliveries (+ newborns), 1 abortion, 30 gynaecology exams, 25 contraception services; per
hospital-month ≈ 150 ANC, 80 deliveries, 30 abortions, 200 gynaecology exams, 20 contraception services;
60 months (2021-01 … 2025-12).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date

import reports_data as rd


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--generate", action="store_true")
    ap.add_argument("--communes", type=int, default=100)
    ap.add_argument("--ttyts", type=int, default=10)
    ap.add_argument("--months", type=int, default=60)
    ap.add_argument("--samples", type=int, default=300)
    args = ap.parse_args()
    rd.setup(migrate=args.generate)
    from django.db import connection

    from mchis.reports.periods import Period
    from mchis.reports.selectors import build_view, form_in_force
    from mchis.units.models import ReportingUnit

    if args.generate:
        t0 = time.perf_counter()
        tree = rd.build_tree("LV", 1, args.communes, args.ttyts)
        units: list[tuple[int, dict[str, float]]] = [(u.pk, rd.COMMUNE_SCALE) for u in tree["tyts"]] + [
            (u.pk, rd.HOSPITAL_SCALE) for u in tree["facilities"] if u.kind != "ttyt"
        ]
        counts = rd.load_registers(units, rd.months(date(2021, 1, 1), args.months))
        print(
            f"generated {sum(counts.values()):,} register rows in {time.perf_counter() - t0:.1f} s: {counts}"
        )
    tyts = list(ReportingUnit.objects.filter(code__startswith="LV-TYT"))
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM registers_ancvisit")
        anc = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM registers_delivery")
        dl = cur.fetchone()[0]
    print(f"tables: {anc:,} ANC visits, {dl:,} deliveries; {len(tyts)} communes")
    rng = random.Random(7)
    periods = [Period(m, "monthly") for m in rd.months(date(2021, 1, 1), args.months)]
    form = form_in_force("BCX3", date(2023, 1, 1))
    build_view(form, tyts[0], periods[0])  # warm-up (parse, connection)
    times = []
    for _ in range(args.samples):
        unit, period = rng.choice(tyts), rng.choice(periods)
        t = time.perf_counter()
        view = build_view(form, unit, period)
        times.append((time.perf_counter() - t) * 1000)
        assert len(view.values) == 318
    times.sort()
    p50 = statistics.median(times)
    p95 = times[int(0.95 * len(times)) - 1]
    print(
        f"BCX3 live (318 cells, 9 SQL statements + lookups), {args.samples} samples: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms"
    )
    print(f"target p95 < 200 ms: {'OK' if p95 < 200 else 'MISSED'} (ratio {200 / p95:.1f}x under)")


if __name__ == "__main__":
    main()
