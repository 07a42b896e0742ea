"""The columnar reading (fastexcel, whole typed columns) must give exactly what the careful
cell-by-cell reading (python-calamine) gives, and leave every sheet with anything to report
to the careful reading."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from test_messy_workbook import build_messy
from test_recompute_writes import build

from pyxl.adapters import schema
from pyxl.adapters.validation import ValidatedWorkbook, read_columnar, validate_workbook
from pyxl.adapters.workbook_reader import read_raw, sheet_parts
from pyxl.policy import default_settings
from pyxl.services import demo_data
from pyxl.services.new_workbook import create_workbook
from pyxl.services.recompute import READ_SHEETS, recompute

AS_OF = demo_data.AS_OF
DATA_SHEETS = [s.name for s in schema.INPUT_SHEETS]


def both(path: Path) -> tuple[ValidatedWorkbook, ValidatedWorkbook, dict]:
    data = path.read_bytes()
    fast = read_raw(data, READ_SHEETS, columnar=schema.HEADER_ROW - 1)
    careful = read_raw(data, READ_SHEETS)
    return (
        validate_workbook(fast, default_settings(), AS_OF),
        validate_workbook(careful, default_settings(), AS_OF),
        fast.sheets,
    )


def assert_same(fast: ValidatedWorkbook, careful: ValidatedWorkbook) -> None:
    assert fast.problems == careful.problems
    assert fast.client_rows == careful.client_rows
    assert fast.settings == careful.settings
    for name, rows in careful.sheets.items():
        got = fast.sheets[name]
        assert got.values == rows.values, name
        assert got.row_numbers == rows.row_numbers, name
        assert (got.header_row, got.present) == (rows.header_row, rows.present), name
        assert got.positions == rows.positions, name
        assert (got.typed, got.typed_keys) == (rows.typed, rows.typed_keys), name
    for name in ("clients", *careful.columns.tables):
        mine = fast.columns.clients if name == "clients" else fast.columns.tables[name]
        theirs = careful.columns.clients if name == "clients" else careful.columns.tables[name]
        for field in mine.kind.__annotations__:
            assert np.array_equal(mine[field], theirs[field]), (name, field)
            codes, index = mine.codes(field)
            assert [list(index)[c] for c in codes.tolist()] == list(theirs.values(field))
    assert fast.caseload == careful.caseload


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("columnar") / "demo.xlsx"
    return create_workbook(path, as_of=AS_OF, rows=demo_data.generate(120, as_of=AS_OF))


def test_a_clean_workbook_is_read_in_columns_with_the_same_result(demo_book: Path) -> None:
    fast, careful, raw = both(demo_book)
    assert not careful.errors
    taken = [n for n in DATA_SHEETS if read_columnar(raw[n], schema.SHEETS[n], []) is not None]
    # The big sheets; the small non-compliance sheets may be read cell by cell (their sparse
    # date columns can make fastexcel guess another type), with the same result.
    assert set(taken) >= set(DATA_SHEETS[:6])
    assert_same(fast, careful)


def test_a_recomputed_workbook_reads_the_same_with_its_computed_columns_filled(
    demo_book: Path, tmp_path: Path
) -> None:
    path = shutil.copy(demo_book, tmp_path / "again.xlsx")
    recompute(Path(path), AS_OF)
    fast, careful, raw = both(Path(path))
    assert read_columnar(raw["Clients"], schema.CLIENTS, []) is not None
    assert_same(fast, careful)


def test_a_workbook_with_mistakes_reads_the_same(tmp_path: Path) -> None:
    fast, careful, _ = both(build(tmp_path / "mistakes.xlsx", n_clients=60))
    assert careful.errors
    assert_same(fast, careful)


@pytest.mark.parametrize("date1904", [False, True], ids=["1900 dates", "1904 dates"])
def test_the_messy_workbook_reads_the_same(tmp_path: Path, date1904: bool) -> None:
    fast, careful, _ = both(build_messy(tmp_path / "messy.xlsx", date1904=date1904))
    assert_same(fast, careful)


CONTACT = ["C1", dt.date(2026, 3, 2), "Phone", "Yes", "No", "No", "Monthly review"]


def one_client(path: Path) -> Path:
    """A workbook with one client and two clean contacts (their optional columns blank)."""
    return create_workbook(
        path,
        as_of=AS_OF,
        rows={
            "Clients": [
                ["C1", None, "Ann", "Texas Choices", "Houston", "Lee", dt.date(2026, 1, 5)]
                + [None] * (len(schema.CLIENTS.columns) - 7)
            ],
            "Contacts": [CONTACT + [None] * (len(schema.CONTACTS.columns) - len(CONTACT))] * 2,
        },
    )


def test_optional_date_columns_left_blank_do_not_stop_the_columnar_reading(
    tmp_path: Path,
) -> None:
    """fastexcel types a column with no values as text: blank is blank, whatever the kind."""
    path = one_client(tmp_path / "blank-dates.xlsx")
    fast, careful, raw = both(path)
    assert raw["Contacts"].table is not None
    assert read_columnar(raw["Contacts"], schema.CONTACTS, []) is not None
    assert_same(fast, careful)


@pytest.mark.parametrize(
    ("cell", "value", "in_columns"),
    [
        # A time of day: python-calamine keeps microseconds the typed column rounds.
        ("B", dt.datetime(2026, 3, 2, 9, 30), False),
        ("B", dt.date(1999, 12, 31), True),  # before 2000: a typing mistake
        ("B", 46083, True),  # a number in a date column
        ("B", "13/45/2026", True),  # text that is no date
        ("B", "2026-03-02 00:00:00", True),  # text that reads like a date cell
        ("C", "phone", True),  # a list value typed in another case
        ("C", "Fax", True),  # not on the list
        ("C", 7, True),  # a number where a list value belongs
        ("A", " C1", True),  # stray space
        ("A", 12, True),  # a number where the Case ID belongs
        ("D", None, True),  # a required cell left blank
        ("D", 1, True),  # a number where Yes or No belongs
        ("H", "2026-03-05", True),  # a date typed as text in an optional date column
        ("J", 97201, True),  # a number where text belongs
        ("E", "maybe", True),  # not Yes or No
        ("G", True, False),  # TRUE/FALSE among texts: the sheet is read cell by cell
    ],
)
def test_a_sheet_with_anything_to_report_says_what_the_careful_reading_says(
    tmp_path: Path, cell: str, value: object, in_columns: bool
) -> None:
    """A few bad cells keep the sheet in columns: the bad cells' columns are read as the
    careful reading reads them, with the same messages at the same cells."""
    path = one_client(tmp_path / "one.xlsx")
    book = openpyxl.load_workbook(path)
    book["Contacts"][f"{cell}5"] = value
    if isinstance(value, int) and not isinstance(value, bool):
        book["Contacts"][f"{cell}5"].number_format = "General"  # a number, not a date
    book.save(path)
    fast, careful, raw = both(path)
    taken = raw["Contacts"].table is not None and (
        read_columnar(raw["Contacts"], schema.CONTACTS, []) is not None
    )
    assert taken == in_columns
    assert careful.problems
    assert_same(fast, careful)


def contacts(path: Path, dates: list[object], notes: list[object]) -> Path:
    """The one-client workbook with a Contacts row per date (and its note)."""
    made = one_client(path)
    book = openpyxl.load_workbook(made)
    sheet = book["Contacts"]
    for k, (day, note) in enumerate(zip(dates, notes, strict=True)):
        for c, value in enumerate(CONTACT):
            sheet.cell(4 + k, 1 + c, value)
        sheet.cell(4 + k, 2, day)
        sheet.cell(4 + k, 11, note)
    book.save(made)
    return made


D = dt.date(2026, 3, 2)


@pytest.mark.parametrize(
    ("dates", "notes"),
    [
        # Mostly dates: the column is typed as dates, the texts are odd cells.
        ([D, D, "13/45/2026", D, "2026-03-04"], ["a"] * 5),
        # Mostly texts: the column stays text, the dates are odd cells.
        (["03/02/2026", "2026-03-03", D, "March 4, 2026", 46090], ["a"] * 5),
        # Numbers and texts that read like numbers, in a text column.
        ([D] * 5, ["97201", 97201, "12.5", 12.5, "-3"]),
        # Texts that read like dates and TRUE-like words, in a text column.
        ([D] * 5, ["2026-03-02 00:00:00", D, "true", "false", "x"]),
    ],
    ids=["mostly dates", "mostly texts", "numbers in text", "dates in text"],
)
def test_columns_of_mixed_kinds_are_told_apart_cell_by_cell(
    tmp_path: Path, dates: list[object], notes: list[object]
) -> None:
    """A column of mixed kinds is loaded as text; the sheet's XML tells which cells are text,
    and every cell reads as python-calamine reads it."""
    fast, careful, raw = both(contacts(tmp_path / "mixed.xlsx", dates, notes))
    assert raw["Contacts"].table is not None
    assert raw["Contacts"].odd
    assert read_columnar(raw["Contacts"], schema.CONTACTS, []) is not None
    assert_same(fast, careful)


@pytest.mark.parametrize("flag", [True, False])
def test_true_or_false_among_numbers_is_told_from_1_and_0(
    demo_book: Path, tmp_path: Path, flag: bool
) -> None:
    """A lenient load shows TRUE among numbers as 1: the sheet's XML tells them apart."""
    path = tmp_path / "hours.xlsx"
    book = openpyxl.load_workbook(demo_book)
    book["Hours"]["D5"] = flag
    book["Hours"]["D6"] = 1
    book["Hours"]["D7"] = 0
    book.save(path)
    fast, careful, raw = both(path)
    assert raw["Hours"].table is not None
    assert list(raw["Hours"].odd.values()) == [{1: flag}]
    assert any(p.sheet == "Hours" and p.cell == "D5" for p in careful.problems)
    assert_same(fast, careful)


