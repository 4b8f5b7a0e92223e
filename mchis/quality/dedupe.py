"""Duplicate detection (phát hiện hồ sơ trùng, R-DQ-02): entry-time check and full Splink scan, one model.

* `find_possible_duplicates(data, unit)` — at entry, before a create request is sent: indexed SQL fetch of
  the candidates every blocking rule of the scan would pair with the new record (birth date, its day/month
  swap and ±1 year; personal ID; carer and given/family name within the commune), inside the unit's
  province, scored in Python from the model file (`linkage.evidence`; no DuckDB start-up).
* `scan_duplicates(unit=None)` — full scan: children are copied to DuckDB, features computed in SQL,
  Splink predicts with the same model file (its stored term-frequency tables registered, so a pair gets
  the weight the entry check gives it); pairs at or above the review threshold come back with their band.
  The national scan can run the same model on Spark instead (`DEDUPE_BACKEND`, `dedupe_spark.py`).
* `train_model(...)` — λ from deterministic rules, u by seeded random sampling (levels no sampled pair
  reached get the rule-of-three bound), m = documented priors; writes fixtures/dedupe_model.json.
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.db.models.functions import Length, Right

from mchis.core.scoping import visible_under
from mchis.core.text import fold
from mchis.places.models import Village
from mchis.registry.models import Child
from mchis.units.models import ReportingUnit, UnitKind

from . import linkage
from .linkage import MODEL_PATH, default_model, features, match_weight, probability

EXPORT_COLUMNS = [
    "id", "public_id", "unit_id", "full_name", "date_of_birth", "sex", "personal_id",
    "mother_name", "father_name", "guardian_name", "village_id", "commune_id",
]  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    """A child that may be the one being entered (trẻ này có thể đã có trong hệ thống)."""

    child_id: int
    public_id: str
    full_name: str
    date_of_birth: date | None
    unit_name: str
    probability: float
    band: str = "review"


@dataclass(frozen=True)
class ScoredPair:
    """A pair the scan flagged (child_a < child_b by database id)."""

    child_a: int
    child_b: int
    public_a: str
    public_b: str
    probability: float
    match_weight: float
    band: str
    unit_id: int  # child_a's unit (the review queue's owner)


def _province_path(unit: Any) -> str:
    """Path of the unit's provincial ancestor (Sở Y tế), or its own path when there is none."""

    ids = [int(x) for x in unit.path.strip("/").split("/") if x.isdigit()]
    doh = ReportingUnit.objects.filter(id__in=ids, kind=UnitKind.DOH).values_list("path", flat=True).first()
    return doh or unit.path


_unit_ids_cache: dict[str, tuple[float, list[int]]] = {}


def _province_unit_ids(path: str, max_age: float = 300.0) -> list[int]:

    hit = _unit_ids_cache.get(path)
    if hit and time.monotonic() - hit[0] < max_age:
        return hit[1]
    ids = list(visible_under(ReportingUnit.objects.all(), path, lookup="path").values_list("id", flat=True))
    _unit_ids_cache[path] = (time.monotonic(), ids)
    return ids


def _year_shift(d: date, years: int) -> date | None:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return None


def _commune_of(data: dict[str, Any]) -> int | None:

    commune = data.get("commune_id") or data.get("commune")
    commune = getattr(commune, "pk", commune)
    if commune:
        return int(commune)
    village = data.get("village_id") or data.get("village")
    village = getattr(village, "pk", village)
    if village:
        return Village.objects.filter(pk=village).values_list("commune_id", flat=True).first()
    return None


def _commune_candidates(new: dict[str, Any], commune: int, unit_ids: list[int]) -> list[int]:
    """Ids of children in the commune sharing the carer's folded name (blocking rule 5), or given name,
    surname key and birth year (rule 7). Names are stored NFC with single spaces (R-ORG-04), so a folded
    match has the same length: the database narrows by length, Python folds the few rows left."""

    base = Child.objects.filter(commune_id=commune, status="active", unit_id__in=unit_ids)
    ids = []
    carer = new["carer_f"]
    if carer is not None:
        n = len(carer)
        carers = (
            base.annotate(mother_len=Length("mother_name"), guardian_len=Length("guardian_name"))
            .filter(Q(mother_len=n) | Q(mother_name="", guardian_len=n))
            .values_list("id", "mother_name", "guardian_name")
        )
        for cid, mother, guardian in carers:
            if (_fold_cached(mother) or _fold_cached(guardian)) == carer:
                ids.append(cid)
    if new["given_f"] is not None and new["yr"] is not None and new["family_k"] is not None:
        # The suffix is compared with RIGHT(), not LIKE '% given': at national size (10 M children) PostgreSQL
        # otherwise ANDs the commune with the trigram index on a common given name — hundreds of thousands of
        # index entries, 100–330 ms — where the commune's few thousand rows take a few ms (docs/national-plans.md).
        suffix = " " + new["given_f"]
        names = (
            base.annotate(name_tail=Right("name_folded", len(suffix)))
            .filter(
                date_of_birth__gte=date(new["yr"], 1, 1),
                date_of_birth__lte=date(new["yr"], 12, 31),
                name_tail=suffix,
            )
            .values_list("id", "name_folded")
        )
        for cid, name_folded in names:
            words = (name_folded or "").split()
            if len(words) >= 2 and linkage.surname_key(words[0]) == new["family_k"]:
                ids.append(cid)
    return ids


