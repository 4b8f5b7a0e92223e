"""Probabilistic record linkage for Vietnamese child records (phát hiện trùng lặp, R-DQ-02). Pure code.

One model, two evaluators (docs/dedupe.md):
* `COMPARISONS` lists each comparison's levels as (label, DuckDB SQL condition, Python predicate). The SQL
  is the Splink model (fixtures/dedupe_model.json holds it with the trained m/u probabilities); the full
  scan runs it in Splink on DuckDB. The entry-time check evaluates the *same model file* in Python: on
  loading, every level's SQL in the file must equal the one the Python predicate implements
  (`ModelMismatchError` otherwise), so the scan and the entry check give the same pair the same weight.
* Features (`features()` in Python, `FEATURES_SQL` in DuckDB) split a name into family / middle / given,
  fold diacritics, map surname variants (Hoàng≈Huỳnh, Vũ≈Võ) to one key, and precompute the
  day/month-swapped birth date and the month-day.
* Names are compared on folded parts with a transposition-aware distance (Damerau-Levenshtein); a missing
  middle name is a null level (no evidence), not a difference; a two- or three-letter given name
  (H'Mông "Lử", "Pó", Thái "Ón") gets no fuzzy level: one edit there is another name.
* Twins are a level of the `household` comparison, decided from positive evidence: same mother (carer),
  same birth date (or its day/month swap), different given names, not one personal ID. Its weight is a
  fixed veto. Same carer with another birth date (siblings given one name, or a wrong DOB) has a fixed
  negative weight, and such pairs are never "auto" (`band()`): they go to human review.
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

from rapidfuzz.distance import JaroWinkler as _JaroWinkler

from mchis.core.text import fold, nfc

FIXTURES = Path(__file__).parent / "fixtures"
MODEL_PATH = FIXTURES / "dedupe_model.json"

# Surname variants that are one family name written in the North / the South (or after a taboo).
SURNAME_VARIANTS = {"huynh": "hoang", "vo": "vu"}


def surname_key(folded_family: str) -> str:
    return SURNAME_VARIANTS.get(folded_family, folded_family)


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


def collapse_doubles(value: str) -> str:
    """ "tuu" → "tu", "mmay" → "may": a key bounced twice (Vietnamese names never double a letter). The
    caller also reads "rn" as "m" (a scanner's confusion; Vietnamese spelling has no "rn")."""
    return "".join(ch for i, ch in enumerate(value) if i == 0 or ch != value[i - 1])


def _none(value: str) -> str | None:
    return value or None


def features(row: dict[str, Any]) -> dict[str, Any]:
    """Comparison inputs for one child (dict with Child field names; ids may be objects)."""
    full = " ".join(nfc(row.get("full_name") or "").split())
    raw_tokens = full.lower().split(" ") if full else []
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
        "given": _none(given),
        "given_f": _none(given_f),
        "given_d": collapse_doubles(given_f.replace("rn", "m")) if given_f else None,
        "family": _none(family),
        "family_f": _none(family_f),
        "family_k": _none(surname_key(family_f)),
        "middle_f": _none(middle_f),
        "dob": dob,
        "dob_swap": swap_day_month(dob),
        "md": f"{dob.month:02d}-{dob.day:02d}" if dob else None,
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


# Same features in DuckDB SQL over a table `src` with the Child columns (names already NFC).
_FOLD = "nullif(trim(strip_accents(lower(replace(replace(coalesce({c}, ''), 'đ', 'd'), 'Đ', 'D')))), '')"


def _fold_sql(col: str) -> str:
    return _FOLD.format(c=col)


_VARIANT_CASE = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in SURNAME_VARIANTS.items())