@pytest.mark.parametrize(
    "note",
    [
        "José Núñez, señora",  # clean, beyond ASCII: judged word by word, and kept
        "Ünïcödé  twice",  # two spaces beyond ASCII
        " leading",
        "trailing ",
        "two  spaces",
        "tab\there",
        "zero\u200bwidth",  # a format character
        "non\u00a0breaking",  # a no-break space: not printable to Python
        "~!@#$%^&*()_+{}|:<>?`-=[]\\;',./",  # every printable ASCII sign is clean
    ],
)
def test_text_cells_are_judged_clean_as_the_careful_reading_judges_them(
    demo_book: Path, tmp_path: Path, note: str
) -> None:
    """A text column's words are checked by one regex, and the few it doubts one by one in
    Python: the verdicts (and so the messages) are the careful reading's."""
    path = tmp_path / "names.xlsx"
    book = openpyxl.load_workbook(demo_book)
    book["Clients"]["C5"] = note  # Client Name
    book.save(path)
    fast, careful, _ = both(path)
    assert_same(fast, careful)


def test_cells_written_without_their_address_are_read_where_the_parsers_put_them(
    tmp_path: Path,
) -> None:
    """Some programs leave out a cell's address (r="B5"): the sheet is read from a copy with
    the addresses the parsers give them, so a mixed column's kinds are matched to its cells
    and both readings agree."""
    path = contacts(tmp_path / "mixed.xlsx", [D, D, "13/45/2026"], ["97201", 97201, "a"])
    with zipfile.ZipFile(path) as source:
        part = sheet_parts(source)[0]["Contacts"]
        members = {i.filename: source.read(i) for i in source.infolist()}
    members[part] = re.sub(rb'<c r="[A-Z]+[0-9]+"', b"<c", members[part])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, body in members.items():
            target.writestr(name, body)
    fast, careful, raw = both(path)
    assert raw["Contacts"].odd == {1: {2: "13/45/2026"}, 7: {1: 97201.0}}
    assert_same(fast, careful)


