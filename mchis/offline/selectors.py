"""Reads of the offline entry: items' fates, station syncs (R-INT-03), conflicts to resolve - always scoped."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from mchis.accounts.permissions import can
from mchis.accounts.principals import person_of
from mchis.core.principal import Principal
from mchis.core.scoping import visible_to
from mchis.places.selectors import villages_of
from mchis.registry import selectors as registry_selectors
from mchis.registry.models import ChangeRequest

from .models import OfflineItem, StationSync


def items_of(principal: Principal, client_ids: list[uuid.UUID]) -> list[OfflineItem]:
    """The person's own items among these ids (another person's id is simply unknown)."""
    person = person_of(principal)
    if person is None or not client_ids:
        return []
    return list(OfflineItem.objects.filter(user=person, client_id__in=client_ids[:500]))


def request_states(principal: Principal, refs: list[str]) -> dict[str, ChangeRequest]:
    """The change requests behind accepted items, as the proposer may see them now (approved, returned…)."""
    ids = []
    for ref in refs:
        try:
            ids.append(uuid.UUID(ref))
        except ValueError:
            continue
    requests = registry_selectors.requests_visible(principal).filter(public_id__in=ids)
    return {str(r.public_id): r for r in requests}


def station_syncs(principal: Principal) -> QuerySet[StationSync]:
    """Last successful sync of every station device in the principal's subtree (R-INT-03)."""
    return visible_to(StationSync.objects.select_related("unit", "user"), principal).order_by(
        "unit__path", "user__username"
    )


def conflicts(principal: Principal) -> QuerySet[ChangeRequest]:
    return registry_selectors.conflicts_open(principal)


def device_key(principal: Principal) -> str:
    """The key that encrypts the person's device copy (AES-GCM, 256 bits), base64. Derived, never stored: the
    same person gets the same key at every login (their queued entries stay readable after a session ends),
    another person never does, and rotating SECRET_KEY (or OFFLINE_KEY_SECRET) retires every device copy."""
    person = person_of(principal)
    if person is None:
        raise ValueError("A device key belongs to a person.")
    secret = getattr(settings, "OFFLINE_KEY_SECRET", "") or settings.SECRET_KEY
    message = f"mchis-offline-device-key|{person.pk}|{person.date_joined.isoformat()}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def reference_data(principal: Principal) -> dict[str, Any]:
    """What a station's device keeps to work offline: its own unit's villages and children (search, duplicate
    hints, change forms). Only the person's own unit, never the subtree."""
    unit = getattr(principal, "unit", None)
    villages = (
        [{"id": v.pk, "name": str(v)} for v in villages_of(unit.admin_unit)]
        if unit is not None and unit.admin_unit_id
        else []
    )
    return {
        "unit": {"code": unit.code, "name": unit.name} if unit is not None else None,
        "villages": villages,
        "children": registry_selectors.own_unit_children(principal) if can(principal, "child.view") else [],
    }
