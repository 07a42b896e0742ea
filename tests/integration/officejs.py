"""What Office.js sends to the pyxl add-in, built from a real caseload .xlsx.

Scripts get the whole book (values from A1 of every sheet, date cells as ISO
strings, tables with their addresses), custom functions get their arguments as
2-D arrays with dates as serial numbers: the shapes xlwings Server's JavaScript
produces (xlwings_server/static/js/custom-scripts/index.js, custom-functions-code.js).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
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
    """Every sheet's cells (read once per file and modification time; do not change them)."""
    return _sheet_grids(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _sheet_grids(path: Path, _modified: int) -> dict[str, list[list[Any]]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    grids = {}
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        grids[name] = [[None if v == "" else v for v in row] for row in rows] or [[None]]
    return grids


@functools.lru_cache(maxsize=2)
def _openpyxl(path: Path, _modified: int) -> openpyxl.Workbook:
    return openpyxl.load_workbook(path)


def book_payload(path: Path, active: str, selection: str = "A1") -> dict[str, Any]:
    """The book runPython posts for a script, as Office.js builds it."""
    grids = sheet_grids(path)
    workbook = _openpyxl(path, path.stat().st_mtime_ns)
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


# ---------------------------------------------------------------- the task pane's upload


def raw_grid(path: Path, sheet: str) -> list[list[Any]]:
    """A sheet's cells as Office.js `range.values` reads them: dates as serials, blanks ""."""
    return _raw_grid(path, path.stat().st_mtime_ns, sheet)


@functools.lru_cache(maxsize=32)
def _raw_grid(path: Path, _modified: int, sheet: str) -> list[list[Any]]:
    return [["" if v is None else _serial(v) for v in row] for row in sheet_grids(path)[sheet]]


def _header(rows: list[list[Any]], wanted: set[str]) -> tuple[int, list[int]]:
    best = (-1, [])
    for r, row in enumerate(rows):
        found = [c for c, v in enumerate(row) if isinstance(v, str) and v.strip() in wanted]
        if len(found) > len(best[1]):
            best = (r, found)
    return best


def selected_cases(path: Path, sheet: str, rows: range) -> list[str]:
    """The Case IDs on the selected rows (1-based sheet rows), as pyxl.js reads them."""
    grid = raw_grid(path, sheet)
    header, columns = _header(grid[:12], {"Case ID"})
    if header < 0:
        return []
    cases = [str(grid[r - 1][columns[0]]).strip() for r in rows if header + 1 < r <= len(grid)]
    return [c for c in cases if c]


def _case_key(value: object) -> str:
    """pyxl.js's caseKey: spaces collapsed, case folded (numbers as JavaScript writes them)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split()).lower()


def upload_bodies(
    path: Path, reads: list[dict[str, Any]], limit: int, selected: list[str] | None = None
) -> list[bytes]:
    """The bodies pyxl.js posts for a button's declared reads: row blocks of the span of
    wanted columns, packed into pieces under 90% of the request limit. A read of the
    selected rows sends the header and the `selected` clients' rows, each in runs where it
    stands, and with other_ids the other rows' Case IDs alone."""
    bodies: list[bytes] = []
    pieces: list[dict[str, Any]] = []
    size = 0

    def flush() -> None:
        nonlocal pieces, size
        bodies.append(_compact({"pieces": pieces}))
        pieces, size = [], 0

    def add(piece: dict[str, Any]) -> None:
        nonlocal size
        length = len(_compact(piece))  # pyxl.js measures the UTF-8 bytes of JSON.stringify
        if length > limit * 0.9 and len(piece["rows"]) > 1:
            half = (len(piece["rows"]) + 1) // 2
            add({**piece, "rows": piece["rows"][:half]})
            add({**piece, "first_row": piece["first_row"] + half, "rows": piece["rows"][half:]})
            return
        if pieces and size + length > limit * 0.9:
            flush()
        pieces.append(piece)
        size += length

    for read in reads:
        grid = raw_grid(path, read["sheet"])
        width = max(len(r) for r in grid)
        header, columns = _header(grid[:12], set(read["columns"]))
        first = min(columns) if header >= 0 else 0
        span = max(columns) - first + 1 if header >= 0 else width
        last = header + 1 if read["header_only"] and header >= 0 else len(grid)
        block = max(20000 // span, 1)
        case_at = next((c for c in columns if str(grid[header][c]).strip() == "Case ID"), -1)
        chosen = None if selected is None else {_case_key(c) for c in selected}
        for r in range(0, last, block):
            rows = [(row + [""] * width)[first : first + span] for row in grid[r : r + block]]
            rows = rows[: max(min(block, last - r), 0)]
            if not read.get("selected_rows") or chosen is None or case_at < 0:
                add({"sheet": read["sheet"], "first_row": r, "first_column": first, "rows": rows})
                continue
            runs: list[tuple[bool, dict[str, Any]]] = []  # (whole rows?, piece)
            for i, row in enumerate(rows):
                whole = r + i <= header or _case_key(row[case_at - first]) in chosen
                if not whole and not read.get("other_ids"):
                    runs.append((False, {}))  # a gap: the next rows start a new piece
                    continue
                if not runs or runs[-1][0] != whole or not runs[-1][1]:
                    column = first if whole else case_at
                    piece = {"sheet": read["sheet"], "first_row": r + i, "first_column": column}
                    runs.append((whole, {**piece, "rows": []}))
                runs[-1][1]["rows"].append(row if whole else [row[case_at - first]])
            for _, piece in runs:
                if piece:
                    add(piece)
    if pieces or not bodies:
        flush()
    return bodies


def _compact(value: object) -> bytes:
    """JSON as JavaScript's JSON.stringify writes it (no spaces), in UTF-8."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def lazy_book(path: Path, active: str, selection: str = "A1") -> dict[str, Any]:
    """The book runPython posts with lazy: the sheets' names, used ranges and tables only."""
    book = book_payload(path, active, selection)
    book["sheets"] = [{**sheet, "values": [[]]} for sheet in book["sheets"]]
    return book
