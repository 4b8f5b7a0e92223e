"""Navigation entry contributed by places: villages (thôn, tổ dân phố) for those who manage them."""

from __future__ import annotations

from typing import Any

from django import template

from mchis.accounts.permissions import can

register = template.Library()


@register.inclusion_tag("places/_nav.html", takes_context=True)
def places_nav_items(context: dict[str, Any]) -> dict[str, Any]:
    user = context.get("user")
    return {"manage": user is not None and can(user, "village.manage")}
