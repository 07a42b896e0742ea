"""Zip members read with ISA-L give exactly zipfile's bytes, and a damaged member is refused
(on the plain path too)."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Iterator

import pytest
import python_calamine

from pyxl.adapters import package_bounds as bounds
from pyxl.adapters import speed, workbook_reader
from pyxl.adapters.speed import compressed_member, read_member

TEXT = b"<sheetData>" + b"<row r='1'><c r='A1'><v>1</v></c></row>" * 5000 + b"</sheetData>"


@pytest.fixture(params=["fast", "plain"])
def either_path(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.param == "plain":
        with speed.plain():
            yield
    else:
        yield


def archive(method: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        z.writestr("xl/worksheets/sheet1.xml", TEXT)
        z.writestr("empty.xml", b"")
    return out.getvalue()


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_a_member_reads_as_zipfile_reads_it(method: int, either_path: None) -> None:
    z = zipfile.ZipFile(io.BytesIO(archive(method)))
    for name in z.namelist():
        assert read_member(z, name) == z.read(name)


def test_the_compressed_bytes_are_the_member_as_stored() -> None:
    z = zipfile.ZipFile(io.BytesIO(archive(zipfile.ZIP_DEFLATED)))
    info = z.getinfo("xl/worksheets/sheet1.xml")
    assert len(compressed_member(z, info)) == info.compress_size < len(TEXT)


def test_a_member_whose_bytes_do_not_match_its_crc_is_refused(either_path: None) -> None:
    data = bytearray(archive(zipfile.ZIP_DEFLATED))
    z = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = z.getinfo("xl/worksheets/sheet1.xml")
    # Rewrite the member's CRC in its central-directory entry (the first one): the content no
    # longer matches it.
    at = data.find(b"PK\x01\x02")
    data[at + 16 : at + 20] = (info.CRC ^ 1).to_bytes(4, "little")
    damaged = zipfile.ZipFile(io.BytesIO(bytes(data)))
    with pytest.raises(zipfile.BadZipFile, match=r"(?i)bad CRC-32"):
        read_member(damaged, "xl/worksheets/sheet1.xml")
    with pytest.raises(zipfile.BadZipFile, match=r"(?i)bad CRC-32"):
        workbook_reader._scan(damaged, "xl/worksheets/sheet1.xml", 3)


SHEET = (
    b'<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    b'<row r="3"><c r="A3" t="s"><v>1</v></c><c r="B3"/><c r="C3" t="inlineStr"><is><t>Date'
    b"</t></is></c></row>"
    + b"".join(
        b'<row r="%d"><c r="A%d"><v>%d</v></c><c r="B%d" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
        % (r, r, r, r)
        for r in range(4, 400)
    )
    + b'</sheetData><mergeCells count="1"><mergeCell ref="D5:E6"/></mergeCells></worksheet>'
)


@pytest.mark.parametrize("step", [7, 64, 1 << 20])
def test_a_sheet_scanned_piece_by_piece_finds_everything(
    step: int, either_path: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pieces end anywhere (inside a cell, a tag, the merge list): nothing is missed twice,
    on either speed path."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("sheet.xml", SHEET)
    monkeypatch.setattr(speed, "_STEP", step)
    errors, merged, headers, extent, booleans = workbook_reader._scan(
        zipfile.ZipFile(io.BytesIO(out.getvalue())), "sheet.xml", 3
    )
    assert errors == {(r - 1, 1): "#DIV/0!" for r in range(4, 400)}
    assert merged == [((4, 3), (5, 4))]
    assert headers == {0, 2}
    assert (extent.rows, extent.last_row) == (398, 399)
    assert not booleans


def test_row_blocks_hold_whole_rows_wherever_the_pieces_end() -> None:
    """However the inflated pieces are cut (inside a row, inside `</row>`, with pieces that
    end no row), the blocks are the sheet again, each ending after a whole row."""
    rnd = random.Random(11)
    for _ in range(500):
        rows = b"".join(
            b'<row r="%d"><c r="A%d"><v>%s</v></c></row>' % (i, i, b"7" * rnd.randint(0, 9))
            for i in range(1, rnd.randint(1, 30))
        )
        xml = b"<sheetData>" + rows + b"</sheetData><mergeCells/>"
        cuts = sorted(rnd.sample(range(len(xml) + 1), rnd.randint(0, 12)))
        pieces = [xml[a:b] for a, b in zip([0, *cuts], [*cuts, len(xml)], strict=True)]
        blocks = list(bounds.row_blocks(iter(pieces)))
        assert b"".join(blocks) == xml
        assert all(not b or b.endswith(b"</row>") for b in blocks[:-1])
        assert b"</row>" not in blocks[-1]


@pytest.mark.parametrize("space", [b" ", b"\n", b"\t", b"\r\n"])
def test_a_far_cell_is_found_whatever_whitespace_comes_before_its_address(space: bytes) -> None:
    """XML lets any whitespace separate attributes, and the parsers read `<c\\nr="XFD5">`
    as they read `<c r="XFD5">`: the scan must see it too."""
    extent = bounds.SheetExtent()
    extent.note(
        b'<sheetData><row r="5"><c r="A5"><v>1</v></c><c' + space + b'r="XFD5"><v>1</v></c></row>'
    )
    assert extent.stray_columns() == (25, ["XFD5"])


def test_a_search_finds_what_re_finds_on_either_path(either_path: None) -> None:
    """The fast path searches a sheet's XML with RE2, the plain one with `re`: the same
    answers, wherever the match falls and wherever the search starts (and in bytes that are
    not UTF-8)."""
    rng = random.Random(7)
    alphabet = b"<>:cr=\"ABZabz01 ='\t/\xff\x00" + b"9" * 8
    for pattern in (*bounds._long_positions(6), bounds._MAYBE_PREFIXED, bounds._ODD_TAG):
        for _ in range(2000):
            data = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
            start = rng.randrange(0, len(data) + 1)
            found = pattern.search(data, start) is not None
            assert speed.search(pattern, data, start) == found, (pattern, data, start)
    wide = bounds._long_positions(7)[0]
    plain = TEXT.replace(b"'", b'"')
    assert speed.search(wide, plain) is False
    assert speed.search(wide, plain + b'<c r="AB7">') is True
    assert speed.search(wide, b'<c r="AB7">' + plain, 6) is False


HEAD = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<dimension ref="A1:C5"/><sheetData>'
)
TAIL = (
    b'</sheetData><conditionalFormatting sqref="A1:A9"><cfRule type="cellIs" priority="1" '
    b'operator="lessThan"><formula>0</formula></cfRule></conditionalFormatting></worksheet>'
)
# Excel's own prefixed elements: a dropdown's list on another sheet.
EXCEL_EXTENSIONS = (
    b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"><x14:dataValidations count="1">'
    b'<x14:dataValidation type="list"><x14:formula1><xm:f>Lists!$A$4:$A$9</xm:f></x14:formula1>'
    b"<xm:sqref>Z4:Z9</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>"
    b"</worksheet>"
)
ODD_POSITIONS = [b"r='XFD5'", b'r = "XFD5"', b'r\t=\t"XFD5"', b"r\n=\r\n'XFD5'", b'r="xfd5"']


@pytest.mark.parametrize("written", [*ODD_POSITIONS, b'r="XfD5"', b"r='A5'"])
def test_a_position_written_as_excel_never_writes_it_is_noticed(
    written: bytes, either_path: None
) -> None:
    """XML and the parsers allow single quotes, whitespace around the = and small letters
    (python-calamine reads r="xfd5" as XFD5); the scan looks for r=" and capital letters, so
    such a sheet is read from a copy written plainly."""
    extent = bounds.SheetExtent()
    extent.note(HEAD + b'<row r="5"><c r="A5"><v>1</v></c><c ' + written + b"><v>1</v></c></row>")
    assert extent.odd
    later = bounds.SheetExtent()
    later.note(HEAD + b'<row r="4"><c r="A4"><v>1</v></c></row>')
    later.note(b'<row r="5"><c ' + written + b"><v>1</v></c></row>" + TAIL)
    assert later.odd


def test_the_usual_sheet_is_not_odd(either_path: None) -> None:
    """The sheet's head (xmlns:r="http..."), what follows the cells (operator="lessThan") and
    Excel's extensions (<xm:f>) are neither odd positions nor prefixed cells."""
    extent = bounds.SheetExtent()
    extent.note(HEAD + b'<row r="5"><c r="A5" s="1" t="s"><v>1</v></c><c r="AB5"><v>1</v></c>')
    extent.note(b"</row>" + TAIL.replace(b"</worksheet>", EXCEL_EXTENSIONS))
    assert not extent.odd
    assert extent.stray_columns() is None


