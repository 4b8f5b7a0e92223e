"""In-app notifications for data-quality work: corrective tasks after an audit (R-DQ-07, fix within 24 hours)
go to the people of the unit that must act. Called inside the service's transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from mchis.notifications.models import NotificationKind
from mchis.notifications.selectors import people_of
from mchis.notifications.services import notify


def corrections_due(tasks: Iterable[Any], campaign: Any) -> None:
    by_unit: dict[Any, list[Any]] = defaultdict(list)
    for t in tasks:
        by_unit[t.unit].append(t)
    for unit, items in by_unit.items():
        due = min(t.due_at for t in items)
        notify(
            recipients=people_of(unit, ("collector", "leader")), kind=NotificationKind.CORRECTION_DUE,
            title=f"Phúc tra {campaign.code}: {len(items)} việc cần khắc phục, hạn {timezone.localtime(due):%H:%M %d/%m/%Y}",
            reason="; ".join(sorted({t.description for t in items}))[:1000], url="/quality/tasks/",
            object_type="audit_campaign", object_id=campaign.pk,
        )  # fmt: skip
