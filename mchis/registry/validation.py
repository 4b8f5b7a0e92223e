"""Validation of child data as pure functions (STYLE.md practice 7): field → Vietnamese message.

`normalise(raw)` turns form/API/import input into the canonical JSON-able dict stored in a request;
`validate(data, context)` returns issues: errors block the request, warnings (e.g. an ID number
inconsistent with DOB/sex, R-CH-08) must be acknowledged before the request can be sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from typing import Any

from django.utils.translation import gettext_noop

from mchis.core.ages import completed_years
from mchis.core.text import nfc

from . import personal_id as pid

# Editable fields of the record, their kind and Vietnamese label (the label names the field in messages;
# marked for the catalogue, shown translated through mchis.registry.display.field_labels).
FIELDS: dict[str, tuple[str, str]] = {
    "full_name": ("text", gettext_noop("Họ và tên")),
    "date_of_birth": ("date", gettext_noop("Ngày sinh")),
    "sex": ("sex", gettext_noop("Giới tính")),
    "ethnicity_code": ("code", gettext_noop("Dân tộc")),
    "personal_id": ("pid", gettext_noop("Số định danh cá nhân")),
    "village": ("int", gettext_noop("Thôn/tổ dân phố")),
    "address_detail": ("text", gettext_noop("Địa chỉ chi tiết")),
    "father_name": ("text", gettext_noop("Họ tên cha")),
    "father_dob": ("date", gettext_noop("Ngày sinh của cha")),
    "father_personal_id": ("pid", gettext_noop("Số định danh của cha")),
    "mother_name": ("text", gettext_noop("Họ tên mẹ")),
    "mother_dob": ("date", gettext_noop("Ngày sinh của mẹ")),
    "mother_personal_id": ("pid", gettext_noop("Số định danh của mẹ")),
    "guardian_name": ("text", gettext_noop("Họ tên người giám hộ")),
    "guardian_dob": ("date", gettext_noop("Ngày sinh người giám hộ")),
    "guardian_personal_id": ("pid", gettext_noop("Số định danh người giám hộ")),
    "guardian_relationship": ("code", gettext_noop("Quan hệ với trẻ")),
    "circumstances": ("list", gettext_noop("Nhóm hoàn cảnh")),
    "supports": ("list", gettext_noop("Trợ giúp đã nhận")),
}
LABELS = {name: label for name, (_, label) in FIELDS.items()}
# The fields stored on the child row itself (the lists are rows of their own), in FIELDS order: the API schema,
# the bulk import and the demo generator derive their columns from it (issue 11 item 5: one field list).
ROW_FIELDS: tuple[str, ...] = tuple(name for name, (kind, _) in FIELDS.items() if kind != "list")


def column_of(name: str) -> str:
    """The database column of a child field (`village` is a foreign key: `village_id`)."""
    return f"{name}_id" if FIELDS[name][0] == "int" else name


REQUIRED = ("full_name", "date_of_birth", "sex")
# One pattern for the server and the browser (child_json_schema): ASCII digits, so Python and JavaScript agree.
NAME_PATTERN = r"^[^0-9_@#$%^&*+=<>{}\[\]|\\/]+$"
_NAME_OK = re.compile(NAME_PATTERN[:-1] + r"\Z")
CHILD_MAX_AGE = 16  # Luật Trẻ em 2016 Điều 1


@dataclass(frozen=True)
class Issue:
    level: str  # "error" | "warning"
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level, "field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Context:
    """What the pure rules need to know about the world (catalog codes, villages of the commune)."""

    today: date
    ethnicities: frozenset[str] | None = None  # None = catalog not loaded: not checked
    villages: frozenset[int] | None = None
    circumstance_groups: frozenset[str] | None = None
    relationships: frozenset[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def parent_guardian_gaps(father_name: str, mother_name: str, guardian_name: str) -> list[tuple[str, str]]:
    """R-CH-02 (c), the one rule for "missing parent/guardian" (review list and data-quality finding alike):
    no father, mother nor guardian at all; or a parent's name missing with no guardian recorded instead.
    Returns [(field, Vietnamese message)]."""
    father, mother, guardian = (v.strip() if v else "" for v in (father_name, mother_name, guardian_name))
    if not (father or mother or guardian):
        return [("guardian_name", "Thiếu thông tin cha, mẹ hoặc người giám hộ.")]
    if guardian:
        return []
    gaps = []
    if not mother:
        gaps.append(("mother_name", "Thiếu họ tên mẹ (và không có người giám hộ)."))
    if not father:
        gaps.append(("father_name", "Thiếu họ tên cha (và không có người giám hộ)."))
    return gaps


class ParseError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
_DMY_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\Z")


@lru_cache(maxsize=65_536)  # dates repeat a lot in a file (issue 14: the initial migration's hot path)
def iso_date(text: str) -> str | None:
    """ISO form of a dd/mm/yyyy or yyyy-mm-dd text, None when it is not a date."""
    try:
        if _ISO_DATE.match(text):
            return date.fromisoformat(text).isoformat()
        match = _DMY_DATE.match(text)
        if match:
            d, m, y = (int(x) for x in match.groups())
            return date(y, m, d).isoformat()
    except ValueError:
        pass
    return None


def parse_date(value: Any, field_name: str) -> str | None:
    """Accept dd/mm/yyyy, ISO yyyy-mm-dd, date objects; return ISO or None for blank."""
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if " " in text:  # "2016-03-12 00:00:00" from spreadsheets
        text = text.split(" ")[0]
    iso = iso_date(text)
    if iso is None:
        raise ParseError(field_name, f"{LABELS.get(field_name, field_name)}: ngày không hợp lệ (dd/mm/yyyy).")
    return iso


BLANK: dict[str, Any] = {"date": None, "int": None, "sex": "", "pid": "", "list": [], "text": "", "code": ""}


def normalise_value(name: str, value: Any) -> Any:
    kind = FIELDS[name][0]
    if value is None or value == "":  # most columns of a row are blank: same result, without the work
        return [] if kind == "list" else BLANK[kind]
    if kind == "date":
        return parse_date(value, name)
    if kind == "int":
        if value in (None, ""):
            return None
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise ParseError(name, f"{LABELS[name]}: giá trị không hợp lệ.") from exc
    if kind == "sex":
        text = nfc(str(value or "")).upper()
        mapping = {"NAM": "M", "M": "M", "NỮ": "F", "NU": "F", "F": "F", "": ""}
        if text not in mapping:
            raise ParseError(name, "Giới tính: chọn Nam hoặc Nữ.")
        return mapping[text]
    if kind == "pid":
        text = str(value)
        return text if text.isdigit() else _PID_JUNK.sub("", text)
    if kind == "list":
        return _normalise_list(name, value or [])
    return nfc_cached(str(value))


_PID_JUNK = re.compile(r"[\s.\-]")
nfc_cached = lru_cache(maxsize=200_000)(nfc)  # names and codes repeat: NFC once per distinct text


def _normalise_list(name: str, items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise ParseError(name, f"{LABELS[name]}: phải là danh sách.")
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            raise ParseError(name, f"{LABELS[name]}: mục không hợp lệ.")
        if name == "circumstances":
            out.append(
                {
                    "group_code": nfc(str(item.get("group_code", ""))),
                    "subgroup_code": nfc(str(item.get("subgroup_code", ""))),
                    "start_date": parse_date(item.get("start_date"), name),
                    "end_date": parse_date(item.get("end_date"), name),
                }
            )
        else:
            out.append(
                {
                    "support_type_code": nfc(str(item.get("support_type_code", ""))),
                    "date": parse_date(item.get("date"), name),
                    "provider": nfc(str(item.get("provider", ""))),
                }
            )
    return out


def normalise(raw: dict[str, Any], *, only_present: bool = False) -> tuple[dict[str, Any], list[Issue]]:
    """Canonical values for known fields; unknown keys are ignored. Returns (data, parse errors)."""
    data: dict[str, Any] = {}
    issues: list[Issue] = []
    for name, kind in KINDS:
        if only_present and name not in raw:
            continue
        value = raw.get(name)
        if value is None or value == "":  # most columns are blank: no call (the initial migration's hot path)
            data[name] = [] if kind == "list" else BLANK[kind]
            continue
        try:
            data[name] = normalise_value(name, value)
        except ParseError as exc:
            issues.append(Issue("error", exc.field, "parse", exc.message))
    return data, issues


KINDS: tuple[tuple[str, str], ...] = tuple((name, kind) for name, (kind, _) in FIELDS.items())


@lru_cache(maxsize=131_072)
def _age_on(dob: date, day: date) -> int:
    return completed_years(dob, day)


_from_iso = lru_cache(maxsize=65_536)(date.fromisoformat)


def validate(data: dict[str, Any], context: Context) -> list[Issue]:
    """All issues of a complete record (normalised). Errors first, then warnings."""
    errors: list[Issue] = []
    warnings: list[Issue] = []

    def err(name: str, code: str, message: str) -> None:
        errors.append(Issue("error", name, code, message))

    def warn(name: str, code: str, message: str) -> None:
        warnings.append(Issue("warning", name, code, message))

    for name in REQUIRED:
        if not data.get(name):
            err(name, "required", f"{LABELS[name]}: bắt buộc nhập.")
    for name in ("full_name", "father_name", "mother_name", "guardian_name"):
        value = data.get(name) or ""
        if value and not _NAME_OK.match(value):
            err(name, "name_chars", f"{LABELS[name]}: chỉ gồm chữ cái và dấu cách, không có chữ số/ký hiệu.")
        if len(value) > 150:
            err(name, "too_long", f"{LABELS[name]}: tối đa 150 ký tự.")
        if value and len(value.split()) < 2 and name == "full_name":
            warn(name, "name_single_word", f"{LABELS[name]}: chỉ có một từ, vui lòng kiểm tra họ và tên.")

    dob = _from_iso(data["date_of_birth"]) if data.get("date_of_birth") else None
    if dob:
        if dob > context.today:
            err("date_of_birth", "future", "Ngày sinh: không được sau ngày hôm nay.")
        elif _age_on(dob, context.today) >= CHILD_MAX_AGE:
            warn("date_of_birth", "not_a_child", "Ngày sinh: trẻ đã đủ 16 tuổi (không còn là trẻ em).")
    for parent in ("father", "mother", "guardian"):
        raw = data.get(f"{parent}_dob")
        if raw and dob and parent != "guardian":
            parent_dob = _from_iso(raw)
            gap = _age_on(parent_dob, dob) if parent_dob <= dob else -1
            if gap < 0:
                err(
                    f"{parent}_dob",
                    "parent_after_child",
                    f"{LABELS[parent + '_dob']}: phải trước ngày sinh của trẻ.",
                )
            elif gap < 12 or gap > 70:
                warn(
                    f"{parent}_dob",
                    "parent_age",
                    f"{LABELS[parent + '_dob']}: tuổi khi sinh con ({gap}) bất thường.",
                )
        if raw and _from_iso(raw) > context.today:
            err(f"{parent}_dob", "future", f"{LABELS[parent + '_dob']}: không được sau ngày hôm nay.")

    if data.get("sex") and data["sex"] not in ("M", "F"):
        err("sex", "choice", "Giới tính: chọn Nam hoặc Nữ.")
    code = data.get("ethnicity_code")
    if context.ethnicities is not None and code and code not in context.ethnicities:
        err("ethnicity_code", "catalog", "Dân tộc: mã không có trong danh mục hiện hành.")
    rel = data.get("guardian_relationship")
    if context.relationships is not None and rel and rel not in context.relationships:
        err("guardian_relationship", "catalog", "Quan hệ với trẻ: mã không có trong danh mục.")
    village = data.get("village")
    if context.villages is not None and village is not None and village not in context.villages:
        err("village", "village", "Thôn/tổ dân phố: không thuộc xã của đơn vị.")
    if not (data.get("father_name") or data.get("mother_name") or data.get("guardian_name")):
        warn("guardian_name", "no_guardian", "Chưa có thông tin cha, mẹ hoặc người giám hộ.")

    # Personal ID numbers (R-CH-08): structure = error; inconsistency with the record = warning.
    for issue in pid.check(data.get("personal_id") or "", date_of_birth=dob, sex=data.get("sex") or ""):
        (errors if issue.level == "error" else warnings).append(
            Issue(issue.level, "personal_id", issue.code, f"{LABELS['personal_id']}: {issue.message}")
        )
    for name in ("father_personal_id", "mother_personal_id", "guardian_personal_id"):
        value = data.get(name)
        if value:  # a blank number is no error
            for issue in pid.structure_errors(value):
                err(name, issue.code, f"{LABELS[name]}: {issue.message}")
    ids = [data.get(n) for n in ("personal_id", "father_personal_id", "mother_personal_id") if data.get(n)]
    if len(ids) != len(set(ids)):
        err("personal_id", "id_shared", "Số định danh của trẻ trùng với số định danh của cha/mẹ.")

    for index, item in enumerate(data.get("circumstances") or [], start=1):
        where = f"{LABELS['circumstances']} (dòng {index})"
        if not item.get("group_code"):
            err("circumstances", "required", f"{where}: chưa chọn nhóm.")
        elif (
            context.circumstance_groups is not None and item["group_code"] not in context.circumstance_groups
        ):
            err("circumstances", "catalog", f"{where}: mã nhóm không có trong danh mục.")
        if not item.get("start_date"):
            err("circumstances", "required", f"{where}: chưa nhập ngày bắt đầu.")
        elif item.get("end_date") and item["end_date"] < item["start_date"]:
            err("circumstances", "dates", f"{where}: ngày kết thúc trước ngày bắt đầu.")
    for index, item in enumerate(data.get("supports") or [], start=1):
        if not item.get("support_type_code") or not item.get("date"):
            err("supports", "required", f"{LABELS['supports']} (dòng {index}): cần loại trợ giúp và ngày.")
    return errors + warnings


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field-level difference {field: [before, after]} over the fields present in `after`."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if name in FIELDS and _blank(before.get(name)) != _blank(value)
    }


def creation_diff(data: dict[str, Any]) -> dict[str, list[Any]]:
    """`diff({}, data)`, the history diff of a new record, without the per-field calls (issue 14: one per
    row of the initial migration)."""
    return {name: [None, value] for name, value in data.items() if name in FIELDS and value not in _BLANKS}


_BLANKS: tuple[Any, ...] = ("", None, [])  # what `_blank` reads as blank


def _blank(value: Any) -> Any:
    return None if value in ("", None, []) else value


# --- the structural rules as JSON Schema, for the offline form (ADR 0043) -----------------------------------
# The browser runs this schema (web/static/web/schema.js) on the normalised form values before it queues an
# entry; tests/test_child_schema.py holds that the browser and `normalise` + `validate` agree on which fields
# have a structural error. Rules that need the world (catalogs, villages, today's date, the other IDs of the
# record) stay on the server: a queued entry refused there comes back with the server's message.
STRUCTURAL_CODES = frozenset(
    {"required", "name_chars", "too_long", "parse", "choice", "id_format", "id_prefix", "id_century"}
)


def _pid_pattern() -> str:
    prefixes = "|".join(sorted(pid.province_prefixes()))
    return rf"^(?:{prefixes})[0-5][0-9]{{8}}$"


@cache
def child_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a child record's normalised values, from FIELDS and the rules above.
    `x-messages` carries the server's own Vietnamese message per keyword."""
    iso = {"type": "string", "format": "date"}
    props: dict[str, Any] = {}
    for name, (kind, label) in FIELDS.items():
        msgs: dict[str, str] = {
            "required": f"{label}: bắt buộc nhập.",
            "type": f"{label}: giá trị không hợp lệ.",
            "format": f"{label}: ngày không hợp lệ (dd/mm/yyyy).",
        }
        prop: dict[str, Any]
        if kind == "text":
            prop = {"type": "string"}
            if name in ("full_name", "father_name", "mother_name", "guardian_name"):
                named = {"type": "string", "maxLength": 150, "pattern": NAME_PATTERN}
                prop = named if name in REQUIRED else {"anyOf": [{"const": ""}, named]}
                msgs["pattern"] = f"{label}: chỉ gồm chữ cái và dấu cách, không có chữ số/ký hiệu."
                msgs["maxLength"] = f"{label}: tối đa 150 ký tự."
        elif kind == "date":
            prop = dict(iso) if name in REQUIRED else {"anyOf": [iso, {"type": "null"}]}
        elif kind == "sex":
            prop = {"enum": ["M", "F"]}
            msgs["enum"] = "Giới tính: chọn Nam hoặc Nữ."
        elif kind == "pid":
            prop = {"anyOf": [{"const": ""}, {"type": "string", "pattern": _pid_pattern()}]}
            msgs["pattern"] = f"{label}: Số định danh phải gồm đúng 12 chữ số (mã tỉnh và thế kỷ hợp lệ)."
        elif kind == "int":
            prop = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
        elif kind == "code":
            prop = {"type": "string"}
        elif name == "circumstances":
            prop = {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["group_code", "start_date"],
                    "properties": {
                        "group_code": {"type": "string", "minLength": 1},
                        "subgroup_code": {"type": "string"},
                        "start_date": iso,
                        "end_date": {"anyOf": [iso, {"type": "null"}]},
                    },
                },
            }
        else:
            prop = {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["support_type_code", "date"],
                    "properties": {
                        "support_type_code": {"type": "string", "minLength": 1},
                        "date": iso,
                        "provider": {"type": "string"},
                    },
                },
            }
        props[name] = {**prop, "title": label, "x-kind": kind, "x-messages": msgs}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "/api/v1/registry/children/schema",
        "title": "Trẻ em",
        "type": "object",
        "required": list(REQUIRED),
        "x-blank-is-missing": True,  # a required field holding "" or null is missing, as `validate` reads it
        "properties": props,
    }