FEATURES_SQL = f"""
SELECT *, array_to_string(list_filter(string_split(replace(given_f, 'rn', 'm'), ''),
  lambda x, i: i = 1 OR x <> substring(replace(given_f, 'rn', 'm'), i - 1, 1)), '') AS given_d
FROM (
WITH p AS (
  SELECT *, string_split(trim(regexp_replace(coalesce(full_name, ''), '\\s+', ' ', 'g')), ' ') AS parts FROM src
)
SELECT
  unique_id, public_id, unit_id,
  CASE WHEN len(parts) >= 1 THEN nullif(lower(parts[len(parts)]), '') END AS given,
  CASE WHEN len(parts) >= 1 THEN {_fold_sql("parts[len(parts)]")} END AS given_f,
  CASE WHEN len(parts) >= 2 THEN nullif(lower(parts[1]), '') END AS family,
  CASE WHEN len(parts) >= 2 THEN {_fold_sql("parts[1]")} END AS family_f,
  CASE WHEN len(parts) >= 2 THEN CASE {_fold_sql("parts[1]")} {_VARIANT_CASE} ELSE {_fold_sql("parts[1]")} END
       END AS family_k,
  CASE WHEN len(parts) >= 3 THEN
    nullif(array_to_string(list_transform(parts[2:len(parts)-1], lambda x: {_fold_sql("x")}), ' '), '') END
    AS middle_f,
  date_of_birth AS dob,
  CASE WHEN day(date_of_birth) <= 12 AND day(date_of_birth) <> month(date_of_birth)
       THEN make_date(year(date_of_birth), day(date_of_birth), month(date_of_birth)) END AS dob_swap,
  strftime(date_of_birth, '%m-%d') AS md,
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
)
"""  # noqa: S608 - built from constants only


# --- string similarity (same definitions as DuckDB's) ------------------------------------------------


def jaro_winkler(a: str, b: str) -> float:
    """Jaro-Winkler similarity as DuckDB's ``jaro_winkler_similarity`` computes it (rapidfuzz's definition, also
    registered in Spark as ``mchis_jaro_winkler``): the entry-time check, the DuckDB scan and the Spark scan
    score a pair alike. A textbook implementation and Splink's Scala jar differ from it on longer strings
    ("nguyen hoang hoa" / "nguyen thanh sang": 0.9183 vs 0.9254, either side of the 0.92 "near name" level)."""
    return float(_JaroWinkler.similarity(a, b))


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


def is_transposition(a: str, b: str) -> bool:
    """b is a with two adjacent (different) letters swapped: "phan" / "phna"."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def damerau_within_one(a: str, b: str) -> bool:
    """DuckDB's damerau_levenshtein(a, b) <= 1: equal, one edit, or one adjacent transposition."""
    return a == b or within_edits(a, b, 1) or is_transposition(a, b)


# --- the comparison specification ---------------------------------------------------------------------

Row = dict[str, Any]
Pred = Callable[[Row, Row], bool]


@dataclass(frozen=True)
class Level:
    label: str
    sql: str
    py: Pred
    is_null: bool = False
    tf_column: str = ""
    # Documented prior m = P(level | same child), from how entry errors happen (docs/dedupe.md); u is
    # estimated on the data by random sampling (seeded). `fixed` levels keep both m and u as written.
    m: float | None = None
    u: float | None = None
    fixed: bool = False


def _q(col: str, side: str) -> str:
    return f'"{col}_{side}"'


# DuckDB's damerau_levenshtein is ~7x slower than levenshtein and ~30x slower than jaro_winkler_similarity,
# and a scan evaluates it on millions of pairs (most of the 1M scan's time, issue 14). These CASE forms
# give exactly the result of `damerau_levenshtein(x, y) <= 1` / `= 1 with levenshtein = 2` (NULL in, NULL
# out) but call it only on the rare pair that can be a transposition; a CASE, unlike AND/OR under NOT,
# always stops at its first true branch.
def _within_one_sql(x: str, y: str) -> str:
    """damerau_levenshtein(x, y) <= 1: equal, one edit, or one adjacent transposition."""
    return (
        f"CASE WHEN {x} IS NULL OR {y} IS NULL THEN NULL WHEN abs(length({x}) - length({y})) > 1 THEN false "
        f"WHEN levenshtein({x}, {y}) <= 1 THEN true "
        f"WHEN length({x}) = length({y}) AND levenshtein({x}, {y}) = 2 THEN damerau_levenshtein({x}, {y}) = 1 "
        "ELSE false END"
    )


def _null(*cols: str) -> Level:
    sql = " OR ".join(f"{_q(c, 'l')} IS NULL OR {_q(c, 'r')} IS NULL" for c in cols)
    return Level("null", sql, lambda a, b: any(a[c] is None or b[c] is None for c in cols), is_null=True)


def _exact(col: str, label: str = "exact", tf: str = "", m: float | None = None) -> Level:
    return Level(label, f"{_q(col, 'l')} = {_q(col, 'r')}", lambda a, b: a[col] == b[col], tf_column=tf, m=m)


