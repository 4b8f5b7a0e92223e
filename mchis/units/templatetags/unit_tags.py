"""`{% unit_options units selected %}`: <optgroup>s by parent unit, for a <select data-search> unit picker."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from mchis.units.choices import grouped_unit_choices

register = template.Library()


@register.simple_tag
def unit_options(units: Any, selected: Any = "", key: str = "code") -> SafeString:
    chosen = "" if selected is None else str(getattr(selected, key, selected))
    parts = []

    def option(value: str, name: str) -> SafeString:
        return format_html(
            '<option value="{}"{}>{}</option>', value, " selected" if value == chosen else "", name
        )

    for title, content in grouped_unit_choices(units, key=lambda u: getattr(u, key)):
        if isinstance(content, list):
            inner = SafeString("".join(option(value, name) for value, name in content))
            parts.append(format_html('<optgroup label="{}">{}</optgroup>', title, inner))
        else:
            parts.append(option(title, content))
    return SafeString("".join(parts))
