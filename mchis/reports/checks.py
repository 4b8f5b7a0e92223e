"""Validation rules and outlier flags on report values (kiểm tra số liệu, phát hiện giá trị bất thường). Pure.

* ``run_rules``: the form's rules between cells (left op right), each an error (blocks submission) or a
  warning (needs an explanatory comment), R-MCH-05.
* ``outliers``: per cell, compare this period's value with the unit's own history of submitted values, the
  way DHIS2's outlier analysis does: z-score (|z| > 3), modified z-score on the median absolute deviation
  (|Mz| > 3.5, Iglewicz & Hoaglin) and the historical min-max range. Shown to the approver, never blocking.
"""

from __future__ import annotations

import operator
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .definitions import FormSpec, Rule, Term

OPS: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
Z_LIMIT = 3.0
MODZ_LIMIT = 3.5
MIN_HISTORY = 3


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    message: str
    left: float
    right: float
    expression: str

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "left": self.left,
            "right": self.right,
            "expression": self.expression,
        }


def _side(terms: tuple[Term, ...], values: Mapping[str, float]) -> float:
    return sum(t.sign * (values.get(t.cell, 0) if t.cell else t.constant) for t in terms)


def run_rule(rule: Rule, values: Mapping[str, float]) -> Finding | None:
    """None when the rule holds, or when it names an empty manual cell (absent from ``values``): an empty
    required cell is its own error at submission, and an empty optional cell is not evidence either way."""
    if any(t.cell and t.cell not in values for t in (*rule.left, *rule.right)):
        return None
    left, right = _side(rule.left, values), _side(rule.right, values)
    if OPS[rule.op](left, right):
        return None
    message = rule.message or f"Quy tắc {rule.id} không thỏa: {rule.describe()}"
    return Finding(
        rule.id, rule.severity, f"{message} ({left:g} {rule.op} {right:g} sai)", left, right, rule.describe()
    )


def run_rules(spec: FormSpec, values: Mapping[str, float]) -> list[Finding]:
    return [f for rule in spec.rules if (f := run_rule(rule, values)) is not None]


@dataclass(frozen=True)
class OutlierFlag:
    cell: str
    value: float
    method: str
    score: float
    detail: str


def outliers(cell: str, value: float, history: Sequence[float]) -> list[OutlierFlag]:
    """Flags for one cell's value against its history (at least MIN_HISTORY earlier values needed)."""
    if len(history) < MIN_HISTORY:
        return []
    flags: list[OutlierFlag] = []
    mean = statistics.fmean(history)
    sd = statistics.pstdev(history)
    if sd > 0:
        z = (value - mean) / sd
        if abs(z) > Z_LIMIT:
            flags.append(OutlierFlag(cell, value, "z-score", round(z, 2), f"TB {mean:.1f}, ĐLC {sd:.1f}"))
    median = statistics.median(history)
    mad = statistics.median([abs(h - median) for h in history])
    if mad > 0:
        mz = 0.6745 * (value - median) / mad
        if abs(mz) > MODZ_LIMIT:
            flags.append(
                OutlierFlag(
                    cell, value, "modified z-score", round(mz, 2), f"trung vị {median:g}, MAD {mad:g}"
                )
            )
    lo, hi = min(history), max(history)
    if value < lo or value > hi:
        flags.append(OutlierFlag(cell, value, "min-max", value, f"ngoài khoảng lịch sử [{lo:g}; {hi:g}]"))
    return flags


def all_outliers(
    values: Mapping[str, float], history: Sequence[Mapping[str, float]]
) -> dict[str, list[OutlierFlag]]:
    out: dict[str, list[OutlierFlag]] = {}
    for key, value in values.items():
        past = [h[key] for h in history if key in h]
        flags = outliers(key, value, past)
        if flags:
            out[key] = flags
    return out
