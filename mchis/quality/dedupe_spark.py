"""The full duplicate scan on Spark (national scale, ADR 0010 and 0073): the same model file, unchanged.

`dedupe.scan` calls `scan_csv` when the backend is Spark (setting `DEDUPE_BACKEND`, environment
`MCHIS_DEDUPE_BACKEND=spark`). What differs from the DuckDB path, and only this:

* **Features** are computed by `linkage.features()` itself in each Spark worker (`mapInArrow` over the
  registry export), not by `linkage.FEATURES_SQL` (DuckDB-only functions: `strip_accents`, list lambdas).
  The entry-time check uses the same Python function, so all three evaluators see identical inputs.
* **SQL dialect**: every comparison level and blocking rule of the model file is transpiled from DuckDB
  to Spark SQL with SQLGlot (quoted identifiers → backticks), and `jaro_winkler_similarity` becomes
  `mchis_jaro_winkler`, a vectorised UDF with DuckDB's own definition (rapidfuzz's, as `linkage.jaro_winkler`):
  the jar's `jaro_winkler` scores longer strings differently. `damerau_levenshtein` is the jar's UDF.
* **Parameters** (m, u, λ, term-frequency tables, review/auto thresholds) are read from the file as they are.

This module imports no Django at top level: Spark's Python workers import it to run `_features_batches`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import linkage

if TYPE_CHECKING:
    from .dedupe import ScanResult, ScoredPair

# Columns of `dedupe.EXPORT_COLUMNS` with their Spark types (the DuckDB path reads the same CSV with these).
EXPORT_SCHEMA = (
    "id BIGINT, public_id STRING, unit_id BIGINT, full_name STRING, date_of_birth DATE, sex STRING, "
    "personal_id STRING, mother_name STRING, father_name STRING, guardian_name STRING, village_id BIGINT, "
    "commune_id BIGINT"
)
FEATURE_COLUMNS = (
    ("unique_id", "int64"), ("public_id", "string"), ("unit_id", "int64"),
    ("given", "string"), ("given_f", "string"), ("given_d", "string"), ("family", "string"),
    ("family_f", "string"), ("family_k", "string"), ("middle_f", "string"), ("dob", "date32"),
    ("dob_swap", "date32"), ("md", "string"), ("ym", "string"), ("yr", "int32"), ("pid", "string"),
    ("mother_f", "string"), ("father_f", "string"), ("carer_f", "string"), ("village", "int64"),
    ("commune", "int64"), ("sex", "string"),
)  # fmt: skip
_SPARK_TYPES = {"int64": "BIGINT", "int32": "INT", "string": "STRING", "date32": "DATE"}
FEATURE_SCHEMA = ", ".join(f"{name} {_SPARK_TYPES[kind]}" for name, kind in FEATURE_COLUMNS)


def _arrow_schema() -> Any:
    import pyarrow as pa

    return pa.schema([(name, getattr(pa, kind)()) for name, kind in FEATURE_COLUMNS])


def _features_batches(batches: Iterator[Any]) -> Iterator[Any]:
    """Spark `mapInArrow`: export rows → `linkage.features()` rows (runs in the Python workers)."""
    import pyarrow as pa

    schema = _arrow_schema()
    names = [name for name, _ in FEATURE_COLUMNS]
    for batch in batches:
        out: dict[str, list[Any]] = {name: [] for name in names}
        for row in batch.to_pylist():
            feats = linkage.features(row)
            feats["unique_id"], feats["public_id"], feats["unit_id"] = (
                row["id"],
                row["public_id"],
                row["unit_id"],
            )
            for name in names:
                out[name].append(feats[name])
        yield pa.RecordBatch.from_pydict(out, schema=schema)


# --- the model file in Spark SQL ----------------------------------------------------------------------------


def to_spark_sql(condition: str) -> str:
    """One comparison level or blocking rule of the model file (DuckDB SQL) as Spark SQL."""
    import sqlglot
    from sqlglot import exp

    if condition == "ELSE":
        return condition

    def rename(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.JarowinklerSimilarity):
            return exp.Anonymous(this="mchis_jaro_winkler", expressions=[node.this, node.expression])
        return node

    tree = sqlglot.parse_one(condition, read="duckdb").transform(rename)
    return tree.sql(dialect="spark")


def spark_settings(model_json: dict[str, Any]) -> dict[str, Any]:
    """The Splink settings of the model file with every SQL condition in Spark's dialect."""
    from .dedupe import splink_settings_from_model

    settings = splink_settings_from_model(model_json)
    settings["comparisons"] = [
        comp
        | {
            "comparison_levels": [
                level | {"sql_condition": to_spark_sql(level["sql_condition"])}
                for level in comp["comparison_levels"]
            ]
        }
        for comp in settings["comparisons"]
    ]
    settings["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": to_spark_sql(rule["blocking_rule"]), "sql_dialect": "spark"}
        for rule in settings["blocking_rules_to_generate_predictions"]
    ]
    settings["sql_dialect"] = "spark"
    return settings


# --- the Spark session ----------------------------------------------------------------------------------------


