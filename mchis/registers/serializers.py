"""Plain-dict views of register records (API lists, error files)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

_SKIP = {"facility", "person", "row_hash", "full_name_folded", "delivery"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def record_to_dict(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": obj.pk, "facility": obj.facility.code}
    for f in obj._meta.concrete_fields:
        if f.name in _SKIP or f.name == "id":
            continue
        out[f.name] = _plain(getattr(obj, f.attname))
    out["person_id"] = obj.person_id
    if hasattr(obj, "newborns"):
        out["newborns"] = [
            {
                f.name: _plain(getattr(nb, f.attname))
                for f in nb._meta.concrete_fields
                if f.name not in _SKIP | {"id", "month", "event_date", "place"}
            }
            for nb in obj.newborns.all()
        ]
    return out
