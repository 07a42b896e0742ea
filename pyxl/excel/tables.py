"""Workbook data handed to the Excel layer, as the reader's RawWorkbook.

Two sources: ranges passed to a custom function (each a table with its header
row, e.g. `Clients[#All]`), and the book Office.js sends to a script. Both end
as `RawWorkbook`, so validation and evaluation are exactly those of
`pyxl recompute` (pyxl.services.recompute); nothing is re-implemented here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from pyxl.adapters import schema
from pyxl.adapters.schema import Sheet
from pyxl.adapters.validation import MAX_HEADER_SCAN, find_header
from pyxl.adapters.workbook_reader import RawSheet, RawWorkbook
from pyxl.excel.cells import CellError, Grid, as_grid, serial_to_date
from pyxl.services.recompute import READ_SHEETS, Evaluation, evaluate_raw

ERROR_STRINGS = frozenset(
    {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#DATA!", "#SPILL!"}
)


class TablesError(ValueError):
    """The ranges given to a function are not the tables it needs."""


def identify(grid: Grid) -> Sheet | None:
    """Which workbook table a range is, from its header row (the best-matching sheet)."""
    raw = RawSheet("?", grid[:MAX_HEADER_SCAN])
    best: tuple[int, Sheet] | None = None
    for sheet in (*schema.INPUT_SHEETS, *schema.REFERENCE_SHEETS):
        found = find_header(raw, sheet)
        if found is not None and (best is None or len(found[1]) > best[0]):
            best = (len(found[1]), sheet)
    return best[1] if best else None


def _date_columns(grid: Grid, sheet: Sheet) -> list[int]:
    found = find_header(RawSheet(sheet.name, grid), sheet)
    if found is None:
        return []
    _, positions = found
    dates = [c.header for c in sheet.columns if c.kind == "date"]
    return [positions[h] for h in dates if h in positions]


def raw_sheet(name: str, grid: Grid, serial_dates: bool) -> RawSheet:
    """Cells as the workbook reader gives them: "" for blanks, error cells listed apart.

    Custom-function ranges carry dates as serial numbers; in the date columns of
    the contract they are turned into dates (anything else stays as typed, so
    validation reports it with its cell).
    """
    sheet = schema.SHEETS[name]
    values = [["" if v is None else v for v in row] for row in grid]
    errors: dict[tuple[int, int], str] = {}
    for r, row in enumerate(values):
        for c, v in enumerate(row):
            if isinstance(v, str) and v in ERROR_STRINGS:
                errors[(r, c)] = v
                row[c] = ""
    if serial_dates:
        found = find_header(RawSheet(name, values), sheet)
        header = found[0] if found else 0
        for c in _date_columns(values, sheet):
            for row in values[header + 1 :]:
                value = row[c] if c < len(row) else None
                if isinstance(value, int | float) and not isinstance(value, bool):
                    # An impossible serial stays a number: validation reports it with its cell.
                    with contextlib.suppress(CellError):
                        row[c] = serial_to_date(float(value))
    return RawSheet(name, values, errors)


def workbook_from_ranges(ranges: Iterable[object], needed: Sequence[str]) -> RawWorkbook:
    """A RawWorkbook from table ranges (with their headers) passed to a function, in any order."""
    sheets: dict[str, RawSheet] = {}
    for position, value in enumerate(ranges, start=1):
        grid = as_grid(value)
        sheet = identify(grid)
        if sheet is None:
            raise TablesError(
                f"range {position} is not one of the workbook's tables: pass a whole table "
                "with its headers, e.g. Contacts[#All]"
            )
        if sheet.name in sheets:
            raise TablesError(f"the {sheet.name} table is passed twice")
        sheets[sheet.name] = raw_sheet(sheet.name, grid, serial_dates=True)
    # Sheets added in a later version may be left out (older workbooks lack them).
    missing = [n for n in needed if n not in sheets and not schema.SHEETS[n].added_later]
    if missing:
        raise TablesError(
            "pass these tables too: "
            + ", ".join(f"{schema.SHEETS[n].table}[#All]" for n in missing)
        )
    return RawWorkbook(sheets, date1904=False, sheet_parts={})


# ---------------------------------------------------------------- evaluations


class EvaluationCache:
    """The last few evaluations by content, so STATUS, NEXT_ACTION and OVERDUE_COUNT over the
    same tables evaluate the caseload once between edits."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._items: OrderedDict[str, Evaluation] = OrderedDict()

    def get(self, ranges: Sequence[object], as_of: dt.date) -> Evaluation:
        key = _digest(ranges, as_of)
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        raw = workbook_from_ranges(ranges, sorted(READ_SHEETS))
        evaluation = evaluate_raw(raw, as_of)
        self._items[key] = evaluation
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return evaluation


def _digest(ranges: Sequence[object], as_of: dt.date) -> str:
    text = json.dumps([as_of.isoformat(), ranges], default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def sheet_values(sheet: Any) -> Grid:
    """A sheet's values from A1 to its last used cell, dates as datetimes, errors as text.

    Plain xlwings API, so it reads the book Office.js sent (xlwings Server) and an
    open workbook on the desktop (COM) alike.
    """
    last = sheet.used_range.last_cell
    cells = sheet.range((1, 1), (max(last.row, 1), max(last.column, 1)))
    return cells.options(ndim=2, err_to_str=True).value or [[None]]
