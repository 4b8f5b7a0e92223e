r"""The report form-definition file as an author writes it (``mchis.report-form/1``), and its JSON Schema.

``definitions.parse_form`` is the judge of a file: it reads each part with models that hold *clean* values
(filters split into field/lookup/value, ``measure`` split from its field; ADR 0038), so their
``model_json_schema()`` cannot describe the file. The models here describe the raw JSON instead — every key,
its type, enum and whether it is required, taken from what ``parse_form`` accepts, with the constants of
``definitions`` (levels, period types, measures, lookups, operators, severities, id and field patterns) and the
matchers of ``matching`` — and ``form_schema()`` publishes them as a Draft 2020-12 JSON Schema
(``forms/form.schema.json``, ``manage.py report_form_schema``, ``GET /api/v1/reports/form-schema``).

The schema never rejects a file ``parse_form`` accepts (a property test checks it), except where the parser
ignores a value it does not use: it expects ``true``/``false`` for ``manual`` and ``ignore_column_filters``, a
string formula and a query object even on a cell that does not use them. It cannot see the checks across parts
(unique ids, declared columns, parent rows, cells named by formulas and rules, register field names): those
stay with ``parse_form`` and the loader. Pydantic validates with the schema's own patterns (written for both
its Rust regex engine and an editor's ECMAScript one; only ``\d`` and ``\s`` are Unicode-wide in the former), so
the tests validate files with these models.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, SkipJsonSchema
from pydantic_core import core_schema

from .definitions import (
    _FIELD,
    _ID,
    FORMAT,
    LEVELS,
    LOOKUPS,
    MEASURES,
    OPERATORS,
    PERIOD_TYPES,
    SEVERITIES,
)
from .matching import MATCHER_REGISTER

SCHEMA_FILE = Path(__file__).resolve().parent / "forms" / "form.schema.json"
SCHEMA_ID = "https://mchis.moh.gov.vn/schemas/report-form/1/form.schema.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _body(rx: re.Pattern[str]) -> str:
    """A pattern of ``definitions`` without its anchors (``\\Z`` is Python's; JSON Schema and pydantic use ``$``)."""
    return rx.pattern.removeprefix("^").removesuffix(r"\Z")


ID = _body(_ID)
FIELD = _body(_FIELD)
# A filter key is "<field>" or "<field>__<lookup>": the parser splits it at the first "__", so the field (the
# register-field pattern above, one hop with a dot) holds no "__" and, before a lookup, does not end with "_".
# The schema does not count the 63 characters a name may have (parse_form does).
_SEG = r"(_[a-z0-9]|[a-z])([a-z0-9]|_[a-z0-9])*"
_NAME = rf"((_|{_SEG}_?)\.)?"
_LOOKUP_KEY = rf"^{_NAME}(_|{_SEG}_?)$|^{_NAME}{_SEG}__({'|'.join(LOOKUPS)})?$"  # "f__" is "f" (exact)
_IN_KEY = rf"^{_NAME}{_SEG}__in$"
_ISNULL_KEY = rf"^{_NAME}{_SEG}__isnull$"
# measure "count" ignores anything after a colon; the others need a register field after it
_MEASURE = rf"^(count(:[\s\S]*)?|({'|'.join(m for m in MEASURES if m != 'count')}):{FIELD})$"
_COUNT = r"^count(:[\s\S]*)?$"
# a rule side: cell keys ("row:column") and integers joined by " + " / " - " (spaces required)
_TERM = rf"(-?\d+|{ID}:{ID})"
_EXPR = rf"^\s*{_TERM}(\s+[+-]\s+{_TERM})*\s*$"
# a formula: the same before {row}/{column} are replaced, so a cell term is anything with a colon
_FTERM = r"(-?\d+|\S*:\S*)"
_FORMULA = rf"^\s*{_FTERM}(\s+[+-]\s+{_FTERM})*\s*$"


class _OneOf:
    """``Annotated[str, _OneOf(LEVELS)]``: one of the constants of ``definitions`` (an ``enum`` in the schema)."""

    def __init__(self, *choices: str) -> None:
        self.choices = list(choices)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.literal_schema(self.choices)


def _empty(value: Any) -> Any:
    if value:
        raise ValueError('chỉ được bỏ trống (null, false, 0, "", [] hoặc {})')
    return value


# A value the parser reads as "not set" (it tests ``value or default``).
Empty = Annotated[
    Any,
    AfterValidator(_empty),
    WithJsonSchema({"enum": [None, False, 0, "", [], {}], "description": "bỏ trống"}),
]
Text = Annotated[str, Field(pattern=r"\S")]
Id = Annotated[str, Field(pattern=f"^{ID}$")]


def _iso_date(value: str) -> str:
    # the parser's own test; the schema says "format": "date" (YYYY-MM-DD, as documented), an annotation only
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"ngày không hợp lệ {value!r} (cần YYYY-MM-DD)") from exc
    return value


