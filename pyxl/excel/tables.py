"""Workbook data handed to the Excel layer, as the reader's RawWorkbook.

Two sources: ranges passed to a custom function (each a table with its header
row, e.g. `Clients[#All]`), and the book Office.js sends to a script. Both end
as `RawWorkbook`, so validation and evaluation are exactly those of
`pyxl recompute` (pyxl.services.recompute); nothing is re-implemented here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import itertools
import marshal
import pickle
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pyxl.excel.cells import CellError, Grid, as_grid, date_to_serial, serial_to_date
from pyxl.services.recompute import READ_SHEETS, Evaluation, evaluate_raw
from pyxl.services.sheets import (
    MAX_HEADER_SCAN,
    RawSheet,
    RawWorkbook,
    Sheet,
    find_header,
    schema,
    sent_workbook,
)

ERROR_STRINGS = frozenset(
    {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#DATA!", "#SPILL!"}
)


# The sheets whose rows each belong to one client (by Case ID): a Refresh of selected clients
# reads only their rows there; the office-wide sheets (Branches, Staff, ...) stay whole.
CASE_SHEETS = frozenset(s.name for s in schema.INPUT_SHEETS if "Case ID" in s.headers)


def case_key(value: object) -> str:
    """A Case ID as validation compares them (spaces and case folded, 1001.0 as 1001)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value if value is not None else "").split()).casefold()


def header_spec(spec: Sheet) -> Sheet:
    """The sheet's contract with only Case ID required, to find the header on any sheet."""
    columns = tuple(dataclasses.replace(c, required=c.header == "Case ID") for c in spec.columns)
    return dataclasses.replace(spec, columns=columns)


def case_column(name: str, grid: Grid) -> tuple[int, int] | None:
    """(0-based header row, Case ID column) of a sheet's table; None without one."""
    spec = schema.SHEETS.get(name)
    if spec is None or "Case ID" not in spec.headers:
        return None
    found = find_header(RawSheet(name, grid[:MAX_HEADER_SCAN]), header_spec(spec))
    if found is None:
        return None
    return found[0], found[1]["Case ID"]


def rows_of_cases(name: str, grid: Grid, keys: Collection[str]) -> Grid:
    """The sheet with only these clients' rows (by `case_key`); every other row left empty,
    so each kept row keeps its row number (problems name the user's cells)."""
    found = case_column(name, grid)
    if found is None:
        return grid
    header, column = found
    body = [
        row if column < len(row) and case_key(row[column]) in keys else []
        for row in grid[header + 1 :]
    ]
    while body and not body[-1]:
        body.pop()
    return [*grid[: header + 1], *body]


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
    values = [list(row) for row in grid]
    errors = _blanks_and_errors(values)
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


# ---------------------------------------------------------------- columnar grids

# A date cell as xlwings' Office.js code sends it in a book: ISO text, midnight UTC.
_ISO_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?$")
_UNIX_EPOCH_SERIAL = date_to_serial(dt.date(1970, 1, 1))
_MS_PER_DAY = 86_400_000


class _Declined(Exception):
    """A column whose cells are not all of one kind, or with an Excel error in it."""


