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


def test_a_formulas_saved_result_is_set_however_its_program_wrote_the_formula() -> None:
    """Excel's `<f>`, LibreOffice's `<f aca="false">`, a text or error result (`t="str"`,
    `t="e"`) or none: each formula cell gets the number as its saved result, for readers that
    do not recalculate."""
    from pyxl.adapters.workbook_patch import _set_results

    cells = [
        '<c r="G1" s="1"><f>SUBTOTAL(103,T[S])</f><v>7</v></c>',
        '<c r="I1" s="1" t="n"><f aca="false">SUM(A:A)</f><v>7</v></c>',
        '<c r="K1" t="str"><f aca="false">X()</f><v>old</v></c>',
        '<c r="M1" t="e" s="2"><f>1/0</f><v>#DIV/0!</v></c>',
        '<c r="O1"><f>Y()</f></c>',
    ]
    refs = ["G1", "I1", "K1", "M1", "O1"]
    xml = _set_results(sheet(f'<row r="1">{"".join(cells)}</row>'), dict.fromkeys(refs, 95))
    found = re.findall(rb'<c r="([A-Z]+1)"([^>]*)><f[^>]*>[^<]*</f><v>([^<]*)</v></c>', xml)
    assert [(r.decode(), v) for r, _, v in found] == [(r, b"95") for r in refs]
    assert not any(b"t=" in attributes for _, attributes, _ in found)
