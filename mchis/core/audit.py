"""Writing and verifying the audit log. Services call `log_event` inside their own transaction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .context import current_meta
from .models import AuditEvent

GENESIS = "0" * 64
_LOCK_KEY = 7_302_019  # advisory lock id that serialises the chain on PostgreSQL


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _payload(event: AuditEvent) -> str:
    body = {
        "at": event.at.isoformat(),
        "actor": event.actor_id,
        "actor_username": event.actor_username,
        "actor_unit_code": event.actor_unit_code,
        "actor_unit_path": event.actor_unit_path,
        "client": event.client_name,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "scope_path": event.scope_path,
        "changes": event.changes,
        "reason": event.reason,
        "evidence": event.evidence_ref,
        "ip": event.ip,
        "ua": event.user_agent,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + _payload(event)).encode("utf-8")).hexdigest()


def log_event(
    *,
    actor: Any,
    action: str,
    object_type: str = "",
    object_id: str | int = "",
    scope_path: str = "",
    changes: dict[str, Any] | None = None,
    reason: str = "",
    evidence_ref: str = "",
) -> AuditEvent:
    """Append one entry to the chain. Must run inside the caller's transaction (same commit as the change)."""
    if not connection.in_atomic_block:
        raise RuntimeError("log_event must be called inside the service's transaction.atomic block")
    meta = current_meta()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    last = AuditEvent.objects.order_by("-id").values_list("entry_hash", flat=True).first()
    unit = getattr(actor, "unit", None) if actor is not None else None
    is_person = actor is not None and getattr(actor, "is_authenticated", False) and hasattr(actor, "username")
    event = AuditEvent(
        at=timezone.now(),
        actor=actor if is_person and getattr(actor, "pk", None) else None,
        actor_username=getattr(actor, "username", "") if is_person else "",
        actor_unit_code=getattr(unit, "code", "") or "",
        actor_unit_path=getattr(unit, "path", "") or "",
        client_name=meta.client_name or getattr(actor, "client_name", "") or "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        scope_path=scope_path,
        changes=_jsonable(changes or {}),
        reason=reason,
        evidence_ref=evidence_ref,
        ip=meta.ip[:64],
        user_agent=meta.user_agent[:255],
        prev_hash=last or GENESIS,
    )
    event.entry_hash = compute_hash(event.prev_hash, event)
    event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_id: int | None
    detail: str = ""


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Walk the chain in id order; report the first entry whose hash or link does not match."""
    prev = GENESIS
    checked = 0
    last_id = 0
    with transaction.atomic():
        while True:
            batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
            if not batch:
                return ChainReport(checked=checked, broken_id=None)
            for event in batch:
                if event.prev_hash != prev:
                    return ChainReport(checked, event.id, "liên kết tới bản ghi trước không khớp (prev_hash)")
                if compute_hash(prev, event) != event.entry_hash:
                    return ChainReport(checked, event.id, "nội dung bản ghi đã bị thay đổi (entry_hash)")
                prev = event.entry_hash
                checked += 1
                last_id = event.id
