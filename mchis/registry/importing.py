"""Imports from other sources (R-CH-03) and the initial migration (QĐ 3978 Điều 20).

Template columns (xlsx or csv, header row = the key or the Vietnamese label):

    ma_ho_so                     Mã hồ sơ nguồn — unique within the source (required for import_children)
    ma_don_vi                    Mã đơn vị báo cáo (TYT xã) of the row — import_children without --unit
    ho_ten                       Họ và tên trẻ (required)
    ngay_sinh                    Ngày sinh dd/mm/yyyy (required)
    gioi_tinh                    Giới tính: Nam / Nữ (required)
    dan_toc                      Mã dân tộc (QĐ 121-TCTK/PPCĐ, 2 chữ số)
    so_dinh_danh                 Số định danh cá nhân (12 chữ số)
    thon                         Mã hoặc tên thôn/tổ dân phố của xã
    dia_chi                      Địa chỉ chi tiết
    ho_ten_cha, ngay_sinh_cha, so_dinh_danh_cha
    ho_ten_me, ngay_sinh_me, so_dinh_danh_me
    ho_ten_nguoi_giam_ho, ngay_sinh_nguoi_giam_ho, so_dinh_danh_nguoi_giam_ho, quan_he_nguoi_giam_ho
    nhom_hoan_canh               Mã nhóm hoàn cảnh, nhiều mã cách nhau bởi ';'
    ngay_bat_dau_hoan_canh       Ngày bắt đầu thuộc nhóm hoàn cảnh dd/mm/yyyy

Matching of survey/screening rows (R-CH-03): ID number first, then folded name + DOB + guardian/parent.
New child → create request; known child with differences → change request; nothing is written live.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db import transaction

from mchis.core.errors import DomainError, ValidationFailed
from mchis.core.principal import Principal
from mchis.core.text import fold
from mchis.places.models import Village

from . import services, validation
from .models import Child, ChildStatus

NAME_FIELDS = ("full_name", "father_name", "mother_name", "guardian_name")
COLUMNS: list[tuple[str, str]] = [
    ("ma_ho_so", "Mã hồ sơ nguồn"),
    ("ma_don_vi", "Mã đơn vị"),
    ("ho_ten", "Họ và tên"),
    ("ngay_sinh", "Ngày sinh"),
    ("gioi_tinh", "Giới tính"),
    ("dan_toc", "Dân tộc"),
    ("so_dinh_danh", "Số định danh"),
    ("thon", "Thôn/tổ dân phố"),
    ("dia_chi", "Địa chỉ chi tiết"),
    ("ho_ten_cha", "Họ tên cha"),
    ("ngay_sinh_cha", "Ngày sinh cha"),
    ("so_dinh_danh_cha", "Số định danh cha"),
    ("ho_ten_me", "Họ tên mẹ"),
    ("ngay_sinh_me", "Ngày sinh mẹ"),
    ("so_dinh_danh_me", "Số định danh mẹ"),
    ("ho_ten_nguoi_giam_ho", "Họ tên người giám hộ"),
    ("ngay_sinh_nguoi_giam_ho", "Ngày sinh người giám hộ"),
    ("so_dinh_danh_nguoi_giam_ho", "Số định danh người giám hộ"),
    ("quan_he_nguoi_giam_ho", "Quan hệ người giám hộ"),
    ("nhom_hoan_canh", "Nhóm hoàn cảnh"),
    ("ngay_bat_dau_hoan_canh", "Ngày bắt đầu hoàn cảnh"),
]
FIELD_OF = {
    "ho_ten": "full_name",
    "ngay_sinh": "date_of_birth",
    "gioi_tinh": "sex",
    "dan_toc": "ethnicity_code",
    "so_dinh_danh": "personal_id",
    "dia_chi": "address_detail",
    "ho_ten_cha": "father_name",
    "ngay_sinh_cha": "father_dob",
    "so_dinh_danh_cha": "father_personal_id",
    "ho_ten_me": "mother_name",
    "ngay_sinh_me": "mother_dob",
    "so_dinh_danh_me": "mother_personal_id",
    "ho_ten_nguoi_giam_ho": "guardian_name",
    "ngay_sinh_nguoi_giam_ho": "guardian_dob",
    "so_dinh_danh_nguoi_giam_ho": "guardian_personal_id",
    "quan_he_nguoi_giam_ho": "guardian_relationship",
}


@dataclass
class RowResult:
    row: int
    outcome: str  # created / skipped / error / create_request / change_request / unchanged / conflict
    message: str = ""
    errors: list[str] = field(default_factory=list)
    child: Any = None


def village_lookup(unit: Any) -> dict[str, int]:

    lookup: dict[str, int] = {}
    for v in Village.objects.filter(commune_id=unit.admin_unit_id):
        lookup[fold(v.code)] = v.pk
        lookup[fold(v.name)] = v.pk
        lookup[fold(str(v))] = v.pk
    return lookup


def row_to_raw(row: dict[str, Any], villages: dict[str, int]) -> tuple[dict[str, Any], list[str]]:
    """Template row → raw child data for validation.normalise; errors name the column."""
    raw: dict[str, Any] = {target: _text(row.get(source)) for source, target in FIELD_OF.items()}
    for source in ("ngay_sinh", "ngay_sinh_cha", "ngay_sinh_me", "ngay_sinh_nguoi_giam_ho"):
        value = row.get(source)
        raw[FIELD_OF[source]] = value if hasattr(value, "strftime") else _text(value)
    errors: list[str] = []
    village = _text(row.get("thon"))
    raw["village"] = None
    if village:
        raw["village"] = villages.get(fold(village))
        if raw["village"] is None:
            errors.append(f"Thôn/tổ dân phố: '{village}' không có trong danh sách thôn của xã.")
    groups = [g.strip() for g in _text(row.get("nhom_hoan_canh")).split(";") if g.strip()]
    start = row.get("ngay_bat_dau_hoan_canh")
    raw["circumstances"] = [{"group_code": g, "start_date": start} for g in groups]
    if raw["sex"]:
        raw["sex"] = {"nam": "M", "nu": "F"}.get(_fold(raw["sex"]), raw["sex"])
    return raw, errors


_fold = lru_cache(maxsize=1024)(fold)


def _text(value: Any) -> str:
    if type(value) is str:  # what a CSV gives: the common case first
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# --- the initial migration's one-pass path (issue 14) ------------------------------------------------
# `validation.normalise(row_to_raw(row, {})[0])` costs two dicts and a generic call per field per row. At a
# million rows that matters, so `normalised_row` walks a plan made once from FIELDS (same key order, same
# issue order) and handles the common cell — a CSV text — inline; any other cell (Excel numbers and dates,
# a text that is not a plain date, a personal ID with separators, a sex, circumstances) goes through the
# general per-field code below, so results and messages are the general path's
# (tests/test_validation_properties.py holds the two paths equal on generated rows).
_DATE_COLUMNS = frozenset(("ngay_sinh", "ngay_sinh_cha", "ngay_sinh_me", "ngay_sinh_nguoi_giam_ho"))
_COLUMN_OF_FIELD = {target: source for source, target in FIELD_OF.items()}
# (field, template column or "" when the field has none in the template, kind), in FIELDS order.
_PLAN: tuple[tuple[str, str, str], ...] = tuple(
    (name, _COLUMN_OF_FIELD.get(name, ""), kind) for name, kind in validation.KINDS
)


def _raw_value(name: str, column: str, row: dict[str, Any]) -> Any:
    """What `row_to_raw` puts under `name` for this row (the village left blank)."""
    if name == "circumstances":
        groups = [g.strip() for g in _text(row.get("nhom_hoan_canh")).split(";") if g.strip()]
        start = row.get("ngay_bat_dau_hoan_canh")
        return [{"group_code": g, "start_date": start} for g in groups]
    if not column:
        return None  # village (resolved later by the caller), supports (not in the template)
    value = row.get(column)
    if column in _DATE_COLUMNS and hasattr(value, "strftime"):
        return value
    text = _text(value)
    if name == "sex" and text:
        return {"nam": "M", "nu": "F"}.get(_fold(text), text)
    return text


def normalised_row(row: dict[str, Any]) -> tuple[dict[str, Any], list[validation.Issue]]:
    """`validation.normalise(row_to_raw(row with a blank village, {})[0])` in one pass: (data, parse issues)."""
    data: dict[str, Any] = {}
    issues: list[validation.Issue] = []
    blank = validation.BLANK
    for name, column, kind in _PLAN:
        value = row.get(column) if column else None
        if type(value) is str:
            value = value.strip()
            if not value:  # most cells of a row are empty
                data[name] = blank[kind]
                continue
            if kind == "text" or kind == "code":
                data[name] = validation.nfc_cached(value)
                continue
            if kind == "pid" and value.isdigit():
                data[name] = value
                continue
            if kind == "date" and " " not in value:
                iso = validation.iso_date(value)
                if iso is not None:
                    data[name] = iso
                    continue
        elif value is None and kind != "list":
            data[name] = blank[kind]  # a missing column (or the village): blank, as in the general path
            continue
        raw = _raw_value(name, column, row)
        if raw is None or raw == "":
            data[name] = [] if kind == "list" else blank[kind]
            continue
        try:
            data[name] = validation.normalise_value(name, raw)
        except validation.ParseError as exc:  # the field is left out of `data`, as `normalise` does
            issues.append(validation.Issue("error", exc.field, "parse", exc.message))
    return data, issues


def checked_row(
    row: dict[str, Any], unit: Any, villages: dict[str, int], context: validation.Context
) -> tuple[dict[str, Any], list[str], list[str]]:
    """(normalised data, errors, warnings) of one row, messages in Vietnamese naming the field."""
    raw, errors = row_to_raw(row, villages)
    data, parse_issues = validation.normalise(raw)
    issues = parse_issues or validation.validate(data, context)
    errors += [i.message for i in issues if i.level == "error"]
    warnings = [i.message for i in issues if i.level == "warning"]
    return data, errors, warnings


def source_ref(row: dict[str, Any]) -> str:
    ref = _text(row.get("ma_ho_so"))
    if ref:
        return ref[:64]
    body = json.dumps({k: str(v) for k, v in sorted(row.items()) if k != "_row"}, ensure_ascii=False)
    return "sha1:" + hashlib.sha1(body.encode("utf-8"), usedforsecurity=False).hexdigest()


def match_child(unit: Any, data: dict[str, Any]) -> tuple[str, list[Child]]:
    """ID number first, then folded name + DOB + guardian/parent name. Returns (how, candidates)."""
    base = Child.objects.filter(unit=unit, status=ChildStatus.ACTIVE)
    if data.get("personal_id"):
        found = list(base.filter(personal_id=data["personal_id"]))
        if found:
            return "id", found
    if data.get("full_name") and data.get("date_of_birth"):
        candidates = list(
            base.filter(name_folded=fold(data["full_name"]), date_of_birth=data["date_of_birth"])
        )
        carers = {fold(data.get(k)) for k in ("guardian_name", "mother_name", "father_name") if data.get(k)}
        if carers:
            candidates = [
                c
                for c in candidates
                if carers & {fold(c.guardian_name), fold(c.mother_name), fold(c.father_name)} - {""}
            ]
        if candidates:
            return "name_dob_guardian", candidates
    return "none", []


def survey_import(
    *, actor: Principal, unit: Any, rows: list[dict[str, Any]], source: str, file_sha: str, dry_run: bool
) -> list[RowResult]:
    """Survey/screening list → create requests and change requests (R-CH-03); nothing written live.

    Each request's client key is (source, file checksum, row): importing the same file twice creates nothing twice.
    """
    villages = village_lookup(unit)
    context = services.validation_context(unit)
    results: list[RowResult] = []
    with transaction.atomic():
        for row in rows:
            number = row["_row"]
            data, errors, _ = checked_row(row, unit, villages, context)
            if errors:
                results.append(RowResult(number, "error", errors=errors))
                continue
            how, found = match_child(unit, data)
            key = f"{source}:{file_sha[:16]}:{number}"[:64]
            if len(found) > 1:
                results.append(RowResult(number, "conflict", "Khớp nhiều hồ sơ; cần lãnh đạo xem xét."))
                continue
            if not found:
                if not dry_run:
                    services.child_propose_create(
                        actor=actor,
                        unit=unit,
                        data=data,
                        reason=f"Nhập từ nguồn {source}",
                        client_key=key,
                        acknowledge_warnings=True,
                        source=source,
                    )
                results.append(RowResult(number, "create_request", "Trẻ mới: đề xuất thêm mới"))
                continue
            child = found[0]
            incoming = {
                k: v for k, v in data.items() if validation._blank(v) is not None and k != "circumstances"
            }
            current = services.child_snapshot(child)
            # A source without diacritics or in capitals ("NGUYEN VAN AN") is not a change of name.
            incoming = {
                k: v
                for k, v in incoming.items()
                if not (k in NAME_FIELDS and fold(str(v)) == fold(str(current.get(k) or "")))
            }
            delta = validation.diff(current, incoming)
            if not delta:
                results.append(
                    RowResult(number, "unchanged", f"Khớp hồ sơ ({how}); không có thay đổi", child=child)
                )
                continue
            if not dry_run:
                try:
                    services.child_propose_change(
                        actor=actor,
                        child=child,
                        changes={k: incoming[k] for k in delta},
                        reason=f"Cập nhật từ nguồn {source}",
                        client_key=key,
                        acknowledge_warnings=True,
                        source=source,
                    )
                except (ValidationFailed, DomainError) as exc:
                    results.append(
                        RowResult(number, "conflict", getattr(exc, "message", str(exc)), child=child)
                    )
                    continue
            changed = ", ".join(validation.LABELS.get(k, k) for k in delta)
            results.append(
                RowResult(
                    number, "change_request", f"Khớp hồ sơ ({how}); đề xuất thay đổi: {changed}", child=child
                )
            )
    return results
