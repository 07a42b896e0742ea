"""Write computed values into an existing workbook by editing only the parts pyxl owns.

A load-and-save through openpyxl would drop what Excel wrote and openpyxl does
not know (x14 dropdowns, shapes, buttons, sensitivity labels; reliability.md 1.1)
and costs ~50 s at 50,000 rows. Instead the .xlsx package is copied member by
member and only these are rewritten:

- the sheetData of the computed sheets (Due List, Errors), their table range,
  conditional-formatting ranges and dimension;
- the cells of the computed columns of the Clients sheet;
- one cell style with quotePrefix, added to styles.xml if missing.

Every value is written as a number or an inline string, never a formula, and
text that starts like a formula carries Excel's quotePrefix flag. Text is stored
as typed: what looks like Excel's own `_xHHHH_` escape is escaped itself.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePosixPath
from xml.sax.saxutils import escape

import numpy as np
from lxml import etree

from pyxl.adapters import speed
from pyxl.adapters.package_bounds import refuse_doctype, written_oddly
from pyxl.adapters.workbook_reader import NS, column_index, column_letter, sheet_parts
from pyxl.errors import UserError

Value = str | int | float | dt.date | None
MAIN = NS["m"]
# Characters XML 1.0 cannot carry (C0 controls but tab, line feed and carriage return; lone
# surrogates; U+FFFE, U+FFFF): every pyxl writer shows them as "?".
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_START = tuple("=+-@\t\r\n") + tuple("＝＋－＠")
_EPOCH = {False: dt.date(1899, 12, 30), True: dt.date(1904, 1, 1)}
_MAX_CELL_TEXT = 32_767
# Excel reads `_xHHHH_` in a file as the character HHHH; text that only looks like it
# gets its underscore written as `_x005F_`, so that `_x0041_` stays `_x0041_`.
_LOOKALIKE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")


def storable(text: str) -> str:
    """The text as a cell holds it: what XML 1.0 cannot carry becomes "?"."""
    if text.isascii() and text.isprintable():  # printable ASCII is all legal
        return text
    return _ILLEGAL_XML.sub("?", text)


def safe_text(text: str) -> str:
    """Text as a cell can hold it: no XML-illegal characters, within Excel's cell limit."""
    text = storable(text)
    if len(text) > _MAX_CELL_TEXT:
        text = text[: _MAX_CELL_TEXT - 1] + "…"
    return text


def file_text(text: str) -> str:
    """Text as written inside a cell's XML, which Excel reads back as the text itself:
    `_xHHHH_` look-alikes escaped, a carriage return written as Excel writes it (an XML
    reader would turn a bare one into a line feed)."""
    text = safe_text(text)
    if "_x" in text:
        text = _LOOKALIKE.sub("_x005F_", text)
    return text.replace("\r", "_x000D_") if "\r" in text else text


class CellValueError(ValueError):
    """A value no cell can hold (NaN, infinity, an unknown type): a bug, refused loudly."""


def cell_value(value: object) -> Value | bool:
    """The one conversion of a value before it becomes cell XML: numpy scalars to Python,
    Decimal to float, datetimes kept (their time of day too); NaN and infinity refused."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Decimal):
        value = float(value)
    if value is None or type(value) in (str, bool, int) or isinstance(value, dt.date):
        return value
    if isinstance(value, str):  # a str Enum or other subclass: its text
        return str.__str__(value)
    if isinstance(value, int):  # an IntEnum: its number
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CellValueError(f"{value} is not a number a cell can hold")
        return value
    raise CellValueError(f"a {type(value).__name__} ({value!r}) cannot be written to a cell")


@dataclass
class TableRows:
    """Replace a computed sheet's table body."""

    rows: Sequence[Sequence[Value]]
    heights: Sequence[float | None] | None = None  # points per row; None = default height
    # Per row, (0-based column, location such as "'Due List'!A12"): links inside the workbook.
    # They replace the sheet's hyperlinks; no relationship part and no formula is needed.
    links: Sequence[Sequence[tuple[int, str]]] | None = None


@dataclass
class ColumnValues:
    """Set some columns of a sheet row by row; other data rows get those cells cleared."""

    columns: Sequence[int]  # 0-based column indices
    values: Mapping[int, Sequence[Value]]  # 1-based row -> one value per column
    first_row: int  # first data row (1-based)
    last_row: int  # last data row to clear (1-based)
    # 1-based row -> points: rows whose new wrapped text needs more height than one line
    heights: Mapping[int, float] | None = None