_fold_cache: dict[str, str] = {}


def _fold_cached(value: str | None) -> str:
    if not value:
        return ""
    hit = _fold_cache.get(value)
    if hit is None:
        if len(_fold_cache) > 500_000:
            _fold_cache.clear()
        hit = _fold_cache[value] = fold(value)
    return hit


def candidate_ids(data: dict[str, Any], unit: Any) -> tuple[dict[str, Any], list[int]] | None:
    """The new record's features and the ids of every child in the province the scan's blocking rules
    could pair with it (a superset; `linkage.passes_blocking` decides)."""

    new = features(data | {"commune_id": _commune_of(data)})
    keys = Q()
    if new["dob"]:
        dates = {new["dob"], new["dob_swap"], _year_shift(new["dob"], -1), _year_shift(new["dob"], 1)}
        keys |= Q(date_of_birth__in=[d for d in dates if d])
    if new["pid"]:
        keys |= Q(personal_id=new["pid"])
    unit_ids = _province_unit_ids(_province_path(unit))
    ids: set[int] = set()
    if keys:
        ids |= set(
            Child.objects.filter(keys, status="active", unit_id__in=unit_ids).values_list("id", flat=True)[
                :5000
            ]
        )
    if new["commune"]:
        ids |= set(_commune_candidates(new, new["commune"], unit_ids))
    exclude = data.get("id")
    ids.discard(exclude)
    return new, sorted(ids)


def find_possible_duplicates(data: dict[str, Any], unit: Any, *, limit: int = 10) -> list[Candidate]:
    """Children of the unit's province the model scores at or above the review threshold (same model, same
    blocking rules, same weights as the full scan)."""

    model = default_model()
    found = candidate_ids(data, unit)
    if found is None:
        return []
    new, ids = found
    out: list[Candidate] = []
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        for row in Child.objects.filter(id__in=chunk).values(*EXPORT_COLUMNS, "unit__name"):
            other = features(row)
            if not linkage.passes_blocking(new, other):
                continue
            p = probability(match_weight(new, other, model))
            if p >= model.threshold:
                household = linkage.comparison_level(linkage.COMPARISONS[-1], new, other)
                out.append(
                    Candidate(
                        row["id"],
                        str(row["public_id"]),
                        row["full_name"],
                        row["date_of_birth"],
                        row["unit__name"],
                        round(p, 4),
                        linkage.band(p, household, model),
                    )  # fmt: skip
                )
    out.sort(key=lambda c: -c.probability)
    return out[:limit]


def pair_evidence(child_a: Any, child_b: Any) -> dict[str, Any]:
    """Why the model scores two children as it does (for the review screen): prior, per-comparison level,
    m, u, weight and term-frequency adjustment, total weight, probability and band."""
    model = default_model()
    fa = features({f: getattr(child_a, f) for f in EXPORT_COLUMNS if f != "public_id"})
    fb = features({f: getattr(child_b, f) for f in EXPORT_COLUMNS if f != "public_id"})
    ev = linkage.evidence(fa, fb, model)
    weight = linkage.prior_weight(model) + sum(e.weight + e.tf_adjustment for e in ev)
    p = probability(weight)
    household = next(e.level_index for e in ev if e.comparison == "household")
    return {
        "prior_weight": linkage.prior_weight(model),
        "comparisons": ev,
        "match_weight": weight,
        "probability": p,
        "band": linkage.band(p, household, model),
        "blocking_rules": linkage.blocking_rules_passed(fa, fb),
    }


# --- full scan -------------------------------------------------------------------------------------------


