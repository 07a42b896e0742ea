"""Zip members read with ISA-L give exactly zipfile's bytes, and a damaged member is refused
(on the plain path too)."""

from __future__ import annotations

import io
import random
import re
import zipfile
from collections.abc import Iterator

import pytest

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
    answers, wherever the match falls (and in bytes that are not UTF-8)."""
    wide = re.compile(rb'r="[A-Z][A-Z]')
    rng = random.Random(7)
    alphabet = b'<>cr="ABZ019 /\xff\x00'
    for _ in range(2000):
        data = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        assert speed.search(wide, data) == (wide.search(data) is not None), data
    assert speed.search(wide, TEXT.replace(b"'A1'", b'"A1"')) is False
    assert speed.search(wide, TEXT + b'<c r="AB7">') is True
