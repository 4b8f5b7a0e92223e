"""Catalog codes the registers validate against (danh mục dùng chung, R-ORG-03).

`catalog_codes` is the one place that reads mchis.catalogs: swap it for
`mchis.catalogs.selectors.catalog_codes` once that selector exists. Until a catalog is loaded into the
database, a shipped fallback list (fixtures/catalogs_fallback.json) keeps validation working; ICD-10 falls
back to a structural check (letter + 2 digits, optional .subcode).
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import lru_cache
from pathlib import Path

ICD10_PATTERN = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,2})?$")
_FALLBACK = Path(__file__).parent / "fixtures" / "catalogs_fallback.json"


@lru_cache(maxsize=1)
def fallback() -> dict[str, dict]:
    data: dict[str, dict] = json.loads(_FALLBACK.read_text(encoding="utf-8"))
    return data


def catalog_items(catalog_code: str, *, on: date | None = None) -> list[tuple[str, str]]:
    """(code, name) pairs valid on a date; the DB catalog when loaded, else the shipped fallback."""
    try:
        from mchis.catalogs.selectors import catalog_codes as _selector  # type: ignore[import-not-found]
    except ImportError:
        _selector = None
    if _selector is not None:  # pragma: no cover - lands with the catalogs app
        try:
            codes = _selector(catalog_code, on=on or date.today())  # noqa: DTZ011
            if codes:
                if isinstance(codes, dict):
                    return sorted((str(k), str(v)) for k, v in codes.items())
                return sorted((str(c), str(c)) for c in codes)
        except Exception:  # noqa: BLE001, S110 - the selector's signature may still change; fall back
            pass
    from mchis.catalogs.models import CatalogItem

    qs = CatalogItem.objects.of(catalog_code)
    qs = qs.on(on) if on else qs.current()
    rows = list(qs.order_by("sort_order", "code").values_list("code", "name_vi"))
    if rows:
        return rows
    items = fallback().get(catalog_code, {}).get("items", [])
    return [(item["code"], item["name_vi"]) for item in items]


def catalog_codes(catalog_code: str, *, on: date | None = None) -> frozenset[str] | None:
    """The set of valid codes, or None when the catalog is open (ICD-10 without a loaded list)."""
    items = catalog_items(catalog_code, on=on)
    if not items and catalog_code == "icd10":
        return None
    return frozenset(code for code, _ in items)


def code_ok(catalog_code: str, value: str, codes: frozenset[str] | None) -> bool:
    if catalog_code == "icd10":
        if not ICD10_PATTERN.match(value):
            return False
        return codes is None or value in codes or value[:3] in codes
    return codes is not None and value in codes
