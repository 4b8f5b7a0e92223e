"""Villages under 2025 communes: audited services, unit admins limited to their subtree's communes."""

from __future__ import annotations

import pytest
from django.test import Client

from mchis.core.errors import DomainError, PermissionDeniedError
from mchis.core.models import AuditEvent
from mchis.places.models import Village, VillageKind
from mchis.places.services import manageable_communes, village_create, village_deactivate, village_update


def test_r_org_01_village_create_update_deactivate_are_audited(tree, make_user) -> None:
    admin = make_user("unit_admin", tree.ttyt_a)
    village = village_create(
        actor=admin, commune=tree.commune_a1, name="Tổ dân phố  1", kind=VillageKind.TO_DAN_PHO
    )
    assert (village.code, village.name) == ("001", "Tổ dân phố 1")
    second = village_create(
        actor=admin, commune=tree.commune_a1, name="Thôn Làng Chang", kind=VillageKind.THON
    )
    assert second.code == "002"
    village_update(actor=admin, village=second, name="Thôn Làng Chang Mới", kind=VillageKind.BAN)
    village_deactivate(actor=admin, village=village, reason="Sáp nhập tổ")
    actions = list(AuditEvent.objects.filter(object_type="village").values_list("action", "changes"))
    assert [a for a, _ in actions] == [
        "village.create",
        "village.create",
        "village.update",
        "village.deactivate",
    ]
    assert actions[2][1] == {"name": ["Thôn Làng Chang", "Thôn Làng Chang Mới"], "kind": ["thon", "ban"]}
    assert not Village.objects.get(pk=village.pk).active


def test_r_org_01_village_name_is_unique_in_its_commune(tree) -> None:
    village_create(actor=None, commune=tree.commune_a1, name="Thôn 1", kind=VillageKind.THON)
    with pytest.raises(DomainError, match="đã có"):
        village_create(actor=None, commune=tree.commune_a1, name="thôn 1", kind=VillageKind.THON)
    village_create(actor=None, commune=tree.commune_a2, name="Thôn 1", kind=VillageKind.THON)


def test_r_org_01_villages_only_under_2025_communes(tree) -> None:
    with pytest.raises(DomainError, match="mã 2025"):
        village_create(actor=None, commune=tree.province_a, name="Thôn 1", kind=VillageKind.THON)


def test_r_sec_01_unit_admin_manages_villages_only_in_its_subtree_communes(tree, make_user) -> None:
    admin_b = make_user("unit_admin", tree.ttyt_b)
    assert set(manageable_communes(admin_b).values_list("code", flat=True)) == {"01273"}
    with pytest.raises(DomainError, match=r"Xã/phường này không thuộc phạm vi đơn vị của bạn\.") as err:
        village_create(actor=admin_b, commune=tree.commune_a1, name="Thôn X", kind=VillageKind.THON)
    assert err.value.code == "out_of_scope"
    with pytest.raises(PermissionDeniedError, match=r"Bạn không có quyền thực hiện thao tác này\."):
        village_create(
            actor=make_user("collector", tree.ttyt_b), commune=tree.commune_b1, name="Thôn X", kind="thon"
        )
    assert not Village.objects.exists()


def test_r_sec_01_village_pages_are_scoped(tree, make_user) -> None:
    client = Client()
    client.force_login(make_user("unit_admin", tree.ttyt_a))
    listing = client.get("/places/villages/").content.decode()
    assert "Phường Minh Xuân" in listing and "Phường Thục Phán" not in listing
    assert client.get("/places/villages/01273/").status_code == 404
    response = client.post("/places/villages/02269/", {"name": "Tổ 5", "kind": "to_dan_pho", "code": ""})
    assert response.status_code == 302
    village = Village.objects.get(commune=tree.commune_a1)
    page = client.get("/places/villages/02269/").content.decode()
    assert "Tổ dân phố Tổ 5" in page
    client.post(f"/places/villages/02269/{village.pk}/", {"name": "Tổ 6", "kind": "to_dan_pho"})
    assert Village.objects.get(pk=village.pk).name == "Tổ 6"
    client.post(f"/places/villages/02269/{village.pk}/", {"deactivate": "1", "reason": "Sáp nhập"})
    assert not Village.objects.get(pk=village.pk).active
    duplicate = client.post("/places/villages/02269/", {"name": "Tổ 6", "kind": "to_dan_pho", "code": ""})
    assert "Xã đã có thôn/tổ dân phố" in duplicate.content.decode()
    other = Client()
    other.force_login(make_user("collector", tree.ttyt_a))
    assert other.get("/places/villages/").status_code == 403


def test_nav_shows_villages_link_to_managers_only(tree, make_user) -> None:
    admin, collector = Client(), Client()
    admin.force_login(make_user("unit_admin", tree.ttyt_a))
    collector.force_login(make_user("collector", tree.ttyt_a))
    assert 'href="/places/villages/"' in admin.get("/catalogs/").content.decode()
    assert 'href="/places/villages/"' not in collector.get("/catalogs/").content.decode()


def test_r_org_01_unit_admin_confirms_a_village_an_import_added(tree, make_user) -> None:
    # given a pending village (added by an import from a name not in the list)
    village = Village.objects.create(
        commune=tree.commune_a1, code="007", name="Nà Phạ", kind="ban", pending=True
    )
    client = Client()
    client.force_login(make_user("unit_admin", tree.ttyt_a))
    # when the unit admin opens it, then it says why it is pending and offers to confirm
    page = client.get(f"/places/villages/02269/{village.pk}/").content.decode()
    assert "Xác nhận thôn/tổ dân phố" in page
    client.post(f"/places/villages/02269/{village.pk}/", {"confirm": "1"})
    village.refresh_from_db()
    assert village.pending is False
    assert AuditEvent.objects.filter(action="village.confirm", object_id=str(village.pk)).exists()
    with pytest.raises(DomainError, match="đã được xác nhận"):
        from mchis.places.services import village_confirm

        village_confirm(actor=None, village=village)
