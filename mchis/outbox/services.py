"""Every write to the outbox: enqueue (inside the caller's transaction), the delivery lease, claim, the
outcome of a delivery (delivered / retry later / dead letter) and the admin's replay.

The state machine of an entry: pending → in_flight (claimed; `attempts` + 1 before the request leaves)
→ delivered | pending (retry after a back-off) | dead (permanent refusal, or the last attempt failed).
Dead is sticky: only `outbox_replay` brings an entry back, and while a person has a dead entry their later
entries wait behind it (per-person order is kept at the price of holding them).
An entry left in_flight by a killed worker is claimed again by the next holder of the partner's lease; the
receiver de-duplicates by the entry id, so a re-sent entry is never applied twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from mchis.core.audit import log_event
from mchis.core.bulk import BulkTable
from mchis.core.scoping import visible_to

from . import routing
from .models import EntryStatus, OutboxEntry, PartnerState


@dataclass(frozen=True)
class OutboxItem:
    """What a domain service hands to `outbox_enqueue`: the changed object and whom it concerns."""

    object_type: str
    object_id: str | int
    person_key: str = ""
    scope_path: str = ""


def outbox_enqueue(*, topic: str, items: Iterable[OutboxItem], only: str | None = None) -> int:
    """Queue `items` for every partner subscribed to `topic` (or just `only`, for a backfill), in the caller's
    transaction (so the change and its outbound message commit together). Returns the entries written."""
    partners = [p for p in routing.partners_for(topic) if only is None or p == only]
    if not partners:
        return 0
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_enqueue must run inside the writing service's transaction")
    now = timezone.now()
    # One COPY on PostgreSQL (a register batch queues thousands of entries: building OutboxEntry objects and a
    # many-parameter INSERT was a third of the bulk API's time, issue 20); other columns take their defaults
    # (created_at: one `now` for the whole call, as before).
    table = BulkTable(OutboxEntry, _ENQUEUE_COLUMNS, now)
    return table.write(
        (partner, topic, item.object_type, str(item.object_id), item.person_key[:80], item.scope_path)
        for item in items
        for partner in partners
    )


_ENQUEUE_COLUMNS = ("partner", "topic", "object_type", "object_id", "person_key", "scope_path")


# --- the delivery lease: one deliverer per partner at a time ----------------------------------------------------


def _state_for_update(partner: str) -> PartnerState:
    try:
        return PartnerState.objects.select_for_update().get(partner=partner)
    except PartnerState.DoesNotExist:
        try:
            with transaction.atomic():
                PartnerState.objects.create(partner=partner)
        except IntegrityError:  # created by a concurrent deliverer
            pass
        return PartnerState.objects.select_for_update().get(partner=partner)


@transaction.atomic
def lease_acquire(*, partner: str, owner: str, seconds: float, now: datetime | None = None) -> bool:
    """Take (or renew) the partner's delivery lease. A lease whose holder died expires after `seconds`."""
    now = now or timezone.now()
    state = _state_for_update(partner)
    held_by_other = state.lease_owner and state.lease_owner != owner
    if held_by_other and state.lease_until is not None and state.lease_until > now:
        return False
    state.lease_owner = owner
    state.lease_until = now + timedelta(seconds=seconds)
    state.save(update_fields=["lease_owner", "lease_until"])
    return True


@transaction.atomic
def lease_release(*, partner: str, owner: str) -> None:
    PartnerState.objects.filter(partner=partner, lease_owner=owner).update(lease_owner="", lease_until=None)


# --- claim and outcome ----------------------------------------------------------------------------------------


def held_person_keys(partner: str) -> set[str]:
    """Persons with a dead entry: their later entries wait until an admin replays it."""
    return set(
        OutboxEntry.objects.filter(partner=partner, status=EntryStatus.DEAD)
        .exclude(person_key="")
        .values_list("person_key", flat=True)
        .distinct()
    )


@transaction.atomic
def outbox_claim(*, partner: str, owner: str, limit: int, now: datetime | None = None) -> list[OutboxEntry]:
    """The next entries of the partner's stream, in id order, counted as one more attempt each.

    Strict FIFO: when the oldest waiting entry is backing off, nothing behind it leaves either. Returns []
    when the caller does not hold the lease.
    """
    now = now or timezone.now()
    state = _state_for_update(partner)
    if state.lease_owner != owner:
        return []
    queryset = OutboxEntry.objects.filter(
        partner=partner, status__in=[EntryStatus.PENDING, EntryStatus.IN_FLIGHT]
    ).order_by("id")
    held = held_person_keys(partner)
    if held:
        queryset = queryset.exclude(person_key__in=held)
    batch: list[OutboxEntry] = []
    for entry in queryset[:limit]:
        if entry.next_attempt_at is not None and entry.next_attempt_at > now:
            break
        batch.append(entry)
    if not batch:
        return []
    OutboxEntry.objects.filter(pk__in=[e.pk for e in batch]).update(
        status=EntryStatus.IN_FLIGHT, attempts=F("attempts") + 1
    )
    for entry in batch:
        entry.status = EntryStatus.IN_FLIGHT
        entry.attempts += 1
    state.last_attempt_at = now
    state.save(update_fields=["last_attempt_at"])
    return batch