@dataclass
class Patch:
    tables: dict[str, TableRows] = field(default_factory=dict)  # sheet name -> rows
    columns: dict[str, ColumnValues] = field(default_factory=dict)  # sheet name -> columns
    # sheet name -> cell above its table -> number: the cached result of a formula pyxl placed
    # there (shown by readers that do not recalculate on open; Excel recalculates anyway)
    results: dict[str, dict[str, float]] = field(default_factory=dict)
    # sheet name -> cell above its table -> text (the "Computed as of ..." line); the cell
    # keeps its style
    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    # sheet name -> the left part of its printed footer (printouts say which day they show)
    footers: dict[str, str] = field(default_factory=dict)


# A formula cell and its saved result. LibreOffice writes the formula as <f aca="false">; a
# result of another kind than a number says so in the cell (t="str", t="e"), which goes.
_FORMULA_CELL = re.compile(
    rb'(<c r="[A-Z]+[0-9]+"[^>]*>)(\s*<f(?:\s[^>]*)?>[^<]*</f>)\s*(?:<v>[^<]*</v>|<v\s*/>)?'
)
_RESULT_KIND = re.compile(rb'\s+t="[^"]*"')


_TEXT_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"((?:\s+s="[0-9]+")?)[^>]*?(?:/>|>.*?</c>)', re.S)


def _set_texts(rows_xml: bytes, texts: Mapping[str, str]) -> bytes:
    """Put text in existing cells above the table (as inline strings, style kept)."""
    if not texts:
        return rows_xml

    def put(m: re.Match[bytes]) -> bytes:
        ref = m.group(1).decode()
        if ref not in texts:
            return m.group(0)
        text = escape(texts[ref]).encode()
        return b'<c r="%s"%s t="inlineStr"><is><t>%s</t></is></c>' % (m.group(1), m.group(2), text)

    return _TEXT_CELL.sub(put, rows_xml)


def _set_footer(shell: etree._Element, left: str | None) -> None:
    """The left section of the printed footer (footer codes: a literal & is &&); the
    centre and right stay."""
    footer = shell.find("m:headerFooter/m:oddFooter", NS)
    if left is None or footer is None or footer.text is None:
        return
    rest = re.sub(r"^&L.*?(?=&[CR]|$)", "", footer.text, flags=re.S)
    footer.text = "&L" + left + rest


def _set_results(sheet_xml: bytes, results: Mapping[str, float]) -> bytes:
    for ref, value in results.items():
        at = sheet_xml.find(b'<c r="%s"' % ref.encode())
        found = _FORMULA_CELL.match(sheet_xml, at) if at >= 0 else None
        if found is not None:
            start = _RESULT_KIND.sub(b"", found.group(1))
            cell = start + found.group(2) + f"<v>{value:g}</v>".encode()
            sheet_xml = b"".join((sheet_xml[:at], cell, sheet_xml[found.end() :]))
    return sheet_xml


class _Styles:
    """styles.xml, and the quotePrefix twin of any cell style, added on demand."""

    def __init__(self, xml: bytes):
        self.tree = _parse(xml)
        self.xfs = self.tree.find("m:cellXfs", NS)
        self.twins: dict[int, int] = {}
        self.changed = False

    def quote_prefixed(self, style: int) -> int:
        if style not in self.twins:
            xfs = list(self.xfs)
            source = xfs[style] if style < len(xfs) else xfs[0]
            if source.get("quotePrefix") == "1":
                self.twins[style] = style
            else:
                existing = next(
                    (
                        i
                        for i, xf in enumerate(xfs)
                        if xf.get("quotePrefix") == "1"
                        and all(
                            xf.get(k) == source.get(k)
                            for k in ("numFmtId", "fontId", "fillId", "borderId")
                        )
                    ),
                    None,
                )
                if existing is None:
                    twin = etree.fromstring(etree.tostring(source))
                    twin.set("quotePrefix", "1")
                    self.xfs.append(twin)
                    self.xfs.set("count", str(len(self.xfs)))
                    existing = len(self.xfs) - 1
                    self.changed = True
                self.twins[style] = existing
        return self.twins[style]

    def xml(self) -> bytes:
        return etree.tostring(self.tree, xml_declaration=True, encoding="UTF-8", standalone=True)


