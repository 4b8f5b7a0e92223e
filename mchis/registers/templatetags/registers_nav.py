"""Navigation entry of the registers, shown to roles holding register.view."""

from __future__ import annotations

from typing import Any

from django import template

from mchis.accounts.permissions import can

register = template.Library()


@register.inclusion_tag("registers/_nav.html", takes_context=True)
def registers_nav_item(context: dict[str, Any]) -> dict[str, Any]:
    user = context.get("user")
    return {"show": user is not None and can(user, "register.view")}