def grid_sheet(name: str, grid: Grid, serial_dates: bool) -> RawSheet:
    """A sheet's cells from A1, as the workbook reader gives a file's: typed columns.

    The columns under the contract's headers become one Arrow table, like fastexcel's for
    a file, so the same columnar reading and validation as `pyxl recompute` takes them
    whole; the cells themselves are turned into Python values only if that reading
    declines the sheet (a mixed column, an error cell). Dates come as Office.js sends
    them: ISO text in a book (`serial_dates` False), serial numbers in function ranges
    and uploads (True).
    """
    spec = schema.SHEETS[name]
    head = _normalized(name, grid[:MAX_HEADER_SCAN], spec, serial_dates, header=None)
    found = find_header(RawSheet(name, head), spec)
    if found is None:
        return raw_sheet_of(name, grid, spec, serial_dates, None)
    header_row, _ = found
    headers = {c.header: c for c in spec.columns}
    picked = [
        (str(h).strip(), i)
        for i, h in enumerate(head[header_row])
        if isinstance(h, str) and h in headers
    ]
    body = grid[header_row + 1 :]
    columns = list(itertools.zip_longest(*body)) if body else []
    blank = (None,) * len(body)
    odd: dict[int, dict[int, object]] = {}
    try:
        arrays = []
        for j, (h, i) in enumerate(picked):
            cells = columns[i] if i < len(columns) else blank
            array, odd[j] = _settled(cells, headers[h].kind, serial_dates)
            arrays.append(array)
    except _Declined:  # an error cell, or mixed text dates: the careful reading says which
        if serial_dates:  # the columns as they are, not made again
            return RawSheet(name, *_by_columns(name, grid, spec, header_row, True, columns))
        return raw_sheet_of(name, grid, spec, serial_dates, header_row)
    return RawSheet(
        name,
        [],
        table=pa.Table.from_arrays(arrays, names=[h for h, _ in picked]),
        header_row=header_row,
        table_columns=picked,
        loader=lambda: _cells(name, grid, spec, serial_dates, header_row)[0],
        odd={j: cells for j, cells in odd.items() if cells},
    )


# The kinds of cell Office.js sends (blanks apart), as the workbook reader tells them apart.
_KINDS = {str: "text", int: "number", float: "number", bool: "flag"}
_FIRST_ON_A_TIE = ("text", "number", "flag")


def _settled(
    cells: Sequence[object], kind: str, serial_dates: bool
) -> tuple[pa.Array, dict[int, object]]:
    """One column typed (_typed), and its odd cells: where a column holds cells of several
    kinds (a text typed in a date column), it is typed by the kind most of its cells have
    and the others are set apart with their values, as the workbook reader does for a
    file, so a typo keeps the sheet on the typed-columns path (validation reads the odd
    cells one by one). Only range values (serial dates) are settled so."""
    try:
        return _typed(cells, kind, serial_dates), {}
    except _Declined:
        if not serial_dates:
            raise
    distinct = set(cells)
    distinct.discard(None)
    distinct.discard("")
    if distinct & ERROR_STRINGS or not set(map(type, distinct)) <= _KINDS.keys():
        raise _Declined from None  # an error cell: the careful reading reports it
    counts = Counter(_KINDS[type(v)] for v in cells if v is not None and v != "")
    major = max(_FIRST_ON_A_TIE, key=lambda k: (counts[k], -_FIRST_ON_A_TIE.index(k)))
    kept: list[object] = []
    odd: dict[int, object] = {}
    days: dict[object, object] = {}
    for i, v in enumerate(cells):
        if v is None or v == "" or _KINDS[type(v)] == major:
            kept.append(v)
            continue
        kept.append(None)
        if kind == "date" and _KINDS[type(v)] == "number":  # a serial, as a date
            if v not in days:
                days[v] = v
                with contextlib.suppress(CellError):
                    days[v] = serial_to_date(float(v))  # type: ignore[arg-type]
            v = days[v]
        odd[i] = v
    return _typed(kept, kind, serial_dates), odd


