"""Reads of notifications: a person sees only their own."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from .models import Notification, NotificationPreference


def notifications_for(user: Any) -> QuerySet[Notification]:
    pk = getattr(user, "pk", None)
    return Notification.objects.filter(recipient_id=pk) if pk is not None else Notification.objects.none()


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return notifications_for(user).filter(read_at__isnull=True).count()


def email_wanted(user: Any) -> bool:
    pk = getattr(user, "pk", None)
    return pk is not None and NotificationPreference.objects.filter(user_id=pk, email=True).exists()


def recent_of_kind(person: Any, kind: str, *, limit: int = 10) -> list[Notification]:
    """The person's own latest notifications of one kind (e.g. the exchange alerts sent to them)."""
    return list(
        Notification.objects.filter(recipient=person, kind=kind).order_by("-created_at", "-pk")[:limit]
    )


def people_above(path: str, roles: tuple[str, ...]) -> list[Any]:
    """Active people with these roles in the unit at `path` (a "/id/id/…/" unit path) or any unit above it: who
    answers for what happens there (an empty path: those of every unit)."""
    qs = get_user_model().objects.filter(is_active=True, role__in=roles)
    if path:
        parts = [p for p in path.strip("/").split("/") if p]
        ancestors = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
        qs = qs.filter(unit__path__in=ancestors)
    return list(qs.order_by("pk"))


def people_of(unit: Any, roles: tuple[str, ...] = ()) -> list[Any]:
    """Active people of one unit (optionally with these roles): the recipients of a notice to the unit."""

    if unit is None:
        return []
    qs = get_user_model().objects.filter(unit_id=getattr(unit, "pk", unit), is_active=True)
    if roles:
        qs = qs.filter(role__in=roles)
    return list(qs)
