"""Filters for what people read: dates as dd/mm/yyyy (also ISO strings from JSON snapshots), months as
"tháng 10/2026"."""

from __future__ import annotations

from typing import Any

from django import template

from mchis.core.dates import dmy, month_text

register = template.Library()


@register.filter(name="dmy")
def dmy_filter(value: Any) -> str:
    return dmy(value)


@register.filter(name="readable")
def readable_filter(value: Any) -> str:
    """A stored value (lists and dicts included, as in audit changes) as text: dates dd/mm/yyyy, no Python repr."""
    if value is None or value == "":
        return "∅"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {readable_filter(v)}" for k, v in value.items() if v not in (None, ""))
    if isinstance(value, list | tuple):
        return "; ".join(readable_filter(v) for v in value) or "∅"
    if isinstance(value, bool):
        return "✔" if value else "✘"
    return dmy(value)


@register.filter(name="month")
def month_filter(value: Any) -> str:
    return month_text(value)


@register.filter(name="change_rows")
def change_rows_filter(changes: Any, object_type: str) -> list[tuple[str, Any, Any, bool]]:
    """An audit entry's changes as (field, before, after, is_pair), coded values in words."""
    from mchis.core.audit_labels import change_rows

    return change_rows(object_type or "", changes)
