"""Audit log benchmark (R-SEC-05): append rate of `log_event` and the speed of `audit_verify`.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mchis_bench_audit \
    nice -n 10 python bench/audit_chain.py --events 100000 --writers 4

Creates the database tables if needed (migrate), appends N entries (one transaction each, like services do)
from W threads, then verifies the whole chain. Prints entries/s for writing (single and concurrent, with the
advisory lock serialising the chain), entries/s for verification, and the verify time extrapolated to 10
million entries. Rough targets: ≥ 500 appends/s, verify ≥ 20,000 entries/s (10 M entries < 10 min).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections, transaction  # noqa: E402

from mchis.core.audit import log_event, verify_chain  # noqa: E402
from mchis.core.models import AuditEvent  # noqa: E402


def append(n: int, tag: str) -> None:
    try:
        for i in range(n):
            with transaction.atomic():
                log_event(
                    actor=None,
                    action="bench.write",
                    object_type="child",
                    object_id=f"{tag}-{i}",
                    scope_path="/1/2/3/",
                    changes={"full_name": ["Nguyễn Văn A", "Nguyễn Văn Ánh"], "village": [None, "Thôn 3"]},
                    reason="Phiếu đề xuất",
                )
    finally:
        connections.close_all()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    before = AuditEvent.objects.count()

    single = max(args.events // 10, 1)
    t0 = time.perf_counter()
    append(single, "s")
    t_single = time.perf_counter() - t0

    rest = args.events - single
    per = rest // args.writers
    threads = [threading.Thread(target=append, args=(per, f"w{k}")) for k in range(args.writers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t_multi = time.perf_counter() - t0

    total = AuditEvent.objects.count()
    t0 = time.perf_counter()
    report = verify_chain()
    t_verify = time.perf_counter() - t0
    assert report.ok, report
    print(f"database: {connections['default'].vendor}; entries before: {before}, after: {total}")
    print(f"append, 1 writer:  {single / t_single:8.0f} entries/s ({single} entries)")
    print(
        f"append, {args.writers} writers: {per * args.writers / t_multi:8.0f} entries/s ({per * args.writers} entries)"
    )
    print(
        f"verify:            {report.checked / t_verify:8.0f} entries/s ({report.checked} entries, "
        f"{report.anchors_checked} anchors, {t_verify:.1f} s)"
    )
    print(f"verify 10 M entries (extrapolated): {10_000_000 / (report.checked / t_verify) / 60:.1f} min")


if __name__ == "__main__":
    main()
