"""The role's menu (mchis.web.nav) and the current page marked for screen readers."""

from __future__ import annotations

from typing import Any

from django import template

from mchis.web.nav import menu_for

register = template.Library()


@register.inclusion_tag("web/_menu.html", takes_context=True)
def main_menu(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    path = request.path if request is not None else ""
    items = menu_for(context.get("user"))
    # The deepest matching entry is the current one ("/children/requests/" is not "/children/").
    best = max((i for i in items if path.startswith(i["url"])), key=lambda i: len(i["url"]), default=None)
    return {"items": items, "current": best["url"] if best else None}
