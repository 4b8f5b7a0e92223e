"""R-SEC-01: administration stays inside the subtree. Every write that names an administrative unit, a
village or a reporting unit checks it against the actor's jurisdiction, and its audit row is visible to the
owner of the object (issue 10, item 2)."""

from __future__ import annotations

import pytest

from mchis.core.errors import DomainError
from mchis.core.models import AuditEvent
from mchis.core.selectors import audit_events_visible_to
from mchis.places.models import Village, VillageKind
from mchis.places.services import manageable_communes, village_create, village_update
from mchis.units.models import ReportingUnit, UnitKind
from mchis.units.services import unit_create, unit_update


def test_r_sec_01_unit_admin_cannot_locate_a_unit_in_another_province(tree, make_user) -> None:
    # given the unit admin of province B
    admin_b = make_user("unit_admin", tree.doh_b)
    # when it creates a unit under its own subtree located in a commune of province A
    with pytest.raises(DomainError, match="không thuộc phạm vi") as err:
        unit_create(
            actor=admin_b,
            code="TYT-EVIL",
            name="Trạm giả",
            kind=UnitKind.TYT,
            admin_unit=tree.commune_a1,
            parent=tree.ttyt_b,
        )
    # then it is refused on the admin unit, nothing is written
    assert err.value.field == "admin_unit"
    assert not ReportingUnit.objects.filter(code="TYT-EVIL").exists()
    # and relocating an own unit there is refused the same way
    with pytest.raises(DomainError, match="không thuộc phạm vi"):
        unit_update(actor=admin_b, unit=tree.tyt_b1, admin_unit=tree.commune_a2)
    assert ReportingUnit.objects.get(pk=tree.tyt_b1.pk).admin_unit_id == tree.commune_b1.pk


def test_r_sec_01_unit_admin_locates_units_in_its_own_province(tree, make_user) -> None:
    # a province admin may place a new station in any commune of its province
    admin_a = make_user("unit_admin", tree.doh_a)
    unit = unit_create(
        actor=admin_a, code="TYT-NEW", name="Trạm mới", kind=UnitKind.TYT, admin_unit=tree.commune_a2,
        parent=tree.ttyt_a,
    )  # fmt: skip
    assert unit.admin_unit_id == tree.commune_a2.pk
    # a district admin only in the communes its stations cover
    ttyt_admin_b = make_user("unit_admin", tree.ttyt_b)
    with pytest.raises(DomainError, match="không thuộc phạm vi"):
        unit_create(
            actor=ttyt_admin_b, code="TYT-X", name="X", kind=UnitKind.TYT, admin_unit=tree.province_a,
            parent=tree.ttyt_b,
        )  # fmt: skip


def test_r_sec_01_a_unit_wrongly_located_abroad_opens_no_foreign_villages(tree, make_user) -> None:
    # given (legacy data) a unit of B located in A's commune
    unit_create(
        actor=None, code="TYT-OLD", name="Trạm cũ", kind=UnitKind.TYT, admin_unit=tree.commune_a1,
        parent=tree.ttyt_b,
    )  # fmt: skip
    admin_b = make_user("unit_admin", tree.doh_b)
    village = village_create(actor=None, commune=tree.commune_a1, name="Thôn Gốc", kind=VillageKind.THON)
    # then B's admin still manages only B's communes
    assert tree.commune_a1.pk not in set(manageable_communes(admin_b).values_list("pk", flat=True))
    with pytest.raises(DomainError, match="không thuộc phạm vi"):
        village_update(actor=admin_b, village=village, name="Thôn Đổi Tên", kind=VillageKind.THON)
    with pytest.raises(DomainError, match="không thuộc phạm vi"):
        village_create(actor=admin_b, commune=tree.commune_a1, name="Thôn Lạ", kind=VillageKind.THON)
    assert Village.objects.get(pk=village.pk).name == "Thôn Gốc"


def test_r_sec_05_village_audit_row_is_visible_to_the_villages_owner(tree, make_user) -> None:
    # given the ministry admin (nation-wide) adds a village in province A's commune
    ministry_admin = make_user("unit_admin", tree.ministry)
    village = village_create(actor=ministry_admin, commune=tree.commune_a1, name="Thôn 9", kind="thon")
    # then province A's auditor sees the row in its audit log, province B's does not
    auditor_a = make_user("auditor", tree.doh_a)
    auditor_b = make_user("auditor", tree.doh_b)
    rows = AuditEvent.objects.filter(action="village.create", object_id=str(village.pk))
    assert audit_events_visible_to(auditor_a).filter(pk__in=rows).count() == 1
    assert audit_events_visible_to(auditor_b).filter(pk__in=rows).count() == 0
