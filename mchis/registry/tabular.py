"""Reading and writing spreadsheets (xlsx/csv) for imports, exports and the police round trip."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from defusedxml.common import DefusedXmlException
from openpyxl import load_workbook
from openpyxl.styles import Font

from mchis.core.errors import DomainError
from mchis.core.spreadsheets import workbook, xlsx_first_sheet_target, xlsx_sheet_extent
from mchis.core.text import fold


def _key(header: Any, columns: Sequence[tuple[str, str]]) -> str:
    """Map a header cell to a column key: the key itself or its Vietnamese label, diacritics ignored."""
    text = fold(str(header or ""))
    for key, label in columns:
        if text in (key, fold(label)):
            return key
    return text.replace(" ", "_")


# Bounds of an uploaded import/police file, checked from the sheet's declared size before it is read and again
# while rows are streamed (issue 10 item 8): at most MAX_ROWS data rows, at most EXTRA_COLUMNS beyond the template.
MAX_ROWS = 100_000
EXTRA_COLUMNS = 5


def _too_long(filename: str) -> DomainError:
    return DomainError(f"Tệp '{filename}' có quá {MAX_ROWS} dòng dữ liệu; hãy chia nhỏ tệp.", field="file")


def _too_wide(filename: str, cols: int, template: int) -> DomainError:
    return DomainError(
        f"Tệp '{filename}' rộng {cols} cột, mẫu chỉ có {template} cột: hãy xóa các cột thừa hoặc dùng mẫu.",
        field="file",
    )


def _xlsx_table(content: bytes, filename: str, width: int, template: int) -> list[list[Any]]:
    """The first sheet's rows, at most `width` columns each, streamed; refused before loading when the sheet
    declares more rows or columns than allowed (a sheet declaring A1:XFD12001 is a memory bomb)."""
    unreadable = DomainError(f"Không đọc được tệp Excel '{filename}'.", field="file")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            rows, cols = xlsx_sheet_extent(zf, xlsx_first_sheet_target(zf))
    except (
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        OSError,
        EOFError,
        SyntaxError,
        DefusedXmlException,
    ) as exc:
        raise unreadable from exc  # SyntaxError: xml ParseError
    if rows > MAX_ROWS + 1:
        raise _too_long(filename)
    if cols > width:
        raise _too_wide(filename, cols, template)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)  # defusedxml inside
        sheet = book.worksheets[0]
        table: list[list[Any]] = []
        for values in sheet.iter_rows(max_col=width, values_only=True):
            row = list(values)
            while row and row[-1] is None:  # the reader pads every row to `width` columns
                row.pop()
            table.append(row)
            if len(table) > MAX_ROWS + 1:
                raise _too_long(filename)
    except DomainError:
        raise
    except Exception as exc:  # any unreadable workbook is the same user error
        raise unreadable from exc
    return table


def read_rows(content: bytes, filename: str, columns: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Rows as dicts keyed by column key; row numbers start at 2 (row 1 = header), kept in '_row'."""
    suffix = Path(filename).suffix.lower()
    width = len(columns) + EXTRA_COLUMNS
    if suffix == ".csv":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DomainError(
                f"Tệp CSV '{filename}' không phải UTF-8 (byte lỗi ở vị trí {exc.start}): lưu lại với mã UTF-8.",
                field="file",
            ) from exc
        table = []
        for values in csv.reader(io.StringIO(text)):
            if len(values) > width:
                raise _too_wide(filename, len(values), len(columns))
            table.append(values)
            if len(table) > MAX_ROWS + 1:
                raise _too_long(filename)
    elif suffix in (".xlsx", ".xlsm"):
        table = _xlsx_table(content, filename, width, len(columns))
    else:
        raise DomainError("Chỉ nhận tệp .xlsx hoặc .csv.", field="file")
    if not table:
        raise DomainError("Tệp không có dữ liệu.", field="file")
    header = [_key(h, columns) for h in table[0]]
    rows = []
    for number, values in enumerate(table[1:], start=2):
        if all(v in (None, "") for v in values):
            continue
        row: dict[str, Any] = {
            header[i]: ("" if v is None else v) for i, v in enumerate(values) if i < len(header)
        }
        row["_row"] = number
        rows.append(row)
    return rows


def open_rows(path: Path, columns: Sequence[tuple[str, str]]) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """(header keys, rows) of a file on disk, streamed: memory stays flat whatever the file's size.

    Same row shape as `read_rows` (keys = column keys, '_row' = the spreadsheet row number, empty rows
    skipped). The header is read at once, so a file without one is refused before any row is used. No row
    limit (the initial migration reads whole provinces from the command line); an Excel sheet is read at most
    `len(columns) + EXTRA_COLUMNS` columns wide, whatever width it declares.
    """
    suffix = path.suffix.lower()
    table: Iterator[Sequence[Any]]
    if suffix == ".csv":
        handle = path.open(encoding="utf-8-sig", newline="")
        table = csv.reader(handle)
    elif suffix in (".xlsx", ".xlsm"):
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise DomainError(f"Không đọc được tệp Excel '{path.name}'.", field="file") from exc
        table = book.worksheets[0].iter_rows(max_col=len(columns) + EXTRA_COLUMNS, values_only=True)
    else:
        raise DomainError("Chỉ nhận tệp .xlsx hoặc .csv.", field="file")
    try:
        first = next(table, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DomainError(f"Không đọc được tệp '{path.name}' (cần CSV mã UTF-8).", field="file") from exc
    if first is None:
        raise DomainError("Tệp không có dữ liệu.", field="file")
    header = [_key(h, columns) for h in first]
    csv_text = suffix == ".csv"

    def rows() -> Iterator[dict[str, Any]]:
        width = len(header)
        try:
            for number, values in enumerate(table, start=2):
                if csv_text:
                    # Every CSV cell is a str (never None): the same row, built without per-cell tests.
                    if not any(values):
                        continue
                    row = dict(
                        zip(header, values, strict=False)
                    )  # a short or long row: as many cells as both have
                else:
                    if all(v in (None, "") for v in values):
                        continue
                    row = {header[i]: ("" if v is None else v) for i, v in enumerate(values) if i < width}
                row["_row"] = number
                yield row
        except (UnicodeDecodeError, csv.Error) as exc:
            raise DomainError(f"Không đọc được tệp '{path.name}' (cần CSV mã UTF-8).", field="file") from exc

    return header, rows()


def write_xlsx(columns: Sequence[tuple[str, str]], rows: Sequence[dict[str, Any]], *, title: str) -> bytes:
    book = workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append([label for _, label in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell(row.get(key)) for key, _ in columns])
    for index, (_, label) in enumerate(columns, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(12, min(40, len(label) + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    return value