def export_children(path: Path, *, unit: Any | None = None) -> int:
    """Write active children to CSV (PostgreSQL: COPY, fast; other databases: ORM)."""

    if connection.vendor == "postgresql":
        from psycopg import sql as pgsql

        where: pgsql.Composable = pgsql.SQL("c.status = 'active'")
        if unit is not None:
            where = pgsql.SQL("{} AND u.path LIKE {}").format(where, pgsql.Literal(unit.path + "%"))
        query = pgsql.SQL(
            "COPY (SELECT {cols} FROM registry_child c JOIN units_reportingunit u ON u.id = c.unit_id "
            "WHERE {where}) TO STDOUT WITH (FORMAT csv, HEADER true)"
        ).format(cols=pgsql.SQL(", ").join(pgsql.Identifier("c", c) for c in EXPORT_COLUMNS), where=where)
        n = 0
        with connection.cursor() as cur, path.open("wb") as out:
            raw = cur.cursor  # psycopg 3 cursor
            with raw.copy(query) as copy:
                for block in copy:
                    out.write(block)
                    n += 1
        return n
    qs = Child.objects.filter(status="active")
    if unit is not None:
        qs = visible_under(qs, unit, lookup="unit__path")
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for row in qs.values_list(*EXPORT_COLUMNS).iterator(chunk_size=5000):
            writer.writerow(["" if v is None else v for v in row])
    return 1


def duckdb_features(csv_path: Path) -> Any:
    """A DuckDB database beside the exported CSV, holding `src` (the children) and `feats` (their features).

    On disk in the CSV's (temporary) directory, with a bounded memory: past `DEDUPE_DUCKDB_MEMORY` the blocked
    pairs spill to that directory rather than growing in the server's memory beside PostgreSQL, and past
    `DEDUPE_DUCKDB_SPILL` there the scan stops (`ScanTooLarge`) rather than filling the disk."""
    import duckdb

    con = duckdb.connect(str(csv_path.with_suffix(".duckdb")))
    con.execute(f"SET threads TO {int(settings.DEDUPE_DUCKDB_THREADS)}")
    con.execute("SET memory_limit = ?", [settings.DEDUPE_DUCKDB_MEMORY])
    con.execute("SET temp_directory = ?", [str(csv_path.parent / "duckdb_spill")])
    con.execute("SET max_temp_directory_size = ?", [settings.DEDUPE_DUCKDB_SPILL])
    types = {
        "id": "BIGINT", "public_id": "VARCHAR", "unit_id": "BIGINT", "full_name": "VARCHAR",
        "date_of_birth": "DATE", "sex": "VARCHAR", "personal_id": "VARCHAR", "mother_name": "VARCHAR",
        "father_name": "VARCHAR", "guardian_name": "VARCHAR", "village_id": "BIGINT", "commune_id": "BIGINT",
    }  # fmt: skip
    con.execute(
        "CREATE TABLE src AS SELECT id AS unique_id, * EXCLUDE (id) FROM read_csv(?, header=true, columns=?)",
        [str(csv_path), types],
    )
    con.execute(f"CREATE TABLE feats AS {linkage.FEATURES_SQL}")
    return con


def splink_settings_from_model(model_json: dict[str, Any]) -> dict[str, Any]:
    linkage.check_model_matches_code(model_json)
    settings = {k: v for k, v in model_json.items() if not k.startswith("mchis_")}
    settings["additional_columns_to_retain"] = linkage.splink_settings()["additional_columns_to_retain"]
    settings["retain_intermediate_calculation_columns"] = True
    return settings


def load_model_json(path: Path = MODEL_PATH) -> dict[str, Any]:
    model: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return model


def _register_tf_tables(con: Any, db_api: Any, linker: Any, model_json: dict[str, Any]) -> None:
    """Use the model's stored term frequencies (as the entry check does), not ones recomputed from the
    scanned table: the same pair gets the same weight in both."""
    for column, table in model_json.get("mchis_tf_tables", {}).items():
        name = f"mchis_tf_{column}"
        con.execute(f'CREATE OR REPLACE TABLE {name} ("{column}" VARCHAR, "tf_{column}" DOUBLE)')
        if table:
            con.executemany(f"INSERT INTO {name} VALUES (?, ?)", list(table.items()))  # noqa: S608
        linker.table_management.register_term_frequency_lookup(db_api.register(name), column)


