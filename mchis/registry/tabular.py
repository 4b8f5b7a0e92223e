"""Reading and writing spreadsheets (xlsx/csv) for imports, exports and the police round trip."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from mchis.core.errors import DomainError
from mchis.core.text import fold


def _key(header: Any, columns: Sequence[tuple[str, str]]) -> str:
    """Map a header cell to a column key: the key itself or its Vietnamese label, diacritics ignored."""
    text = fold(str(header or ""))
    for key, label in columns:
        if text in (key, fold(label)):
            return key
    return text.replace(" ", "_")


def read_rows(content: bytes, filename: str, columns: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Rows as dicts keyed by column key; row numbers start at 2 (row 1 = header), kept in '_row'."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        text = content.decode("utf-8-sig")
        table = list(csv.reader(io.StringIO(text)))
    elif suffix in (".xlsx", ".xlsm"):
        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same user error
            raise DomainError(f"Không đọc được tệp Excel '{filename}'.", field="file") from exc
        sheet = book.worksheets[0]
        table = [list(r) for r in sheet.iter_rows(values_only=True)]
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
    skipped). The header is read at once, so a file without one is refused before any row is used.
    """
    suffix = path.suffix.lower()
    table: Iterator[Sequence[Any]]
    if suffix == ".csv":
        handle = path.open(encoding="utf-8-sig", newline="")
        table = csv.reader(handle)
    elif suffix in (".xlsx", ".xlsm"):
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same user error
            raise DomainError(f"Không đọc được tệp Excel '{path.name}'.", field="file") from exc
        table = book.worksheets[0].iter_rows(values_only=True)
    else:
        raise DomainError("Chỉ nhận tệp .xlsx hoặc .csv.", field="file")
    try:
        first = next(table, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DomainError(f"Không đọc được tệp '{path.name}' (cần CSV mã UTF-8).", field="file") from exc
    if first is None:
        raise DomainError("Tệp không có dữ liệu.", field="file")
    header = [_key(h, columns) for h in first]

    def rows() -> Iterator[dict[str, Any]]:
        width = len(header)
        try:
            for number, values in enumerate(table, start=2):
                if all(v in (None, "") for v in values):
                    continue
                row: dict[str, Any] = {
                    header[i]: ("" if v is None else v) for i, v in enumerate(values) if i < width
                }
                row["_row"] = number
                yield row
        except (UnicodeDecodeError, csv.Error) as exc:
            raise DomainError(f"Không đọc được tệp '{path.name}' (cần CSV mã UTF-8).", field="file") from exc

    return header, rows()


def write_xlsx(columns: Sequence[tuple[str, str]], rows: Sequence[dict[str, Any]], *, title: str) -> bytes:
    book = Workbook()
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
