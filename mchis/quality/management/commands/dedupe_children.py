"""python manage.py dedupe_children [--unit CODE] --out FILE.csv — full duplicate scan (R-DQ-02).

Writes `child_id_a,child_id_b,probability` (public ids, as in the API) for every pair above the review
threshold that nobody has already marked "not a duplicate", and queues the pairs for review.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mchis.core.spreadsheets import csv_writer
from mchis.quality.dedupe import scan_duplicates
from mchis.quality.linkage import MODEL_PATH
from mchis.quality.models import CandidateStatus, DuplicateCandidate
from mchis.quality.services import duplicate_candidates_store


class Command(BaseCommand):
    help = "Full duplicate scan with the trained Splink model (DuckDB); writes candidate pairs to CSV."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--unit", help="Reporting unit code (its subtree)")
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument("--model", type=Path, default=MODEL_PATH)
        parser.add_argument("--no-store", action="store_true", help="Only write the CSV (benchmarks)")

    def handle(self, *args: Any, **opts: Any) -> None:
        from mchis.units.models import ReportingUnit

        unit = None
        if opts["unit"]:
            unit = ReportingUnit.objects.filter(code=opts["unit"]).first()
            if unit is None:
                raise CommandError(f"Không có đơn vị mã {opts['unit']}")
        started = time.perf_counter()
        pairs = scan_duplicates(unit=unit, model_path=opts["model"])
        rejected = set(
            DuplicateCandidate.objects.filter(status=CandidateStatus.NOT_DUPLICATE).values_list(
                "child_a_id", "child_b_id"
            )
        )
        pairs = [p for p in pairs if (p[3], p[4]) not in rejected]
        with opts["out"].open("w", newline="", encoding="utf-8") as handle:
            writer = csv_writer(handle)
            writer.writerow(["child_id_a", "child_id_b", "probability"])
            for pa, pb, prob, *_ in sorted(pairs, key=lambda p: -p[2]):
                writer.writerow([pa, pb, f"{prob:.6f}"])
        stored = {"created": 0}
        if not opts["no_store"]:
            stored = duplicate_candidates_store(
                actor=None, pairs=[(a, b, p, u) for _, _, p, a, b, u in pairs]
            )
        self.stdout.write(
            f"{len(pairs)} cặp nghi trùng (mới vào hàng đợi: {stored['created']}) "
            f"trong {time.perf_counter() - started:.1f}s → {opts['out']}"
        )
