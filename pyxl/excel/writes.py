"""Write computed values into the open workbook through Excel (xlwings remote actions).

Everything is queued on the book and goes back to Excel as one list of actions
that the add-in applies in one batch, after all computing is done. Only
pyxl-owned cells are touched: the Due List and Errors table bodies and the
computed columns of the Clients rows being refreshed. Text cells get the Text
number format before their values, so Excel stores client text as typed and
never parses it as a formula or a number (reliability.md 2.2).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from pyxl.excel import uploads
from pyxl.excel.cells import date_to_serial
from pyxl.services.sheets import Sheet, column_index, column_letter, safe_text, schema

TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"
_FORMATS = {"date": DATE_FORMAT, "int": "0", "number": "0.0"}
_ADDRESS = re.compile(r"^\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?$")


def cell_value(value: object) -> Any:
    """A value as Excel should store it: dates as serial numbers, text made cell-safe."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return date_to_serial(value)
    if isinstance(value, str):
        return safe_text(value)
    return value


def cell_values(rows: Sequence[Sequence[object]]) -> list[list[Any]]:
    """cell_value of every cell, blanks (None, NaN) as empty cells (""), ready to write.

    Column by column: a table's texts and dates repeat (names, rules, explanations), so
    each distinct one is made once; numbers and booleans go as they are."""
    if not rows:
        return []
    columns = list(itertools.zip_longest(*rows))
    for c, cells in enumerate(columns):
        distinct = set(cells)
        if set(map(type, distinct)) <= _AS_IS:
            made = {v: cell_value(v) for v in distinct if type(v) in _MADE_ONCE}
            if made:
                cells = [made.get(v, v) for v in cells]  # keys are texts and dates only
        else:  # numpy scalars and the like: one by one
            cells = [cell_value(v) for v in cells]
            distinct = set(cells)
        if None in distinct or any(v != v for v in distinct):  # NaN is not equal to itself
            cells = [_blank(v) for v in cells]
        columns[c] = cells
    return [list(row) for row in zip(*columns, strict=True)]


# Cell types cell_value keeps (numbers, booleans, blanks) or makes once per distinct value.
_MADE_ONCE = frozenset({str, dt.date, dt.datetime})
_AS_IS = frozenset({type(None), int, float, bool}) | _MADE_ONCE


def _blank(value: object) -> object:
    return "" if value is None or value != value else value  # NaN is not equal to itself


MAX_CELLS = 20_000  # per write action: a block of rows well under the request limit
MORE_CALLBACK = "pyxlMore"  # tells the pane more pages of writes are waiting


def set_values(cells: Any, values: Sequence[Sequence[object]]) -> None:
    """Write values already made Excel-ready (cell_value) as they are: blanks as empty
    cells, no second conversion cell by cell inside xlwings, in blocks of rows that
    each stay well under the request limit."""
    _write_rows(cells, [[_blank(v) for v in row] for row in values])


