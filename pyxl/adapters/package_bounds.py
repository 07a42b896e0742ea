"""What a workbook's parts claim and hold, checked before any parser sees them.

The readers (python-calamine, fastexcel) trust a workbook: one value typed far away
(Contacts!XFD1048576) makes them lay out 17 billion cells and the process dies; a shared
strings table claiming four billion strings, or a small zip that inflates to gigabytes, does
the same. So, before they run:

- every zip member's declared inflated size is held against an absolute cap and, past a
  grace size, against a compression ratio no real sheet comes near (sheets inflate about
  10:1); while a part is inflated its real size may not pass what it declared;
- the shared strings table may not claim more strings than it holds beyond Excel's row
  limit (a claim is a memory reservation; a wrong claim below that costs little);
- a sheet may not hold more rows than Excel's limit, nor a position past its last row;
- cells with values far beyond the rest of a sheet (a gap of more than COLUMN_GAP empty
  columns or ROW_GAP empty rows) are stray: the sheet is read without them (the parsers see
  a copy of the workbook without those cells) and each sheet with stray cells is reported.
  The parsers put a value where its cell's position says, whatever its row says and in
  whatever order the rows come, so that is where the checks look; a position is looked at
  only when it has more digits than the sheet's rows and ROW_GAP need (one less far down
  costs the parsers at most ten times those rows);
- a sheet whose positions are written in a form XML allows but Excel never writes
  (`r='XFD5'`, `r = "XFD5"`, `r="xfd5"`, `<x:c r="XFD5">`) is read from a copy where they are
  written plainly, so that the checks above see every position the parsers see.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np

from pyxl.adapters.speed import inflated, search
from pyxl.errors import UserError

# Excel's limits (Excel specifications and limits: 1,048,576 rows by 16,384 columns).
MAX_ROWS = 1_048_576
# Largest inflated part: ten times the biggest sheet of a 50,000-client caseload (Contacts,
# about 200 MB of XML) and more than a full-width Excel sheet of a million rows holds.
MAX_PART_BYTES = 2 << 30
# Sheets, styles and shared strings inflate 5:1 to 12:1; past MAX_RATIO the file is made of
# repeated filler (Apache POI refuses at the same 100:1). Parts under RATIO_GRACE are never
# refused for their ratio: a nearly empty sheet compresses well and costs nothing.
MAX_RATIO = 100
RATIO_GRACE = 16 << 20
# Empty columns / rows between a value and the rest of its sheet that make it stray.
COLUMN_GAP = 64
ROW_GAP = 10_000
# The cells the parsers lay out for a sheet (its rows times its widest row's columns, 32 bytes
# each) may not pass this, nor a sixteenth of the sheet's XML bytes when that is more (a cell
# with a value takes 20 to 30 bytes of XML, so a sheet filled as it is wide always fits, and
# padding buys at most twice its size). One row filled to column XFD in a sheet of 100,000
# rows would make 1.6 billion; the columns past what fits are stray.
MAX_CELLS = 8_000_000

_TWO_LETTERS = re.compile(rb'r="([A-Z]{2,3})([0-9]+)"[^>]*?(/?)>')
# Attributes come in any order (Excel writes r first; a forged file need not).
_ROW_NUMBER = re.compile(rb'<row\b[^>]*?\br="([0-9]+)"')
_ROW = re.compile(rb'<row\b[^>]*?\br="([0-9]+)"[^>]*?(?:/>|>(.*?)</row>)', re.S)
_FILLED = re.compile(rb"<v>|<t(?: [^>]*)?>")
# The table's start tag, with any prefix (<x:sst>: the parsers read elements by local name).
_SST = re.compile(rb"""<([A-Za-z_][^ \t\r\n<>/:]*:)?sst\b(?:[^>"']|"[^"]*"|'[^']*')*>""")
# The number of distinct strings, which the readers reserve room for. `count` is the number of
# string cells (millions in a big workbook, legitimately) and reserves nothing.
_UNIQUE_COUNT = re.compile(
    rb"""[ \t\r\n]uniqueCount[ \t\r\n]*=[ \t\r\n]*(?:"([0-9]+)"|'([0-9]+)')"""
)


class WorkbookTooBig(UserError):
    """A part of the workbook claims or holds more than pyxl will read."""


class WorkbookUnsafe(UserError):
    """A part of the workbook declares XML entities (a DOCTYPE), which no spreadsheet needs
    and which can make a parser read files from this computer (XXE) or expand forever."""


def refuse_doctype(xml_head: bytes, part: str, sheet: str | None = None) -> None:
    """Refuse a part whose XML declares a DOCTYPE (looked for in its first bytes)."""
    if b"<!DOCTYPE" in xml_head[:4096] or b"<!ENTITY" in xml_head[:4096]:
        where = f"sheet {sheet!r} ({part})" if sheet else part
        raise WorkbookUnsafe(
            f"This workbook's {where} declares XML entities (a DOCTYPE), which no Excel file "
            "has and which can make a program read other files: pyxl did not read it. Ask "
            "whoever sent it, or open it in Excel and save a copy."
        )


@dataclass(frozen=True)
class StrayCells:
    """Values far beyond the rest of a sheet, left out of its reading."""

    sheet: str
    first: str  # A1 address of the first stray cell
    count: int  # stray cells (or rows, for rows far below)
    ends: str  # where the rest of the sheet ends ("row 259"), when stray rows lie below it


def column_index(letters: str) -> int:
    """Excel letters -> 0-based column index (A -> 0, AA -> 26)."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def column_letter(index: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_A, _Z = ord("A"), ord("Z")
# Positions written as Excel never writes them, though XML and the parsers allow it: quoted
# with ', with whitespace around the =, or in small letters (the parsers read "xfd5" as XFD5);
# and cells, rows and values whose element has a prefix (<x:c>, as some generators write;
# Excel's own prefixed elements, such as the <xm:f> of a list's source, are none of these).
_ODD = rb'="[A-Z]*[a-z]|[ \t\r\n]+=|=[ \t\r\n\']'
_PREFIXED = rb":(?:c|row|v|t|is)[ \t\r\n/>]"
_ODD_TAG = re.compile(rb"[ \t\r\n]r(?:" + _ODD + rb")|<[A-Za-z_][^ \t\r\n<>/:]*" + _PREFIXED)
_MAYBE_PREFIXED = re.compile(_PREFIXED)
# A cell or row without a position (the parsers put it after the one before: a row of 16,384
# such cells makes every row that wide). No other attribute of either begins with r.
_UNPOSITIONED = re.compile(
    rb"<(?:c|row)(?:[ \t\r\n]+[^ \t\r\n=/>r][^ \t\r\n=/>]*[ \t\r\n]*=[ \t\r\n]*"
    rb"""(?:"[^"]*"|'[^']*'))*[ \t\r\n]*/?>"""
)


# A cell or row that does not begin as Excel, LibreOffice, openpyxl and XlsxWriter begin every
# one, with its position after one space (`<c r="`, `<row r="`): no position, the position
# after another attribute, or after a tab or a line break. (Text holds no `<`: exact.)
_NOT_AS_EXCEL_BEGINS = re.compile(rb'<(?:c|row)(?:[/>\t\r\n]| (?:[^r]|r[^=]|r=[^"]))')


def written_oddly(xml: bytes) -> bool:
    """Whether a sheet's XML has a cell or row that does not begin as Excel begins it, a
    position written as Excel never writes it, or a prefixed cell, row or value (exact but
    for text that reads like an odd position, which is rare). pyxl's writer finds cells and
    rows as Excel writes them: it does not write into such a sheet."""
    return search(_NOT_AS_EXCEL_BEGINS, xml) or search(_ODD_TAG, xml)


@cache
def _long_positions(digits: int) -> tuple[re.Pattern[bytes], ...]:
    """The searches for what the usual sheet lacks: a cell of a column past Z (r="AA..."), an
    odd position, or a position of `digits` digits or more (a row far below the rest, or past
    Excel's last one), however it is written (rows out of order, a cell whose position is not
    its row's). Starting at the r (once a cell) rather than at a quote or a space (several a
    cell) makes the quick ones three times faster; anything else they match (a word in a
    cell's text, the `error="Type a date"` of a validation after the cells) only leads to the
    exact checks. Returns (quick: any of those; quick: a long position; exact: each long
    position and its row)."""
    any_of = re.compile(rb'r(?:="(?:[A-Z][A-Z]|[A-Z]*[0-9]{%d})|%s)' % (digits, _ODD))
    long = re.compile(rb'r="[A-Z]*[0-9]{%d}' % digits)
    rows = re.compile(rb'[ \t\r\n]r="([A-Z]*([0-9]{%d,}))"' % digits)
    return any_of, long, rows


def _wide_cells(xml: bytes, known: dict[int, str]) -> list[tuple[int, int]]:
    """Where the `r="` of each cell of a column past Z (two or three letters) starts, with
    its 0-based column, for the columns not yet `known` to hold a value. Found with array
    operations, not a Python loop or a regex over every cell: this runs over every byte of
    every sheet (a row's `r="12"` has digits, a cell's letters)."""
    b = np.frombuffer(xml, np.uint8)
    n = b.size - 7
    if n <= 0:
        return []
    letter = (b >= _A) & (b <= _Z)
    head = b[:n]
    # Any XML whitespace may come before the attribute: a forged `<c\nr="XFD1048576">` is
    # read by the parsers as well as `<c r=...>`.
    space = (head == ord(" ")) | (head == ord("\n")) | (head == ord("\t")) | (head == ord("\r"))
    starts = np.flatnonzero(
        space
        & (b[1 : n + 1] == ord("r"))
        & (b[2 : n + 2] == ord("="))
        & (b[3 : n + 3] == ord('"'))
        & letter[4 : n + 4]
        & letter[5 : n + 5]
    )
    if not starts.size:
        return []
    first = b[starts + 4].astype(np.int64) - _A
    second = b[starts + 5].astype(np.int64) - _A
    third = b[starts + 6].astype(np.int64) - _A
    three = (third >= 0) & (third < 26)
    column = np.where(three, 702 + first * 676 + second * 26 + third, 26 + first * 26 + second)
    if known:
        fresh = ~np.isin(column, np.fromiter(known, np.int64))
        starts, column = starts[fresh], column[fresh]
    return list(zip((starts + 1).tolist(), column.tolist(), strict=True))


def check_members(archive: zipfile.ZipFile) -> None:
    """Refuse a workbook whose members declare an inflated size past the cap or ratio."""
    for info in archive.infolist():
        size = info.file_size
        if size > MAX_PART_BYTES:
            raise WorkbookTooBig(
                f"This workbook's part {info.filename} inflates to {size:,} bytes, more than "
                f"pyxl reads ({MAX_PART_BYTES:,}). It is not a caseload workbook pyxl can "
                "open; open it in Excel and save a copy, or ask whoever sent it."
            )
        ratio = size // max(info.compress_size, 1)
        if size > RATIO_GRACE and ratio > MAX_RATIO:
            raise WorkbookTooBig(
                f"This workbook's part {info.filename} inflates {ratio:,} "
                f"times ({info.compress_size:,} to {size:,} bytes); real workbooks inflate "
                f"about 10 times. pyxl did not read it: open it in Excel and save a copy, "
                "or ask whoever sent it."
            )


def check_shared_strings(archive: zipfile.ZipFile) -> None:
    """Refuse a shared strings table that claims (reserves) far more distinct strings than it
    holds."""
    name = next(
        (n for n in archive.NameToInfo if n.lower() == "xl/sharedstrings.xml"),
        None,
    )
    if name is None:
        return
    held = 0
    claimed: int | None = None
    items = [b"<si"]  # a string's start tag (and with the table's prefix, if it has one)
    for piece in inflated(archive, name):
        if not held and claimed is None:
            refuse_doctype(piece, name)
        if claimed is None:
            head = _SST.search(piece)
            if head:
                found = _UNIQUE_COUNT.search(head[0])
                claimed = int(found[1] or found[2]) if found else 0
                if head[1]:
                    items.append(b"<%ssi" % head[1])
        held += sum(piece.count(item + b">") + piece.count(item + b" ") for item in items)
    if claimed is not None and claimed > held and claimed > MAX_ROWS:
        raise WorkbookTooBig(
            f"This workbook's shared strings table claims {claimed:,} strings "
            f"(uniqueCount) but holds {held:,}. pyxl did not read it: the file is damaged "
            "or was made to exhaust memory; open it in Excel and save a copy."
        )


@dataclass
class SheetExtent:
    """What the scan of a sheet found: its rows and the values beyond its real extent."""

    rows: int = 0
    last_row: int = 0
    far_columns: dict[int, str] | None = None  # column (0-based, 2+ letters) -> first cell
    odd: bool = False  # positions written oddly: read a plain copy (`plain_positions`)
    plain: bool = False  # this is that copy: its tags are plain (what looks odd is text)
    past_excel: str | None = None  # a position past Excel's last row
    far_row: int = 0  # the farthest row down of the positions with more digits than needed
    size: int = 0  # bytes of XML

    def note(self, rows_xml: bytes) -> None:
        """Take in a piece of whole rows (the first piece: with the sheet's head)."""
        # The head declares xmlns:r="http...", which the searches below would take for an odd
        # position: the first piece is searched from where the cells begin.
        start = 0 if self.rows else max(rows_xml.find(b"<sheetData"), 0)
        self.size += len(rows_xml)
        self.rows += rows_xml.count(b"<row")  # (and a <rowBreaks> at the end: one more)
        at = rows_xml.rfind(b"<row")
        if at >= 0:
            found = _ROW_NUMBER.match(rows_xml, at)
            if found:
                self.last_row = max(self.last_row, int(found[1]))
        if self.odd:
            return
        # Rows ahead of ROW_GAP more have fewer digits than this (seven at most: row 1,000,000
        # on, which includes every row past Excel's last).
        digits = min(len(str(self.rows + ROW_GAP)) + 1, 7)
        any_of, long, rows = _long_positions(digits)
        maybe_far = search(any_of, rows_xml, start)
        maybe_odd = maybe_far or (b":" in rows_xml and search(_MAYBE_PREFIXED, rows_xml, start))
        if not self.plain and (
            (maybe_odd and search(_ODD_TAG, rows_xml, start))
            or search(_UNPOSITIONED, rows_xml, start)
        ):
            self.odd = True  # the plain copy is checked instead
            return
        if not maybe_far:
            return
        if search(long, rows_xml, start):
            for m in rows.finditer(rows_xml, start):
                row = int(m[2])
                if row > MAX_ROWS:
                    self.past_excel = self.past_excel or m[1].decode()
                self.far_row = max(self.far_row, row)
        self._note_far_columns(rows_xml)

    def _note_far_columns(self, rows_xml: bytes) -> None:
        """Note the filled cells past column Z."""
        for at, column in _wide_cells(rows_xml, self.far_columns or {}):
            if self.far_columns and column in self.far_columns:
                continue  # found filled earlier in this piece
            m = _TWO_LETTERS.match(rows_xml, at)
            if m is None or m[3]:  # <c .../>: formatted, no value
                continue
            end = rows_xml.find(b"</c>", m.end())
            if _FILLED.search(rows_xml, m.end(), end if end >= 0 else len(rows_xml)):
                self.far_columns = self.far_columns or {}
                self.far_columns[column] = m[1].decode() + m[2].decode()

    def check_rows(self, sheet: str) -> None:
        if self.past_excel is not None:
            raise WorkbookTooBig(
                f"Sheet {sheet!r} of this workbook has a cell or row at {self.past_excel}, past "
                f"Excel's last row ({MAX_ROWS:,}). pyxl did not read it: the file is damaged or "
                "was not made by Excel; open it in Excel and save a copy."
            )
        if self.rows > MAX_ROWS:
            raise WorkbookTooBig(
                f"Sheet {sheet!r} of this workbook holds {self.rows:,} rows, more than Excel's "
                f"{MAX_ROWS:,}. pyxl did not read it: the file is damaged or was not made by "
                "Excel; open it in Excel and save a copy."
            )

    def stray_columns(self, last_row: int | None = None) -> tuple[int, list[str]] | None:
        """The last column read and the first cell of each stray column, if any: after a gap
        of more than COLUMN_GAP empty columns, or past the width that keeps the sheet's laid
        out cells within MAX_CELLS. `last_row`: the last row read, when rows far below are
        left out."""
        if not self.far_columns:
            return None
        height = last_row or max(self.rows, self.last_row, self.far_row, 1)
        fits = max(MAX_CELLS, self.size // 16) // height - 1  # the last column that fits
        used = 25  # columns A..Z are never far (their cells are not looked at one by one)
        columns = sorted(self.far_columns)
        for column in columns:
            if column - used > COLUMN_GAP or column > fits:
                return min(used, fits), [self.far_columns[c] for c in columns if c >= column]
            used = column
        return None

    def maybe_far_rows(self) -> bool:
        """Whether the rows leave room for a gap of ROW_GAP empty rows (then each row is
        looked at: rare)."""
        return max(self.last_row, self.far_row) - self.rows > ROW_GAP


def row_blocks(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """XML a piece at a time, cut after a row's end: each block holds whole rows."""
    carry = b""
    for piece in pieces:
        cut = piece.rfind(b"</row>")
        if cut >= 0:  # the usual case: the rows carried and this piece's, copied once
            cut += 6
            yield b"".join((carry, memoryview(piece)[:cut]))
            carry = piece[cut:]
            continue
        block = carry + piece  # no row ends in this piece, or one ends across the two
        cut = block.rfind(b"</row>")
        cut = cut + 6 if cut >= 0 else 0
        yield block[:cut]
        carry = block[cut:]
    yield carry


def stray_rows(pieces: Iterator[bytes]) -> tuple[int, list[str]] | None:
    """The last row read, and the first filled cell of each stray row, if any. The rows are
    where the parsers put the values: a cell's own position (even when it is not its row's),
    else its row's, else the row after the one before; in whatever order they come."""
    filled: dict[int, str] = {}  # row -> its first filled cell
    row = 0
    for block in row_blocks(pieces):
        for element in _ANY_ROW.finditer(block):
            number = _POSITION.search(element[1])
            row = int(number[2]) if number else row + 1
            for cell in _ANY_CELL.finditer(element[2] or b""):
                if not (cell[2] and _FILLED.search(cell[2])):
                    continue
                at = _POSITION.search(cell[1])
                where = (int(at[2]), at[1].decode() + at[2].decode()) if at else (row, f"A{row}")
                filled.setdefault(where[0], where[1])
    numbers = sorted(filled)
    for k in range(1, len(numbers)):
        if numbers[k] - numbers[k - 1] > ROW_GAP:
            return numbers[k - 1], [filled[n] for n in numbers[k:]]
    return None


def without_cells(
    data: bytes, part: str, columns_from: int | None, rows_after: int | None
) -> bytes:
    """A copy of the workbook whose sheet `part` lacks the cells in columns from
    `columns_from` (0-based) and the rows after `rows_after`: what the parsers read."""

    def drop(xml: bytes) -> bytes:
        if rows_after is not None:
            xml = _ROW.sub(lambda m: b"" if int(m[1]) > rows_after else m[0], xml)
            xml = _CELL_IN_ROW.sub(lambda m: b"" if int(m[1]) > rows_after else m[0], xml)
        if columns_from is not None:
            xml = _CELL.sub(
                lambda m: b"" if column_index(m[1].decode()) >= columns_from else m[0], xml
            )
        return xml

    return _with_rows_changed(data, part, drop)


def plain_positions(data: bytes, part: str) -> bytes:
    """A copy of the workbook whose sheet `part` has its elements unprefixed and its cells'
    and rows' attributes written as Excel writes them (r="XFD5": double quotes, no spaces
    around the =, capital letters, on every cell and row), which is how the checks look for
    them. A cell without a position gets the one the parsers give it: its row's, in the
    column after the cell before; a row without one, the row after the one before."""
    row, column = 0, -1  # where the parsers are (1-based row, 0-based column)

    def attribute(m: re.Match[bytes]) -> bytes:
        name, value = m[1], m[2] if m[2] is not None else m[3].replace(b'"', b"&quot;")
        return b' %s="%s"' % (name, value.upper() if name == b"r" else value)

    def positioned(tag: re.Match[bytes]) -> bytes:
        nonlocal row, column
        plain = _ATTRIBUTE.sub(attribute, tag[0])
        at = _POSITION.search(plain)
        if plain.startswith(b"<row"):
            row, column = (int(at[2]) if at else row + 1), -1
            return plain if at else b'<row r="%d"%s' % (row, plain[4:])
        if at:
            column = column_index(at[1].decode())
            return plain
        column += 1
        return b'<c r="%s%d"%s' % (column_letter(column).encode(), row, plain[2:])

    def plain(xml: bytes) -> bytes:
        return _START_TAG.sub(positioned, _ELEMENT_PREFIX.sub(rb"<\1", xml))

    return _with_rows_changed(data, part, plain)


def _with_rows_changed(data: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    """A copy of the workbook with its sheet `part` changed a block of whole rows at a time."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for info in source.infolist():
            if info.filename != part:
                target.writestr(info, source.read(info), compresslevel=1)
                continue
            with target.open(zipfile.ZipInfo(info.filename, info.date_time), "w") as member:
                for block in row_blocks(inflated(source, part)):
                    member.write(change(block))
    return out.getvalue()


_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]{2,3})[0-9]+"[^>]*?(?:/>|>.*?</c>)', re.S)
_CELL_IN_ROW = re.compile(rb'<c\b[^>]*?\br="[A-Z]+([0-9]+)"[^>]*?(?:/>|>.*?</c>)', re.S)
_ANY_ROW = re.compile(rb"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.S)
_ANY_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
# A row's or cell's position: (letters, for a cell; the row).
_POSITION = re.compile(rb'\br="([A-Z]*)([0-9]+)"')
# The parsers read elements by their local name (<x:c> as <c>, whatever x stands for).
_ELEMENT_PREFIX = re.compile(rb"<(/?)[A-Za-z_][^ \t\r\n<>/:]*:")
# A cell's or row's start tag (an attribute's value may hold a >) and each of its attributes.
_START_TAG = re.compile(rb"""<(?:c|row)(?=[ \t\r\n/>])(?:[^>"']|"[^"]*"|'[^']*')*>""")
_ATTRIBUTE = re.compile(
    rb"""[ \t\r\n]+([^ \t\r\n=/>]+)[ \t\r\n]*=[ \t\r\n]*(?:"([^"]*)"|'([^']*)')"""
)

__all__ = [
    "COLUMN_GAP",
    "MAX_CELLS",
    "MAX_PART_BYTES",
    "MAX_RATIO",
    "MAX_ROWS",
    "RATIO_GRACE",
    "ROW_GAP",
    "SheetExtent",
    "StrayCells",
    "WorkbookTooBig",
    "check_members",
    "check_shared_strings",
    "column_letter",
    "inflated",
    "plain_positions",
    "stray_rows",
    "without_cells",
    "written_oddly",
]
