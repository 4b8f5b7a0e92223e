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

import django  # noqa: E402

django.setup()

from django.db.models import Count  # noqa: E402

from mchis.quality import engine  # noqa: E402
from mchis.quality.models import Finding, RuleError  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", action="store_true", help="keep existing findings (skip the fresh run)")
    ap.add_argument("--chunk", type=int, default=engine.CHUNK)
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


if __name__ == "__main__":
    main()
