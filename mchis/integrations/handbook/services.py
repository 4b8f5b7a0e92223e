"""Consent to share with the handbook app: given by the person at a facility, withdrawable at any time.
Each change is audited and queued to the handbook stream in the same transaction (a withdrawal reaches the
app as a tombstone on its next pull)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from mchis.accounts.permissions import require
from mchis.core.audit import log_event
from mchis.core.errors import Conflict, DomainError
from mchis.core.scoping import access
from mchis.outbox.services import OutboxItem, outbox_enqueue

from ..models import HandbookConsent

NAME = "handbook"
TOPICS = ("register.anc", "register.delivery", "register.child_exam", "registry.child", "handbook.consent")


def _clean_pid(personal_id: str) -> str:
    value = (personal_id or "").strip()
    if len(value) != 12 or not value.isdigit():
        raise DomainError("Số định danh cá nhân phải gồm đúng 12 chữ số.", field="personal_id")
    return value


def _enqueue(consent: HandbookConsent) -> None:
    outbox_enqueue(
        topic="handbook.consent",
        items=[
            OutboxItem(
                "HandbookConsent",
                consent.pk,
                person_key=f"pid:{consent.personal_id}",
                scope_path=consent.unit.path,
            )
        ],
    )


@transaction.atomic
def handbook_consent_give(*, actor: Any, personal_id: str, unit: Any = None) -> HandbookConsent:
    """Record the person's consent at the actor's unit (or a unit of its subtree)."""
    require(actor, "handbook.consent")  # a person's act: machine clients are refused here
    person = actor
    pid = _clean_pid(personal_id)
    unit = unit or person.unit
    if unit is None or not unit.path.startswith(person.unit.path):
        raise DomainError("Đơn vị ghi nhận phải thuộc phạm vi của bạn.", field="unit")
    if (
        HandbookConsent.objects.select_for_update()
        .filter(personal_id=pid, withdrawn_at__isnull=True)
        .exists()
    ):
        raise Conflict("Người này đã đồng ý chia sẻ; không cần ghi nhận lại.", code="consent_exists")
    consent = HandbookConsent.objects.create(
        personal_id=pid, unit=unit, given_at=timezone.now(), given_by=person
    )
    log_event(
        actor=actor,
        action="handbook.consent_given",
        object_type="HandbookConsent",
        object_id=consent.pk,
        scope_path=unit.path,
        changes={"personal_id": [None, pid]},
    )
    _enqueue(consent)
    return consent


@transaction.atomic
def handbook_consent_withdraw(*, actor: Any, personal_id: str, reason: str = "") -> HandbookConsent:
    require(actor, "handbook.consent")
    person = actor
    pid = _clean_pid(personal_id)
    consent = access(
        HandbookConsent.objects.select_for_update(of=("self",)).select_related("unit"),
        actor,
        personal_id=pid,
        withdrawn_at__isnull=True,
    )
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = person
    consent.withdrawal_reason = (reason or "").strip()[:300]
    consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
    log_event(
        actor=actor,
        action="handbook.consent_withdrawn",
        object_type="HandbookConsent",
        object_id=consent.pk,
        scope_path=consent.unit.path,
        changes={"withdrawn": [False, True]},
        reason=consent.withdrawal_reason,
    )
    _enqueue(consent)
    return consent
