"""The delivery engine: drains one partner's outbox stream in order, one signed request per batch.

One deliverer per partner (the outbox lease), so a person's entries leave in the order they were written.
Each request is classified (see `classify`):
- 2xx with a receipt the adapter understands → delivered (receipts stored per entry when the adapter has them);
  a 2xx with a receipt it cannot read → retried (we cannot know what the partner kept; it de-duplicates).
- 413, or a body over the partner's `max_bytes` → the batch is split in halves (a single entry too large is
  a dead letter);
- another 4xx → refused for good; a batch is bisected so only the refused entries become dead letters;
- 401/403 (key unknown, signature, clock skew) → retried: a rotation or a clock fix on either side heals it;
- 5xx, 408, 429, timeouts, refused connections → retried with back-off (Celery's autoretry; the outbox row
  counts the attempts, and the last one makes a dead letter that an admin replays with `exchange_replay`).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone

from mchis.outbox import selectors as outbox_selectors
from mchis.outbox import services as outbox
from mchis.outbox.models import FailureKind, OutboxEntry

from . import alerts, keys, transport
from .signing import sign_detached

MAX_ATTEMPTS = 32
"""Attempts per entry, the first included: with the back-off capped at an hour, a partner may be down for
more than a day before its oldest entries become dead letters."""
RETRY_FLOOR = timedelta(seconds=5)
"""The least wait before a failed batch leaves again (Celery's back-off adds to it)."""


class DeliveryRetry(Exception):
    """A transient failure: the task is retried by Celery with exponential back-off and jitter."""


class MalformedReceipt(Exception):
    pass


class BuildFailed(Exception):
    """The adapter cannot build an entry (the object vanished, or its data break the partner's schema)."""

    def __init__(self, entry_ids: Sequence[int], message: str) -> None:
        super().__init__(message)
        self.entry_ids = list(entry_ids)


@dataclass(frozen=True)
class Payload:
    body: bytes
    content_type: str


class Adapter(Protocol):
    """What a partner package provides: how to turn entries into one request body and read the receipt."""

    name: str
    path: str

    def build(self, entries: Sequence[OutboxEntry]) -> Payload: ...

    def receipts(self, entries: Sequence[OutboxEntry], answer: transport.Response) -> dict[int, Any]:
        """Per-entry receipts to store (may be empty). Raises MalformedReceipt."""
        ...


@dataclass
class PartnerConfig:
    url: str
    token: str
    max_bytes: int = 4_000_000
    batch_size: int = 200
    timeout: float = 15.0


def partner_config(name: str) -> PartnerConfig:
    raw = dict(getattr(settings, "EXCHANGE_PARTNERS", {}).get(name) or {})
    if not raw.get("url"):
        raise DeliveryNotConfigured(name)
    return PartnerConfig(**{k: v for k, v in raw.items() if k in PartnerConfig.__dataclass_fields__})


class DeliveryNotConfigured(Exception):
    pass


_adapters: dict[str, Adapter] = {}


def register_adapter(adapter: Adapter) -> None:
    _adapters[adapter.name] = adapter


def adapter_for(name: str) -> Adapter:
    return _adapters[name]


def pushed_partners() -> list[str]:
    return sorted(_adapters)


@dataclass
class RunReport:
    partner: str
    requests: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    splits: int = 0
    busy: bool = False
    failure_kind: str = ""
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    kind: str = ""
    permanent: bool = False
    split: bool = False
    message: str = ""


def classify(answer: transport.Response) -> Verdict:
    status = answer.status
    if 200 <= status < 300:
        return Verdict(ok=True)
    detail = _error_code(answer.body)
    if status == 413:
        return Verdict(False, FailureKind.TOO_LARGE, split=True, message=f"HTTP 413 {detail}")
    if status in (401, 403):
        kind = FailureKind.CLOCK_SKEW if detail == "clock_skew" else FailureKind.AUTH
        return Verdict(False, kind, message=f"HTTP {status} {detail}")
    if status in (408, 425, 429) or status >= 500:
        return Verdict(False, FailureKind.SERVER_ERROR, message=f"HTTP {status} {detail}")
    return Verdict(False, FailureKind.REFUSED, permanent=True, message=f"HTTP {status} {detail}")


def _error_code(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:120].decode("utf-8", "replace")
    if isinstance(data, dict):
        return str(data.get("error") or data.get("message") or "")[:200]
    return ""


def _delivery_key(partner: str, entries: Sequence[OutboxEntry]) -> str:
    ids = ",".join(str(e.pk) for e in entries)
    return f"{partner}:{hashlib.sha256(ids.encode()).hexdigest()[:40]}"


class _Run:
    def __init__(self, adapter: Adapter, config: PartnerConfig, report: RunReport, now: datetime) -> None:
        self.adapter, self.config, self.report, self.now = adapter, config, report, now
        self.transient = False

    def send(self, entries: list[OutboxEntry]) -> None:
        name = self.adapter.name
        ids = [e.pk for e in entries]
        try:
            payload = self.adapter.build(entries)
        except BuildFailed as exc:
            if not exc.entry_ids:  # the batch fails as a whole: find the culprits by halves
                verdict = Verdict(False, FailureKind.BUILD, split=True, message=str(exc))
                self._split_or_fail(entries, verdict, "")
                return
            bad = [e for e in entries if e.pk in exc.entry_ids]
            self._fail(bad, Verdict(False, FailureKind.BUILD, permanent=True, message=str(exc)), "")
            rest = [e for e in entries if e.pk not in exc.entry_ids]
            if rest:
                self.send(rest)
            return
        digest = hashlib.sha256(payload.body).hexdigest()
        if len(payload.body) > self.config.max_bytes:
            verdict = Verdict(False, FailureKind.TOO_LARGE, split=True, message="vượt giới hạn kích thước")
            self._split_or_fail(entries, verdict, digest)
            return
        key = _delivery_key(name, entries)
        signature = sign_detached(
            payload.body,
            private_jwk=keys.active_private_jwk(),
            audience=name,
            jti=key,
        )
        self.report.requests += 1
        try:
            answer = transport.post(
                self.config.url.rstrip("/") + self.adapter.path,
                payload.body,
                content_type=payload.content_type,
                token=self.config.token,
                signature=signature,
                idempotency_key=key,
                timeout=self.config.timeout,
            )
        except transport.TransportFailure as exc:
            self._fail(entries, Verdict(False, exc.kind, message=str(exc)), digest)
            return
        verdict = classify(answer)
        if verdict.ok:
            try:
                receipts = self.adapter.receipts(entries, answer)
            except MalformedReceipt as exc:
                verdict = Verdict(False, FailureKind.MALFORMED_RECEIPT, message=str(exc)[:300])
                self._fail(entries, verdict, digest, answer.status)
                return
            outbox.outbox_mark_delivered(
                partner=name,
                entry_ids=ids,
                delivery_key=key,
                payload_sha256=digest,
                http_status=answer.status,
                receipts=receipts,
            )
            self.report.delivered += len(ids)
            return
        if verdict.split or (verdict.permanent and len(entries) > 1):
            self._split_or_fail(entries, verdict, digest, answer.status)
            return
        self._fail(entries, verdict, digest, answer.status)

    def _split_or_fail(
        self, entries: list[OutboxEntry], verdict: Verdict, digest: str, status: int | None = None
    ) -> None:
        if len(entries) == 1:
            self._fail(
                entries, Verdict(False, verdict.kind, permanent=True, message=verdict.message), digest, status
            )
            return
        self.report.splits += 1
        half = len(entries) // 2
        self.send(entries[:half])
        if self.transient:  # the first half must land before the second leaves (per-person order)
            outbox.outbox_release(entry_ids=[e.pk for e in entries[half:]])
            return
        self.send(entries[half:])

    def _fail(
        self, entries: list[OutboxEntry], verdict: Verdict, digest: str, status: int | None = None
    ) -> None:
        result = outbox.outbox_mark_failed(
            partner=self.adapter.name,
            entry_ids=[e.pk for e in entries],
            kind=verdict.kind,
            error=verdict.message,
            permanent=verdict.permanent,
            max_attempts=MAX_ATTEMPTS,
            retry_in=RETRY_FLOOR,
            payload_sha256=digest,
            http_status=status,
            now=self.now,
        )
        self.report.dead += result.dead
        self.report.retried += result.retried
        alerts.exchange_alert(
            partner=self.adapter.name, entry_ids=[e.pk for e in entries], dead=result.dead,
            consecutive_failures=outbox_selectors.consecutive_failures(self.adapter.name), error=verdict.message, now=self.now,
        )  # fmt: skip
        self.report.failure_kind = verdict.kind
        self.report.errors.append(verdict.message)
        if result.retried:
            self.transient = True


def lease_seconds() -> float:
    return float(getattr(settings, "EXCHANGE_LEASE_SECONDS", 120))


def deliver_partner(
    name: str, *, owner: str | None = None, now: datetime | None = None, max_requests: int | None = None
) -> RunReport:
    """Drain the partner's stream until it is empty, the head waits (back-off) or a transient failure stops it.
    Safe to run concurrently: a second deliverer finds the lease taken and returns `busy`."""
    adapter = adapter_for(name)
    config = partner_config(name)
    owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    report = RunReport(partner=name)
    if not outbox.lease_acquire(partner=name, owner=owner, seconds=lease_seconds(), now=now):
        report.busy = True
        return report
    try:
        while max_requests is None or report.requests < max_requests:
            current = now or timezone.now()
            entries = outbox.outbox_claim(partner=name, owner=owner, limit=config.batch_size, now=current)
            if not entries:
                break
            run = _Run(adapter, config, report, current)
            run.send(entries)
            if run.transient:
                break
            outbox.lease_acquire(partner=name, owner=owner, seconds=lease_seconds(), now=now)
    finally:
        outbox.lease_release(partner=name, owner=owner)
    return report
