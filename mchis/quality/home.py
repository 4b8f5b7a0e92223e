"""Home-page cards of the quality app: overdue corrective tasks, duplicates to review."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from mchis.accounts.permissions import can
from mchis.core.cards import Card


def quality_cards(user: Any) -> list[Card]:
    if not can(user, "quality.view"):
        return []
    from . import selectors

    cards = [
        Card(_("Nhiệm vụ khắc phục quá hạn"), selectors.overdue_tasks(user).count(), reverse("quality:tasks"))
    ]
    if can(user, "quality.review"):
        cards.append(Card(_("Hồ sơ nghi trùng chờ xem xét"), selectors.duplicate_queue(user).count(), reverse("quality:duplicates")))  # fmt: skip
    return cards
