"""Sharding by province, simulated on one PostgreSQL (ADR 0074): the multi-province queries run per province
(what each Citus shard would run), the results are merged (what the coordinator would do), and the merge is
compared with the single national query. Prints per-province timings, the linear fit of time against the
province's rows, the growth of the summed cost with the number of provinces, and the projected wall time
of the scatter–gather on N worker nodes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mchis_national \
        nice -n 10 python bench/national_shards.py [--month 2026-10] [--nodes 4] [--repeat 2]

Queries (the national ones of docs/national-scale.md):
* the national monthly roll-up of every form (`reports.selectors.rollup`), per province = `rollup(period, DOH)`;
* the registry count by commune, status and sex (the national children overview), per province = the same
  GROUP BY filtered on the province's unit path.
Needs the national dataset (`generate_demo --province all … --registers 12`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mchis_national")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


def linear_fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least squares y = a + b·x; returns (a, b, r²)."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    b = sxy / sxx if sxx else 0.0
    a = my - b * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return a, b, 1 - ss_res / ss_tot if ss_tot else 1.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--month", default="", help="YYYY-MM (default: the latest month with register rows)")
    ap.add_argument("--nodes", type=int, default=4, help="worker nodes of the projected Citus cluster")
    ap.add_argument("--repeat", type=int, default=2, help="runs per query (the best is kept: warm cache)")
    args = ap.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count, Max

    from mchis.registers.models import AncVisit
    from mchis.registry.models import Child
    from mchis.reports.periods import parse_period
    from mchis.reports.selectors import rollup
    from mchis.units.models import ReportingUnit, UnitKind

    month = args.month or f"{AncVisit.objects.aggregate(m=Max('month'))['m']:%Y-%m}"
    period = parse_period(month)
    provinces = list(ReportingUnit.objects.filter(kind=UnitKind.DOH, code__startswith="SYT").order_by("code"))
    register_tables = [
        m._meta.db_table
        for m in django.apps.apps.get_app_config("registers").get_models()
        if any(f.name == "month" for f in m._meta.fields)
        and any(f.name == "facility" for f in m._meta.fields)
    ]

    def best(fn, repeat: int = args.repeat):  # type: ignore[no-untyped-def]
        out, times = None, []
        for _ in range(repeat):
            t = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t)
        return out, min(times)

    def children_by_commune(path: str | None) -> dict[tuple[int, str, str], int]:
        qs = Child.objects.all()
        if path:
            qs = qs.filter(unit__path__startswith=path)
        rows = qs.values_list("commune_id", "status", "sex").annotate(n=Count("id")).order_by()
        return {(c, s, x): n for c, s, x, n in rows}

    def register_rows(path: str) -> int:
        total = 0
        with connection.cursor() as cur:
            for table in register_tables:
                cur.execute(
                    f"SELECT count(*) FROM {table} r JOIN units_reportingunit u ON u.id = r.facility_id "
                    "WHERE r.month = %s AND u.path LIKE %s",
                    [period.start, path + "%"],
                )
                total += cur.fetchone()[0]
        return total

    with connection.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        size = cur.fetchone()[0]
    print(
        f"mchis national shards simulation — month {month}, {len(provinces)} provinces, DB {size / 1e9:.2f} GB"
    )
    print(f"{'prov':>4} {'children':>10} {'reg rows':>9} {'units':>6} {'roll-up s':>10} {'children s':>10}")
    per: list[tuple[str, int, int, float, float]] = []
    merged_rollup: dict = {}
    merged_children: dict = {}
    for doh in provinces:
        n_children = Child.objects.filter(unit__path__startswith=doh.path).count()
        n_rows = register_rows(doh.path)
        n_units = ReportingUnit.objects.filter(path__startswith=doh.path).count()
        r, t_roll = best(lambda d=doh: rollup(period, d))
        c, t_child = best(lambda d=doh: children_by_commune(d.path))
        merged_rollup.update(r)
        for key, n in c.items():
            merged_children[key] = merged_children.get(key, 0) + n
        per.append((doh.code, n_children, n_rows, t_roll, t_child))
        print(
            f"{doh.code[3:]:>4} {n_children:>10,} {n_rows:>9,} {n_units:>6,} {t_roll:>10.3f} {t_child:>10.3f}"
        )

    t = time.perf_counter()
    national_rollup, t_nat_roll = best(lambda: rollup(period, None))
    national_children, t_nat_child = best(lambda: children_by_commune(None))
    nat_wall = time.perf_counter() - t
    shared = [k for k in merged_rollup if k in national_rollup]
    same_rollup = all(merged_rollup[k] == national_rollup[k] for k in shared)
    print(
        f"\nmerge check: {len(shared):,} per-unit reports of the provinces equal in the national roll-up: "
        f"{'yes' if same_rollup else 'NO'}; children by commune equal: "
        f"{'yes' if merged_children == national_children else 'NO'}  ({nat_wall:.1f} s)"
    )

    sum_roll = sum(p[3] for p in per)
    sum_child = sum(p[4] for p in per)
    print(f"national roll-up, one query: {t_nat_roll:.2f} s; per province summed: {sum_roll:.2f} s")
    print(f"children overview, one query: {t_nat_child:.2f} s; per province summed: {sum_child:.2f} s")

    a, b, r2 = linear_fit([float(p[2]) for p in per], [p[3] for p in per])
    print(f"roll-up per province = {a * 1000:.1f} ms + {b * 1e6:.2f} µs × register rows (r² = {r2:.3f})")
    a2, b2, r22 = linear_fit([float(p[1]) for p in per], [p[4] for p in per])
    print(
        f"children overview per province = {a2 * 1000:.1f} ms + {b2 * 1e6:.3f} µs × children (r² = {r22:.3f})"
    )

    # growth with the number of provinces: cumulative cost of the first k (in code order)
    ks, cum = [], []
    acc = 0.0
    for k, p in enumerate(per, 1):
        acc += p[3] + p[4]
        ks.append(float(k))
        cum.append(acc)
    a3, b3, r23 = linear_fit(ks, cum)
    print(f"summed cost of k provinces = {a3:.2f} s + {b3:.3f} s × k (r² = {r23:.4f}): linear in provinces")

    # projected scatter–gather wall time on N nodes: provinces packed largest first onto the least loaded node
    loads = [0.0] * args.nodes
    for p in sorted(per, key=lambda p: -(p[3] + p[4])):
        loads[loads.index(min(loads))] += p[3] + p[4]
    overhead = 0.002 * len(per)  # ~1–2 ms per shard task in Citus's adaptive executor
    print(
        f"projected on {args.nodes} worker nodes (1 core each, provinces packed by cost): "
        f"{max(loads) + overhead:.2f} s vs {t_nat_roll + t_nat_child:.2f} s on this one machine"
    )


if __name__ == "__main__":
    main()
