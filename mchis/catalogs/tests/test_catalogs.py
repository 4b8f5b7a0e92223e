"""R-ORG-03: seeded, versioned shared catalogs; a change is a new version, never an overwrite."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from mchis.catalogs.models import Catalog, CatalogItem
from mchis.catalogs.selectors import (
    catalog_choices,
    catalog_codes,
    catalog_item_history,
    catalog_items,
    catalog_label,
)
from mchis.catalogs.services import catalog_item_add, catalog_item_retire, catalog_item_update
from mchis.core.errors import DomainError, PermissionDeniedError
from mchis.core.models import AuditEvent

pytestmark = pytest.mark.usefixtures("catalogs")


def item(catalog: str, code: str) -> CatalogItem:
    return CatalogItem.objects.get(catalog__code=catalog, code=code, valid_to__isnull=True)


def test_r_org_03_ethnic_groups_use_qd121_codes_and_keep_census_codes() -> None:
    groups = catalog_items("ethnic_group")
    assert groups.count() == 55
    assert len([g for g in groups if not g.extra.get("not_an_ethnic_group")]) == 54
    hoa = item("ethnic_group", "04")
    assert hoa.name_vi == "Hoa"
    assert hoa.extra["census_code"] == "06"  # QĐ 121 order differs from the census order
    assert hoa.code_system == Catalog.objects.get(code="ethnic_group").code_system == "QĐ 121-TCTK/PPCĐ"
    assert item("ethnic_group", "55").name_vi == "Người nước ngoài"


def test_r_org_03_fourteen_special_circumstance_groups_with_subgroups() -> None:
    groups = catalog_items("child_circumstance").filter(extra__level="group")
    assert groups.count() == 14
    assert set(groups.values_list("parent_code", flat=True)) == {"HCDB"}
    assert item("child_circumstance", "G04").name_vi == "Trẻ em khuyết tật"
    subgroups = catalog_items("child_circumstance").filter(extra__level="subgroup")
    assert subgroups.filter(parent_code="G01").count() == 4
    assert set(subgroups.values_list("parent_code", flat=True)) <= set(groups.values_list("code", flat=True))
    kinds = set(
        catalog_items("child_circumstance").filter(extra__level="kind").values_list("extra__kind", flat=True)
    )
    assert kinds == {"dac_biet", "nguy_co", "khac", "tro_giup"}


def test_r_org_03_icd10_subset_has_real_maternal_and_child_causes() -> None:
    codes = catalog_codes("cause_of_death")
    three_char = {c for c in codes if "-" not in c}
    assert 80 <= len(three_char) <= 150
    assert {"O72", "O15", "O85", "P07", "P21", "P36", "A09", "J18", "Q24", "W69", "V89"} <= codes
    assert item("cause_of_death", "O72").name_en == "Postpartum haemorrhage"
    assert item("cause_of_death", "O72").parent_code == "O60-O75"


def test_r_org_03_other_seeded_catalogs() -> None:
    assert catalog_codes("sex") == {"1", "2", "3"}
    assert {"CHA", "ME", "GIAM_HO", "CO_DI_CHU_BAC"} <= catalog_codes("child_relationship")
    assert {
        "DCTC",
        "TIEM",
        "CAY",
        "VIEN_UONG",
        "BCS",
        "TRIET_SAN_NAM",
        "TRIET_SAN_NU",
        "KHAC",
    } == catalog_codes("contraceptive_method")
    assert item("delivery_place", "TAI_NHA").extra == {"at_facility": False}
    assert {"TCXH", "GIAO_DUC", "BHYT", "CHAM_SOC_THAY_THE", "TU_VAN_TAM_LY", "PHAP_LY"} <= catalog_codes(
        "support_type"
    )
    assert catalog_choices("sex") == [("1", "Nam"), ("2", "Nữ"), ("3", "Chưa xác định")]


def test_r_org_03_reload_changes_nothing() -> None:
    rows = list(CatalogItem.objects.order_by("id").values())
    audit = AuditEvent.objects.count()
    out = StringIO()
    call_command("load_catalogs", stdout=out)
    assert list(CatalogItem.objects.order_by("id").values()) == rows
    assert AuditEvent.objects.count() == audit
    assert "Không có gì thay đổi." in out.getvalue()


def test_r_org_03_edit_creates_new_version_and_old_stays_readable(tree, make_user) -> None:
    admin = make_user("system_admin", tree.ministry)
    today = timezone.localdate()
    old = item("ethnic_group", "54")
    new = catalog_item_update(
        actor=admin, item=old, name_vi="Rơ Măm", name_en="Ro Mam", reason="Chuẩn hóa tên"
    )
    old.refresh_from_db()
    assert (old.version, old.valid_to, old.name_vi) == (1, today, "Rơ-măm")  # closed, not overwritten
    assert (new.version, new.valid_from, new.valid_to) == (2, today, None)
    assert catalog_label("ethnic_group", "54", on=today - timedelta(days=1)) == "Rơ-măm"
    assert catalog_label("ethnic_group", "54", on=today) == "Rơ Măm"
    assert [i.version for i in catalog_item_history("ethnic_group", "54")] == [1, 2]
    event = AuditEvent.objects.get(action="catalog_item.update")
    assert event.changes["name_vi"] == ["Rơ-măm", "Rơ Măm"]
    assert event.reason == "Chuẩn hóa tên"
    with pytest.raises(
        DomainError, match=r"Mục đã được người khác sửa; hãy tải lại trang\."
    ):  # a stale form (version 1) cannot overwrite version 2
        catalog_item_update(actor=admin, item=old, name_vi="X", name_en="")


def test_r_org_03_edit_with_a_past_effective_date() -> None:
    old = item("sex", "3")
    catalog_item_update(
        actor=None, item=old, name_vi="Không xác định", name_en="Unknown", valid_from=date(2024, 1, 1)
    )
    assert catalog_label("sex", "3", on=date(2023, 12, 31)) == "Chưa xác định"
    assert catalog_label("sex", "3", on=date(2024, 1, 1)) == "Không xác định"


def test_r_sec_02_only_system_admin_edits_catalogs(tree, make_user) -> None:
    for role in ("unit_admin", "leader", "collector"):
        with pytest.raises(PermissionDeniedError, match=r"Bạn không có quyền thực hiện thao tác này\."):
            catalog_item_update(
                actor=make_user(role, tree.cdc_a), item=item("sex", "1"), name_vi="X", name_en=""
            )
    assert item("sex", "1").version == 1


def test_r_org_03_retire_keeps_code_for_past_dates(tree, make_user) -> None:
    admin = make_user("system_admin", tree.ministry)
    today = timezone.localdate()
    catalog_item_retire(actor=admin, item=item("support_type", "KHAC"), reason="Không dùng")
    assert "KHAC" not in catalog_codes("support_type")
    assert "KHAC" in catalog_codes("support_type", on=today - timedelta(days=1))
    added = catalog_item_add(
        actor=admin, catalog=Catalog.objects.get(code="support_type"), code="KHAC", name_vi="Khác"
    )
    assert added.version == 2


def test_r_org_03_add_refuses_duplicates_and_unknown_parent(tree, make_user) -> None:
    admin = make_user("system_admin", tree.ministry)
    catalog = Catalog.objects.get(code="cause_of_death")
    with pytest.raises(DomainError, match="đã có"):
        catalog_item_add(actor=admin, catalog=catalog, code="O72", name_vi="x")
    with pytest.raises(DomainError, match="mục cha"):
        catalog_item_add(actor=admin, catalog=catalog, code="O99.1", name_vi="x", parent_code="NOPE")
    added = catalog_item_add(
        actor=admin,
        catalog=catalog,
        code="O99.4",
        name_vi="Bệnh hệ tuần hoàn biến chứng thai nghén",
        parent_code="O99",
    )
    assert "O99.4" in catalog_codes("cause_of_death")
    assert added.code_system == catalog.code_system


def test_r_org_03_file_loads_a_full_list_and_reload_versions_changed_names(tmp_path) -> None:
    path = tmp_path / "icd10.csv"
    path.write_text(
        "code,name_vi,name_en,parent_code\nA00,Bệnh tả,Cholera,\nA00.0,Bệnh tả do Vibrio cholerae 01,Cholera due to Vibrio cholerae 01,A00\n",
        encoding="utf-8",
    )
    call_command(
        "load_catalogs",
        file=path,
        catalog="icd10_full",
        name="ICD-10 đầy đủ",
        code_system="ICD-10",
        stdout=StringIO(),
    )
    assert catalog_codes("icd10_full") == {"A00", "A00.0"}
    path.write_text("code,name_vi,name_en\nA00,Bệnh tả (dịch tả),Cholera\n", encoding="utf-8")
    out = StringIO()
    call_command("load_catalogs", file=path, catalog="icd10_full", stdout=out)
    assert "+0 mới  ~1 phiên bản mới" in out.getvalue()
    assert [i.version for i in catalog_item_history("icd10_full", "A00")] == [1, 2]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("code,name_vi\nA00,Bệnh tả\n", "dòng 1: thiếu cột name_en"),
        ("code,name_vi,name_en\nA00,Bệnh tả,Cholera\nA01,,Typhoid\n", "dòng 3: thiếu name_vi"),
        ("code,name_vi,name_en\nA00,Bệnh tả,Cholera\nA00,Lặp,Dup\n", "dòng 3: mã 'A00' trùng với dòng 2"),
        ("code,name_vi,name_en\nA00,Bệnh tả, Cholera, thừa\n", "dòng 2: có 4 cột"),
        ("code,name_vi,name_en\nA 00,Bệnh tả,Cholera\n", "dòng 2: mã 'A 00' không hợp lệ"),
        ("code,name_vi,name_en,parent_code\nA00,Bệnh tả,Cholera,ZZZ\n", "Dòng 2: mục cha 'ZZZ'"),
    ],
)
def test_r_org_03_malformed_file_is_refused_naming_the_line_and_writes_nothing(
    tmp_path, content, message
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    before = CatalogItem.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("load_catalogs", file=path, catalog="cause_of_death", stdout=StringIO())
    assert CatalogItem.objects.count() == before
    assert not CatalogItem.objects.filter(code="A00").exists()
