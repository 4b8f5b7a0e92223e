"""python manage.py dedupe_children --out FILE.csv [--threshold P] [--unit CODE] [--backend duckdb|spark] — full
duplicate scan (R-DQ-02). The engine: DuckDB for a unit's subtree, the `DEDUPE_BACKEND` setting for the nation
(`--backend` overrides; ADR 0073).

Writes one row per pair scored at or above the threshold (default: the model's review threshold p2) that
nobody has already marked "not a duplicate":
`child_a, child_b, probability, band, source_a, record_a, source_b, record_b, name_a, name_b, dob_a, dob_b,
match_weight` — public ids, the band (auto ≥ p1, review p2..p1, ignore below), each record's import source
and its number in that source (`ma_ho_so`; empty for records entered by hand), names and birth dates beside
the ids. Pairs in the auto and review bands are queued for review. Prints the counts by band and the
estimated recall ceiling of blocking (docs/dedupe.md).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mchis.core.spreadsheets import csv_writer
from mchis.quality.dedupe import ScanTooLarge, scan
from mchis.quality.linkage import MODEL_PATH, load_model
from mchis.quality.models import CandidateStatus, DuplicateCandidate
from mchis.quality.services import duplicate_candidates_store
from mchis.registry.models import Child
from mchis.units.models import ReportingUnit

COLUMNS = ["child_a", "child_b", "probability", "band", "source_a", "record_a", "source_b", "record_b",
           "name_a", "name_b", "dob_a", "dob_b", "match_weight"]  # fmt: skip


def _probability(value: str) -> float:
    try:
        p = float(value)
    except ValueError as exc:
        raise CommandError(f"--threshold: '{value}' không phải số.") from exc
    if not 0.0 < p < 1.0:
        raise CommandError("--threshold phải nằm trong khoảng (0, 1).")
    return p


class Command(BaseCommand):
    help = (
        "Full duplicate scan with the trained Splink model (DuckDB or Spark); writes candidate pairs to CSV."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--unit", help="Reporting unit code (its subtree)")
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument(
            "--threshold", type=str, help="Lowest probability written (default: review band p2)"
        )
        parser.add_argument("--model", type=Path, default=MODEL_PATH)
        parser.add_argument("--no-store", action="store_true", help="Only write the CSV (benchmarks)")
        parser.add_argument(
            "--backend",
            choices=("duckdb", "spark"),
            help="Scan engine (default: DEDUPE_BACKEND for the nation)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:

        threshold = _probability(opts["threshold"]) if opts["threshold"] else None
        unit = None
        if opts["unit"]:
            unit = ReportingUnit.objects.filter(code=opts["unit"]).first()
            if unit is None:
                raise CommandError(f"Không có đơn vị mã {opts['unit']}")
        model = load_model(opts["model"])
        started = time.perf_counter()
        try:
            result = scan(unit=unit, model_path=opts["model"], threshold=threshold, backend=opts["backend"])
        except ScanTooLarge as exc:
            raise CommandError(str(exc)) from exc
        rejected = set(
            DuplicateCandidate.objects.filter(status=CandidateStatus.NOT_DUPLICATE).values_list(
                "child_a_id", "child_b_id"
            )
        )
        pairs = sorted(
            (p for p in result.pairs if (p.child_a, p.child_b) not in rejected), key=lambda p: -p.probability
        )
        ids = {i for p in pairs for i in (p.child_a, p.child_b)}
        info: dict[int, tuple[str, str, str, Any]] = {}
        id_list = sorted(ids)
        for start in range(0, len(id_list), 5000):
            for cid, source, ref, name, dob in Child.objects.filter(
                id__in=id_list[start : start + 5000]
            ).values_list("id", "source", "source_ref", "full_name", "date_of_birth"):
                info[cid] = (source, ref, name, dob)
        with opts["out"].open("w", newline="", encoding="utf-8") as handle:
            writer = csv_writer(handle)
            writer.writerow(COLUMNS)
            for p in pairs:
                sa, ra, na, da = info[p.child_a]
                sb, rb, nb, db = info[p.child_b]
                writer.writerow([p.public_a, p.public_b, f"{p.probability:.6f}", p.band, sa, ra if sa else "",
                                 sb, rb if sb else "", na, nb, da or "", db or "", f"{p.match_weight:.2f}"])  # fmt: skip
        queued = [
            (p.child_a, p.child_b, p.probability, p.unit_id)
            for p in pairs
            if p.probability >= model.threshold
        ]
        stored = {"created": 0}
        if not opts["no_store"]:
            stored = duplicate_candidates_store(actor=None, pairs=queued)
        bands = Counter(p.band for p in pairs)
        self.stdout.write(
            f"{result.children} trẻ, {len(pairs)} cặp ≥ {threshold or model.threshold:g}: "
            f"tự động đề xuất {bands['auto']}, cần xem xét {bands['review']}, bỏ qua {bands['ignore']} "
            f"(mới vào hàng đợi: {stored['created']}) trong {time.perf_counter() - started:.1f}s → {opts['out']}"
        )
        self.stdout.write(
            f"Trần recall của blocking (ước lượng trên {result.ceiling_pairs} cặp cùng số định danh): "
            f"{result.ceiling:.4f}"
        )
