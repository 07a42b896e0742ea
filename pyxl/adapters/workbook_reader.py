"""Read a caseload workbook's cells quickly and faithfully.

python-calamine (Rust) reads the values, about ten times faster than openpyxl
(performance.md 3). It shows Excel error cells (#N/A, #REF!, ...) as blanks,
which would hide a broken formula as "no date", so the sheet XML is also
scanned for error cells; merged ranges come from calamine.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import re
import struct
import threading
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import PurePosixPath

import fastexcel
import pyarrow as pa
import python_calamine
from isal import isal_zlib
from lxml import etree

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_ERROR_CELL = re.compile(
    rb'<c r="([A-Z]+)([0-9]+)"[^>]*?t="e"[^>]*>(?:<f[^<]*(?:</f>)?)?<v>([^<]*)</v>'
)


# fastexcel logs a warning for every column it types as text for want of values: that is
# expected here (blank optional columns), and not for the user's terminal.
logging.getLogger("fastexcel").setLevel(logging.ERROR)


# Below this much compressed sheet XML, a helper process costs more than it saves.
HELPER_FROM_BYTES = 8_000_000


class WorkbookUnreadable(Exception):
    """The file is not a workbook pyxl can read (not xlsx/xlsm, damaged, encrypted)."""


def column_letter(index: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


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

    def cells(self) -> list[list[object]]:
        """Every cell value from A1, as python-calamine reads them ("" for blank)."""
        if self.loader is not None:
            self.values, self.loader = self.loader(), None
        return self.values

    def merged_cells(self) -> Iterator[tuple[int, int, str]]:
        """Every cell covered by a merge except its top-left one, with the range's address."""
        for (r1, c1), (r2, c2) in self.merged:
            address = f"{column_letter(c1)}{r1 + 1}:{column_letter(c2)}{r2 + 1}"
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    if (r, c) != (r1, c1):
                        yield r, c, address


@dataclass
class RawWorkbook:
    sheets: dict[str, RawSheet]
    date1904: bool
    sheet_parts: dict[str, str]  # sheet name -> zip member (xl/worksheets/sheetN.xml)


def compressed_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes as stored (compressed), read past its local header."""
    fp = archive.fp
    assert fp is not None
    fp.seek(info.header_offset)
    header = fp.read(zipfile.sizeFileHeader)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    fp.seek(info.header_offset + zipfile.sizeFileHeader + name_length + extra_length)
    return fp.read(info.compress_size)


def read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """A member's content, like ZipFile.read (CRC checked), inflated with ISA-L: about twice
    as fast as zlib on the hundreds of megabytes of a big workbook's sheets."""
    info = archive.getinfo(name)
    if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 0x1:
        return archive.read(name)  # stored, encrypted or another method: zipfile's way
    data = isal_zlib.decompress(compressed_member(archive, info), -15)
    if isal_zlib.crc32(data) != info.CRC or len(data) != info.file_size:
        raise zipfile.BadZipFile(f"bad CRC-32 for file {name!r}")
    return data


def sheet_parts(archive: zipfile.ZipFile) -> tuple[dict[str, str], bool]:
    """Map sheet names to their XML parts, and tell whether the 1904 date system is used."""
    book = etree.fromstring(archive.read("xl/workbook.xml"))
    rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", NS)}
    parts = {}
    for sheet in book.findall("m:sheets/m:sheet", NS):
        target = targets[sheet.get(f"{{{NS['r']}}}id")]
        path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl", target))
        parts[sheet.get("name")] = path
    pr = book.find("m:workbookPr", NS)
    date1904 = pr is not None and pr.get("date1904") in {"1", "true"}
    return parts, date1904