class _CellWriter:
    """Cell XML. A column's values repeat (names, rules, dates, explanations): the XML after
    a cell's reference is made once per distinct value of each column."""

    def __init__(self, styles: _Styles, column_styles: Mapping[int, int], date1904: bool):
        self.styles = styles
        self.column_styles = column_styles
        self.epoch = _EPOCH[date1904]
        self._tails: dict[tuple[int, int, type, Value], str] = {}

    def xml(self, ref: str, col: int, value: Value) -> str:
        tail = self.tail(col, value)
        return f'<c r="{ref}"{tail}' if tail else ""

    def tail(self, col: int, value: Value) -> str:
        """Everything after `<c r="A1"` ("" for a blank cell with no style)."""
        style = self.column_styles.get(col, 0)
        key = (col, style, type(value), value)
        tail = self._tails.get(key)
        if tail is None:
            tail = self._tails[key] = self._tail(style, value)
        return tail

    def _tail(self, style: int, value: object) -> str:
        s = f' s="{style}"' if style else ""
        value = cell_value(value)
        if value is None or value == "":
            return f"{s}/>" if style else ""
        if isinstance(value, bool):
            value = "Yes" if value else "No"
        if isinstance(value, dt.datetime):
            serial = (value - dt.datetime.combine(self.epoch, dt.time())) / dt.timedelta(days=1)
            return f"{s}><v>{serial!r}</v></c>"
        if isinstance(value, dt.date):
            return f"{s}><v>{(value - self.epoch).days}</v></c>"
        if isinstance(value, int | float):
            return f"{s}><v>{value!r}</v></c>"
        text = file_text(value)
        if text.startswith(_FORMULA_START):
            s = f' s="{self.styles.quote_prefixed(style)}"'
        # Only text with spaces at its ends or line breaks needs xml:space: at 800,000 cells
        # the attribute would be a fifth of the Due List's bytes.
        kept = text[:1].isspace() or text[-1:].isspace() or "\n" in text or "\t" in text
        space = ' xml:space="preserve"' if kept else ""
        return f'{s} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'

    def pieces(
        self, columns: Sequence[int], values: Sequence[Sequence[Value]], end: str
    ) -> list[list[str]]:
        """Cells cut where their row numbers go, column by column: for each column (0-based,
        ascending) and row, the XML from just after the cell's row number to the start of the
        next cell's (`end` after the last column). Joined by its row number, a row's pieces
        make its cells in one call; each piece comes from a per-column lookup. Every column
        gets a cell, blank ones as `<c r="K5"/>`, so that the pieces line up."""
        out: list[list[str]] = []
        for k, (c, column) in enumerate(zip(columns, values, strict=True)):
            after = f'<c r="{column_letter(columns[k + 1])}' if k + 1 < len(columns) else end
            # Looked up by value in C (no Python call per cell); by type too where a column
            # mixes numbers and flags (True == 1 == 1.0 as dictionary keys).
            keys: Sequence[object] = column
            if len(set(map(type, column)) & {bool, int, float}) > 1:
                keys = list(zip(map(type, column), column, strict=True))
            made = {
                key: f'"{self.tail(c, value) or "/>"}{after}'
                for key, value in dict(zip(keys, column, strict=True)).items()
            }
            out.append(list(map(made.__getitem__, keys)))
        return out

    def rows(
        self, first: int, width: int, rows: Sequence[Sequence[Value]], sizes: Sequence[str]
    ) -> list[str]:
        """Whole rows of a table from column A, numbered from `first`, each with its size
        attributes."""
        columns = list(zip(*rows, strict=True)) if rows else [()] * width
        pieces = self.pieces(range(width), columns[:width], "</row>")
        heads = [f'"{size}><c r="A' for size in sizes]
        numbers = [str(first + k) for k in range(len(rows))]
        return [
            number.join(('<row r="', head, *cells))
            for number, head, *cells in zip(numbers, heads, *pieces, strict=True)
        ]


def _column_styles(sheet: etree._Element) -> dict[int, int]:
    styles = {}
    for col in sheet.findall("m:cols/m:col", NS):
        if col.get("style"):
            for c in range(int(col.get("min")) - 1, int(col.get("max"))):
                styles[c] = int(col.get("style"))
    return styles


