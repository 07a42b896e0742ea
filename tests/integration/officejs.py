"""What Office.js sends to the pyxl add-in, built from a real caseload .xlsx.

Scripts get the whole book (values from A1 of every sheet, date cells as ISO
strings, tables with their addresses), custom functions get their arguments as
2-D arrays with dates as serial numbers: the shapes xlwings Server's JavaScript
produces (xlwings_server/static/js/custom-scripts/index.js, custom-functions-code.js).
"""

from __future__ import annotations

import datetime as dt
from importlib.metadata import version
from pathlib import Path
from typing import Any

import openpyxl
import python_calamine
from openpyxl.utils import range_boundaries

from pyxl.adapters.workbook_reader import column_letter
from pyxl.excel.cells import date_to_serial
from pyxl.excel.udfs import call_body

HEADERS = {"Authorization": "test-code", "Auth-Provider": "pyxl"}


def _iso(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        day = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        return day.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return value


def _serial(value: object) -> object:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return float(date_to_serial(value))
    return value


def sheet_grids(path: Path) -> dict[str, list[list[Any]]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    grids = {}
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        grids[name] = [[None if v == "" else v for v in row] for row in rows] or [[None]]
    return grids


def book_payload(path: Path, active: str, selection: str = "A1") -> dict[str, Any]:
    """The book runPython posts for a script, as Office.js builds it."""
    grids = sheet_grids(path)
    workbook = openpyxl.load_workbook(path)
    sheets = []
    for ws in workbook.worksheets:
        values = [[_iso(v) for v in row] for row in grids[ws.title]]
        tables = []
        for table in ws.tables.values():
            min_col, min_row, max_col, max_row = range_boundaries(table.ref)
            header = f"{column_letter(min_col - 1)}{min_row}:{column_letter(max_col - 1)}{min_row}"
            tables.append(
                {
                    "name": table.name,
                    "range_address": table.ref,
                    "row_count": max_row - min_row + 1,
                    "column_count": max_col - min_col + 1,
                    "columns": [c.name for c in table.tableColumns],
                    "header_row_range_address": header,
                    "data_body_range_address": None,
                    "total_row_range_address": None,
                    "show_headers": True,
                    "show_totals": False,
                    "table_style": "TableStyleMedium2",
                    "show_autofilter": True,
                    "show_table_style_first_column": False,
                    "show_table_style_last_column": False,
                    "show_table_style_row_stripes": True,
                    "show_table_style_column_stripes": False,
                }
            )
        width = max(len(r) for r in values)
        sheets.append(
            {
                "name": ws.title,
                "values": values,
                "pictures": [],
                "shapes": [],
                "charts": [],
                "tables": tables,
                "pivot_tables": [],
                "used_range_address": f"A1:{column_letter(width - 1)}{len(values)}",
                "used_range_row_count": len(values),
                "used_range_column_count": width,
            }
        )
    index = workbook.sheetnames.index(active)
    return {
        "client": "Office.js",
        "version": version("xlwings"),
        "book": {"name": path.name, "active_sheet_index": index, "selection": selection},
        "names": [],
        "sheets": sheets,
    }


def table_range(path: Path, sheet: str) -> list[list[Any]]:
    """A table with its headers (Table[#All]) as a custom function receives it."""
    grid = sheet_grids(path)[sheet]
    body = [[_serial(v) for v in row] for row in grid[2:]]  # from the header row (row 3)
    return [row for row in body if any(v is not None for v in row)]


def function_call(name: str, *args: object, repeating: list | None = None) -> dict[str, Any]:
    """The body custom-functions-code.js posts for one call (a repeating parameter's values
    arrive together as the last argument)."""
    sent: list[Any] = [a if isinstance(a, list) else [[a]] for a in args]
    if repeating is not None:
        sent.append(repeating)
    return call_body(name, sent, caller="Sheet1!B2")
