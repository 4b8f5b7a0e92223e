"""Duplicate scan at scale without a database load (R-DQ-02, issue 14): the generator's rows go straight to
the scan's CSV format, then DuckDB features + Splink predict with the committed model file, as
`dedupe_children` runs them after its export.

    nice -n 10 python bench/dedupe_scale.py --children 1000000 --seed 404 --profile b --communes 124

Prints the generation time (not part of the scan), features and predict time, pairs, precision / recall of
the flagged and auto bands against the generator's truth, twin pairs flagged, and the blocking ceiling.
The export step (PostgreSQL COPY of the registry) is measured separately by bench/dedupe.py.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from mchis.demo.people import PROFILES, CommuneInfo, PeopleGenerator  # noqa: E402
from mchis.demo.regions import ETHNIC_MIX  # noqa: E402
from mchis.quality import dedupe, linkage  # noqa: E402


def generate(
    path: Path, *, children: int, seed: int, profile: str, communes: int
) -> dict[str, set[frozenset[str]]]:
    mix = tuple(ETHNIC_MIX["08"].items())
    infos = [
        CommuneInfo(i, f"{i:05d}", 1000 + i, tuple(range(i * 20, i * 20 + 12)), "008", mix)
        for i in range(1, communes + 1)
    ]
    gen = PeopleGenerator(
        rng=random.Random(seed), communes=infos, as_of=date(2026, 6, 30), other_prefixes=["001", "002"],
        error_rate=0.06, ref_prefix="S-", profile=PROFILES[profile],
    )  # fmt: skip
    truth: dict[str, set[frozenset[str]]] = {"duplicate": set(), "twin": set(), "sibling_same_name": set()}
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(dedupe.EXPORT_COLUMNS)
        for i, (r, t) in enumerate(gen.stream(children), 1):
            writer.writerow([i, r.public_id, r.commune.unit_id, r.full_name, r.date_of_birth or "", r.sex,
                             r.personal_id, r.mother_name, r.father_name, r.guardian_name, r.village_id or "",
                             r.commune.admin_id])  # fmt: skip
            if t and t.kind in truth and len(t.record_ids) == 2:
                truth[t.kind].add(frozenset(t.record_ids))
    return truth


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--children", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=404)
    ap.add_argument("--profile", choices=sorted(PROFILES), default="b")
    ap.add_argument("--communes", type=int, default=124)
    ap.add_argument("--model", type=Path, default=linkage.MODEL_PATH)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "children.csv"
        t0 = time.perf_counter()
        truth = generate(
            path, children=args.children, seed=args.seed, profile=args.profile, communes=args.communes
        )
        t1 = time.perf_counter()
        con = dedupe.duckdb_features(path)
        t2 = time.perf_counter()
        model_json = dedupe.load_model_json(args.model)
        model = linkage.model_from_settings(model_json)
        scored = dedupe.predict_pairs(con, model_json)
        t3 = time.perf_counter()
        uid = dict(con.execute("SELECT public_id, unique_id FROM feats").fetchall())
        ceiling = dedupe.blocking_ceiling(con, [tuple(uid[i] for i in pair) for pair in truth["duplicate"]])
        con.close()
    print(f"{args.children} children, seed {args.seed}, profile {args.profile}, {args.communes} communes: "
          f"generated in {t1 - t0:.0f}s (not part of the scan)")  # fmt: skip
    print(
        f"scan: features {t2 - t1:.1f}s + predict {t3 - t2:.1f}s = {t3 - t1:.1f}s (target < 180 s for 1M, plus export)"
    )
    print(f"recall ceiling of blocking: {ceiling:.4f}")
    for name, pairs in (
        (f"flagged p ≥ {model.threshold:g}", {frozenset((p.public_a, p.public_b)) for p in scored}),
        (
            f"auto p ≥ {model.auto_threshold:g}",
            {frozenset((p.public_a, p.public_b)) for p in scored if p.band == "auto"},
        ),
    ):
        tp = len(pairs & truth["duplicate"])
        precision, recall = tp / max(1, len(pairs)), tp / max(1, len(truth["duplicate"]))
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        print(f"{name}: {len(pairs)} pairs, precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f}, "
              f"twins {len(pairs & truth['twin'])}/{len(truth['twin'])}, "
              f"siblings sharing a name {len(pairs & truth['sibling_same_name'])}/{len(truth['sibling_same_name'])}")  # fmt: skip


if __name__ == "__main__":
    main()
