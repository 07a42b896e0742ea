"""The workbook's sheets as the Excel layer meets them: cells Excel sends, checked and written.

The add-in (pyxl.excel) reads the values Office.js sends and writes back through
Excel, never the file; it needs the sheets' contracts, the reader's sheet form (so
validation and evaluation are `pyxl recompute`'s own), header finding, the checks of
typed rows and the texts a cell may hold. This module is its one door to them, so
the Excel layer depends on services only (the import contract in pyproject.toml).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pyxl.adapters import schema
from pyxl.adapters.package_bounds import column_index, column_letter
from pyxl.adapters.schema import Column, Sheet
from pyxl.adapters.speed import without_cycle_collector
from pyxl.adapters.validation import (
    MAX_HEADER_SCAN,
    Problem,
    SheetRows,
    ValidatedWorkbook,
    find_header,
    read_sheet,
    validate_workbook,
)
from pyxl.adapters.workbook_patch import Patch, safe_text
from pyxl.adapters.workbook_reader import RawSheet, RawWorkbook
from pyxl.policy import default_settings
from pyxl.services.report import Report

__all__ = [
    "MAX_HEADER_SCAN",
    "Column",
    "Patch",
    "Problem",
    "RawSheet",
    "RawWorkbook",
    "Sheet",
    "SheetRows",
    "ValidatedWorkbook",
    "check_rows",
    "column_index",
    "column_letter",
    "find_header",
    "safe_text",
    "save_report",
    "schema",
    "sent_workbook",
    "validated",
    "without_cycle_collector",
]


def sent_workbook(sheets: dict[str, RawSheet]) -> RawWorkbook:
    """A workbook of sheets Excel sent (no file behind them: no parts, the 1900 dates)."""
    return RawWorkbook(sheets, date1904=False, sheet_parts={})


def check_rows(raw: RawSheet, spec: Sheet) -> tuple[SheetRows, list[Problem]]:
    """One sheet's cells checked as `pyxl check` checks them: its good rows and problems."""
    problems: list[Problem] = []
    return read_sheet(raw, spec, problems), problems


def validated(book: RawWorkbook, as_of: dt.date | None = None) -> ValidatedWorkbook:
    """The sheets validated with the default settings (the Settings sheet's, if sent)."""
    return validate_workbook(book, default_settings(), as_of or dt.date.today())


def save_report(made: Report, out: Path) -> None:
    """The supervisor report's workbook, written as `pyxl report` writes it."""
    from pyxl.adapters.report_workbook import write_report  # its libraries load when used

    write_report(made, out)
