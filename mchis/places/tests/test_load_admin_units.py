"""R-ORG-01: both code systems loaded, every old commune mapped, the load idempotent."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command

from mchis.core.models import AuditEvent
from mchis.places.models import AdminUnit, CodeVersion, CommuneMapping, Level, MappingKind, MappingSource

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("admin_units")]


def checksum() -> tuple[int, int, str]:
    digest = hashlib.sha256()
    units = AdminUnit.objects.order_by("id").values_list(
        "id", "version", "level", "code", "name", "short_name", "division_type", "parent_id", "search_key"
    )
    mappings = CommuneMapping.objects.order_by("id").values_list(
        "id", "old_id", "new_id", "kind", "is_default", "source", "note", "area_km2"
    )
    for row in [*units, *mappings]:
        digest.update(repr(row).encode())
    return AdminUnit.objects.count(), CommuneMapping.objects.count(), digest.hexdigest()


def test_r_org_01_2025_has_34_provinces_and_3321_communes() -> None:
    units = AdminUnit.objects.v2025()
    assert units.provinces().count() == 34
    communes = units.communes()
    assert communes.count() == 3321
    by_type = {t: communes.filter(division_type=t).count() for t in ("Xã", "Phường", "Đặc khu")}
    assert by_type == {"Xã": 2621, "Phường": 687, "Đặc khu": 13}
    assert not units.filter(level=Level.DISTRICT).exists()
    assert not communes.filter(parent__isnull=True).exists()
    assert not communes.exclude(parent__version=CodeVersion.V2025).exists()


def test_r_org_01_pre2025_has_63_provinces_districts_and_communes() -> None:
    old = AdminUnit.objects.pre2025()
    assert old.provinces().count() == 63
    assert old.filter(level=Level.DISTRICT).count() == 696
    assert 10_000 <= old.communes().count() <= 10_100
    assert not old.communes().exclude(parent__level=Level.DISTRICT).exists()


def test_r_org_01_every_code_carries_its_version() -> None:
    # Code 80 is Tây Ninh since 2025 but was Long An before: same code, two places.
    new_80 = AdminUnit.objects.get(version=CodeVersion.V2025, level=Level.PROVINCE, code="80")
    old_80 = AdminUnit.objects.get(version=CodeVersion.PRE2025, level=Level.PROVINCE, code="80")
    assert "Tây Ninh" in new_80.name
    assert "Long An" in old_80.name
    assert set(AdminUnit.objects.values_list("version", flat=True).distinct()) == {"2025", "pre2025"}


def test_r_org_01_every_pre2025_commune_maps_to_a_2025_commune() -> None:
    old_communes = AdminUnit.objects.pre2025().communes()
    unmapped = old_communes.exclude(id__in=CommuneMapping.objects.values("old_id"))
    assert list(unmapped.values_list("code", flat=True)) == []
    assert not CommuneMapping.objects.exclude(
        new__version=CodeVersion.V2025, new__level=Level.COMMUNE
    ).exists()
    # Island districts without communes map to their đặc khu.
    con_dao = CommuneMapping.objects.get(
        old__version=CodeVersion.PRE2025, old__level=Level.DISTRICT, old__code="755"
    )
    assert con_dao.new.name == "Đặc khu Côn Đảo"


def test_r_org_01_every_old_unit_has_exactly_one_default_new_commune() -> None:
    olds = CommuneMapping.objects.values_list("old_id", flat=True).distinct().count()
    defaults = CommuneMapping.objects.filter(is_default=True)
    assert defaults.count() == olds
    assert defaults.values("old_id").distinct().count() == olds


def test_r_org_01_split_commune_has_several_partial_rows() -> None:
    # Phường Ngọc Hà (Ba Đình, Hà Nội) was split: part to Phường Ba Đình, part to Phường Ngọc Hà.
    rows = CommuneMapping.objects.filter(old__version=CodeVersion.PRE2025, old__code="00016")
    assert {(m.new.code, m.kind) for m in rows} == {
        ("00004", MappingKind.PARTIAL),
        ("00008", MappingKind.PARTIAL),
    }
    assert rows.get(is_default=True).new.code == "00004"


def test_r_org_01_mapping_records_its_source() -> None:
    sources = {s: CommuneMapping.objects.filter(source=s).count() for s in MappingSource.values}
    assert sources[MappingSource.GSO_AND_LIBRARY] > 10_000
    # Xã Mỹ Hưng (Cao Bằng) is missing from the GSO table: the package fills the gap.
    assert (
        CommuneMapping.objects.get(old__version=CodeVersion.PRE2025, old__code="01651").source
        == MappingSource.LIBRARY
    )


def test_r_org_01_reload_changes_nothing() -> None:
    before = checksum()
    audit_before = AuditEvent.objects.count()
    out = StringIO()
    call_command("load_admin_units", stdout=out)
    assert checksum() == before
    assert AuditEvent.objects.count() == audit_before
    text = out.getvalue()
    assert "Không có gì thay đổi." in text
    assert "2025     commune     3321  +0  ~0" in text


def test_r_org_01_load_repairs_a_changed_row_and_audits_it() -> None:
    before = checksum()
    AdminUnit.objects.filter(version=CodeVersion.V2025, code="00004").update(name="Sai tên")
    CommuneMapping.objects.filter(old__code="00016", new__code="00008").delete()
    out = StringIO()
    call_command("load_admin_units", stdout=out)
    assert (
        AdminUnit.objects.get(version=CodeVersion.V2025, level=Level.COMMUNE, code="00004").name
        == "Phường Ba Đình"
    )
    assert "2025     commune     3321  +0  ~1" in out.getvalue()
    assert checksum()[:2] == before[:2]
    assert AuditEvent.objects.filter(action="admin_units.load").count() == 1


def test_r_org_01_malformed_conversion_row_leaves_database_unchanged(tmp_path) -> None:
    from mchis.places.sources import GSO_CONVERSION_CSV

    lines = GSO_CONVERSION_CSV.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("00013", "0013X")  # line 3 of the file
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    AdminUnit.objects.filter(version=CodeVersion.V2025, code="00004").update(name="Sai tên")
    before = checksum()
    with pytest.raises(Exception, match=r"dòng 3: mã xã/phường/đặc khu '0013X' không hợp lệ"):
        call_command("load_admin_units", conversion=bad, stdout=StringIO())
    assert checksum() == before  # not even the wrong name was repaired: nothing written