def _typed(cells: Sequence[object], kind: str, serial_dates: bool) -> pa.Array:
    """One column as an Arrow array typed like fastexcel's strict reading; _Mixed if not."""
    distinct = set(cells)
    empty_text = "" in distinct
    distinct.discard(None)
    distinct.discard("")
    kinds = set(map(type, distinct))
    if not kinds:
        return pa.nulls(len(cells), pa.string())
    # Blank cells ("" from Office.js, None in padding) as nulls.
    present = [None if v == "" else v for v in cells] if empty_text else cells
    if kinds == {str}:
        if distinct & ERROR_STRINGS:
            raise _Declined
        if kind == "date" and not serial_dates:
            if not all(_ISO_STAMP.match(v) for v in distinct):
                raise _Declined
            ms = {v: _iso_ms(v) for v in distinct}
            return pa.array([ms.get(v) for v in cells], pa.timestamp("ms"))
        return pa.array(present, pa.string())
    if kinds <= {int, float}:
        numbers = pa.array(present, pa.float64())
        if kind == "date" and serial_dates:
            # Serial days to milliseconds since 1970, rounded half to even as round() does.
            days = pc.subtract(numbers, float(_UNIX_EPOCH_SERIAL))
            ms = pc.round(pc.multiply(days, float(_MS_PER_DAY)), round_mode="half_to_even")
            return ms.cast(pa.int64()).cast(pa.timestamp("ms"))
        return numbers
    if kinds == {bool}:
        return pa.array(present, pa.bool_())
    raise _Declined


def _iso_ms(text: str) -> int:
    stamp = dt.datetime.fromisoformat(text.rstrip("Z"))
    return round((stamp - dt.datetime(1970, 1, 1)).total_seconds() * 1000)


def raw_sheet_of(
    name: str, grid: Grid, spec: Sheet, serial_dates: bool, header_row: int | None
) -> RawSheet:
    """The cell-by-cell form, for a sheet the columnar form does not take."""
    return RawSheet(name, *_cells(name, grid, spec, serial_dates, header_row))


def _blanks_and_errors(values: Grid) -> dict[tuple[int, int], str]:
    """Blank cells as "" and error cells taken out (as the workbook reader gives them), in
    place; returns the error cells. Rows without either, most of them, are only scanned."""
    errors: dict[tuple[int, int], str] = {}
    for r, row in enumerate(values):
        if None in row:
            row[:] = ["" if v is None else v for v in row]
        if not ERROR_STRINGS.isdisjoint(row):
            for c, v in enumerate(row):
                if isinstance(v, str) and v in ERROR_STRINGS:
                    errors[(r, c)] = v
                    row[c] = ""
    return errors


def _normalized(name: str, grid: Grid, spec: Sheet, serial_dates: bool, header: int | None) -> Grid:
    """Cells as Python values: ISO date text as datetimes (as xlwings reads them), and
    serial numbers as dates in the contract's date columns."""
    if not serial_dates:
        return [
            [
                dt.datetime.fromisoformat(v.rstrip("Z"))
                if isinstance(v, str) and _ISO_STAMP.match(v)
                else v
                for v in row
            ]
            for row in grid
        ]
    return _by_columns(name, grid, spec, header, blanks=False)[0]


def _cells(
    name: str, grid: Grid, spec: Sheet, serial_dates: bool, header: int | None
) -> tuple[Grid, dict[tuple[int, int], str]]:
    """Every cell as the workbook reader gives them (dates made, "" for blanks, error cells
    taken out), and the error cells."""
    if serial_dates:
        return _by_columns(name, grid, spec, header, blanks=True)
    values = _normalized(name, grid, spec, serial_dates, header)
    return values, _blanks_and_errors(values)


def _by_columns(
    name: str,
    grid: Grid,
    spec: Sheet,
    header: int | None,
    blanks: bool,
    columns: list[Any] | None = None,
) -> tuple[Grid, dict[tuple[int, int], str]]:
    """Office.js's range values (dates as serial numbers, never ISO text) with the contract's
    date columns as dates and, with `blanks`, blanks as "" and error cells taken out.
    Column by column: a column holds few distinct values, each judged once. `columns`: the
    body below the header already turned into columns, if it was."""
    if header is None:
        found = find_header(RawSheet(name, grid[:MAX_HEADER_SCAN]), spec)
        header = found[0] if found else -1
    head = [list(row) for row in grid[: header + 1]]
    errors = _blanks_and_errors(head) if blanks else {}
    body = grid[header + 1 :]
    dates = set(_date_columns(head, spec)) if head else set()
    if not body or not (dates or blanks):
        return head + [list(row) for row in body], errors
    if columns is None:
        columns = list(itertools.zip_longest(*body))  # short rows padded with blanks (None)
    for c, cells in enumerate(columns):
        distinct = set(cells)
        if c in dates:
            cells = columns[c] = _days(cells, distinct)
        if blanks and None in distinct:
            cells = columns[c] = ["" if v is None else v for v in cells]
        if blanks and not ERROR_STRINGS.isdisjoint(distinct):
            cells = columns[c] = list(cells)
            for r, v in enumerate(cells):
                if isinstance(v, str) and v in ERROR_STRINGS:
                    errors[(header + 1 + r, c)] = v
                    cells[r] = ""
    return head + [list(row) for row in zip(*columns, strict=True)], errors


