"""Navigation entries contributed by core: the audit log link, only for roles holding audit_log.view."""

from __future__ import annotations

from typing import Any

from django import template

from mchis.core.authz import allowed

register = template.Library()


@register.inclusion_tag("core/_nav_audit.html", takes_context=True)
def audit_nav_item(context: dict[str, Any]) -> dict[str, Any]:
    user = context.get("user")
    return {"show": user is not None and allowed(user, "audit_log.view")}
