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
text that starts like a formula carries Excel's quotePrefix flag.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from xml.sax.saxutils import escape

from lxml import etree

from pyxl.adapters.workbook_reader import NS, column_letter, sheet_parts

Value = str | int | float | dt.date | None
MAIN = NS["m"]
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FORMULA_START = tuple("=+-@\t\r\n") + tuple("＝＋－＠")
_EPOCH = {False: dt.date(1899, 12, 30), True: dt.date(1904, 1, 1)}
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")
_MAX_CELL_TEXT = 32_767


def safe_text(text: str) -> str:
    """Text as a cell can hold it: no XML-illegal characters, within Excel's cell limit."""
    text = _ILLEGAL_XML.sub("?", text)
    if len(text) > _MAX_CELL_TEXT:
        text = text[: _MAX_CELL_TEXT - 1] + "…"
    return text


@dataclass
class TableRows:
    """Replace a computed sheet's table body."""

    rows: Sequence[Sequence[Value]]


@dataclass
class ColumnValues:
    """Set some columns of a sheet row by row; other data rows get those cells cleared."""

    columns: Sequence[int]  # 0-based column indices
    values: Mapping[int, Sequence[Value]]  # 1-based row -> one value per column
    first_row: int  # first data row (1-based)
    last_row: int  # last data row to clear (1-based)


@dataclass
class Patch:
    tables: dict[str, TableRows] = field(default_factory=dict)  # sheet name -> rows
    columns: dict[str, ColumnValues] = field(default_factory=dict)  # sheet name -> columns


class _Styles:
    """styles.xml, and the quotePrefix twin of any cell style, added on demand."""

    def __init__(self, xml: bytes):
        self.tree = etree.fromstring(xml)
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
    def __init__(self, styles: _Styles, column_styles: Mapping[int, int], date1904: bool):
        self.styles = styles
        self.column_styles = column_styles
        self.epoch = _EPOCH[date1904]

    def xml(self, ref: str, col: int, value: Value) -> str:
        style = self.column_styles.get(col, 0)
        s = f' s="{style}"' if style else ""
        if value is None or value == "":
            return f'<c r="{ref}"{s}/>' if style else ""
        if isinstance(value, bool):
            value = "Yes" if value else "No"
        if isinstance(value, dt.date):
            return f'<c r="{ref}"{s}><v>{(value - self.epoch).days}</v></c>'
        if isinstance(value, int | float):
            return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
        text = safe_text(str(value))
        if text.startswith(_FORMULA_START):
            s = f' s="{self.styles.quote_prefixed(style)}"'
        return (
            f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>'
        )


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
    rels = etree.fromstring(archive.read(rels_path))
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


def _replace_table_rows(
    sheet_xml: bytes, table_xml: bytes | None, rows: Sequence[Sequence[Value]], cells: _CellWriter
) -> tuple[bytes, bytes | None]:
    sheet = etree.fromstring(sheet_xml)
    cells.column_styles = _column_styles(sheet)
    table = etree.fromstring(table_xml) if table_xml else None
    header_row = 1
    width = max((len(r) for r in rows), default=1)
    if table is not None:
        m = re.fullmatch(r"([A-Z]+)(\d+):([A-Z]+)(\d+)", table.get("ref"))
        header_row = int(m.group(2))
        width = len(table.findall("m:tableColumns/m:tableColumn", NS))
    first_data = header_row + 1
    last = header_row + max(len(rows), 1)
    sheet_data = sheet.find("m:sheetData", NS)
    kept = [r for r in sheet_data if int(r.get("r")) <= header_row]
    pieces = []
    for offset, row in enumerate(rows):
        r = first_data + offset
        body = "".join(cells.xml(f"{column_letter(c)}{r}", c, v) for c, v in enumerate(row))
        pieces.append(f'<row r="{r}">{body}</row>')
    new_rows = etree.fromstring(f'<sheetData xmlns="{MAIN}">{"".join(pieces)}</sheetData>')
    for child in list(sheet_data):
        sheet_data.remove(child)
    for row in (*kept, *new_rows):
        sheet_data.append(row)
    last_col = column_letter(width - 1)
    dimension = sheet.find("m:dimension", NS)
    if dimension is not None:
        dimension.set("ref", f"A1:{last_col}{last}")
    for cf in sheet.findall("m:conditionalFormatting", NS):
        cf.set("sqref", _set_range_end(cf.get("sqref"), last, first_data))
    new_table = None
    if table is not None:
        ref = re.sub(r"\d+$", str(last), table.get("ref"))
        table.set("ref", ref)
        auto = table.find("m:autoFilter", NS)
        if auto is not None:
            auto.set("ref", ref)
        new_table = _xml(table)
    return _xml(sheet), new_table


def _set_columns(sheet_xml: bytes, update: ColumnValues, cells: _CellWriter) -> bytes:
    sheet = etree.fromstring(sheet_xml)
    cells.column_styles = _column_styles(sheet)
    wanted = set(update.columns)
    for row in sheet.find("m:sheetData", NS):
        r = int(row.get("r"))
        if r < update.first_row or r > update.last_row:
            continue
        for c in list(row):
            m = _CELL_REF.match(c.get("r", ""))
            if m and _column_number(m.group(1)) in wanted:
                row.remove(c)
        values = update.values.get(r)
        if values is not None:
            new = [
                cells.xml(f"{column_letter(col)}{r}", col, v)
                for col, v in zip(update.columns, values, strict=True)
            ]
            frag = etree.fromstring(f'<row xmlns="{MAIN}">{"".join(new)}</row>')
            for cell in frag:
                _insert_in_order(row, cell)
        row.attrib.pop("spans", None)  # a hint only; stale spans are worse than none
    return _xml(sheet)


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _insert_in_order(row: etree._Element, cell: etree._Element) -> None:
    col = _column_number(_CELL_REF.match(cell.get("r")).group(1))
    for i, existing in enumerate(row):
        m = _CELL_REF.match(existing.get("r", ""))
        if m and _column_number(m.group(1)) > col:
            row.insert(i, cell)
            return
    row.append(cell)


def _xml(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", standalone=True)


def apply_patch(data: bytes, patch: Patch) -> bytes:
    """Return new workbook bytes with the patch applied; every other member is copied as is."""
    source = zipfile.ZipFile(io.BytesIO(data))
    parts, date1904 = sheet_parts(source)
    styles = _Styles(source.read("xl/styles.xml"))
    cells = _CellWriter(styles, {}, date1904)
    replaced: dict[str, bytes] = {}
    for name, update in patch.tables.items():
        part = parts[name]
        sheet = etree.fromstring(source.read(part))
        table_part = _table_part(source, part, sheet)
        table_xml = source.read(table_part) if table_part else None
        new_sheet, new_table = _replace_table_rows(source.read(part), table_xml, update.rows, cells)
        replaced[part] = new_sheet
        if table_part and new_table is not None:
            replaced[table_part] = new_table
    for name, update in patch.columns.items():
        part = parts[name]
        replaced[part] = _set_columns(replaced.get(part, source.read(part)), update, cells)
    if styles.changed:
        replaced["xl/styles.xml"] = styles.xml()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as target:
        for info in source.infolist():
            body = replaced.get(info.filename)
            if body is None:
                body = source.read(info.filename)
            new_info = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            new_info.compress_type = zipfile.ZIP_DEFLATED
            new_info.external_attr = info.external_attr
            target.writestr(new_info, body)
    return out.getvalue()