IsoDate = Annotated[str, AfterValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})]

_FILTER_VALUE = core_schema.union_schema(
    [
        core_schema.str_schema(strict=True),
        core_schema.bool_schema(strict=True),
        core_schema.int_schema(strict=True),
        core_schema.float_schema(strict=True),
        core_schema.list_schema(core_schema.any_schema(), strict=True),
    ]
)


def _filter_values(filters: dict[str, Any]) -> dict[str, Any]:
    for key, value in filters.items():
        if re.match(_IN_KEY, key) and not isinstance(value, list):
            raise ValueError(f"'{key}': giá trị của __in phải là danh sách")
        if re.match(_ISNULL_KEY, key) and not isinstance(value, bool):
            raise ValueError(f"'{key}': giá trị của __isnull phải là true/false")
    return filters


class _Filters:
    """``{"trường__phép_so": giá trị}``: the key names a register field (one hop with a dot) and a lookup."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            _filter_values,
            core_schema.dict_schema(core_schema.str_schema(pattern=_LOOKUP_KEY), _FILTER_VALUE, strict=True),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        scalar = [{"type": t} for t in ("string", "number", "boolean", "array")]
        return {
            "type": "object",
            "description": 'Điều kiện lọc {"trường__phép_so": giá trị}, nối bằng VÀ. Phép so: '
            f"{', '.join(LOOKUPS)} (mặc định exact); trường có thể đi qua một khóa ngoại bằng dấu chấm "
            '("delivery.delivery_mode"). Giá trị của __in là danh sách, của __isnull là true/false.',
            "patternProperties": {
                _LOOKUP_KEY: {"anyOf": scalar},
                _IN_KEY: {"type": "array"},
                _ISNULL_KEY: {"type": "boolean"},
            },
            "additionalProperties": False,
            "examples": [
                {"place": "at_facility"},
                {"is_adolescent": True, "delivery.delivery_mode": "caesarean"},
            ],
        }


Filters = Annotated[dict[str, Any], _Filters()]


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("không được là null (bỏ hẳn khóa nếu không dùng)")
    return value


class _Part(BaseModel):
    """A part of the file that may carry keys the parser ignores (allowed, as ``parse_form`` allows them)."""

    model_config = ConfigDict(strict=True, extra="allow")


class _QueryPart(BaseModel):
    """What a ``query`` and its ``also`` share: unknown keys are refused, as ``parse_form`` does."""

    model_config = ConfigDict(strict=True, extra="forbid")

    register_name: Text = Field(
        alias="register",
        description="Tên sổ trong registers.json (anc, delivery, newborn, abortion, gyn, contraception, "
        "child_exam, death); được kiểm khi nạp biểu",
        examples=["delivery"],
    )
    filters: Filters | None = Field(None, description="Điều kiện lọc các dòng của sổ (nối bằng VÀ)")
    any_of: list[Filters | None] = Field(
        default_factory=list,
        alias="any",
        description="Các nhóm điều kiện nối bằng HOẶC (mỗi nhóm nối bằng VÀ)",
    )
    period_field: Annotated[str, Field(pattern=f"^({FIELD})?$")] | Empty = Field(
        None,
        description="Trường ngày của sổ dùng để xếp dòng vào kỳ (mặc định: tháng của sổ), "
        "ví dụ thăm sau sinh tính theo ngày thăm",
    )
    unless: Annotated[str, _OneOf(*MATCHER_REGISTER)] | Empty = Field(
        None,
        description="Phép đối chiếu (mchis/reports/matching.py): bỏ các dòng mà sổ khác đã ghi cùng sự kiện; "
        "mỗi phép đối chiếu dùng cho một sổ: "
        + ", ".join(f"{name} → {register}" for name, register in MATCHER_REGISTER.items()),
    )

    @model_validator(mode="after")
    def _unless_register(self) -> _QueryPart:
        if self.unless and MATCHER_REGISTER[self.unless] != self.register_name:
            raise ValueError(
                f"unless '{self.unless}' dùng cho sổ '{MATCHER_REGISTER[self.unless]}', "
                f"không phải '{self.register_name}'"
            )
        return self


def _unless_rules() -> list[dict[str, Any]]:
    """The schema's form of ``_unless_register``: a matcher implies its register."""
    return [
        {
            "if": {"properties": {"unless": {"const": name}}, "required": ["unless"]},
            "then": {"properties": {"register": {"const": register}}},
        }
        for name, register in MATCHER_REGISTER.items()
    ]


