"""Excel templates and safe, streaming reading of uploaded registers (R-MCH-02b, R-ORG-04).

Reading: python-calamine (Rust) parses the worksheet without building an XML tree in Python; rows are turned
into raw dicts one at a time. Before calamine sees a file, `inspect_file` refuses what must not be parsed:
files that are not xlsx (CSV renamed .xlsx, old .xls), truncated archives, zip bombs (uncompressed sizes and
ratios read from the zip directory), hidden sheets holding data and merged cells in the data sheet.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from mchis.core.errors import DomainError
from mchis.core.spreadsheets import workbook, xlsx_sheet_extent
from mchis.core.text import fold

from . import catalogs
from .definitions import EXCEL_NEWBORN_SLOTS, NEWBORN_FIELDS, FieldSpec, RegisterDef

DATA_SHEET = "Dữ liệu"
LISTS_SHEET = "_lists"
GUIDE_SHEET = "Hướng dẫn"
MAX_FILE_BYTES = 150 * 1024 * 1024
MAX_UNCOMPRESSED = 800 * 1024 * 1024
MAX_RATIO = 250
MAX_ENTRIES = 2000
MAX_ROWS = 200_000
# Columns a data sheet may declare beyond the register's template (a notes column or two); wider is refused
# before any reader allocates the sheet (a sheet declaring A1:XFD12001 is a memory bomb).
EXTRA_COLUMNS = 5
MAX_LIST_CELLS = 1_000_000  # any other sheet (lists, instructions, hidden sheets): rows x columns
_SKIP_IN_TEMPLATE = {"source_system"}


class BadFile(DomainError):
    """The uploaded file itself is refused (nothing is read from it)."""

    status_code = 422
    code = "bad_file"


@dataclass(frozen=True)
class Column:
    header: str
    spec: FieldSpec
    newborn: int | None = None  # slot index for delivery newborn columns

    @property
    def key(self) -> str:
        return self.spec.name if self.newborn is None else f"newborns[{self.newborn}].{self.spec.name}"


def columns_for(reg: RegisterDef) -> list[Column]:
    cols = [Column(spec.label, spec) for spec in reg.all_fields if spec.name not in _SKIP_IN_TEMPLATE]
    if reg.newborns:
        for slot in range(EXCEL_NEWBORN_SLOTS):
            cols += [Column(f"Trẻ {slot + 1}: {spec.label}", spec, slot) for spec in NEWBORN_FIELDS]
    return cols


def _list_values(spec: FieldSpec) -> list[str]:
    if spec.kind == "bool":
        return ["Có", "Không"]
    if spec.kind == "choice" and spec.choices is not None:
        return [f"{value} - {label}" for value, label in spec.choices.choices if value]
    if spec.kind == "catalog" and spec.catalog != "icd10":
        return [f"{code} - {name}" for code, name in catalogs.catalog_items(spec.catalog)]
    return []


def build_template(reg: RegisterDef, *, facility_code: str = "") -> bytes:
    """The downloadable template: data sheet with dropdowns, hidden lists sheet, instructions sheet."""
    wb = workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    lists = wb.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    guide = wb.create_sheet(GUIDE_SHEET)
    cols = columns_for(reg)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    list_col = 0
    list_ranges: dict[str, str] = {}
    for index, col in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=index, value=col.header + (" *" if col.spec.required else ""))
        cell.font = Font(bold=True)
        cell.fill = head_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = max(12, min(40, len(col.header) + 4))
        spec = col.spec
        if spec.kind == "date":
            for row in range(2, 1002):
                ws.cell(row=row, column=index).number_format = "DD/MM/YYYY"
        elif spec.kind == "str" and spec.name in {"personal_id", "source_record_id", "facility"}:
            for row in range(2, 1002):
                ws.cell(row=row, column=index).number_format = "@"
        values = _list_values(spec)
        if values:
            key = f"{spec.kind}:{spec.catalog or spec.name}"
            if key not in list_ranges:
                list_col += 1
                lcol = get_column_letter(list_col)
                for r, value in enumerate(values, start=1):
                    lists.cell(row=r, column=list_col, value=value)
                list_ranges[key] = f"'{LISTS_SHEET}'!${lcol}$1:${lcol}${len(values)}"
            dv = DataValidation(type="list", formula1=f"={list_ranges[key]}", allow_blank=True)
            dv.error = "Chọn một giá trị trong danh sách."
            dv.errorTitle = col.header
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}100000")
    ws.freeze_panes = "A2"
    if facility_code:
        ws.cell(row=2, column=1, value=facility_code)
    guide.append(["Sổ", reg.label])
    guide.append([])
    guide.append(["Cột", "Bắt buộc", "Kiểu / định dạng", "Ghi chú"])
    for col in cols:
        guide.append([col.header, "Có" if col.spec.required else "", _kind_text(col.spec), col.spec.help])
    guide.append([])
    for line in (
        "Ngày nhập dạng ngày của Excel hoặc văn bản dd/mm/yyyy.",
        "Chữ tiếng Việt: Unicode (dựng sẵn hoặc tổ hợp), TCVN3 (ABC) hoặc VNI đều được chuyển về Unicode.",
        "Không gộp ô, không dùng trang tính ẩn để chứa dữ liệu; một dòng là một bản ghi.",
        "Mã bản ghi nguồn để trống: hệ thống tự tạo từ cơ sở, ngày, họ tên, ngày sinh, số định danh "
        "(tải lại cùng tệp sẽ không tạo bản ghi trùng).",
        "Cơ sở để trống: lấy đơn vị của người tải lên.",
    ):
        guide.append([line])
    guide.column_dimensions["A"].width = 45
    guide.column_dimensions["C"].width = 30
    guide.column_dimensions["D"].width = 60
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _kind_text(spec: FieldSpec) -> str:
    return {
        "date": "Ngày (dd/mm/yyyy)",
        "int": "Số nguyên",
        "decimal": "Số",
        "bool": "Có / Không",
        "choice": "Chọn trong danh sách",
        "catalog": "Mã danh mục" + (" ICD-10" if spec.catalog == "icd10" else ""),
        "str": f"Văn bản (≤ {spec.max_length} ký tự)",
    }[spec.kind]


# --- inspecting an uploaded file ------------------------------------------------------------------------------


@dataclass
class SheetInfo:
    name: str
    state: str  # visible | hidden | veryHidden
    target: str  # path of the sheet XML inside the zip
    rows: int = 0  # as the sheet declares itself (or as its cells reach), read before loading it
    cols: int = 0


@dataclass
class FileInfo:
    data_sheet: str
    sheets: list[SheetInfo] = field(default_factory=list)


_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def inspect_file(path: Path) -> FileInfo:
    """Refuse unsafe or unusable files with a precise Vietnamese reason; otherwise describe the sheets."""
    size = path.stat().st_size
    if size == 0:
        raise BadFile("Tệp rỗng.")
    if size > MAX_FILE_BYTES:
        raise BadFile(f"Tệp quá lớn ({size // 1_048_576} MB); tối đa {MAX_FILE_BYTES // 1_048_576} MB.")
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise BadFile("Đây là tệp Excel cũ (.xls 97-2003) hoặc tệp được bảo vệ: hãy lưu lại dạng .xlsx.")
    if not head.startswith(b"PK"):
        if _looks_like_text(path):
            raise BadFile("Tệp là văn bản/CSV bị đổi đuôi thành .xlsx: hãy mở bằng Excel và lưu dạng .xlsx.")
        raise BadFile("Tệp không phải định dạng Excel .xlsx.")
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise BadFile("Tệp .xlsx bị hỏng hoặc bị cắt cụt (không đọc được mục lục nén).") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise BadFile("Tệp chứa quá nhiều thành phần nén: nghi ngờ tệp độc hại.")
        total = 0
        for info in infos:
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > 10 * 1024 * 1024 and ratio > MAX_RATIO:
                raise BadFile(
                    f"Tệp có thành phần '{info.filename}' nén bất thường (tỷ lệ {ratio:.0f}:1): nghi ngờ 'bom nén'."
                )
        if total > MAX_UNCOMPRESSED:
            raise BadFile(
                f"Dung lượng giải nén {total // 1_048_576} MB vượt giới hạn {MAX_UNCOMPRESSED // 1_048_576} MB: "
                "nghi ngờ 'bom nén'."
            )
        names = set(zf.namelist())
        if "xl/workbook.xml" not in names:
            raise BadFile("Tệp nén không phải sổ tính Excel (thiếu xl/workbook.xml).")
        sheets = _read_sheets(zf)
        for sheet in sheets:
            if sheet.target not in names:
                raise BadFile(f"Tệp bị cắt cụt: thiếu nội dung trang tính '{sheet.name}'.")
            try:
                with zf.open(sheet.target) as fh:  # CRC and truncation show up while streaming
                    while fh.read(1 << 20):
                        pass
            except (zipfile.BadZipFile, EOFError, OSError, zlib_error()) as exc:
                raise BadFile(f"Tệp bị hỏng hoặc cắt cụt ở trang tính '{sheet.name}'.") from exc
            try:
                sheet.rows, sheet.cols = xlsx_sheet_extent(zf, sheet.target)
            except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
                raise BadFile(f"Tệp .xlsx bị hỏng: không đọc được trang tính '{sheet.name}'.") from exc
    visible = [s for s in sheets if s.state == "visible" and s.name != GUIDE_SHEET]
    named = [s for s in sheets if s.name == DATA_SHEET]
    if named and named[0].state != "visible":
        raise BadFile(f"Trang tính dữ liệu '{DATA_SHEET}' đang bị ẩn: hãy hiện nó trước khi tải lên.")
    data = named[0] if named else (visible[0] if visible else None)
    if data is None:
        raise BadFile("Không có trang tính dữ liệu nào đang hiển thị.")
    return FileInfo(data_sheet=data.name, sheets=sheets)


def zlib_error() -> type[Exception]:

    return zlib.error


def _looks_like_text(path: Path) -> bool:
    with path.open("rb") as fh:
        sample = fh.read(4096)
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        try:
            sample.decode("cp1258")
        except UnicodeDecodeError:
            return False
    return True


def _read_sheets(zf: zipfile.ZipFile) -> list[SheetInfo]:
    for name in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        if zf.getinfo(name).file_size > 5 * 1024 * 1024:
            raise BadFile("Mục lục sổ tính quá lớn: nghi ngờ tệp độc hại.")
    try:
        wb = ElementTree.fromstring(zf.read("xl/workbook.xml"))  # defusedxml: no entities, no DTDs
        rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError, DefusedXmlException) as exc:
        raise BadFile("Tệp .xlsx bị hỏng: không đọc được danh sách trang tính.") from exc
    targets = {}
    for rel in rels.findall("rel:Relationship", _NS):
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        targets[rel.get("Id")] = target
    out = []
    for sheet in wb.findall("m:sheets/m:sheet", _NS):
        rid = sheet.get(f"{{{_NS['r']}}}id")
        out.append(SheetInfo(sheet.get("name", ""), sheet.get("state", "visible"), targets.get(rid, "")))
    return out


# --- reading rows ------------------------------------------------------------------------------------------------


@dataclass
class RowData:
    number: int  # Excel row number (1-based; header is row 1)
    raw: dict[str, Any]
    values: list[Any]


@dataclass
class Reader:
    reg: RegisterDef
    columns: list[Column | None]
    headers: list[str]
    rows: Iterator[RowData]


def _header_map(reg: RegisterDef) -> dict[str, Column]:
    mapping: dict[str, Column] = {}
    for col in columns_for(reg):
        mapping[fold(col.header)] = col
        mapping[fold(col.key)] = col
    return mapping


def _cell_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def open_rows(path: Path, reg: RegisterDef) -> Reader:
    """Check the file, map its header row to register fields, and stream the data rows."""
    from python_calamine import CalamineError, CalamineWorkbook

    info = inspect_file(path)
    check_extent(info, reg)
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise BadFile(f"Không đọc được tệp Excel: {exc}.") from exc
    for sheet in info.sheets:
        if sheet.state != "visible" and sheet.name != LISTS_SHEET:
            hidden = wb.get_sheet_by_name(sheet.name)
            if any(any(_cell_text(v) for v in row) for row in hidden.iter_rows()):
                raise BadFile(
                    f"Trang tính ẩn '{sheet.name}' có dữ liệu: dữ liệu phải nằm trên trang '{info.data_sheet}' "
                    "đang hiển thị. Hãy hiện hoặc xóa trang tính ẩn."
                )
    data = wb.get_sheet_by_name(info.data_sheet)
    merged = data.merged_cell_ranges or []
    if merged:
        (r1, c1), (r2, c2) = merged[0]
        where = f"{get_column_letter(c1 + 1)}{r1 + 1}:{get_column_letter(c2 + 1)}{r2 + 1}"
        raise BadFile(f"Trang '{info.data_sheet}' có ô gộp ({where}{' và các ô khác' if len(merged) > 1 else ''}): "
                      "hãy bỏ gộp ô, mỗi ô một giá trị.")  # fmt: skip
    if data.total_height > MAX_ROWS + 1:
        raise BadFile(f"Tệp có {data.total_height - 1} dòng; tối đa {MAX_ROWS} dòng mỗi lần tải.")
    rows = data.iter_rows()
    try:
        header_row = next(rows)
    except StopIteration as exc:
        raise BadFile("Trang dữ liệu trống (không có dòng tiêu đề).") from exc
    mapping = _header_map(reg)
    headers = [_cell_text(h).rstrip("*").strip() for h in header_row]
    columns: list[Column | None] = []
    unknown = []
    for index, header in enumerate(headers):
        if not header:
            columns.append(None)
            continue
        col = mapping.get(fold(header))
        if col is None:
            unknown.append(f"{get_column_letter(index + 1)} '{header}'")
        columns.append(col)
    if unknown:
        raise BadFile(
            "Cột không có trong mẫu của sổ này: " + ", ".join(unknown[:10]) + ". Hãy dùng mẫu tải về."
        )
    present = {c.key for c in columns if c}
    missing = [
        c.header for c in columns_for(reg) if c.spec.required and c.newborn is None and c.key not in present
    ]
    missing = [m for m in missing if m != "Mã cơ sở"]
    if missing:
        raise BadFile("Thiếu cột bắt buộc: " + ", ".join(missing) + ".")
    return Reader(reg, columns, headers, _iter_rows(rows, columns, reg))


def check_extent(info: FileInfo, reg: RegisterDef) -> None:
    """Refuse, before the reader allocates anything, a data sheet longer than MAX_ROWS or wider than the
    template, and any other sheet larger than MAX_LIST_CELLS (the reader sizes its grid from these)."""
    width = len(columns_for(reg)) + EXTRA_COLUMNS
    for sheet in info.sheets:
        where = f"{get_column_letter(max(sheet.cols, 1))}{max(sheet.rows, 1)}"
        if sheet.name == info.data_sheet:
            if sheet.rows > MAX_ROWS + 1:
                raise BadFile(
                    f"Trang '{sheet.name}' khai báo {sheet.rows - 1} dòng (đến ô {where}); tối đa {MAX_ROWS} dòng "
                    "mỗi lần tải."
                )
            if sheet.cols > width:
                raise BadFile(
                    f"Trang '{sheet.name}' rộng {sheet.cols} cột (đến ô {where}), mẫu của sổ chỉ có "
                    f"{width - EXTRA_COLUMNS} cột: hãy xóa các cột thừa hoặc dùng mẫu tải về."
                )
        elif sheet.rows * sheet.cols > MAX_LIST_CELLS:
            raise BadFile(
                f"Trang tính '{sheet.name}' quá lớn (đến ô {where}): hãy xóa trang này hoặc dùng mẫu tải về."
            )


def _iter_rows(
    rows: Iterator[list[Any]], columns: list[Column | None], reg: RegisterDef
) -> Iterator[RowData]:
    number = 1
    for values in rows:
        number += 1
        if not any(_cell_text(v) for v in values):
            continue
        raw: dict[str, Any] = {}
        newborns: dict[int, dict[str, Any]] = {}
        for value, col in zip(values, columns, strict=False):
            if col is None:
                continue
            cleaned = _cell_value(value, col.spec)
            if col.newborn is None:
                raw[col.spec.name] = cleaned
            elif cleaned not in (None, ""):
                newborns.setdefault(col.newborn, {})[col.spec.name] = cleaned
        if reg.newborns:
            raw["newborns"] = [newborns[k] for k in sorted(newborns)]
        yield RowData(number, raw, list(values))


def _cell_value(value: Any, spec: FieldSpec) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if spec.kind == "bool" and value:
            return value
        return value
    if isinstance(value, datetime):
        return value.date() if spec.kind == "date" else value.isoformat()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and spec.kind in {"str", "catalog", "choice"}:
        text = str(int(value)) if value.is_integer() else str(value)
        if spec.name == "personal_id" and text.isdigit() and len(text) < 12:
            text = text.zfill(12)  # Excel dropped the leading zero of a số định danh
        return text
    return value


def natural_key(raw: dict[str, Any], register: str) -> str:
    """A stable record ID for rows without one, so uploading the same file twice changes nothing."""
    parts = [register] + [
        fold(str(raw.get(k) or "")) for k in ("facility", "event_date", "full_name", "dob", "personal_id")
    ]
    if register == "contraception":
        parts.append(str(raw.get("method_code") or ""))
    if register == "death":
        parts.append(str(raw.get("death_kind") or ""))
    return "x-" + hashlib.sha1("|".join(parts).encode(), usedforsecurity=False).hexdigest()[:24]


_ERR_FIELD = re.compile(r"^newborns\[(\d+)\]\.(.+)\Z")


def error_workbook_writer(headers: list[str]) -> tuple[Any, Any]:
    """A write-only workbook for rejected rows: original values + row number + reasons."""
    wb = workbook(write_only=True)
    ws = wb.create_sheet(DATA_SHEET)
    ws.append([*headers, "Dòng gốc", "Lỗi"])
    return wb, ws