@pytest.mark.parametrize(
    "row",
    [
        b'<row spans="1:2" r="5"><c r="A5"><v>1</v></c></row>',  # the row's position last
        b'<row r="5"><c s="1" r="A5"><v>1</v></c></row>',  # the cell's
        b'<row\tr="5"><c r="A5"><v>1</v></c></row>',  # after a tab
        b'<row r="5"><c\nr="A5"><v>1</v></c></row>',  # after a line break
        b'<row r="5"><c  r="A5"><v>1</v></c></row>',  # after two spaces
        b'<row r="5"><c t="s"><v>1</v></c></row>',  # no position
        b'<row><c r="A5"><v>1</v></c></row>',  # a row without one
        b"<row r='5'><c r=\"A5\"><v>1</v></c></row>",  # quoted with '
    ],
)
def test_pyxls_writer_knows_a_cell_or_row_begun_otherwise_than_excel_begins_it(
    row: bytes, either_path: None
) -> None:
    """The writer finds cells and rows by `<c r="` and `<row r="`: a sheet where one begins
    otherwise is not written into (its heading or summary would stay stale)."""
    assert bounds.written_oddly(HEAD + row + TAIL)


def test_excels_own_sheet_is_written_into(either_path: None) -> None:
    """Excel's head and tail (<cols><col>, <conditionalFormatting>, <cfRule>, <rowBreaks>),
    its extensions and its cells are as it begins them."""
    cells = b'<row r="5" spans="1:2"><c r="A5" s="1" t="s"><v>1</v></c><c r="B5" s="1"/></row>'
    breaks = b'<rowBreaks count="1"><brk id="5"/></rowBreaks>'
    tail = TAIL.replace(b"</worksheet>", breaks + EXCEL_EXTENSIONS)
    assert not bounds.written_oddly(
        HEAD.replace(b"<sheetData>", b'<cols><col min="1" max="2"/></cols><sheetData>')
        + cells
        + tail
    )


