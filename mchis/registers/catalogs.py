"""Catalog codes the registers validate against (danh mục dùng chung, R-ORG-03).

The one place that reads mchis.catalogs (through `mchis.catalogs.selectors.catalog_choices`): ethnicity →
"ethnic_group", ICD-10 → "cause_of_death". Until a catalog is loaded, a shipped fallback list
(fixtures/catalogs_fallback.json) keeps validation working; ICD-10 then falls back to a structural check.
Contraceptive methods are stored with the register's own codes (iud, injectable, implant, pill, sterilisation,
condom, other_modern, traditional); the shared catalog's codes (DCTC, TIEM, …) are accepted as input aliases.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from mchis.catalogs.selectors import catalog_choices
from mchis.catalogs.selectors import catalog_items as shared_items

ICD10_PATTERN = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,2})?\Z")
_FALLBACK = Path(__file__).parent / "fixtures" / "catalogs_fallback.json"


@lru_cache(maxsize=1)
def fallback() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(_FALLBACK.read_text(encoding="utf-8"))
    return data


# Register catalog key → shared catalog (mchis.catalogs) code. Contraceptive methods keep the register's own
# codes (the reports' contract); the shared catalog's codes are accepted as aliases (CONTRACEPTIVE_ALIASES).
SHARED = {"ethnicity": "ethnic_group", "icd10": "cause_of_death"}
# Shared codes that name one of the register's modern methods. Whether a code is modern at all comes from the
# shared catalog alone (its `modern` attribute): a code the catalog does not call modern is stored as
# "traditional", one it calls modern without a register code of its own as "other_modern" (KHAC is "Biện pháp
# khác", not modern, in the catalog: it is never counted as "other modern").
CONTRACEPTIVE_ALIASES = {
    "DCTC": "iud", "TIEM": "injectable", "CAY": "implant", "VIEN_UONG": "pill", "BCS": "condom",
    "TRIET_SAN_NAM": "sterilisation", "TRIET_SAN_NU": "sterilisation",
}  # fmt: skip
# The sex a shared method code carries (male sterilisation is counted from the method, never guessed).
CONTRACEPTIVE_SEX = {"TRIET_SAN_NAM": "M", "TRIET_SAN_NU": "F"}
_CONTRACEPTIVE_CSV = (
    Path(__file__).resolve().parent.parent / "catalogs" / "fixtures" / "contraceptive_method.csv"
)


@lru_cache(maxsize=1)
def _shipped_modern_flags() -> dict[str, bool]:

    with _CONTRACEPTIVE_CSV.open(encoding="utf-8") as fh:
        return {r["code"]: bool(json.loads(r["extra"] or "{}").get("modern")) for r in csv.DictReader(fh)}


def contraceptive_modern_flags(*, on: date | None = None) -> dict[str, bool]:
    """{shared code: modern?} from the shared catalog "contraceptive_method" (its shipped file until loaded)."""

    rows = {i.code: bool((i.extra or {}).get("modern")) for i in shared_items("contraceptive_method", on=on)}
    return rows or dict(_shipped_modern_flags())


def contraceptive_aliases(flags: dict[str, bool] | None = None) -> dict[str, str]:
    """Shared catalog code → register code, the modern/not-modern split taken from the catalog alone
    (`flags`, default: the shipped catalog file)."""
    out: dict[str, str] = {}
    for code, modern in (flags if flags is not None else _shipped_modern_flags()).items():
        out[code] = CONTRACEPTIVE_ALIASES.get(code, "other_modern") if modern else "traditional"
    return out


def catalog_items(catalog_code: str, *, on: date | None = None) -> list[tuple[str, str]]:
    """(code, name) pairs valid on a date: the shared catalog when loaded, else the shipped fallback."""
    shared = SHARED.get(catalog_code)
    if shared:
        rows = catalog_choices(shared, on=on)
        if rows:
            return [(str(code), str(name)) for code, name in rows]
    items = fallback().get(catalog_code, {}).get("items", [])
    return [(item["code"], item["name_vi"]) for item in items]


def catalog_codes(catalog_code: str, *, on: date | None = None) -> frozenset[str] | None:
    """The set of valid codes, or None when the catalog is open (ICD-10 without a loaded list)."""
    items = catalog_items(catalog_code, on=on)
    if not items and catalog_code == "icd10":
        return None
    return frozenset(code for code, _ in items)


def code_ok(catalog_code: str, value: str, codes: frozenset[str] | None) -> bool:
    """ICD-10: well-formed, and (when a catalog is loaded) listed itself, by its 3-character category, or inside
    a listed block such as "O00-O08" (the shared catalog is a subset organised by blocks)."""
    if catalog_code == "icd10":
        if not ICD10_PATTERN.match(value):
            return False
        if codes is None or value in codes or value[:3] in codes:
            return True
        return any(_in_block(value[:3], code) for code in codes if "-" in code)
    return codes is not None and value in codes


def _in_block(category: str, block: str) -> bool:
    low, _, high = block.partition("-")
    return len(low) == 3 and len(high) == 3 and low <= category <= high
