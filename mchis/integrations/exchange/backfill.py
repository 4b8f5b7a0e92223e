"""Queue existing rows for one partner: the first load of a new partner, or a re-send after the partner lost
data. The same entries as live writes (same topics, person keys and scope), so the same delivery follows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from django.db import transaction

from mchis.core.audit import log_event
from mchis.outbox.routing import topics_of
from mchis.outbox.services import OutboxItem, outbox_enqueue
from mchis.registers.definitions import REGISTERS
from mchis.registry.models import Child

CHUNK = 2000


def _register_items(key: str, since: date | None) -> Iterator[list[OutboxItem]]:
    model = REGISTERS[key].model
    rows = model.objects.filter(voided_at__isnull=True)
    if since is not None:
        rows = rows.filter(event_date__gte=since)
    chunk: list[OutboxItem] = []
    for pk, pid, path in rows.order_by("event_date", "id").values_list("id", "personal_id", "facility__path"):
        chunk.append(
            OutboxItem(model.__name__, pk, person_key=f"pid:{pid}" if pid else f"{key}:{pk}", scope_path=path)
        )
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _child_items(since: date | None) -> Iterator[list[OutboxItem]]:
    rows = Child.objects.all()
    if since is not None:
        rows = rows.filter(updated_at__date__gte=since)
    chunk: list[OutboxItem] = []
    for pk, pid, public_id, path in rows.order_by("id").values_list(
        "id", "personal_id", "public_id", "unit__path"
    ):
        key = f"pid:{pid}" if pid else f"child:{public_id}"
        chunk.append(OutboxItem("Child", pk, person_key=key, scope_path=path))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@transaction.atomic
def exchange_backfill(*, actor: Any, partner: str, since: date | None = None) -> int:
    """Queue every register row (event on or after `since`) and registry child of the partner's topics."""
    total = 0
    for topic in topics_of(partner):
        domain, _, key = topic.partition(".")
        if domain == "register" and key in REGISTERS:
            chunks = _register_items(key, since)
        elif topic == "registry.child":
            chunks = _child_items(since)
        else:
            continue
        for items in chunks:
            total += outbox_enqueue(topic=topic, items=items, only=partner)
    log_event(
        actor=actor,
        action="exchange.backfilled",
        object_type="Partner",
        object_id=partner,
        changes={"entries": [None, total], "since": [None, since.isoformat() if since else None]},
    )
    return total
