"""The commune home's month at a glance (issue 15 item 5): this month's counts and a key indicator of the
user's own station, from the analytics store (provisional: the month is not approved yet)."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from mchis.accounts.permissions import can
from mchis.core.cards import Card, register_card

from . import selectors

GLANCE = (
    ("AN.ANC_NEW:total", "Phụ nữ mới có thai khám lần đầu"),
    ("AN.DLV:total", "Phụ nữ đẻ"),
    ("AN.LIVE:total", "Trẻ đẻ ra sống"),
    ("ANC4", "Tỷ lệ đẻ được khám thai ≥ 4 lần (%)"),
)


@register_card
def analytics_cards(user: Any) -> list[Card]:
    unit = getattr(user, "unit", None)
    if not getattr(user, "is_authenticated", False) or unit is None or unit.kind != "tyt":
        return []
    if not can(user, "analytics.view"):
        return []
    this = timezone.localdate().replace(day=1)
    items = selectors.parse_dx(";".join(code for code, _ in GLANCE))
    result = selectors.compute(items, [selectors.month_item(this)], [unit], approved=False)
    values = {r.dx: r.value for r in result.rows}
    try:
        url = reverse("analytics:dashboard")
    except NoReverseMatch:  # pragma: no cover - urls not mounted
        url = ""
    month = f"{this:%m/%Y}"
    return [
        Card(
            f"Tháng {month}: {label}",
            "không xác định" if values.get(code) is None else _num(values[code]),
            url,
        )
        for code, label in GLANCE
    ]


def _num(value: float | None) -> str:
    if value is None:
        return "không xác định"
    return (
        f"{value:,.0f}".replace(",", ".") if float(value).is_integer() else f"{value:.1f}".replace(".", ",")
    )
