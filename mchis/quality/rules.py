"""Data-quality rules (quy tắc kiểm tra chất lượng dữ liệu, QĐ 3978 Điều 4, 16.1; R-DQ-01, R-DQ-03).

Rules are *data + pure functions* (STYLE practice 7): each `Rule` has a code, the criterion it measures
(Đúng / Đủ / Sạch / Sống / Thống nhất / Dùng chung), a severity, a Vietnamese message, and a function
``(record: ChildRecord, context: RuleContext) -> list[Finding]`` that touches no database and no clock
(``context.today`` is the clock). The engine (engine.py) loads rows, runs `RULES`, stores findings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from typing import Any

from django.utils.translation import gettext_noop

from mchis.core.ages import completed_years
from mchis.core.text import fold
from mchis.registry.personal_id import check as check_personal_id
from mchis.registry.personal_id import structure_errors
from mchis.registry.validation import parent_guardian_gaps


class Criterion:
    """The six criteria of R-DQ-01 (3978 Điều 4)."""

    DUNG = "dung"  # Đúng: correct
    DU = "du"  # Đủ: complete
    SACH = "sach"  # Sạch: clean (no duplicates, contradictions, illogical values)
    SONG = "song"  # Sống: live (updated promptly)
    THONG_NHAT = "thong_nhat"  # Thống nhất: uniform codes and formats
    DUNG_CHUNG = "dung_chung"  # Dùng chung: connected and shareable

    LABELS = {
        DUNG: gettext_noop("Đúng"),
        DU: gettext_noop("Đủ"),
        SACH: gettext_noop("Sạch"),
        SONG: gettext_noop("Sống"),
        THONG_NHAT: gettext_noop("Thống nhất"),
        DUNG_CHUNG: gettext_noop("Dùng chung"),
    }
    ALL = tuple(LABELS)


@dataclass(frozen=True)
class CircumstanceRecord:
    group_code: str
    subgroup_code: str = ""
    start_date: date | None = None
    end_date: date | None = None


@dataclass(frozen=True)
class ChildRecord:
    """A child as the rules see it: plain values, no ORM."""

    id: int | None = None
    unit_id: int | None = None
    full_name: str = ""
    date_of_birth: date | None = None
    sex: str = ""
    ethnicity_code: str = ""
    personal_id: str = ""
    commune_id: int | None = None
    village_id: int | None = None
    father_name: str = ""
    father_dob: date | None = None
    father_personal_id: str = ""
    mother_name: str = ""
    mother_dob: date | None = None
    mother_personal_id: str = ""
    guardian_name: str = ""
    guardian_dob: date | None = None
    guardian_relationship: str = ""
    status: str = "active"
    updated_at: date | None = None
    circumstances: tuple[CircumstanceRecord, ...] = ()


@dataclass(frozen=True)
class RuleContext:
    """Everything a rule may know besides the record. Built once per scan (engine.build_context)."""

    today: date
    # unit_id -> ("commune" | "province", admin unit id): where the unit's children should live
    unit_area: dict[int, tuple[str, int]] = dc_field(default_factory=dict)
    commune_province: dict[int, int] = dc_field(default_factory=dict)
    # catalog code -> current codes; an empty/missing catalog is not checked (not loaded yet)
    catalogs: dict[str, frozenset[str]] = dc_field(default_factory=dict)
    # circumstance group codes meaning "mồ côi cả cha và mẹ" (orphan of both parents)
    orphan_both_codes: frozenset[str] = frozenset()
    # group code -> days without update before a record is "dead"; "*" is the default (R-DQ-03)
    dead_after_days: dict[str, int] = dc_field(default_factory=lambda: {"*": 365})
    earliest_dob: date = date(1990, 1, 1)


@dataclass(frozen=True)
class Finding:
    rule_code: str
    field: str
    message: str
    # distinguishes several findings of one rule on one record (e.g. which field); stable across runs
    fingerprint: str = ""
    details: dict[str, Any] = dc_field(default_factory=dict)


RuleFn = Callable[[ChildRecord, RuleContext], list[Finding]]


@dataclass(frozen=True)
class Rule:
    code: str
    criterion: str
    severity: str  # "error" | "warning"
    message: str
    check: RuleFn
    description: str = ""


# --- helpers ------------------------------------------------------------------------------------


def _age_on(birth: date, day: date) -> int:
    return completed_years(birth, day)


def _f(code: str, fld: str, message: str, fingerprint: str = "", **details: object) -> Finding:
    return Finding(code, fld, message, fingerprint or fld, dict(details))


# --- rules --------------------------------------------------------------------------------------

REQUIRED_FIELDS = {
    "full_name": "Họ và tên",
    "date_of_birth": "Ngày sinh",
    "sex": "Giới tính",
    "ethnicity_code": "Dân tộc",
    "commune_id": "Xã/phường cư trú",
    "village_id": "Thôn/tổ dân phố",
}


def missing_required(r: ChildRecord, ctx: RuleContext) -> list[Finding]:
    out = [
        _f("DQ_MISSING", name, f"Thiếu trường bắt buộc: {label}.")
        for name, label in REQUIRED_FIELDS.items()
        if getattr(r, name) in (None, "")
        or (isinstance(getattr(r, name), str) and not getattr(r, name).strip())
    ]
    # R-CH-02 (c): the same rule as the commune's review list (mchis.registry.validation).
    out.extend(
        _f("DQ_MISSING", field, message)
        for field, message in parent_guardian_gaps(r.father_name, r.mother_name, r.guardian_name)
    )
    return out


def missing_personal_id(r: ChildRecord, ctx: RuleContext) -> list[Finding]:
    # A child without a personal ID cannot be matched with the population database (R-CH-02 a).
    if r.personal_id.strip():
        return []
    return [_f("DQ_NO_ID", "personal_id", "Trẻ chưa có số định danh cá nhân: chưa kết nối được CSDL dân cư.")]


def personal_id_malformed(r: ChildRecord, ctx: RuleContext) -> list[Finding]:
    value = (r.personal_id or "").strip()
    if not value:
        return []
    return [_f("DQ_ID_FORMAT", "personal_id", i.message, i.code) for i in structure_errors(value)]


def personal_id_inconsistent(r: ChildRecord, ctx: RuleContext) -> list[Finding]:
    issues = check_personal_id(r.personal_id or "", date_of_birth=r.date_of_birth, sex=r.sex)
    return [_f("DQ_ID_MISMATCH", "personal_id", i.message, i.code) for i in issues if i.level == "warning"]


def dob_implausible(r: ChildRecord, ctx: RuleContext) -> list[Finding]:
    if r.date_of_birth is None:
        return []
    if r.date_of_birth > ctx.today:
        return [_f("DQ_DOB", "date_of_birth", "Ngày sinh ở tương lai.", "future")]
    if r.date_of_birth < ctx.earliest_dob:
        return [_f("DQ_DOB", "date_of_birth", "Ngày sinh quá xa, không hợp lý cho trẻ em.", "too_old")]
    return []


def over_age_active(r: ChildRecord, ctx: RuleContext) -> list[Finding]:
    # Trẻ em = under 16 (Luật Trẻ em 2016 Điều 1): an active record of a 16+ person must be closed.
    if r.status != "active" or r.date_of_birth is None or r.date_of_birth > ctx.today:
        return []
    age = _age_on(r.date_of_birth, ctx.today)
    if age >= 16:
        return [_f("DQ_OVER_16", "date_of_birth", f"Đã đủ {age} tuổi nhưng hồ sơ vẫn đang theo dõi.")]
    return []


def parent_age(r: ChildRecord, ctx: RuleContext) -> list[Finding]:
    if r.date_of_birth is None:
        return []
    out = []
    for fld, label, dob in (("mother_dob", "mẹ", r.mother_dob), ("father_dob", "cha", r.father_dob)):
        if dob is None:
            continue
        age = _age_on(dob, r.date_of_birth)
        if age < 12 or age > 70:
            out.append(
                _f("DQ_PARENT_AGE", fld, f"Tuổi của {label} khi sinh con là {age}: không hợp lý.", age=age)
            )
    return out


def circumstance_logic(r: ChildRecord, ctx: RuleContext) -> list[Finding]:
    out = []
    for c in r.circumstances:
        if c.start_date and c.end_date and c.end_date < c.start_date:
            out.append(_f("DQ_CIRCUMSTANCE", "circumstances", f"Nhóm hoàn cảnh {c.group_code}: ngày kết thúc trước ngày bắt đầu.", f"inverted:{c.group_code}"))  # fmt: skip
        if c.start_date and r.date_of_birth and c.start_date < r.date_of_birth:
            out.append(_f("DQ_CIRCUMSTANCE", "circumstances", f"Nhóm hoàn cảnh {c.group_code}: bắt đầu trước ngày sinh.", f"before_birth:{c.group_code}"))  # fmt: skip
        if c.start_date and c.start_date > ctx.today:
            out.append(_f("DQ_CIRCUMSTANCE", "circumstances", f"Nhóm hoàn cảnh {c.group_code}: ngày bắt đầu ở tương lai.", f"future:{c.group_code}"))  # fmt: skip
    # Same group twice with overlapping periods.
    by_group: dict[str, list[CircumstanceRecord]] = {}
    for c in r.circumstances:
        by_group.setdefault(c.group_code, []).append(c)
    for code, items in by_group.items():
        spans = sorted((c.start_date or date.min, c.end_date or date.max) for c in items)
        if any(spans[i + 1][0] <= spans[i][1] for i in range(len(spans) - 1)):
            out.append(_f("DQ_CIRCUMSTANCE", "circumstances", f"Nhóm hoàn cảnh {code} được ghi trùng thời gian.", f"overlap:{code}"))  # fmt: skip
    # Orphan of both parents while a parent is recorded as the carer (cha/mẹ là người giám hộ).
    orphan = [c for c in r.circumstances if c.group_code in ctx.orphan_both_codes and c.end_date is None]
    if orphan and fold(r.guardian_relationship) in {"cha", "me", "bo", "father", "mother"}:
        out.append(_f("DQ_CIRCUMSTANCE", "circumstances", "Trẻ mồ côi cả cha và mẹ nhưng người chăm sóc ghi là cha/mẹ.", "orphan_parent"))  # fmt: skip
    return out


def residence_outside(r: ChildRecord, ctx: RuleContext) -> list[Finding]:
    if r.unit_id is None or r.commune_id is None or r.unit_id not in ctx.unit_area:
        return []
    level, admin_id = ctx.unit_area[r.unit_id]
    inside = (
        r.commune_id == admin_id if level == "commune" else ctx.commune_province.get(r.commune_id) == admin_id
    )
    if inside:
        return []
    return [_f("DQ_RESIDENCE", "commune_id", "Nơi cư trú nằm ngoài địa bàn quản lý của đơn vị.")]


def codes_in_catalog(r: ChildRecord, ctx: RuleContext) -> list[Finding]:
    out = []
    checks = [("ethnic_group", "ethnicity_code", r.ethnicity_code), ("child_relationship", "guardian_relationship", r.guardian_relationship)]  # fmt: skip
    # one finding per unknown code, even when the group is recorded twice (its fingerprint is the code)
    checks += [("child_circumstance", "circumstances", code) for code in dict.fromkeys(c.group_code for c in r.circumstances)]  # fmt: skip
    for catalog, fld, value in checks:
        codes = ctx.catalogs.get(catalog)
        if value and codes and value not in codes:
            out.append(_f("DQ_CODE", fld, f"Mã '{value}' không có trong danh mục hiện hành ({catalog}).", f"{fld}:{value}"))  # fmt: skip
    return out


def dead_record(r: ChildRecord, ctx: RuleContext) -> list[Finding]:
    """R-DQ-03: no update within the period set per kind of subject (the strictest open group applies)."""
    if r.status != "active" or r.updated_at is None:
        return []
    groups = [c.group_code for c in r.circumstances if c.end_date is None]
    periods = [ctx.dead_after_days[g] for g in groups if g in ctx.dead_after_days]
    limit = min(periods) if periods else ctx.dead_after_days.get("*")
    if limit is None:
        return []
    idle = (ctx.today - r.updated_at).days
    if idle > limit:
        return [_f("DQ_DEAD", "updated_at", f"Hồ sơ không được cập nhật {idle} ngày (giới hạn {limit} ngày).", limit=limit)]  # fmt: skip
    return []


RULES: tuple[Rule, ...] = (
    Rule("DQ_MISSING", Criterion.DU, "error", gettext_noop("Thiếu trường bắt buộc"), missing_required),
    Rule(
        "DQ_NO_ID",
        Criterion.DUNG_CHUNG,
        "warning",
        gettext_noop("Chưa có số định danh cá nhân"),
        missing_personal_id,
    ),
    Rule(
        "DQ_ID_FORMAT",
        Criterion.THONG_NHAT,
        "error",
        gettext_noop("Số định danh sai định dạng"),
        personal_id_malformed,
    ),
    Rule(
        "DQ_ID_MISMATCH",
        Criterion.DUNG,
        "warning",
        gettext_noop("Số định danh không khớp ngày sinh/giới tính"),
        personal_id_inconsistent,
    ),  # fmt: skip
    Rule("DQ_DOB", Criterion.SACH, "error", gettext_noop("Ngày sinh không hợp lý"), dob_implausible),
    Rule(
        "DQ_OVER_16",
        Criterion.SONG,
        "warning",
        gettext_noop("Trẻ đủ 16 tuổi vẫn đang theo dõi"),
        over_age_active,
    ),
    Rule(
        "DQ_PARENT_AGE",
        Criterion.SACH,
        "warning",
        gettext_noop("Tuổi cha/mẹ khi sinh không hợp lý"),
        parent_age,
    ),
    Rule(
        "DQ_CIRCUMSTANCE", Criterion.SACH, "error", gettext_noop("Hoàn cảnh không logic"), circumstance_logic
    ),
    Rule(
        "DQ_RESIDENCE",
        Criterion.DUNG,
        "error",
        gettext_noop("Cư trú ngoài địa bàn đơn vị"),
        residence_outside,
    ),
    Rule(
        "DQ_CODE",
        Criterion.THONG_NHAT,
        "error",
        gettext_noop("Mã không có trong danh mục hiện hành"),
        codes_in_catalog,
    ),
    Rule(
        "DQ_DEAD",
        Criterion.SONG,
        "warning",
        gettext_noop("Hồ sơ không được cập nhật (hồ sơ chết)"),
        dead_record,
    ),
)
RULES_BY_CODE = {rule.code: rule for rule in RULES}
# Duplicates are found by dedupe.py, not by a per-record rule, but count towards "Sạch".
DUPLICATE_RULE_CODE = "DQ_DUPLICATE"
RULE_CRITERION = {rule.code: rule.criterion for rule in RULES} | {DUPLICATE_RULE_CODE: Criterion.SACH}
RULE_LABEL = {rule.code: rule.message for rule in RULES} | {
    DUPLICATE_RULE_CODE: gettext_noop("Nghi trùng hồ sơ")
}


@dataclass(frozen=True)
class RuleFailure:
    rule_code: str
    record_id: int | None
    error: str


def run_rules(
    record: ChildRecord, context: RuleContext, rules: tuple[Rule, ...] = RULES
) -> tuple[list[Finding], list[RuleFailure]]:
    """All findings for one record; a rule that crashes is reported, never stops the others."""
    findings: list[Finding] = []
    failures: list[RuleFailure] = []
    for rule in rules:
        try:
            findings.extend(rule.check(record, context))
        except Exception as exc:  # a strange record must not stop the scan
            failures.append(RuleFailure(rule.code, record.id, f"{type(exc).__name__}: {exc}"))
    return findings, failures
