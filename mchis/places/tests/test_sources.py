"""Reading the sources: malformed rows are refused with the row named; the merge rule (R-ORG-01)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from mchis.places.models import AdminUnit, CommuneMapping, MappingKind, MappingSource
from mchis.places.sources import (
    GsoRow,
    SourceError,
    gso_kind,
    merge_mappings,
    read_gso_conversion,
    read_library_units,
)

ROW_2025 = {
    "_row": 7,
    "province": "Thành phố Hà Nội",
    "provinceShort": "Hà Nội",
    "provinceCode": "01",
    "ward": "Phường Ba Đình",
    "wardShort": "Ba Đình",
    "wardType": "Phường",
    "wardCode": "00004",
}


def test_r_org_01_library_row_with_bad_code_is_named() -> None:
    with pytest.raises(SourceError, match=r"admin_units, dòng 7: mã xã/phường/đặc khu '4' không hợp lệ"):
        read_library_units(rows_2025=[ROW_2025 | {"wardCode": "4"}], rows_legacy=[])


def test_r_org_01_library_code_with_two_names_is_refused() -> None:
    other = ROW_2025 | {"_row": 8, "ward": "Phường Khác"}
    with pytest.raises(SourceError, match="dòng 8: mã 00004"):
        read_library_units(rows_2025=[ROW_2025, other], rows_legacy=[])


def test_r_org_04_library_names_are_stored_in_nfc() -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Phường Ba Đình")
    units = read_library_units(rows_2025=[ROW_2025 | {"ward": nfd}], rows_legacy=[])
    assert [u.name for u in units if u.level == "commune"] == ["Phường Ba Đình"]


@pytest.mark.parametrize(
    ("note", "kind"),
    [
        ("Nhập toàn bộ", MappingKind.WHOLE),
        ("Nhập một phần", MappingKind.PARTIAL),
        ("Nhâp một phần diện tích", MappingKind.PARTIAL),
        ("Nhập một phần diện tích, toàn bộ dân số", MappingKind.PARTIAL),
        ("Giữ nguyên", MappingKind.UNCHANGED),
        ("Đổi tên", MappingKind.UNCHANGED),
        ("Sắp xếp toàn bộ huyện Côn Đảo thành đặc khu Côn Đảo", MappingKind.WHOLE),
        ("Phần còn lại sau khi tách một phần vào xã Canh Vinh", MappingKind.PARTIAL),
        ("???", None),
    ],
)
def test_r_org_01_gso_note_gives_the_kind(note: str, kind: str | None) -> None:
    assert gso_kind(note) == kind


def test_r_org_01_gso_file_missing_a_column_is_refused(tmp_path) -> None:
    bad = tmp_path / "x.csv"
    bad.write_text("new_commune_code,note\n00004,Nhập toàn bộ\n", encoding="utf-8")
    with pytest.raises(SourceError, match="dòng 1: thiếu cột"):
        read_gso_conversion(bad)


codes = st.from_regex(r"\d{5}", fullmatch=True)


@given(
    gso=st.lists(st.tuples(codes, codes, st.sampled_from(list(MappingKind))), max_size=15),
    lib=st.dictionaries(
        st.tuples(codes, codes), st.tuples(st.sampled_from([None, True, False]), st.none()), max_size=15
    ),
)
def test_r_org_01_merge_gives_one_default_per_old_and_keeps_every_pair(gso, lib) -> None:
    rows = [GsoRow(i, "commune", o, n, k, "") for i, (o, n, k) in enumerate(gso)]
    merged = merge_mappings(rows, lib)
    pairs = {(m.old_code, m.new_code) for m in merged}
    assert pairs == {(o, n) for o, n, _ in gso} | set(lib)
    assert len(pairs) == len(merged)
    for old in {m.old_code for m in merged}:
        assert sum(m.is_default for m in merged if m.old_code == old) == 1
    for m in merged:
        in_gso = any((o, n) == (m.old_code, m.new_code) for o, n, _ in gso)
        in_lib = (m.old_code, m.new_code) in lib
        expected = {(True, True): MappingSource.GSO_AND_LIBRARY, (True, False): MappingSource.GSO}.get(
            (in_gso, in_lib), MappingSource.LIBRARY
        )
        assert m.source == expected


def test_r_org_01_library_default_seat_wins() -> None:
    merged = merge_mappings(
        [
            GsoRow(2, "commune", "00016", "00004", MappingKind.PARTIAL, ""),
            GsoRow(3, "commune", "00016", "00008", MappingKind.PARTIAL, ""),
        ],
        {("00016", "00004"): (False, None), ("00016", "00008"): (True, None)},
    )
    assert [m.new_code for m in merged if m.is_default] == ["00008"]


@pytest.mark.django_db
def test_r_org_01_bad_file_on_empty_database_writes_nothing(tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "new_province_code,new_commune_code,new_commune_name,old_commune_code,old_commune_name,old_district_code,note\n"
        "01,00004,Phường Ba Đình,00004,Phường Trúc Bạch,001,Nhập toàn bộ\n"
        "01,00004,Phường Ba Đình,00013,Phường Quán Thánh,001,Chuyển đi đâu đó\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match=r"bad.csv, dòng 3: không hiểu ghi chú"):
        call_command("load_admin_units", conversion=bad, stdout=StringIO())
    assert AdminUnit.objects.count() == 0
    assert CommuneMapping.objects.count() == 0
