"""R-ORG-01: "which 2025 commune is this old address in", with the library's address parser."""

from __future__ import annotations

import pytest

from mchis.places.selectors import which_2025_commune

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("admin_units")]


def codes(address: str) -> list[str]:
    return [u.code for u in which_2025_commune(address)]


def test_r_org_01_whole_commune_gives_one_new_commune() -> None:
    # Phường Trúc Bạch went whole into Phường Ba Đình.
    result = which_2025_commune("Phường Trúc Bạch, Quận Ba Đình, Thành phố Hà Nội")
    assert [(u.code, u.name, u.version) for u in result] == [("00004", "Phường Ba Đình", "2025")]


def test_r_org_01_split_commune_gives_all_candidates_default_first() -> None:
    assert codes("Phường Ngọc Hà, Quận Ba Đình, Thành phố Hà Nội") == ["00004", "00008"]


def test_r_org_01_default_candidate_agrees_with_library_converter() -> None:
    from vietnamadminunits import convert_address

    for address in (
        "Phường Ngọc Hà, Quận Ba Đình, Thành phố Hà Nội",
        "Xã Tân Thạnh, Huyện Thới Lai, Thành phố Cần Thơ",
        "Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh",
    ):
        assert codes(address)[0] == convert_address(address).ward_code


def test_r_org_04_address_without_diacritics_and_with_street_is_understood() -> None:
    assert codes("12 Lê Lợi, xa phu thinh, huyen yen son, tinh tuyen quang") == ["02494"]


def test_r_org_01_island_district_maps_to_its_special_zone() -> None:
    assert [u.name for u in which_2025_commune("Huyện Côn Đảo, Tỉnh Bà Rịa - Vũng Tàu")] == [
        "Đặc khu Côn Đảo"
    ]


@pytest.mark.parametrize("address", ["", "   ", "không phải địa chỉ", "Quận Ba Đình, Thành phố Hà Nội"])
def test_r_org_01_unknown_address_gives_no_commune(address: str) -> None:
    assert which_2025_commune(address) == []
