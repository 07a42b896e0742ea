"""Every number and date staff type is checked against what can be true (issue 15, item 1):
hours in a week between 0 and 168, no NaN or infinity, counts whole and at least 1,
percentages 0-100, dates not more than a setting's years after the as-of date, births not
after it. Each violation is an Errors row at its cell; the value is read as blank (a
required one leaves its row out, like any unreadable cell) and the rest goes on. Both
readings (columnar and cell by cell) say the same. All data is made up.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_columnar_reading import assert_same, both

from pyxl.adapters import schema
from pyxl.adapters.validation import (
    Problem,
    read_sheet,
    validate_workbook,
    validated_columns,
)
from pyxl.adapters.workbook_reader import RawSheet, RawWorkbook, column_letter, read_raw
from pyxl.policy import default_settings
from pyxl.services import demo_data
from pyxl.services.new_workbook import create_workbook
from pyxl.services.recompute import READ_SHEETS

AS_OF = demo_data.AS_OF
FIRST = schema.HEADER_ROW + 1  # first data row

# Every validated number and date column with what it can hold:
# numbers (kind, least, most); dates (earliest year, latest: "as-of" or "ahead" = the
# setting "Dates years ahead" after the as-of date).
NUMBER_BOUNDS = {
    ("Hours", "Hours"): ("number", 0, 168),
    ("Penalties", "Step"): ("int", 1, 99),
    ("Penalties", "Level"): ("int", 1, 99),
    ("Penalties", "Percent"): ("number", 0, 100),
}
DATE_BOUNDS = {
    ("Clients", "Referral Date"): (2000, "ahead"),
    ("Clients", "Date of Birth"): (1900, "as-of"),
    ("Clients", "CM Change Date"): (2000, "ahead"),
    ("Clients", "Track Change Date"): (2000, "ahead"),
    ("Clients", "Closure Date"): (2000, "ahead"),
    ("Clients", "Youngest Child DOB"): (2000, "as-of"),
    ("Contacts", "Date"): (2000, "ahead"),
    ("Contacts", "Note Entered"): (2000, "ahead"),
    ("Contacts", "Reply By"): (2000, "ahead"),
    ("Appointments", "Date"): (2000, "ahead"),
    ("Hours", "Week Start"): (2000, "ahead"),
    ("Hours", "Entered Date"): (2000, "ahead"),
    ("Services", "Start Date"): (2000, "ahead"),
    ("Services", "End Date"): (2000, "ahead"),
    ("Plans", "Plan Date"): (2000, "ahead"),
    ("Plans", "Signed Date"): (2000, "ahead"),
    ("Plans", "Mailed Date"): (2000, "ahead"),
    ("Plans", "Due Back Date"): (2000, "ahead"),
    ("Plans", "Last Review Date"): (2000, "ahead"),
    ("Plans", "Expiry Date"): (2000, "ahead"),
    ("Noncompliance", "Date"): (2000, "ahead"),
    ("Noncompliance", "Reported Date"): (2000, "ahead"),
    ("Noncompliance", "Reply By"): (2000, "ahead"),
    ("Penalties", "Requested Date"): (2000, "ahead"),
    ("Penalties", "Imposed Date"): (2000, "ahead"),
    ("Penalties", "Intent to Comply Date"): (2000, "ahead"),
    ("Penalties", "Compliance Date"): (2000, "ahead"),
    ("Penalties", "Ended Date"): (2000, "ahead"),
}


def test_the_table_lists_every_number_and_date_column_with_its_bounds() -> None:
    numbers, dates = {}, {}
    for sheet in schema.INPUT_SHEETS:
        for c in validated_columns(sheet):
            if c.kind in {"number", "int"}:
                numbers[sheet.name, c.header] = (c.kind, c.minimum, c.maximum)
            elif c.kind == "date":
                dates[sheet.name, c.header] = (
                    c.earliest_year,
                    "as-of" if c.past_only else "ahead",
                )
    assert numbers == NUMBER_BOUNDS
    assert dates == DATE_BOUNDS
    assert default_settings()["Dates years ahead"] == 2


# ---------------------------------------------------------------- one cell, in memory

SAMPLE_ROWS = {  # a valid row of each sheet with a bounded number column
    "Hours": {
        "Case ID": "C1",
        "Week Start": dt.date(2026, 3, 2),
        "Activity": "Job search and job readiness",
    },
    "Penalties": {"Case ID": "C1", "Program": "Oregon JOBS"},
}


def one_row_sheet(sheet: schema.Sheet, header: str, value: object) -> RawSheet:
    row = {**SAMPLE_ROWS[sheet.name], header: value}
    values: list[list[object]] = [[""] * len(sheet.columns) for _ in range(schema.HEADER_ROW)]
    values[schema.HEADER_ROW - 1] = list(sheet.headers)
    values.append([row.get(h, "") for h in sheet.headers])
    return RawSheet(sheet.name, values)


def columnar_sheet(sheet: schema.Sheet, header: str, number: float) -> RawSheet:
    """The same row as fastexcel gives it: typed columns below the header row."""
    row = {**SAMPLE_ROWS[sheet.name], header: number}
    arrays = {}
    for c in sheet.columns:
        v = row.get(c.header)
        if isinstance(v, float):
            arrays[c.header] = pa.array([v], pa.float64())
        elif isinstance(v, dt.date):
            arrays[c.header] = pa.array([dt.datetime.combine(v, dt.time())], pa.timestamp("ms"))
        else:
            arrays[c.header] = pa.array([v], pa.string())
    raw = one_row_sheet(sheet, header, number)
    raw.table = pa.table(arrays)
    raw.header_row = schema.HEADER_ROW - 1
    raw.table_columns = [(h, i) for i, h in enumerate(sheet.headers)]
    return raw


def within(header: str, sheet: str, number: float) -> bool:
    kind, least, most = NUMBER_BOUNDS[sheet, header]
    whole = kind != "int" or float(number).is_integer()
    return math.isfinite(number) and least <= number <= most and whole


def outcome(raw: RawSheet, sheet: schema.Sheet, header: str) -> tuple[list[Problem], object]:
    """(problems at the cell, the value read: a number, None for blank, or "row left out")."""
    problems: list[Problem] = []
    rows = read_sheet(raw, sheet, problems)
    cell = f"{column_letter(sheet.headers.index(header))}{FIRST}"
    at_cell = [p for p in problems if p.cell == cell and p.severity == "error"]
    assert all(p.cell == cell for p in problems), problems  # nothing else is touched
    field = sheet.column(header).field or header
    read = rows.column(field)[0] if len(rows) else "row left out"
    return at_cell, read


NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**12), 10**12).map(float),
    st.sampled_from([0.0, 168.0, 168.01, -0.0, -40.0, 1e308, 10000.0, 1.5, 100.0, 99.0]),
)
TYPED = st.one_of(
    NUMBERS,
    NUMBERS.map(repr),  # typed as text: "nan", "1e+308", "-40.0"
    st.sampled_from(["NaN", "inf", "-Infinity", "1e400", " 12 ", "twelve", "", "   "]),
    st.booleans(),
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
    st.text(max_size=20),
)
BOUNDED = sorted(NUMBER_BOUNDS)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(column=st.sampled_from(BOUNDED), value=TYPED)
def test_any_value_in_a_number_column_is_read_or_reported_at_its_cell(
    column: tuple[str, str], value: object
) -> None:
    name, header = column
    sheet = schema.SHEETS[name]
    errors, read = outcome(one_row_sheet(sheet, header, value), sheet, header)
    if errors:  # reported at its cell and not read
        assert read is None or read == "row left out"
        assert (read == "row left out") == sheet.column(header).required
    else:  # accepted: a possible number, or a blank cell
        assert read is None or within(header, name, read), (value, read)
        assert read is not None or value == "" or (isinstance(value, str) and not value.strip())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(column=st.sampled_from(BOUNDED), number=NUMBERS)
def test_the_columnar_reading_takes_only_possible_numbers_and_agrees(
    column: tuple[str, str], number: float
) -> None:
    name, header = column
    sheet = schema.SHEETS[name]
    fast = outcome(columnar_sheet(sheet, header, number), sheet, header)
    careful = outcome(one_row_sheet(sheet, header, number), sheet, header)
    assert fast == careful
    assert bool(careful[0]) != within(header, name, number)


# ---------------------------------------------------------------- the whole workbook

# (sheet, 0-based row among the demo rows, header, value as typed, what the Errors row says)
IMPOSSIBLE = [
    ("Hours", 0, "Hours", -40, "below 0"),
    ("Hours", 1, "Hours", 1e308, "above 168"),
    ("Hours", 2, "Hours", 10000, "above 168, the most Hours can be"),
    ("Hours", 3, "Hours", "NaN", "not a number"),
    ("Hours", 4, "Hours", "inf", "not a number"),
    ("Hours", 5, "Hours", 168.5, "above 168"),
    ("Clients", 29, "Referral Date", dt.date(2099, 1, 4), "more than 2 years after"),
    ("Clients", 1, "Date of Birth", AS_OF + dt.timedelta(days=1), "a birth cannot be"),
    ("Contacts", 0, "Date", dt.date(2031, 5, 1), "more than 2 years after"),
    ("Plans", 0, "Expiry Date", dt.date(2040, 1, 1), "more than 2 years after"),
]


@pytest.fixture(scope="module")
def impossible_book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("impossible") / "caseload.xlsx"
    create_workbook(path, as_of=AS_OF, rows=demo_data.generate(30, as_of=AS_OF))
    book = openpyxl.load_workbook(path)
    cells = {}
    for name, k, header, value, _ in IMPOSSIBLE:
        sheet = schema.SHEETS[name]
        cell = f"{column_letter(sheet.headers.index(header))}{FIRST + k}"
        book[name][cell] = value
        cells[name, cell] = book[name][cell].value
    book.save(path)
    return path, cells


def test_every_impossible_value_is_an_error_at_its_cell_on_both_readings(
    impossible_book: tuple[Path, dict], tmp_path: Path
) -> None:
    path, _ = impossible_book
    fast, careful, _ = both(Path(shutil.copy(path, tmp_path / "copy.xlsx")))
    assert_same(fast, careful)
    for name, k, header, _, words in IMPOSSIBLE:
        sheet = schema.SHEETS[name]
        cell = f"{column_letter(sheet.headers.index(header))}{FIRST + k}"
        found = [p for p in careful.errors if (p.sheet, p.cell) == (name, cell)]
        assert len(found) == 1, (name, cell, careful.errors)
        assert words in found[0].message, found[0]
        column = sheet.column(header)
        rows = careful.sheets[name]
        if column.required:  # the row waits for the fix
            assert FIRST + k not in rows.row_numbers
        else:  # read as blank, the rest of the row kept
            at = rows.row_numbers.index(FIRST + k)
            assert rows.column(column.field or header)[at] is None


def test_the_years_ahead_setting_moves_the_window(
    impossible_book: tuple[Path, dict], tmp_path: Path
) -> None:
    path = Path(shutil.copy(impossible_book[0], tmp_path / "later.xlsx"))
    book = openpyxl.load_workbook(path)
    settings_sheet = book["Settings"]
    row = next(r for r in settings_sheet.iter_rows() if r[0].value == "Dates years ahead")
    row[1].value = 20
    book.save(path)
    raw: RawWorkbook = read_raw(path.read_bytes(), READ_SHEETS)
    messages = [p.message for p in validate_workbook(raw, default_settings(), AS_OF).errors]
    assert not any("more than 2 years" in m for m in messages)  # 2031 and 2040 are in now
    assert sum("more than 20 years after" in m for m in messages) == 1  # 2099 still is not


def test_excel_refuses_an_impossible_number_as_it_is_typed(
    impossible_book: tuple[Path, dict],
) -> None:
    """The new workbook's data validation holds the same bounds as the Errors sheet."""
    path, _ = impossible_book
    book = openpyxl.load_workbook(create_workbook(path.with_name("fresh.xlsx"), as_of=AS_OF))
    for (name, header), (kind, least, most) in NUMBER_BOUNDS.items():
        sheet = schema.SHEETS[name]
        letter = column_letter(sheet.headers.index(header))
        rules = [
            v
            for v in book[name].data_validations.dataValidation
            if str(v.sqref).startswith(f"{letter}{FIRST}:")
        ]
        assert len(rules) == 1, (name, header)
        rule = rules[0]
        assert rule.type == ("whole" if kind == "int" else "decimal")
        assert (float(rule.formula1), float(rule.formula2)) == (least, most)
        assert rule.operator in (None, "between") and rule.showErrorMessage  # between: default


