"""Probabilistic record linkage for Vietnamese child records (phát hiện trùng lặp, R-DQ-02). Pure code.

One specification, two engines:
* `COMPARISONS` lists each comparison's levels as (label, DuckDB SQL condition, Python predicate). The SQL
  builds the Splink settings (full scans on DuckDB, or Spark, docs/decisions/0010); the Python predicates
  score a handful of candidates at entry time without starting DuckDB. Both read the same trained
  m/u probabilities (fixtures/dedupe_model.json), so the entry check and the full scan agree.
* Features (`features()` in Python, `FEATURES_SQL` in DuckDB) split a name into family / middle / given,
  fold diacritics (exact with diacritics > exact folded > Jaro-Winkler on folded), map surname variants
  (Hoàng≈Huỳnh, Vũ≈Võ, …) to one key, and precompute the day/month-swapped birth date.
* Twins (song sinh: same DOB and mother, different given names) are never linked: the given-name
  "else" level carries a strongly negative weight *and* `is_twin_pair()` drops such pairs afterwards.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from mchis.core.text import fold, nfc

FIXTURES = Path(__file__).parent / "fixtures"
MODEL_PATH = FIXTURES / "dedupe_model.json"

# Surname variants that are one family name written in the North / the South (or after a taboo).
SURNAME_VARIANTS = {"huynh": "hoang", "vo": "vu"}


def surname_key(folded_family: str) -> str:
    return SURNAME_VARIANTS.get(folded_family, folded_family)


_VARIANT_TOKENS = set(SURNAME_VARIANTS) | set(SURNAME_VARIANTS.values())


def split_name(full: str) -> tuple[str, str, str]:
    """ "Nguyễn Thị Minh Anh" → ("Nguyễn", "Thị Minh", "Anh"). One word: given name only."""
    parts = nfc(full).split(" ")
    parts = [p for p in parts if p]
    if not parts:
        return "", "", ""
    if len(parts) == 1:
        return "", "", parts[0]
    return parts[0], " ".join(parts[1:-1]), parts[-1]


def swap_day_month(d: date | None) -> date | None:
    if d is None or d.day > 12 or d.day == d.month:
        return None
    try:
        return date(d.year, d.day, d.month)
    except ValueError:
        return None


def _none(value: str) -> str | None:
    return value or None


def features(row: dict[str, Any]) -> dict[str, Any]:
    """Comparison inputs for one child (dict with Child field names; ids may be objects).

    The full name is normalised and folded once; folding keeps word boundaries, so the folded words line
    up with the written ones (the entry check scores hundreds of candidates per keystroke pause)."""
    full = nfc(row.get("full_name") or "")
    raw_tokens = full.lower().split(" ") if full else []
    folded_full = fold(full)
    fold_tokens = folded_full.split(" ") if folded_full else []
    if len(fold_tokens) != len(raw_tokens):  # defensive: a character that folds to a space
        fold_tokens = [fold(t) for t in raw_tokens]
    n = len(raw_tokens)
    given, given_f = (raw_tokens[-1], fold_tokens[-1]) if n >= 1 else ("", "")
    family, family_f = (raw_tokens[0], fold_tokens[0]) if n >= 2 else ("", "")
    middle_f = " ".join(fold_tokens[1:-1]) if n >= 3 else ""
    dob = row.get("date_of_birth")
    if isinstance(dob, str):
        dob = date.fromisoformat(dob[:10]) if dob else None
    village = row.get("village_id", row.get("village"))
    village = getattr(village, "pk", village)
    commune = row.get("commune_id", row.get("commune"))
    commune = getattr(commune, "pk", commune)
    mother = fold(row.get("mother_name"))
    father = fold(row.get("father_name"))
    guardian = fold(row.get("guardian_name")) if not mother else ""
    return {
        "name_key": _none(" ".join(surname_key(t) for t in fold_tokens)),
        "name_raw": _none(
            " ".join(
                surname_key(f) if f in _VARIANT_TOKENS else r
                for r, f in zip(raw_tokens, fold_tokens, strict=True)
            )
        ),  # fmt: skip
        "name_plain": full.lower() == folded_full,
        "given": _none(given),
        "given_f": _none(given_f),
        "family": _none(family),
        "family_f": _none(family_f),
        "family_k": _none(surname_key(family_f)),
        "middle_f": _none(middle_f),
        "dob": dob,
        "dob_swap": swap_day_month(dob),
        "ym": f"{dob.year:04d}-{dob.month:02d}" if dob else None,
        "yr": dob.year if dob else None,
        "pid": _none((row.get("personal_id") or "").strip()),
        "mother_f": _none(mother),
        "father_f": _none(father),
        "carer_f": _none(mother or guardian),
        "village": village or None,
        "commune": commune or None,
        "sex": _none(row.get("sex") or ""),
    }


def passes_blocking(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """The blocking rules of the full scan (`BLOCKING_RULES_SQL`), in Python: the entry check compares the
    same pairs the full scan would."""

    def eq(*cols: str) -> bool:
        return all(a[c] is not None and a[c] == b[c] for c in cols)

    return (
        eq("pid")
        or eq("dob", "given_f")
        or eq("dob", "carer_f")
        or (a["dob_swap"] is not None and a["dob_swap"] == b["dob"] and eq("given_f"))
        or (b["dob_swap"] is not None and b["dob_swap"] == a["dob"] and eq("given_f"))
        or eq("carer_f", "commune", "yr")
        or eq("given_f", "family_k", "commune", "yr")
    )


# Same features in DuckDB SQL over a table `src` with the Child columns (names already NFC).
_FOLD = "nullif(trim(strip_accents(lower(replace(replace(coalesce({c}, ''), 'đ', 'd'), 'Đ', 'D')))), '')"


def _fold_sql(col: str) -> str:
    return _FOLD.format(c=col)


FEATURES_SQL = f"""
WITH p AS (
  SELECT *, string_split(trim(regexp_replace(coalesce(full_name, ''), '\\s+', ' ', 'g')), ' ') AS parts FROM src
)
SELECT
  unique_id, public_id, unit_id,
  CASE WHEN len(parts) >= 1 THEN nullif(lower(parts[len(parts)]), '') END AS given,
  CASE WHEN len(parts) >= 1 THEN {_fold_sql("parts[len(parts)]")} END AS given_f,
  CASE WHEN len(parts) >= 2 THEN nullif(lower(parts[1]), '') END AS family,
  CASE WHEN len(parts) >= 2 THEN {_fold_sql("parts[1]")} END AS family_f,
  CASE WHEN len(parts) >= 2 THEN
    CASE {_fold_sql("parts[1]")} {" ".join(f"WHEN '{k}' THEN '{v}'" for k, v in SURNAME_VARIANTS.items())}
      ELSE {_fold_sql("parts[1]")} END END AS family_k,
  CASE WHEN len(parts) >= 3 THEN {_fold_sql("array_to_string(parts[2:len(parts)-1], ' ')")} END AS middle_f,
  nullif(array_to_string(list_transform(string_split({_fold_sql("full_name")}, ' '), lambda x: CASE x {" ".join(f"WHEN '{k}' THEN '{v}'" for k, v in SURNAME_VARIANTS.items())} ELSE x END), ' '), '') AS name_key,
  nullif(array_to_string(list_transform(string_split(lower(trim(coalesce(full_name, ''))), ' '), lambda x: CASE {_fold_sql("x")} {" ".join(f"WHEN '{k}' THEN '{SURNAME_VARIANTS.get(k, k)}'" for k in sorted(set(SURNAME_VARIANTS) | set(SURNAME_VARIANTS.values())))} ELSE x END), ' '), '') AS name_raw,
  coalesce(lower(trim(coalesce(full_name, ''))) = coalesce({_fold_sql("full_name")}, ''), true) AS name_plain,
  date_of_birth AS dob,
  CASE WHEN day(date_of_birth) <= 12 AND day(date_of_birth) <> month(date_of_birth)
       THEN make_date(year(date_of_birth), day(date_of_birth), month(date_of_birth)) END AS dob_swap,
  strftime(date_of_birth, '%Y-%m') AS ym,
  year(date_of_birth) AS yr,
  nullif(trim(coalesce(personal_id, '')), '') AS pid,
  {_fold_sql("mother_name")} AS mother_f,
  {_fold_sql("father_name")} AS father_f,
  coalesce({_fold_sql("mother_name")}, {_fold_sql("guardian_name")}) AS carer_f,
  village_id AS village,
  commune_id AS commune,
  nullif(sex, '') AS sex