@transaction.atomic
def outbox_mark_delivered(
    *,
    partner: str,
    entry_ids: Sequence[int],
    delivery_key: str,
    payload_sha256: str,
    http_status: int,
    receipts: dict[int, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """The partner acknowledged these entries. One audit entry per request (partner, sha256, outcome)."""
    now = now or timezone.now()
    receipts = receipts or {}
    common = {
        "status": EntryStatus.DELIVERED,
        "delivered_at": now,
        "delivery_key": delivery_key,
        "payload_sha256": payload_sha256,
        "failure_kind": "",
        "last_error": "",
        "next_attempt_at": None,
    }
    plain = [pk for pk in entry_ids if pk not in receipts]
    OutboxEntry.objects.filter(pk__in=plain).update(**common)
    for pk, receipt in receipts.items():
        OutboxEntry.objects.filter(pk=pk).update(**common, receipt=receipt)
    PartnerState.objects.filter(partner=partner).update(
        last_success_at=now, consecutive_failures=0, requests_sent=F("requests_sent") + 1
    )
    log_event(
        actor=None,
        action="exchange.delivered",
        object_type="Partner",
        object_id=partner,
        changes={
            "entries": [None, len(entry_ids)],
            "payload_sha256": [None, payload_sha256],
            "delivery_key": [None, delivery_key],
            "http_status": [None, http_status],
        },
    )


@dataclass(frozen=True)
class FailureOutcome:
    retried: int
    dead: int


@transaction.atomic
def outbox_mark_failed(
    *,
    partner: str,
    entry_ids: Sequence[int],
    kind: str,
    error: str,
    permanent: bool,
    max_attempts: int,
    retry_in: timedelta,
    payload_sha256: str = "",
    http_status: int | None = None,
    now: datetime | None = None,
) -> FailureOutcome:
    """A failed request: permanent refusals and entries at their last attempt become dead letters; the others
    wait `retry_in` (the caller's back-off) before the stream tries them again."""
    now = now or timezone.now()
    error = error[:500]
    entries = OutboxEntry.objects.filter(pk__in=list(entry_ids))
    dying = entries if permanent else entries.filter(attempts__gte=max_attempts)
    dead = dying.update(status=EntryStatus.DEAD, failure_kind=kind, last_error=error, next_attempt_at=None)
    retried = (
        0
        if permanent
        else OutboxEntry.objects.filter(pk__in=list(entry_ids), status=EntryStatus.IN_FLIGHT).update(
            status=EntryStatus.PENDING, failure_kind=kind, last_error=error, next_attempt_at=now + retry_in
        )
    )
    PartnerState.objects.filter(partner=partner).update(
        last_failure_at=now,
        last_failure_kind=kind,
        last_error=error,
        consecutive_failures=F("consecutive_failures") + 1,
        requests_sent=F("requests_sent") + 1,
    )
    log_event(
        actor=None,
        action="exchange.failed",
        object_type="Partner",
        object_id=partner,
        changes={
            "entries": [None, len(entry_ids)],
            "payload_sha256": [None, payload_sha256],
            "failure_kind": [None, kind],
            "http_status": [None, http_status],
            "dead": [None, dead],
        },
        reason=error,
    )
    return FailureOutcome(retried=retried, dead=dead)


@transaction.atomic
def outbox_release(*, entry_ids: Sequence[int]) -> None:
    """Hand claimed entries back untouched (a split request goes on with its other half first)."""
    OutboxEntry.objects.filter(pk__in=list(entry_ids), status=EntryStatus.IN_FLIGHT).update(
        status=EntryStatus.PENDING, attempts=F("attempts") - 1
    )


@transaction.atomic
def outbox_replay(*, actor: Any, partner: str, since: datetime | None = None) -> int:
    """Dead letters of `partner` (created at or after `since`) go back to the stream with a fresh counter."""
    queryset = OutboxEntry.objects.filter(partner=partner, status=EntryStatus.DEAD)
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    count = queryset.update(status=EntryStatus.PENDING, attempts=0, next_attempt_at=None)
    if count:
        log_event(
            actor=actor,
            action="exchange.replayed",
            object_type="Partner",
            object_id=partner,
            changes={"entries": [None, count], "since": [None, since.isoformat() if since else None]},
        )
    return count


@transaction.atomic
def outbox_acknowledge(*, partner: str, up_to_id: int, principal: Any, now: datetime | None = None) -> int:
    """A pulling partner (the handbook app) read the feed past `up_to_id`: its entries inside the reader's
    jurisdiction are delivered."""
    now = now or timezone.now()
    count = visible_to(
        OutboxEntry.objects.filter(
            partner=partner, id__lte=up_to_id, status__in=[EntryStatus.PENDING, EntryStatus.IN_FLIGHT]
        ),
        principal,
    ).update(status=EntryStatus.DELIVERED, delivered_at=now, delivery_key=f"pull-{up_to_id}")
    if count:
        _state_for_update(partner)
        PartnerState.objects.filter(partner=partner).update(
            last_success_at=now, consecutive_failures=0, last_attempt_at=now
        )
    return count