def _sheet_rels(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    path = PurePosixPath(part)
    rels_path = str(path.parent / "_rels" / f"{path.name}.rels")
    if rels_path not in archive.namelist():
        return {}
    rels = _parse(_read(archive, rels_path))
    out = {}
    for rel in rels.findall("rel:Relationship", NS):
        target = rel.get("Target")
        resolved = (
            PurePosixPath(target.lstrip("/")) if target.startswith("/") else path.parent / target
        )
        out[rel.get("Id")] = _normalise(str(resolved))
    return out


def _normalise(path: str) -> str:
    parts: list[str] = []
    for piece in path.split("/"):
        if piece == "..":
            parts.pop()
        elif piece not in {"", "."}:
            parts.append(piece)
    return "/".join(parts)


def _table_part(archive: zipfile.ZipFile, part: str, sheet: etree._Element) -> str | None:
    rels = _sheet_rels(archive, part)
    for tp in sheet.findall("m:tableParts/m:tablePart", NS):
        return rels.get(tp.get(f"{{{NS['r']}}}id"))
    return None


# A table's range: first column, header row, last column, last row.
_TABLE_REF = re.compile(r"([A-Z]+)(\d+):([A-Z]+)(\d+)")


def _set_range_end(ref: str, last_row: int, first_data_row: int) -> str:
    """'A4:L100' -> 'A4:L{last_row}' for ranges that start at the first data row."""
    pieces = []
    for piece in ref.split():
        m = re.fullmatch(r"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?", piece)
        if m and int(m.group(2)) == first_data_row:
            pieces.append(f"{m.group(1)}{m.group(2)}:{m.group(3) or m.group(1)}{last_row}")
        else:
            pieces.append(piece)
    return " ".join(pieces)


# A row's attributes in any order (Excel writes r first; XML does not require it).
_ROW = re.compile(rb'<row\b[^>]*?\br="(\d+)"([^>]*?)(?:/>|>(.*?)</row>)', re.S)
_SPANS = re.compile(rb'\s+spans="[^"]*"')
_CELL = re.compile(rb'<c r="([A-Z]+)\d+"[^>]*?(?:/>|>.*?</c>)', re.S)
_EMPTY = b"<sheetData/>"


def _split_sheet_data(sheet_xml: bytes) -> tuple[etree._Element, bytes]:
    """The sheet without its rows (small, parsed) and the raw bytes of its rows."""
    empty = sheet_xml.find(b"<sheetData/>")
    if empty >= 0:
        start, end, rows = empty, empty + len(_EMPTY), b""
    else:
        start = sheet_xml.find(b"<sheetData>")
        end = sheet_xml.rfind(b"</sheetData>")
        if start < 0 or end < 0:
            raise ValueError("the sheet has no sheetData")
        rows = sheet_xml[start + len(b"<sheetData>") : end]
        end += len(b"</sheetData>")
    shell = _parse(sheet_xml[:start] + _EMPTY + sheet_xml[end:])
    return shell, rows


def _join_sheet_data(shell: etree._Element, rows: bytes | Sequence[bytes]) -> bytes:
    xml = _xml(shell)
    at = xml.index(_EMPTY)
    pieces = [rows] if isinstance(rows, bytes) else rows
    return b"".join((xml[:at], b"<sheetData>", *pieces, b"</sheetData>", xml[at + len(_EMPTY) :]))


def _replace_table_rows(
    sheet_xml: bytes,
    table_xml: bytes,
    rows: Sequence[Sequence[Value]],
    cells: _CellWriter,
    heights: Sequence[float | None] | None = None,
    links: Sequence[Sequence[tuple[int, str]]] | None = None,
    results: Mapping[str, float] | None = None,
    texts: Mapping[str, str] | None = None,
    footer: str | None = None,
) -> tuple[bytes, bytes]:
    shell, old_rows = _split_sheet_data(sheet_xml)
    cells.column_styles = _column_styles(shell)
    table = _parse(table_xml)
    m = _TABLE_REF.fullmatch(table.get("ref"))
    header_row = int(m.group(2))
    width = len(table.findall("m:tableColumns/m:tableColumn", NS))
    first_data = header_row + 1
    last = header_row + max(len(rows), 1)
    kept = []
    for m in _ROW.finditer(old_rows):
        if int(m.group(1)) > header_row:
            break
        kept.append(m.group(0))
    pieces = [_set_texts(_set_results(b"".join(kept), results or {}), texts or {}).decode()]
    _set_footer(shell, footer)
    size_of: dict[float | None, str] = {None: ""}
    sizes = []
    for height in heights if heights else [None] * len(rows):
        if height not in size_of:
            size_of[height] = f' ht="{height:g}" customHeight="1"'
        sizes.append(size_of[height])
    if any(len(row) != width for row in rows):  # a table with more or fewer columns
        rows = [[*row[:width], *[None] * (width - len(row))] for row in rows]
    pieces += cells.rows(first_data, width, rows, sizes)
    if links is not None:
        _set_hyperlinks(shell, first_data, links)
    dimension = shell.find("m:dimension", NS)
    if dimension is not None:
        dimension.set("ref", f"A1:{column_letter(width - 1)}{last}")
    for cf in shell.findall("m:conditionalFormatting", NS):
        cf.set("sqref", _set_range_end(cf.get("sqref"), last, first_data))
    ref = re.sub(r"\d+$", str(last), table.get("ref"))
    table.set("ref", ref)
    auto = table.find("m:autoFilter", NS)
    if auto is not None:
        auto.set("ref", ref)
    return _join_sheet_data(shell, "".join(pieces).encode()), _xml(table)


# CT_Worksheet children that come after <hyperlinks>; it goes before the first present.
_AFTER_HYPERLINKS = (
    "printOptions",
    "pageMargins",
    "pageSetup",
    "headerFooter",
    "rowBreaks",
    "colBreaks",
    "customProperties",
    "cellWatches",
    "ignoredErrors",
    "smartTags",
    "drawing",
    "legacyDrawing",
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
)


def _set_hyperlinks(
    shell: etree._Element, first_row: int, links: Sequence[Sequence[tuple[int, str]]]
) -> None:
    """Replace the sheet's hyperlinks with in-workbook links (location only, no r:id)."""
    for old in shell.findall("m:hyperlinks", NS):
        shell.remove(old)
    if not any(links):
        return
    element = etree.Element(f"{{{MAIN}}}hyperlinks")
    for offset, row_links in enumerate(links):
        for col, location in row_links:
            etree.SubElement(
                element,
                f"{{{MAIN}}}hyperlink",
                ref=f"{column_letter(col)}{first_row + offset}",
                location=location,
            )
    later = [shell.find(f"m:{name}", NS) for name in _AFTER_HYPERLINKS]
    anchor = next((e for e in later if e is not None), None)
    if anchor is None:
        shell.append(element)
    else:
        anchor.addprevious(element)


def _set_columns(sheet_xml: bytes, update: ColumnValues, cells: _CellWriter) -> bytes:
    shell, rows = _split_sheet_data(sheet_xml)
    cells.column_styles = _column_styles(shell)
    wanted = sorted(update.columns)
    letters = [column_letter(c).encode() for c in wanted]
    first_wanted = re.compile(rb'<c r="(?:%s)[0-9]' % b"|".join(letters))
    drop = re.compile(rb'<c r="(?:%s)\d+"[^>]*?(?:/>|>.*?</c>)' % b"|".join(letters), re.S)
    # The computed columns are usually side by side at the table's right end: a row's old
    # computed cells are then all its cells from the first of them, and are cut off.
    side_by_side = wanted == list(range(wanted[0], wanted[-1] + 1))
    rightmost = (len(letters[-1]), letters[-1])  # letters in column order
    new = _cells_by_row(update, cells)
    heights = update.heights or {}

    def rewrite(number: bytes, attributes: bytes, body: bytes) -> bytes:
        last = body.rfind(b'<c r="')
        letters_there = _LETTERS.match(body, last + 6).group(0) if last >= 0 else b""
        if side_by_side and (len(letters_there), letters_there) <= rightmost:
            found = first_wanted.search(body)
            if found is not None:
                body = body[: found.start()]
            body += new.get(int(number), b"")
        else:  # computed columns apart, or cells to their right: rare, sort them
            body = _in_column_order(drop.sub(b"", body) + new.get(int(number), b""))
        # The row keeps its height, style and hidden flag; `spans` goes: a stale hint is worse
        # than none.
        if b"spans" in attributes:
            attributes = _SPANS.sub(b"", attributes)
        height = heights.get(int(number))
        if height is not None:  # tall enough for the new wrapped text
            attributes = _HEIGHT.sub(b"", attributes) + b' ht="%g" customHeight="1"' % height
        return b'<row r="%s"%s>%s</row>' % (number, attributes, body)

    # Rows are found with plain searches (a regex with a lazy body costs a step per byte).
    out: list[bytes] = []
    at, end = 0, len(rows)
    while at < end:
        start = rows.find(b"<row ", at)
        if start < 0:
            break
        head = _ROW_HEAD.match(rows, start)
        if head is None:
            raise ValueError(f"a row without its number in {update!r:.40}")
        close = rows.find(b">", head.end())
        before = rows[start + 4 : head.start(1) - 4]  # attributes written before r="..."
        if rows[close - 1 : close] == b"/":  # <row .../>: no cells
            attributes, body, after = before + rows[head.end() : close - 1], b"", close + 1
        else:
            finish = rows.find(b"</row>", close)
            attributes = before + rows[head.end() : close]
            body, after = rows[close + 1 : finish], finish + 6
        r = int(head.group(1))
        out.append(rows[at:start])
        if update.first_row <= r <= update.last_row:
            out.append(rewrite(head.group(1), attributes, body))
        else:
            out.append(rows[start:after])
        at = after
    out.append(rows[at:])
    return _join_sheet_data(shell, out)


def _cells_by_row(update: ColumnValues, cells: _CellWriter) -> dict[int, bytes]:
    """Each row's new cells, in column order."""
    order = sorted(range(len(update.columns)), key=lambda k: update.columns[k])
    numbers = list(update.values)
    by_column = list(zip(*update.values.values(), strict=True)) or [()] * len(order)
    pieces = cells.pieces([update.columns[k] for k in order], [by_column[k] for k in order], end="")
    start = f'<c r="{column_letter(update.columns[order[0]])}'
    return {
        r: str(r).join((start, *row)).encode() for r, *row in zip(numbers, *pieces, strict=True)
    }


_ROW_HEAD = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
_HEIGHT = re.compile(rb'\s(?:ht|customHeight)="[^"]*"')
_LETTERS = re.compile(rb"[A-Z]+")


def _in_column_order(cells_xml: bytes) -> bytes:
    found = [(column_index(c.group(1).decode()), c.group(0)) for c in _CELL.finditer(cells_xml)]
    found.sort(key=lambda pair: pair[0])
    return b"".join(x for _, x in found)


def _xml(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", standalone=True)


# A cell with its position and what it holds (the writer's form: position first).
_FILLED_CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)"[^>]*?(?:/>|>(.*?)</c>)', re.S)


def typed_outside_tables(data: bytes, sheets: Iterable[str]) -> dict[str, list[str]]:
    """Per sheet, the cells holding something below its table's headers but outside the
    table: beside it (past its last column) or below it. Replacing the table's rows removes
    them: the rows are rebuilt in a new order, so nothing beside a row could stay with it."""
    source = zipfile.ZipFile(io.BytesIO(data))
    parts = sheet_parts(source)[0]
    found: dict[str, list[str]] = {}
    for name in sheets:
        part = parts.get(name)
        if part is None:
            continue
        sheet_xml = speed.read_member(source, part)
        table_part = _table_part(source, part, _split_sheet_data(sheet_xml)[0])
        if table_part is None:  # refused when written
            continue
        m = _TABLE_REF.fullmatch(_parse(_read(source, table_part)).get("ref"))
        header, last_column, last_row = int(m[2]), column_index(m[3]), int(m[4])
        start = sheet_xml.find(b'<row r="%d"' % (header + 1))
        if start < 0:
            continue
        # Most sheets hold nothing there: two quick looks spare them the exact one.
        last = _ROW_HEAD.match(sheet_xml, sheet_xml.rfind(b"<row "))
        below = last is not None and int(last[1]) > last_row
        if not below and not _beside(sheet_xml, start, last_column):
            continue
        cells = [
            f"{letters.decode()}{row.decode()}"
            for letters, row, body in _FILLED_CELL.findall(sheet_xml, start)
            if (column_index(letters.decode()) > last_column or int(row) > last_row)
            and _HAS_VALUE.search(body or b"")
        ]
        if cells:
            found[name] = cells
    return found


def _beside(sheet_xml: bytes, start: int, last_column: int) -> bool:
    """Whether a cell may stand past the table's last column (from `start` on)."""
    if last_column >= 25:  # past Z: look at every cell
        return True
    after = column_letter(last_column + 1).encode()
    return speed.search(re.compile(rb'<c r="(?:[%b-Z]|[A-Z]{2,3})[0-9]' % after), sheet_xml, start)


def apply_patch(data: bytes, patch: Patch) -> bytes:
    """Return new workbook bytes with the patch applied; every other member is copied as is."""
    source = zipfile.ZipFile(io.BytesIO(data))
    parts, date1904 = sheet_parts(source)
    styles = _Styles(_read(source, "xl/styles.xml"))
    cells = _CellWriter(styles, {}, date1904)
    column_parts = {parts[name] for name in patch.columns}
    with ThreadPoolExecutor(max_workers=2) as pool:
        packed: dict[str, Future[speed.Packed]] = {}
        pending: dict[str, bytes] = {}  # rewritten sheets whose columns change next
        for name, update in patch.tables.items():
            part = parts[name]
            sheet_xml = _writable(speed.read_member(source, part), name, part)
            table_part = _table_part(source, part, _split_sheet_data(sheet_xml)[0])
            if table_part is None:  # without its header row pyxl would write over the titles
                raise SheetNotWritable(
                    f"Sheet {name!r} of this workbook is no longer an Excel table (was it "
                    "converted to a range?), and pyxl fills its table: nothing was written. "
                    f"Put the {name} sheet of a workbook made by `pyxl new` in its place, and "
                    "run again."
                )
            new_sheet, new_table = _replace_table_rows(
                sheet_xml,
                _read(source, table_part),
                update.rows,
                cells,
                update.heights,
                update.links,
                patch.results.get(name),
                patch.texts.get(name),
                patch.footers.get(name),
            )
            if part in column_parts:
                pending[part] = new_sheet
            else:
                packed[part] = pool.submit(speed.pack, new_sheet)
            packed[table_part] = pool.submit(speed.pack, new_table)
        for name, update in patch.columns.items():
            part = parts[name]
            body = _set_columns(
                pending.pop(part, None) or _writable(speed.read_member(source, part), name, part),
                update,
                cells,
            )
            packed[part] = pool.submit(speed.pack, body)
        if styles.changed:
            packed["xl/styles.xml"] = pool.submit(speed.pack, styles.xml())
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            for info in source.infolist():
                if info.filename in packed:
                    speed.write_member(target, info, packed[info.filename].result())
                else:
                    speed.copy_member(source, target, info)
    return out.getvalue()


def _repack(source: zipfile.ZipFile, replaced: Mapping[str, bytes]) -> bytes:
    """The package with some members replaced; every other member copied as it is."""
    out = io.BytesIO()
    # Level 1: only the rewritten parts are compressed here (the rest is copied raw), and
    # speed matters more than a few per cent of size; Excel re-packs on its next save.
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = replaced.get(info.filename)
            if body is None:
                speed.copy_member(source, target, info)
            else:
                speed.write_member(target, info, speed.pack(body))
    return out.getvalue()


# ---------------------------------------------------------------- appending to input tables

_HAS_VALUE = re.compile(rb"<(?:v|is|f)[ >]")


class SheetNotWritable(UserError):
    """A sheet saved by a program that writes its cells otherwise than Excel, LibreOffice and
    pyxl do (pyxl's writer would not find its rows), or a sheet pyxl fills whose table is
    gone."""


def _writable(sheet_xml: bytes, name: str, part: str) -> bytes:
    """The sheet's XML, if pyxl's writer can read it (else SheetNotWritable)."""
    refuse_doctype(sheet_xml, part, name)
    # The writer finds rows and cells as Excel writes them: in another program's form (which
    # the readers read) it would leave values stale or double rows.
    if written_oddly(sheet_xml):
        raise SheetNotWritable(
            f"Sheet {name!r} of this workbook was saved by a program that writes its cells "
            "otherwise than Excel and LibreOffice do, and pyxl does not write into it: nothing "
            "was written. Open the workbook in Excel or LibreOffice, save it, and run again."
        )
    return sheet_xml


def _read(archive: zipfile.ZipFile, part: str) -> bytes:
    """A part of the workbook (WorkbookUnsafe if it declares entities)."""
    xml = archive.read(part)
    refuse_doctype(xml, part)
    return xml


def _parse(xml: bytes) -> etree._Element:
    """A part read with `_read` or `_writable`: entities are never expanded."""
    return etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))


