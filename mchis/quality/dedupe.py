"""Duplicate detection (phát hiện hồ sơ trùng, R-DQ-02): entry-time check and full Splink scan.

* `find_possible_duplicates(data, unit)` — at entry, before a create request is sent: indexed SQL fetch of
  candidates by blocking keys (birth date or its day/month swap, personal ID, folded name) inside the
  unit's province, scored in Python with the trained model (no DuckDB start-up).
* `scan_duplicates(unit=None)` — full scan: children are copied to DuckDB, features computed in SQL,
  Splink predicts with the same model, twins are filtered out, pairs above the review threshold are
  returned (and stored in the review queue by `services.duplicate_candidates_store`).
* `train_model(...)` — EM training with a fixed seed; writes fixtures/dedupe_model.json.
"""

from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.db import connection
from django.db.models import Q

from mchis.core.text import fold

from . import linkage
from .linkage import MODEL_PATH, default_model, features, is_twin_pair, match_weight, probability

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


def _province_path(unit: Any) -> str:
    """Path of the unit's provincial ancestor (Sở Y tế), or its own path when there is none."""
    from mchis.units.models import ReportingUnit, UnitKind

    ids = [int(x) for x in unit.path.strip("/").split("/") if x.isdigit()]
    doh = ReportingUnit.objects.filter(id__in=ids, kind=UnitKind.DOH).values_list("path", flat=True).first()
    return doh or unit.path


_unit_ids_cache: dict[str, tuple[float, list[int]]] = {}


def _province_unit_ids(path: str, max_age: float = 300.0) -> list[int]:
    import time

    from mchis.units.models import ReportingUnit

    hit = _unit_ids_cache.get(path)
    if hit and time.monotonic() - hit[0] < max_age:
        return hit[1]
    ids = list(ReportingUnit.objects.filter(path__startswith=path).values_list("id", flat=True))
    _unit_ids_cache[path] = (time.monotonic(), ids)
    return ids


def find_possible_duplicates(data: dict[str, Any], unit: Any, *, limit: int = 10) -> list[Candidate]:
    from mchis.registry.models import Child

    model = default_model()
    new = features(data)
    keys = Q()
    if new["dob"]:
        keys |= Q(date_of_birth=new["dob"])
        if new["dob_swap"]:
            keys |= Q(date_of_birth=new["dob_swap"])
    if new["pid"]:
        keys |= Q(personal_id=new["pid"])
    folded = fold(data.get("full_name"))
    if folded:
        keys |= Q(name_folded=folded)
    if not keys:
        return []
    # Key lookups first (indexed); the province's unit ids as a literal list, so the planner never starts
    # from the unit tree (it did, on fresh statistics, and read whole units).
    unit_ids = _province_unit_ids(_province_path(unit))
    qs = Child.objects.filter(keys, status="active", unit_id__in=unit_ids)
    exclude = data.get("id")
    if exclude:
        qs = qs.exclude(pk=exclude)
    out: list[Candidate] = []
    for row in qs.values(*EXPORT_COLUMNS, "unit__name")[:2000]:
        other = features(row)
        if not linkage.passes_blocking(new, other) or is_twin_pair(new, other):
            continue
        p = probability(match_weight(new, other, model))
        if p >= model.threshold:
            out.append(
                Candidate(
                    row["id"],
                    str(row["public_id"]),
                    row["full_name"],
                    row["date_of_birth"],
                    row["unit__name"],
                    round(p, 4),
                )  # fmt: skip
            )
    out.sort(key=lambda c: -c.probability)
    return out[:limit]


# --- full scan -------------------------------------------------------------------------------------------


def export_children(path: Path, *, unit: Any | None = None) -> int:
    """Write active children to CSV (PostgreSQL: COPY, fast; other databases: ORM)."""
    from mchis.registry.models import Child

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
        qs = qs.filter(unit__path__startswith=unit.path)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for row in qs.values_list(*EXPORT_COLUMNS).iterator(chunk_size=5000):
            writer.writerow(["" if v is None else v for v in row])
    return 1


