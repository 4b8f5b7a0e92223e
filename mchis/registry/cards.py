"""Home-page cards: the leader's queue, the collector's requests, correction requests (R-CH-05, R-CH-06)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from mchis.accounts.permissions import can
from mchis.core.cards import Card, register_card

from . import selectors
from .models import RequestStatus


@register_card
def registry_cards(user: Any) -> list[Card]:
    if not getattr(user, "is_authenticated", False) or getattr(user, "role", None) is None:
        return []
    cards: list[Card] = []
    queue = reverse("registry:request_list")
    if can(user, "child.approve"):
        counts = selectors.queue_counts(user)
        cards.append(Card("Đề xuất chờ duyệt", sum(counts.values()), queue))
    if can(user, "child.propose"):
        mine = selectors.my_requests(user)
        cards.append(
            Card("Đề xuất của tôi đang chờ duyệt", mine.filter(status=RequestStatus.PENDING).count(), queue)
        )
        cards.append(
            Card("Đề xuất bị trả lại cần sửa", mine.filter(status=RequestStatus.RETURNED).count(), queue)
        )
    if can(user, "child.view"):
        corrections = selectors.corrections_involving(user)
        overdue = corrections.overdue().count()
        open_count = corrections.filter(status="open").count()
        url = reverse("registry:correction_list")
        if open_count:
            cards.append(Card("Yêu cầu chỉnh sửa đang mở", open_count, url))
        if overdue:
            cards.append(Card("Yêu cầu chỉnh sửa quá hạn", overdue, url + "?overdue=1"))
    return cards
