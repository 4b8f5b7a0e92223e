"""Words, not codes: how a stored child value reads on a page, in an export or a PDF (issue 13 item 2).

Sex "F" → "Nữ", ethnicity "08" → its name, village 6 → "Thôn Nà Pài", circumstance groups and support with
their dates as dd/mm/yyyy, ISO dates as dd/mm/yyyy. Catalog names are the names in force today, in the UI
language (English name when the English UI is chosen and the catalog has one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import get_language, gettext, gettext_lazy

from mchis.catalogs.models import CatalogItem
from mchis.core.dates import dmy
from mchis.places.selectors import village_labels

from .models import Sex
from .validation import FIELDS

# Outcomes of the identity check against the population database (the gateway's codes, R-INT-04).
VERIFICATION_RESULTS = {
    "match": gettext_lazy("Khớp với CSDL dân cư"),
    "wrong_dob": gettext_lazy("Sai ngày sinh"),
    "wrong_name": gettext_lazy("Sai họ tên"),
    "both_wrong": gettext_lazy("Sai cả họ tên và ngày sinh"),
    "id_not_found": gettext_lazy("Số định danh không có trong CSDL dân cư"),
    "other": gettext_lazy("Sai khác khác"),
}
CATALOG_OF_FIELD = {"ethnicity_code": "ethnic_group", "guardian_relationship": "child_relationship"}


class Labeller:
    """Looks catalog names and village names up once per page (not once per value)."""

    def __init__(self) -> None:
        self._catalogs: dict[str, dict[str, str]] = {}
        self._villages: dict[int, str] = {}

    def catalog(self, catalog_code: str, code: Any) -> str:
        if code in (None, ""):
            return ""
        if catalog_code not in self._catalogs:
            english = (get_language() or "vi").startswith("en")
            names: dict[str, str] = {}
            for item in CatalogItem.objects.of(catalog_code).order_by("code", "version"):
                names[item.code] = (item.name_en if english and item.name_en else item.name_vi) or item.code
            self._catalogs[catalog_code] = names
        return self._catalogs[catalog_code].get(str(code), str(code))

    def preload_villages(self, ids: Iterable[Any]) -> None:

        missing = [i for i in ids if i not in (None, "") and int(i) not in self._villages]
        self._villages.update(village_labels(missing))

    def village(self, value: Any) -> str:
        if value in (None, ""):
            return ""
        if hasattr(value, "pk"):
            return str(value)
        key = int(value)
        if key not in self._villages:
            self.preload_villages([key])
        return self._villages.get(key, str(value))

    def value(self, name: str, value: Any) -> str:
        """One field of a child as a person reads it."""
        if value is None or value == "" or value == []:
            return ""
        kind = FIELDS.get(name, ("text", ""))[0]
        if kind == "date":
            return dmy(value)
        if kind == "sex":
            return str(Sex(value).label) if value in Sex.values else str(value)
        if name in CATALOG_OF_FIELD:
            return self.catalog(CATALOG_OF_FIELD[name], value)
        if name == "village":
            return self.village(value)
        if name == "circumstances":
            return "; ".join(self.circumstance(m) for m in value)
        if name == "supports":
            return "; ".join(self.support(s) for s in value)
        return str(value)

    def circumstance(self, item: Mapping[str, Any]) -> str:
        group = self.catalog("child_circumstance", item.get("group_code"))
        start, end = dmy(item.get("start_date")), dmy(item.get("end_date"))
        if start and end:
            return gettext("%(group)s (từ %(start)s đến %(end)s)") % {
                "group": group,
                "start": start,
                "end": end,
            }
        if start:
            return gettext("%(group)s (từ %(start)s)") % {"group": group, "start": start}
        return group

    def support(self, item: Mapping[str, Any]) -> str:
        kind = self.catalog("support_type", item.get("support_type_code"))
        text = f"{kind} {dmy(item.get('date'))}".strip()
        return f"{text} ({item['provider']})" if item.get("provider") else text

    def record(self, data: Mapping[str, Any], names: Iterable[str] | None = None) -> list[dict[str, str]]:
        """[{field, label, text}] for the fields of a child snapshot, in the form's order."""
        self.preload_villages([data.get("village")])
        return [
            {"field": name, "label": str(label), "text": self.value(name, data.get(name))}
            for name, label in field_labels().items()
            if names is None or name in names
        ]


def verification_text(result: str) -> str:
    return str(VERIFICATION_RESULTS.get(result, result))


def field_labels() -> dict[str, str]:
    """Field name → its label in the UI language."""
    return {name: gettext(label) for name, (_kind, label) in FIELDS.items()}
