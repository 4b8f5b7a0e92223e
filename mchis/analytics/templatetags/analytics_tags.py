"""Numbers as Vietnamese read them (1.234,5), "không xác định" for a value that has none."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def num(value: Any) -> str:
    if value is None or value == "":
        return gettext("không xác định")
    v = float(value)
    if v.is_integer():
        return f"{int(v):,}".replace(",", ".")
    return f"{v:,.2f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".").rstrip("0").rstrip(",")


@register.filter
def get(mapping: Any, key: str) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None
