"""Read a caseload workbook's cells quickly and faithfully.

python-calamine (Rust) reads the values, about ten times faster than openpyxl
(performance.md 3). It shows Excel error cells (#N/A, #REF!, ...) as blanks,
which would hide a broken formula as "no date", so the sheet XML is also
scanned for error cells; merged ranges come from calamine.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import python_calamine
from lxml import etree

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_ERROR_CELL = re.compile(
    rb'<c r="([A-Z]+)([0-9]+)"[^>]*?t="e"[^>]*>(?:<f[^<]*(?:</f>)?)?<v>([^<]*)</v>'
)


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
    """A sheet's cell values from A1, with its error cells and merged ranges (0-based)."""

    name: str
    values: list[list[object]]
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)

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


def read_raw(data: bytes, names: set[str]) -> RawWorkbook:
    """Read the named sheets (those present) from workbook bytes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts, date1904 = sheet_parts(archive)
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError) as exc:
        raise WorkbookUnreadable(f"not a readable .xlsx/.xlsm workbook ({exc})") from exc
    except Exception as exc:  # calamine raises its own error types
        raise WorkbookUnreadable(f"not a readable .xlsx/.xlsm workbook ({exc})") from exc
    sheets = {}
    for name in names & set(book.sheet_names):
        sheet = book.get_sheet_by_name(name)
        raw = RawSheet(name, sheet.to_python(skip_empty_area=False))
        raw.merged = list(sheet.merged_cell_ranges or [])
        xml = archive.read(parts[name]) if name in parts else b""
        if b't="e"' in xml:
            for letters, row, text in _ERROR_CELL.findall(xml):
                raw.errors[(int(row) - 1, column_index(letters.decode()))] = text.decode()
        sheets[name] = raw
    return RawWorkbook(sheets, date1904, parts)
