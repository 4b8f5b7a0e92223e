"""Plausible regional facts per 2025 province for synthetic data: ethnic mix and village naming.

Shares are rounded from the 2019 census (old provinces merged by population); they only have to be
plausible, not official statistics. Keys are 2025 province codes; values are QĐ 121 ethnicity codes
(fixtures/ethnic_groups_vn.csv) → weight.
"""

from __future__ import annotations

# Region of each 2025 province: drives village kinds (thôn/bản/ấp/khóm) and defaults.
NORTH_MOUNTAIN = "north_mountain"
NORTH_DELTA = "north_delta"
CENTRAL = "central"
HIGHLANDS = "highlands"
SOUTHEAST = "southeast"
MEKONG = "mekong"

REGION = {
    "04": NORTH_MOUNTAIN, "08": NORTH_MOUNTAIN, "11": NORTH_MOUNTAIN, "12": NORTH_MOUNTAIN,
    "14": NORTH_MOUNTAIN, "15": NORTH_MOUNTAIN, "19": NORTH_MOUNTAIN, "20": NORTH_MOUNTAIN,
    "22": NORTH_DELTA, "24": NORTH_DELTA, "25": NORTH_MOUNTAIN, "01": NORTH_DELTA, "31": NORTH_DELTA,
    "33": NORTH_DELTA, "37": NORTH_DELTA, "38": CENTRAL, "40": CENTRAL, "42": CENTRAL, "44": CENTRAL,
    "46": CENTRAL, "48": CENTRAL, "51": HIGHLANDS, "52": HIGHLANDS, "56": CENTRAL, "66": HIGHLANDS,
    "68": HIGHLANDS, "75": SOUTHEAST, "79": SOUTHEAST, "80": SOUTHEAST, "82": MEKONG, "86": MEKONG,
    "91": MEKONG, "92": MEKONG, "96": MEKONG,
}  # fmt: skip

ETHNIC_MIX: dict[str, dict[str, float]] = {
    "01": {"01": 98.0, "06": 1.2, "02": 0.3, "04": 0.2, "03": 0.1, "07": 0.2},
    "04": {"02": 41, "07": 31, "08": 10, "09": 10, "01": 5, "15": 2, "33": 1},
    "08": {"02": 24, "01": 28, "08": 20, "09": 12, "07": 5, "15": 4, "25": 3, "43": 1, "40": 1, "46": 1, "49": 1},
    "11": {"03": 34, "08": 37, "01": 19, "29": 3, "09": 2, "35": 1, "02": 1, "38": 1, "42": 1, "33": 1},
    "12": {"08": 35, "03": 33, "01": 14, "09": 12, "35": 4, "42": 1, "06": 1},
    "14": {"03": 54, "01": 17, "08": 17, "06": 8, "09": 1, "34": 1, "29": 1, "33": 1},
    "15": {"01": 47, "08": 15, "02": 12, "09": 12, "03": 5, "25": 3, "07": 3, "35": 2, "40": 1},
    "19": {"01": 64, "02": 20, "07": 6, "09": 5, "18": 3, "08": 1, "15": 1},
    "20": {"07": 42, "02": 35, "01": 17, "09": 4, "04": 1, "15": 1},
    "22": {"01": 88, "09": 4, "02": 3, "18": 2, "15": 1, "04": 1, "07": 1},
    "24": {"01": 90, "07": 3, "02": 3, "18": 2, "15": 1, "04": 1},
    "25": {"01": 72, "06": 24, "09": 1.5, "03": 1, "02": 0.5, "18": 0.5, "15": 0.5},
    "31": {"01": 99.6, "04": 0.2, "06": 0.1, "02": 0.1},
    "33": {"01": 99.8, "06": 0.1, "02": 0.1},
    "37": {"01": 98.5, "06": 1.3, "02": 0.2},
    "38": {"01": 84, "06": 9, "03": 6, "08": 0.5, "24": 0.5},
    "40": {"01": 86, "03": 10, "29": 1.5, "08": 1.3, "24": 0.7, "06": 0.5},
    "42": {"01": 99.8, "24": 0.1, "44": 0.1},
    "44": {"01": 93, "23": 5, "31": 1, "44": 0.5, "30": 0.5},
    "46": {"01": 96, "31": 2, "26": 1.5, "23": 0.5},
    "48": {"01": 94, "26": 3, "14": 1.5, "27": 1, "04": 0.5},
    "51": {"01": 70, "19": 10, "14": 10, "13": 5, "30": 2, "27": 2, "54": 0.5, "52": 0.5},
    "52": {"01": 70, "10": 18, "13": 9, "21": 1, "14": 1, "17": 1},
    "56": {"01": 85, "21": 7, "17": 6, "16": 1, "04": 1},
    "66": {"01": 70, "12": 15, "07": 3, "02": 3, "08": 2, "20": 2, "10": 2, "09": 1, "03": 1, "06": 1},
    "68": {"01": 83, "16": 7, "20": 2, "28": 2, "17": 1.5, "36": 1, "07": 1.5, "02": 1, "21": 1},
    "75": {"01": 88, "22": 4, "04": 3, "07": 2, "05": 1, "02": 1, "32": 1},
    "79": {"01": 93, "04": 5, "05": 1, "32": 0.5, "17": 0.3, "02": 0.2},
    "80": {"01": 98, "05": 1, "17": 0.5, "04": 0.5},
    "82": {"01": 99.5, "04": 0.3, "05": 0.2},
    "86": {"01": 88, "05": 11, "04": 1},
    "91": {"01": 90, "05": 8, "04": 1.5, "17": 0.5},
    "92": {"01": 85, "05": 13, "04": 2},
    "96": {"01": 94, "05": 4, "04": 2},
}  # fmt: skip