# ---------------------------------------------------------------- one date, whole workbook

CLIENT = {
    "Case ID": "C1",
    "Client Name": "Ann Lee",
    "Program": "Oregon JOBS",
    "Branch": "Salem",
    "Case Manager": "Rosa Ortiz",
    "Referral Date": dt.date(2026, 1, 5),
}
DATE_ROWS = {  # a valid row of each sheet with date columns
    "Clients": CLIENT,
    "Contacts": {"Case ID": "C1", "Date": dt.date(2026, 3, 2), "Method": "Phone"}
    | {"Successful": "Yes"},
    "Appointments": {"Case ID": "C1", "Type": "Orientation", "Date": dt.date(2026, 3, 2)}
    | {"Status": "Kept"},
    "Hours": SAMPLE_ROWS["Hours"] | {"Hours": 10.0},
    "Services": {"Case ID": "C1", "Service": "Employability Assessment"}
    | {"Start Date": dt.date(2026, 3, 2)},
    "Plans": {"Case ID": "C1", "Plan Type": "FSSP", "Plan Date": dt.date(2026, 3, 2)},
    "Noncompliance": {"Case ID": "C1", "Date": dt.date(2026, 3, 2), "Event": "Missed activity"},
    "Penalties": SAMPLE_ROWS["Penalties"],
}


