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


@register.filter(name="month")
def month_filter(value: Any) -> str:
    return month_text(value)
