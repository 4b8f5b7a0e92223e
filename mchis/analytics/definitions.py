"""Indicators as data (chỉ số, issue 15): ``fixtures/indicators.json`` holds

* ``elements`` — a report-form definition (``mchis.report-form/1``, code ``AN``) of analytics data elements
  computed from the registers by the report engine itself (``reports.compute.register_values``): counts a
  report form does not carry, with the age columns WHO asks for (10–14, 15–19, 20+);
* ``indicators`` — numerator / denominator expressions over data elements, a factor, a period type, the
  Vietnamese name and definition (with English), and the WHO indicator followed and how ours differs.

A data element id is ``<FORM>.<row>:<column>`` (``BCX3.I.5:total``, ``AN.DLV:a15_19``) or a store count
(``RPT.expected``, ``DQ.du.bad``) or a population (``POP.F:a30_49``, a stock: see ``population``) or the
women screened for cervical cancer in 5 years (``CXCOV.W:a30_49``, a stock at the period's end: ``coverage``). An expression is element ids joined by `` + `` / `` - ``; ``{col}`` stands
for the disaggregation column (``total`` unless a disaggregation is asked for). Pure apart from the cache.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from mchis.reports.definitions import FormSpec, parse_form

from .coverage import NAMES as COVERAGE_ELEMENTS
from .population import ELEMENTS as POPULATION_ELEMENTS

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "indicators.json"
FORMAT = "mchis.indicators/1"
ELEMENT_FORM = "AN"
_ELEMENT = re.compile(r"^[A-Z][A-Z0-9]{0,15}\.[A-Za-z0-9_.\-]{1,40}(:[A-Za-z0-9_.\-{}]{1,40})?\Z")
CRITERIA = ("dung", "du", "sach", "song", "thong_nhat", "dung_chung")
STORE_ELEMENTS = (
    ("RPT.expected", "RPT.submitted", "RPT.on_time", "APPROVED.any")
    + tuple(f"DQ.{c}.{part}" for c in CRITERIA for part in ("records", "bad"))
    + tuple(POPULATION_ELEMENTS)
    + tuple(COVERAGE_ELEMENTS)
)
# Groups whose values do not depend on approval (counts of reports, data-quality scores).
APPROVAL_FREE_GROUPS = frozenset({"reporting", "quality"})


class IndicatorError(ValueError):
    """A malformed indicator file or expression (Vietnamese message)."""


@dataclass(frozen=True)
class Term:
    sign: int
    element: str


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    name_en: str
    definition: str
    definition_en: str
    numerator: str
    denominator: str
    factor: int
    factor_label: str
    factor_label_en: str
    period_type: str
    group: str
    who_reference: str = ""
    who_difference: str = ""
    disaggregations: tuple[str, ...] = field(default_factory=tuple)

    @property
    def approval_applies(self) -> bool:
        return self.group not in APPROVAL_FREE_GROUPS

    def terms(self, which: str, col: str = "total") -> tuple[Term, ...]:
        text = self.numerator if which == "numerator" else self.denominator
        return parse_expression(text.replace("{col}", col)) if text else ()


def parse_expression(text: str) -> tuple[Term, ...]:
    """``"AN.DLV:total - AN.DLV_HOME:total"`` → terms; IndicatorError on anything else."""
    parts = text.split()
    if not parts or len(parts) % 2 == 0:
        raise IndicatorError(f"Biểu thức '{text}' không hợp lệ (phần tử nối bằng ' + ' hoặc ' - ').")
    terms = []
    sign = 1
    for i, part in enumerate(parts):
        if i % 2:
            if part not in "+-" or len(part) != 1:
                raise IndicatorError(f"Biểu thức '{text}': '{part}' không phải dấu + hoặc -.")
            sign = 1 if part == "+" else -1
            continue
        if not _ELEMENT.match(part):
            raise IndicatorError(f"Biểu thức '{text}': '{part}' không phải mã phần tử dữ liệu.")
        terms.append(Term(sign, part))
    return tuple(terms)


def split_element(element: str) -> tuple[str, str]:
    """``"BCX3.I.5:total"`` → (``"BCX3"``, ``"I.5:total"``)."""
    form, _, cell = element.partition(".")
    return form, cell


def parse_indicators(data: Any, element_cells: set[str]) -> tuple[Indicator, ...]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise IndicatorError(f"Tệp chỉ số phải có format '{FORMAT}'.")
    out: list[Indicator] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("indicators") or []):
        where = f"indicators[{i}]"
        try:
            ind = Indicator(
                id=str(raw["id"]),
                name=str(raw["name"]),
                name_en=str(raw.get("name_en", "")),
                definition=str(raw["definition"]),
                definition_en=str(raw.get("definition_en", "")),
                numerator=str(raw["numerator"]),
                denominator=str(raw.get("denominator") or ""),
                factor=int(raw["factor"]),
                factor_label=str(raw.get("factor_label", "")),
                factor_label_en=str(raw.get("factor_label_en", "")),
                period_type=str(raw.get("period_type", "monthly")),
                group=str(raw.get("group", "")),
                who_reference=str(raw.get("who_reference", "")),
                who_difference=str(raw.get("who_difference", "")),
                disaggregations=tuple(raw.get("disaggregations") or ()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IndicatorError(f"{where}: thiếu hoặc sai trường ({exc}).") from exc
        if not re.match(r"^[A-Z][A-Z0-9_]{0,31}\Z", ind.id):
            raise IndicatorError(f"{where}: mã chỉ số '{ind.id}' chỉ gồm chữ hoa, số, '_'.")
        if ind.id in seen:
            raise IndicatorError(f"{where}: mã chỉ số '{ind.id}' bị trùng.")
        seen.add(ind.id)
        if ind.factor <= 0:
            raise IndicatorError(f"{where}: hệ số phải dương.")
        if ind.disaggregations and "{col}" not in ind.numerator:  # else every band would show the total
            raise IndicatorError(
                f"{where}: có phân tổ nên tử số phải dùng '{{col}}' (ví dụ 'AN.DLV:{{col}}')."
            )
        for col in ("total", *ind.disaggregations):
            for which in ("numerator", "denominator"):
                for term in ind.terms(which, col):
                    form, _ = split_element(term.element)
                    if form == ELEMENT_FORM and term.element not in element_cells:
                        raise IndicatorError(
                            f"{where}.{which}: phần tử '{term.element}' không có trong elements."
                        )
                    if (
                        form in ("RPT", "DQ", "APPROVED", "POP", "CXCOV")
                        and term.element not in STORE_ELEMENTS
                    ):
                        raise IndicatorError(f"{where}.{which}: phần tử '{term.element}' không tồn tại.")
        out.append(ind)
    return tuple(out)


@dataclass(frozen=True)
class Catalog:
    spec: FormSpec
    indicators: tuple[Indicator, ...]

    @property
    def by_id(self) -> dict[str, Indicator]:
        return {i.id: i for i in self.indicators}

    @property
    def element_ids(self) -> list[str]:
        return [f"{ELEMENT_FORM}.{c.key}" for c in self.spec.cells]


def load(path: Path = FIXTURE) -> Catalog:
    data = json.loads(path.read_text(encoding="utf-8"))
    spec = parse_form(data.get("elements"), f"{path.name}:elements")
    cells = {f"{ELEMENT_FORM}.{c.key}" for c in spec.cells}
    return Catalog(spec, parse_indicators(data, cells))


@cache
def catalog() -> Catalog:
    return load()