def predict_pairs(
    con: Any, model_json: dict[str, Any], *, threshold: float | None = None
) -> list[ScoredPair]:
    """Pairs scored at or above `threshold` (default: the model's review threshold), with their band."""
    from splink import DuckDBAPI, Linker

    model = linkage.model_from_settings(model_json)
    threshold = model.threshold if threshold is None else threshold
    db_api = DuckDBAPI(connection=con)
    sdf = db_api.register("feats")
    linker = Linker(sdf, splink_settings_from_model(model_json), log_level=30)
    _register_tf_tables(con, db_api, linker, model_json)
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    rows = con.execute(
        f"""SELECT unique_id_l, unique_id_r, public_id_l, public_id_r, match_probability, match_weight,
                   unit_id_l, unit_id_r, gamma_household
            FROM {predictions.physical_name}"""  # noqa: S608
    ).fetchall()
    return scored_pairs(rows, model)


def scored_pairs(rows: list[tuple[Any, ...]], model: linkage.TrainedModel) -> list[ScoredPair]:
    """Splink prediction rows (ids, public ids, probability, weight, units, household gamma) → pairs with
    the lower id first and their band (shared by the DuckDB and the Spark back-ends)."""
    out = []
    for ia, ib, pa, pb, p, w, ua, ub, household in rows:
        if ia > ib:
            ia, ib, pa, pb, ua = ib, ia, pb, pa, ub
        p = float(p)
        out.append(
            ScoredPair(
                int(ia),
                int(ib),
                str(pa),
                str(pb),
                p,
                float(w),
                linkage.band(p, linkage.level_from_gamma("household", int(household)), model),
                int(ua),
            )
        )
    return out


def blocking_ceiling(con: Any, pairs: list[tuple[int, int]]) -> float:
    """Share of `pairs` (unique ids) that at least one blocking rule would compare: the recall ceiling."""
    if not pairs:
        return 1.0
    con.execute("CREATE OR REPLACE TEMP TABLE mchis_pairs (a BIGINT, b BIGINT)")
    con.executemany("INSERT INTO mchis_pairs VALUES (?, ?)", pairs)
    any_rule = " OR ".join(f"coalesce({rule}, false)" for rule in linkage.BLOCKING_RULES_SQL)
    row = con.execute(
        f"""SELECT avg(CASE WHEN {any_rule} THEN 1.0 ELSE 0.0 END) FROM mchis_pairs p
            JOIN feats l ON l.unique_id = p.a JOIN feats r ON r.unique_id = p.b"""  # noqa: S608
    ).fetchall()[0]
    return float(row[0]) if row[0] is not None else 1.0


def estimated_blocking_ceiling(con: Any) -> tuple[float, int]:
    """Without a truth file: of the pairs that share a personal ID and agree on birth date or name (near
    certain duplicates), the share the *other* blocking rules also compare — an estimate of the recall
    ceiling for the records that have no ID. Returns (share, pairs used)."""
    others = " OR ".join(f"coalesce({rule}, false)" for rule in linkage.BLOCKING_RULES_SQL[1:])
    row = con.execute(
        f"""SELECT avg(CASE WHEN {others} THEN 1.0 ELSE 0.0 END), count(*) FROM feats l JOIN feats r
            ON l.pid = r.pid AND l.unique_id < r.unique_id
            WHERE l.given_f = r.given_f OR l.dob = r.dob"""  # noqa: S608
    ).fetchall()[0]
    if not row[1]:
        return 1.0, 0
    return float(row[0]), int(row[1])


@dataclass
class ScanResult:
    pairs: list[ScoredPair]
    ceiling: float
    ceiling_pairs: int
    children: int


def scan_backend(unit: Any | None = None) -> str:
    """The engine of a full scan: a province (or smaller) always on DuckDB, in-process; the national scan
    on the one the `DEDUPE_BACKEND` setting names ("duckdb" or "spark", ADR 0073)."""
    return "duckdb" if unit is not None else settings.DEDUPE_BACKEND


class ScanTooLarge(RuntimeError):
    """A DuckDB scan that needed more than its memory and spill limits (the nation on one small machine)."""


