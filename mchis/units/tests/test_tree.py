"""R-ORG-02: the reporting-unit tree, its one-query subtree, dated moves and their history."""

from __future__ import annotations

from datetime import date

import pytest

from mchis.core.errors import DomainError, PermissionDeniedError
from mchis.core.models import AuditEvent
from mchis.units.models import ReportingUnit, UnitKind, UnitPlacement
from mchis.units.selectors import units_under
from mchis.units.services import unit_create, unit_deactivate, unit_move, unit_update

MOVE_DAY = date(2025, 7, 1)
BEFORE = date(2025, 6, 30)


def codes(qs) -> set[str]:
    return set(qs.values_list("code", flat=True))


def test_r_org_02_subtree_now_is_one_query(tree, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        found = {u.code for u in units_under(tree.cdc_a)}
    assert found == {"CDC08", "TTYT08-01", "TYT02269", "TYT02296"}
    assert "LIKE" in str(units_under(tree.cdc_a).query).upper()


def test_r_org_02_subtree_on_past_date_after_move_uses_old_tree(tree) -> None:
    # given TTYT A (with its two TYT) moves from CDC A to CDC B on 1 July 2025
    unit_move(actor=None, unit=tree.ttyt_a, new_parent=tree.cdc_b, on=MOVE_DAY, reason="Sáp nhập tỉnh")
    moved = {"TTYT08-01", "TYT02269", "TYT02296"}
    # then today's tree has them under CDC B
    assert moved <= codes(units_under(tree.cdc_b))
    assert not moved & codes(units_under(tree.cdc_a))
    # and the tree of 30 June 2025 still has them under CDC A
    assert codes(units_under(tree.cdc_a, on=BEFORE)) == {"CDC08"} | moved
    assert codes(units_under(tree.cdc_b, on=BEFORE)) == {"CDC04", "TTYT04-01", "TYT01273"}
    # on the move day itself the new tree applies
    assert moved <= codes(units_under(tree.cdc_b, on=MOVE_DAY))
    assert codes(units_under(tree.ministry, on=BEFORE)) == codes(units_under(tree.ministry))


def test_r_org_02_move_rewrites_paths_and_placements_of_whole_subtree(tree) -> None:
    unit_move(actor=None, unit=tree.ttyt_a, new_parent=tree.cdc_b, on=MOVE_DAY, reason="Sáp nhập")
    tyt = ReportingUnit.objects.get(code="TYT02269")
    ttyt = ReportingUnit.objects.get(code="TTYT08-01")
    assert ttyt.parent == tree.cdc_b
    assert ttyt.path == f"{tree.cdc_b.path}{ttyt.pk}/"
    assert tyt.path == f"{ttyt.path}{tyt.pk}/"
    assert tyt.depth == ttyt.depth + 1 == tree.cdc_b.depth + 2
    history = list(UnitPlacement.objects.filter(unit=tyt).order_by("valid_from"))
    assert [(p.valid_from, p.valid_to) for p in history] == [(date(2000, 1, 1), MOVE_DAY), (MOVE_DAY, None)]
    assert history[0].path == tree.tyt_a1.path and history[1].path == tyt.path
    assert history[1].parent == ttyt  # a descendant keeps its parent, only the path changes
    event = AuditEvent.objects.get(action="unit.move")
    assert event.reason == "Sáp nhập"
    assert event.changes["parent"] == ["CDC08", "CDC04"]
    assert event.changes["units_moved"] == [None, 3]


def test_r_org_02_move_refuses_cycles(tree) -> None:
    with pytest.raises(
        DomainError, match=r"Không thể chuyển đơn vị vào chính nó hoặc đơn vị cấp dưới của nó\."
    ) as err:
        unit_move(actor=None, unit=tree.cdc_a, new_parent=tree.tyt_a1, on=MOVE_DAY, reason="x")
    assert err.value.code == "cycle"
    with pytest.raises(
        DomainError, match=r"Không thể chuyển đơn vị vào chính nó hoặc đơn vị cấp dưới của nó\."
    ):
        unit_move(actor=None, unit=tree.cdc_a, new_parent=tree.cdc_a, on=MOVE_DAY, reason="x")
    assert ReportingUnit.objects.get(pk=tree.cdc_a.pk).path == tree.cdc_a.path


def test_r_org_02_move_needs_reason_and_a_date_after_the_current_placement(tree) -> None:
    with pytest.raises(DomainError, match="lý do"):
        unit_move(actor=None, unit=tree.ttyt_a, new_parent=tree.cdc_b, on=MOVE_DAY, reason=" ")
    unit_move(actor=None, unit=tree.ttyt_a, new_parent=tree.cdc_b, on=MOVE_DAY, reason="một")
    with pytest.raises(DomainError, match="sau ngày bắt đầu"):
        unit_move(actor=None, unit=tree.ttyt_a, new_parent=tree.cdc_a, on=MOVE_DAY, reason="hai")


def test_r_sec_01_unit_admin_moves_only_inside_its_subtree(tree, make_user) -> None:
    admin_a = make_user("unit_admin", tree.cdc_a)
    with pytest.raises(DomainError, match=r"Đơn vị 'TTYT04\-01' không thuộc phạm vi của bạn\.") as err:
        unit_move(actor=admin_a, unit=tree.tyt_a1, new_parent=tree.ttyt_b, on=MOVE_DAY, reason="x")
    assert err.value.code == "out_of_scope"
    new_ttyt = unit_create(
        actor=admin_a,
        code="TTYT08-02",
        name="TTYT khu vực 2",
        kind=UnitKind.TTYT,
        admin_unit=tree.commune_a2,
        parent=tree.cdc_a,
    )
    unit_move(actor=admin_a, unit=tree.tyt_a2, new_parent=new_ttyt, on=MOVE_DAY, reason="Tách TTYT")
    assert ReportingUnit.objects.get(pk=tree.tyt_a2.pk).parent == new_ttyt
    collector = make_user("collector", tree.cdc_a)
    with pytest.raises(PermissionDeniedError, match=r"Bạn không có quyền thực hiện thao tác này\."):
        unit_move(actor=collector, unit=tree.tyt_a2, new_parent=tree.ttyt_a, on=MOVE_DAY, reason="x")


def test_r_sec_01_unit_admin_cannot_create_outside_or_at_root(tree, make_user) -> None:
    admin_a = make_user("unit_admin", tree.cdc_a)
    for parent, why in ((tree.cdc_b, "không thuộc phạm vi của bạn"), (None, "được tạo đơn vị gốc")):
        with pytest.raises(DomainError, match=why):
            unit_create(
                actor=admin_a,
                code="X1",
                name="X",
                kind=UnitKind.TYT,
                admin_unit=tree.commune_b1,
                parent=parent,
            )
    assert not ReportingUnit.objects.filter(code="X1").exists()


def test_r_org_02_update_is_audited_and_deactivate_needs_empty_subtree(tree, make_user) -> None:
    admin = make_user("system_admin", tree.ministry)
    unit_update(actor=admin, unit=tree.tyt_a1, name="Trạm Y tế phường Minh Xuân mới", kind=UnitKind.TYT)
    event = AuditEvent.objects.get(action="unit.update")
    assert event.changes == {"name": ["Trạm Y tế phường Minh Xuân", "Trạm Y tế phường Minh Xuân mới"]}
    with pytest.raises(DomainError, match="cấp dưới"):
        unit_deactivate(actor=admin, unit=tree.ttyt_a, reason="Giải thể")
    unit_deactivate(actor=admin, unit=tree.tyt_a1, reason="Giải thể")
    assert not ReportingUnit.objects.get(pk=tree.tyt_a1.pk).active
    with pytest.raises(DomainError, match="ngừng hoạt động"):
        unit_move(actor=admin, unit=tree.tyt_a2, new_parent=tree.tyt_a1, on=MOVE_DAY, reason="x")
