"""R-CH-05 maker-checker, R-CH-08 ID rules at entry, evidence files, deletion and merge (R-SEC-04)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from mchis.core.errors import Conflict, DomainError, PermissionDeniedError, StepUpRequired, ValidationFailed
from mchis.core.models import AuditEvent
from mchis.registry import evidence as ev
from mchis.registry.models import ChangeRequest, Child, ChildStatus, Evidence, RequestStatus
from mchis.registry.personal_id import compose
from mchis.registry.services import (
    WarningsNotAcknowledged,
    change_request_approve,
    change_request_reject,
    change_request_resubmit,
    change_request_return_for_correction,
    child_propose_change,
    child_propose_create,
    child_propose_delete,
    merge_request_create,
)
from mchis.registry.tests.conftest import VALID_DATA

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"x" * 64


def test_r_ch_05_collector_proposes_and_leader_approve_creates_the_record(collector, leader, unit):
    request = child_propose_create(actor=collector, unit=unit, data=VALID_DATA, reason="Sổ theo dõi")
    assert request.status == RequestStatus.PENDING
    assert Child.objects.count() == 0, "a proposal never writes a live record"

    approved = change_request_approve(actor=leader, request=request)

    child = approved.child
    assert child is not None and child.full_name == "Nguyễn Văn An"
    assert child.name_folded == "nguyen van an"
    assert child.version == 1
    assert approved.decided_by == leader
    assert AuditEvent.objects.filter(action="child.create", object_id=str(child.public_id)).exists()


def test_r_ch_05_collector_cannot_edit_live_record(collector, make_child):
    child = make_child()
    request = child_propose_change(
        actor=collector, child=child, changes={"full_name": "Nguyễn Văn Ân"}, reason="Sai dấu"
    )
    child.refresh_from_db()
    assert child.full_name == "Nguyễn Văn An", "the live record is untouched until approval"
    assert request.diff == {"full_name": ["Nguyễn Văn An", "Nguyễn Văn Ân"]}
    with pytest.raises(PermissionDeniedError, match=r"Bạn không có quyền thực hiện thao tác này\."):
        change_request_approve(actor=collector, request=request)


def test_r_ch_05_only_a_leader_of_the_same_unit_decides(collector, make_child, make_user, tree, stepped_up):
    child = make_child()
    request = child_propose_change(
        actor=collector, child=child, changes={"sex": "F"}, reason="Sai giới tính", acknowledge_warnings=True
    )
    other_leader = make_user("leader", tree.tyt_a2)
    higher_leader = make_user("leader", tree.ttyt_a)
    for actor in (other_leader, higher_leader):
        with pytest.raises(
            PermissionDeniedError, match=r"Chỉ lãnh đạo của đơn vị quản lý hồ sơ mới được duyệt đề xuất này\."
        ):
            change_request_approve(actor=actor, request=request)
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


def test_r_ch_05_reject_and_return_need_a_comment(collector, leader, unit):
    request = child_propose_create(actor=collector, unit=unit, data=VALID_DATA)
    with pytest.raises(DomainError, match=r"Ý kiến: bắt buộc nhập khi từ chối hoặc trả lại\.") as exc:
        change_request_reject(actor=leader, request=request, comment="  ")
    assert exc.value.field == "comment"
    rejected = change_request_reject(actor=leader, request=request, comment="Trùng hồ sơ")
    assert rejected.status == RequestStatus.REJECTED
    assert Child.objects.count() == 0


def test_r_ch_05_returned_request_is_corrected_and_resubmitted(collector, leader, make_child, stepped_up):
    child = make_child()
    request = child_propose_change(
        actor=collector, child=child, changes={"mother_name": "Trần Thị Cú"}, reason="Sai tên mẹ"
    )
    returned = change_request_return_for_correction(
        actor=leader, request=request, comment="Tên mẹ thiếu dấu?"
    )
    assert returned.status == RequestStatus.RETURNED
    with pytest.raises(Conflict, match=r"Đề xuất này đã được xử lý \(Trả lại để sửa\)"):
        change_request_approve(actor=leader, request=returned)

    resubmitted = change_request_resubmit(
        actor=collector, request=returned, data={"mother_name": "Trần Thị Cúc Hoa"}
    )
    assert resubmitted.status == RequestStatus.PENDING
    assert resubmitted.diff == {"mother_name": ["Trần Thị Cúc", "Trần Thị Cúc Hoa"]}
    change_request_approve(actor=leader, request=resubmitted)
    child.refresh_from_db()
    assert child.mother_name == "Trần Thị Cúc Hoa"
    assert child.version == 2


def test_r_ch_05_same_client_key_creates_nothing_twice(collector, unit):
    first = child_propose_create(actor=collector, unit=unit, data=VALID_DATA, client_key="k-1")
    again = child_propose_create(actor=collector, unit=unit, data=VALID_DATA, client_key="k-1")
    assert first.pk == again.pk
    assert ChangeRequest.objects.count() == 1


def test_r_ch_05_every_invalid_field_is_named(collector, unit):
    bad = {"full_name": "An3", "date_of_birth": "31/02/2018", "sex": "X"}
    with pytest.raises(ValidationFailed, match=r"Dữ liệu không hợp lệ\.") as exc:
        child_propose_create(actor=collector, unit=unit, data=bad)
    fields = {str(e["field"]) for e in exc.value.errors}
    assert {"date_of_birth", "sex"} <= fields
    assert all(e["message"] for e in exc.value.errors)


def test_r_ch_08_malformed_id_is_an_error(collector, unit):
    with pytest.raises(ValidationFailed, match=r"Dữ liệu không hợp lệ\.") as exc:
        child_propose_create(actor=collector, unit=unit, data={**VALID_DATA, "personal_id": "12345"})
    assert exc.value.errors[0]["field"] == "personal_id"
    assert "12 chữ số" in str(exc.value.errors[0]["message"])


def test_r_ch_08_inconsistent_id_must_be_acknowledged(collector, unit):
    wrong_year = compose(prefix="008", birth_year=2016, sex="M", serial=9)
    data = {**VALID_DATA, "personal_id": wrong_year}
    with pytest.raises(
        WarningsNotAcknowledged, match=r"Có cảnh báo cần xác nhận đã kiểm tra trước khi gửi đề xuất\."
    ) as exc:
        child_propose_create(actor=collector, unit=unit, data=data)
    assert exc.value.errors[0]["code"] == "id_year_mismatch"
    request = child_propose_create(actor=collector, unit=unit, data=data, acknowledge_warnings=True)
    assert request.warnings_acknowledged and request.warnings[0]["code"] == "id_year_mismatch"


def test_r_ch_05_evidence_is_sniffed_by_content_and_stored_by_checksum(
    collector, unit, evidence_dir, settings
):
    request = child_propose_create(
        actor=collector, unit=unit, data=VALID_DATA, evidence=[ev.EvidenceFile("trang-so.png", PNG)]
    )
    stored = Evidence.objects.get(change_request=request)
    assert stored.content_type == "image/png"
    assert ev.path_for(stored.sha256).read_bytes() == PNG
    assert str(ev.path_for(stored.sha256)).startswith(str(evidence_dir))

    with pytest.raises(
        DomainError, match=r"Tệp minh chứng 'gia\.pdf' không phải PDF, JPEG hoặc PNG"
    ) as exc:  # a text file renamed to .pdf
        child_propose_create(
            actor=collector, unit=unit, data=VALID_DATA, evidence=[ev.EvidenceFile("gia.pdf", b"hello")]
        )
    assert "PDF, JPEG hoặc PNG" in exc.value.message
    settings.EVIDENCE_MAX_BYTES = 32
    with pytest.raises(DomainError, match=r"Tệp minh chứng 'to\.pdf' vượt quá 0 MB\.") as exc:
        child_propose_create(
            actor=collector, unit=unit, data=VALID_DATA, evidence=[ev.EvidenceFile("to.pdf", PDF)]
        )
    assert "vượt quá" in exc.value.message
    assert ChangeRequest.objects.count() == 1, "a refused upload writes no request"


def test_r_sec_04_deletion_needs_step_up_and_is_soft(collector, leader, make_child):
    child = make_child()
    request = child_propose_delete(actor=collector, child=child, reason="Chuyển đi nơi khác")
    with pytest.raises(StepUpRequired, match=r"Thao tác quan trọng: vui lòng xác thực lại bằng mã hai lớp"):
        change_request_approve(actor=leader, request=request)
    from django.utils import timezone

    from mchis.core.context import RequestMeta, reset_meta, set_meta

    token = set_meta(RequestMeta(step_up_at=timezone.now()))
    try:
        change_request_approve(actor=leader, request=request)
    finally:
        reset_meta(token)
    child.refresh_from_db()
    assert child.status == ChildStatus.DELETED
    assert child.deleted_reason == "Chuyển đi nơi khác"
    assert Child.objects.filter(pk=child.pk).exists()


def test_r_ch_04_merge_keeps_both_histories_and_points_to_survivor(collector, leader, make_child, stepped_up):
    survivor = make_child(personal_id="")
    retired = make_child(full_name="Nguyễn Văn Ann", guardian_name="Nguyễn Thị Dung")
    request = merge_request_create(actor=collector, survivor=survivor, retired=retired, reason="Trùng hồ sơ")
    change_request_approve(actor=leader, request=request)
    survivor.refresh_from_db()
    retired.refresh_from_db()
    assert retired.status == ChildStatus.MERGED and retired.merged_into == survivor
    assert survivor.guardian_name == "Nguyễn Thị Dung", "blank fields are filled from the retired record"
    assert survivor.personal_id == retired.personal_id
    from mchis.registry.selectors import child_history

    history = list(child_history(survivor))
    assert {v.child_id for v in history} == {survivor.pk, retired.pk}


def test_r_ch_05_stale_request_conflicts(collector, leader, make_child, stepped_up):
    child = make_child()
    first = child_propose_change(
        actor=collector, child=child, changes={"mother_name": "Lê Thị Mai"}, reason="a"
    )
    second = child_propose_change(
        actor=collector, child=child, changes={"mother_name": "Lê Thị Lan"}, reason="b"
    )
    change_request_approve(actor=leader, request=first)
    with pytest.raises(Conflict, match=r"Họ tên mẹ: hồ sơ đã được thay đổi sau khi đề xuất;") as exc:
        change_request_approve(actor=leader, request=second)
    assert exc.value.field == "mother_name"


def test_r_ch_05_second_decision_gets_a_clear_conflict(collector, leader, leader2, unit):
    request = child_propose_create(actor=collector, unit=unit, data=VALID_DATA)
    change_request_approve(actor=leader, request=request)
    with pytest.raises(Conflict, match=r"Đề xuất này đã được xử lý \(Đã duyệt\)") as exc:
        change_request_reject(actor=leader2, request=request, comment="không")
    assert "đã được xử lý" in exc.value.message and "lanh_dao" in exc.value.message


@pytest.mark.django_db(transaction=True)
def test_r_ch_05_two_leaders_approving_at_once_exactly_one_wins(tree, make_user):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises whole-database writes)")
    unit = tree.tyt_a1
    collector = make_user("collector", unit)
    leaders = [make_user("leader", unit), make_user("leader", unit)]
    request = child_propose_create(actor=collector, unit=unit, data=VALID_DATA)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(leader):
        try:
            barrier.wait()
            change_request_approve(actor=leader, request=request)
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append("conflict:" + exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(leader,)) for leader in leaders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"]
    assert Child.objects.count() == 1
    assert "đã được xử lý" in next(o for o in outcomes if o.startswith("conflict"))