FROM p
"""  # noqa: S608 - built from constants only


# --- string similarity (same definitions as DuckDB's) ------------------------------------------------


def jaro_winkler(a: str, b: str) -> float:
    if a == b:
        return 1.0
    la, lb = len(a), len(b)
    if not la or not lb:
        return 0.0
    window = max(max(la, lb) // 2 - 1, 0)
    ma = [False] * la
    mb = [False] * lb
    matches = 0
    for i, ch in enumerate(a):
        for j in range(max(0, i - window), min(lb, i + window + 1)):
            if not mb[j] and b[j] == ch:
                ma[i] = mb[j] = True
                matches += 1
                break
    if not matches:
        return 0.0
    k = transpositions = 0
    for i in range(la):
        if ma[i]:
            while not mb[k]:
                k += 1
            if a[i] != b[k]:
                transpositions += 1
            k += 1
    m = float(matches)
    jaro = (m / la + m / lb + (m - transpositions / 2) / m) / 3
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)


def levenshtein(a: str, b: str) -> int:
    if a == b:
        return 0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def within_edits(a: str, b: str, k: int) -> bool:
    """levenshtein(a, b) <= k, computed in a diagonal band of width k (fast for small k)."""
    if abs(len(a) - len(b)) > k:
        return False
    if a == b:
        return True
    big = k + 1
    prev = {j: j for j in range(0, min(len(b), k) + 1)}
    for i in range(1, len(a) + 1):
        cur: dict[int, int] = {}
        lo, hi = max(0, i - k), min(len(b), i + k)
        for j in range(lo, hi + 1):
            if j == 0:
                cur[j] = i
                continue
            cost = prev.get(j - 1, big) + (a[i - 1] != b[j - 1])
            cur[j] = min(cost, prev.get(j, big) + 1, cur.get(j - 1, big) + 1)
        if min(cur.values()) > k:
            return False
        prev = cur
    return prev.get(len(b), big) <= k


# --- the comparison specification ---------------------------------------------------------------------

Pred = Callable[[dict[str, Any], dict[str, Any]], bool]


@dataclass(frozen=True)
class Level:
    label: str
    sql: str
    py: Pred
    is_null: bool = False
    tf_column: str = ""
    # Documented prior m = P(level | same child), from how entry errors happen (decision 0010); u is
    # estimated on the data by random sampling (seeded), so the weights adapt to each population.
    m: float | None = None


def _null(*cols: str) -> Level:
    sql = " OR ".join(f'"{c}_l" IS NULL OR "{c}_r" IS NULL' for c in cols)
    return Level("null", sql, lambda a, b: any(a[c] is None or b[c] is None for c in cols), is_null=True)


def _exact(col: str, label: str = "exact", tf: str = "", m: float | None = None) -> Level:
    return Level(label, f'"{col}_l" = "{col}_r"', lambda a, b: a[col] == b[col], tf_column=tf, m=m)


def _jw(col: str, threshold: float, m: float | None = None) -> Level:
    return Level(
        f"jw>={threshold}",
        f'jaro_winkler_similarity("{col}_l", "{col}_r") >= {threshold}',
        lambda a, b: jaro_winkler(a[col], b[col]) >= threshold,
        m=m,
    )


def _lev(col: str, edits: int, m: float | None = None) -> Level:
    return Level(
        f"levenshtein<={edits}",
        f'levenshtein("{col}_l", "{col}_r") <= {edits}',
        lambda a, b: within_edits(a[col], b[col], edits),
        m=m,
    )


def _else(m: float | None = None) -> Level:
    return Level("else", "ELSE", lambda a, b: True, m=m)


@dataclass(frozen=True)
class Comparison:
    name: str
    description: str
    levels: tuple[Level, ...]


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("given", "Tên (given name): diacritics > folded > one edit > Jaro-Winkler; differing = twin-like", (
        _null("given_f"), _exact("given", "exact with diacritics", tf="given_f", m=0.80),
        _exact("given_f", "exact folded", tf="given_f", m=0.12),
        _lev("given_f", 1, m=0.06), _jw("given_f", 0.88, m=0.0195), _else(m=0.0005),
    )),
    Comparison("family", "Họ (family name) with variant equivalence and TF on folded surname", (
        _null("family_f"), _exact("family", "exact with diacritics", tf="family_f", m=0.85),
        _exact("family_f", "exact folded", tf="family_f", m=0.10),
        _exact("family_k", "variant (Hoàng≈Huỳnh, Vũ≈Võ)", m=0.045), _else(m=0.005),
    )),
    Comparison("middle", "Tên đệm (middle name), folded", (
        _null("middle_f"), _exact("middle_f", "exact folded", m=0.93), _jw("middle_f", 0.9, m=0.04), _else(m=0.03),
    )),
    Comparison("dob", "Ngày sinh: exact / day-month swapped / same month / same year", (
        _null("dob"), _exact("dob", m=0.88),
        Level("day-month swapped", '"dob_swap_l" = "dob_r" OR "dob_l" = "dob_swap_r"',
              lambda a, b: (a["dob_swap"] is not None and a["dob_swap"] == b["dob"])
              or (b["dob_swap"] is not None and a["dob"] == b["dob_swap"]), m=0.08),
        _exact("ym", "same year-month", m=0.02), _exact("yr", "same year", m=0.005), _else(m=0.003),
    )),
    Comparison("pid", "Số định danh: exact / one or two edits (typo, malformed) / different", (
        _null("pid"), _exact("pid", m=0.95),
        Level("levenshtein<=2", 'levenshtein("pid_l", "pid_r") <= 2', lambda a, b: within_edits(a["pid"], b["pid"], 2), m=0.04),
        _else(m=0.002),
    )),
    Comparison("mother", "Tên mẹ (folded)", (_null("mother_f"), _exact("mother_f", m=0.95), _jw("mother_f", 0.9, m=0.045), _else(m=0.005))),
    Comparison("father", "Tên cha (folded)", (_null("father_f"), _exact("father_f", m=0.93), _jw("father_f", 0.9, m=0.05), _else(m=0.02))),
    Comparison("village", "Thôn/tổ dân phố", (_null("village"), _exact("village", m=0.85), _else(m=0.15))),
    Comparison("sex", "Giới tính", (_null("sex"), _exact("sex", m=0.99), _else(m=0.01))),
)  # fmt: skip

# Blocking rules: a pair is only compared if one of these holds (union, de-duplicated by Splink).
BLOCKING_RULES_SQL = (
    'l."pid" = r."pid"',
    'l."dob" = r."dob" AND l."given_f" = r."given_f"',
    'l."dob" = r."dob" AND l."carer_f" = r."carer_f"',
    'l."dob_swap" = r."dob" AND l."given_f" = r."given_f"',
    'l."carer_f" = r."carer_f" AND l."commune" = r."commune" AND l."yr" = r."yr"',
    'l."given_f" = r."given_f" AND l."family_k" = r."family_k" AND l."commune" = r."commune" AND l."yr" = r."yr"',
)


def splink_settings(*, comparisons: tuple[Comparison, ...] = COMPARISONS) -> dict[str, Any]:
    """The Splink settings (dialect-neutral except the fuzzy function names, see decision 0010)."""
    out = []
    for comp in comparisons:
        levels = []
        for lv in comp.levels:
            level: dict[str, Any] = {"sql_condition": lv.sql, "label_for_charts": lv.label}
            if lv.is_null:
                level["is_null_level"] = True
            if lv.m is not None:
                level["m_probability"] = lv.m
            if lv.tf_column:
                level["tf_adjustment_column"] = lv.tf_column
                level["tf_adjustment_weight"] = 1.0
            levels.append(level)
        out.append({"output_column_name": comp.name, "comparison_description": comp.description, "comparison_levels": levels})  # fmt: skip
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": 1e-6,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": b, "sql_dialect": "duckdb"} for b in BLOCKING_RULES_SQL
        ],  # fmt: skip
        "comparisons": out,
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": [
            "public_id",
            "unit_id",
            "carer_f",
            "name_key",
            "name_raw",
            "name_plain",
        ],
        "sql_dialect": "duckdb",
    }


# --- Python scoring with the trained model --------------------------------------------------------------


@dataclass(frozen=True)
class TrainedModel:
    prior: float  # probability_two_random_records_match
    # comparison -> per level (m, u); None for the null level
    mu: dict[str, list[tuple[float, float] | None]]
    tf: dict[str, dict[str, float]]  # tf column -> value -> relative frequency
    threshold: float


def load_model(path: Path = MODEL_PATH) -> TrainedModel:
    data = json.loads(path.read_text(encoding="utf-8"))
    return model_from_settings(data)


@cache
def default_model() -> TrainedModel:
    return load_model()


def model_from_settings(data: dict[str, Any]) -> TrainedModel:
    mu: dict[str, list[tuple[float, float] | None]] = {}
    for comp in data["comparisons"]:
        levels: list[tuple[float, float] | None] = []
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level"):
                levels.append(None)
            else:
                levels.append(
                    (float(lv.get("m_probability") or 1e-6), float(lv.get("u_probability") or 1e-6))
                )
        mu[comp["output_column_name"]] = levels
    return TrainedModel(
        prior=float(data["probability_two_random_records_match"]),
        mu=mu,
        tf=data.get("mchis_tf_tables", {}),
        threshold=float(data.get("mchis_review_threshold", 0.9)),
    )


def comparison_vector(a: dict[str, Any], b: dict[str, Any]) -> dict[str, int]:
    out = {}
    for comp in COMPARISONS:
        for i, lv in enumerate(comp.levels):
            if lv.sql == "ELSE" or lv.py(a, b):
                out[comp.name] = i
                break
    return out


def match_weight(a: dict[str, Any], b: dict[str, Any], model: TrainedModel) -> float:
    weight = math.log2(model.prior / (1 - model.prior))
    for comp in COMPARISONS:
        idx = comparison_vector_one(comp, a, b)
        mu = model.mu[comp.name][idx]
        if mu is None:
            continue
        m, u = mu
        weight += math.log2(m / u)
        lv = comp.levels[idx]
        if lv.tf_column:
            freq = model.tf.get(lv.tf_column, {}).get(a[lv.tf_column] or "")  # rare values: not listed
            if freq:
                # Splink's TF adjustment: replace u by the value's own frequency (weight 1.0).
                weight += math.log2(u / max(freq, 1e-9))
    return weight


def comparison_vector_one(comp: Comparison, a: dict[str, Any], b: dict[str, Any]) -> int:
    for i, lv in enumerate(comp.levels):
        if lv.sql == "ELSE" or lv.py(a, b):
            return i
    return len(comp.levels) - 1


def probability(weight: float) -> float:
    if weight > 60:
        return 1.0
    bf = 2.0**weight
    return bf / (1 + bf)


def diacritic_conflict(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Same folded name, but some word is written with *different* diacritics on both sides (Máy ≠ Mẩy,
    Hiền ≠ Hiên): two names. A word typed without diacritics on one side is an entry error, not a conflict."""
    ra, rb = (a["name_raw"] or "").split(" "), (b["name_raw"] or "").split(" ")
    return any(x != y and x != fold(x) and y != fold(y) for x, y in zip(ra, rb, strict=False))