class AppendRefused(ValueError):
    """Rows cannot be appended without overwriting something staff typed."""


def _append_to_sheet(
    sheet_xml: bytes,
    table_xml: bytes,
    sheet_name: str,
    rows: Sequence[Sequence[Value] | Mapping[str, Value]],
    cells: _CellWriter,
) -> tuple[bytes, bytes]:
    shell, old_rows = _split_sheet_data(sheet_xml)
    cells.column_styles = _column_styles(shell)
    table = _parse(table_xml)
    m = _TABLE_REF.fullmatch(table.get("ref"))
    header_row, table_end = int(m.group(2)), int(m.group(4))
    names = [c.get("name") for c in table.findall("m:tableColumns/m:tableColumn", NS)]
    width = len(names)
    rows = [_in_table_order(row, names, sheet_name) for row in rows]
    existing = {int(r.group(1)): r.group(0) for r in _ROW.finditer(old_rows)}
    filled = [r for r, xml in existing.items() if r > header_row and _HAS_VALUE.search(xml)]
    # After the table's last filled row; a blank placeholder row is reused.
    start = max([r for r in filled if r <= table_end], default=header_row) + 1
    letters = [column_letter(c) for c in range(width)]
    for offset, row in enumerate(rows):
        r = start + offset
        if r in filled:
            raise AppendRefused(
                f"{sheet_name}!A{r} holds data below the {table.get('name')} table; move it "
                "into the table or delete it, then run again"
            )
        if len(row) > width:
            raise ValueError(f"{sheet_name}: {len(row)} values for {width} columns")
        body = "".join(cells.xml(f"{letters[c]}{r}", c, v) for c, v in enumerate(row))
        existing[r] = f'<row r="{r}">{body}</row>'.encode()
    last = max(table_end, start + len(rows) - 1)
    ref = f"{m.group(1)}{header_row}:{m.group(3)}{last}"
    table.set("ref", ref)
    auto = table.find("m:autoFilter", NS)
    if auto is not None:
        auto.set("ref", ref)
    dimension = shell.find("m:dimension", NS)
    if dimension is not None:
        end = max(existing)
        dimension.set("ref", f"A1:{letters[-1]}{max(end, last)}")
    for cf in shell.findall("m:conditionalFormatting", NS):
        cf.set("sqref", _set_range_end(cf.get("sqref"), last, header_row + 1))
    data = b"".join(existing[r] for r in sorted(existing))
    return _join_sheet_data(shell, data), _xml(table)