def _near_name(col: str, m: float) -> Level:
    """A parent's folded name within one edit (transpositions included) or Jaro-Winkler ≥ 0.92."""
    return Level(
        "one edit or jaro-winkler>=0.92",
        f'(jaro_winkler_similarity("{col}_l", "{col}_r") >= 0.92 OR {_within_one_sql(_q(col, "l"), _q(col, "r"))})',
        lambda a, b: damerau_within_one(a[col], b[col]) or jaro_winkler(a[col], b[col]) >= 0.92,
        m=m,
    )


def _else(m: float | None = None) -> Level:
    return Level("else", "ELSE", lambda a, b: True, m=m)


# Name-part conditions, each as (SQL, Python). `min_len` keeps fuzzy levels off short names: one edit
# between names of at most three letters ("Lử"/"Sử", "Pó"/"Páo") is another child's name, not a typo; only
# a swap of two adjacent letters is still a typo there.
_SWAP_SQL = (
    "CASE WHEN {x} IS NULL OR {y} IS NULL THEN NULL "
    "WHEN length({x}) = length({y}) AND length({x}) >= 2 AND levenshtein({x}, {y}) = 2 "
    "THEN damerau_levenshtein({x}, {y}) = 1 ELSE false END"
)


def _swap_sql(col: str) -> str:
    """Two adjacent letters swapped ("phan"/"phna", "ly"/"yl"): a typing slip at any length."""
    return _SWAP_SQL.format(x=_q(col, "l"), y=_q(col, "r"))


def _fuzzy_name_sql(col: str, min_len: int = 4, swap_col: str = "") -> str:
    x, y = _q(col, "l"), _q(col, "r")
    return (
        f"((greatest(length({x}), length({y})) >= {min_len} AND {_within_one_sql(x, y)}) "
        f"OR {_swap_sql(swap_col or col)})"
    )


def _fuzzy_name_py(col: str, min_len: int = 4, swap_col: str = "") -> Pred:
    swap = swap_col or col

    def pred(a: Row, b: Row) -> bool:
        x, y = a[col], b[col]
        return (damerau_within_one(x, y) and max(len(x), len(y)) >= min_len) or (
            len(a[swap]) >= 2 and is_transposition(a[swap], b[swap])
        )

    return pred


def _jw_name_sql(col: str, threshold: float, min_len: int = 4) -> str:
    x, y = _q(col, "l"), _q(col, "r")
    return (
        f"(jaro_winkler_similarity({x}, {y}) >= {threshold} AND least(length({x}), length({y})) >= {min_len})"
    )


def _jw_name_py(col: str, threshold: float, min_len: int = 4) -> Pred:
    return lambda a, b: jaro_winkler(a[col], b[col]) >= threshold and min(len(a[col]), len(b[col])) >= min_len


_GIVEN_CONFLICT_SQL = '"given_f_l" = "given_f_r" AND "given_l" <> "given_r" AND "given_l" <> "given_f_l" AND "given_r" <> "given_f_r"'


def _given_conflict(a: Row, b: Row) -> bool:
    """Same letters, different diacritics written on both sides (Máy ≠ Mẩy, Hiền ≠ Hiên): two names."""
    return bool(
        a["given_f"] == b["given_f"]
        and a["given"] != b["given"]
        and a["given"] != a["given_f"]
        and b["given"] != b["given_f"]
    )


_GIVEN_FUZZY_SQL = f'("given_d_l" = "given_d_r" OR {_fuzzy_name_sql("given_f", swap_col="given_d")})'
_GIVEN_JW_SQL = _jw_name_sql("given_f", 0.92)
_given_fuzzy_edit = _fuzzy_name_py("given_f", swap_col="given_d")


def _given_fuzzy(a: Row, b: Row) -> bool:
    return a["given_d"] == b["given_d"] or _given_fuzzy_edit(a, b)


_given_jw = _jw_name_py("given_f", 0.92)

# Given names that *differ* (positive twin evidence): both present, and either a diacritic conflict or no
# agreeing level (exact folded, one edit on a long name, a transposition, close Jaro-Winkler).
_GIVEN_DIFFER_SQL = (
    f'("given_f_l" IS NOT NULL AND "given_f_r" IS NOT NULL AND (({_GIVEN_CONFLICT_SQL}) OR NOT '
    f'("given_f_l" = "given_f_r" OR {_GIVEN_FUZZY_SQL} OR {_GIVEN_JW_SQL})))'
)


