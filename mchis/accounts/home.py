"""Home-page cards for account administrators: accounts in scope, locked accounts."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from mchis.core.cards import Card

from .permissions import can
from .selectors import account_counts


def admin_cards(user: Any) -> list[Card]:
    if not can(user, "account.manage"):
        return []
    counts = account_counts(user)
    url = reverse("accounts:user_list")
    return [
        Card(title=_("Tài khoản đang hoạt động trong phạm vi"), value=counts["total"], url=url),
        Card(title=_("Tài khoản bị khóa"), value=counts["locked"], url=f"{url}?status=locked"),
    ]
