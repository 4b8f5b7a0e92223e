"""Reads of the audit log (nhật ký hệ thống), always bounded by the reader's jurisdiction (R-SEC-01, R-SEC-05)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from .audit_labels import actions_matching
from .models import AuditEvent, AuditEventQuerySet
from .principal import Principal
from .scoping import scope_path_of
from .text import nfc


@dataclass(frozen=True)
class AuditFilters:
    """What the auditor searches by; empty fields do not filter."""

    user: str = ""
    object_type: str = ""
    object_id: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v not in ("", None)}


def audit_events_visible_to(principal: Principal) -> AuditEventQuerySet:
    """Entries about objects in, or by actors of, the principal's unit subtree."""
    return AuditEvent.objects.in_scope(scope_path_of(principal))


def audit_event_search(*, principal: Principal, filters: AuditFilters) -> AuditEventQuerySet:
    qs = audit_events_visible_to(principal)
    if filters.user:
        term = nfc(filters.user)
        qs = qs.filter(Q(actor_username__iexact=term) | Q(client_name__iexact=term))
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type.strip())
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id.strip())
    if filters.action:
        action = filters.action.strip()
        # "child" matches every child.* action as well as an action named exactly "child"; words ("duyệt",
        # "duyet bao cao") match the actions whose label contains them (mchis.core.audit_labels).
        qs = qs.filter(
            Q(action=action) | Q(action__startswith=f"{action}.") | Q(action__in=actions_matching(action))
        )
    if filters.date_from:
        qs = qs.filter(at__date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(at__date__lte=filters.date_to)
    return qs.order_by("-id")
