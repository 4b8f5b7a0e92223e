"""R-MCH-05 / R-MCH-06: the report state machine, who approves whom, reasons, timeline, audit, locking."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from mchis.core.context import RequestMeta, reset_meta, set_meta
from mchis.core.errors import Conflict, DomainError, PermissionDeniedError, StepUpRequired, ValidationFailed
from mchis.core.models import AuditEvent
from mchis.registers.models import PeriodLock
from mchis.reports import services as s
from mchis.reports import workflow
from mchis.reports.models import ReportInstance, ReportStatus
from mchis.reports.workflow import TRANSITIONS

from .registerdata import submit

P = "2026-01"


@pytest.fixture
def step_up():
    from django.utils import timezone

    token = set_meta(RequestMeta(step_up_at=timezone.now()))
    yield
    reset_meta(token)


def commune(verb, actor, tree, **kw):
    return (submit if verb == "submit" else getattr(s, f"report_{verb}"))(
        actor=actor, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P, **kw
    )


def state(tree) -> str:
    return ReportInstance.objects.get(unit=tree.tyt_a1, period_start__year=2026).status


def test_r_mch_05_submit_approve_unapprove_cycle_with_timeline_audit_and_locking(
    forms, people, tree, step_up
):
    r = commune("submit", people.tyt_reporter, tree)
    assert (
        r.status == ReportStatus.SUBMITTED and r.snapshot_checksum and r.snapshot["values"]["I.5:total"] == 0
    )
    r = commune("approve", people.ttyt_leader, tree)
    assert r.status == ReportStatus.APPROVED and r.approved_by == people.ttyt_leader
    assert PeriodLock.objects.filter(unit=tree.tyt_a1, month="2026-01-01").exists()
    r = commune("request_unapproval", people.tyt_reporter, tree, reason="Sai số đẻ tại nhà")
    assert r.status == ReportStatus.UNAPPROVAL_REQUESTED
    r = commune("unapprove", people.ttyt_leader, tree, reason="Đồng ý cho sửa")
    assert r.status == ReportStatus.DRAFT and r.snapshot is None
    assert not PeriodLock.objects.filter(unit=tree.tyt_a1).exists()
    steps = [(t.action, t.from_status, t.to_status, t.actor_id, t.reason) for t in r.transitions.all()]
    assert steps == [
        ("submit", "draft", "submitted", people.tyt_reporter.pk, ""),
        ("approve", "submitted", "approved", people.ttyt_leader.pk, ""),
        (
            "request_unapproval",
            "approved",
            "unapproval_requested",
            people.tyt_reporter.pk,
            "Sai số đẻ tại nhà",
        ),
        ("unapprove", "unapproval_requested", "draft", people.ttyt_leader.pk, "Đồng ý cho sửa"),
    ]
    actions = list(
        AuditEvent.objects.filter(object_type="report", object_id=str(r.pk)).values_list("action", flat=True)
    )
    assert actions == [
        "report.edit",  # the required manual cells typed before sending
        "report.submit",
        "report.approve",
        "report.request_unapproval",
        "report.unapprove",
    ]


def test_r_mch_05_return_with_reason_then_reopen_by_editing_and_resubmit(forms, people, tree):
    commune("submit", people.tyt_reporter, tree)
    with pytest.raises(DomainError, match=r"Vui lòng nhập lý do\.") as exc:
        commune("return", people.ttyt_leader, tree, reason="  ")
    assert exc.value.field == "reason" and state(tree) == ReportStatus.SUBMITTED
    commune("return", people.ttyt_leader, tree, reason="Thiếu số liệu sổ đẻ")
    r = ReportInstance.objects.get(unit=tree.tyt_a1)
    assert r.status == ReportStatus.RETURNED and r.snapshot is None
    s.report_set_manual_values(
        actor=people.tyt_reporter,
        form_code="BCX3",
        unit_code=tree.tyt_a1.code,
        period=P,
        values={"I.1:total": 12, "I.1.1:total": 1},
    )
    r.refresh_from_db()
    assert r.status == ReportStatus.DRAFT and r.manual_values == {"I.1:total": 12, "I.1.1:total": 1}
    r = commune("submit", people.tyt_reporter, tree)
    assert r.snapshot["values"]["I.1:total"] == 12
    assert [t.action for t in r.transitions.all()] == ["submit", "return", "reopen", "submit"]


def test_r_mch_05_sender_recalls_before_approval_but_not_after(forms, people, tree):
    commune("submit", people.tyt_reporter, tree)
    assert commune("recall", people.tyt_reporter, tree).status == ReportStatus.DRAFT
    commune("submit", people.tyt_reporter, tree)
    commune("approve", people.ttyt_leader, tree)
    with pytest.raises(Conflict, match=r"Không thể 'Thu hồi' báo cáo ở trạng thái 'Đã duyệt'\."):
        commune("recall", people.tyt_reporter, tree)
    assert state(tree) == ReportStatus.APPROVED


def test_r_mch_05_returned_submit_is_allowed_directly(forms, people, tree):
    commune("submit", people.tyt_reporter, tree)
    commune("return", people.ttyt_leader, tree, reason="Kiểm tra lại")
    assert commune("submit", people.tyt_reporter, tree).status == ReportStatus.SUBMITTED


def _drive_to(target: str, people, tree, step_up_ctx) -> None:
    paths: dict[str, list[tuple[str, Any, dict[str, str]]]] = {
        "draft": [],
        "submitted": [("submit", people.tyt_reporter, {})],
        "returned": [("submit", people.tyt_reporter, {}), ("return", people.ttyt_leader, {"reason": "x"})],
        "approved": [("submit", people.tyt_reporter, {}), ("approve", people.ttyt_leader, {})],
        "unapproval_requested": [
            ("submit", people.tyt_reporter, {}),
            ("approve", people.ttyt_leader, {}),
            ("request_unapproval", people.tyt_reporter, {"reason": "x"}),
        ],
    }
    path = paths[target]
    if not path:
        s.report_set_manual_values(
            actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P, values={}
        )
    for verb, actor, kw in path:
        commune(verb, actor, tree, **kw)


# R-MCH-05 (QC Điều 8-9) written out by hand, NOT derived from workflow.TRANSITIONS: (state, verb) -> new state.
# A unit sends its report up; before approval the sender may recall it; the level above approves or returns it
# with a reason; after approval the sender asks for un-approval and the level above un-approves (back to draft
# for correction). Every pair not listed is refused.
R_MCH_05 = {
    ("draft", "submit"): "submitted",
    ("returned", "submit"): "submitted",
    ("submitted", "recall"): "draft",
    ("submitted", "approve"): "approved",
    ("submitted", "return"): "returned",
    ("approved", "request_unapproval"): "unapproval_requested",
    ("unapproval_requested", "unapprove"): "draft",
    ("returned", "reopen"): "draft",
}
STATES = ["draft", "submitted", "returned", "approved", "unapproval_requested"]
VERBS = ["submit", "recall", "approve", "return", "request_unapproval", "unapprove", "reopen"]


def test_r_mch_05_state_machine_matches_the_rulebook_table():
    assert sorted(ReportStatus.values) == sorted(STATES)
    assert sorted(TRANSITIONS) == sorted(VERBS)
    for st in STATES:
        for verb in VERBS:
            expected = R_MCH_05.get((st, verb))
            allowed = workflow.check_state(verb, st) is None
            assert allowed == (expected is not None), (st, verb)
            if expected is not None:
                assert workflow.target(verb) == expected, (st, verb)


ILLEGAL = [(v, st) for v in VERBS if v != "reopen" for st in STATES if (st, v) not in R_MCH_05]


@pytest.mark.parametrize(("verb", "start"), ILLEGAL)
def test_r_mch_05_every_illegal_transition_is_refused_and_state_unchanged(
    forms, people, tree, step_up, verb, start
):
    _drive_to(start, people, tree, step_up)
    actor = people.ttyt_leader if verb in ("approve", "return", "unapprove") else people.tyt_reporter
    kw = {"reason": "lý do"} if verb in ("return", "request_unapproval", "unapprove", "recall") else {}
    with pytest.raises(Conflict, match=r"Không thể '.+' báo cáo ở trạng thái"):
        commune(verb, actor, tree, **kw)
    assert state(tree) == start


LEGAL = [(v, st, to) for (st, v), to in R_MCH_05.items() if v != "reopen"]


@pytest.mark.parametrize(("verb", "start", "to"), LEGAL)
def test_r_mch_05_every_legal_transition_reaches_its_target(forms, people, tree, step_up, verb, start, to):
    _drive_to(start, people, tree, step_up)
    actor = people.ttyt_leader if verb in ("approve", "return", "unapprove") else people.tyt_reporter
    kw = {"reason": "lý do"} if verb in ("return", "request_unapproval", "unapprove") else {}
    assert commune(verb, actor, tree, **kw).status == to
    assert state(tree) == to


def test_r_mch_05_submitting_twice_is_refused(forms, people, tree):
    commune("submit", people.tyt_reporter, tree)
    with pytest.raises(Conflict, match=r"Không thể 'Gửi báo cáo' báo cáo ở trạng thái 'Đã gửi'\.") as exc:
        commune("submit", people.tyt_reporter, tree)
    assert "Đã gửi" in exc.value.message


def test_r_mch_06_approver_is_nearest_ancestor_of_the_right_kind(forms, people, tree):
    commune("submit", people.tyt_reporter, tree)
    with pytest.raises(
        PermissionDeniedError, match=r"Chỉ đơn vị cấp trên phụ trách \(theo tuyến báo cáo\) mới được"
    ):  # CDC is above, but TTYT approves communes
        commune("approve", people.cdc_leader, tree)
    with pytest.raises(
        PermissionDeniedError, match=r"Chỉ lãnh đạo đơn vị phụ trách mới được duyệt/hủy duyệt\."
    ):  # reporter at the TTYT is not a leader
        commune("approve", people.ttyt_reporter, tree)
    assert state(tree) == ReportStatus.SUBMITTED
    commune("approve", people.ttyt_leader, tree)
    assert state(tree) == ReportStatus.APPROVED


def test_r_mch_06_a_higher_level_may_return_a_form_that_is_not_its_responsibility(forms, people, tree):
    commune("submit", people.tyt_reporter, tree)
    commune("return", people.cdc_leader, tree, reason="CDC phát hiện sai lệch")
    assert state(tree) == ReportStatus.RETURNED


def test_r_mch_06_approving_ones_own_report_is_refused(forms, people, tree):
    submit(actor=people.ttyt_reporter, form_code="BCH4", unit_code=tree.ttyt_a.code, period=P)
    with pytest.raises(
        PermissionDeniedError, match=r"Không được tự duyệt/hủy duyệt báo cáo của chính đơn vị mình\."
    ) as exc:
        s.report_approve(actor=people.ttyt_leader, form_code="BCH4", unit_code=tree.ttyt_a.code, period=P)
    assert "chính đơn vị mình" in exc.value.message
    s.report_approve(actor=people.cdc_leader, form_code="BCH4", unit_code=tree.ttyt_a.code, period=P)
    # the province report is approved by the Sở, the Sở's by the Ministry department
    submit(actor=people.cdc_reporter, form_code="BCT4", unit_code=tree.cdc_a.code, period=P)
    with pytest.raises(
        PermissionDeniedError, match=r"Chỉ đơn vị cấp trên phụ trách \(theo tuyến báo cáo\) mới được"
    ):
        s.report_approve(actor=people.dept_leader, form_code="BCT4", unit_code=tree.cdc_a.code, period=P)
    s.report_approve(actor=people.doh_leader, form_code="BCT4", unit_code=tree.cdc_a.code, period=P)


def test_r_mch_06_acting_outside_ones_jurisdiction_is_not_found(forms, people, tree):
    commune("submit", people.tyt_reporter, tree)
    with pytest.raises(Http404, match=r"Không tìm thấy\."):
        commune("approve", people.ttyt_b_leader, tree)
    with pytest.raises(Http404, match=r"Không tìm thấy\."):  # a sibling commune cannot see it either
        commune("recall", people.tyt2_reporter, tree)
    assert state(tree) == ReportStatus.SUBMITTED


def test_r_mch_05_only_the_sending_unit_submits_recalls_and_requests_unapproval(forms, people, tree):
    with pytest.raises(
        PermissionDeniedError, match=r"Chỉ đơn vị lập báo cáo mới được thực hiện thao tác này\."
    ):
        commune("submit", people.ttyt_leader, tree)
    with pytest.raises(PermissionDeniedError, match=r"Vai trò của bạn không được thực hiện thao tác này\."):
        submit(actor=people.ttyt_collector, form_code="BCH4", unit_code=tree.ttyt_a.code, period=P)


def test_r_mch_05_unapproval_needs_reason_and_second_factor(forms, people, tree):
    commune("submit", people.tyt_reporter, tree)
    commune("approve", people.ttyt_leader, tree)
    with pytest.raises(DomainError, match=r"Vui lòng nhập lý do\."):
        commune("request_unapproval", people.tyt_reporter, tree, reason="")
    commune("request_unapproval", people.tyt_reporter, tree, reason="Sửa số liệu")
    with pytest.raises(DomainError, match=r"Vui lòng nhập lý do\.") as exc:
        commune("unapprove", people.ttyt_leader, tree, reason="")
    assert exc.value.code == "reason_required"
    with pytest.raises(StepUpRequired, match=r"Thao tác quan trọng: vui lòng xác thực lại bằng mã hai lớp"):
        commune("unapprove", people.ttyt_leader, tree, reason="Đồng ý")
    assert state(tree) == ReportStatus.UNAPPROVAL_REQUESTED
    assert PeriodLock.objects.filter(unit=tree.tyt_a1).exists()


def test_r_mch_05_frozen_report_refuses_manual_edits(forms, people, tree):
    commune("submit", people.tyt_reporter, tree)
    with pytest.raises(Conflict, match=r"Báo cáo đã gửi hoặc đã duyệt:"):
        s.report_set_manual_values(
            actor=people.tyt_reporter,
            form_code="BCX3",
            unit_code=tree.tyt_a1.code,
            period=P,
            values={"I.1:total": 3},
        )
    with pytest.raises(
        ValidationFailed, match=r"Số liệu nhập tay chưa hợp lệ: không có ô nào được lưu\."
    ) as exc:  # computed cells are not editable; numbers only
        s.report_set_manual_values(
            actor=people.tyt2_reporter,
            form_code="BCX3",
            unit_code=tree.tyt_a2.code,
            period=P,
            values={"I.5:total": 3, "I.1:total": "abc"},
        )
    assert {e["field"] for e in exc.value.errors} == {"I.5:total", "I.1:total"}


def test_r_mch_05_validation_errors_block_and_warnings_need_a_comment(forms, people, tree):
    s.report_set_manual_values(
        actor=people.tyt_reporter,
        form_code="BCX3",
        unit_code=tree.tyt_a1.code,
        period=P,
        values={"I.1:total": 2, "I.1.1:total": 5},
    )
    with pytest.raises(ValidationFailed, match=r"Báo cáo chưa hợp lệ: sửa các lỗi trước khi gửi\.") as exc:
        commune("submit", people.tyt_reporter, tree)
    assert [e["rule"] for e in exc.value.errors] == ["sub-I.1.1-total"]
    assert state(tree) == ReportStatus.DRAFT


def test_r_mch_06_ministry_department_approves_the_provinces_yearly_network_report(
    forms, people, tree, make_user
):
    doh_reporter = make_user("reporter", tree.doh_a)
    kw = {"form_code": "MLBC1", "unit_code": tree.doh_a.code, "period": "2025"}
    s.report_set_manual_values(actor=doh_reporter, values={"N1:total": 120, "N1.1:total": 80}, **kw)
    submit(actor=doh_reporter, **kw)
    with pytest.raises(Http404, match=r"Không tìm thấy\."):
        s.report_approve(actor=people.cdc_leader, **kw)  # below the Sở: the report is not even visible
    with pytest.raises(
        PermissionDeniedError, match=r"Không được tự duyệt/hủy duyệt báo cáo của chính đơn vị mình\."
    ):
        s.report_approve(actor=people.doh_leader, **kw)  # its own report
    r = s.report_approve(actor=people.dept_leader, **kw)
    assert r.status == ReportStatus.APPROVED and r.snapshot is not None
    assert r.snapshot["values"]["N1:total"] == 120
