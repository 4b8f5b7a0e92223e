"""Navigation entries contributed by accounts: account administration (admins) and the person's security page."""

from __future__ import annotations

from typing import Any

from django import template

from mchis.accounts.permissions import can

register = template.Library()


@register.inclusion_tag("accounts/_nav.html", takes_context=True)
def accounts_nav_items(context: dict[str, Any]) -> dict[str, Any]:
    user = context.get("user")
    return {"manage": user is not None and can(user, "account.manage")}