def _given_differ(a: Row, b: Row) -> bool:
    if a["given_f"] is None or b["given_f"] is None:
        return False
    if _given_conflict(a, b):
        return True
    return not (a["given_f"] == b["given_f"] or _given_fuzzy(a, b) or _given_jw(a, b))


# Every NULL made explicit (coalesce): a NULL must never turn a "not twins" into "unknown" (issue 14, #5).
_SAME_CARER_SQL = 'coalesce("carer_f_l" = "carer_f_r", false)'
_SAME_BIRTH_SQL = (
    '(coalesce("dob_l" = "dob_r", false) OR coalesce("dob_swap_l" = "dob_r", false) '
    'OR coalesce("dob_l" = "dob_swap_r", false))'
)
_NOT_ONE_ID_SQL = 'NOT coalesce("pid_l" = "pid_r", false)'
_YEAR_TYPO_SQL = 'coalesce("md_l" = "md_r" AND abs("yr_l" - "yr_r") = 1, false)'


def _same_carer(a: Row, b: Row) -> bool:
    return a["carer_f"] is not None and a["carer_f"] == b["carer_f"]


def _same_birth(a: Row, b: Row) -> bool:
    return a["dob"] is not None and (
        a["dob"] == b["dob"]
        or (a["dob_swap"] is not None and a["dob_swap"] == b["dob"])
        or (b["dob_swap"] is not None and a["dob"] == b["dob_swap"])
    )


def _not_one_id(a: Row, b: Row) -> bool:
    return not (a["pid"] is not None and a["pid"] == b["pid"])


def _year_typo(a: Row, b: Row) -> bool:
    return a["md"] is not None and a["md"] == b["md"] and abs(a["yr"] - b["yr"]) == 1


_OWN_IDS_SQL = 'coalesce(levenshtein("pid_l", "pid_r") > 2, false)'
_OTHER_SEX_SQL = 'coalesce("sex_l" <> "sex_r", false)'
# Another given name, for proven twins (own IDs or another sex): any written difference counts ("Anh" /
# "Ánh" too), except a doubled letter or two swapped letters.
_GIVEN_OTHER_SQL = (
    '("given_l" IS NOT NULL AND "given_r" IS NOT NULL AND "given_l" <> "given_r" '
    'AND NOT ("given_d_l" = "given_d_r" AND "given_f_l" <> "given_f_r") AND NOT ' + _swap_sql("given_d") + ")"
)


def _own_ids(a: Row, b: Row) -> bool:
    return a["pid"] is not None and b["pid"] is not None and not within_edits(a["pid"], b["pid"], 2)


def _other_sex(a: Row, b: Row) -> bool:
    return a["sex"] is not None and b["sex"] is not None and a["sex"] != b["sex"]


def _given_other(a: Row, b: Row) -> bool:
    x, y = a["given"], b["given"]
    if x is None or y is None or x == y:
        return False
    if a["given_d"] == b["given_d"] and a["given_f"] != b["given_f"]:
        return False  # a doubled letter
    return not (len(a["given_d"]) >= 2 and is_transposition(a["given_d"], b["given_d"]))


_MIDDLE_NEAR_SQL = f'(jaro_winkler_similarity("middle_f_l", "middle_f_r") >= 0.9 OR {_within_one_sql(_q("middle_f", "l"), _q("middle_f", "r"))})'
_MIDDLE_DIFFER_SQL = f'("middle_f_l" IS NOT NULL AND "middle_f_r" IS NOT NULL AND NOT ("middle_f_l" = "middle_f_r" OR {_MIDDLE_NEAR_SQL}))'


def _middle_differ(a: Row, b: Row) -> bool:
    x, y = a["middle_f"], b["middle_f"]
    if x is None or y is None:
        return False
    return not (x == y or damerau_within_one(x, y) or jaro_winkler(x, y) >= 0.9)


