"""Personal ID numbers (số định danh cá nhân / CCCD), R-CH-08. Pure functions, no database.

12 digits = 3-digit birth-registration province prefix (the *pre-2025* table, "0" + old 2-digit code)
+ 1 century/sex digit (1900s: 0 male 1 female; 2000s: 2/3; 2100s: 4/5) + 2 digits of birth year
+ 6 random digits. No check digit. Never decode the prefix with the 2025 province table.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "cccd_province_codes.csv"

# century/sex digit -> (century start, sex)  sex: "M" male / "F" female
CENTURY_SEX = {0: (1900, "M"), 1: (1900, "F"), 2: (2000, "M"), 3: (2000, "F"), 4: (2100, "M"), 5: (2100, "F"),
               6: (2200, "M"), 7: (2200, "F"), 8: (2300, "M"), 9: (2300, "F")}  # fmt: skip


@cache
def province_prefixes() -> dict[str, dict[str, str]]:
    """prefix -> {"name": province name at issue, "province_2025_code": …}."""
    with FIXTURE.open(encoding="utf-8") as handle:
        return {
            row["cccd_prefix"]: {
                "name": row["province_name_at_issue"],
                "province_2025_code": row["province_2025_code"],
            }
            for row in csv.DictReader(handle)
        }


@dataclass(frozen=True)
class IdIssue:
    """One problem found. level "error" = invalid structure; "warning" = inconsistent with the record."""

    level: str
    field: str
    code: str
    message: str


@dataclass(frozen=True)
class DecodedId:
    prefix: str
    province_name: str
    sex: str
    birth_year: int


def structure_errors(value: str) -> list[IdIssue]:
    """Errors that make the number invalid whatever the record says."""
    if not value.isdigit() or len(value) != 12:
        return [IdIssue("error", "personal_id", "id_format", "Số định danh phải gồm đúng 12 chữ số.")]
    if value[:3] not in province_prefixes():
        return [
            IdIssue(
                "error",
                "personal_id",
                "id_prefix",
                f"Mã tỉnh nơi đăng ký khai sinh '{value[:3]}' không tồn tại.",
            )
        ]
    if int(value[3]) > 5:
        return [
            IdIssue("error", "personal_id", "id_century", "Chữ số thế kỷ/giới tính (vị trí 4) không hợp lệ.")
        ]
    return []


def decode(value: str) -> DecodedId | None:
    if structure_errors(value):
        return None
    return _decode_valid(value)


def _decode_valid(value: str) -> DecodedId:
    """`decode` of a number already known to have no structure error."""
    return _decode_head(value[:6])


@lru_cache(
    maxsize=16_384
)  # the first six digits say it all and repeat a lot (issue 14: the import's hot path)
def _decode_head(value: str) -> DecodedId:
    century, sex = CENTURY_SEX[int(value[3])]
    return DecodedId(
        prefix=value[:3],
        province_name=province_prefixes()[value[:3]]["name"],
        sex=sex,
        birth_year=century + int(value[4:6]),
    )


def check(
    value: str, *, date_of_birth: date | None = None, sex: str = "", birth_prefix: str = ""
) -> list[IdIssue]:
    """Structure errors, then consistency warnings against the record (must be acknowledged)."""
    value = (value or "").strip()
    if not value:
        return []
    errors = structure_errors(value)
    if errors:
        return errors
    decoded = _decode_valid(
        value
    )  # checked just above: not twice per number (issue 14, the import's hot path)
    warnings: list[IdIssue] = []
    if date_of_birth and decoded.birth_year != date_of_birth.year:
        warnings.append(IdIssue("warning", "personal_id", "id_year_mismatch",
                                f"Năm sinh trong số định danh ({decoded.birth_year}) khác ngày sinh ({date_of_birth.year})."))  # fmt: skip
    if sex and decoded.sex != sex:
        warnings.append(
            IdIssue(
                "warning",
                "personal_id",
                "id_sex_mismatch",
                "Giới tính trong số định danh khác giới tính đã khai.",
            )
        )
    if birth_prefix and decoded.prefix != birth_prefix:
        warnings.append(IdIssue("warning", "personal_id", "id_prefix_mismatch",
                                f"Mã tỉnh đăng ký khai sinh ({decoded.province_name}) khác tỉnh khai sinh đã khai."))  # fmt: skip
    return warnings


def compose(*, prefix: str, birth_year: int, sex: str, serial: int) -> str:
    """Build a structurally valid number (used by the generator and tests)."""
    century = (birth_year // 100) * 100
    digit = {1900: 0, 2000: 2, 2100: 4}[century] + (1 if sex == "F" else 0)
    return f"{prefix}{digit}{birth_year % 100:02d}{serial % 1_000_000:06d}"
