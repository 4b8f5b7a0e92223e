"""Full rule-scan benchmark (R-DQ-03): every rule over every active child, findings stored.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mchis_bench_dq nice -n 10 python bench/dq_scan.py

Runs the scan twice: a fresh scan (no findings yet: all inserts) and a re-run (idempotent: only last_seen
moves). Prints records, wall time, records/s, open findings by rule and the target ratio (< 120 s / 1M).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.db.models import Count  # noqa: E402

from mchis.quality import engine  # noqa: E402
from mchis.quality.models import Finding, RuleError  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", action="store_true", help="keep existing findings (skip the fresh run)")
    ap.add_argument("--chunk", type=int, default=engine.CHUNK)
    ap.add_argument("--truth", type=Path, help="generator truth CSV: recall of single-record errors by rule")
    args = ap.parse_args()
    runs = []
    if not args.keep:
        Finding.objects.all().delete()
        runs.append("fresh")
    runs.append("re-run")
    for label in runs:
        started = time.perf_counter()
        scan = engine.scan_run(restart=True, chunk=args.chunk)
        secs = time.perf_counter() - started
        target = 120 * scan.records / 1_000_000
        print(f"{label:<7} {scan.records} records in {secs:.1f}s = {scan.records / secs:,.0f} records/s;"
              f" scaled to 1M: {secs * 1_000_000 / max(scan.records, 1):.0f}s (target 120 s; ratio {secs / target:.2f})"
              f"; changes {scan.counts.get('store')}")  # fmt: skip
    for code, n in (
        Finding.objects.filter(status="open")
        .values_list("rule_code")
        .annotate(n=Count("id"))
        .order_by("rule_code")
    ):
        print(f"  {code:<16} {n:>9}")
    print(f"rule errors: {RuleError.objects.count()}")
    if args.truth:
        recall_by_kind(args.truth)


EXPECTED = {
    "malformed_id": "DQ_ID_FORMAT",
    "inconsistent_id": "DQ_ID_MISMATCH",
    "missing_field": "DQ_MISSING",
}


def recall_by_kind(path: Path) -> None:
    """Share of the generator's labelled single-record errors that the expected rule found."""
    import csv

    from mchis.registry.models import Child

    wanted: dict[str, list[str]] = {k: [] for k in EXPECTED}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["kind"] in wanted:
                wanted[row["kind"]].append(row["record_ids"].split("|")[0])
    for kind, public_ids in wanted.items():
        found = 0
        for i in range(0, len(public_ids), 5000):
            ids = Child.objects.filter(public_id__in=public_ids[i : i + 5000]).values_list("id", flat=True)
            found += (
                Finding.objects.filter(child_id__in=list(ids), rule_code=EXPECTED[kind])
                .values("child_id")
                .distinct()
                .count()
            )
        n = len(public_ids)
        print(f"  recall {kind:<16} → {EXPECTED[kind]:<15} {found}/{n} = {found / max(n, 1):.3f}")


if __name__ == "__main__":
    main()
