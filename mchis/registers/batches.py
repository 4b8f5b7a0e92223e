"""Bulk API batches (R-INT-01): idempotency keys, replays, and async jobs run by a worker.

A batch sent with an Idempotency-Key is stored with its answer: the same key and body replay the answer, the same
key with another body is a 409. With ?async=true the payload is stored and queued (`registers.run_ingest_batch`);
the worker claims and runs it in one transaction, so a worker that dies mid-batch leaves it queued (ADR 0025).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from mchis.accounts.auth import principal_for
from mchis.accounts.models import ApiClient, User
from mchis.accounts.permissions import require
from mchis.accounts.principals import person_of
from mchis.core.errors import Conflict, DomainError
from mchis.core.jobs import enqueue
from mchis.core.principal import Principal, PrincipalRef
from mchis.core.scoping import scope_path_of
from mchis.units.models import ReportingUnit

from .definitions import get_register
from .ingest import check_keys_unique, check_structure, principal_key_of, records_upsert
from .models import BatchChannel, BatchStatus, IngestBatch


def request_fingerprint(
    register: str, body: bytes, dry_run: bool, run_async: bool, *, parsed: Any = None
) -> str:
    """The request's identity for replays: the same JSON with other whitespace is the same request
    (`parsed`: the body already parsed, so it is not parsed twice)."""
    digest = hashlib.sha256()
    digest.update(f"{register}|{int(dry_run)}|{int(run_async)}|".encode())
    try:
        value = parsed if parsed is not None else json.loads(body)
        digest.update(json.dumps(value, sort_keys=True, separators=(",", ":")).encode())
    except ValueError:
        digest.update(body)
    return digest.hexdigest()


def batch_ingest(
    *,
    actor: Principal,
    register: str,
    records: Any,
    dry_run: bool = False,
    run_async: bool = False,
    idempotency_key: str = "",
    request_hash: str = "",
) -> tuple[int, dict[str, Any]]:
    """The bulk API entry: (HTTP status, body). Replays with the same Idempotency-Key return the stored answer."""
    require(actor, "register.write")
    reg = get_register(register)
    key = (idempotency_key or "").strip()[:200]
    principal_key = principal_key_of(actor)
    if key:
        previous = IngestBatch.objects.filter(principal_key=principal_key, idempotency_key=key).first()
        if previous is not None:
            return _replay(previous, request_hash)
    check_structure(records)
    check_keys_unique(records, BatchChannel.API)
    if dry_run:
        result = records_upsert(actor=actor, register=reg.key, records=records, dry_run=True)
        return 200, result.summary()
    batch = IngestBatch(
        register=reg.key,
        channel=BatchChannel.API,
        actor=person_of(actor),
        principal_key=principal_key,
        principal_unit_path=scope_path_of(actor) or "",
        idempotency_key=key,
        request_hash=request_hash,
        record_count=len(records),
    )
    if run_async:
        batch.status = BatchStatus.QUEUED
        batch.is_async = True
        batch.payload = records
        try:
            with transaction.atomic():
                batch.save(force_insert=True)
        except IntegrityError:
            previous = IngestBatch.objects.get(principal_key=principal_key, idempotency_key=key)
            return _replay(previous, request_hash)
        transaction.on_commit(lambda: enqueue("registers.run_ingest_batch", str(batch.pk)))
        body = job_status(batch)
        return 202, body
    try:
        with transaction.atomic():
            batch.status = BatchStatus.RUNNING
            batch.save(force_insert=True)
            result = records_upsert(actor=actor, register=reg.key, records=records, batch=batch)
            body = result.summary()
            batch.response = body
            batch.save(update_fields=["response"])
    except IntegrityError:
        if not key:
            raise
        previous = IngestBatch.objects.get(principal_key=principal_key, idempotency_key=key)
        return _replay(previous, request_hash)
    return 200, body


def _replay(previous: IngestBatch, request_hash: str) -> tuple[int, dict[str, Any]]:
    if previous.request_hash != request_hash:
        raise Conflict(
            "Idempotency-Key đã được dùng cho một lô khác (nội dung khác nhau). Dùng khóa mới cho lô mới.",
            code="idempotency_conflict",
        )
    if previous.response is not None and previous.status not in (BatchStatus.QUEUED, BatchStatus.RUNNING):
        if (
            previous.channel == BatchChannel.API
            and previous.payload is None
            and "jobId" not in previous.response
        ):
            return 200, previous.response
        return 200, job_status(previous)
    return 202, job_status(previous)


def job_status(batch: IngestBatch) -> dict[str, Any]:
    return {
        "jobId": str(batch.pk),
        "status": batch.status,
        "register": batch.register,
        "receivedAt": batch.received_at.isoformat() if batch.received_at else None,
        "finishedAt": batch.finished_at.isoformat() if batch.finished_at else None,
        "summary": batch.response if batch.status not in (BatchStatus.QUEUED, BatchStatus.RUNNING) else None,
    }


class StoredPrincipal:
    """The principal of an async job, rebuilt in the worker (machine clients have no DB row we own)."""

    is_authenticated = True
    is_active = True
    is_superuser = False
    role: str | None = None  # scopes, never a role (R-SEC-02)

    def __init__(
        self, *, unit: Any, scopes: set[str], client_name: str, client_id: int | None = None
    ) -> None:
        self.unit = unit
        self.scopes = scopes
        self.client_name = client_name
        self.client_id = client_id

    @property
    def ref(self) -> PrincipalRef | None:
        return PrincipalRef.token(self.client_id) if self.client_id is not None else None


def _client_principal(batch: IngestBatch, unit: Any) -> Principal:
    """The machine client that sent an async batch, with its current scopes (a revoked token keeps none)."""
    parts = batch.principal_key.split(":")
    try:
        client = ApiClient.objects.filter(pk=int(parts[2])).select_related("unit").first()
        if client is not None:
            principal = principal_for(client)
            if client.revoked_at is not None:
                return StoredPrincipal(
                    unit=client.unit, scopes=set(), client_name=client.name, client_id=client.pk
                )
            return principal
    except (IndexError, ValueError):
        pass
    return StoredPrincipal(
        unit=unit, scopes={"register.write"}, client_name=parts[1] if len(parts) > 1 else ""
    )


def batch_run_async(*, batch_id: str) -> None:
    """Worker side of ?async=true: run the stored payload once.

    The claim and the work share one transaction, so the batch is never committed as "running" before its rows:
    a worker that dies mid-batch rolls everything back, the batch is still queued, and the redelivered task
    (acks_late) runs it again. A second delivery of a batch being run waits on the row lock, then finds it done.
    A "running" batch left by older code (claim committed before the work) is claimed again the same way.
    """
    with transaction.atomic():
        batch = (
            IngestBatch.objects.select_for_update()
            .filter(pk=batch_id, is_async=True, status__in=(BatchStatus.QUEUED, BatchStatus.RUNNING))
            .first()
        )
        if batch is None:
            return  # finished already (or unknown): a redelivery changes nothing
        batch.status = BatchStatus.RUNNING
        actor: Principal
        if batch.actor_id:
            actor = User.objects.get(pk=batch.actor_id)
        else:
            unit = ReportingUnit.objects.filter(path=batch.principal_unit_path).first()
            actor = _client_principal(batch, unit)
        records = batch.payload or []
        try:
            result = records_upsert(actor=actor, register=batch.register, records=records, batch=batch)
            body = result.summary()
        except DomainError as exc:
            body = {"status": "ERROR", **exc.as_dict()}
            batch.status = BatchStatus.ERROR
            batch.rejected = len(records)
            batch.finished_at = timezone.now()
        batch.response = body
        batch.payload = None
        batch.save()