def read_raw(
    data: bytes, names: set[str], columnar: int = 0, helper_from: int = HELPER_FROM_BYTES
) -> RawWorkbook:
    """Read the named sheets (those present) from workbook bytes.

    Sheets whose tables have their headers on 0-based row `columnar` (0: none) are read in
    the columnar form with fastexcel, which is twice as fast as python-calamine and makes no
    Python object per cell; a sheet it cannot type cleanly (mixed kinds in a column) is read
    by python-calamine as before. A big workbook's sheets are typed by two processes at once
    (from `helper_from` bytes of compressed sheets).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts, date1904 = sheet_parts(archive)
        typed = fastexcel.read_excel(data) if columnar else None
        # python-calamine reads what the columnar reading does not take; opening it parses the
        # shared strings, so a workbook read wholly in columns does not open it at all.
        book = _Lazy(lambda: python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)))
        names_present = typed.sheet_names if typed is not None else book().sheet_names
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError) as exc:
        raise WorkbookUnreadable(f"not a readable .xlsx/.xlsm workbook ({exc})") from exc
    except Exception as exc:  # calamine and fastexcel raise their own error types
        raise WorkbookUnreadable(f"not a readable .xlsx/.xlsm workbook ({exc})") from exc
    present = names & set(names_present)
    ordered = sorted(present)
    helped = _split_for_helper(archive, parts, ordered, helper_from) if typed is not None else []
    helper = _Helper(data, helped, columnar) if helped else None  # forked before any thread
    # The scan for error cells and merged ranges inflates each sheet's XML again: inflating
    # runs without the GIL, so it goes in a thread beside the parsing (on its own file object).
    scan_archive = zipfile.ZipFile(io.BytesIO(data))
    with ThreadPoolExecutor(max_workers=1) as pool:
        scans = {
            name: pool.submit(_scan, scan_archive, parts[name])
            for name in sorted(present)
            if name in parts
        }
        sheets: dict[str, RawSheet] = {}
        try:
            typed_here = {
                name: _typed_table(typed, name, columnar)
                for name in ordered
                if typed is not None and name not in helped
            }
        finally:
            typed_there = helper.results() if helper is not None else {}
        for name in ordered:
            if name in helped and name not in typed_there and typed is not None:
                typed_there[name] = _typed_table(typed, name, columnar)
            found = typed_here.get(name) or typed_there.get(name)
            raw = _columnar_sheet(name, found, book, columnar)
            if raw is None:
                sheet = book().get_sheet_by_name(name)
                raw = RawSheet(name, sheet.to_python(skip_empty_area=False))
                raw.merged = list(sheet.merged_cell_ranges or [])
            sheets[name] = raw
        for name, scan in scans.items():
            sheets[name].errors, merged = scan.result()
            if sheets[name].table is not None:
                sheets[name].merged = merged
    return RawWorkbook(sheets, date1904, parts)


class _Lazy:
    """A value made on first call."""

    def __init__(self, make: Callable[[], python_calamine.CalamineWorkbook]):
        self.make = make
        self.value: python_calamine.CalamineWorkbook | None = None

    def __call__(self) -> python_calamine.CalamineWorkbook:
        if self.value is None:
            self.value = self.make()
        return self.value


def _typed_table(
    typed: fastexcel.ExcelReader, name: str, header: int
) -> tuple[pa.Table, list[tuple[str, int]]] | None:
    """A sheet's columns below its header row as fastexcel types them, with each column's
    header and 0-based position; None when a column mixes kinds."""
    try:
        sheet = typed.load_sheet(
            name, header_row=header, dtype_coercion="strict", schema_sample_rows=None
        )
        table = sheet.to_arrow()
    except Exception:  # a column of mixed kinds, or anything fastexcel cannot type
        return None
    return table, [(c.name, c.absolute_index) for c in sheet.selected_columns]


def _columnar_sheet(
    name: str, typed: tuple[pa.Table, list[tuple[str, int]]] | None, book: _Lazy, header: int
) -> RawSheet | None:
    if typed is None:
        return None
    table, columns = typed
    return RawSheet(
        name,
        [],
        table=table,
        header_row=header,
        table_columns=columns,
        loader=lambda: book().get_sheet_by_name(name).to_python(skip_empty_area=False),
    )


# ---------------------------------------------------------------- a second process


def _split_for_helper(
    archive: zipfile.ZipFile, parts: dict[str, str], names: list[str], helper_from: int
) -> list[str]:
    """The sheets a helper process should type: about half the work, by compressed size;
    none when the workbook is small, or this platform cannot fork, or other threads run."""
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return []  # no fork here, or forking would copy other threads' locks mid-use
    sizes = {n: archive.getinfo(parts[n]).compress_size for n in names if n in parts}
    if sum(sizes.values()) < helper_from:
        return []
    mine, theirs, load = [], [], [0, 0]
    for name in sorted(sizes, key=sizes.__getitem__, reverse=True):
        side = 0 if load[0] <= load[1] else 1
        load[side] += sizes[name]
        (mine if side == 0 else theirs).append(name)
    return theirs


def _helper(data: bytes, names: list[str], header: int, conn: Connection) -> None:
    """In the helper process: type each sheet, then send them all back as Arrow IPC streams
    (at the end, in one message: a send blocks until this process's parent reads it, and the
    parent reads only once its own sheets are typed)."""
    typed = fastexcel.read_excel(data)
    results: list[tuple[str, list[tuple[str, int]] | None, bytes]] = []
    for name in names:
        result = _typed_table(typed, name, header)
        if result is None:
            results.append((name, None, b""))
            continue
        table, columns = result
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write(table)
        results.append((name, columns, sink.getvalue().to_pybytes()))
    conn.send(results)
    conn.close()


class _Helper:
    """A forked process typing some sheets while this one types the others (fastexcel holds
    the GIL, so threads would not help); whatever it fails to deliver is typed here."""

    def __init__(self, data: bytes, names: list[str], header: int):
        self.names = names
        context = multiprocessing.get_context("fork")
        self.conn, theirs = context.Pipe(duplex=False)
        self.process = context.Process(target=_helper, args=(data, names, header, theirs))
        self.process.start()
        theirs.close()

    def results(self) -> dict[str, tuple[pa.Table, list[tuple[str, int]]] | None]:
        out: dict[str, tuple[pa.Table, list[tuple[str, int]]] | None] = {}
        try:
            for name, columns, stream in self.conn.recv():
                if columns is not None:
                    out[name] = pa.ipc.open_stream(stream).read_all(), columns
                else:
                    out[name] = None
        except (EOFError, OSError):
            pass  # the helper died: the sheets it did not send are typed here
        finally:
            self.conn.close()
            self.process.join()
        return out


_MERGE = re.compile(rb'<mergeCell ref="([A-Z]+)([0-9]+)(?::([A-Z]+)([0-9]+))?"')


def _scan(
    archive: zipfile.ZipFile, part: str
) -> tuple[dict[tuple[int, int], str], list[tuple[tuple[int, int], tuple[int, int]]]]:
    """Error cells ((row, column) -> #N/A, #REF!, ...) and merged ranges of a sheet, 0-based."""
    xml = read_member(archive, part)
    errors = {}
    if b't="e"' in xml:
        errors = {
            (int(row) - 1, column_index(letters.decode())): text.decode()
            for letters, row, text in _ERROR_CELL.findall(xml)
        }
    merged = []
    at = xml.rfind(b"<mergeCells")
    if at >= 0:
        for c1, r1, c2, r2 in _MERGE.findall(xml, at):
            first = (int(r1) - 1, column_index(c1.decode()))
            last = (int(r2 or r1) - 1, column_index((c2 or c1).decode()))
            merged.append((first, last))
    return errors, merged
