"""The statistics the portal can publish, until the analytics app's indicators take over (docs/portal.md).

Each statistic reads cells of the commune report (Biểu 3/BCX, Thông tư 37/2019/TT-BYT) summed over the
*approved* reports of the area: a count (one cell) or a rate (numerator cell / denominator cell × factor).
Its public name, definition and source are copied into ``PublishedStatistic`` when it is published.
"""

from __future__ import annotations

from dataclasses import dataclass

FORM = "BCX3"
SOURCE = "Biểu 3/BCX (Thông tư 37/2019/TT-BYT), báo cáo tháng đã được duyệt của các trạm y tế xã"
SOURCE_EN = "Form 3/BCX (Circular 37/2019/TT-BYT), approved monthly reports of the commune health stations"


@dataclass(frozen=True)
class Statistic:
    key: str
    name: str
    name_en: str
    definition: str
    definition_en: str
    numerator: str  # report cell "row:column"
    denominator: str = ""
    factor: int = 1
    unit: str = ""
    unit_en: str = ""

    @property
    def kind(self) -> str:
        return "rate" if self.denominator else "count"

    @property
    def cells(self) -> tuple[str, ...]:
        return (self.numerator, self.denominator) if self.denominator else (self.numerator,)

    def source(self) -> str:
        cells = " và ".join(f"dòng {c.split(':')[0]}" for c in self.cells)
        return f"{SOURCE}; {cells}, cột Tổng số."

    def source_en(self) -> str:
        cells = " and ".join(f"row {c.split(':')[0]}" for c in self.cells)
        return f"{SOURCE_EN}; {cells}, column Total."


CATALOGUE: tuple[Statistic, ...] = (
    Statistic(
        "deliveries", "Số phụ nữ đẻ", "Women who gave birth",
        "Số phụ nữ đẻ trong kỳ (mọi nơi đẻ) do trạm y tế xã quản lý.",
        "Women who gave birth in the period (any place of delivery) followed by the commune health station.",
        "I.5:total", unit="người", unit_en="women",
    ),
    Statistic(
        "live-births", "Số trẻ đẻ ra sống", "Live births",
        "Số trẻ đẻ ra sống trong kỳ.", "Live births in the period.",
        "III.1:total", unit="trẻ", unit_en="children",
    ),
    Statistic(
        "anc4", "Tỉ lệ phụ nữ đẻ được khám thai ≥ 4 lần", "Women giving birth with ≥ 4 antenatal visits",
        "Số phụ nữ đẻ được khám thai ít nhất 4 lần trong 3 thời kỳ / tổng số phụ nữ đẻ × 100.",
        "Women giving birth who had at least 4 antenatal visits over the 3 trimesters / all women giving "
        "birth × 100.",
        "I.5.2:total", "I.5:total", 100, "%", "%",
    ),
    Statistic(
        "skilled-birth-attendance", "Tỉ lệ đẻ được cán bộ có kỹ năng đỡ", "Births attended by skilled personnel",
        "Số phụ nữ đẻ được cán bộ có kỹ năng đỡ / tổng số phụ nữ đẻ × 100.",
        "Women whose delivery was attended by skilled health personnel / all women giving birth × 100.",
        "I.5.9c:total", "I.5:total", 100, "%", "%",
    ),
    Statistic(
        "hepb-testing", "Tỉ lệ phụ nữ đẻ được xét nghiệm viêm gan B", "Women giving birth tested for hepatitis B",
        "Số phụ nữ đẻ được xét nghiệm viêm gan B trong lần mang thai này / tổng số phụ nữ đẻ × 100.",
        "Women giving birth tested for hepatitis B during this pregnancy / all women giving birth × 100.",
        "I.5.3:total", "I.5:total", 100, "%", "%",
    ),
    Statistic(
        "low-birth-weight", "Tỉ lệ trẻ sơ sinh nhẹ cân (< 2.500 g)", "Low birth weight (< 2,500 g)",
        "Số trẻ sơ sinh có cân nặng dưới 2.500 gram / số trẻ sơ sinh được cân × 100.",
        "Newborns weighing under 2,500 grams / newborns weighed × 100.",
        "III.6:total", "III.5:total", 100, "%", "%",
    ),
    Statistic(
        "neonatal-deaths", "Số trẻ tử vong dưới 28 ngày tuổi", "Neonatal deaths (under 28 days)",
        "Số trẻ tử vong trước 28 ngày tuổi trong kỳ.", "Children who died before 28 days of age in the period.",
        "III.11:total", unit="trẻ", unit_en="children",
    ),
    Statistic(
        "infant-deaths", "Số trẻ tử vong dưới 1 tuổi", "Infant deaths (under 1 year)",
        "Số trẻ tử vong trước 1 tuổi trong kỳ.", "Children who died before 1 year of age in the period.",
        "III.12:total", unit="trẻ", unit_en="children",
    ),
    Statistic(
        "under5-deaths", "Số trẻ tử vong dưới 5 tuổi", "Under-five deaths",
        "Số trẻ tử vong trước 5 tuổi trong kỳ.", "Children who died before 5 years of age in the period.",
        "III.13:total", unit="trẻ", unit_en="children",
    ),
    Statistic(
        "abortions", "Số ca phá thai", "Abortions",
        "Số ca phá thai được thực hiện trong kỳ.", "Abortions performed in the period.",
        "II.5:total", unit="ca", unit_en="cases",
    ),
)  # fmt: skip

BY_KEY = {s.key: s for s in CATALOGUE}