def odd_workbook(cells: bytes) -> bytes:
    """A small workbook whose one sheet ends with `cells` (rows) after a header and a value."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml'
            '.worksheet+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        z.writestr(
            "xl/worksheets/sheet1.xml",
            HEAD
            + b'<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c></row>'
            + b'<row r="2"><c r="A2"><v>7</v></c></row>'
            + cells
            + TAIL,
        )
    return out.getvalue()


def cells_of(data: bytes) -> list[list[object]]:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    return book.get_sheet_by_name("S").to_python(skip_empty_area=False)


@pytest.mark.parametrize("written", ODD_POSITIONS)
def test_the_plain_copy_holds_what_the_parsers_read_and_its_far_cells_are_found(
    written: bytes,
) -> None:
    """The copy's cells are the original's, as python-calamine reads both (on a sheet without
    far cells: they would exhaust its memory); its positions are plain, so a far cell (XFD5)
    and a far row are found and left out as stray."""

    def row(position: bytes, far_row: bytes) -> bytes:
        def at(address: bytes) -> bytes:
            return written.replace(b"XFD5", address).replace(b"xfd5", address.lower())

        return (
            b"<row "
            + at(b"5")
            + b"><c r = 'B5' t='inlineStr' s=\"0\"><is><t>it's \"quoted\" r = 'x'</t></is></c>"
            + b"<c "
            + at(position)
            + b' note="a>b"><v>1</v></c></row><row '
            + at(far_row.lstrip(b"A"))
            + b"><c "
            + at(far_row)
            + b"><v>2</v></c></row>"
        )

    near = odd_workbook(row(b"C5", b"A9"))
    assert cells_of(bounds.plain_positions(near, "xl/worksheets/sheet1.xml")) == cells_of(near)
    far = odd_workbook(row(b"XFD5", b"A900000"))
    sheet = workbook_reader.read_raw(far, {"S"}).sheets["S"]
    assert sheet.stray is not None and (sheet.stray.first, sheet.stray.count) == ("XFD5", 2)
    assert sheet.stray.ends == "row 5"
    quoted = "it's \"quoted\" r = 'x'"
    assert sheet.values == [["Name", ""], [7.0, ""], ["", ""], ["", ""], ["", quoted]]
    assert cells_of(workbook_reader.parsable(far, "S")) == sheet.values


def test_prefixed_elements_are_read_from_a_plain_copy() -> None:
    """Some generators write every element with a prefix (<x:c>, <x:v>); the parsers read
    them by their local name, so pyxl does too: a far cell is found and left out."""
    ns = b' xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'

    def row(far: bytes) -> bytes:
        return (
            b"<x:row" + ns + b' r="5"><x:c r="A5"><x:v>3</x:v></x:c><x:c r="' + far + b'" '
            b't="inlineStr"><x:is><x:t>x</x:t></x:is></x:c></x:row>'
        )

    near = odd_workbook(row(b"C5"))
    assert cells_of(bounds.plain_positions(near, "xl/worksheets/sheet1.xml")) == cells_of(near)
    far = odd_workbook(row(b"XFD5"))
    sheet = workbook_reader.read_raw(far, {"S"}).sheets["S"]
    assert sheet.stray is not None and sheet.stray.first == "XFD5"
    assert sheet.values == [["Name"], [7.0], [""], [""], [3.0]]


@pytest.mark.parametrize(
    "cells",
    [
        b'<row r="4000000000"><c r="A4000000000"><v>1</v></c></row>',  # in order
        b'<row r="3"><c r="B4000000000"><v>1</v></c></row>',  # the cell's own position
        b'<row><c r="A4000000000"><v>1</v></c></row>',  # a row without its number
        b"<row r = '4000000000'><c r='a4000000000'><v>1</v></c></row>",  # written oddly
    ],
)
def test_a_position_past_excels_last_row_is_refused(cells: bytes, either_path: None) -> None:
    """python-calamine lays out every row up to the last position it reads, wherever that
    position is written: past Excel's 1,048,576 rows the process would die."""
    data = odd_workbook(cells)
    with pytest.raises(bounds.WorkbookTooBig, match=r"'S'.*4000000000, past Excel's last row"):
        list(workbook_reader.read_raw(data, {"S"}).arrivals())
    with pytest.raises(bounds.WorkbookTooBig, match="past Excel's last row"):
        workbook_reader.parsable(data, "S")