_TWIN_BASE_SQL = f"{_SAME_CARER_SQL} AND {_SAME_BIRTH_SQL} AND {_NOT_ONE_ID_SQL}"
TWIN_SQL = f"{_TWIN_BASE_SQL} AND {_GIVEN_OTHER_SQL} AND ({_OWN_IDS_SQL} OR {_OTHER_SEX_SQL})"
TWIN_UNPROVEN_SQL = (
    f'{_TWIN_BASE_SQL} AND ({_GIVEN_DIFFER_SQL} OR ("given_d_l" <> "given_d_r" AND {_MIDDLE_DIFFER_SQL}))'
)
OTHER_BIRTH_SQL = (
    f'{_SAME_CARER_SQL} AND "dob_l" IS NOT NULL AND "dob_r" IS NOT NULL AND NOT {_SAME_BIRTH_SQL} '
    f"AND NOT {_YEAR_TYPO_SQL} AND {_NOT_ONE_ID_SQL}"
)


def is_twin_pair(a: Row, b: Row) -> bool:
    """Song sinh, proven: same carer, same birth date (or its day/month swap), another given name, and each
    with its own personal ID (not a typo of the other) or of another sex."""
    return (
        _same_carer(a, b)
        and _same_birth(a, b)
        and _not_one_id(a, b)
        and _given_other(a, b)
        and (_own_ids(a, b) or _other_sex(a, b))
    )


def is_twin_unproven(a: Row, b: Row) -> bool:
    """Same carer and birth date, given names that differ (no agreeing level: a one-letter change on a short
    H'Mông/Thái name counts as different) — or given names not equal and middle names that differ ("Phương
    Ngân" / "Thị Nga") — but no IDs or sexes to prove two children."""
    if not (_same_carer(a, b) and _same_birth(a, b) and _not_one_id(a, b)):
        return False
    if _given_differ(a, b):
        return True
    return (
        a["given_d"] is not None
        and b["given_d"] is not None
        and a["given_d"] != b["given_d"]
        and _middle_differ(a, b)
    )


def is_other_birth(a: Row, b: Row) -> bool:
    """Same carer, another birth date (not a swap, not a one-year typo), not one ID: a sibling, perhaps
    given the same name, or one child entered with a wrong birth date. Human review, never automatic."""
    return (
        _same_carer(a, b)
        and a["dob"] is not None
        and b["dob"] is not None
        and not _same_birth(a, b)
        and not _year_typo(a, b)
        and _not_one_id(a, b)
    )


# Fixed weights of the household levels (not trained: random pairs almost never share a mother, so their
# u says nothing; the levels correct the other comparisons, which assume independence).
TWIN_WEIGHT = -60.0  # a veto: proven twins are never one child
TWIN_UNPROVEN_WEIGHT = -40.0  # below the review band even when everything else agrees
OTHER_BIRTH_WEIGHT = -12.0


def _fixed(label: str, sql: str, py: Pred, weight: float) -> Level:
    u = 0.5
    return Level(label, sql, py, m=u * 2.0**weight, u=u, fixed=True)


@dataclass(frozen=True)
class Comparison:
    name: str
    description: str
    levels: tuple[Level, ...]


