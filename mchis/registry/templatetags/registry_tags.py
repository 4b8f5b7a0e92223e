from typing import Any

from django import template

register = template.Library()


@register.filter
def get(mapping: Any, key: Any) -> Any:
    """Dictionary lookup by a variable key in templates."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
