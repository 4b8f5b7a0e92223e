"""Reads of the outbox for sync monitoring (R-INT-03): every figure counts only the entries inside the
principal's jurisdiction (`visible_to` on the owning unit's path)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from mchis.core.scoping import visible_to

from .models import EntryStatus, OutboxEntry, PartnerState

WAITING = (EntryStatus.PENDING, EntryStatus.IN_FLIGHT)


@dataclass(frozen=True)
class PartnerRow:
    partner: str
    backlog: int
    dead: int
    delivered_24h: int
    failing: int
    oldest_waiting: datetime | None
    last_success: datetime | None
    last_failure_at: datetime | None
    last_failure_kind: str
    last_error: str
    silent: bool
    backlog_alert: bool

    @property
    def lag_hours(self) -> int | None:
        """Hours since the oldest waiting entry was queued (the partner's lag)."""
        if self.oldest_waiting is None:
            return None
        return int((timezone.now() - self.oldest_waiting).total_seconds() // 3600)


def partner_rows(
    principal: Any,
    partners: list[str],
    *,
    silent_after: timedelta,
    backlog_limit: int,
    now: datetime | None = None,
) -> list[PartnerRow]:
    now = now or timezone.now()
    day_ago = now - timedelta(hours=24)
    figures = {
        row["partner"]: row
        for row in visible_to(OutboxEntry.objects.filter(partner__in=partners), principal)
        .values("partner")
        .annotate(
            backlog=Count("id", filter=Q(status__in=WAITING)),
            dead=Count("id", filter=Q(status=EntryStatus.DEAD)),
            delivered_24h=Count("id", filter=Q(status=EntryStatus.DELIVERED, delivered_at__gte=day_ago)),
            failing=Count("id", filter=Q(status__in=WAITING) & ~Q(failure_kind="")),
            oldest_waiting=Min("created_at", filter=Q(status__in=WAITING)),
            last_success=Max("delivered_at"),
        )
    }
    states = {s.partner: s for s in PartnerState.objects.filter(partner__in=partners)}
    rows = []
    for partner in partners:
        f: dict[str, Any] = dict(figures.get(partner) or {})
        state = states.get(partner)
        oldest, last = f.get("oldest_waiting"), f.get("last_success")
        silent = (
            oldest is not None and oldest < now - silent_after and (last is None or last < now - silent_after)
        )
        rows.append(
            PartnerRow(
                partner=partner,
                backlog=f.get("backlog", 0),
                dead=f.get("dead", 0),
                delivered_24h=f.get("delivered_24h", 0),
                failing=f.get("failing", 0),
                oldest_waiting=oldest,
                last_success=last,
                last_failure_at=state.last_failure_at if state else None,
                last_failure_kind=state.last_failure_kind if state else "",
                last_error=state.last_error if state else "",
                silent=silent,
                backlog_alert=f.get("backlog", 0) > backlog_limit,
            )
        )
    return rows


def unit_rows(principal: Any, partners: list[str]) -> list[dict[str, Any]]:
    """Per owning unit (its path) and partner: waiting, dead, last delivery."""
    rows = (
        visible_to(OutboxEntry.objects.filter(partner__in=partners), principal)
        .values("scope_path", "partner")
        .annotate(
            backlog=Count("id", filter=Q(status__in=WAITING)),
            dead=Count("id", filter=Q(status=EntryStatus.DEAD)),
            last_success=Max("delivered_at"),
        )
        .order_by("scope_path", "partner")
    )
    return [dict(row) for row in rows]


def consecutive_failures(partner: str) -> int:
    """Failed requests to `partner` in a row since its last success (system-wide figure, for alerts)."""
    value = (
        PartnerState.objects.filter(partner=partner).values_list("consecutive_failures", flat=True).first()
    )
    return int(value or 0)


def dead_letters(principal: Any, *, limit: int = 50) -> list[OutboxEntry]:
    return list(
        visible_to(OutboxEntry.objects.filter(status=EntryStatus.DEAD), principal).order_by("-id")[:limit]
    )


def recent_receipts(principal: Any, partner: str, *, limit: int = 20) -> list[OutboxEntry]:
    return list(
        visible_to(
            OutboxEntry.objects.filter(partner=partner, status=EntryStatus.DELIVERED, receipt__isnull=False),
            principal,
        ).order_by("-delivered_at", "-id")[:limit]
    )