def _in_table_order(
    row: Sequence[Value] | Mapping[str, Value], names: Sequence[str], sheet_name: str
) -> Sequence[Value]:
    """A row given by header goes into the table's own column order (staff may have moved
    columns); a plain sequence is taken as already in that order."""
    if not isinstance(row, Mapping):
        return row
    unknown = set(row) - set(names)
    if unknown:
        raise AppendRefused(
            f"the {sheet_name} table has no column {', '.join(sorted(unknown))}; "
            "add it (copy the header from a new workbook) and run again"
        )
    return [row.get(n) for n in names]


def append_rows(
    data: bytes,
    rows: Mapping[str, Sequence[Sequence[Value] | Mapping[str, Value]]],
    above: Mapping[str, Mapping[str, str]] | None = None,
) -> bytes:
    """Append rows to the Excel tables of the named sheets (e.g. Contacts, Letters).

    Rows go right after the table's last filled row (its blank placeholder row is used
    first); the table and its autofilter grow to cover them, and so do the sheet's
    dimension and conditional formats. Cells take their column's style (dates stay dates)
    and are written like every pyxl value: numbers or inline strings, never formulas.
    Refuses (AppendRefused) rather than overwrite anything typed below a table.
    `above`: sheet -> cell in the rows above its table -> text (e.g. "Needs a Refresh").
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    parts, date1904 = sheet_parts(source)
    styles = _Styles(_read(source, "xl/styles.xml"))
    cells = _CellWriter(styles, {}, date1904)
    replaced: dict[str, bytes] = {}
    for name, new_rows in rows.items():
        if not new_rows:
            continue
        part = parts[name]
        sheet_xml = _writable(source.read(part), name, part)
        table_part = _table_part(source, part, _split_sheet_data(sheet_xml)[0])
        if table_part is None:
            raise AppendRefused(f"the {name} sheet has no Excel table to append to")
        replaced[part], replaced[table_part] = _append_to_sheet(
            sheet_xml, _read(source, table_part), name, new_rows, cells
        )
    for name, texts in (above or {}).items():
        if name in parts:
            part = parts[name]
            sheet_xml = replaced.get(part) or _writable(source.read(part), name, part)
            replaced[part] = _set_texts_above(sheet_xml, texts)
    if styles.changed:
        replaced["xl/styles.xml"] = styles.xml()
    return _repack(source, replaced)


def _set_texts_above(sheet_xml: bytes, texts: Mapping[str, str]) -> bytes:
    """_set_texts on the first rows only (a big table below is not scanned)."""
    last = max(int(re.sub(r"[A-Z]+", "", ref)) for ref in texts)
    end = sheet_xml.find(b'<row r="%d"' % (last + 1))
    end = len(sheet_xml) if end < 0 else end
    return _set_texts(sheet_xml[:end], texts) + sheet_xml[end:]
