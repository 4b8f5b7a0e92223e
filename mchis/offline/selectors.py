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
from mchis.core.scoping import access, visible_to
from mchis.places.selectors import villages_of
from mchis.registers.definitions import REGISTERS
from mchis.registers.webform import record_form_fields
from mchis.registry import selectors as registry_selectors
from mchis.registry.models import ChangeRequest

from .conflicts import conflict_rows, with_texts
from .models import OfflineItem, RecordConflict, StationSync


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


def record_conflicts(principal: Principal) -> QuerySet[RecordConflict]:
    """Open conflicts of offline register edits, within the principal's subtree (oldest first)."""
    return visible_to(
        RecordConflict.objects.filter(resolved_at__isnull=True).select_related("unit", "proposer"), principal
    ).order_by("created_at")


def record_conflict_get(principal: Principal, public_id: Any) -> RecordConflict:
    return access(
        RecordConflict.objects.select_related("unit", "proposer", "resolved_by"),
        principal,
        public_id=public_id,
    )


def record_conflict_view(conflict: RecordConflict) -> dict[str, Any]:
    """The conflict as it stands: while open, its rows against the record as it is now (what resolving will
    compare) and that version's row_hash; once resolved, the rows with the choices made."""
    reg = REGISTERS[conflict.register]
    record = reg.model.objects.select_related("facility").filter(pk=conflict.record_id).first()
    if not conflict.is_open or record is None:
        return {"reg": reg, "record": record, "rows": with_texts(reg, conflict.conflict), "seen_hash": ""}
    base = {name: row.get("base", "") for name, row in conflict.conflict.items()}
    rows = conflict_rows(reg, base, conflict.fields, record_form_fields(reg, record))
    return {"reg": reg, "record": record, "rows": with_texts(reg, rows), "seen_hash": record.row_hash}


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
