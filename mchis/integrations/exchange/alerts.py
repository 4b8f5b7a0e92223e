"""Alerts when an exchange fails (R-INT-03, issue 17): a dead letter, a permanent refusal, or a partner that keeps
failing is told to the people who answer for the exchanges of the units concerned - the unit administrators of
those units and above, and the system administrators - as an in-app notification (and e-mail when they chose
it), once per partner, kind and day. The sync monitoring page lists the recent alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.urls import reverse
from django.utils import timezone

from mchis.notifications.models import NotificationKind
from mchis.notifications.selectors import people_above
from mchis.notifications.services import notify
from mchis.outbox.models import OutboxEntry

RESPONSIBLE_ROLES = ("unit_admin", "system_admin")
FAILURES_BEFORE_ALERT = 5
"""Consecutive failed requests to one partner before the people responsible are told (a transient error
heals by itself; a partner down for a while does not)."""


def _scopes(entry_ids: Sequence[int]) -> set[str]:
    return set(OutboxEntry.objects.filter(pk__in=list(entry_ids)).values_list("scope_path", flat=True))


def exchange_alert(
    *,
    partner: str,
    entry_ids: Sequence[int],
    dead: int,
    consecutive_failures: int,
    error: str,
    now: datetime | None = None,
) -> int:
    """Notify the people responsible when this failure is worth an alert; returns how many were notified."""
    from ..monitoring import PARTNERS

    label = PARTNERS.get(partner, partner)
    if dead:
        what, title = "dead", f"Liên thông {label}: {dead} mục gửi lỗi (thư chết), cần xem và gửi lại"
    elif consecutive_failures == FAILURES_BEFORE_ALERT:
        what, title = "failing", f"Liên thông {label}: {consecutive_failures} lần gửi lỗi liên tiếp"
    else:
        return 0
    day = timezone.localtime(now or timezone.now()).date()
    recipients: dict[int, object] = {}
    for scope in _scopes(entry_ids) or {""}:
        for person in people_above(scope, RESPONSIBLE_ROLES):
            recipients[person.pk] = person
    sent = notify(
        recipients=recipients.values(),
        kind=NotificationKind.EXCHANGE,
        title=title,
        reason=error[:500],
        url=reverse("integrations:monitor"),
        object_type="Partner",
        object_id=partner,
        key=f"exchange:{partner}:{what}:{day.isoformat()}",
    )
    return len(sent)
