"""Identity checks through the gateway: start (pending, after commit) and run (with retry on errors).

The registry owns the Verification rows and how results land on records (mchis.registry.services);
this module only talks to the external system — integrations depend on domain services, never the reverse.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mchis.core.errors import DomainError
from mchis.core.jobs import enqueue, runs_in_place
from mchis.core.principal import Principal
from mchis.registry import selectors as registry_selectors
from mchis.registry import services as registry
from mchis.registry.models import Child, Verification, VerificationStatus

from .http import HttpPopulationGateway
from .types import GatewayCutOff, GatewayUnavailable, IdentityQuery, PopulationGateway

MAX_ATTEMPTS = 6
"""Gateway calls per check, the first included. The row's `attempts` is the one counter: the task's Celery
`max_retries` is derived from it, and the attempt that reaches it marks the check FAILED for good."""
SWEEP_AFTER = timedelta(minutes=30)
"""A check still pending this long after its request has lost its task (a task retries for a few minutes at most;
a test pins that the sweep never doubles a task that is still retrying)."""
_override: PopulationGateway | None = None


def gateway() -> PopulationGateway:
    if _override is not None:
        return _override
    url = getattr(settings, "POPULATION_GATEWAY_URL", "")
    if not url:
        raise GatewayUnavailable("POPULATION_GATEWAY_URL chưa được cấu hình")
    return HttpPopulationGateway(
        url,
        timeout=float(getattr(settings, "POPULATION_GATEWAY_TIMEOUT", 5.0)),
        token=getattr(settings, "POPULATION_GATEWAY_TOKEN", ""),
        signer=_sign,
    )


def _sign(body: bytes) -> str:
    from ..exchange import keys, signing

    return signing.sign_detached(body, private_jwk=keys.active_private_jwk(), audience="population")


def use_gateway(value: PopulationGateway | None) -> None:
    """Tests and the demo plug a gateway in (a fake or an HTTP adapter to the simulator)."""
    global _override
    _override = value


def population_check_start(*, actor: Principal, child: Child) -> Verification:
    """Create a pending check and queue it after commit (a crash before commit leaves nothing half-done)."""
    if not getattr(settings, "POPULATION_GATEWAY_URL", "") and _override is None:
        raise DomainError("Chưa cấu hình kết nối CSDL dân cư (POPULATION_GATEWAY_URL).")
    with transaction.atomic():
        verification = registry.verification_create(actor=actor, child=child)
        transaction.on_commit(lambda: _enqueue(verification.pk))
    return verification


def _enqueue(verification_id: int) -> None:
    if runs_in_place():
        # No broker (demo, tests): one attempt now, no retries blocking the request; the sweep tries again.
        with contextlib.suppress(GatewayUnavailable):
            population_check_run(verification_id)
        return
    enqueue("integrations.population_check", verification_id)


def population_check_run(verification_id: int, *, via: PopulationGateway | None = None) -> Verification:
    """One attempt, counted on the row. A gateway error raises GatewayUnavailable (the task retries it with
    backoff) until the MAX_ATTEMPTS-th, which marks the check FAILED and returns it. A check that is no longer
    pending (answered or failed) is returned untouched: FAILED is terminal, a new check is a new request."""
    verification = Verification.objects.select_related("child").get(pk=verification_id)
    if verification.status != VerificationStatus.PENDING:
        return verification
    child = verification.child
    query = IdentityQuery(
        personal_id=child.personal_id,
        full_name=child.full_name,
        date_of_birth=child.date_of_birth,
        sex=child.sex,
    )
    try:
        result = (via or gateway()).check_identity(query)
    except GatewayCutOff:
        raise  # not called: no attempt spent while the partner is cut off (the retry/sweep comes back later)
    except GatewayUnavailable as exc:
        counted = registry.verification_record_failure(
            verification_id=verification_id, error=str(exc), max_attempts=MAX_ATTEMPTS
        )
        if counted.status == VerificationStatus.FAILED:
            return counted
        raise
    return registry.verification_record_result(
        verification_id=verification_id, result=result.kind.value, detail=result.detail
    )


def population_retry_pending(*, now: datetime | None = None) -> int:
    """Sweep: queue again every check still pending SWEEP_AFTER after its request (its task was lost: broker
    restart, no broker in the demo). FAILED checks are never touched. Returns how many were queued."""
    cutoff = (now or timezone.now()) - SWEEP_AFTER
    ids = registry_selectors.verifications_pending_ids(requested_before=cutoff)
    for pk in ids:
        _enqueue(pk)
    return len(ids)
