"""The statistics the portal can publish: the analytics indicators and data elements (docs/portal.md, issue 15).

A public statistic is a stable public key (its URLs and downloads) naming either an **analytics indicator**
(``ANC4``: a rate whose numerator, denominator, factor, name and definition are data in
``analytics/fixtures/indicators.json``) or an **analytics data element** (``AN.DLV:total``: a count, its public
name and definition written here). Nothing here computes: the values, numerators and denominators are the
analytics store's *approved* values (``sources``), its arithmetic lives in ``analytics.selectors.compute``.
The public definition is copied into ``PublishedStatistic`` when a statistic is published.
"""

from __future__ import annotations

from dataclasses import dataclass

from mchis.analytics.definitions import Indicator, Term, parse_expression
from mchis.analytics.selectors import DxItem, indicator_get

SOURCE = (
    "Kho số liệu phân tích của hệ thống (chỉ số định nghĩa dưới dạng dữ liệu), tính từ sổ sách ghi chép của "
    "các cơ sở y tế; chỉ các tháng mà báo cáo của đơn vị đã được duyệt"
)
SOURCE_EN = (
    "The system's analytics store (indicators defined as data), computed from the health facilities' registers; "
    "only the months whose report of the unit has been approved"
)


class UnknownIndicator(LookupError):
    """A public statistic names an analytics indicator that the catalogue no longer has."""


@dataclass(frozen=True)
class Statistic:
    key: str  # public, stable
    dx: str  # an analytics indicator id (a rate) or a data element id (a count)
    name_: str = ""  # counts only: an indicator's names and definitions come from analytics
    name_en_: str = ""
    definition_: str = ""
    definition_en_: str = ""
    unit_: str = ""
    unit_en_: str = ""

    @property
    def indicator(self) -> Indicator | None:
        if "." in self.dx:
            return None
        found = indicator_get(self.dx)
        if found is None:
            raise UnknownIndicator(self.dx)
        return found

    def resolves(self) -> bool:
        """Whether analytics still defines it (an indicator removed from indicators.json: not offered)."""
        try:
            self.indicator  # noqa: B018 - the lookup is the check
        except UnknownIndicator:
            return False
        return True

    @property
    def kind(self) -> str:
        ind = self.indicator
        return "rate" if ind is not None and ind.denominator else "count"

    @property
    def factor(self) -> int:
        ind = self.indicator
        return ind.factor if ind is not None else 1

    def _pick(self, own: str, attr: str) -> str:
        ind = self.indicator
        return str(getattr(ind, attr)) if ind is not None else own

    @property
    def name(self) -> str:
        return self._pick(self.name_, "name")

    @property
    def name_en(self) -> str:
        return self._pick(self.name_en_, "name_en")

    @property
    def definition(self) -> str:
        return self._pick(self.definition_, "definition")

    @property
    def definition_en(self) -> str:
        return self._pick(self.definition_en_, "definition_en")

    @property
    def unit(self) -> str:
        return self._pick(self.unit_, "factor_label")

    @property
    def unit_en(self) -> str:
        return self._pick(self.unit_en_, "factor_label_en")

    def item(self) -> DxItem:
        """The analytics query item (``analytics.selectors.compute``)."""
        return DxItem(
            self.key, self.name, indicator=self.indicator, element="" if self.indicator else self.dx
        )

    def terms(self, which: str) -> tuple[Term, ...]:
        return self.item().terms(which)

    def count_key(self, which: str) -> str:
        """The count behind the figure (``numerator`` / ``denominator``) as its expression: two statistics
        sharing a count (the deliveries, the denominator of ANC4) get one disclosure decision for it."""
        return " ".join(f"{'+' if t.sign > 0 else '-'}{t.element}" for t in self.terms(which))

    def _elements(self) -> list[str]:
        return [t.element for w in ("numerator", "denominator") for t in self.terms(w)]

    def source(self) -> str:
        ind = self.indicator
        ref = f"chỉ số {ind.id}" if ind is not None else f"phần tử dữ liệu {self.dx}"
        return f"{SOURCE}; {ref} ({', '.join(dict.fromkeys(self._elements()))})."

    def source_en(self) -> str:
        ind = self.indicator
        ref = f"indicator {ind.id}" if ind is not None else f"data element {self.dx}"
        return f"{SOURCE_EN}; {ref} ({', '.join(dict.fromkeys(self._elements()))})."


def _count(key: str, element: str, name: str, name_en: str, definition: str, definition_en: str,
           unit: str, unit_en: str) -> Statistic:  # fmt: skip
    parse_expression(element)  # a malformed element id fails at import, not at publication
    return Statistic(key, element, name, name_en, definition, definition_en, unit, unit_en)


CATALOGUE: tuple[Statistic, ...] = (
    _count(
        "deliveries", "AN.DLV:total", "Số phụ nữ đẻ", "Women who gave birth",
        "Số phụ nữ đẻ trong kỳ được ghi trong sổ đẻ của các cơ sở y tế.",
        "Women who gave birth in the period, as recorded in the health facilities' delivery registers.",
        "người", "women",
    ),
    _count(
        "live-births", "AN.LIVE:total", "Số trẻ đẻ ra sống", "Live births",
        "Số trẻ đẻ ra sống trong kỳ.", "Live births in the period.", "trẻ", "children",
    ),
    Statistic("anc4", "ANC4"),
    Statistic("skilled-birth-attendance", "SBA"),
    Statistic("hepb-testing", "HEPB_TEST"),
    Statistic("low-birth-weight", "LBW"),
    _count(
        "neonatal-deaths", "AN.NEO_DEATH:total", "Số trẻ tử vong dưới 28 ngày tuổi",
        "Neonatal deaths (under 28 days)", "Số trẻ tử vong trước 28 ngày tuổi trong kỳ.",
        "Children who died before 28 days of age in the period.", "trẻ", "children",
    ),
    _count(
        "infant-deaths", "AN.INF_DEATH:total", "Số trẻ tử vong dưới 1 tuổi", "Infant deaths (under 1 year)",
        "Số trẻ tử vong trước 1 tuổi trong kỳ.", "Children who died before 1 year of age in the period.",
        "trẻ", "children",
    ),
    _count(
        "under5-deaths", "AN.U5_DEATH:total", "Số trẻ tử vong dưới 5 tuổi", "Under-five deaths",
        "Số trẻ tử vong trước 5 tuổi trong kỳ.", "Children who died before 5 years of age in the period.",
        "trẻ", "children",
    ),
    _count(
        "abortions", "AN.AB:total", "Số ca phá thai", "Abortions",
        "Số ca phá thai được thực hiện trong kỳ.", "Abortions performed in the period.", "ca", "cases",
    ),
)  # fmt: skip

BY_KEY = {s.key: s for s in CATALOGUE}


def available() -> list[Statistic]:
    """The statistics that can be published now (their analytics indicator exists)."""
    return [s for s in CATALOGUE if s.resolves()]