COMPARISONS = (
    Comparison("given", "Tên (given name): diacritics > folded > one edit / transposition (4+ letters) > Jaro-Winkler", (
        _null("given_f"), _exact("given", "exact with diacritics", tf="given_f", m=0.78),
        Level("diacritic conflict (Máy / Mẩy)", _GIVEN_CONFLICT_SQL, _given_conflict, m=0.002),
        _exact("given_f", "exact folded", tf="given_f", m=0.12),
        Level("doubled letter, one edit or transposition", _GIVEN_FUZZY_SQL, _given_fuzzy, m=0.07),
        Level("jaro-winkler>=0.92", _GIVEN_JW_SQL, _given_jw, m=0.02), _else(m=0.008),
    )),
    Comparison("family", "Họ (family name): exact > folded > variant (Hoàng≈Huỳnh) > one edit / transposition", (
        _null("family_f"), _exact("family", "exact with diacritics", tf="family_f", m=0.82),
        _exact("family_f", "exact folded", tf="family_f", m=0.11),
        _exact("family_k", "variant (Hoàng≈Huỳnh, Vũ≈Võ)", m=0.04),
        Level("one edit or transposition", _fuzzy_name_sql("family_f", 3), _fuzzy_name_py("family_f", 3), m=0.025),
        _else(m=0.005),
    )),
    Comparison("middle", "Tên đệm (middle name), folded; missing on either side = no evidence", (
        _null("middle_f"), _exact("middle_f", "exact folded", m=0.93),
        Level("one edit or jaro-winkler>=0.9",
              _MIDDLE_NEAR_SQL,
              lambda a, b: damerau_within_one(a["middle_f"], b["middle_f"]) or jaro_winkler(a["middle_f"], b["middle_f"]) >= 0.9,
              m=0.04),
        _else(m=0.03),
    )),
    Comparison("dob", "Ngày sinh: exact / day-month swapped / year off by one / same month / same year", (
        _null("dob"), _exact("dob", m=0.84),
        Level("day-month swapped", '"dob_swap_l" = "dob_r" OR "dob_l" = "dob_swap_r"',
              lambda a, b: (a["dob_swap"] is not None and a["dob_swap"] == b["dob"])
              or (b["dob_swap"] is not None and a["dob"] == b["dob_swap"]), m=0.07),
        Level("year off by one", _YEAR_TYPO_SQL, _year_typo, m=0.06),
        _exact("ym", "same year-month", m=0.012), _exact("yr", "same year", m=0.008), _else(m=0.01),
    )),
    Comparison("pid", "Số định danh: exact / one or two edits (typo, malformed) / different", (
        _null("pid"), _exact("pid", m=0.93),
        Level("levenshtein<=2", 'levenshtein("pid_l", "pid_r") <= 2', lambda a, b: within_edits(a["pid"], b["pid"], 2), m=0.06),
        _else(m=0.01),
    )),
    Comparison("mother", "Tên mẹ (folded): exact / one edit or Jaro-Winkler / different", (
        _null("mother_f"), _exact("mother_f", m=0.92),
        _near_name("mother_f", m=0.07),
        _else(m=0.01),
    )),
    Comparison("father", "Tên cha (folded)", (
        _null("father_f"), _exact("father_f", m=0.92),
        _near_name("father_f", m=0.05),
        _else(m=0.03),
    )),
    Comparison("place", "Thôn/tổ dân phố, xã: same village / same commune / elsewhere (moved)", (
        _null("commune"), _exact("village", "same village", m=0.78), _exact("commune", "same commune", m=0.14),
        _else(m=0.08),
    )),
    Comparison("sex", "Giới tính", (_null("sex"), _exact("sex", m=0.99), _else(m=0.01))),
    Comparison("household", "Song sinh / anh chị em: same carer with same birth and other given name (twins), or with another birth date", (
        _null("carer_f"),
        _fixed("twins: same carer and birth, other given name, own IDs or other sex", TWIN_SQL, is_twin_pair, TWIN_WEIGHT),
        _fixed("likely twins: same carer and birth, different given names", TWIN_UNPROVEN_SQL, is_twin_unproven,
               TWIN_UNPROVEN_WEIGHT),
        _fixed("same carer, another birth date", OTHER_BIRTH_SQL, is_other_birth, OTHER_BIRTH_WEIGHT),
        Level("else", "ELSE", lambda a, b: True, m=1.0, u=1.0, fixed=True),
    )),
)  # fmt: skip

# Blocking rules: a pair is only compared if one of these holds (union, de-duplicated by Splink). Each rule
# is an anchor an entry error leaves intact; none needs the exact birth year alone, so a year typo is still
# compared. Every rule that ignores the birth date keeps the family and the commune (same carer, same name:
# siblings given one name or a wrong date of birth, class 4, go to review), and every rule that lets the
# year slip keeps the day and month plus two of given name / surname / commune, so a scan of 1M children
# compares ~1.6M pairs, not ~4.3M (docs/dedupe.md, decision 0045).
BLOCKING_RULES_SQL = (
    'l."pid" = r."pid"',
    'l."dob" = r."dob" AND l."given_f" = r."given_f"',
    'l."dob" = r."dob" AND l."carer_f" = r."carer_f"',
    'l."dob_swap" = r."dob" AND l."given_f" = r."given_f"',
    'l."carer_f" = r."carer_f" AND l."commune" = r."commune" AND l."given_f" = r."given_f"',
    'l."carer_f" = r."carer_f" AND l."commune" = r."commune" AND abs(l."yr" - r."yr") <= 1',
    'l."given_f" = r."given_f" AND l."family_k" = r."family_k" AND l."md" = r."md" AND abs(l."yr" - r."yr") <= 1',
    'l."given_f" = r."given_f" AND l."commune" = r."commune" AND l."md" = r."md" AND abs(l."yr" - r."yr") <= 1',
    'l."given_f" = r."given_f" AND l."family_k" = r."family_k" AND l."commune" = r."commune" AND l."yr" = r."yr"',
    'l."family_k" = r."family_k" AND l."commune" = r."commune" AND l."md" = r."md" AND abs(l."yr" - r."yr") <= 1',
)


