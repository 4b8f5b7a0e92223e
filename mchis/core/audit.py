"""The audit log (nhật ký hệ thống, R-SEC-05/06): writing it, anchoring it, verifying it.

For other apps
--------------
* Every write: the service calls ``log_event(actor=..., action="<entity>.<verb>", object_type=...,
  object_id=..., scope_path=<owning unit path>, changes={"field": [before, after]}, reason=...,
  evidence_ref=...)`` inside its own ``transaction.atomic`` block (same commit as the change).
* Every read of one person's record (hồ sơ cá nhân) shown in full: ``log_read(actor=..., object_type="child",
  object_id=..., scope_path=..., purpose="xem hồ sơ")``. Lists and searches need no row per result.
* Every export of personal data (xuất dữ liệu cá nhân): ``log_export(actor=..., what="children.xlsx",
  filters={...}, row_count=n, scope_path=<the exporting scope>)`` - it records what was exported, under
  which filters, and how many rows.
* Who/where (IP, user agent, machine client) comes from the request context (`mchis.core.context`).

Tamper evidence
---------------
Each entry stores ``entry_hash = sha256(prev_hash + canonical JSON of the entry)`` and ``prev_hash`` is unique,
so the chain cannot fork. On PostgreSQL a trigger refuses UPDATE/DELETE/TRUNCATE (migrations 0002/0003).
Every ``AUDIT_ANCHOR_EVERY`` entries (default 100) and at least once a day, an ``AuditAnchor`` records the
id and hash of the newest entry; anchors are chained and append-only too.

``manage.py audit_verify`` (``verify_chain``) detects:
  - any edited field of any entry (hash mismatch), a deleted or inserted entry in the middle (link mismatch),
    a deleted first entry (first link is not the genesis hash);
  - deletion of the newest entries back past an anchor (the anchored entry is gone or differs);
  - an edited or deleted-in-the-middle anchor;
  - with ``--expect-anchor HASH`` (a hash printed earlier and kept outside the database): a wholesale rewrite
    of both tables, or deletion of the newest anchors.
It cannot detect, from the database alone: deletion of the few newest entries written after the last
anchor (fewer than AUDIT_ANCHOR_EVERY / less than a day), or an actor with full database rights who
recomputes the whole chain and the anchors - which is why the last anchor hash should be recorded
elsewhere (it is printed by ``audit_verify`` and ``audit_anchor``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .context import current_meta
from .models import AuditAnchor, AuditEvent
from .principal import Principal, is_machine_client, person_or_none

GENESIS = "0" * 64
_LOCK_KEY = 7_302_019  # advisory lock id that serialises the chain on PostgreSQL


def anchor_every() -> int:
    return int(getattr(settings, "AUDIT_ANCHOR_EVERY", 100))


def anchor_max_age() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "AUDIT_ANCHOR_MAX_AGE_SECONDS", 24 * 3600)))


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


def compute_anchor_hash(prev_hash: str, anchor: AuditAnchor) -> str:
    body = f"{prev_hash}|{anchor.at.isoformat()}|{anchor.event_id}|{anchor.event_hash}|{anchor.event_count}"
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def log_event(
    *,
    actor: Principal | None,
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
    _lock_chain()  # held until the caller commits: writers append one after the other
    last = AuditEvent.objects.order_by("-id").values_list("entry_hash", flat=True).first()
    # An anonymous visitor (a refused sign-in) is recorded without a unit.
    unit = actor.unit if actor is not None and actor.is_authenticated else None
    person = person_or_none(actor)
    event = AuditEvent(
        at=timezone.now(),
        actor=person,
        actor_username=getattr(person, "username", "") if person is not None else "",
        actor_unit_code=unit.code if unit is not None else "",
        actor_unit_path=unit.path if unit is not None else "",
        client_name=meta.client_name or (actor.client_name if is_machine_client(actor) else ""),
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
    _maybe_anchor(event)
    return event


def log_read(
    *, actor: Principal, object_type: str, object_id: str | int, scope_path: str, purpose: str = ""
) -> AuditEvent:
    """Record that `actor` viewed one person's record in full (R-SEC-06). Call it from the selector/view
    that shows the record; it opens its own atomic block, so it also works outside a service."""
    with transaction.atomic():
        return log_event(
            actor=actor,
            action=f"{object_type}.read",
            object_type=object_type,
            object_id=object_id,
            scope_path=scope_path,
            reason=purpose,
        )


def log_export(
    *,
    actor: Principal,
    what: str,
    filters: dict[str, Any] | None = None,
    row_count: int,
    scope_path: str,
    purpose: str = "",
) -> AuditEvent:
    """Record an export of personal data (xuất dữ liệu): what, under which filters, how many rows (R-SEC-06).

    `what` names the export (e.g. "children.xlsx", "audit_log.xlsx"); it becomes the object_type.
    """
    with transaction.atomic():
        return log_event(
            actor=actor,
            action="export",
            object_type=what,
            scope_path=scope_path,
            changes={"filters": _jsonable(filters or {}), "row_count": row_count},
            reason=purpose,
        )


def _maybe_anchor(event: AuditEvent) -> None:
    last = AuditAnchor.objects.order_by("-id").first()
    if (
        last is not None
        and event.id - last.event_id < anchor_every()
        and event.at - last.at < anchor_max_age()
    ):
        return
    _write_anchor(event, last)


def _write_anchor(event: AuditEvent, last: AuditAnchor | None) -> AuditAnchor:
    anchor = AuditAnchor(
        at=timezone.now(),
        event_id=event.id,
        event_hash=event.entry_hash,
        # Counted incrementally from the previous anchor: no full-table count on a large log.
        event_count=(last.event_count if last else 0)
        + AuditEvent.objects.filter(id__gt=last.event_id if last else 0, id__lte=event.id).count(),
        prev_hash=last.anchor_hash if last else GENESIS,
    )
    anchor.anchor_hash = compute_anchor_hash(anchor.prev_hash, anchor)
    anchor.save(force_insert=True)
    return anchor


@transaction.atomic
def record_anchor() -> AuditAnchor | None:
    """Anchor the newest entry now (daily cron: `manage.py audit_anchor`). None if the log is empty."""
    _lock_chain()
    event = AuditEvent.objects.order_by("-id").first()
    if event is None:
        return None
    last = AuditAnchor.objects.order_by("-id").first()
    if last is not None and last.event_id == event.id:
        return last
    return _write_anchor(event, last)


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_id: int | None
    detail: str = ""
    broken_at: datetime | None = None
    broken_action: str = ""
    anchors_checked: int = 0
    last_id: int | None = None
    last_anchor_hash: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None and not self.detail


def verify_chain(batch_size: int = 5000, expect_anchor: str = "") -> ChainReport:
    """Walk the chain in id order; report the first entry whose hash or link does not match,
    then check every anchor still matches its entry (truncation), and `expect_anchor` if given."""
    fresh = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and fresh:
            with connection.cursor() as cursor:  # one consistent snapshot of both tables
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        report = _verify_events(batch_size)
        if not report.ok:
            return report
        return _verify_anchors(report, expect_anchor, batch_size)


def _broken(checked: int, event: AuditEvent, detail: str) -> ChainReport:
    return ChainReport(checked, event.id, detail, broken_at=event.at, broken_action=event.action)


def _verify_events(batch_size: int) -> ChainReport:
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return ChainReport(checked=checked, broken_id=None, last_id=last_id or None)
        for event in batch:
            if event.prev_hash != prev:
                return _broken(checked, event, "liên kết tới bản ghi trước không khớp (prev_hash)")
            if compute_hash(prev, event) != event.entry_hash:
                return _broken(checked, event, "nội dung bản ghi đã bị thay đổi (entry_hash)")
            prev = event.entry_hash
            checked += 1
            last_id = event.id


def _verify_anchors(report: ChainReport, expect_anchor: str, batch_size: int) -> ChainReport:
    prev = GENESIS
    count = 0
    seen_expected = not expect_anchor
    last_pk = 0
    while True:
        anchors = list(AuditAnchor.objects.filter(id__gt=last_pk).order_by("id")[:batch_size])
        if not anchors:
            break
        hashes = dict(
            AuditEvent.objects.filter(id__in=[a.event_id for a in anchors]).values_list("id", "entry_hash")
        )
        for anchor in anchors:
            where = f"mốc neo #{anchor.pk} (bản ghi {anchor.event_id}, {anchor.at:%Y-%m-%d %H:%M:%S})"
            if anchor.prev_hash != prev or compute_anchor_hash(prev, anchor) != anchor.anchor_hash:
                return _anchor_broken(report, count, f"{where} đã bị sửa hoặc mốc trước nó đã bị xóa")
            if hashes.get(anchor.event_id) != anchor.event_hash:
                return _anchor_broken(
                    report,
                    count,
                    f"{where}: bản ghi được neo không còn hoặc đã khác - nhật ký đã bị xóa/cắt bớt",
                    broken_id=anchor.event_id,
                )
            seen_expected = seen_expected or anchor.anchor_hash == expect_anchor
            prev = anchor.anchor_hash
            count += 1
            last_pk = anchor.pk
    if not seen_expected:
        return _anchor_broken(report, count, f"không tìm thấy mốc neo đã ghi nhận {expect_anchor[:16]}…")
    return ChainReport(
        report.checked,
        None,
        anchors_checked=count,
        last_id=report.last_id,
        last_anchor_hash=prev if count else "",
    )


def _anchor_broken(report: ChainReport, count: int, detail: str, broken_id: int | None = None) -> ChainReport:
    return ChainReport(report.checked, broken_id, detail, anchors_checked=count, last_id=report.last_id)
