"""The one writer for every spreadsheet and CSV file the system hands out (R-SEC-06; issue 10 item 5).

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (CSV/formula injection, OWASP). Names, reasons, unit and village
names and User-Agent headers are typed by people, so every text cell is neutralised on the way out: such a
value gets a leading single quote, which spreadsheet programs show as text and never evaluate. Numbers, dates
and booleans pass unchanged.

Use ``workbook()`` instead of ``openpyxl.Workbook()`` and ``csv_writer()`` instead of ``csv.writer()``;
``mchis/core/tests/test_spreadsheets.py`` fails when a module writes spreadsheets any other way.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

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


class SafeWorkbook(_OpenpyxlWorkbook):
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