@pytest.mark.parametrize(
    ("cells", "first", "ends"),
    [
        (b'<row r="3"><c r="B600000"><v>1</v></c></row>', "B600000", "row 2"),  # its own
        (b'<row><c r="A600000"><v>1</v></c></row>', "A600000", "row 2"),  # no row number
        (  # rows out of order
            b'<row r="600000"><c r="A600000"><v>1</v></c></row><row r="4"><c r="A4"><v>2</v>'
            b"</c></row>",
            "A600000",
            "row 4",
        ),
        (b'<row r="40000"><c r="A40000"><v>1</v></c></row>', "A40000", "row 2"),  # in order
    ],
)
def test_a_far_row_is_found_however_it_is_written(
    cells: bytes, first: str, ends: str, either_path: None
) -> None:
    """python-calamine lays out every row between a sheet's first and last positions: a
    value far below the rest is stray wherever its position is written."""
    sheet = workbook_reader.read_raw(odd_workbook(cells), {"S"}).sheets["S"]
    assert sheet.stray is not None
    assert (sheet.stray.first, sheet.stray.count, sheet.stray.ends) == (first, 1, ends)
    assert len(sheet.values) == int(ends.split()[1])


def test_rows_far_apart_by_less_than_the_gap_are_all_read() -> None:
    cells = b'<row r="9000"><c r="A9000"><v>1</v></c></row><row r="3"><c r="A3"><v>2</v></c></row>'
    sheet = workbook_reader.read_raw(odd_workbook(cells), {"S"}).sheets["S"]
    assert sheet.stray is None and len(sheet.values) == 9000


