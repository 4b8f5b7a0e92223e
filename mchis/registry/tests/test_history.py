"""R-CH-04 full history with "as of" any date; R-CH-07 delay between event and entry."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from mchis.registry.models import ChildVersion
from mchis.registry.selectors import child_as_of, child_history
from mchis.registry.services import change_request_approve, child_propose_change


def test_r_ch_04_every_approved_change_is_a_history_entry(collector, leader, make_child, stepped_up):
    child = make_child()
    request = child_propose_change(
        actor=collector, child=child, changes={"ethnicity_code": "02"}, reason="Sai dân tộc"
    )
    change_request_approve(actor=leader, request=request)
    versions = list(child_history(child))
    assert [v.version for v in versions] == [1, 2]
    last = versions[-1]
    assert last.diff == {"ethnicity_code": ["01", "02"]}
    assert last.proposed_by == collector and last.approved_by == leader
    assert last.reason == "Sai dân tộc"
    assert last.snapshot["ethnicity_code"] == "02"


def test_r_ch_04_record_as_of_a_past_date(collector, leader, make_child, stepped_up):
    child = make_child()
    v1 = ChildVersion.objects.get(child=child, version=1)
    ChildVersion.objects.filter(pk=v1.pk).update(approved_at=timezone.now() - timedelta(days=10))
    request = child_propose_change(
        actor=collector, child=child, changes={"full_name": "Nguyễn Văn Bảo"}, reason="Đổi tên"
    )
    change_request_approve(actor=leader, request=request)

    past = child_as_of(child, timezone.localdate() - timedelta(days=5))
    now = child_as_of(child, timezone.localdate())
    assert past is not None and past["full_name"] == "Nguyễn Văn An" and past["version"] == 1
    assert now is not None and now["full_name"] == "Nguyễn Văn Bảo"
    assert child_as_of(child, timezone.localdate() - timedelta(days=30)) is None


def test_r_ch_07_event_date_and_entry_delay_are_recorded(collector, leader, make_child, stepped_up):
    child = make_child()
    event = timezone.localdate() - timedelta(days=9)
    request = child_propose_change(
        actor=collector,
        child=child,
        changes={"guardian_name": "Lò Văn Páo"},
        reason="Có người giám hộ",
        event_date=event,
    )
    assert request.entry_delay_days == 9
    change_request_approve(actor=leader, request=request)
    version = ChildVersion.objects.get(child=child, version=2)
    assert version.event_date == event and version.entry_delay_days == 9


def test_r_ch_07_event_date_cannot_be_in_the_future(collector, make_child):
    import pytest

    from mchis.core.errors import DomainError

    child = make_child()
    with pytest.raises(DomainError, match=r"Ngày xảy ra thay đổi: không được sau ngày hôm nay\.") as exc:
        child_propose_change(
            actor=collector,
            child=child,
            changes={"guardian_name": "A B"},
            reason="x",
            event_date=date.today() + timedelta(days=3),
        )
    assert exc.value.field == "event_date"


def test_r_ch_04_hooks_fire_after_commit_with_the_changed_records(
    collector, leader, unit, django_capture_on_commit_callbacks
):
    from mchis.registry import hooks
    from mchis.registry.services import child_propose_create
    from mchis.registry.tests.conftest import VALID_DATA

    seen: list[list[int]] = []
    hooks.on_children_changed(seen.append)
    try:
        request = child_propose_create(actor=collector, unit=unit, data=VALID_DATA)
        with django_capture_on_commit_callbacks(execute=True):
            approved = change_request_approve(actor=leader, request=request)
        assert seen == [[approved.child_id]]
    finally:
        hooks._callbacks.remove(seen.append)
