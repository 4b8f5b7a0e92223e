"""What a person deciding "same child or not" sees (R-DQ-02): the two records field by field, the fields
that differ, and the evidence the duplicate model used (per comparison: the level reached and its weight).

Pure functions over plain dicts (Child field names); the evidence reads the same trained model file as the
entry check and the scan (`dedupe.pair_evidence`). When the model does not expose per-level weights the
evidence is empty and the page shows the compared fields only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from mchis.core.text import nfc
from mchis.registry.duplicates import display_rows as display_rows  # the same rows on both apps' pages
from mchis.registry.models import Sex

# Fields a person compares, in the order of the paper register.
COMPARED_FIELDS: tuple[tuple[str, Any], ...] = (
    ("full_name", _("Họ và tên")),
    ("date_of_birth", _("Ngày sinh")),
    ("sex", _("Giới tính")),
    ("personal_id", _("Số định danh")),
    ("mother_name", _("Họ tên mẹ")),
    ("father_name", _("Họ tên cha")),
    ("guardian_name", _("Người giám hộ")),
    ("village", _("Thôn/tổ dân phố")),
)

COMPARISON_LABELS: dict[str, Any] = {
    "given": _("Tên"),
    "family": _("Họ"),
    "middle": _("Tên đệm"),
    "dob": _("Ngày sinh"),
    "pid": _("Số định danh"),
    "mother": _("Tên mẹ"),
    "father": _("Tên cha"),
    "village": _("Thôn/tổ dân phố"),
    "sex": _("Giới tính"),
    "place": _("Nơi ở"),
    "household": _("Hộ gia đình (song sinh, anh chị em)"),
}

LEVEL_LABELS: dict[str, Any] = {
    "null": _("thiếu ở một bên"),
    "exact": _("trùng khớp"),
    "exact with diacritics": _("trùng khớp (cả dấu)"),
    "exact folded": _("trùng khi bỏ dấu"),
    "variant (Hoàng≈Huỳnh, Vũ≈Võ)": _("biến thể họ (Hoàng≈Huỳnh, Vũ≈Võ)"),
    "day-month swapped": _("đảo ngày và tháng"),
    "same year-month": _("cùng tháng, năm"),
    "same year": _("cùng năm"),
    "else": _("khác"),
    "diacritic conflict (Máy / Mẩy)": _("khác dấu (Máy / Mẩy)"),
    "doubled letter, one edit or transposition": _("lệch một chữ, chữ đôi hoặc đảo chữ"),
    "one edit or transposition": _("lệch một chữ hoặc đảo chữ"),
    "one edit or jaro-winkler>=0.9": _("gần giống"),
    "one edit or jaro-winkler>=0.92": _("gần giống"),
    "year off by one": _("lệch một năm"),
    "twins: same carer and birth, other given name, own IDs or other sex": _(
        "song sinh: cùng mẹ, cùng ngày sinh, khác tên"
    ),
    "likely twins: same carer and birth, different given names": _(
        "có thể song sinh: cùng mẹ, cùng ngày sinh, khác tên"
    ),
    "same carer, another birth date": _("cùng mẹ, khác ngày sinh (anh chị em)"),
    "same village": _("cùng thôn"),
    "same commune": _("cùng xã"),
}


@dataclass(frozen=True)
class FieldRow:
    key: str
    label: str
    a: str
    b: str

    @property
    def same(self) -> bool:
        """Equal as written (case and spacing aside): "Hoa" and "Hòa" differ for the person comparing."""
        return " ".join(nfc(self.a).lower().split()) == " ".join(nfc(self.b).lower().split())


@dataclass(frozen=True)
class ComparisonEvidence:
    name: str
    label: str
    level: str
    weight: float | None  # log2 Bayes factor of the level; None = not counted (missing on one side)

    @property
    def direction(self) -> str:
        if self.weight is None or abs(self.weight) < 0.5:
            return "neutral"
        return "for" if self.weight > 0 else "against"


def _display(key: str, value: Any) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if key == "date_of_birth" and isinstance(value, str) and len(value) >= 10 and value[4] == "-":
        return date.fromisoformat(value[:10]).strftime("%d/%m/%Y")
    if key == "sex":
        return str(dict(Sex.choices).get(str(value), value))
    return str(value)


def child_values(child: Any) -> dict[str, Any]:
    """A Child as the plain dict the comparison reads (village as its name and id)."""
    row = {k: getattr(child, k, None) for k, _label in COMPARED_FIELDS if k != "village"}
    row["village_id"] = child.village_id
    row["village"] = str(child.village) if child.village_id else ""
    row["commune_id"] = child.commune_id
    return row


def field_rows(a: dict[str, Any], b: dict[str, Any]) -> list[FieldRow]:
    return [
        FieldRow(key, str(label), _display(key, a.get(key)), _display(key, b.get(key)))
        for key, label in COMPARED_FIELDS
    ]


def differing_keys(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Keys of the fields filled on both sides that differ (a field missing on one side is not a difference)."""
    return [r.key for r in field_rows(a, b) if r.a and r.b and not r.same]


def label_of(key: str) -> str:
    return str(dict(COMPARED_FIELDS).get(key, key))


def _level_label(label: str) -> str:
    if label.startswith(("jw>=", "jaro-winkler>=")):
        return str(_("gần giống"))
    if label.startswith("levenshtein<="):
        return str(_("khác tối đa %(n)s ký tự") % {"n": label.rsplit("=", 1)[-1]})
    return str(LEVEL_LABELS.get(label, label))


def model_evidence(child_a: Any, child_b: Any) -> list[ComparisonEvidence]:
    """Per comparison of the duplicate model (the same model file as the scan and the entry check,
    `dedupe.pair_evidence`): the level the pair reaches and its weight (log2 m/u plus the term-frequency
    adjustment); None for a level that does not count (missing on one side)."""
    from . import dedupe

    try:
        found = dedupe.pair_evidence(child_a, child_b)
    except (OSError, KeyError, ValueError, AttributeError):
        return []
    out = []
    for e in found.get("comparisons", []):
        counted = e.m is not None and e.u is not None
        weight = (e.weight + e.tf_adjustment) if counted else None
        out.append(
            ComparisonEvidence(
                e.comparison,
                str(COMPARISON_LABELS.get(e.comparison, e.comparison)),
                _level_label(e.level),
                None if weight is None else round(weight, 1),
            )
        )
    return out
