"""National-size figures of issue 20 on the national dataset (generate_demo --province all … --registers 12):
entry-time duplicate check p95, commune report p95 (each commune-month computed once: no application cache),
the duplicate scan on DuckDB and on Spark (records/s each, same pairs) with a projection to an 8-node cluster,
and `EXPLAIN (ANALYZE, BUFFERS)` of the hot queries (--explain FILE writes them as Markdown).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mchis_national \
        python bench/national_scale.py [--samples 200] [--scan-unit SYT01] [--explain docs/national-plans.md]

Child search: bench/registry_search.py; national roll-up and the per-province simulation:
bench/national_shards.py; bulk register API: bench/registers_api.py and bench/registers_profile.py.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mchis_national")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


def load() -> str:
    """The machine is shared: every figure is printed with the load average at the time."""
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def explain_slowest(label: str, fn: Any, top: int = 2) -> str:
    """Run `fn` capturing its SQL; EXPLAIN (ANALYZE, BUFFERS) the `top` slowest statements."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    queries = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:top]
    out = [f"### {label}\n"]
    for q in queries:
        sql = q["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(r[0] for r in cur.fetchall())
        short = sql if len(sql) < 700 else sql[:700] + " …"
        out.append(f"```sql\n{short}\n```\n```\n{plan}\n```\n")
    return "\n".join(out)


def time_recompute(n: int, rng: random.Random) -> None:
    """The analytics store's recompute of one unit-month (report engine, cervical coverage marking, deltas up
    the tree) and of one unit-month's coverage count alone, for `n` stations with cervical screenings in the
    latest month of the registers; each in a transaction rolled back, so the store is left as it was."""
    from django.db import transaction
    from django.db.models import Max

    from mchis.analytics.store import recompute_coverage, recompute_unit_month
    from mchis.registers.models import GynExam

    month = GynExam.objects.aggregate(m=Max("month"))["m"]
    stations = sorted(set(GynExam.objects.filter(month=month).values_list("facility_id", flat=True)))
    picks = rng.sample(stations, min(n, len(stations)))
    whole: list[float] = []
    alone: list[float] = []
    for unit_id in picks:
        for fn, out in ((recompute_unit_month, whole), (recompute_coverage, alone)):
            with transaction.atomic():
                t = time.perf_counter()
                fn(unit_id, month)
                out.append((time.perf_counter() - t) * 1000)
                transaction.set_rollback(True)
    print(
        f"recompute of one unit-month ({len(picks)} of {len(stations)} facilities with screenings, {month:%Y-%m}): "
        f"p50 {pct(whole, 50):.1f} ms, p95 {pct(whole, 95):.1f} ms; its cervical coverage count alone: "
        f"p50 {pct(alone, 50):.1f} ms, p95 {pct(alone, 95):.1f} ms ({load()})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument(
        "--scan-unit", default="", help="unit code of the Spark/DuckDB scan (default: the nation)"
    )
    ap.add_argument("--no-scan", action="store_true")
    ap.add_argument(
        "--backends", default="duckdb,spark", help="engines of the scan, compared when both (duckdb, spark)"
    )
    ap.add_argument("--only-scan", action="store_true", help="skip the latency samples and the plans")
    ap.add_argument("--explain", type=Path)
    ap.add_argument("--nodes", type=int, default=8)
    ap.add_argument("--cores-per-node", type=int, default=16)
    ap.add_argument(
        "--recompute",
        type=int,
        default=0,
        help="only time the analytics store's recompute of this many stations' latest month (and its cervical "
        "coverage count), each rolled back",
    )
    args = ap.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.db.models import Max

    from mchis.quality import dedupe
    from mchis.registers.models import AncVisit
    from mchis.registry.models import Child
    from mchis.registry.selectors import child_search_page
    from mchis.reports.periods import Period
    from mchis.reports.selectors import build_view, form_in_force, rollup
    from mchis.units.models import ReportingUnit, UnitKind

    rng = random.Random(20)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        size = cur.fetchone()[0]
    n_children = Child.objects.count()
    print(f"database {connection.settings_dict['NAME']}: {n_children:,} children, {size / 1e9:.2f} GB")
    if args.recompute:
        time_recompute(args.recompute, rng)
        return
    if not args.only_scan:
        last = Child.objects.aggregate(m=Max("id"))["m"] or 0
        picks = []
        while len(picks) < args.samples:
            c = (
                Child.objects.filter(id__gte=rng.randint(1, last))
                .select_related("unit")
                .order_by("id")
                .first()
            )
            if c is not None:
                picks.append(c)

        # entry-time duplicate check: a re-entry of an existing child, at its own station
        times = []
        found = 0
        for c in picks:
            data = {
                f: getattr(c, f) for f in dedupe.EXPORT_COLUMNS if f not in ("id", "public_id", "unit_id")
            }
            data["full_name"] = data["full_name"].upper()
            t = time.perf_counter()
            cands = dedupe.find_possible_duplicates(data, c.unit)
            times.append((time.perf_counter() - t) * 1000)
            found += any(x.child_id == c.pk for x in cands)
        print(
            f"entry-time duplicate check, {len(times)} re-entries: p50 {pct(times, 50):.1f} ms, p95 {pct(times, 95):.1f} ms "
            f"(target < 200 ms, ratio {pct(times, 95) / 200:.2f}); the child itself proposed in {found / len(times):.0%} ({load()})"
        )

        # commune report, each (commune, month) once
        month = AncVisit.objects.aggregate(m=Max("month"))["m"]
        months = sorted({month.replace(month=m) for m in range(1, month.month + 1)})
        form = form_in_force("BCX3", month)
        tyts = list(ReportingUnit.objects.filter(kind=UnitKind.TYT).values_list("id", flat=True))
        pairs = {(rng.choice(tyts), rng.choice(months)) for _ in range(args.samples)}
        times = []
        for uid, m in pairs:
            unit = ReportingUnit.objects.get(pk=uid)
            t = time.perf_counter()
            build_view(form, unit, Period(m, "monthly"))
            times.append((time.perf_counter() - t) * 1000)
        print(
            f"commune report BCX3, {len(times)} distinct commune-months: p50 {pct(times, 50):.1f} ms, "
            f"p95 {pct(times, 95):.1f} ms (target < 200 ms, ratio {pct(times, 95) / 200:.2f}) ({load()})"
        )

        # national monthly roll-up of all forms, all units (first run: cold for this month)
        for run in ("first", "second"):
            t = time.perf_counter()
            rollup(Period(month, "monthly"))
            wall = time.perf_counter() - t
            print(
                f"national monthly roll-up {month:%Y-%m}, {run} run: {wall:.2f} s "
                f"(target < 10 s, ratio {wall / 10:.2f}) ({load()})"
            )

    if not args.no_scan:
        backends = [b for b in ("duckdb", "spark") if b in args.backends.split(",")]
        startup = 0.0
        if "spark" in backends:
            from mchis.quality.dedupe_spark import spark_session

            t = time.perf_counter()
            spark_session()
            startup = time.perf_counter() - t
            print(f"Spark local session start-up (JVM, jar): {startup:.1f} s")
        sizes: list[tuple[int, float]] = []
        for code in [c for c in args.scan_unit.split(",") if c] or ["all"]:
            unit = ReportingUnit.objects.get(code=code) if code != "all" else None
            results = {}
            for backend in backends:
                t = time.perf_counter()
                res = dedupe.scan(unit=unit, backend=backend)
                wall = time.perf_counter() - t
                results[backend] = (res, wall)
                print(
                    f"duplicate scan of {code} on {backend}: {res.children:,} children in {wall:.1f} s "
                    f"→ {res.children / wall:,.0f} records/s; {len(res.pairs):,} pairs ≥ review threshold ({load()})"
                )
            if "spark" not in results:
                continue
            if "duckdb" not in results:
                sizes.append((results["spark"][0].children, results["spark"][1]))
                continue
            d, s = results["duckdb"][0], results["spark"][0]
            same = {(p.child_a, p.child_b) for p in d.pairs} == {(p.child_a, p.child_b) for p in s.pairs}
            print(f"  same pairs on both engines: {'yes' if same else 'NO'}")
            sizes.append((s.children, results["spark"][1]))
        # Projection. Assumptions: the scan is split by province (every blocking rule but ID and DOB + given
        # name holds the commune, ADR 0010), so work grows linearly with children; the per-child cost is the
        # slope between the scanned sizes (Splink's ~60 Spark stages cost a fixed time whatever the size);
        # it spreads evenly over the cluster's cores; the cross-province rules' larger blocks: a factor 2.
        local_cores = os.cpu_count() or 2
        if sizes:  # Spark was run
            if len(sizes) >= 2:
                (n1, t1), (n2, t2) = sorted(sizes)[0], sorted(sizes)[-1]
                per_child = max((t2 - t1) / (n2 - n1), 0.0) if n2 > n1 else t2 / n2
                fixed = t1 - per_child * n1
            else:
                per_child, fixed = sizes[0][1] / sizes[0][0], 0.0
            print(
                f"Spark local: {fixed:.0f} s fixed per scan + {per_child * 1e3:.3f} ms per child ({local_cores} cores)"
            )
            cluster = args.nodes * args.cores_per_node
            for label, factor in (("linear", 1.0), ("linear × 2 for cross-province blocks", 2.0)):
                projected = startup + fixed + per_child * local_cores * 25e6 * factor / cluster
                print(
                    f"projected national scan (25 M children) on {args.nodes} nodes × {args.cores_per_node} cores, "
                    f"{label}: {projected / 60:.1f} min"
                )

    if args.explain and not args.only_scan:
        doh = ReportingUnit.objects.filter(kind=UnitKind.DOH).order_by("-id").first()
        c = picks[0]
        province = type("P", (), {"is_authenticated": True, "unit": doh, "is_superuser": False})()
        commune = type("P", (), {"is_authenticated": True, "unit": c.unit, "is_superuser": False})()
        data = {f: getattr(c, f) for f in dedupe.EXPORT_COLUMNS if f not in ("id", "public_id", "unit_id")}
        tyt = ReportingUnit.objects.get(pk=tyts[0])
        sections = [
            explain_slowest(
                f"Child search, province scope ({doh.code}), 'nguyen van an'",
                lambda: child_search_page(province, q="nguyen van an"),
            ),  # fmt: skip
            explain_slowest(
                "Child search, commune scope, family + given name",
                lambda: child_search_page(commune, q=" ".join(c.name_folded.split()[::2])),
            ),  # fmt: skip
            explain_slowest(
                "Entry-time duplicate candidates", lambda: dedupe.find_possible_duplicates(data, c.unit)
            ),
            explain_slowest(
                "Commune report BCX3 (one commune, one month)",
                lambda: build_view(form, tyt, Period(month, "monthly")),
            ),  # fmt: skip
            explain_slowest(
                "National monthly roll-up (all forms, all units)",
                lambda: rollup(Period(month, "monthly")),
                top=3,
            ),  # fmt: skip
        ]
        from django.db.models import Count

        from mchis.analytics.models import RollupValue

        # the month the store holds most of (a recompute of one month fills it for every unit)
        stored = RollupValue.objects.values("month").annotate(n=Count("id")).order_by("-n").first()
        if stored is not None:
            from mchis.analytics.selectors import compute, parse_dx, parse_periods

            root = ReportingUnit.objects.filter(parent__isnull=True).order_by("id").first()
            # the national pivot by province: the Ministry and every Sở Y tế
            units = [root, *ReportingUnit.objects.filter(kind=UnitKind.DOH, active=True).order_by("code")]
            sections.append(
                explain_slowest(
                    f"Analytics pivot ({root.code} and the {len(units) - 1} provinces, {stored['month']:%Y-%m}, "
                    "ANC4; AN.DLV:total)",
                    lambda: compute(
                        parse_dx("ANC4;AN.DLV:total"), parse_periods(f"{stored['month']:%Y%m}"), units,
                        approved=False,
                    ),
                    top=3,
                )
            )  # fmt: skip
        else:
            sections.append("### Analytics pivot\n\nThe analytics store is empty: no pivot plan.\n")
        args.explain.write_text(
            f"# Query plans at national size (issue 20)\n\n{n_children:,} children, DB {size / 1e9:.2f} GB; "
            f"generated by `bench/national_scale.py --explain` ({load()}, 2 shared cores).\n\n"
            + "\n".join(sections),
            encoding="utf-8",
        )
        print(f"plans written to {args.explain}")


if __name__ == "__main__":
    main()