def duckdb_features(csv_path: Path) -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 2")
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


def _splink_settings_from_model(model_json: dict[str, Any]) -> dict[str, Any]:
    settings = {k: v for k, v in model_json.items() if not k.startswith("mchis_")}
    # Columns the twin filter reads come from the code, not from an older model file.
    settings["additional_columns_to_retain"] = linkage.splink_settings()["additional_columns_to_retain"]
    return settings


def load_model_json(path: Path = MODEL_PATH) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def predict_pairs(
    con: Any, model_json: dict[str, Any], *, threshold: float | None = None, twin_filter: bool = True
) -> list[tuple[str, str, float, int, int, int]]:
    """(public_id_a, public_id_b, probability, id_a, id_b, unit_id_a) with id_a < id_b, above threshold."""
    from splink import DuckDBAPI, Linker

    threshold = model_json.get("mchis_review_threshold", 0.9) if threshold is None else threshold
    db_api = DuckDBAPI(connection=con)
    sdf = db_api.register("feats")
    linker = Linker(sdf, _splink_settings_from_model(model_json), log_level=30)
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    where = linkage.TWIN_FILTER_SQL if twin_filter else "true"
    rows = con.execute(
        f"""SELECT public_id_l, public_id_r, match_probability, unique_id_l, unique_id_r, unit_id_l, unit_id_r
            FROM {predictions.physical_name} WHERE {where}"""  # noqa: S608
    ).fetchall()
    out = []
    for pa, pb, p, ia, ib, ua, ub in rows:
        if ia > ib:
            pa, pb, ia, ib, ua = pb, pa, ib, ia, ub
        out.append((str(pa), str(pb), float(p), int(ia), int(ib), int(ua)))
    return out


def scan_duplicates(
    *, unit: Any | None = None, model_path: Path = MODEL_PATH
) -> list[tuple[str, str, float, int, int, int]]:
    with tempfile.TemporaryDirectory(prefix="mchis_dedupe_") as tmp:
        csv_path = Path(tmp) / "children.csv"
        export_children(csv_path, unit=unit)
        con = duckdb_features(csv_path)
        try:
            return predict_pairs(con, load_model_json(model_path))
        finally:
            con.close()


# --- training ---------------------------------------------------------------------------------------------


def tf_table(con: Any, column: str = "family_f", top: int = 300) -> dict[str, float]:
    rows = con.execute(
        f"""SELECT {column}, count(*) * 1.0 / sum(count(*)) OVER () FROM feats
            WHERE {column} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT {int(top)}"""  # noqa: S608
    ).fetchall()
    return {str(v): round(float(f), 6) for v, f in rows}


def train_model(
    con: Any, *, out: Path = MODEL_PATH, seed: int = 42, threshold: float = 0.9
) -> dict[str, Any]:
    """Fit the model to the data in `feats`: λ from deterministic rules, u by seeded random sampling;
    m stays at the documented priors of `linkage.COMPARISONS` (EM on this kind of data drifts towards
    "same mother" clusters = siblings, see decision 0010)."""
    from splink import DuckDBAPI, Linker, block_on

    db_api = DuckDBAPI(connection=con)
    sdf = db_api.register("feats")
    linker = Linker(sdf, linkage.splink_settings(), log_level=30)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("pid", "dob"), block_on("given_f", "family_f", "dob", "carer_f")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    model = linker.misc.save_model_to_json(overwrite=True)
    model["mchis_tf_tables"] = {"family_f": tf_table(con), "given_f": tf_table(con, "given_f", top=5000)}
    model["mchis_review_threshold"] = threshold
    model["mchis_training"] = {
        "seed": seed,
        "method": "EM (blocked on dob+given_f, then carer_f+commune+family_k)",
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model, ensure_ascii=False, indent=1), encoding="utf-8")
    linkage.default_model.cache_clear()
    return model
