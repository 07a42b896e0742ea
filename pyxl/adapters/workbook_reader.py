"""Read a caseload workbook's cells quickly and faithfully.

python-calamine (Rust) reads the values, about ten times faster than openpyxl
(performance.md 3). It shows Excel error cells (#N/A, #REF!, ...) as blanks,
which would hide a broken formula as "no date", so the sheet XML is also
scanned for error cells; merged ranges come from calamine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import io
import os
import re
import threading
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import python_calamine
from lxml import etree

from pyxl.adapters import package_bounds as bounds
from pyxl.adapters import speed
from pyxl.adapters.package_bounds import column_index, column_letter
from pyxl.errors import UserError

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_ERROR_CELL = re.compile(
    rb'<c r="([A-Z]+)([0-9]+)"[^>]*?t="e"[^>]*>(?:<f[^<]*(?:</f>)?)?<v>([^<]*)</v>'
)

T = TypeVar("T")


class WorkbookUnreadable(Exception):
    """The file is not a workbook pyxl can read (not xlsx/xlsm, damaged, encrypted).
    `advised`: the message already says what to do."""

    def __init__(self, message: str, *, advised: bool = False):
        super().__init__(message)
        self.advised = advised


@dataclass
class RawSheet:
    """A sheet's cell values from A1, with its error cells and merged ranges (0-based).

    A sheet read in the columnar form (`table`: every column below the header row, as
    fastexcel typed it) loads `values` only when asked (`cells()`), for the careful reading
    of a sheet the columnar reading declined.
    """

    name: str
    values: list[list[object]]
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    table: pa.Table | None = None
    header_row: int = 0  # 0-based sheet row of the table's headers
    table_columns: list[tuple[str, int]] = field(default_factory=list)  # header, 0-based column
    loader: Callable[[], list[list[object]]] | None = field(default=None, repr=False)
    stray: bounds.StrayCells | None = None  # values far beyond the sheet, left unread
    # Cells of another kind than their typed column (a text typed in a date column, a number
    # in a text column): table column -> table row -> the value python-calamine reads. The
    # table holds null there.
    odd: dict[int, dict[int, object]] = field(default_factory=dict)

    def cells(self) -> list[list[object]]:
        """Every cell value from A1, as python-calamine reads them ("" for blank)."""
        if self.loader is not None:
            self.values, self.loader = self.loader(), None
        return self.values

    def cell(self, row: int, column: int) -> object:
        """One cell's value (0-based), as `cells()` holds it, without reading every cell."""
        at = {absolute: j for j, (_, absolute) in enumerate(self.table_columns)}.get(column)
        i = row - self.header_row - 1
        if self.table is not None and at is not None and 0 <= i < self.table.num_rows:
            if i in self.odd.get(at, {}):
                return self.odd[at][i]
            with contextlib.suppress(Unsettled):
                return calamine_value(self.table.column(at)[i].as_py())
        values = self.cells()
        return values[row][column] if row < len(values) and column < len(values[row]) else ""

    def column_cells(self, j: int, rows: np.ndarray) -> list[object]:
        """Table column j's values on these table rows, as python-calamine reads them
        (Unsettled if that cannot be told exactly)."""
        column = self.table.column(j).combine_chunks()  # type: ignore[union-attr]
        column = column.take(pa.array(rows)) if len(rows) != len(column) else column
        if pa.types.is_null(column.type):
            values: list[object] = [""] * len(column)
        elif pa.types.is_timestamp(column.type):
            missing = np.asarray(column.is_null().to_numpy(zero_copy_only=False), bool)
            ms = pc.fill_null(column.cast(pa.timestamp("ms")).cast(pa.int64()), 0).to_numpy()
            present = ms[~missing]
            if len(present) and ((present % _MS_PER_DAY).any() or present.min() < _DAY_ONE_MS):
                raise Unsettled  # python-calamine keeps microseconds the typed column rounds
            # Days repeat: one date object per distinct day.
            days, at = np.unique(np.where(missing, _NO_DAY, ms // _MS_PER_DAY), return_inverse=True)
            made = [_EPOCH + dt.timedelta(days=d) if d != _NO_DAY else "" for d in days.tolist()]
            values = list(map(made.__getitem__, at.tolist()))
        elif pa.types.is_string(column.type) or pa.types.is_boolean(column.type):
            values = ["" if v is None else v for v in column.to_pylist()]
        elif pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
            values = ["" if v is None else v for v in column.cast(pa.float64()).to_pylist()]
        else:
            raise Unsettled
        odd = self.odd.get(j)
        if odd:
            at = np.searchsorted(rows, list(odd))
            for k, (i, value) in zip(at.tolist(), odd.items(), strict=True):
                if k < len(rows) and rows[k] == i:
                    values[k] = value
        return values

    def merged_cells(self) -> Iterator[tuple[int, int, str]]:
        """Every cell covered by a merge except its top-left one, with the range's address:
        those among the cells read (a merge may reach Excel's last row and column; past the
        cells read it covers nothing). WorkbookUnreadable if the merges overlap, which Excel
        does not allow (and which could make this list far longer than the sheet)."""
        values = self.cells()
        rows, columns = len(values), max(map(len, values), default=0)
        clipped: dict[tuple[tuple[int, int], tuple[int, int]], str] = {}
        for (r1, c1), (r2, c2) in self.merged:
            address = f"{column_letter(c1)}{r1 + 1}:{column_letter(c2)}{r2 + 1}"
            clipped[(r1, c1), (min(r2, rows - 1), min(c2, columns - 1))] = address
        area = sum(max(r2 - r1 + 1, 0) * max(c2 - c1 + 1, 0) for (r1, c1), (r2, c2) in clipped)
        if area > rows * columns:
            raise WorkbookUnreadable(
                f"not a readable .xlsx/.xlsm workbook (sheet {self.name!r}: its merged cells "
                "overlap, which Excel does not allow); open it in Excel and save a copy"
            )
        for ((r1, c1), (r2, c2)), address in clipped.items():
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    if (r, c) != (r1, c1):
                        yield r, c, address


class RawWorkbook:
    """The sheets read from a workbook. A workbook still being read (by `read_raw`) hands out
    its sheets as they arrive (`arrivals`), so they can be checked while others are read."""

    def __init__(
        self,
        sheets: dict[str, RawSheet],
        date1904: bool,
        sheet_parts: dict[str, str],  # sheet name -> zip member (xl/worksheets/sheetN.xml)
        coming: Iterator[RawSheet] | None = None,
    ):
        self.arrived = dict(sheets)
        self.date1904 = date1904
        self.sheet_parts = sheet_parts
        self.coming = coming

    def arrivals(self) -> Iterator[RawSheet]:
        """Every sheet: those already read, then each of the others as soon as it is read."""
        yield from list(self.arrived.values())
        while self.coming is not None:
            sheet = next(self.coming, None)
            if sheet is None:
                self.coming = None
                return
            self.arrived[sheet.name] = sheet
            yield sheet

    @property
    def sheets(self) -> dict[str, RawSheet]:
        """Every sheet, once all are read."""
        for _ in self.arrivals():
            pass
        return self.arrived


def check_member(archive: zipfile.ZipFile, name: str) -> None:
    """Inflate a member a piece at a time and check its CRC-32 (zipfile.BadZipFile if it does
    not match), like ZipFile.testzip does for one member."""
    for _ in speed.inflated(archive, name):
        pass


# An OLE compound file rather than a zip: a workbook protected with a password (the zip is
# inside, encrypted, as the stream "EncryptedPackage"), or an Excel 97-2003 .xls.
_COMPOUND_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")


def not_a_workbook(data: bytes, exc: Exception) -> WorkbookUnreadable:
    """Why `data` cannot be read as a workbook, saying what to do where that is known."""
    if data.startswith(_COMPOUND_FILE):
        if _ENCRYPTED in data:
            return WorkbookUnreadable(
                "it is protected with a password, which pyxl cannot open: in Excel, clear the "
                "password (File > Info > Protect Workbook > Encrypt with Password) and save it",
                advised=True,
            )
        return WorkbookUnreadable(
            "it is an Excel 97-2003 workbook (.xls), which pyxl does not read: open it in "
            "Excel and save it with Save As, choosing Excel Workbook (*.xlsx)",
            advised=True,
        )
    return WorkbookUnreadable(f"not a readable .xlsx/.xlsm workbook ({exc})")


# Excel's "Strict Open XML Spreadsheet" (an .xlsx too) names its parts' XML otherwise.
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"


def sheet_parts(archive: zipfile.ZipFile) -> tuple[dict[str, str], bool]:
    """Map sheet names to their XML parts, and tell whether the 1904 date system is used."""
    book_xml = archive.read("xl/workbook.xml")
    rels_xml = archive.read("xl/_rels/workbook.xml.rels")
    bounds.refuse_doctype(book_xml, "xl/workbook.xml")
    bounds.refuse_doctype(rels_xml, "xl/_rels/workbook.xml.rels")
    safe = etree.XMLParser(resolve_entities=False, no_network=True)  # one per call: threads
    book = etree.fromstring(book_xml, safe)
    if etree.QName(book).namespace == STRICT_MAIN:  # not read as Excel reads it: refused
        raise WorkbookUnreadable(
            "it is saved as a Strict Open XML Spreadsheet, which pyxl does not read: open it in "
            "Excel and save it with Save As, choosing Excel Workbook (*.xlsx)",
            advised=True,
        )
    rels = etree.fromstring(rels_xml, safe)
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", NS)}
    parts = {}
    for sheet in book.findall("m:sheets/m:sheet", NS):
        target = targets[sheet.get(f"{{{NS['r']}}}id")]
        path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl", target))
        parts[sheet.get("name")] = path
    pr = book.find("m:workbookPr", NS)
    date1904 = pr is not None and pr.get("date1904") in {"1", "true"}
    return parts, date1904


def read_raw(data: bytes, names: set[str], columnar: int = 0) -> RawWorkbook:
    """Read the named sheets (those present) from workbook bytes.

    Sheets whose tables have their headers on 0-based row `columnar` (0: none) are read, on
    the fast path (speed.py), in the columnar form with fastexcel, which is twice as fast as
    python-calamine and makes no Python object per cell; a sheet it cannot type cleanly
    (mixed kinds in a column), and every sheet on the plain path, is read by python-calamine.
    A thread per core reads the sheets, biggest first: fastexcel and inflating run without
    the GIL, so sheets arrive while the others are still read.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        bounds.check_members(archive)
        parts, date1904 = sheet_parts(archive)
        bounds.check_shared_strings(archive)
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, *speed.ZLIB_ERRORS) as exc:
        raise not_a_workbook(data, exc) from exc
    present = sorted(
        (n for n in names & set(parts) if parts[n] in archive.NameToInfo),
        key=lambda n: archive.getinfo(parts[n]).file_size,
        reverse=True,
    )
    reader = _SheetReader(data, columnar)
    pool = ThreadPoolExecutor(max_workers=max(min(len(present), _cores(), MAX_READERS), 1))
    futures = [pool.submit(reader.read, name, parts[name]) for name in present]
    return RawWorkbook({}, date1904, parts, _arriving(pool, futures))


# Each reading thread parses the shared strings for itself; past a few threads the biggest sheet
# (Contacts: a third to a half of the work) sets the pace, and more threads only cost memory.
MAX_READERS = 4


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _arriving(pool: ThreadPoolExecutor, futures: list[Future[RawSheet]]) -> Iterator[RawSheet]:
    try:
        for future in as_completed(futures):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class _SheetReader:
    """Reads a sheet per call, in any thread. Each thread keeps its own zip file, fastexcel
    and python-calamine readers (none of them may be shared between threads); opening a
    reader parses the shared strings, so each is opened only when first needed."""

    def __init__(self, data: bytes, columnar: int, plain: bool = False):
        self.data = data
        self.columnar = columnar
        self.plain = plain  # a copy whose positions pyxl wrote plainly: not rewritten again
        self.local = threading.local()

    def _own(self, kind: str, make: Callable[[], T]) -> T:
        value = getattr(self.local, kind, None)
        if value is None:
            value = make()
            setattr(self.local, kind, value)
        return value

    def _calamine(self) -> python_calamine.CalamineWorkbook:
        return self._own(
            "calamine",
            lambda: python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(self.data)),
        )

    def _typed(self) -> speed.TypedColumns | None:
        return speed.TypedColumns.open(self.data)

    def _cells(self, name: str) -> list[list[object]]:
        return self._calamine().get_sheet_by_name(name).to_python(skip_empty_area=False)

    def read(self, name: str, part: str) -> RawSheet:
        try:
            archive = self._own("archive", lambda: zipfile.ZipFile(io.BytesIO(self.data)))
            errors, merged, headers, extent, booleans = _scan(
                archive, part, self.columnar + 1, name, self.plain
            )
            extent.check_rows(name)
            if extent.odd:  # read a copy with its positions written plainly (rare)
                plain = bounds.plain_positions(self.data, part)
                return _SheetReader(plain, self.columnar, plain=True).read(name, part)
            stray = _stray(name, self.data, archive, part, extent)
            if stray is not None:  # read from a copy without the stray cells (rare)
                sheet = _SheetReader(stray[1], self.columnar, self.plain).read(name, part)
                sheet.stray = stray[0]
                return sheet
            typed = self._own("typed", self._typed) if self.columnar else None
            if typed is not None:
                found = typed.table(name, self.columnar, headers)
                settled = (
                    _settle_mixed(archive, part, *found, self.columnar, booleans) if found else None
                )
                if found is not None and settled is not None:
                    return RawSheet(
                        name,
                        [],
                        errors,
                        merged,
                        table=settled[0],
                        header_row=self.columnar,
                        table_columns=found[1],
                        loader=lambda: self._cells(name),
                        odd=settled[1],
                    )
            sheet = self._calamine().get_sheet_by_name(name)
            cells = sheet.to_python(skip_empty_area=False)
            return RawSheet(name, cells, errors, list(sheet.merged_cell_ranges or []))
        except UserError:
            raise
        except Exception as exc:  # zipfile, zlib, fastexcel and calamine have their own errors
            raise WorkbookUnreadable(
                f"not a readable .xlsx/.xlsm workbook (sheet {name!r}: {exc})"
            ) from exc


def parsable(data: bytes, sheet: str) -> bytes:
    """The workbook as the parsers may read `sheet` of it whole (fastexcel, calamine): `data`,
    or a copy with its positions written plainly and without its stray cells."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    part = sheet_parts(archive)[0][sheet]
    extent = _scan(archive, part, 1, sheet)[3]
    if extent.odd:
        data = bounds.plain_positions(data, part)
        archive = zipfile.ZipFile(io.BytesIO(data))
        extent = _scan(archive, part, 1, sheet, plain=True)[3]
    extent.check_rows(sheet)
    stray = _stray(sheet, data, archive, part, extent)
    return data if stray is None else stray[1]


def _stray(
    name: str, data: bytes, archive: zipfile.ZipFile, part: str, extent: bounds.SheetExtent
) -> tuple[bounds.StrayCells, bytes] | None:
    """The stray cells of a sheet and a copy of the workbook without them, if it has any."""
    rows = bounds.stray_rows(speed.inflated(archive, part)) if extent.maybe_far_rows() else None
    columns = extent.stray_columns(rows[0] if rows else None)
    if columns is None and rows is None:
        return None
    cells = list(dict.fromkeys([*(columns[1] if columns else []), *(rows[1] if rows else [])]))
    ends = f"row {rows[0]}" if rows is not None else ""
    found = bounds.StrayCells(name, cells[0], len(cells), ends)
    clean = bounds.without_cells(
        data,
        part,
        columns[0] + 1 if columns else None,
        rows[0] if rows else None,
    )
    return found, clean


_CELL_CONTENT = re.compile(rb'<c r="([A-Z]+)[0-9]+"[^>]*?(?:/>|>(.*?)</c>)', re.S)
_FILLED = re.compile(rb"<v>[^<]|<t(?: [^>]*)?>[^<]")


def _header_columns(xml: bytes, row: int) -> set[int] | None:
    """The 0-based columns of the cells with something in them on a row (1-based)."""
    start = xml.find(b'<row r="%d"' % row)
    if start < 0:
        return None
    body = xml[start : xml.find(b"</row>", start)]
    return {
        column_index(m[1].decode())
        for m in _CELL_CONTENT.finditer(body)
        if m[2] and _FILLED.search(m[2])
    }


_MERGE = re.compile(rb'<mergeCell ref="([A-Z]+)([0-9]+)(?::([A-Z]+)([0-9]+))?"')


Scan = tuple[
    dict[tuple[int, int], str],  # error cells: (row, column) -> #N/A, #REF!, ... (0-based)
    list[tuple[tuple[int, int], tuple[int, int]]],  # merged ranges, 0-based
    set[int] | None,  # the filled cells' columns on the header row (None: no such row)
    bounds.SheetExtent,  # its rows and the values far to the right
    bool,  # it has TRUE/FALSE cells
]


def _scan(
    archive: zipfile.ZipFile, part: str, header_row: int, name: str = "", plain: bool = False
) -> Scan:
    """A sheet's error cells, merged ranges, header cells (`header_row` is 1-based) and
    extent, read from its XML a piece at a time: a big sheet's hundreds of megabytes are
    never all in memory, and are inflated with ISA-L, never past their declared size, and
    CRC-checked. `plain`: the sheet is pyxl's copy with its positions written plainly."""
    errors: dict[tuple[int, int], str] = {}
    headers: set[int] | None = None
    extent = bounds.SheetExtent(plain=plain)
    booleans = False
    rows = b""
    for rows in bounds.row_blocks(speed.inflated(archive, part)):
        if not extent.rows:
            bounds.refuse_doctype(rows, part, name)
        extent.note(rows)
        # Rows hold no "e", "f" or "b" unless an error cell, a formula, a TRUE/FALSE cell (or
        # text) is there:
        # looking for one letter (memchr) first spares a slower search over most blocks.
        if b"e" in rows and b't="e"' in rows:
            errors.update(_error_cells(rows))
        if b"f" in rows and b"<f" in rows:
            errors.update(_uncalculated_formulas(rows))
        if headers is None:
            headers = _header_columns(rows, header_row)
        booleans = booleans or (b"b" in rows and b't="b"' in rows)
    return errors, _merged_ranges(rows), headers, extent, booleans


# A cell holding a formula and no saved value (a file written by a program that does not
# calculate): the readers show it blank, which would hide `=TODAY()` as "required but blank".
_UNCALCULATED = re.compile(
    rb'<c r="([A-Z]+)([0-9]+)"[^>]*?>(?:<f[^>]*?/>|<f[^>]*>([^<]*)</f>)(?:<v\s*/>|<v></v>)?</c>'
)


def _uncalculated_formulas(xml: bytes) -> dict[tuple[int, int], str]:
    """(row, column) -> "=FORMULA" (0-based) of each formula cell with no saved value."""
    return {
        (int(row) - 1, column_index(letters.decode())): "=" + html.unescape(text.decode())
        for letters, row, text in _UNCALCULATED.findall(xml)
    }


def _error_cells(xml: bytes) -> dict[tuple[int, int], str]:
    return {
        (int(row) - 1, column_index(letters.decode())): text.decode()
        for letters, row, text in _ERROR_CELL.findall(xml)
    }


def _merged_ranges(xml: bytes) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    merged = []
    at = xml.rfind(b"<mergeCells")
    if at >= 0:
        for c1, r1, c2, r2 in _MERGE.findall(xml, at):
            first = (int(r1) - 1, column_index(c1.decode()))
            last = (int(r2 or r1) - 1, column_index((c2 or c1).decode()))
            merged.append((first, last))
    return merged


# ---------------------------------------------------------------- columns of mixed kinds

# How the lenient load shows a cell that is not text in a text column: a number ("2", "-3.5"),
# a date ("2026-01-05 00:00:00"), TRUE/FALSE. A text cell may read the same ("97201"): the
# sheet's XML tells which cells are text.
_NUMBER = r"-?[0-9]+(?:\.[0-9]+)?"
_MIDNIGHT = r"[0-9]{4}-[0-9]{2}-[0-9]{2} 00:00:00"
_RENDERED = rf"^(?:{_NUMBER}|[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}} [0-9:.]+|true|false)$"
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_EXCEL_DAY_ONE = dt.date(1900, 3, 1)  # before it, Excel's serials and the readers disagree
_MS_PER_DAY = 86_400_000
_EPOCH = dt.date(1970, 1, 1)
_DAY_ONE_MS = (_EXCEL_DAY_ONE - _EPOCH).days * _MS_PER_DAY
_NO_DAY = -(10**9)  # a blank cell among the day numbers


class Unsettled(Exception):
    """A typed cell pyxl cannot give exactly as python-calamine reads it: the sheet is read
    cell by cell."""


def calamine_value(value: object) -> object:
    """A typed cell's value as python-calamine reads it ("" for blank, numbers as floats, a
    date at midnight as a date)."""
    if value is None:
        return ""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        if value.time() != dt.time() or value.date() < _EXCEL_DAY_ONE:
            raise Unsettled  # python-calamine keeps microseconds the typed column rounds
        return value.date()
    raise Unsettled


def _settle_mixed(
    archive: zipfile.ZipFile,
    part: str,
    table: pa.Table,
    columns: list[tuple[str, int]],
    header_row: int,
    booleans: bool,
) -> tuple[pa.Table, dict[int, dict[int, object]]] | None:
    """The leniently loaded table with each text column of mixed kinds settled: typed by the
    kind most of its cells have, the others set apart as odd cells with the values
    python-calamine reads; None if that cannot be told exactly."""
    suspects = [
        j
        for j, col in enumerate(table.columns)
        if pa.types.is_string(col.type) and _may_render(col)
    ]
    # TRUE/FALSE among numbers come as 1 and 0: only in a sheet that has TRUE/FALSE cells (the
    # scan says), a number column holding 1 or 0 may hide one.
    flags = [
        j
        for j, col in enumerate(table.columns)
        if booleans
        and (pa.types.is_floating(col.type) or pa.types.is_integer(col.type))
        and pc.any(pc.is_in(col, pa.array([0, 1], col.type))).as_py()
    ]
    if not suspects and not flags:
        return table, {}
    xml = speed.read_member(archive, part)
    first = xml.find(b"<c ", xml.find(b"<sheetData"))
    if xml[first : first + 6] != b'<c r="':
        return None  # cells written without their address cannot be told apart
    odd: dict[int, dict[int, object]] = {}
    try:
        for j in flags:
            found = _booleans(xml, column_letter(columns[j][1]), header_row, table.num_rows)
            if found:
                hidden = np.zeros(table.num_rows, bool)
                hidden[list(found)] = True
                column = pc.if_else(
                    pa.array(hidden), pa.scalar(None, table.field(j).type), table.column(j)
                )
                table, odd[j] = table.set_column(j, table.field(j), column), found
        for j in suspects:
            mixed = _Column(xml, column_letter(columns[j][1]), header_row, table.column(j))
            if mixed.mixed:
                typed, odd[j] = mixed.settled()
                table = table.set_column(j, table.field(j).with_type(typed.type), typed)
    except Unsettled:
        return None
    return table, odd


def _may_render(col: pa.ChunkedArray) -> bool:
    """Whether some value of a text column reads like a number, a date or TRUE/FALSE (each
    begins with a digit, "-", "t" or "f"). Case IDs, names and list values begin with a
    capital letter: when the smallest and the largest value both do, every value does, and
    the column's distinct values need not be made."""
    extremes = pc.min_max(col)
    low, high = extremes["min"].as_py(), extremes["max"].as_py()
    if low is None or (low >= "A" and high < "["):
        return False
    return pc.any(pc.match_substring_regex(pc.unique(col), _RENDERED)).as_py()


def _booleans(xml: bytes, letters: str, header_row: int, n: int) -> dict[int, object]:
    """Table row -> True/False of the column's TRUE/FALSE cells."""
    cells = re.compile(
        rb'<c r="%b([0-9]+)"[^>]*?t="b"[^>]*?(?:/>|>(.*?)</c>)' % letters.encode(), re.S
    )
    out: dict[int, object] = {}
    for m in cells.finditer(xml):
        i = int(m[1]) - header_row - 2
        value = _VALUE.search(m[2] or b"")
        if 0 <= i < n and value is not None:
            out[i] = value[1] == b"1"
    return out


class _Column:
    """A leniently loaded text column and the kinds of its cells, from the sheet's XML."""

    def __init__(self, xml: bytes, letters: str, header_row: int, rendered: pa.ChunkedArray):
        self.xml, self.letters, self.first = xml, letters.encode(), header_row + 2
        self.rendered = rendered.combine_chunks()
        self.encoded = pc.dictionary_encode(self.rendered)
        n = len(self.rendered)
        self.codes = pc.fill_null(self.encoded.indices, len(self.encoded.dictionary)).to_numpy()
        filled = ~np.asarray(self.rendered.is_null().to_numpy(zero_copy_only=False), bool)
        text = np.zeros(n, bool)
        cells = re.compile(rb'<c r="%b([0-9]+)"[^>]*?t="(?:s|str|inlineStr)"' % self.letters)
        for m in cells.finditer(xml):
            i = int(m[1]) - self.first
            if 0 <= i < n:
                text[i] = True
        self.text = text & filled
        other = filled & ~text
        self.mixed = bool(other.any())
        self.date = other & self._matches(rf"^{_MIDNIGHT}$")
        self.number = other & self._matches(rf"^{_NUMBER}$")
        if (other & ~self.date & ~self.number).any():
            raise Unsettled  # TRUE/FALSE, a time of day, an error: read cell by cell
        if self.date.any() and pc.min(self.rendered.filter(self.date)).as_py() < "1900-03-01":
            raise Unsettled

    def _matches(self, pattern: str) -> np.ndarray:
        """Per cell: does what the load shows match? (Judged once per distinct value.)"""
        words = self.encoded.dictionary
        found = pc.match_substring_regex(words, pattern).to_numpy(zero_copy_only=False)
        return np.append(found, False)[self.codes]

    def _numbers(self, rows: np.ndarray) -> dict[int, float]:
        """The stored numbers of these rows (the shown ones may be rounded)."""
        wanted = set(np.flatnonzero(rows).tolist())
        cells = re.compile(rb'<c r="%b([0-9]+)"[^>]*?(?:/>|>(.*?)</c>)' % self.letters, re.S)
        out = {}
        for m in cells.finditer(self.xml):
            i = int(m[1]) - self.first
            if i in wanted:
                value = _VALUE.search(m[2] or b"")
                if value is None:
                    raise Unsettled
                out[i] = float(value[1])
        if len(out) != len(wanted):
            raise Unsettled
        return out

    def _dates(self, rows: np.ndarray) -> dict[int, dt.date]:
        shown = self.rendered.to_pylist()
        return {i: dt.date.fromisoformat(shown[i][:10]) for i in np.flatnonzero(rows).tolist()}

    def settled(self) -> tuple[pa.Array, dict[int, object]]:
        """The column typed by the kind most of its cells have; the other cells, odd."""
        counts = {"text": self.text.sum(), "date": self.date.sum(), "number": self.number.sum()}
        major = max(counts, key=counts.__getitem__)  # text first on a tie: stays as it is
        odd: dict[int, object] = {}
        if major != "text":
            shown = self.rendered.to_pylist()
            odd.update((i, shown[i]) for i in np.flatnonzero(self.text).tolist())
        if major != "date":
            odd.update(self._dates(self.date))
        if major != "number" and self.number.any():
            odd.update(self._numbers(self.number))
        if major == "text":
            typed = pc.if_else(pa.array(self.text), self.rendered, pa.scalar(None, pa.string()))
        elif major == "date":
            words = self.encoded.dictionary
            days = pc.strptime(words, "%Y-%m-%d %H:%M:%S", "ms", error_is_null=True)
            days = pc.take(days, pa.array(np.where(self.date, self.codes, len(words) - 1)))
            typed = pc.if_else(pa.array(self.date), days, pa.scalar(None, days.type))
        else:
            numbers = self._numbers(self.number)
            typed = pa.array([numbers.get(i) for i in range(len(self.rendered))], pa.float64())
        return typed, odd
