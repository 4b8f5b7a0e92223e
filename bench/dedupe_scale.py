"""Duplicate scan at scale without a database load (R-DQ-02, issue 14): the generator's rows go straight to
the scan's CSV format, then DuckDB features + Splink predict with the committed model file, as
`dedupe_children` runs them after its export.

    nice -n 10 python bench/dedupe_scale.py --children 1000000 --seed 404 --profile b --communes 124
    # against an earlier model file (its SQL and blocking rules as they were), in the same run:
    git show cb71b01:mchis/quality/fixtures/dedupe_model.json > /tmp/model_before.json
    nice -n 10 python bench/dedupe_scale.py --children 1000000 --seed 404 --profile b --reference /tmp/model_before.json

Prints the generation time (not part of the scan), features time, then for each model (the reference first
when given): compared pairs, blocking and predict time, precision / recall of the flagged and auto bands
against the generator's truth, twin pairs flagged and the blocking ceiling; with a reference, the time
ratio current / reference measured on the same features table (the machine is shared: ratios are what
holds). The export step (PostgreSQL COPY of the registry) is measured separately by bench/dedupe.py.
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
from typing import Any

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


def predict_any(
    con: Any, model_json: dict[str, Any]
) -> tuple[set[frozenset[str]], set[frozenset[str]], int, float]:
    """Splink predict with a model file as it is, without the code check (the reference may be an earlier
    model whose SQL differs): (flagged pairs, auto pairs, compared pairs, seconds)."""
    from splink import DuckDBAPI, Linker

    settings = {k: v for k, v in model_json.items() if not k.startswith("mchis_")}
    settings["additional_columns_to_retain"] = ["public_id", "unit_id"]
    settings["retain_intermediate_calculation_columns"] = True
    bands = model_json.get("mchis_bands", {})
    review, auto = float(bands.get("review", 0.9)), float(bands.get("auto", 0.99))
    t0 = time.perf_counter()
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register("feats"), settings, log_level=30)
    dedupe._register_tf_tables(con, db_api, linker, model_json)
    predictions = linker.inference.predict(threshold_match_probability=review)
    rows = con.execute(
        f"SELECT public_id_l, public_id_r, match_probability, gamma_household FROM {predictions.physical_name}"
    ).fetchall()
    seconds = time.perf_counter() - t0
    predictions.drop_table_from_database_and_remove_from_cache()
    other_birth = linkage.HOUSEHOLD_OTHER_BIRTH
    flagged = {frozenset((a, b)) for a, b, _, _ in rows}
    auto_pairs = {
        frozenset((a, b)) for a, b, p, g in rows
        if p >= auto and linkage.level_from_gamma("household", int(g)) != other_birth
    }  # fmt: skip
    rules = [b["blocking_rule"] for b in model_json["blocking_rules_to_generate_predictions"]]
    compared = sum(
        con.execute(
            f"SELECT count(*) FROM feats l JOIN feats r ON ({rule}) WHERE l.unique_id < r.unique_id"
            + "".join(f" AND NOT coalesce(({prev}), false)" for prev in rules[:i])
        ).fetchall()[0][0]
        for i, rule in enumerate(rules)
    )
    return flagged, auto_pairs, compared, seconds


def ceiling_of(con: Any, model_json: dict[str, Any], pairs: list[tuple[int, int]]) -> float:
    rules = [b["blocking_rule"] for b in model_json["blocking_rules_to_generate_predictions"]]
    con.execute("CREATE OR REPLACE TEMP TABLE mchis_pairs (a BIGINT, b BIGINT)")
    con.executemany("INSERT INTO mchis_pairs VALUES (?, ?)", pairs)
    any_rule = " OR ".join(f"coalesce({rule}, false)" for rule in rules)
    row = con.execute(
        f"""SELECT avg(CASE WHEN {any_rule} THEN 1.0 ELSE 0.0 END) FROM mchis_pairs p
            JOIN feats l ON l.unique_id = p.a JOIN feats r ON r.unique_id = p.b"""
    ).fetchall()[0]
    return float(row[0])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--children", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=404)
    ap.add_argument("--profile", choices=sorted(PROFILES), default="b")
    ap.add_argument("--communes", type=int, default=124)
    ap.add_argument("--model", type=Path, default=linkage.MODEL_PATH)
    ap.add_argument("--reference", type=Path, help="an earlier model file, predicted in the same run")
    args = ap.parse_args()
    print(f"load: {os.getloadavg()[0]:.1f} (1-min load average, 2 cores shared)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "children.csv"
        t0 = time.perf_counter()
        truth = generate(
            path, children=args.children, seed=args.seed, profile=args.profile, communes=args.communes
        )
        t1 = time.perf_counter()
        con = dedupe.duckdb_features(path)
        t2 = time.perf_counter()
        print(f"{args.children} children, seed {args.seed}, profile {args.profile}, {args.communes} communes: "
              f"generated in {t1 - t0:.0f}s (not part of the scan); features {t2 - t1:.1f}s")  # fmt: skip
        uid = dict(con.execute("SELECT public_id, unique_id FROM feats").fetchall())
        true_pairs = [tuple(uid[i] for i in pair) for pair in truth["duplicate"]]
        models = [("reference", args.reference)] if args.reference else []
        models.append(("current", args.model))
        seconds = {}
        for name, model_path in models:
            model_json = dedupe.load_model_json(model_path)
            if name == "current":
                linkage.model_from_settings(model_json)  # the code check the scan makes
            flagged, auto, compared, secs = predict_any(con, model_json)
            seconds[name] = secs
            ceiling = ceiling_of(con, model_json, true_pairs)
            print(f"[{name}] {model_path}: {compared} pairs compared, blocking + predict {secs:.1f}s, "
                  f"scan = features + predict {t2 - t1 + secs:.1f}s (target < 180 s for 1M, plus export); "
                  f"recall ceiling of blocking {ceiling:.4f}; load {os.getloadavg()[0]:.1f}")  # fmt: skip
            for band, pairs in (("flagged", flagged), ("auto", auto)):
                tp = len(pairs & truth["duplicate"])
                precision, recall = tp / max(1, len(pairs)), tp / max(1, len(truth["duplicate"]))
                f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
                print(f"  {band:<8} {len(pairs)} pairs, precision {precision:.4f}, recall {recall:.4f}, "
                      f"F1 {f1:.4f}, twins {len(pairs & truth['twin'])}/{len(truth['twin'])}, siblings "
                      f"sharing a name {len(pairs & truth['sibling_same_name'])}/{len(truth['sibling_same_name'])}")  # fmt: skip
        con.close()
    if args.reference:
        print(f"predict time current / reference, same run: {seconds['current'] / seconds['reference']:.2f}")


if __name__ == "__main__":
    main()
