"""Duplicate detection benchmark (R-DQ-02, issue 14) on the generator's labelled data.

Fit on one seed, score on others (never on the data the model was fitted on):

    # seed A: fit (writes the model file) — nothing is scored here
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mchis_dedupe_a python bench/dedupe.py --fit-only \
        --truth var/bench/truth_a.csv --train-out mchis/quality/fixtures/dedupe_model.json
    # seeds B (same profile, fresh seed) and C (profile b: other error rates): score
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mchis_dedupe_b python bench/dedupe.py --truth var/bench/truth_b.csv

(data: `manage.py generate_demo --province 08 --children N --seed S --profile a|b --error-rate 0.06
--truth FILE`, see var/bench/gen.sh in docs/dedupe.md). Prints: precision / recall / F1 of pairs flagged
(≥ review threshold p2) and of the auto band (≥ p1), twin pairs flagged (must be 0), siblings sharing a
name by band, the recall ceiling of blocking (share of true pairs any blocking rule compares) next to the
scan's own estimate without truth, full-scan wall time, and the entry-time check latency (p50/p95) with
its agreement with the scan on the sampled records. Targets: P ≥ 0.99, R ≥ 0.97, 0 twins, ceiling ≥ 0.99,
scan of 1M < 180 s, entry p95 < 200 ms.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from mchis.quality import dedupe, linkage  # noqa: E402


def read_truth(path: Path) -> dict[str, set[frozenset[str]]]:
    out: dict[str, set[frozenset[str]]] = {"duplicate": set(), "twin": set(), "sibling_same_name": set()}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            ids = row["record_ids"].split("|")
            if row["kind"] in out and len(ids) == 2:
                out[row["kind"]].add(frozenset(ids))
    return out


def evaluate(pairs: set[frozenset[str]], truth: dict[str, set[frozenset[str]]]) -> dict[str, float]:
    dups = truth["duplicate"]
    tp = len(pairs & dups)
    precision = tp / len(pairs) if pairs else 1.0
    recall = tp / len(dups) if dups else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"pairs": len(pairs), "tp": tp, "precision": precision, "recall": recall, "f1": f1,
            "twins": len(pairs & truth["twin"]), "siblings": len(pairs & truth["sibling_same_name"])}  # fmt: skip


def entry_check(samples: int, seed: int, scan_pairs: set[frozenset[str]]) -> dict[str, float]:
    """Latency of `find_possible_duplicates` on sampled children, and agreement with the scan: for each
    sampled child, the set of partners flagged at entry must equal the scan's set (within the province)."""
    from mchis.registry.models import Child

    ids = list(Child.objects.filter(status="active").values_list("id", flat=True))
    chosen = random.Random(seed).sample(ids, min(samples, len(ids)))
    partners: dict[str, set[str]] = {}
    for pair in scan_pairs:
        a, b = tuple(pair)
        partners.setdefault(a, set()).add(b)
        partners.setdefault(b, set()).add(a)
    times, agree = [], 0
    for cid in chosen:
        child = Child.objects.select_related("unit").get(pk=cid)
        data: dict[str, Any] = {
            f: getattr(child, f) for f in dedupe.EXPORT_COLUMNS if f not in ("public_id", "unit_id")
        }
        started = time.perf_counter()
        found = dedupe.find_possible_duplicates(data, child.unit, limit=1000)
        times.append((time.perf_counter() - started) * 1000)
        agree += {c.public_id for c in found} == partners.get(str(child.public_id), set())
    times.sort()
    return {"p50": statistics.median(times), "p95": times[max(0, int(len(times) * 0.95) - 1)],
            "agree": agree / len(times), "n": len(times)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--truth", type=Path, required=True)
    ap.add_argument("--model", type=Path, default=linkage.MODEL_PATH)
    ap.add_argument("--train-out", type=Path, help="fit the model on THIS data and write it here")
    ap.add_argument("--fit-only", action="store_true", help="with --train-out: fit, print nothing scored")
    ap.add_argument("--latency-samples", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dump", type=Path, help="write false positives and missed pairs here (analysis)")
    args = ap.parse_args()

    truth = read_truth(args.truth)
    print(f"truth: {len(truth['duplicate'])} duplicate pairs, {len(truth['twin'])} twin pairs, "
          f"{len(truth['sibling_same_name'])} siblings sharing a name")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        csv_path = Path(tmp) / "children.csv"
        dedupe.export_children(csv_path)
        t1 = time.perf_counter()
        con = dedupe.duckdb_features(csv_path)
        t2 = time.perf_counter()
        n = con.execute("SELECT count(*) FROM feats").fetchall()[0][0]
        if args.train_out:
            dedupe.train_model(con, out=args.train_out, seed=42)
            print(f"fitted on this data ({n} children) → {args.train_out} in {time.perf_counter() - t2:.1f}s")
            if args.fit_only:
                return
        model_json = dedupe.load_model_json(args.model)
        model = linkage.model_from_settings(model_json)
        t3 = time.perf_counter()
        scored = dedupe.predict_pairs(con, model_json)
        t4 = time.perf_counter()
        est, est_n = dedupe.estimated_blocking_ceiling(con)
        uid = dict(con.execute("SELECT public_id, unique_id FROM feats").fetchall())
        true_pairs = [
            tuple(uid[i] for i in pair) for pair in truth["duplicate"] if all(i in uid for i in pair)
        ]
        ceiling = dedupe.blocking_ceiling(con, true_pairs)
        con.close()
    flagged = {frozenset((p.public_a, p.public_b)) for p in scored if p.probability >= model.threshold}
    auto = {frozenset((p.public_a, p.public_b)) for p in scored if p.band == "auto"}
    band_of = {frozenset((p.public_a, p.public_b)): p.band for p in scored}
    print(f"children: {n}")
    print(f"full scan: export {t1 - t0:.1f}s + features {t2 - t1:.1f}s + predict {t4 - t3:.1f}s = "
          f"{(t1 - t0) + (t2 - t1) + (t4 - t3):.1f}s (target < 180 s for 1M)")  # fmt: skip
    print(f"recall ceiling of blocking: {ceiling:.4f} on the truth file (target ≥ 0.99); "
          f"estimate without truth (ID-anchored, {est_n} pairs): {est:.4f}")  # fmt: skip
    print(
        f"{'pairs':<26}{'pairs':>7}{'TP':>7}{'precision':>11}{'recall':>9}{'F1':>8}{'twins':>7}{'sibl.':>7}"
    )
    for name, r in ((f"flagged (p ≥ {model.threshold:g})", evaluate(flagged, truth)),
                    (f"auto band (p ≥ {model.auto_threshold:g})", evaluate(auto, truth))):  # fmt: skip
        print(f"{name:<26}{r['pairs']:>7}{r['tp']:>7}{r['precision']:>11.4f}{r['recall']:>9.4f}{r['f1']:>8.4f}"
              f"{r['twins']:>7}{r['siblings']:>7}")  # fmt: skip
    print(
        "siblings sharing a name, by band:",
        dict(Counter(band_of.get(s, "ignore") for s in truth["sibling_same_name"])),
    )
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as out:
            for pair in sorted(flagged - truth["duplicate"], key=sorted):
                out.write(f"FP,{','.join(sorted(pair))},{'twin' if pair in truth['twin'] else ''}\n")
            for pair in sorted(truth["duplicate"] - flagged, key=sorted):
                out.write(f"FN,{','.join(sorted(pair))},\n")
    if args.latency_samples:
        r = entry_check(args.latency_samples, args.seed, flagged)
        print(f"entry-time check: p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms over {r['n']} records "
              f"(target p95 < 200 ms); same partners as the scan for {r['agree']:.1%} of them")  # fmt: skip


if __name__ == "__main__":
    main()