def _write_rows(cells: Any, rows: list[list[Any]]) -> None:
    """Write rows made by cell_values, in blocks well under the request limit."""
    if not rows:
        return
    width = len(rows[0])
    per_action = min(MAX_CELLS, uploads.request_limit() // 50)  # a cell rarely passes 50 bytes
    step = max(per_action // max(width, 1), 1)
    sheet, top, left = cells.sheet, cells.row, cells.column
    for start in range(0, len(rows), step):
        block = rows[start : start + step]
        _range(sheet, top + start, left, len(block), width).raw_value = block


def paginate(book: Any, limit: int) -> None:
    """Leave in this response only the writes that fit under the limit; keep the others
    as pages the task pane fetches one by one (more_writes), in order. A desktop book
    (classic xlwings) writes as it goes and has no response to page."""
    if not isinstance(getattr(book.impl, "api", None), dict):
        return
    actions = book.json()["actions"]
    # Each action as JSON once: its size, and the text of a page kept for later.
    texts = [json.dumps(a, separators=(",", ":"), default=str) for a in actions]
    if sum(map(len, texts)) <= limit:
        return
    pages: list[list[int]] = [[]]  # positions in `actions`
    size = 0
    for n, text in enumerate(texts):
        if pages[-1] and size + len(text) > limit:
            pages.append([])
            size = 0
        pages[-1].append(n)
        size += len(text)
    later = ["[" + ",".join(texts[n] for n in page) + "]" for page in pages[1:]]
    actions[:] = [actions[n] for n in pages[0]]
    more_to_come(book, uploads.keep_pages(later), len(later))


def answer_json(answer: object) -> bytes:
    """A script's answer as the JSON FastAPI would send (its JSONResponse's form), made by the
    json module at once; anything it cannot take goes through FastAPI's encoder."""
    from fastapi.encoders import jsonable_encoder

    text = json.dumps(
        answer, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=jsonable_encoder
    )
    return text.encode("utf-8")


def more_to_come(book: Any, key: str, pages: int) -> None:
    book.app.macro(MORE_CALLBACK)(json.dumps({"key": key, "pages": pages}))


def number_format(column: schema.Column) -> str:
    return column.number_format or _FORMATS.get(column.kind, TEXT_FORMAT)


def parse_address(address: str) -> tuple[int, int, int, int]:
    """'A4:L10' (or 'A4') -> 1-based first row, first column, last row, last column."""
    match = _ADDRESS.match(address.split("!")[-1].replace("'", ""))
    if match is None:
        raise ValueError(f"not a cell address: {address!r}")
    c1, r1, c2, r2 = match.groups()
    c2, r2 = c2 or c1, r2 or r1
    return int(r1), column_index(c1) + 1, int(r2), column_index(c2) + 1


def _range(sheet: Any, row: int, col: int, rows: int, cols: int) -> Any:
    return sheet.range((row, col), (row + rows - 1, col + cols - 1))


def replace_table_body(book: Any, spec: Sheet, rows: Sequence[Sequence[object]]) -> None:
    """Clear a computed table's old body, size the table to the new rows and write them."""
    sheet = book.sheets[spec.name]
    table = find_table(sheet, spec)
    whole = table.range
    first_row, first_col, last_row = whole.row, whole.column, whole.last_cell.row
    width = len(spec.columns)
    old_rows = last_row - first_row  # below the header
    if old_rows > 0:
        _range(sheet, first_row + 1, first_col, old_rows, width).clear_contents()
    body = max(len(rows), 1)
    table.resize(_range(sheet, first_row, first_col, body + 1, width))
    for offset, column in enumerate(spec.columns):
        _range(sheet, first_row + 1, first_col + offset, body, 1).number_format = number_format(
            column
        )
    if rows:
        _write_rows(_range(sheet, first_row + 1, first_col, len(rows), width), cell_values(rows))


def add_links(
    book: Any,
    spec: Sheet,
    rows: Sequence[Sequence[object]],
    links: Sequence[Sequence[tuple[int, str]]],
) -> None:
    """In-workbook links on a computed table's body cells (written by replace_table_body):
    per row, (0-based column, location such as "'Due List'!A12"), showing the cell's text."""
    sheet = book.sheets[spec.name]
    whole = find_table(sheet, spec).range
    for offset, (row, row_links) in enumerate(zip(rows, links, strict=True)):
        for col, location in row_links:
            cell = _range(sheet, whole.row + 1 + offset, whole.column + col, 1, 1)
            cell.add_hyperlink(f"#{location}", str(row[col]), f"Go to {location}")


def find_table(sheet: Any, spec: Sheet) -> Any:
    for table in sheet.tables:
        if table.name == spec.table:
            return table
    raise LookupError(f"the {spec.name} sheet has no table named {spec.table}")


def append_table_rows(book: Any, spec: Sheet, rows: Sequence[Sequence[object]]) -> None:
    """Add rows (in the contract's column order) at the end of a sheet's table.

    Each value goes under its header wherever the table has that column. A new
    table's one blank placeholder row is filled first; every other row is added
    by Excel at the table's end, so no co-author's row is ever written over.
    """
    if not rows:
        return
    sheet = book.sheets[spec.name]
    table = find_table(sheet, spec)
    whole = table.range
    grid = _range(sheet, whole.row, whole.column, whole.last_cell.row - whole.row + 1, 1)
    width = whole.last_cell.column - whole.column + 1
    cells = grid.resize(column_size=width).options(ndim=2).value
    headers = [str(h or "").strip() for h in cells[0]]
    ordered = []
    for row in rows:
        by_header = dict(zip(spec.headers, row, strict=True))
        ordered.append([cell_value(_yes_no(by_header.get(h))) for h in headers])
    body = cells[1:]
    if len(body) == 1 and all(v in (None, "") for v in body[0]):
        _range(sheet, whole.row + 1, whole.column, 1, width).value = [ordered.pop(0)]
    for values in ordered:
        table.rows.add(values, None)


def _yes_no(value: object) -> object:
    """Booleans as the Yes/No the workbook's choice columns take (as pyxl writes files)."""
    return ("Yes" if value else "No") if isinstance(value, bool) else value


def write_columns(
    book: Any,
    sheet_name: str,
    columns: Sequence[int],
    values: dict[int, Sequence[object]],
    rows: Sequence[int],
) -> None:
    """Set some columns (0-based) on the given 1-based rows; contiguous runs go in one action."""
    sheet = book.sheets[sheet_name]
    blank = [None] * len(columns)
    for run in _runs(sorted(rows)):
        for col_run in _runs(sorted(columns)):
            at = [columns.index(c) for c in col_run]
            block = cell_values(
                [[row[i] for i in at] for row in (values.get(r, blank) for r in run)]
            )
            _write_rows(_range(sheet, run[0], col_run[0] + 1, len(run), len(col_run)), block)


def _runs(numbers: Sequence[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return runs


def a1(row: int, col: int) -> str:
    return f"{column_letter(col - 1)}{row}"
