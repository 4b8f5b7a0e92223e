"""Who is told what when registry work moves (in-app notifications, R-CH-05/06). Called inside the services'
transactions, one line each, so a notification exists exactly when the decision does."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from mchis.notifications.models import NotificationKind
from mchis.notifications.selectors import people_of
from mchis.notifications.services import notify

from .models import ChangeRequest, CorrectionRequest, RequestStatus

_KIND: dict[str, str] = {
    RequestStatus.APPROVED: NotificationKind.APPROVED,
    RequestStatus.RETURNED: NotificationKind.RETURNED,
    RequestStatus.REJECTED: NotificationKind.REJECTED,
}
_TITLE: dict[str, str] = {
    RequestStatus.APPROVED: "Đề xuất đã được duyệt",
    RequestStatus.RETURNED: "Đề xuất bị trả lại, cần sửa",
    RequestStatus.REJECTED: "Đề xuất bị từ chối",
}


def request_decided(req: ChangeRequest) -> None:
    """Tell the proposer the leader's decision (with the leader's comment as the reason)."""
    if req.status not in _KIND or req.proposer_id == req.decided_by_id:
        return
    who = req.child.full_name if req.child is not None else str(req.data.get("full_name") or "")
    notify(
        recipients=[req.proposer], kind=_KIND[req.status],
        title=f"{_TITLE[req.status]}: {req.get_kind_display().lower()} {who}".strip(),
        reason=req.comment, url=reverse("registry:request_detail", args=[req.public_id]),
        object_type="change_request", object_id=str(req.public_id),
    )  # fmt: skip


def correction_filed(correction: CorrectionRequest, child: Any) -> None:
    """R-CH-06: the unit that keeps the record must fix it within one working day: tell its collectors and
    leaders."""
    due = correction.due_at.strftime("%d/%m/%Y") if correction.due_at else ""
    notify(
        recipients=people_of(correction.unit, ("collector", "leader")), kind=NotificationKind.CORRECTION_DUE,
        title=f"Yêu cầu chỉnh sửa hồ sơ {child.full_name}" + (f" (hạn {due})" if due else ""),
        reason=correction.description,
        url=reverse("registry:correction_detail", args=[correction.public_id]),
        object_type="correction_request", object_id=str(correction.public_id),
    )  # fmt: skip