class AlsoQueryFile(_QueryPart):
    """Truy vấn thứ hai (``query.also``): đếm (count) các dòng của một sổ khác và cộng vào; chỉ một cấp."""

    model_config = ConfigDict(
        title="AlsoQuery",
        json_schema_extra={"allOf": _unless_rules()},  # type: ignore[dict-item]
    )

    measure: Annotated[str, Field(pattern=_COUNT)] = Field(
        "count", description="Phần 'also' chỉ được đếm (count)"
    )


class QueryFile(_QueryPart):
    """Truy vấn sổ của một ô: đếm / đếm số người khác nhau / tổng một trường trên các dòng của một sổ."""

    model_config = ConfigDict(
        title="Query",
        json_schema_extra={
            "allOf": [
                *_unless_rules(),
                {
                    "if": {"required": ["also"]},
                    "then": {"properties": {"measure": {"pattern": _COUNT}}},
                },
            ]
        },
    )

    measure: Annotated[str, Field(pattern=_MEASURE)] = Field(
        "count",
        description="count | count_distinct:<trường> | sum:<trường>",
        examples=["count", "count_distinct:person_key"],
    )
    also: AlsoQueryFile | SkipJsonSchema[None] = Field(
        None,
        description="Truy vấn thứ hai (chỉ một cấp, cả hai phần đều là count) cộng thêm các dòng của một sổ "
        "khác: một sự kiện chỉ tính một lần trên hai sổ",
    )

    @field_validator("also", mode="before")
    @classmethod
    def _also_not_null(cls, value: Any) -> Any:
        return _not_null(value)

    @model_validator(mode="after")
    def _also_counts(self) -> QueryFile:
        if self.also is not None and not re.match(_COUNT, self.measure):
            raise ValueError("'also' chỉ một cấp, và cả hai phần đều phải là 'count'")
        return self


class AggregateFile(_Part):
    """Một ô của báo cáo đã duyệt của các đơn vị ngay dưới, cộng vào ô này."""

    model_config = ConfigDict(title="Aggregate")

    form: str = Field(description="Mã biểu của đơn vị tuyến dưới", examples=["BCX3"])
    cell: str = Field(
        "{row}:{column}",
        description="Ô của biểu tuyến dưới 'hàng:cột' ({row}, {column} được thay bằng ô này)",
        examples=["I.2:total"],
    )


_MANUAL = "true = ô nhập tay (số nguyên không âm, bắt đầu trống)"
_REQUIRED = "Ô nhập tay: false = không bắt buộc nhập (mặc định true: ô trống chặn việc gửi)"
_FORMULA_TEXT = (
    "Công thức: tổng/hiệu các ô truy vấn hoặc nhập tay của biểu ('hàng:cột' và số nguyên, nối bằng ' + ' / "
    "' - '); {row} và {column} được thay bằng ô này; một cấp"
)
_AGGREGATE = "Cộng các ô của báo cáo đã duyệt của đơn vị ngay dưới (biểu tuyến trên)"
Formula = Annotated[str, Field(pattern=_FORMULA)] | int