def _days(cells: Sequence[object], distinct: set[object]) -> Sequence[object]:
    """A date column's serial numbers as dates; anything else as it is (an impossible serial
    stays a number: validation reports it at its cell)."""
    days: dict[object, dt.date] = {}
    for value in distinct:
        if type(value) is float or type(value) is int:  # never a bool: True would be 1
            with contextlib.suppress(CellError):
                days[value] = serial_to_date(float(value))
    # Only real serials (61 and up) are keys, so True and False (1, 0) never match one.
    return [days.get(v, v) for v in cells] if days else cells


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
        sheets[sheet.name] = grid_sheet(sheet.name, grid, serial_dates=True)
    # Sheets added in a later version may be left out (older workbooks lack them).
    missing = [n for n in needed if n not in sheets and not schema.SHEETS[n].added_later]
    if missing:
        raise TablesError(
            "pass these tables too: "
            + ", ".join(f"{schema.SHEETS[n].table}[#All]" for n in missing)
        )
    return sent_workbook(sheets)


# ---------------------------------------------------------------- evaluations


class EvaluationCache:
    """The last few evaluations by content, so STATUS, NEXT_ACTION and OVERDUE_COUNT over the
    same tables evaluate the caseload once between edits."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._items: OrderedDict[str, Evaluation] = OrderedDict()
        self._lock = threading.Lock()  # calls run in worker threads

    def get(self, ranges: Sequence[object], as_of: dt.date) -> Evaluation:
        return self.get_or_make(
            digest(ranges, as_of.toordinal()),
            lambda: evaluate_raw(workbook_from_ranges(ranges, sorted(READ_SHEETS)), as_of),
        )

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def get_or_make(self, key: str, make: Callable[[], Evaluation]) -> Evaluation:
        """The evaluation under this content key, made (outside the lock) if not kept."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        evaluation = make()
        with self._lock:
            self._items[key] = evaluation
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return evaluation


def digest(*content: object) -> str:
    """A key for exactly this content (cell values, dates): the same cells, the same key.

    Cells as Office.js sends them (numbers, text, booleans, None) go through marshal,
    seven times faster than pickle on a branch's tables; anything else through pickle."""
    try:
        data = b"m" + marshal.dumps(content)
    except ValueError:  # a date or another object marshal does not take
        data = b"p" + pickle.dumps(content, protocol=5)
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def sheet_values(sheet: Any) -> Grid:
    """A sheet's values from A1 to its last used cell, dates as datetimes, errors as text.

    Plain xlwings API, so it reads the book Office.js sent (xlwings Server) and an
    open workbook on the desktop (COM) alike.
    """
    last = sheet.used_range.last_cell
    cells = sheet.range((1, 1), (max(last.row, 1), max(last.column, 1)))
    return cells.options(ndim=2, err_to_str=True).value or [[None]]


# ---------------------------------------------------------------- the book a script gets


