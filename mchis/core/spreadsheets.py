"""The one writer for every spreadsheet and CSV file the system hands out (R-SEC-06; issue 10 item 5).

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (CSV/formula injection, OWASP). Names, reasons, unit and village
names and User-Agent headers are typed by people, so every text cell is neutralised on the way out: such a
value gets a leading single quote, which spreadsheet programs show as text and never evaluate. Numbers, dates
and booleans pass unchanged.

Use ``workbook()`` instead of ``openpyxl.Workbook()`` and ``csv_writer()`` instead of ``csv.writer()``;
``mchis/core/tests/test_spreadsheets.py`` fails when a module writes spreadsheets any other way.

Reading uploaded workbooks: ``xlsx_sheet_extent`` tells how large a sheet declares itself before any reader
allocates it; XML parts are parsed with defusedxml (openpyxl uses defusedxml by itself once it is installed).
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterable
from typing import IO, Any

from defusedxml import ElementTree as DefusedElementTree
from openpyxl import Workbook as _OpenpyxlWorkbook

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The value as it may be written to a cell: text that would start a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class _SafeAppendSheet:
    """A write-only sheet whose `append` neutralises every value; everything else is the sheet's own."""

    def __init__(self, sheet: Any) -> None:
        self._sheet = sheet

    def append(self, row: Iterable[Any]) -> None:
        self._sheet.append([neutralise(v) for v in row])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sheet, name)


class SafeWorkbook(_OpenpyxlWorkbook):  # type: ignore[misc]  # openpyxl ships no types
    """An openpyxl workbook that neutralises every text cell when it is saved (write-only mode: on append)."""

    def create_sheet(self, title: str | None = None, index: int | None = None) -> Any:
        sheet = super().create_sheet(title, index)
        return _SafeAppendSheet(sheet) if self.write_only else sheet

    def save(self, filename: Any) -> None:
        if not self.write_only:
            for sheet in self.worksheets:
                for row in sheet.iter_rows():
                    for cell in row:
                        value = cell.value
                        if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
                            cell.value = "'" + value
        super().save(filename)


def workbook(*, write_only: bool = False) -> SafeWorkbook:
    """A new workbook for an export; every text cell is neutralised when it is written out."""
    return SafeWorkbook(write_only=write_only)


class SafeCsvWriter:
    """`csv.writer` with every value neutralised."""

    def __init__(self, handle: IO[str], **kwargs: Any) -> None:
        self._writer = csv.writer(handle, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle: IO[str], **kwargs: Any) -> SafeCsvWriter:
    return SafeCsvWriter(handle, **kwargs)


# --- reading: how big a sheet says it is, before anything loads it (issue 10 item 8) ------------------------

_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]{1,3})?(\d+)?(?::([A-Z]{1,3})(\d+))?\"")
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")
_HEAD_BYTES = 64 * 1024


def column_number(letters: str) -> int:
    """A1-style column letters → 1-based number (A → 1, XFD → 16384)."""
    number = 0
    for char in letters:
        number = number * 26 + (ord(char) - 64)
    return number


def xlsx_sheet_extent(zf: zipfile.ZipFile, target: str) -> tuple[int, int]:
    """(rows, columns) a worksheet part occupies, without loading it.

    Readers (calamine, openpyxl) size their grid from the declared ``<dimension ref="A1:XFD12001"/>``: a
    62 KB file declaring a million-column sheet is a memory bomb. The declared dimension is read from the
    first 64 KB of the part; a part without one is streamed with defusedxml (element by element, cleared as
    it goes) and the largest cell reference counted. Either way nothing but a few KB is held in memory."""
    with zf.open(target) as fh:
        head = fh.read(_HEAD_BYTES)
    found = _DIMENSION.search(head)
    if found and found.group(3):
        return int(found.group(4)), column_number(found.group(3).decode())
    if found and found.group(1):
        return int(found.group(2) or 1), column_number(found.group(1).decode())
    rows = cols = 0
    with zf.open(target) as fh:
        for _, element in DefusedElementTree.iterparse(fh, events=("end",)):
            if element.tag.endswith("}c") or element.tag == "c":
                ref = _CELL_REF.fullmatch(element.get("r", "") or "")
                if ref:
                    rows, cols = max(rows, int(ref.group(2))), max(cols, column_number(ref.group(1)))
            elif element.tag.endswith("}row") or element.tag == "row":
                rows = max(rows, int(element.get("r", "0") or 0))
                element.clear()
    return rows, cols


def xlsx_first_sheet_target(zf: zipfile.ZipFile) -> str:
    """The zip path of the first worksheet (workbook.xml + its rels, parsed with defusedxml)."""
    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    rid_attr = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    book = DefusedElementTree.fromstring(zf.read("xl/workbook.xml"))
    rels = DefusedElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("rel:Relationship", ns)}
    sheet = book.find("m:sheets/m:sheet", ns)
    if sheet is None:
        raise KeyError("no sheet")
    target = targets.get(sheet.get(rid_attr), "") or ""
    return target.lstrip("/") if target.startswith("/") else "xl/" + target
