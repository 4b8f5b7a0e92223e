"""Merges across communes need both communes (issue 10 item 4; R-CH-04, R-CH-05, R-SEC-01): the request
belongs to the common parent unit, whose leader decides while both communes' leaders are notified; neither
commune's staff sees the other's record through the request; a pair the duplicate model scores as clearly
different needs an explicit override reason."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from mchis.core.errors import DomainError, PermissionDeniedError
from mchis.core.scoping import visible_to
from mchis.registry.models import ChangeRequest, ChildStatus
from mchis.registry.personal_id import compose
from mchis.registry.services import change_request_approve, child_propose_create, merge_request_create

from .conftest import VALID_DATA


def _child(make_user: Any, unit: Any, **overrides: Any) -> Any:
    collector = make_user("collector", unit)
    leader = make_user("leader", unit)
    request = child_propose_create(
        actor=collector, unit=unit, data={**VALID_DATA, **overrides}, reason="Sổ", acknowledge_warnings=True
    )
    return change_request_approve(actor=leader, request=request).child


@pytest.fixture
def pair(tree, make_user):
    a1 = _child(make_user, tree.tyt_a1, personal_id="")
    a2 = _child(make_user, tree.tyt_a2, full_name="Nguyễn Văn Ann", guardian_name="Zz Người Giám Hộ Xã Hai")
    return a1, a2


def test_r_ch_04_cross_commune_merge_is_decided_by_the_common_parent_with_both_notified(
    tree, make_user, pair, stepped_up, django_capture_on_commit_callbacks
):
    survivor, retired = pair
    leader_a1 = make_user("leader", tree.tyt_a1)
    leader_a2 = make_user("leader", tree.tyt_a2)
    for person, email in ((leader_a1, "a1@example.vn"), (leader_a2, "a2@example.vn")):
        type(person).objects.filter(pk=person.pk).update(email=email)
    district, district2 = make_user("leader", tree.ttyt_a), make_user("leader", tree.ttyt_a)
    # when the district proposes merging A2's record into A1's
    with pytest.raises(PermissionDeniedError, match="phải thuộc phạm vi quản lý của bạn"):
        merge_request_create(actor=make_user("collector", tree.tyt_a1), survivor=survivor, retired=retired,
                             reason="Trùng")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        request = merge_request_create(actor=district, survivor=survivor, retired=retired, reason="Trùng")
    # then the request belongs to the common parent (TTYT), not to either commune
    assert request.unit_id == tree.ttyt_a.pk
    viewer_a1 = make_user("viewer", tree.tyt_a1)
    assert not visible_to(ChangeRequest.objects.filter(pk=request.pk), viewer_a1).exists()
    assert not visible_to(ChangeRequest.objects.filter(pk=request.pk), leader_a1).exists()
    # both communes' leaders are notified, without the other commune's personal data
    sent = {address: m.body for m in mail.outbox for address in m.to}
    assert {"a1@example.vn", "a2@example.vn"} <= set(sent)
    assert all("Zz Người Giám Hộ" not in body and retired.full_name not in body for body in sent.values())
    # the survivor's commune leader cannot decide; another district leader can
    with pytest.raises(PermissionDeniedError, match="mới được duyệt đề xuất này"):
        change_request_approve(actor=leader_a1, request=request)
    change_request_approve(actor=district2, request=request)
    retired.refresh_from_db()
    assert retired.status == ChildStatus.MERGED and retired.merged_into_id == survivor.pk


def test_r_ch_04_merging_clearly_different_children_needs_an_override_reason(tree, make_user):
    a = _child(make_user, tree.tyt_a1)
    b = _child(make_user, tree.tyt_a1, full_name="Lò Thị Mai", sex="F", date_of_birth="01/09/2015",
               personal_id=compose(prefix="008", birth_year=2015, sex="F", serial=999),
               mother_name="Lò Thị Xoan", father_name="Lò Văn Pánh")  # fmt: skip
    collector = make_user("collector", tree.tyt_a1)
    with pytest.raises(DomainError, match="khác nhau") as err:
        merge_request_create(actor=collector, survivor=a, retired=b, reason="Trùng")
    assert err.value.field == "override_reason"
    assert not ChangeRequest.objects.filter(kind="merge").exists()
    request = merge_request_create(
        actor=collector,
        survivor=a,
        retired=b,
        reason="Trùng",
        override_reason="Giấy khai sinh gốc: cùng một trẻ",
    )
    assert "Giấy khai sinh gốc" in request.reason and request.diff["match_probability"][1] < 0.5