def test_a_merge_reaching_excels_last_cell_covers_only_the_cells_read() -> None:
    """A merge of A1:XFD1048576 is 17 billion cells; past the cells read it covers nothing."""
    whole = [((0, 0), (1048575, 16383))]
    sheet = workbook_reader.RawSheet("S", [["a", "b", "c"]] * 5, merged=whole)
    covered = list(sheet.merged_cells())
    assert len(covered) == 5 * 3 - 1
    assert {address for _, _, address in covered} == {"A1:XFD1048576"}


def test_overlapping_merges_are_refused() -> None:
    """Excel does not allow them, and each would be listed cell by cell again."""
    sheet = workbook_reader.RawSheet(
        "S", [["a", "b", "c"]] * 5, merged=[((0, 0), (1048575, 16383)), ((1, 1), (2, 2))]
    )
    with pytest.raises(workbook_reader.WorkbookUnreadable, match=r"'S'.*merged cells overlap"):
        list(sheet.merged_cells())


def test_cells_without_positions_are_placed_as_the_parsers_place_them() -> None:
    """A cell without r goes in the column after the cell before, on its row's row (even when
    that cell's own position is on another row); a row without r after the row before."""
    cells = (
        b'<row r="5"><c r="C5"><v>1</v></c><c><v>2</v></c><c/><c t="n"><v>3</v></c></row>'
        b'<row><c><v>4</v></c></row><row r="8"><c r="B9"><v>5</v></c><c><v>6</v></c></row>'
    )
    data = odd_workbook(cells)
    plain = bounds.plain_positions(data, "xl/worksheets/sheet1.xml")
    sheet_xml = zipfile.ZipFile(io.BytesIO(plain)).read("xl/worksheets/sheet1.xml")
    assert b'<c r="D5"><v>2</v>' in sheet_xml and b'<c r="F5" t="n">' in sheet_xml
    assert b'<row r="6"><c r="A6">' in sheet_xml and b'<c r="C8"><v>6</v>' in sheet_xml
    assert cells_of(plain) == cells_of(data)
    assert workbook_reader.read_raw(data, {"S"}).sheets["S"].values == cells_of(data)


@pytest.mark.parametrize("positions", [True, False])
def test_one_row_as_wide_as_excel_in_a_long_sheet_is_cut_to_what_fits(
    positions: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parsers lay out every row as wide as the widest: 16,384 columns on one row of a
    sheet of 100,000 rows would be 1.6 billion cells (52 GB). The columns past what fits are
    stray, whether their cells say where they are or not."""
    monkeypatch.setattr(bounds, "MAX_CELLS", 200_000)
    rows = b"".join(
        b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (r, r, r) for r in range(3, 2003)
    )
    wide = b"".join(
        (b'<c r="%s2003">' % bounds.column_letter(c).encode() if positions else b"<c>")
        + b"<v>1</v></c>"
        for c in range(16384)
    )
    data = odd_workbook(rows + b'<row r="2003">' + wide + b"</row>")
    sheet = workbook_reader.read_raw(data, {"S"}).sheets["S"]
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    width = max(map(len, sheet.values))
    assert sheet.stray is not None
    assert sheet.stray.first == f"{bounds.column_letter(width)}2003"
    assert sheet.stray.count == 16384 - width
    assert len(xml) // 16 < 200_000  # the budget is MAX_CELLS here
    assert width > 26 and len(sheet.values) * width <= 200_000


def test_a_sheet_filled_as_wide_as_it_is_long_is_not_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell takes bytes of XML: a sheet that holds its width in every row always fits."""
    monkeypatch.setattr(bounds, "MAX_CELLS", 1_000)
    rows = b"".join(
        b'<row r="%d">' % r
        + b"".join(
            b'<c r="%s%d"><v>1</v></c>' % (bounds.column_letter(c).encode(), r) for c in range(60)
        )
        + b"</row>"
        for r in range(3, 103)
    )
    sheet = workbook_reader.read_raw(odd_workbook(rows), {"S"}).sheets["S"]
    assert sheet.stray is None and max(map(len, sheet.values)) == 60
