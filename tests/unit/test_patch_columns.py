"""Setting computed columns row by row in a sheet's XML (workbook_patch._set_columns): the
new cells replace the old ones and every row keeps its cells in column order, wherever the
computed columns are and whatever staff typed beside them."""

from __future__ import annotations

import re

from pyxl.adapters.workbook_patch import ColumnValues, _CellWriter, _set_columns, _Styles

STYLES = (
    b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellXfs>'
    b"</styleSheet>"
)


def sheet(*rows: str) -> bytes:
    return (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(rows)}</sheetData></worksheet>"
    ).encode()


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def set_columns(xml: bytes, columns: list[int], values: dict[int, list]) -> dict[int, list]:
    """Patch, then each row's cells as (reference, text) in document order."""
    update = ColumnValues(columns=columns, values=values, first_row=2, last_row=100)
    out = _set_columns(xml, update, _CellWriter(_Styles(STYLES), {}, False)).decode()
    rows = {}
    for number, body in re.findall(r'<row r="(\d+)"[^>]*>(.*?)</row>', out):
        cells = re.findall(r'<c r="([A-Z]+\d+)"[^>]*?(?:/>|>(.*?)</c>)', body)
        rows[int(number)] = [(ref, re.sub("<[^>]+>", "", inner)) for ref, inner in cells]
    return rows


def test_old_computed_cells_at_the_rows_end_are_replaced() -> None:
    xml = sheet(
        f'<row r="2" spans="1:4">{cell("A2", "C1")}{cell("B2", "x")}{cell("C2", "old")}'
        f"{cell('D2', 'old')}</row>",
        f'<row r="3">{cell("A3", "C2")}</row>',
    )
    rows = set_columns(xml, [2, 3], {2: ["due", 1], 3: ["late", 2]})
    assert rows[2] == [("A2", "C1"), ("B2", "x"), ("C2", "due"), ("D2", "1")]
    assert rows[3] == [("A3", "C2"), ("C3", "late"), ("D3", "2")]


def test_a_row_without_values_has_its_computed_cells_cleared() -> None:
    xml = sheet(f'<row r="2">{cell("A2", "C1")}{cell("C2", "old")}{cell("D2", "old")}</row>')
    rows = set_columns(xml, [2, 3], {})
    assert rows[2] == [("A2", "C1")]


def test_cells_typed_right_of_the_computed_columns_stay_after_them() -> None:
    xml = sheet(
        f'<row r="2">{cell("A2", "C1")}{cell("C2", "old")}{cell("D2", "old")}'
        f"{cell('F2', 'note')}</row>"
    )
    rows = set_columns(xml, [2, 3], {2: ["due", 1]})
    assert rows[2] == [("A2", "C1"), ("C2", "due"), ("D2", "1"), ("F2", "note")]


def test_computed_columns_apart_keep_the_column_between_them() -> None:
    """Staff moved one of their own columns (C) between two computed ones (B and D)."""
    xml = sheet(
        f'<row r="2">{cell("A2", "C1")}{cell("B2", "old")}{cell("C2", "mine")}'
        f"{cell('D2', 'old')}</row>"
    )
    rows = set_columns(xml, [3, 1], {2: [7, "due"]})
    assert rows[2] == [("A2", "C1"), ("B2", "due"), ("C2", "mine"), ("D2", "7")]