def blocking_rules_passed(a: Row, b: Row) -> list[int]:
    """Indexes of the `BLOCKING_RULES_SQL` rules the pair satisfies (Python twin of the SQL)."""

    def eq(*cols: str) -> bool:
        return all(a[c] is not None and a[c] == b[c] for c in cols)

    swap = (a["dob_swap"] is not None and a["dob_swap"] == b["dob"]) or (
        b["dob_swap"] is not None and b["dob_swap"] == a["dob"]
    )
    near_year = a["yr"] is not None and b["yr"] is not None and abs(a["yr"] - b["yr"]) <= 1
    rules = (
        eq("pid"),
        eq("dob", "given_f"),
        eq("dob", "carer_f"),
        swap and eq("given_f"),
        eq("carer_f", "commune", "given_f"),
        eq("carer_f", "commune") and near_year,
        eq("given_f", "family_k", "md") and near_year,
        eq("given_f", "commune", "md") and near_year,
        eq("given_f", "family_k", "commune", "yr"),
        eq("family_k", "commune", "md") and near_year,
    )
    return [i for i, hit in enumerate(rules) if hit]


def passes_blocking(a: Row, b: Row) -> bool:
    """The blocking rules of the full scan, in Python: the entry check compares the pairs the scan would."""
    return bool(blocking_rules_passed(a, b))


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
            if lv.u is not None:
                level["u_probability"] = lv.u
            if lv.fixed:
                level["fix_m_probability"] = True
                level["fix_u_probability"] = True
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
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": ["public_id", "unit_id"],
        "sql_dialect": "duckdb",
    }


# --- the trained model, evaluated in Python ----------------------------------------------------------------


class ModelMismatchError(ValueError):
    """The model file was trained for other comparison levels than this code evaluates: retrain."""


@dataclass(frozen=True)
class TrainedModel:
    prior: float  # probability_two_random_records_match
    # comparison -> per level (m, u); None for the null level
    mu: dict[str, list[tuple[float, float] | None]]
    tf: dict[str, dict[str, float]]  # tf column -> value -> relative frequency
    threshold: float  # review band starts here (p2)
    auto_threshold: float  # auto-suggest band starts here (p1)


def load_model(path: Path = MODEL_PATH) -> TrainedModel:
    data = json.loads(path.read_text(encoding="utf-8"))
    return model_from_settings(data)


@cache
def default_model() -> TrainedModel:
    return load_model()


def check_model_matches_code(data: dict[str, Any]) -> None:
    """The model file's comparison levels must be the ones `COMPARISONS` evaluates in Python."""
    comps = {c["output_column_name"]: c for c in data["comparisons"]}
    if set(comps) != {c.name for c in COMPARISONS}:
        raise ModelMismatchError(f"model comparisons {sorted(comps)} ≠ code; run dedupe_train")
    for comp in COMPARISONS:
        file_sql = [lv["sql_condition"] for lv in comps[comp.name]["comparison_levels"]]
        code_sql = [lv.sql for lv in comp.levels]
        if file_sql != code_sql:
            raise ModelMismatchError(f"comparison '{comp.name}': model file levels ≠ code; run dedupe_train")
    rules = [b["blocking_rule"] for b in data["blocking_rules_to_generate_predictions"]]
    if rules != list(BLOCKING_RULES_SQL):
        raise ModelMismatchError("blocking rules in the model file ≠ code; run dedupe_train")


