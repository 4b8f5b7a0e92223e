"""R-CH-06: correction requests from a managing body, due in 1 working day, overdue flagged to both sides."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from mchis.core.errors import DomainError, PermissionDeniedError
from mchis.registry.models import CorrectionRequest, CorrectionStatus
from mchis.registry.selectors import corrections_involving
from mchis.registry.services import correction_request_file, correction_request_respond
from mchis.registry.workdays import add_working_days, is_working_day

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_r_ch_06_one_working_day_skips_weekends_and_holidays():
    friday = datetime(2026, 11, 20, 9, 0, tzinfo=HCM)
    assert add_working_days(friday, 1) == datetime(2026, 11, 23, 9, 0, tzinfo=HCM)
    assert not is_working_day(date(2026, 9, 2))  # Quốc khánh
    before_national_day = datetime(2026, 9, 1, 10, 0, tzinfo=HCM)  # 1/9 and 2/9 are holidays in 2026
    due = add_working_days(before_national_day, 1)
    assert due.date() > date(2026, 9, 2) and is_working_day(due.date())


@pytest.fixture
def district_leader(make_user, tree):
    return make_user("leader", tree.ttyt_a, username="lanh_dao_ttyt")


def test_r_ch_06_higher_unit_files_and_commune_answers(district_leader, collector, make_child):
    child = make_child()
    correction = correction_request_file(
        actor=district_leader,
        child=child,
        description="Ngày sinh không khớp giấy khai sinh",
        field="date_of_birth",
    )
    assert correction.due_at > correction.filed_at
    with pytest.raises(
        DomainError, match=r"Nội dung trả lời: bắt buộc nhập \(sửa gì hoặc lý do không sửa\)\."
    ):
        correction_request_respond(actor=collector, correction=correction, response=" ")
    answered = correction_request_respond(
        actor=collector, correction=correction, response="Giấy khai sinh ghi đúng 12/03/2018"
    )
    assert answered.status == CorrectionStatus.ANSWERED


def test_r_ch_06_only_a_higher_unit_may_file(leader, make_child, make_user, tree):
    child = make_child()
    with pytest.raises(
        PermissionDeniedError, match=r"Chỉ đơn vị quản lý cấp trên mới gửi yêu cầu chỉnh sửa\."
    ):
        correction_request_file(actor=leader, child=child, description="x")  # same unit
    with pytest.raises(
        PermissionDeniedError, match=r"Chỉ đơn vị quản lý cấp trên mới gửi yêu cầu chỉnh sửa\."
    ):
        correction_request_file(actor=make_user("leader", tree.ttyt_b), child=child, description="x")


def test_r_ch_06_overdue_is_flagged_to_both_sides(district_leader, collector, make_child, make_user, tree):
    from mchis.registry.cards import registry_cards

    child = make_child()
    correction = correction_request_file(actor=district_leader, child=child, description="Sai tên mẹ")
    CorrectionRequest.objects.filter(pk=correction.pk).update(due_at=timezone.now() - timedelta(hours=1))
    for user in (district_leader, collector):
        assert list(corrections_involving(user).overdue()) == [correction]
        assert any(
            card.title == "Yêu cầu chỉnh sửa quá hạn" and card.value == 1 for card in registry_cards(user)
        )
    outsider = make_user("leader", tree.ttyt_b)
    assert not corrections_involving(outsider).exists()