@cache
def spark_session(master: str = "", memory: str = "") -> Any:
    """One Spark session per process (start-up costs seconds). Local by default (`local[*]`); a cluster
    by `SPARK_MASTER` (then the mchis package travels with `spark.submit.pyFiles`, docs/decisions/0073)."""
    from django.conf import settings
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    project = str(Path(linkage.__file__).resolve().parents[2])
    # local workers start `PYSPARK_PYTHON` (else `python3` on PATH, which may lack this venv's packages):
    # the spark.pyspark.python setting below reaches a cluster's executors, not local ones
    os.environ.setdefault("PYSPARK_PYTHON", _python())
    builder = (
        SparkSession.builder.appName("mchis-dedupe")
        .master(master or settings.SPARK_MASTER)
        .config("spark.driver.memory", memory or settings.SPARK_DRIVER_MEMORY)
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", str(settings.SPARK_SHUFFLE_PARTITIONS))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.pyspark.python", os.environ.get("PYSPARK_PYTHON", _python()))
        .config("spark.executorEnv.PYTHONPATH", project)
        .config("spark.local.dir", tempfile.gettempdir())
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    _register_similarity(session)
    checkpoints = tempfile.mkdtemp(prefix="mchis_spark_ckpt_")
    atexit.register(shutil.rmtree, checkpoints, True)  # Splink's intermediate tables (parquet)
    session.sparkContext.setCheckpointDir(checkpoints)
    return session


def _register_similarity(session: Any) -> None:
    """``mchis_jaro_winkler``: DuckDB's (rapidfuzz's) Jaro-Winkler as a vectorised (Arrow) UDF, so Spark scores
    a pair exactly as the DuckDB scan and the entry-time check do; the jar's ``jaro_winkler`` differs on longer
    strings (docs/national-scale.md)."""
    import pandas as pd
    from pyspark.sql.functions import pandas_udf

    def mchis_jaro_winkler(left: pd.Series, right: pd.Series) -> pd.Series:
        from rapidfuzz.distance import JaroWinkler

        return pd.Series(
            [
                JaroWinkler.similarity(a, b) if isinstance(a, str) and isinstance(b, str) else None
                for a, b in zip(left, right, strict=True)
            ],
            dtype="float64",
        )

    # pyspark reads the type hints to pick the UDF kind: real classes, not this module's postponed strings
    mchis_jaro_winkler.__annotations__ = {"left": pd.Series, "right": pd.Series, "return": pd.Series}
    session.udf.register("mchis_jaro_winkler", pandas_udf(mchis_jaro_winkler, "double"))  # type: ignore[call-overload]


def _python() -> str:
    import sys

    return sys.executable


def spark_features(spark: Any, csv_path: Path) -> Any:
    raw = spark.read.csv(str(csv_path), header=True, schema=EXPORT_SCHEMA, multiLine=True, escape='"')
    return raw.mapInArrow(_features_batches, FEATURE_SCHEMA)


def predict_pairs(
    spark: Any, feats: Any, model_json: dict[str, Any], *, threshold: float | None = None
) -> list[ScoredPair]:
    """`dedupe.predict_pairs` on Spark: the same settings, term frequencies and bands."""
    from splink import Linker, SparkAPI

    from .dedupe import scored_pairs

    model = linkage.model_from_settings(model_json)
    threshold = model.threshold if threshold is None else threshold
    db_api = SparkAPI(spark_session=spark, break_lineage_method="parquet")  # type: ignore[no-untyped-call]
    feats.createOrReplaceTempView("mchis_feats")
    linker = Linker(db_api.register("mchis_feats"), spark_settings(model_json), log_level=30)
    for column, table in model_json.get("mchis_tf_tables", {}).items():
        name = f"mchis_tf_{column}"
        spark.createDataFrame(
            list(table.items()), f"`{column}` STRING, `tf_{column}` DOUBLE"
        ).createOrReplaceTempView(name)
        linker.table_management.register_term_frequency_lookup(db_api.register(name), column)
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    rows = spark.sql(
        f"""SELECT unique_id_l, unique_id_r, public_id_l, public_id_r, match_probability, match_weight,
                   unit_id_l, unit_id_r, gamma_household
            FROM {predictions.physical_name}"""  # noqa: S608
    ).collect()
    return scored_pairs([tuple(r) for r in rows], model)


def estimated_blocking_ceiling(spark: Any) -> tuple[float, int]:
    """`dedupe.estimated_blocking_ceiling` in Spark SQL over `mchis_feats`."""
    others = " OR ".join(f"coalesce({to_spark_sql(rule)}, false)" for rule in linkage.BLOCKING_RULES_SQL[1:])
    row = spark.sql(
        f"""SELECT avg(CASE WHEN {others} THEN 1.0 ELSE 0.0 END), count(*) FROM mchis_feats l JOIN mchis_feats r
            ON l.pid = r.pid AND l.unique_id < r.unique_id
            WHERE l.given_f = r.given_f OR l.dob = r.dob"""  # noqa: S608
    ).collect()[0]
    if not row[1]:
        return 1.0, 0
    return float(row[0]), int(row[1])


def scan_csv(csv_path: Path, model_json: dict[str, Any], *, threshold: float | None = None) -> ScanResult:
    """The full scan of an exported registry CSV on Spark."""
    from .dedupe import ScanResult

    spark = spark_session()
    feats = spark_features(spark, csv_path).persist()
    try:
        pairs = predict_pairs(spark, feats, model_json, threshold=threshold)
        ceiling, used = estimated_blocking_ceiling(spark)
        return ScanResult(pairs, ceiling, used, int(feats.count()))
    finally:
        feats.unpersist()