def _out_of_memory(exc: BaseException | None) -> bool:
    """DuckDB's out-of-memory error, also when Splink wraps it (its SplinkException chains the original)."""
    import duckdb

    while exc is not None:
        if isinstance(exc, duckdb.OutOfMemoryException):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def scan(
    *,
    unit: Any | None = None,
    model_path: Path = MODEL_PATH,
    threshold: float | None = None,
    backend: str | None = None,
) -> ScanResult:
    backend = backend or scan_backend(unit)
    if backend not in ("duckdb", "spark"):
        raise ValueError(f"unknown duplicate-scan backend '{backend}' (duckdb or spark)")
    with tempfile.TemporaryDirectory(prefix="mchis_dedupe_") as tmp:
        csv_path = Path(tmp) / "children.csv"
        export_children(csv_path, unit=unit)
        if backend == "spark":
            from .dedupe_spark import scan_csv

            return scan_csv(csv_path, load_model_json(model_path), threshold=threshold)
        try:
            return _duckdb_scan(csv_path, model_path, threshold)
        except Exception as exc:
            if _out_of_memory(exc):
                raise ScanTooLarge(
                    f"Quét trùng lặp trên DuckDB vượt giới hạn bộ nhớ ({settings.DEDUPE_DUCKDB_MEMORY}) và "
                    f"đĩa tạm ({settings.DEDUPE_DUCKDB_SPILL}) của máy này: quét theo từng tỉnh (--unit SYT…) "
                    "hoặc trên Spark (MCHIS_DEDUPE_BACKEND=spark)."
                ) from exc
            raise


def _duckdb_scan(csv_path: Path, model_path: Path, threshold: float | None) -> ScanResult:
    con = duckdb_features(csv_path)
    try:
        pairs = predict_pairs(con, load_model_json(model_path), threshold=threshold)
        ceiling, used = estimated_blocking_ceiling(con)
        children = con.execute("SELECT count(*) FROM feats").fetchall()[0][0]
        return ScanResult(pairs, ceiling, used, int(children))
    finally:
        con.close()


def scan_duplicates(*, unit: Any | None = None, model_path: Path = MODEL_PATH) -> list[ScoredPair]:
    return scan(unit=unit, model_path=model_path).pairs


# --- training ---------------------------------------------------------------------------------------------


def tf_table(con: Any, column: str = "family_f", top: int = 300) -> dict[str, float]:
    rows = con.execute(
        f"""SELECT {column}, count(*) * 1.0 / sum(count(*)) OVER () FROM feats
            WHERE {column} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT {int(top)}"""  # noqa: S608
    ).fetchall()
    return {str(v): round(float(f), 6) for v, f in rows}


def train_model(
    con: Any,
    *,
    out: Path = MODEL_PATH,
    seed: int = 42,
    review: float = 0.9,
    auto: float = 0.99,
    max_pairs: float = 1e7,
) -> dict[str, Any]:
    """Fit the model to the data in `feats`: λ from deterministic rules, u by seeded random sampling, m at
    the documented priors of `linkage.COMPARISONS` (EM on this kind of data drifts towards "same mother"
    clusters = siblings, decision 0010). A level that no sampled pair reached (an exact personal-ID match:
    random pairs never share one) gets u = 3 / pairs sampled — the rule-of-three upper bound, so an exact ID
    is weighted above a near-miss ID and Splink never falls back to a default."""
    from splink import DuckDBAPI, Linker, block_on

    db_api = DuckDBAPI(connection=con)
    sdf = db_api.register("feats")
    linker = Linker(sdf, linkage.splink_settings(), log_level=30)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("pid", "dob"), block_on("given_f", "family_f", "dob", "carer_f")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    model = linker.misc.save_model_to_json(overwrite=True)
    floor = 3.0 / max_pairs
    floored, capped = [], []
    for comp in model["comparisons"]:
        strongest = math.inf  # weights never rise as agreement weakens (a sparse fuzzy level is noise)
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level") or lv.get("fix_u_probability"):
                continue
            if lv.get("u_probability") is None or lv["u_probability"] < floor:
                lv["u_probability"] = floor
                floored.append(f"{comp['output_column_name']}: {lv['label_for_charts']}")
            if "conflict" in lv["label_for_charts"] or lv["sql_condition"] == "ELSE":
                continue
            weight = math.log2(lv["m_probability"] / lv["u_probability"])
            if weight > strongest:
                lv["u_probability"] = lv["m_probability"] / 2.0**strongest
                capped.append(f"{comp['output_column_name']}: {lv['label_for_charts']}")
            strongest = min(strongest, weight)
    model["mchis_tf_tables"] = {"family_f": tf_table(con), "given_f": tf_table(con, "given_f", top=5000)}
    model["mchis_bands"] = {"review": review, "auto": auto}
    model["mchis_training"] = {
        "seed": seed,
        "method": "λ: deterministic rules (recall 0.8); u: random sampling; m: documented priors",
        "max_pairs": max_pairs,
        "u_rule_of_three": floored,
        "u_capped_monotone": capped,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model, ensure_ascii=False, indent=1), encoding="utf-8")
    linkage.default_model.cache_clear()
    return model
