"""The report workflow as an explicit state machine (quy trình gửi - duyệt báo cáo, R-MCH-05, R-MCH-06).

    draft ──submit──▶ submitted ──approve──▶ approved ──request_unapproval──▶ unapproval_requested
      ▲  ◀──recall───     │                                                        │
      │                   └──return (lý do)──▶ returned ──(sửa / reopen)──▶ draft  │
      └──────────────────────────────── unapprove (lý do) ◀───────────────────────┘

``TRANSITIONS`` is the one table of states: ``services._transition`` takes every target state from it
(``target``). ``check`` returns the Vietnamese reason an actor may not do a verb (or None); templates, the API
and ``services`` all use it, so the buttons shown are exactly the actions allowed.

Who approves whom (R-MCH-06): the nearest ancestor unit of the approving kind, acted on by its leader:
TTYT approves TYT and district hospitals; CDC approves TTYTs and provincial hospitals; Sở Y tế approves the
province report (prepared by CDC); the Ministry department approves the Sở's reports. Any higher level within
whose jurisdiction the report lies may *return* it (also when it is not that level's responsibility).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.utils.translation import gettext_noop

from mchis.accounts.permissions import PERSON_REQUIRED_MESSAGE, can, is_machine_client
from mchis.core.principal import Principal
from mchis.core.scoping import in_subtree

from .models import ReportStatus as S

if TYPE_CHECKING:
    from mchis.units.models import ReportingUnit

TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({S.DRAFT, S.RETURNED}), S.SUBMITTED),
    "recall": (frozenset({S.SUBMITTED}), S.DRAFT),
    "approve": (frozenset({S.SUBMITTED}), S.APPROVED),
    "return": (frozenset({S.SUBMITTED}), S.RETURNED),
    "request_unapproval": (frozenset({S.APPROVED}), S.UNAPPROVAL_REQUESTED),
    "unapprove": (frozenset({S.UNAPPROVAL_REQUESTED}), S.DRAFT),
    "reopen": (frozenset({S.RETURNED}), S.DRAFT),
}
# states whose manual cells the sender may still edit (a returned report reopens on its first edit)
EDITABLE = frozenset({S.DRAFT, S.RETURNED})
REASON_REQUIRED = frozenset({"return", "request_unapproval", "unapprove"})
ACTION_LABELS = {
    "submit": gettext_noop("Gửi báo cáo"),
    "recall": gettext_noop("Thu hồi"),
    "approve": gettext_noop("Duyệt"),
    "return": gettext_noop("Trả lại"),
    "request_unapproval": gettext_noop("Đề nghị hủy duyệt"),
    "unapprove": gettext_noop("Hủy duyệt"),
    "reopen": gettext_noop("Mở lại để sửa"),
}
# submitter kind -> approving kind (R-MCH-06)
APPROVER_KIND = {
    "tyt": "ttyt",
    "district_hospital": "ttyt",
    "private_clinic": "ttyt",
    "ttyt": "cdc",
    "prov_hospital": "cdc",
    "cdc": "doh",
    "doh": "ministry_dept",
}
SENDER_ACTIONS = {
    "submit": "report.submit",
    "recall": "report.recall",
    "request_unapproval": "report.request_unapproval",
    "reopen": "report.edit",
}
APPROVER_ACTIONS = {"approve": "report.approve", "unapprove": "report.unapprove"}


def approver_unit(
    unit: ReportingUnit, ancestors_nearest_first: Sequence[ReportingUnit]
) -> ReportingUnit | None:
    """The nearest ancestor of the approving kind for `unit`, or None if the tree has none."""
    wanted = APPROVER_KIND.get(unit.kind)
    if wanted is None:
        return None
    return next((a for a in ancestors_nearest_first if a.kind == wanted), None)


VERB_ACTIONS = {**SENDER_ACTIONS, **APPROVER_ACTIONS, "return": "report.return"}


def check_permission(
    verb: str, actor: Principal, *, unit: ReportingUnit, approver: ReportingUnit | None
) -> str | None:
    """Why `actor` may not `verb` reports of `unit` whatever their state (None = the role and unit may).

    Checked before the state, so a wrong role is refused (403) even when the state is also wrong."""
    if is_machine_client(actor):
        return PERSON_REQUIRED_MESSAGE  # R-SEC-02: workflow acts carry one real person
    if not actor.is_authenticated:  # checked first: an anonymous visitor has no unit at all
        return "Tài khoản không thuộc đơn vị nào."
    actor_unit = actor.unit
    if actor_unit is None:
        return "Tài khoản không thuộc đơn vị nào."
    allowed = can(actor, VERB_ACTIONS[verb])
    if verb in SENDER_ACTIONS:
        if not allowed:
            return "Vai trò của bạn không được thực hiện thao tác này."
        if actor_unit.pk != unit.pk:
            return "Chỉ đơn vị lập báo cáo mới được thực hiện thao tác này."
        return None
    if verb in APPROVER_ACTIONS:
        if not allowed:
            return "Chỉ lãnh đạo đơn vị phụ trách mới được duyệt/hủy duyệt."
        if actor_unit.pk == unit.pk:
            return "Không được tự duyệt/hủy duyệt báo cáo của chính đơn vị mình."
        if approver is None or actor_unit.pk != approver.pk:
            return "Chỉ đơn vị cấp trên phụ trách (theo tuyến báo cáo) mới được duyệt/hủy duyệt báo cáo này."
        return None
    # return: any level above, inside whose subtree the report lies
    if not allowed:
        return "Chỉ lãnh đạo cấp trên mới được trả lại báo cáo."
    if actor_unit.pk == unit.pk or not in_subtree(unit.path, actor_unit.path):
        return "Chỉ cấp trên của đơn vị lập báo cáo mới được trả lại báo cáo."
    return None


def target(verb: str) -> str:
    """The state `verb` leads to (the only place a target state is written down)."""
    return TRANSITIONS[verb][1]


def check_state(verb: str, status: str) -> str | None:
    """Why a report in `status` cannot take `verb` (None = the transition exists)."""
    sources, _ = TRANSITIONS[verb]
    if status not in sources:
        return f"Không thể '{ACTION_LABELS[verb]}' báo cáo ở trạng thái '{S(status).label}'."
    return None


def check(
    verb: str, actor: Principal, *, status: str, unit: ReportingUnit, approver: ReportingUnit | None
) -> str | None:
    """Why `actor` may not `verb` the report of `unit` in `status` (None = allowed): role and unit first."""
    return check_permission(verb, actor, unit=unit, approver=approver) or check_state(verb, status)


def allowed_actions(
    actor: Principal, *, status: str, unit: ReportingUnit, approver: ReportingUnit | None
) -> list[str]:
    return [
        v
        for v in TRANSITIONS
        if v != "reopen" and check(v, actor, status=status, unit=unit, approver=approver) is None
    ]
