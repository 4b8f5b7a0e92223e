"""Identity checks through the gateway: start (pending, after commit) and run (with retry on errors).

The registry owns the Verification rows and how results land on records (mchis.registry.services);
this module only talks to the external system — integrations depend on domain services, never the reverse.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mchis.core.errors import DomainError
from mchis.registry import services as registry
from mchis.registry.models import Child, Verification, VerificationStatus

from .http import HttpPopulationGateway
from .types import GatewayUnavailable, IdentityQuery, PopulationGateway

MAX_ATTEMPTS_BEFORE_FAILED = 5
_override: PopulationGateway | None = None


def gateway() -> PopulationGateway:
    if _override is not None:
        return _override
    url = getattr(settings, "POPULATION_GATEWAY_URL", "")
    if not url:
        raise GatewayUnavailable("POPULATION_GATEWAY_URL chưa được cấu hình")
    return HttpPopulationGateway(url, timeout=float(getattr(settings, "POPULATION_GATEWAY_TIMEOUT", 5.0)))


def use_gateway(value: PopulationGateway | None) -> None:
    """Tests and the demo plug a gateway in (a fake or an HTTP adapter to the simulator)."""
    global _override
    _override = value


def population_check_start(*, actor: Any, child: Child) -> Verification:
    """Create a pending check and queue it after commit (a crash before commit leaves nothing half-done)."""
    if not getattr(settings, "POPULATION_GATEWAY_URL", "") and _override is None:
        raise DomainError("Chưa cấu hình kết nối CSDL dân cư (POPULATION_GATEWAY_URL).")
    with transaction.atomic():
        verification = registry.verification_create(actor=actor, child=child)
        transaction.on_commit(lambda: _enqueue(verification.pk))
    return verification


def _enqueue(verification_id: int) -> None:
    from .tasks import population_check

    # Eager mode (no broker): the error is already recorded on the row; the periodic sweep retries it.
    with contextlib.suppress(GatewayUnavailable):
        population_check.delay(verification_id)


def population_check_run(verification_id: int, *, via: PopulationGateway | None = None) -> Verification:
    """One attempt. On a gateway error the row stays pending (attempts+1) and GatewayUnavailable is raised."""
    verification = Verification.objects.select_related("child").get(pk=verification_id)
    if verification.status == VerificationStatus.DONE:
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
    except GatewayUnavailable as exc:
        give_up = verification.attempts + 1 >= MAX_ATTEMPTS_BEFORE_FAILED
        registry.verification_record_failure(verification_id=verification_id, error=str(exc), give_up=give_up)
        raise
    return registry.verification_record_result(
        verification_id=verification_id, result=result.kind.value, detail=result.detail
    )


def population_retry_pending(*, older_than_minutes: int = 5) -> int:
    """Sweep: every check still pending (or failed for now) is queued again. Returns how many."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    registry.verification_reset_failed(older_than=cutoff)
    ids = list(
        Verification.objects.filter(status=VerificationStatus.PENDING, requested_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    for pk in ids:
        _enqueue(pk)
    return len(ids)