def raw_sheet(sheet: schema.Sheet, row: dict[str, object]) -> RawSheet:
    values: list[list[object]] = [[""] * len(sheet.columns) for _ in range(schema.HEADER_ROW)]
    values[schema.HEADER_ROW - 1] = list(sheet.headers)
    values.append([row.get(h, "") for h in sheet.headers])
    return RawSheet(sheet.name, values)


DATES = st.one_of(
    st.dates(dt.date(1800, 1, 1), dt.date(2300, 12, 31)),
    st.dates(AS_OF - dt.timedelta(days=30), AS_OF + dt.timedelta(days=800)),
    st.datetimes(dt.datetime(1890, 1, 1), dt.datetime(2200, 1, 1)),
    st.dates(dt.date(1890, 1, 1), dt.date(2200, 1, 1)).map(dt.date.isoformat),
    st.integers(-10, 10**6),
    st.sampled_from(["2099-01-04", "1/2/45", "2024-02-30", "tomorrow", "NaN", ""]),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(column=st.sampled_from(sorted(DATE_BOUNDS)), value=DATES)
def test_any_value_in_a_date_column_is_read_or_reported_at_its_cell(
    column: tuple[str, str], value: object
) -> None:
    name, header = column
    sheet = schema.SHEETS[name]
    row = {**DATE_ROWS[name], header: value}
    sheets = {"Clients": raw_sheet(schema.CLIENTS, CLIENT if name != "Clients" else row)}
    if name != "Clients":
        sheets[name] = raw_sheet(sheet, row)
    book = validate_workbook(RawWorkbook(sheets, False, {}), default_settings(), AS_OF)
    cell = f"{column_letter(sheet.headers.index(header))}{FIRST}"
    errors = [p for p in book.errors if (p.sheet, p.cell) == (name, cell)]
    rows = book.sheets[name]
    field = sheet.column(header).field or header
    read = rows.column(field)[0] if len(rows) else "row left out"
    earliest, latest = DATE_BOUNDS[name, header]
    last = AS_OF if latest == "as-of" else AS_OF.replace(year=AS_OF.year + 2)
    required = sheet.column(header).required
    if errors:  # reported at its cell and not read: blank, or the row waits for the fix
        assert read == ("row left out" if required else None), (value, read, errors)
    else:  # accepted: a possible date, or an optional cell left blank
        assert read is None or dt.date(earliest, 1, 1) <= read <= last, (value, read)
        assert read is not None or (value == "" and not required), (value, book.problems)
