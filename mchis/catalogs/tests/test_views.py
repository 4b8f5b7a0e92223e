"""Catalog pages: everyone reads; only a system admin edits, and an edit is a new version."""

from __future__ import annotations

import pytest
from django.test import Client

from mchis.catalogs.models import CatalogItem

pytestmark = pytest.mark.usefixtures("catalogs")


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_r_org_03_catalog_pages_are_readable(tree, make_user) -> None:
    client = login(make_user("collector", tree.tyt_a1))
    assert "Dân tộc" in client.get("/catalogs/").content.decode()
    page = client.get("/catalogs/cause_of_death/?q=bang huyet").content.decode()
    assert "Băng huyết sau đẻ" in page and "Sản giật" not in page
    item = client.get("/catalogs/cause_of_death/items/O72/").content.decode()
    assert "Lịch sử phiên bản" in item and "Lưu phiên bản mới" not in item


def test_r_sec_02_only_system_admin_edits_through_the_page(tree, make_user) -> None:
    client = login(make_user("unit_admin", tree.cdc_a))
    response = client.post("/catalogs/sex/items/3/", {"name_vi": "X", "name_en": "", "version": 1})
    assert response.status_code == 403
    assert client.get("/catalogs/sex/add/").status_code == 403
    assert CatalogItem.objects.filter(catalog__code="sex", code="3").count() == 1


def test_r_org_03_edit_page_creates_version_and_shows_history(tree, make_user) -> None:
    client = login(make_user("system_admin", tree.ministry))
    response = client.post(
        "/catalogs/sex/items/3/",
        {
            "name_vi": "Không xác định",
            "name_en": "Unknown",
            "parent_code": "",
            "version": 1,
            "reason": "Chuẩn",
        },
    )
    assert response.status_code == 302
    versions = list(CatalogItem.objects.filter(catalog__code="sex", code="3").order_by("version"))
    assert [(v.version, v.name_vi, v.valid_to is None) for v in versions] == [
        (1, "Chưa xác định", False),
        (2, "Không xác định", True),
    ]
    page = client.get("/catalogs/sex/items/3/").content.decode()
    assert "Chưa xác định" in page and "Không xác định" in page
    stale = client.post("/catalogs/sex/items/3/", {"name_vi": "Cũ", "name_en": "", "version": 1})
    assert stale.status_code == 200
    assert "người khác sửa" in stale.content.decode()


def test_r_org_03_add_and_retire_through_the_pages(tree, make_user) -> None:
    client = login(make_user("system_admin", tree.ministry))
    response = client.post("/catalogs/support_type/add/", {"code": "", "name_vi": ""})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()  # errors shown on the fields
    client.post(
        "/catalogs/support_type/add/", {"code": "NHA_O", "name_vi": "Hỗ trợ nhà ở", "name_en": "Housing"}
    )
    assert CatalogItem.objects.filter(
        catalog__code="support_type", code="NHA_O", valid_to__isnull=True
    ).exists()
    client.post("/catalogs/support_type/items/NHA_O/retire/", {"reason": "Nhập sai"})
    assert not CatalogItem.objects.filter(
        catalog__code="support_type", code="NHA_O", valid_to__isnull=True
    ).exists()