class CellFile(_Part):
    """Ô của hàng theo mã cột (``cells.<cột>``): những gì ô này khác với hàng."""

    model_config = ConfigDict(title="Cell")

    manual: bool | None = Field(None, description=_MANUAL)
    required: bool = Field(True, description=_REQUIRED)
    formula: Formula | None = Field(
        None, description=_FORMULA_TEXT, examples=["I.9.1:{column} + I.9.2:{column}"]
    )
    query: QueryFile | None = Field(None, description="Truy vấn sổ riêng của ô")
    ignore_column_filters: bool | None = Field(
        None, description="true = không thêm điều kiện lọc của cột vào truy vấn của ô"
    )
    aggregate: list[AggregateFile] = Field(default_factory=list, description=_AGGREGATE)
    dhis2_data_element: Any = Field(None, description="Mã phần tử dữ liệu DHIS2 (chuỗi) của ô")
    dhis2_coc: Any = Field(None, description="Mã categoryOptionCombo DHIS2 (chuỗi) của ô")


class RowFile(_Part):
    """Một hàng của biểu: các cột của hàng và cách tính các ô (truy vấn sổ, nhập tay hoặc công thức)."""

    model_config = ConfigDict(title="Row")

    id: Id = Field(description="Mã hàng, duy nhất trong biểu", examples=["I.5.1a"])
    no: Any = Field(None, description="Số thứ tự in trên biểu (chuỗi; mặc định: mã hàng)", examples=["5.1a"])
    label: Text = Field(description="Tên hàng", examples=["Trđ: - Số đẻ tuổi vị thành niên"])
    columns: Annotated[list[Id], Field(min_length=1)] | SkipJsonSchema[None] = Field(
        None, description="Các cột của hàng (mã cột đã khai báo; mặc định: mọi cột)"
    )
    parent: Id | Empty = Field(None, description="Mã hàng cha (hàng 'trong đó')", examples=["I.5"])
    query: QueryFile | None = Field(None, description="Truy vấn sổ của các ô của hàng")
    manual: bool | None = Field(None, description=_MANUAL)
    required: bool = Field(True, description=_REQUIRED)
    formula: Formula | None = Field(None, description=_FORMULA_TEXT)
    aggregate: list[AggregateFile] = Field(default_factory=list, description=_AGGREGATE)
    cells: dict[Annotated[str, Field(pattern=f"^{ID}$")], CellFile] | Empty = Field(
        None, description="Ô khác với hàng, theo mã cột: {mã cột: {...}}"
    )
    dhis2_data_element: Any = Field(
        None, description="Mã phần tử dữ liệu DHIS2 (chuỗi; mặc định <MÃ BIỂU>_<mã hàng, '.' → '_'>)"
    )

    @field_validator("columns", mode="before")
    @classmethod
    def _columns_not_null(cls, value: Any) -> Any:
        return _not_null(value)


class SectionFile(_Part):
    """Một phần của biểu: tiêu đề và danh sách hàng."""

    model_config = ConfigDict(title="Section")

    id: Text = Field(description="Mã phần", examples=["I"])
    title: Text = Field(description="Tiêu đề phần")
    rows: list[RowFile] = Field(min_length=1, description="Các hàng của phần")


class ColumnFile(_Part):
    """Một cột của biểu và điều kiện lọc thêm vào mọi ô truy vấn của cột."""

    model_config = ConfigDict(title="Column")

    id: Id = Field(description="Mã cột, duy nhất trong biểu", examples=["tyt"])
    label: Text = Field(description="Tên cột", examples=["Tại TYT"])
    filters: Filters | None = Field(None, description="Điều kiện lọc thêm vào mọi ô truy vấn của cột")
    dhis2_coc: Any = Field(None, description="Mã categoryOptionCombo DHIS2 (chuỗi; mặc định: mã cột)")