def test_a_generated_workbook_with_typos_keeps_its_big_sheets_in_columns(tmp_path: Path) -> None:
    path = tmp_path / "typos.xlsx"
    create_workbook(path, as_of=AS_OF, rows=demo_data.generate(300, as_of=AS_OF, messy=True))
    fast, careful, raw = both(path)
    assert careful.errors
    for name in ("Clients", "Contacts"):
        assert read_columnar(raw[name], schema.SHEETS[name], []) is not None, name
    assert_same(fast, careful)


def test_tables_moved_off_column_a_are_read_at_their_real_columns(
    demo_book: Path, tmp_path: Path
) -> None:
    """The columnar reading numbers columns from the first one in use: a sheet whose column A
    is empty must still report and write at the real columns."""
    path = tmp_path / "moved.xlsx"
    book = openpyxl.load_workbook(demo_book)
    for name in ("Contacts", "Plans"):
        book[name].insert_cols(1)
    book["Contacts"]["C5"] = "not a date"
    book.save(path)
    fast, careful, raw = both(path)
    assert raw["Plans"].table is not None
    assert dict(raw["Plans"].table_columns)["Case ID"] == 1
    assert fast.sheets["Plans"].positions["Case ID"] == 1
    assert any(p.sheet == "Contacts" and p.cell.startswith("C5") for p in careful.problems)
    assert_same(fast, careful)
