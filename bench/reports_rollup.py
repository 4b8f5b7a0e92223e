"""National monthly roll-up (R-MCH-03, R-MCH-07): every commune and facility, every form, one month —
wall time on PostgreSQL (target < 10 s on this 2-core machine) and how it grows with units and records.

    nice -n 10 python bench/reports_rollup.py                 # 34 provinces × ~98 communes, grown in 3 steps
    nice -n 10 python bench/reports_rollup.py --provinces 4   # small dry run

Each step adds provinces (units and their register rows for 2030-01) and times ``selectors.rollup``: one
GROUP BY per register per form over all units, then sums up the tree. A last step doubles the register rows
of the month for every unit (same units, 2× records). DB: mchis_bench_reports (the live benchmark's data is
in other months and another tree; it is not touched).
"""

from __future__ import annotations

import argparse
import time

import reports_data as rd


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--provinces", type=int, default=34)
    ap.add_argument("--communes", type=int, default=98)
    ap.add_argument("--ttyts", type=int, default=10)
    ap.add_argument("--month", default="2030-01")
    args = ap.parse_args()
    rd.setup(migrate=True)
    from mchis.reports.periods import parse_period
    from mchis.reports.selectors import rollup
    from mchis.units.models import ReportingUnit

    period = parse_period(args.month)
    steps = sorted({max(1, args.provinces // 4), max(1, args.provinces // 2), args.provinces})
    done = 0
    results = []
    tag = f"R{int(time.time()) % 100000}"
    root = None
    rows = 0
    for step, target in enumerate(steps):
        add = target - done
        t0 = time.perf_counter()
        tree = rd.build_tree(f"{tag}{step}", add, args.communes, args.ttyts)
        units: list[tuple[int, dict[str, float]]] = [(u.pk, rd.COMMUNE_SCALE) for u in tree["tyts"]] + [
            (u.pk, rd.HOSPITAL_SCALE) for u in tree["facilities"] if u.kind != "ttyt"
        ]
        counts = rd.load_registers(units, [period.start], seed=step + 11)
        rows += sum(counts.values())
        done = target
        gen = time.perf_counter() - t0
        # one national root: hang each step's department under the first one
        if root is None:
            root = tree["dept"]
        else:
            from mchis.units.models import UnitPlacement

            for prov in ReportingUnit.objects.filter(parent=tree["dept"]):
                prefix_old, prefix_new = prov.path, f"{root.path}{prov.pk}/"
                for u in ReportingUnit.objects.filter(path__startswith=prefix_old):
                    u.path = prefix_new + u.path[len(prefix_old) :]
                    u.save(update_fields=["path"])
                UnitPlacement.objects.filter(unit=prov).update(parent=root)
                for pl in UnitPlacement.objects.filter(unit__path__startswith=prefix_new).select_related(
                    "unit"
                ):
                    pl.path = pl.unit.path
                    pl.save(update_fields=["path"])
                ReportingUnit.objects.filter(pk=prov.pk).update(parent=root)
        assert root is not None
        n_units = ReportingUnit.objects.filter(path__startswith=root.path).count()
        t = time.perf_counter()
        out = rollup(period, root)
        wall = time.perf_counter() - t
        results.append((target, n_units, rows, wall, len(out)))
        print(
            f"{target:>3} provinces, {n_units:>5} units, {rows:>9,} register rows in the month: roll-up {wall:6.2f} s "
            f"({len(out):,} reports; data generated in {gen:.1f} s)"
        )
    # same units, twice the records
    assert root is not None
    all_units = [
        (u.pk, rd.COMMUNE_SCALE if u.kind == "tyt" else rd.HOSPITAL_SCALE)
        for u in ReportingUnit.objects.filter(
            path__startswith=root.path, kind__in=["tyt", "district_hospital", "prov_hospital"]
        )
    ]
    counts = rd.load_registers(all_units, [period.start], seed=99)
    rows += sum(counts.values())
    t = time.perf_counter()
    out = rollup(period, root)
    wall2 = time.perf_counter() - t
    print(f"{done:>3} provinces, same units, {rows:>9,} register rows (2×): roll-up {wall2:6.2f} s")
    base = results[0]
    last = results[-1]
    print(
        f"growth: units ×{last[1] / base[1]:.1f} → time ×{last[3] / base[3]:.1f}; records ×2 at fixed units → time ×{wall2 / last[3]:.2f}"
    )
    print(f"target < 10 s: {'OK' if last[3] < 10 else 'MISSED'} ({last[3]:.2f} s national)")


if __name__ == "__main__":
    main()
