from typing import Any

from django import template

from ..selectors import unread_count

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context: dict[str, Any]) -> dict[str, Any]:
    """The bell in the header: a link to the list with the number of unread notifications."""
    user = context.get("user")
    return {"count": unread_count(user) if user is not None else 0}