DEFAULT_MIX = {"01": 95.0, "06": 2.0, "02": 1.0, "04": 1.0, "05": 1.0}

# Village-level place-name stocks. Each commune picks its village names from the region's stock.
_SINO_VIET = ["Đông", "Tây", "Nam", "Bắc", "Trung", "Thượng", "Hạ", "Phú", "Lộc", "An", "Hòa", "Bình", "Tân", "Thịnh", "Hưng", "Phúc", "Thọ", "Xuân", "Yên", "Quang", "Lạc", "Thuận", "Đồng", "Long", "Vĩnh", "Mỹ", "Thanh", "Hải", "Sơn", "Khánh", "Nhân", "Nghĩa", "Đoài", "Văn", "Cát"]  # fmt: skip
_TAY_THAI = ["Nà", "Pác", "Khuổi", "Bó", "Nặm", "Lũng", "Phiêng", "Cốc", "Khau", "Pắc", "Co", "Hua", "Huổi", "Mường", "Na", "Noong", "Lả", "Phìn", "Tà", "Sán", "Mèo", "Chải", "Cán", "Sảng", "Lùng"]  # fmt: skip
_TAY_THAI_2 = [
    "Pồng",
    "Cáy",
    "Lương",
    "Khoang",
    "Mòn",
    "Tẩu",
    "Vàng",
    "Pục",
    "Nưa",
    "Ban",
    "Sảo",
    "Chồ",
    "Hán",
    "Đon",
    "Luông",
    "Coóc",
    "Tổng",
    "Lìm",
]
_HIGHLAND = ["Buôn", "Plei", "Bon", "Kon"]
_HIGHLAND_2 = [
    "Ea",
    "Kmar",
    "Ktul",
    "Drai",
    "Jơng",
    "Ko",
    "Sơ",
    "Tơ",
    "Hra",
    "Ring",
    "Pông",
    "Klah",
    "Bông",
    "Dơng",
    "Hrăk",
    "Ju",
    "Kông",
    "Ama",
]


def village_plan(region: str, division_type: str) -> tuple[str, str, str]:
    """(kind, label, naming) for the villages of a commune of this type in this region.

    kind is a places.VillageKind value; naming is "number" (Tổ dân phố 3) or "name" (Thôn Phú Lộc).
    """
    urban = division_type == "phường"
    if urban:
        if region == MEKONG:
            return "khom", "Khóm", "number"
        if region == SOUTHEAST:
            return "other", "Khu phố", "number"
        return "to_dan_pho", "Tổ dân phố", "number"
    if region == NORTH_MOUNTAIN:
        return "ban", "Bản", "name"
    if region in (MEKONG, SOUTHEAST):
        return "ap", "Ấp", "name"
    if region == HIGHLANDS:
        return "thon", "Thôn", "highland"
    return "thon", "Thôn", "name"


def village_name_parts(region: str, naming: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if naming == "highland":
        return tuple(_HIGHLAND), tuple(_HIGHLAND_2)
    if region == NORTH_MOUNTAIN:
        return tuple(_TAY_THAI), tuple(_TAY_THAI_2)
    return tuple(_SINO_VIET), tuple(_SINO_VIET)
