"""Hostile and unlucky workbooks: a clear one-line message (exit 2) or, for a stray cell, an
Errors row and normal results, with the memory of every run bounded.

Each file is a small real caseload with one thing made wrong, as an attacker or an unlucky
office would. Each command runs in a child process under an address-space cap (so a failure
cannot take the machine down) and its peak resident memory is read from the kernel.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import python_calamine

from pyxl.adapters import package_bounds
from pyxl.adapters.workbook_reader import sheet_parts
from pyxl.services.new_workbook import create_workbook
from pyxl.services.recompute import recompute

AS_OF = dt.date(2026, 11, 23)
MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
ADDRESS_SPACE_CAP = 2 << 30  # the child dies rather than swap the test machine
PEAK_RSS_BOUND = 400 << 20  # a small caseload needs about 115 MB


_CAPPED = """
import resource, subprocess, sys
cap, report = int(sys.argv[1]), sys.argv[2]
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
done = subprocess.run(sys.argv[3:])
with open(report, "w") as f:
    f.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(done.returncode)
"""


def run_capped(*args: object) -> tuple[subprocess.CompletedProcess, int]:
    """`pyxl ARGS` in a child under ADDRESS_SPACE_CAP; its result and peak RSS in bytes
    (the kernel's ru_maxrss of that one child, read by a small parent of its own)."""
    report = Path(os.environ.get("TMPDIR", "/tmp")) / f"pyxl-peak-{os.getpid()}"
    command = [sys.executable, "-m", "pyxl.cli", *map(str, args)]
    done = subprocess.run(
        [sys.executable, "-c", _CAPPED, str(ADDRESS_SPACE_CAP), str(report), *command],
        capture_output=True,
        text=True,
        timeout=600,
    )
    peak = int(report.read_text()) * 1024
    report.unlink()
    return done, peak


@pytest.fixture(scope="module")
def caseload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small recomputed caseload: one client with a contact."""
    from pyxl.services import demo

    folder = tmp_path_factory.mktemp("caseload")
    return demo.run_demo(folder, as_of=AS_OF, n_clients=30).path


def rewrite(source: Path, target: Path, part_of_sheet: str, change) -> Path:
    """A copy of `source` whose sheet (or part, if it contains '/') is `change(xml)`."""

    with zipfile.ZipFile(source) as zin:
        parts, _ = sheet_parts(zin)
        part = part_of_sheet if "/" in part_of_sheet else parts[part_of_sheet]
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info)
                if info.filename == part:
                    data = change(data)
                zout.writestr(info, data)
    return target


def with_cell(address: str, text: str = "x", reordered: bool | str = False):
    row = re.sub(r"[A-Z]", "", address)
    space = reordered if isinstance(reordered, str) else " "  # XML allows any whitespace
    cell = f'<row r="{row}"><c{space}r="{address}" t="inlineStr"><is><t>{text}</t></is></c></row>'
    if reordered is True:  # attributes in another order than Excel's, as a forged file has
        cell = (
            f'<row spans="1:1" r="{row}"><c t="inlineStr" s="0" r="{address}"><is><t>{text}'
            "</t></is></c></row>"
        )
    return lambda xml: xml.replace(b"</sheetData>", cell.encode() + b"</sheetData>")


def one_line_refusal(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if not line.startswith("...")]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("pyxl: ")
    return lines[0]


def errors_sheet(path: Path) -> list[list[object]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name("Errors").to_python()


def contacts(path: Path) -> list[str]:
    """The Contacts table's Case IDs (without the stray cell: read by pyxl)."""
    from pyxl.adapters.caseload_file import reading

    book = reading(path).read({"Contacts"}, columnar=False)
    return [row[0] for row in book.sheets["Contacts"].values[3:] if row and row[0]]


def due_list(path: Path) -> list[list[object]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name("Due List").to_python()


@pytest.mark.parametrize(
    ("sheet", "address", "reordered"),
    [
        ("Contacts", "XFD1048576", False),
        ("Contacts", "XFD5000", False),
        ("Clients", "A1048576", False),
        ("Contacts", "XFD1048576", True),
        ("Hours", "AAA70000", True),  # recompute writes Clients: refused there
        ("Contacts", "XFD5000", "\n"),
    ],
)
def test_a_stray_far_cell_is_an_errors_row_and_the_results_are_normal(
    caseload: Path, tmp_path: Path, sheet: str, address: str, reordered: bool | str
) -> None:
    stray = rewrite(caseload, tmp_path / "stray.xlsx", sheet, with_cell(address, "x", reordered))
    assert_found_and_left_out(caseload, stray, sheet, address)


@pytest.mark.parametrize(
    ("written", "address"),
    [
        ("r='{}'", "XFD1048576"),
        ('r = "{}"', "XFD5000"),
        ("r\t=\n'{}'", "AAA70000"),
        ('r="{}"', "xfd5000"),
        ('x:row r="{}"', "XFD5000"),
    ],
)
def test_a_far_cell_written_as_excel_never_writes_it_is_found_all_the_same(
    caseload: Path, tmp_path: Path, written: str, address: str
) -> None:
    """XML allows single quotes and spaces around the =, python-calamine reads small letters
    and prefixed elements: such a far cell costs the parsers as much memory as any other."""
    row = re.sub(r"[A-Za-z]", "", address)
    if written.startswith("x:"):  # the row and its cell with a prefix, as some generators write
        ns = 'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        cell = (
            f'<x:row {ns} r="{row}"><x:c r="{address}" t="inlineStr"><x:is><x:t>x</x:t>'
            "</x:is></x:c></x:row>"
        )
    else:
        cell = (
            f'<row {written.format(row)}><c {written.format(address)} t="inlineStr"><is><t>x'
            "</t></is></c></row>"
        )
    stray = rewrite(
        caseload,
        tmp_path / "stray.xlsx",
        "Contacts",
        lambda xml: xml.replace(b"</sheetData>", cell.encode() + b"</sheetData>"),
    )
    assert_found_and_left_out(caseload, stray, "Contacts", address.upper())


@pytest.mark.parametrize("form", ["a near row's cell", "a row without its number", "out of order"])
def test_a_far_row_is_found_however_its_position_is_written(
    caseload: Path, tmp_path: Path, form: str
) -> None:
    """The parsers put a value where its cell says, in whatever order the rows come, and lay
    out every row up to it: a million rows for one forged cell."""
    cell = b'<c r="B1048576" t="inlineStr"><is><t>x</t></is></c>'

    def change(xml: bytes) -> bytes:
        if form == "a near row's cell":
            at = xml.rfind(b"</row>")
            return xml[:at] + cell + xml[at:]
        if form == "a row without its number":
            return xml.replace(b"</sheetData>", b"<row>" + cell + b"</row></sheetData>")
        return xml.replace(b"<sheetData>", b'<sheetData><row r="1048576">' + cell + b"</row>")

    stray = rewrite(caseload, tmp_path / "stray.xlsx", "Contacts", change)
    assert_found_and_left_out(caseload, stray, "Contacts", "B1048576")


def test_a_merge_of_the_whole_sheet_is_reported_cell_by_cell_in_bounded_memory(
    caseload: Path, tmp_path: Path
) -> None:
    """A1:XFD1048576 merged: the cells it covers are listed only among the cells read (before:
    17 billion of them, and the run died)."""
    merge = b'<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>'
    merged = rewrite(
        caseload,
        tmp_path / "merged.xlsx",
        "Contacts",
        lambda xml: xml.replace(b"</sheetData>", b"</sheetData>" + merge, 1),
    )
    done, peak = run_capped("check", merged, "--as-of", AS_OF)
    assert done.returncode == 1, done.stderr[-2000:]
    assert peak < PEAK_RSS_BOUND, f"peak RSS {peak >> 20} MB"
    assert "Contacts!B4 [Date] error: the cell is inside the merged range A1:XFD1048576" in (
        done.stdout
    )


WRITTEN_OTHERWISE = {
    "prefixed": lambda xml: re.sub(rb"<(/?)(row|c|v|is|t|f)\b", rb"<\1x:\2", xml).replace(
        b"<worksheet ", b'<worksheet xmlns:x="' + MAIN_NS + b'" ', 1
    ),
    "quoted": lambda xml: re.sub(rb'<(row|c) r="([A-Z]*[0-9]+)"', rb"<\1 r='\2'", xml),
    # the position last among the attributes (`<c s="2" t="s" r="B7">`), or after a tab
    "position last": lambda xml: re.sub(
        rb'<(row|c) r="([A-Z]*[0-9]+)"([^>]*?)(/?)>', rb'<\1\3 r="\2"\4>', xml
    ),
    "tab": lambda xml: re.sub(rb'<(row|c) r="', rb'<\1\tr="', xml),
}


@pytest.mark.parametrize(
    ("sheet", "command"),
    [("Clients", "recompute"), ("Due List", "recompute"), ("Contacts", "letters")],
)
@pytest.mark.parametrize("label", WRITTEN_OTHERWISE)
def test_a_sheet_written_as_excel_never_writes_it_is_read_but_not_written_into(
    caseload: Path, tmp_path: Path, sheet: str, command: str, label: str
) -> None:
    """Another program's way of writing cells (prefixed elements, quoted positions, the
    position after another attribute or a tab) is read as the readers read it; pyxl's writer
    looks for cells as Excel writes them, so it refuses to write rather than leave the
    Clients summary or the Due List's heading stale (recompute wrote nothing there and said it
    was done) or double a row of Contacts."""
    form = WRITTEN_OTHERWISE[label]
    odd = rewrite(caseload, tmp_path / f"{label}.xlsx", sheet, form)
    before = odd.read_bytes()
    done, _ = run_capped("check", odd, "--as-of", AS_OF)
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr[-2000:]
    out = tmp_path / "letters"
    extra = ["--out", out] if command == "letters" else []
    done, _ = run_capped(command, odd, "--as-of", AS_OF, *extra)
    line = one_line_refusal(done)
    assert f"Sheet {sheet!r}" in line and "Open the workbook in Excel or LibreOffice" in line
    assert odd.read_bytes() == before
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("sheet", ["Due List", "Errors", "Supervisor"])
def test_a_filled_sheet_converted_to_a_range_is_refused_in_one_line(
    caseload: Path, tmp_path: Path, sheet: str
) -> None:
    """Excel's Table Design > Convert to Range takes the table off a sheet pyxl fills. Before,
    the writer put its rows from row 2, over the titles and headers; the check of the new
    version caught it ("the Due List sheet has 1128 rows, expected 1130")."""
    ranged = rewrite(
        caseload,
        tmp_path / "range.xlsx",
        sheet,
        lambda xml: re.sub(rb"<tableParts\b.*?</tableParts>", b"", xml, flags=re.S),
    )
    before = ranged.read_bytes()
    done, _ = run_capped("recompute", ranged, "--as-of", AS_OF + dt.timedelta(days=7))
    line = one_line_refusal(done)
    assert f"Sheet {sheet!r}" in line and "no longer an Excel table" in line
    assert ranged.read_bytes() == before


def test_excels_own_prefixed_elements_are_neither_odd_nor_refused(
    caseload: Path, tmp_path: Path
) -> None:
    """Excel writes a dropdown whose list is on another sheet with <xm:f> in the sheet's
    extensions: an Excel file like any other."""
    ext = (
        b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" xmlns:x14="http://schemas.'
        b'microsoft.com/office/spreadsheetml/2009/9/main"><x14:dataValidations count="1" '
        b'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><x14:dataValidation '
        b'type="list"><x14:formula1><xm:f>Lists!$A$4:$A$9</xm:f></x14:formula1><xm:sqref>Z4:Z9'
        b"</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst></worksheet>"
    )
    excel = rewrite(
        caseload,
        tmp_path / "excel.xlsx",
        "Clients",
        lambda xml: xml.replace(b"</worksheet>", ext) if b"<extLst>" not in xml else xml,
    )
    assert b"<xm:f>" in zipfile.ZipFile(excel).read("xl/worksheets/sheet4.xml")
    done, _ = run_capped("recompute", excel, "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr[-2000:]


def test_entities_in_a_table_part_are_refused_in_one_line(caseload: Path, tmp_path: Path) -> None:
    """The writer reads the tables it appends to: a DOCTYPE there is refused like one in a
    sheet, before anything is written (before: a traceback from the XML parser)."""
    doctype = b'<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
    forged = rewrite(
        caseload,
        tmp_path / "forged.xlsx",
        "xl/tables/table4.xml",
        lambda xml: xml.replace(b"?>", b"?>" + doctype, 1),
    )
    before = forged.read_bytes()
    out = tmp_path / "letters"
    done, _ = run_capped("letters", forged, "--as-of", AS_OF, "--out", out)
    line = one_line_refusal(done)
    assert "xl/tables/table4.xml declares XML entities" in line
    assert forged.read_bytes() == before
    assert not out.exists() or not any(out.iterdir())


def assert_found_and_left_out(caseload: Path, stray: Path, sheet: str, address: str) -> None:
    """`pyxl recompute` of the workbook with the stray cell runs in bounded memory, names the
    cell on the Errors sheet, and gives the Due List of the workbook without it."""
    clean = stray.with_name("clean.xlsx")
    clean.write_bytes(caseload.read_bytes())
    done, peak = run_capped("recompute", stray, "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr[-2000:]
    assert peak < PEAK_RSS_BOUND, f"peak RSS {peak >> 20} MB"
    rows = [r for r in errors_sheet(stray) if r[3] == address]
    assert len(rows) == 1, errors_sheet(stray)[:6]
    assert rows[0][0] == sheet and "far beyond the rest of the sheet" in rows[0][6]
    recompute(clean, AS_OF)
    assert due_list(stray) == due_list(clean)


def test_letters_are_logged_in_a_workbook_with_a_stray_far_cell(
    caseload: Path, tmp_path: Path
) -> None:
    """Logging the letters appends rows to Contacts, and counts that sheet's rows before and
    after: the count, too, reads the sheet without its stray cell."""
    stray = rewrite(caseload, tmp_path / "stray.xlsx", "Contacts", with_cell("XFD1048576"))
    before = len(contacts(stray))
    done, peak = run_capped("letters", stray, "--as-of", AS_OF, "--out", tmp_path / "letters")
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert peak < PEAK_RSS_BOUND, f"peak RSS {peak >> 20} MB"
    made = re.search(r"Logged (\d+) letters", done.stdout)
    assert made and int(made[1]) > 0, done.stdout
    assert len(contacts(stray)) == before + int(made[1])


@pytest.mark.parametrize(
    "claim",
    [
        b'uniqueCount="4000000000"',
        b"uniqueCount='4000000000'",  # written as XML allows and Excel never does
        b'uniqueCount = "4000000000"',
        b'x:prefixed uniqueCount="4000000000"',
    ],
)
def test_shared_strings_claiming_four_billion_strings_is_refused(
    caseload: Path, tmp_path: Path, claim: bytes
) -> None:
    def forge(xml: bytes) -> bytes:
        xml = re.sub(rb'uniqueCount="\d+"', claim.replace(b"x:prefixed ", b""), xml, count=1)
        if claim.startswith(b"x:"):  # every element with a prefix, as some generators write
            xml = re.sub(rb"<(/?)(sst|si|t|r|rPr)\b", rb"<\1x:\2", xml)
            xml = xml.replace(b"<x:sst ", b'<x:sst xmlns:x="' + MAIN_NS + b'" ', 1)
        return xml

    forged = rewrite(caseload, tmp_path / "forged.xlsx", "xl/sharedStrings.xml", forge)
    done, peak = run_capped("check", forged, "--as-of", AS_OF)
    line = one_line_refusal(done)
    assert "4,000,000,000 strings" in line and "shared strings" in line
    assert peak < PEAK_RSS_BOUND


def test_a_big_workbooks_count_of_string_cells_is_not_a_claim(
    caseload: Path, tmp_path: Path
) -> None:
    """`count` is the number of string cells (7.8 million in the 50,000-client benchmark
    workbook, whose table holds 191,271 distinct strings): the readers reserve nothing for it,
    so it is no reason to refuse a workbook."""
    big = rewrite(
        caseload,
        tmp_path / "big.xlsx",
        "xl/sharedStrings.xml",
        lambda xml: re.sub(rb'\bcount="\d+"', b'count="7793527"', xml, count=1),
    )
    assert b'count="7793527"' in zipfile.ZipFile(big).read("xl/sharedStrings.xml")
    done, peak = run_capped("check", big, "--as-of", AS_OF)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert peak < PEAK_RSS_BOUND


def test_a_sheet_with_more_rows_than_excel_allows_is_refused(
    caseload: Path, tmp_path: Path
) -> None:
    rows = b"".join(
        b"<row><c><v>%d</v></c></row>" % (n * 7919 % 1000003)
        for n in range(package_bounds.MAX_ROWS + 10)
    )
    forged = rewrite(
        caseload,
        tmp_path / "rows.xlsx",
        "Hours",
        lambda xml: re.sub(
            rb"<sheetData>.*</sheetData>", b"<sheetData>" + rows + b"</sheetData>", xml, flags=re.S
        ),
    )
    done, peak = run_capped("check", forged, "--as-of", AS_OF)
    line = one_line_refusal(done)
    assert "'Hours'" in line and f"{package_bounds.MAX_ROWS:,}" in line
    assert peak < PEAK_RSS_BOUND


def test_a_sheet_that_inflates_a_thousandfold_is_refused_before_it_is_inflated(
    caseload: Path, tmp_path: Path
) -> None:
    filler = b" " * (200 << 20)
    forged = rewrite(
        caseload,
        tmp_path / "bomb.xlsx",
        "Contacts",
        lambda xml: xml.replace(b"<sheetData>", b"<sheetData>" + filler),
    )
    assert forged.stat().st_size < 2 << 20
    done, peak = run_capped("check", forged, "--as-of", AS_OF)
    line = one_line_refusal(done)
    assert "inflates" in line and "times" in line
    assert peak < PEAK_RSS_BOUND


def test_a_sheet_inflating_past_its_declared_size_is_not_inflated_further(
    caseload: Path, tmp_path: Path
) -> None:
    """A forged local size: the reading stops where the declared size ends."""
    forged = rewrite(caseload, tmp_path / "liar.xlsx", "Contacts", lambda xml: xml)
    data = bytearray(forged.read_bytes())
    # the central directory's entry (its name starts 46 bytes in; the size is at 24)
    at = data.rfind(b"xl/worksheets/sheet5.xml") - 46
    assert data[at : at + 4] == b"PK\x01\x02"
    data[at + 24 : at + 28] = (1024).to_bytes(4, "little")
    forged.write_bytes(bytes(data))
    done, peak = run_capped("check", forged, "--as-of", AS_OF)
    assert done.returncode in {1, 2}, done.stderr
    assert "Traceback" not in done.stderr
    assert "declared size" in done.stderr or "not a readable" in done.stderr
    assert peak < PEAK_RSS_BOUND


def test_an_empty_new_workbook_passes_the_checks(tmp_path: Path) -> None:
    path = create_workbook(tmp_path / "new.xlsx", as_of=AS_OF)
    done, peak = run_capped("check", path, "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    assert peak < PEAK_RSS_BOUND
