"""The columnar reading (fastexcel, whole typed columns) must give exactly what the careful
cell-by-cell reading (python-calamine) gives, and leave every sheet with anything to report
to the careful reading."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from test_messy_workbook import build_messy
from test_recompute_writes import build

from pyxl.adapters import schema
from pyxl.adapters.validation import ValidatedWorkbook, read_columnar, validate_workbook
from pyxl.adapters.workbook_reader import read_raw
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
    taken = [n for n in DATA_SHEETS if read_columnar(raw[n], schema.SHEETS[n]) is not None]
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
    assert read_columnar(raw["Clients"], schema.CLIENTS) is not None
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
    assert read_columnar(raw["Contacts"], schema.CONTACTS) is not None
    assert_same(fast, careful)


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("B", dt.datetime(2026, 3, 2, 9, 30)),  # a time of day: the careful reading warns
        ("B", dt.date(1999, 12, 31)),  # before 2000: a typing mistake
        ("B", 46083),  # a number in a date column
        ("C", "phone"),  # a list value typed in another case
        ("C", "Fax"),  # not on the list
        ("A", " C1"),  # stray space
        ("D", None),  # a required cell left blank
        ("E", "maybe"),  # not Yes or No
        ("G", True),  # a bool where text belongs
    ],
)
def test_a_sheet_with_anything_to_report_is_left_to_the_careful_reading(
    tmp_path: Path, cell: str, value: object
) -> None:
    path = one_client(tmp_path / "one.xlsx")
    book = openpyxl.load_workbook(path)
    book["Contacts"][f"{cell}5"] = value
    if isinstance(value, int) and not isinstance(value, bool):
        book["Contacts"][f"{cell}5"].number_format = "General"  # a number, not a date
    book.save(path)
    fast, careful, raw = both(path)
    if raw["Contacts"].table is not None:
        assert read_columnar(raw["Contacts"], schema.CONTACTS) is None
    assert careful.problems
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
