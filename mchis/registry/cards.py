"""Home-page cards: the leader's queue, the collector's requests, correction requests (R-CH-05, R-CH-06)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from mchis.accounts.permissions import can
from mchis.core.cards import Card, ReturnedItem, register_card, register_returned

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


@register_returned
def registry_returned(user: Any) -> list[ReturnedItem]:
    """The collector's change requests returned by the leader, with the leader's comment."""
    if not getattr(user, "is_authenticated", False) or not can(user, "child.propose"):
        return []
    items = []
    for req in (
        selectors.my_requests(user)
        .filter(status=RequestStatus.RETURNED)
        .select_related("child", "decided_by")[:20]
    ):
        name = req.child.full_name if req.child is not None else str(req.data.get("full_name") or "")
        items.append(
            ReturnedItem(
                what=f"{req.get_kind_display()}: {name}",
                reason=req.comment,
                url=reverse("registry:request_detail", args=[req.public_id]),
                by=(req.decided_by.get_full_name() or req.decided_by.username) if req.decided_by else "",
                when=req.decided_at,
            )
        )
    return items