class SentBook:
    """The sheets' values a button's script reads, as Excel sent them, each sheet read once.

    From the task pane's upload (pyxl.excel.uploads: the sheets and columns the button
    declares, dates as serials), the book Office.js posts (xlwings Server: the JSON
    values themselves, no per-cell xlwings range objects) or, on the desktop, through
    xlwings' ranges.
    """

    def __init__(
        self,
        grids: dict[str, Any],
        serial_dates: bool,
        selected: list[str] | None = None,
        digest: str = "",
    ) -> None:
        self.grids = grids  # sheet name -> its cells from A1, or a function reading them
        self.serial_dates = serial_dates
        self.sent_digest = digest  # of the bytes as sent, when known (an upload)
        self.selected = selected  # the Case IDs on the selected rows, when the pane sent them
        self._raw: dict[str, RawSheet] = {}
        self._values: dict[str, Grid] = {}

    @classmethod
    def of(cls, book: Any) -> SentBook:
        sent = getattr(book.impl, "api", None)
        if isinstance(sent, dict) and isinstance(sent.get("sheets"), list):
            grids = {s["name"]: s["values"] for s in sent["sheets"] if s.get("values") != [[]]}
            return cls(grids, serial_dates=False)
        return cls({s.name: functools.partial(sheet_values, s) for s in book.sheets}, False)

    @property
    def names(self) -> set[str]:
        return set(self.grids)

    def _grid(self, name: str) -> Grid:
        grid = self.grids[name]
        if callable(grid):
            grid = self.grids[name] = grid()
        return grid

    def raw(self, names: Iterable[str], cases: Collection[str] | None = None) -> RawWorkbook:
        """The wanted sheets (those sent) in the columnar form the reader gives a file's;
        with `cases`, only those clients' rows of the client sheets (CASE_SHEETS)."""
        wanted = set(names) & self.names
        if cases is None:
            for name in wanted - set(self._raw):
                self._raw[name] = grid_sheet(name, self._grid(name), self.serial_dates)
            return sent_workbook({n: s for n, s in self._raw.items() if n in wanted})
        keys = {case_key(c) for c in cases}
        sheets = {
            n: grid_sheet(n, rows_of_cases(n, self._grid(n), keys), self.serial_dates)
            for n in wanted & CASE_SHEETS
        }
        sheets.update(self.raw(wanted - CASE_SHEETS).sheets)
        return sent_workbook(sheets)

    def key(
        self, names: Iterable[str], as_of: dt.date, cases: Collection[str] | None = None
    ) -> str:
        """A cache key for the wanted sheets as sent, the day and the clients read (None:
        all): the upload's digest of its bytes, else a digest of the cells."""
        chosen = None if cases is None else sorted({case_key(c) for c in cases})
        if self.sent_digest:
            return digest(self.sent_digest, sorted(set(names)), as_of.toordinal(), chosen)
        grids = [(n, self._grid(n)) for n in sorted(set(names) & self.names)]
        return digest(grids, as_of.toordinal(), chosen)

    def client_order(self) -> dict[str, int]:
        """Each Case ID on Clients (by `case_key`) -> its first row: the order the Due List
        breaks ties in."""
        if schema.CLIENTS.name not in self.names:
            return {}
        grid = self._grid(schema.CLIENTS.name)
        found = case_column(schema.CLIENTS.name, grid)
        if found is None:
            return {}
        header, column = found
        order: dict[str, int] = {}
        for r in range(header + 1, len(grid)):
            row = grid[r]
            if column < len(row) and row[column] not in (None, ""):
                order.setdefault(case_key(row[column]), r)
        return order

    def values(self, name: str) -> Grid:
        """One sheet's cells as Python values (dates as datetimes, blanks as None)."""
        if name not in self._values:
            spec = schema.SHEETS.get(name)
            grid = self._grid(name)
            if spec is not None and not any(c.required for c in spec.columns):
                spec = header_spec(spec)  # a computed sheet: found by its Case ID header
            if spec is not None:
                grid = _normalized(name, grid, spec, self.serial_dates, None)
            self._values[name] = [[None if v == "" else v for v in row] for row in grid]
        return self._values[name]