def model_from_settings(data: dict[str, Any]) -> TrainedModel:
    check_model_matches_code(data)
    mu: dict[str, list[tuple[float, float] | None]] = {}
    for comp in data["comparisons"]:
        levels: list[tuple[float, float] | None] = []
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level"):
                levels.append(None)
            else:
                if lv.get("m_probability") is None or lv.get("u_probability") is None:
                    raise ModelMismatchError(
                        f"{comp['output_column_name']}: level '{lv['label_for_charts']}' untrained"
                    )
                levels.append((float(lv["m_probability"]), float(lv["u_probability"])))
        mu[comp["output_column_name"]] = levels
    bands = data.get("mchis_bands", {})
    return TrainedModel(
        prior=float(data["probability_two_random_records_match"]),
        mu=mu,
        tf=data.get("mchis_tf_tables", {}),
        threshold=float(bands.get("review", 0.9)),
        auto_threshold=float(bands.get("auto", 0.99)),
    )


def comparison_level(comp: Comparison, a: Row, b: Row) -> int:
    """Index of the first level whose condition holds (Splink's CASE WHEN order; NULL = not this level)."""
    for i, lv in enumerate(comp.levels):
        if lv.sql == "ELSE":
            return i
        try:
            if lv.py(a, b):
                return i
        except TypeError:  # a None where SQL would give NULL: the condition is not true
            continue
    return len(comp.levels) - 1


def comparison_vector(a: Row, b: Row) -> dict[str, int]:
    return {comp.name: comparison_level(comp, a, b) for comp in COMPARISONS}


def _exact_u(comp: Comparison, model: TrainedModel, tf_column: str) -> float | None:
    """Splink's TF adjustment uses the u of the comparison's exact-match level on the TF column."""
    for i, lv in enumerate(comp.levels):
        if lv.sql == f'"{tf_column}_l" = "{tf_column}_r"':
            mu = model.mu[comp.name][i]
            return mu[1] if mu else None
    return None


@dataclass(frozen=True)
class Evidence:
    """One comparison's contribution to a pair's match weight (what the reviewer sees, docs/dedupe.md)."""

    comparison: str
    description: str
    level: str
    level_index: int
    m: float | None
    u: float | None
    weight: float  # log2(m/u), 0 for a null level
    tf_adjustment: float  # extra weight from the value's own frequency (common names count less)


def evidence(a: Row, b: Row, model: TrainedModel | None = None) -> list[Evidence]:
    """Per-comparison evidence for a pair of `features()` rows, in the model's comparison order."""
    model = model or default_model()
    out = []
    for comp in COMPARISONS:
        idx = comparison_level(comp, a, b)
        lv = comp.levels[idx]
        mu = model.mu[comp.name][idx]
        if mu is None:
            out.append(Evidence(comp.name, comp.description, lv.label, idx, None, None, 0.0, 0.0))
            continue
        m, u = mu
        tf_adj = 0.0
        if lv.tf_column:
            freq = model.tf.get(lv.tf_column, {}).get(a[lv.tf_column] or "")  # rare values: not listed
            base = _exact_u(comp, model, lv.tf_column)
            if freq and base:
                tf_adj = math.log2(base) - math.log2(freq)
        out.append(Evidence(comp.name, comp.description, lv.label, idx, m, u, math.log2(m / u), tf_adj))
    return out


def prior_weight(model: TrainedModel) -> float:
    return math.log2(model.prior / (1 - model.prior))


def match_weight(a: Row, b: Row, model: TrainedModel) -> float:
    return prior_weight(model) + sum(e.weight + e.tf_adjustment for e in evidence(a, b, model))


def probability(weight: float) -> float:
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    bf: float = 2.0**weight
    return bf / (1 + bf)


def level_from_gamma(comparison: str, gamma: int) -> int:
    """Splink's comparison vector value (null = -1, else = 0, stronger levels count up) → level index."""
    comp = next(c for c in COMPARISONS if c.name == comparison)
    if gamma == -1:
        return next(i for i, lv in enumerate(comp.levels) if lv.is_null)
    non_null = [i for i, lv in enumerate(comp.levels) if not lv.is_null]
    return non_null[len(non_null) - 1 - gamma]


HOUSEHOLD_OTHER_BIRTH = 3  # level index of "same carer, another birth date" in the household comparison


def band(p: float, household_level: int, model: TrainedModel) -> str:
    """auto (≥ p1), review (p2..p1), ignore (< p2). Same carer with another birth date is never auto."""
    if p >= model.auto_threshold and household_level != HOUSEHOLD_OTHER_BIRTH:
        return "auto"
    if p >= model.threshold:
        return "review"
    return "ignore"
