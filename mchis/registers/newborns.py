"""Newborn → child registry hand-off: a live-born baby of the delivery register becomes a proposal in the
child registry's maker-checker flow (approved by a leader there)."""

from __future__ import annotations

from typing import Any

from mchis.accounts.permissions import require
from mchis.core.errors import DomainError
from mchis.core.principal import Principal
from mchis.core.scoping import access
from mchis.registry.services import child_propose_create

from .models import Newborn


def newborn_handoff(*, actor: Principal, newborn: Newborn, reason: str = "") -> Any:
    """Propose a child-registry record for a live-born baby (đề xuất thêm trẻ vào hệ thống quản lý trẻ em).

    Goes through the registry's maker-checker flow (`child_propose_create`, approved by a leader there), keyed by
    the newborn so repeating the hand-off never proposes the child twice."""
    require(actor, "child.propose")
    if newborn.outcome != "live":
        raise DomainError("Chỉ chuyển trẻ đẻ ra sống sang hệ thống quản lý trẻ em.", field="outcome")
    delivery = access(
        type(newborn.delivery).objects.select_related("facility"), actor, pk=newborn.delivery_id
    )
    if newborn.sex not in ("M", "F"):
        raise DomainError("Giới tính trẻ: cần ghi Nam/Nữ trước khi chuyển.", field="sex")
    data = {
        "full_name": newborn.full_name or f"Con của {delivery.full_name}",
        "date_of_birth": delivery.event_date,
        "sex": newborn.sex,
        "ethnicity_code": newborn.ethnicity_code,
        "personal_id": newborn.personal_id,
        "mother_name": delivery.full_name,
        "mother_dob": delivery.dob,
        "mother_personal_id": delivery.personal_id,
    }
    return child_propose_create(
        actor=actor,
        unit=delivery.facility,
        data={k: v for k, v in data.items() if v not in (None, "")},
        reason=reason or "Trẻ sơ sinh từ sổ đẻ",
        event_date=delivery.event_date,
        client_key=f"registers-newborn-{newborn.pk}",
        acknowledge_warnings=True,
        source="registers",
    )