def names_materially_differ(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two different names, not one name entered with an error: folded keys (surname variants mapped)
    more than one typo apart, or equal but with a diacritic conflict."""
    ka, kb = a["name_key"] or "", b["name_key"] or ""
    if ka != kb:
        return not within_edits(ka, kb, 1)
    return diacritic_conflict(a, b)


def is_twin_pair(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Song sinh: same (or day/month-swapped) birth date and mother/carer, not the same personal ID, and
    another name — materially different, or one typo apart with a different sex or different personal IDs.
    Whole-name based, so it also holds for groups who write the surname last."""
    if a["pid"] and a["pid"] == b["pid"]:
        return False
    same_birth = a["dob"] is not None and (a["dob"] == b["dob"] or a["dob_swap"] == b["dob"])
    if not same_birth or a["carer_f"] is None or a["carer_f"] != b["carer_f"]:
        return False
    if a["name_key"] == b["name_key"] and not diacritic_conflict(a, b):
        return False  # the same name (at most written without some diacritics / as a surname variant)
    return (
        names_materially_differ(a, b)
        or bool(a["sex"] and b["sex"] and a["sex"] != b["sex"])
        or bool(a["pid"] and b["pid"] and a["pid"] != b["pid"])
    )


_DIACRITIC_CONFLICT_SQL = (
    "coalesce(list_bool_or(list_transform(list_zip(string_split(coalesce(\"name_raw_l\", ''), ' '), "
    "string_split(coalesce(\"name_raw_r\", ''), ' ')), lambda p: p[1] <> p[2] AND p[1] <> "
    + _fold_sql("p[1]")
    + " AND p[2] <> "
    + _fold_sql("p[2]")
    + ")), false)"
)

TWIN_FILTER_SQL = f"""NOT (
  coalesce("pid_l" = "pid_r", false) = false
  AND ("dob_l" = "dob_r" OR "dob_swap_l" = "dob_r") AND "carer_f_l" = "carer_f_r"
  AND NOT (coalesce("name_key_l", '') = coalesce("name_key_r", '') AND NOT {_DIACRITIC_CONFLICT_SQL})
  AND (
    (coalesce("name_key_l", '') <> coalesce("name_key_r", '')
     AND levenshtein(coalesce("name_key_l", ''), coalesce("name_key_r", '')) > 1)
    OR (coalesce("name_key_l", '') = coalesce("name_key_r", '') AND {_DIACRITIC_CONFLICT_SQL})
    OR coalesce("sex_l" <> "sex_r", false) OR coalesce("pid_l" <> "pid_r", false)
  )
)"""