class RuleFile(_Part):
    """Quy tắc kiểm tra giữa các ô: ``left op right``."""

    model_config = ConfigDict(title="Rule")

    id: Text = Field(description="Mã quy tắc, duy nhất trong biểu", examples=["sub-I.5.1a-tyt"])
    left: Annotated[str, Field(pattern=_EXPR)] = Field(
        description="Vế trái: các ô 'hàng:cột' và số nguyên nối bằng ' + ' / ' - ' (có dấu cách)",
        examples=["I.5.1a:tyt"],
    )
    op: Annotated[str, _OneOf(*OPERATORS)] = Field(description="Phép so")
    right: Annotated[str, Field(pattern=_EXPR)] = Field(description="Vế phải, như vế trái")
    severity: Annotated[str, _OneOf(*SEVERITIES)] = Field(
        "error", description="error chặn việc gửi; warning cần giải trình"
    )
    message: Any = Field(None, description="Thông báo cho người lập biểu (chuỗi)")


class FormFile(_Part):
    """Tệp định nghĩa một phiên bản biểu mẫu báo cáo (mchis.report-form/1)."""

    model_config = ConfigDict(title="Biểu mẫu báo cáo (mchis.report-form/1)")

    schema_uri: Any = Field(
        None,
        alias="$schema",
        description="Đường dẫn (chuỗi) tới schema này, để trình soạn thảo kiểm tra khi gõ; bị bỏ qua khi nạp",
        examples=["./form.schema.json"],
    )
    format: Annotated[str, _OneOf(FORMAT)] = Field(description="Định dạng tệp")
    code: Id = Field(description="Mã biểu, giữ nguyên qua các phiên bản", examples=["BCX3"])
    version: Text = Field(description="Nhãn phiên bản, duy nhất trong một mã biểu", examples=["TT37-2019"])
    title: Text = Field(description="Tên biểu (trên trang và khi xuất)")
    legal_basis: Text = Field(description="Căn cứ pháp lý", examples=["Thông tư 37/2019/TT-BYT"])
    valid_from: IsoDate = Field(description="Ngày bắt đầu áp dụng (YYYY-MM-DD)", examples=["2020-01-01"])
    valid_to: IsoDate | None = Field(None, description="Ngày hết áp dụng (YYYY-MM-DD); null = chưa hết hạn")
    level: Annotated[str, _OneOf(*LEVELS)] = Field(description="Tuyến lập biểu")
    period_type: Annotated[str, _OneOf(*PERIOD_TYPES)] = Field(description="Kỳ báo cáo")
    unit_kinds: list[str] = Field(
        min_length=1,
        description="Loại đơn vị lập biểu này",
        examples=[["tyt"], ["ttyt", "district_hospital"]],
    )
    deadline_days: Annotated[int, Field(ge=1, le=366)] | None = Field(
        None, description="Hạn nộp (số ngày sau ngày cuối kỳ), thay hạn mặc định của tuyến"
    )
    dhis2_dataset: str | Empty = Field(None, description="Mã dataSet ADX/DHIS2 (mặc định: mã biểu)")
    columns: list[ColumnFile] = Field(min_length=1, description="Các cột của biểu")
    sections: list[SectionFile] = Field(
        min_length=1, description="Các phần của biểu, mỗi phần một danh sách hàng"
    )
    validation: list[RuleFile] = Field(default_factory=list, description="Các quy tắc kiểm tra giữa các ô")


class _Generator(GenerateJsonSchema):
    """No per-key titles: pydantic would make them from the English field names; the descriptions say it."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


@cache
def form_schema() -> dict[str, Any]:
    """The published JSON Schema (Draft 2020-12) of a form-definition file."""
    body = FormFile.model_json_schema(by_alias=True, schema_generator=_Generator)
    return {"$schema": DRAFT, "$id": SCHEMA_ID} | body


def schema_text() -> str:
    """The committed file's exact text."""
    return json.dumps(form_schema(), ensure_ascii=False, indent=1) + "\n"
