"""Police verification round trip (R-CH-02 step 4): export the list, import the returned file.

Each returned row gets an outcome: matched & updated (a change request for the leader), unchanged,
conflict needing a leader, not found. A dry run computes the same outcomes and writes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from mchis.core.audit import log_export
from mchis.core.errors import DomainError
from mchis.core.principal import Principal

from . import selectors, services, validation
from .models import ChangeRequest, Child, ChildStatus
from .personal_id import structure_errors

COLUMNS: list[tuple[str, str]] = [
    ("ma_ho_so", "Mã hồ sơ"),
    ("ho_ten", "Họ và tên"),
    ("ngay_sinh", "Ngày sinh"),
    ("gioi_tinh", "Giới tính"),
    ("so_dinh_danh", "Số định danh hiện có"),
    ("ho_ten_cha", "Họ tên cha"),
    ("ho_ten_me", "Họ tên mẹ"),
    ("ho_ten_nguoi_giam_ho", "Họ tên người giám hộ"),
    ("thon", "Thôn/tổ dân phố"),
    ("van_de", "Vấn đề cần xác minh"),
    ("so_dinh_danh_xac_minh", "Số định danh đã xác minh (Công an điền)"),
    ("ho_ten_dung", "Họ tên đúng (nếu sai)"),
    ("ngay_sinh_dung", "Ngày sinh đúng (nếu sai)"),
    ("gioi_tinh_dung", "Giới tính đúng (nếu sai)"),
    ("ghi_chu", "Ghi chú của Công an"),
]
CORRECTIONS = {
    "so_dinh_danh_xac_minh": "personal_id",
    "ho_ten_dung": "full_name",
    "ngay_sinh_dung": "date_of_birth",
    "gioi_tinh_dung": "sex",
}
OUTCOME_LABELS = {
    "updated": "Khớp — đã tạo đề xuất cập nhật chờ lãnh đạo duyệt",
    "would_update": "Khớp — sẽ tạo đề xuất cập nhật",
    "unchanged": "Khớp — không có thay đổi",
    "conflict": "Xung đột — cần lãnh đạo xem xét",
    "not_found": "Không tìm thấy hồ sơ",
}


@dataclass
class PoliceOutcome:
    row: int
    outcome: str
    message: str
    child: Child | None = None
    changes: dict[str, list[Any]] | None = None

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self.outcome]


def export_rows(principal: Principal) -> list[dict[str, Any]]:
    """The children the commune police must verify: no ID, malformed ID, missing/suspicious basics."""
    by_child: dict[int, tuple[Child, list[str]]] = {}
    for kind in ("no_id", "bad_id", "missing_basic"):
        for row in selectors.review_rows(principal, kind):
            entry = by_child.setdefault(row.child.pk, (row.child, []))
            entry[1].extend(row.problems)
    rows = []
    for child, problems in sorted(by_child.values(), key=lambda e: (e[0].name_folded, e[0].pk)):
        rows.append(
            {
                "ma_ho_so": str(child.public_id),
                "ho_ten": child.full_name,
                "ngay_sinh": child.date_of_birth,
                "gioi_tinh": child.get_sex_display() if child.sex else "",
                "so_dinh_danh": child.personal_id,
                "ho_ten_cha": child.father_name,
                "ho_ten_me": child.mother_name,
                "ho_ten_nguoi_giam_ho": child.guardian_name,
                "thon": str(child.village) if child.village_id else "",
                "van_de": "; ".join(dict.fromkeys(problems)),
            }
        )
    return rows


def export_audited(principal: Principal) -> list[dict[str, Any]]:
    rows = export_rows(principal)
    log_export(
        actor=principal,
        what="children.police_verification.xlsx",
        filters={},
        row_count=len(rows),
        scope_path=principal.unit.path if principal.unit is not None else "",
        purpose="Gửi Công an xã xác minh số định danh (QĐ 3978 Điều 8)",
    )
    return rows


def _corrections(row: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    raw: dict[str, Any] = {}
    for column, field in CORRECTIONS.items():
        value = row.get(column)
        if value not in (None, ""):
            raw[field] = value if hasattr(value, "strftime") else str(value).strip()
    if "sex" in raw:
        raw["sex"] = {"nam": "M", "nu": "F", "nữ": "F"}.get(str(raw["sex"]).lower(), raw["sex"])
    if "personal_id" in raw and isinstance(raw["personal_id"], str) and raw["personal_id"].endswith(".0"):
        raw["personal_id"] = raw["personal_id"][:-2]
    data, issues = validation.normalise(raw, only_present=True)
    errors = [i.message for i in issues]
    if data.get("personal_id"):
        errors += [f"Số định danh xác minh: {e.message}" for e in structure_errors(data["personal_id"])]
    return data, errors


def police_import(
    *, actor: Principal, rows: list[dict[str, Any]], file_sha: str, dry_run: bool
) -> list[PoliceOutcome]:
    """Per-row outcomes; when not a dry run, matched rows with changes become change requests (source police)."""
    outcomes: list[PoliceOutcome] = []
    visible = selectors.children_visible(actor)
    with transaction.atomic():
        for row in rows:
            number = row["_row"]
            ref = str(row.get("ma_ho_so") or "").strip()
            child = None
            if ref:
                try:
                    key = uuid.UUID(ref)
                except ValueError:
                    outcomes.append(
                        PoliceOutcome(
                            number, "not_found", f"Mã hồ sơ '{ref[:60]}' không đúng định dạng (cần mã UUID)."
                        )
                    )
                    continue
                child = visible.select_related("unit").filter(public_id=key).first()
            if child is None:
                outcomes.append(
                    PoliceOutcome(number, "not_found", f"Mã hồ sơ '{ref}' không có trong phạm vi của bạn.")
                )
                continue
            if child.status != ChildStatus.ACTIVE:
                outcomes.append(PoliceOutcome(number, "conflict", "Hồ sơ đã bị xóa hoặc gộp.", child))
                continue
            data, errors = _corrections(row)
            if errors:
                outcomes.append(PoliceOutcome(number, "conflict", "; ".join(errors), child))
                continue
            snapshot = services.child_snapshot(child)
            exported_id = str(row.get("so_dinh_danh") or "").strip().removesuffix(".0")
            if exported_id != (child.personal_id or ""):
                outcomes.append(
                    PoliceOutcome(
                        number,
                        "conflict",
                        "Số định danh trên hồ sơ đã thay đổi sau khi xuất danh sách.",
                        child,
                    )
                )
                continue
            delta = validation.diff(snapshot, data)
            if not delta:
                outcomes.append(PoliceOutcome(number, "unchanged", "Thông tin khớp, không cần sửa.", child))
                continue
            new_id = data.get("personal_id")
            if (
                new_id
                and Child.objects.filter(personal_id=new_id, status=ChildStatus.ACTIVE)
                .exclude(pk=child.pk)
                .exists()
            ):
                outcomes.append(
                    PoliceOutcome(
                        number, "conflict", "Số định danh xác minh đã thuộc hồ sơ trẻ khác.", child, delta
                    )
                )
                continue
            pending = ChangeRequest.objects.pending().filter(child=child).exclude(source="police")
            if any(set(r.diff) & set(delta) for r in pending):
                outcomes.append(
                    PoliceOutcome(
                        number,
                        "conflict",
                        "Đang có đề xuất khác chờ duyệt cho cùng trường thông tin.",
                        child,
                        delta,
                    )
                )
                continue
            try:
                merged = {**snapshot, **data}
                issues = validation.validate(merged, services.validation_context(child.unit))
                problems = [i.message for i in issues if i.field in delta]
                if problems:
                    outcomes.append(PoliceOutcome(number, "conflict", "; ".join(problems), child, delta))
                    continue
                if not dry_run:
                    services.child_propose_change(
                        actor=actor,
                        child=child,
                        changes={k: data[k] for k in delta},
                        reason="Công an xã xác minh: "
                        + (str(row.get("ghi_chu") or "").strip() or "đã xác minh"),
                        client_key=f"police:{file_sha[:24]}:{number}",
                        acknowledge_warnings=True,
                        source="police",
                    )
            except DomainError as exc:
                outcomes.append(PoliceOutcome(number, "conflict", exc.message, child, delta))
                continue
            outcomes.append(
                PoliceOutcome(
                    number,
                    "would_update" if dry_run else "updated",
                    ", ".join(f"{validation.LABELS[k]}: {b or '∅'} → {a}" for k, (b, a) in delta.items()),
                    child,
                    delta,
                )
            )
    return outcomes
