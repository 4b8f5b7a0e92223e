"""Vietnamese personal names for synthetic people (họ, tên đệm, tên), by naming tradition.

Kinh surnames follow published frequencies (fixtures/surname_frequencies.csv: Nguyễn ≈ 31-38%).
Ethnic minorities use their own surname stocks and name shapes (H'Mông "Giàng A Páo", Ê Đê "Y Bhim Niê",
Khmer "Thạch Thị Sa Vi"…). Pure data and pure functions; no database.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"

# Share of the "long tail" (surnames outside the top 14) among Kinh people, in percent.
_TAIL_SURNAMES = [
    "Trịnh",
    "Đinh",
    "Lâm",
    "Mai",
    "Trương",
    "Đoàn",
    "Lương",
    "Cao",
    "Đào",
    "Hà",
    "Tạ",
    "Chu",
    "Lưu",
    "Văn",
    "Kiều",
    "Đàm",
    "Quách",
    "Tô",
    "Tôn",
    "Thái",
    "Triệu",
    "Lại",
    "Khúc",
    "Vương",
    "Hứa",
    "Phùng",
    "Mạc",
    "Thân",
    "Nghiêm",
    "La",
    "Lục",
    "Giang",
    "Tăng",
    "Châu",
    "Quan",
    "Kim",
    "Ninh",
    "Thạch",
    "Tống",
    "Nông",
    "Âu",
]
_TAIL_SHARE = 8.5

MALE_MIDDLE = (("Văn", 30), ("Đức", 12), ("Minh", 14), ("Quang", 8), ("Hữu", 7), ("Gia", 7), ("Thành", 5),
               ("Anh", 5), ("Tuấn", 3), ("Xuân", 3), ("Công", 4), ("Đình", 4), ("Trọng", 3), ("Hoàng", 3),
               ("Bảo", 5), ("Ngọc", 2), ("Thanh", 3), ("Quốc", 4), ("Tiến", 2), ("Mạnh", 2), ("Phúc", 2))  # fmt: skip
FEMALE_MIDDLE = (("Thị", 34), ("Ngọc", 12), ("Thu", 6), ("Thanh", 6), ("Minh", 6), ("Phương", 4),
                 ("Khánh", 5), ("Bảo", 5), ("Hồng", 4), ("Mai", 3), ("Kim", 4), ("Diệu", 3), ("Thảo", 3),
                 ("Hà", 2), ("Gia", 4), ("Quỳnh", 3), ("Tuệ", 2), ("Hoài", 2), ("Huyền", 2), ("An", 2))  # fmt: skip
MALE_GIVEN = ("An", "Anh", "Bảo", "Bình", "Cường", "Chiến", "Công", "Danh", "Dũng", "Duy", "Dương", "Đạt", "Đăng", "Đức", "Giang", "Hải", "Hào", "Hiếu", "Hiển", "Hiệp", "Hoàng", "Huy", "Hùng", "Hưng", "Khang", "Khánh", "Khoa", "Khôi", "Kiên", "Lâm", "Long", "Lộc", "Lực", "Mạnh", "Minh", "Nam", "Nghĩa", "Nhân", "Nhật", "Phát", "Phong", "Phú", "Phúc", "Quân", "Quang", "Quốc", "Sơn", "Tài", "Tâm", "Thái", "Thành", "Thắng", "Thiện", "Thịnh", "Toàn", "Trí", "Trung", "Trường", "Tuấn", "Tùng", "Việt", "Vinh", "Vũ", "Hậu", "Kiệt", "Luân", "Tiến", "Thuận", "Tín", "Hoà", "Đông", "Hà", "Hạnh", "Tú", "Sang")  # fmt: skip
FEMALE_GIVEN = ("An", "Anh", "Ánh", "Bích", "Châu", "Chi", "Dung", "Diệp", "Diệu", "Duyên", "Giang", "Hà", "Hạnh", "Hằng", "Hân", "Hiền", "Hoa", "Hồng", "Huệ", "Hương", "Huyền", "Khánh", "Lan", "Linh", "Loan", "Ly", "Mai", "My", "Mỹ", "Nga", "Ngân", "Ngọc", "Nhi", "Nhung", "Oanh", "Phương", "Quyên", "Quỳnh", "Tâm", "Thảo", "Thanh", "Thơ", "Thu", "Thư", "Thủy", "Trâm", "Trang", "Trinh", "Tú", "Tuyết", "Uyên", "Vân", "Vi", "Vy", "Xuân", "Yến", "Hậu", "Như", "Nhiên", "Hạ", "Tiên", "Khuê", "Ngân", "Thương", "Mẫn", "Lam", "Đào", "Điệp", "Hiên", "Loan")  # fmt: skip


@dataclass(frozen=True)
class NameStyle:
    """How one tradition builds names: surname stock (weighted), middle names, given names per sex."""

    surnames: tuple[tuple[str, float], ...]
    male_middle: tuple[tuple[str, float], ...]
    female_middle: tuple[tuple[str, float], ...]
    male_given: tuple[str, ...]
    female_given: tuple[str, ...]
    surname_last: bool = False  # Ê Đê, Gia Rai, M'Nông: "Y Bhim Niê" (prefix, given, clan name)
    male_compound: tuple[str, ...] = ()  # two-syllable names used whole: "Nguyễn Minh Khôi"
    female_compound: tuple[str, ...] = ()


def _even(words: str) -> tuple[tuple[str, float], ...]:
    return tuple((w.replace("_", " "), 1.0) for w in words.split())


def _parse_share(raw: str) -> float:
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", raw)]
    return sum(numbers) / len(numbers)


@cache
def kinh_surnames() -> tuple[tuple[str, float], ...]:
    """Surname → share (%) from the fixture; "Hoàng / Huỳnh" splits between the northern and southern forms."""
    result: list[tuple[str, float]] = []
    with (FIXTURES / "surname_frequencies.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            share = _parse_share(row["share_pct_commonly_cited"])
            forms = [f.strip() for f in row["surname"].split("/")]
            result.extend((form, share / len(forms)) for form in forms)
    result.extend((name, _TAIL_SHARE / len(_TAIL_SURNAMES)) for name in _TAIL_SURNAMES)
    return tuple(result)


MALE_COMPOUND = tuple(
    "Minh_Khôi Gia_Bảo Đăng_Khoa Hoàng_Nam Bảo_Long Minh_Quân Anh_Tuấn Quốc_Bảo Minh_Đức Trung_Kiên "
    "Nhật_Minh Thành_Đạt Gia_Huy Đức_Anh Tuấn_Kiệt Hải_Đăng Phúc_Lâm Khôi_Nguyên Minh_Nhật Bảo_Nam".replace(
        "_", " "
    ).split()
)
FEMALE_COMPOUND = tuple(
    "Minh_Anh Ngọc_Anh Bảo_Ngọc Khánh_Linh Thu_Trang Phương_Anh Hà_My Bảo_Anh Gia_Hân Ngọc_Hân Quỳnh_Anh "
    "Thanh_Hương Minh_Thư Tuệ_Lâm Diệu_Linh Khánh_Ngọc Thảo_Vy Hoài_An Bảo_Châu Mai_Anh".replace(
        "_", " "
    ).split()
)


def kinh_style() -> NameStyle:
    return NameStyle(
        kinh_surnames(), MALE_MIDDLE, FEMALE_MIDDLE, MALE_GIVEN, FEMALE_GIVEN,
        male_compound=MALE_COMPOUND, female_compound=FEMALE_COMPOUND,
    )  # fmt: skip


@cache
def styles() -> dict[str, NameStyle]:
    """Naming tradition by key; `STYLE_OF_ETHNICITY` maps QĐ 121 codes onto these keys."""
    kinh = kinh_style()
    return {
        "kinh": kinh,
        "tay_nung": NameStyle(
            _even("Hoàng Nông Lương Lục Triệu Lâm Đàm Bế Ma Hà Vi Chu Mông Hoàng Nông Lý Dương La Sầm"),
            MALE_MIDDLE,
            FEMALE_MIDDLE,
            MALE_GIVEN,
            FEMALE_GIVEN,
        ),  # fmt: skip
        "thai": NameStyle(
            _even("Lò Lường Quàng Cầm Tòng Lù Vì Hoàng Lê Lò Cà Điêu Mè Hà Sa"),
            (("Văn", 70), ("Minh", 10), ("Đức", 10), ("Thanh", 10)),
            (("Thị", 85), ("Thu", 5), ("Ngọc", 10)),
            tuple(
                [
                    "Chăm",
                    "Xiêng",
                    "Ón",
                    "Phóng",
                    "Khăm",
                    "Thiêm",
                    "Pọm",
                    "Ánh",
                    "Hùng",
                    "Dũng",
                    "Tuấn",
                    "Hải",
                    "Nam",
                    "Sơn",
                    "Phương",
                    "Ngọc",
                ]
            ),
            tuple(
                [
                    "Én",
                    "Ỏn",
                    "Xuân",
                    "Hoa",
                    "Phương",
                    "Ín",
                    "Pâng",
                    "Ngân",
                    "Thảo",
                    "Lan",
                    "Mai",
                    "Hương",
                    "Duyên",
                    "Linh",
                ]
            ),
        ),  # fmt: skip
        "hmong": NameStyle(
            _even("Giàng Sùng Vàng Lý Thào Hầu Mùa Vừ Ly Lầu Hạng Tráng Cứ Sình Chảo Mua"),
            (("A", 45), ("Seo", 25), ("Mí", 15), ("Văn", 15)),
            (("Thị", 75), ("Mí", 15), ("Thị Mỷ", 10)),
            tuple(
                [
                    "Páo",
                    "Dính",
                    "Chơ",
                    "Sử",
                    "Lử",
                    "Tủa",
                    "Chứ",
                    "Pó",
                    "Sính",
                    "Pao",
                    "Chá",
                    "Tú",
                    "Dế",
                    "Lềnh",
                    "Vừ",
                    "Chinh",
                    "Dũng",
                    "Phử",
                ]
            ),
            tuple(
                [
                    "Mai",
                    "Dung",
                    "Súa",
                    "Mỷ",
                    "Dợ",
                    "Sua",
                    "Chi",
                    "Pàng",
                    "Lan",
                    "Hoa",
                    "Dua",
                    "Máy",
                    "Mẩy",
                    "Vi",
                ]
            ),
        ),  # fmt: skip
        "dao": NameStyle(
            _even("Triệu Bàn Lý Đặng Chảo Phùn Tẩn Lò Chìu Hoàng Phàn Sằn"),
            (("Văn", 60), ("Tòn", 10), ("Kim", 10), ("Quý", 10), ("Tiến", 10)),
            (("Thị", 80), ("Mùi", 10), ("Kiều", 10)),
            tuple(
                [
                    "Phây",
                    "Quáng",
                    "Chòi",
                    "Sinh",
                    "Tiến",
                    "Hùng",
                    "Lực",
                    "Dũng",
                    "Sơn",
                    "Tài",
                    "Nguyên",
                    "Quý",
                ]
            ),
            tuple(["Mẩy", "Nái", "Kiều", "Xuân", "Hoa", "Mai", "Liên", "Phương", "Chang", "Say"]),
        ),  # fmt: skip
        "muong": NameStyle(
            _even("Đinh Quách Bạch Hà Bùi Xa Cao Bùi Đinh Hoàng"),
            MALE_MIDDLE,
            FEMALE_MIDDLE,
            MALE_GIVEN,
            FEMALE_GIVEN,
        ),  # fmt: skip
        "khmer": NameStyle(
            _even("Thạch Sơn Kim Danh Lâm Chau Trần Lý Huỳnh Thị Dương Kiên"),
            (("Văn", 30), ("Sô", 10), ("Ngọc", 15), ("Hoàng", 10), ("Minh", 15), ("Chanh", 20)),
            (("Thị", 60), ("Néang", 15), ("Ngọc", 15), ("Sa", 10)),
            tuple(
                "Sa_Rết Sóc Phol Sang Chanh Đa Rươne Kha Sóc_Khum Minh Tha Vanh Chết Sơ_Phanh".replace(
                    "_", " "
                ).split()
            ),
            tuple(
                "Sa_Vi Sa_Rươl Chanh_Thi Sóc_Kha Pha_Ly Srây Thi Đa_Ni Ly_Na Sô_Phia".replace(
                    "_", " "
                ).split()
            ),
        ),  # fmt: skip
        "hoa": NameStyle(
            _even("Lý Trương Quách Mạch Lâm Huỳnh Lưu Tăng Châu Diệp Giang Hứa Thái Từ Ông"),
            MALE_MIDDLE,
            FEMALE_MIDDLE,
            MALE_GIVEN,
            FEMALE_GIVEN,
        ),  # fmt: skip
        "cham": NameStyle(
            _even("Đàng Thuận Thành Lưu Quảng Bá Châu Trượng Hán Thiên Phú Nguyễn"),
            (("Văn", 50), ("Minh", 20), ("Thành", 15), ("Đức", 15)),
            (("Thị", 70), ("Ngọc", 20), ("Thu", 10)),
            MALE_GIVEN,
            FEMALE_GIVEN,
        ),  # fmt: skip
        "highland": NameStyle(  # Ê Đê, Gia Rai, M'Nông, Ba Na…: Y/A + given + clan (Niê, Ksor…)
            _even("Niê Mlô Ayũn Byă Êban Ksor Siu Rơ_Châm Nay Kpă Puih Rah_Lan Bkrông Adrơng Hđơk Mdrang"),
            (("Y", 80), ("A", 20)),
            (("H'", 85), ("Y", 15)),
            tuple(
                [
                    "Bhim",
                    "Sao",
                    "Thái",
                    "Dứ",
                    "Khoa",
                    "Ju",
                    "Nguyên",
                    "Blô",
                    "Thuyên",
                    "Hlinh",
                    "Kỳ",
                    "Kông",
                    "Ngơm",
                    "Phăng",
                    "Đin",
                    "Nhi",
                ]
            ),
            tuple(
                [
                    "Hen",
                    "Nhi",
                    "Ly",
                    "Mai",
                    "Yam",
                    "Duen",
                    "Ngoan",
                    "Hlan",
                    "Bly",
                    "Xuân",
                    "Ngun",
                    "Ruôn",
                    "Nhưng",
                    "Kim",
                ]
            ),
            surname_last=True,
        ),  # fmt: skip
        "highland_first": NameStyle(  # Hrê, Xơ Đăng, Co, Ba Na (Kon Tum/Quảng Ngãi): "Đinh Văn Thơ", "A Thiên"
            _even("Đinh Phạm Hồ A Y Nguyễn Trần Bhnướch Zơ_Râm Cil Đinh"),
            (("Văn", 60), ("Ngọc", 20), ("Minh", 20)),
            (("Thị", 85), ("Ngọc", 15)),
            tuple(
                [
                    "Thơ",
                    "Thiên",
                    "Lư",
                    "Xuân",
                    "Nhâm",
                    "Hiền",
                    "Vin",
                    "Gưu",
                    "Blong",
                    "Bri",
                    "Lai",
                    "Cừ",
                    "Dơ",
                ]
            ),
            tuple(["Ngăn", "Hoa", "Nhanh", "Thị", "Lan", "Xê", "Blưm", "Grông", "Hiền", "Hương"]),
        ),  # fmt: skip
    }


# QĐ 121 ethnicity code → naming tradition (other codes use Kinh-style names).
STYLE_OF_ETHNICITY = {
    "01": "kinh", "02": "tay_nung", "07": "tay_nung", "15": "tay_nung", "25": "tay_nung", "49": "tay_nung",
    "51": "tay_nung", "03": "thai", "42": "thai", "37": "thai", "29": "thai", "34": "thai", "08": "hmong",
    "09": "dao", "46": "dao", "06": "muong", "24": "muong", "05": "khmer", "04": "hoa", "11": "hoa",
    "18": "hoa", "17": "cham", "21": "cham", "36": "cham", "12": "highland", "10": "highland",
    "20": "highland", "16": "highland", "28": "highland", "22": "highland", "32": "highland",
    "13": "highland_first", "14": "highland_first", "19": "highland_first", "30": "highland_first",
    "27": "highland_first", "26": "highland_first", "31": "highland_first", "23": "highland_first",
    "52": "highland_first", "54": "highland_first", "44": "highland_first", "45": "hmong", "35": "hmong",
    "43": "hmong", "40": "hmong", "41": "hmong", "38": "hmong", "47": "hmong", "48": "thai", "50": "hmong",
    "33": "thai", "39": "thai", "53": "highland_first",
}  # fmt: skip

# Spelling variants that really occur for the same surname (used for duplicates with typos).
SURNAME_VARIANTS = {"Hoàng": "Huỳnh", "Huỳnh": "Hoàng", "Vũ": "Võ", "Võ": "Vũ"}


@cache
def ethnic_names() -> dict[str, str]:
    """QĐ 121 code → name (fixtures/ethnic_groups_vn.csv)."""
    with (FIXTURES / "ethnic_groups_vn.csv").open(encoding="utf-8") as handle:
        return {row["code_qd121"]: row["name"] for row in csv.DictReader(handle)}
