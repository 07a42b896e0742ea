"""A workbook typed the way people really type (reliability.md section 4): every bad
cell is reported at its address, every good row is still processed, and nothing
the staff typed is changed, in the 1900 and in the 1904 date system.

The fixture starts from a real workbook (`create_workbook`) and is then edited by
hand with openpyxl, to put in what the builder never writes: text dates, two-digit
years, impossible and ambiguous dates, a serial number in a date column,
whitespace-only and blank required cells, duplicate case ids, numbers as case ids,
Excel error values, merged cells, unknown programs, "yes"/"NO", contacts for unknown
and for rejected cases, and bad settings. All data is made up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from pyxl.adapters import schema
from pyxl.adapters.validation import Problem
from pyxl.services.new_workbook import create_workbook, settings_rows
from pyxl.services.recompute import Evaluation, check, recompute

D = dt.date
AS_OF = D(2026, 3, 16)
FIRST = schema.HEADER_ROW + 1  # first data row (4)
CLIENT_COL = {h: i + 1 for i, h in enumerate(schema.CLIENTS.headers)}
CONTACT_COL = {h: i + 1 for i, h in enumerate(schema.CONTACTS.headers)}
COMPUTED_CLIENT_COLS = {CLIENT_COL[c.header] for c in schema.CLIENTS.columns if c.computed}

# Good rows: every one of them must reach the rules.
GOOD = {"G001", "G002", "123", "G004", "B003"}  # B003: 03/01/2024 read month first, reported


def _row(sheet: schema.Sheet, **values: object) -> list[object]:
    return [values.get(h) for h in sheet.headers]


def _client(case_id: object, name: object, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "Case ID": case_id,
        "Client Name": name,
        "Program": "Texas Choices",
        "Branch": "Austin North",
        "Case Manager": "Maria Lopez",
        "Referral Date": D(2026, 1, 5),
    }
    base.update(kw)
    return base


# Clients, from sheet row 4 on. The comment says what each row is for.
CLIENT_ROWS: list[dict[str, object]] = [
    _client("G001", "Ada Good", **{"Date of Birth": D(1955, 6, 1)}),  # 4: good, born 1955
    _client(  # 5: good: stray spaces, ISO date typed as text, "yes"
        "G002", " Bob  Lee ", **{"Referral Date": "2026-01-06", "Engaged": "yes"}
    ),
    _client("B001", "Two Digit", **{"Referral Date": "1/2/45"}),  # 6
    _client("B002", "Impossible", **{"Referral Date": "2024-02-30"}),  # 7
    _client("B003", "Ambiguous", **{"Referral Date": "03/01/2024"}),  # 8
    _client("B004", "Serial", **{"Referral Date": 45352}),  # 9: a number in a date column
    _client("B005", "   "),  # 10: whitespace-only required cell
    _client("B006", "No Manager", **{"Case Manager": None}),  # 11: blank required cell
    _client("G001", "Dup Plain"),  # 12: duplicate case id
    _client(" G001 ", "Dup Spaces"),  # 13: duplicate that differs only by stray spaces
    _client(123, "Numeric Id", **{"Engaged": "NO"}),  # 14: good: case id typed as a number
    _client("B007", "#N/A"),  # 15: Excel error in a required cell
    _client("G004", "Ref Person", **{"Person ID": "#REF!"}),  # 16: good: error in optional cell
    _client("B008", "Merged Row"),  # 17: Program:Branch merged
    _client("B009", "Unknown Program", Program="Ohio Works First"),  # 18
    _client("B002", "Impossible Twin"),  # 19: duplicate of the rejected row 7
    _client("G002", "Late Dup", **{"Referral Date": "2024-02-30"}),  # 20: bad and duplicate
]
MERGED = "D17:E17"

CONTACT_ROWS: list[dict[str, object]] = [
    {"Case ID": "G001", "Date": D(2026, 2, 2), "Method": "Phone", "Successful": "yes"},  # 4
    {"Case ID": "UNKNOWN9", "Date": D(2026, 2, 2), "Method": "Phone", "Successful": "Yes"},  # 5
    {"Case ID": "B001", "Date": D(2026, 2, 3), "Method": "Phone", "Successful": "Yes"},  # 6
    {"Case ID": "B001", "Date": D(2026, 2, 4), "Method": "Letter", "Successful": "No"},  # 7
    {"Case ID": "123", "Date": D(2026, 2, 5), "Method": "Phone", "Successful": "NO"},  # 8
    {"Case ID": " G001 ", "Date": D(2026, 2, 6), "Method": "Phone", "Successful": True},  # 9
]

SETTINGS_LAST = FIRST + len(settings_rows()) - 1  # "Due soon days" is the first setting
UNKNOWN_SETTING_ROW = SETTINGS_LAST + 1

# (sheet, row, cell, severity, message fragment), in the order pyxl sorts them.
EXPECTED: list[tuple[str, int, str, str, str]] = [
    ("Clients", 5, "C5", "warning", "stray spaces removed from ' Bob  Lee '"),
    ("Clients", 5, "G5", "warning", "date typed as text; read as 2026-01-06"),
    ("Clients", 6, "G6", "error", "two-digit year in '1/2/45'"),
    ("Clients", 7, "G7", "error", "'2024-02-30' is not a real date"),
    (
        "Clients",
        8,
        "G8",
        "warning",
        "'03/01/2024' could be month-first or day-first; read as 2024-03-01",
    ),
    ("Clients", 9, "G9", "error", "is in a date column"),
    ("Clients", 10, "C10", "warning", "stray spaces removed"),
    ("Clients", 10, "C10", "error", "Client Name is required but blank"),
    ("Clients", 11, "F11", "error", "Case Manager is required but blank"),
    ("Clients", 12, "A12", "error", "duplicate Case ID 'G001' (first on row 4)"),
    ("Clients", 13, "A13", "warning", "stray spaces removed from ' G001 '"),
    ("Clients", 13, "A13", "error", "duplicate Case ID 'G001' (first on row 4)"),
    ("Clients", 14, "A14", "warning", "typed where text belongs; read as '123'"),
    ("Clients", 15, "C15", "error", "Excel error #N/A"),
    ("Clients", 16, "B16", "error", "Excel error #REF!"),
    ("Clients", 17, "E17", "error", f"inside the merged range {MERGED}"),
    ("Clients", 17, "E17", "error", "Branch is required but blank"),
    ("Clients", 18, "D18", "error", "'Ohio Works First' is not in the list"),
    ("Clients", 19, "A19", "error", "duplicate Case ID 'B002' (first on row 7)"),
    ("Clients", 20, "A20", "error", "duplicate Case ID 'G002' (first on row 5)"),
    ("Clients", 20, "G20", "error", "'2024-02-30' is not a real date"),
    ("Contacts", 5, "A5", "error", "Case ID 'UNKNOWN9' is not on the Clients sheet"),
    (
        "Contacts",
        6,
        "A6",
        "warning",
        "2 Contacts rows of case 'B001' (rows 6-7) are left out until its Clients row 6",
    ),
    ("Contacts", 9, "A9", "warning", "stray spaces removed from ' G001 '"),
    ("Settings", FIRST, f"B{FIRST}", "error", "Due soon days must be a whole number"),
    (
        "Settings",
        UNKNOWN_SETTING_ROW,
        f"A{UNKNOWN_SETTING_ROW}",
        "warning",
        "unknown setting 'Coffee breaks'",
    ),
]


def build_messy(path: Path, *, date1904: bool = False) -> Path:
    """The messy workbook: a real pyxl workbook, then typed into by hand with openpyxl."""
    base = path.with_name(f"base-{path.name}")
    create_workbook(
        base,
        as_of=AS_OF,
        rows={
            "Branches": [_row(schema.BRANCHES, Branch="Austin North", State="TX", Calendar="TX")],
            "Staff": [
                _row(schema.STAFF, **{"Case Manager": "Maria Lopez", "Branch": "Austin North"})
            ],
        },
    )
    wb = openpyxl.load_workbook(base)
    ws = wb["Clients"]
    for r, values in enumerate(CLIENT_ROWS, start=FIRST):
        for header, value in values.items():
            ws.cell(r, CLIENT_COL[header], value)
    ws.merge_cells(MERGED)
    contacts = wb["Contacts"]
    for r, values in enumerate(CONTACT_ROWS, start=FIRST):
        for header, value in values.items():
            contacts.cell(r, CONTACT_COL[header], value)
    settings = wb["Settings"]
    assert settings.cell(FIRST, 1).value == "Due soon days"
    settings.cell(FIRST, 2, "soon")
    settings.cell(UNKNOWN_SETTING_ROW, 1, "Coffee breaks")
    settings.cell(UNKNOWN_SETTING_ROW, 2, 3)
    # What openpyxl really wrote: error cells for the error strings, a number in G9.
    assert ws["C15"].data_type == "e" and ws["B16"].data_type == "e"
    assert ws["G9"].data_type == "n" and not ws["G9"].is_date
    if date1904:
        wb.epoch = CALENDAR_MAC_1904
    wb.save(path)
    base.unlink()
    return path


def _key(p: Problem) -> tuple[str, int, str, str]:
    return (p.sheet, p.row, p.cell, p.severity)


def _match(problems: list[Problem]) -> list[str]:
    """Differences between the problems found and EXPECTED, as readable lines."""
    left = list(problems)
    missing = []
    for sheet, row, cell, severity, fragment in EXPECTED:
        hit = next(
            (p for p in left if _key(p) == (sheet, row, cell, severity) and fragment in p.message),
            None,
        )
        if hit is None:
            missing.append(f"missing: {sheet}!{cell} {severity}: ...{fragment}...")
        else:
            left.remove(hit)
    return missing + [f"unexpected: {p}" for p in left]


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_messy(tmp_path_factory.mktemp("messy") / "caseload.xlsx")


@pytest.fixture(scope="module")
def messy1904(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_messy(tmp_path_factory.mktemp("messy1904") / "caseload.xlsx", date1904=True)


@pytest.fixture(scope="module")
def evaluation(messy: Path) -> Evaluation:
    return check(messy, AS_OF)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- the problem list


def test_check_reports_exactly_the_expected_problems(evaluation: Evaluation) -> None:
    diffs = _match(evaluation.problems)
    assert not diffs, "\n".join(diffs)


def test_problems_are_sorted_by_sheet_row_and_cell(evaluation: Evaluation) -> None:
    order = {s.name: i for i, s in enumerate(schema.ALL_SHEETS)}
    keys = [(order[p.sheet], p.row) for p in evaluation.problems]
    assert keys == sorted(keys)


def test_every_problem_names_its_cell_and_the_value_typed(evaluation: Evaluation) -> None:
    for p in evaluation.problems:
        assert p.cell == f"{p.cell.rstrip('0123456789')}{p.row}", p
        assert p.column in schema.SHEETS[p.sheet].headers, p
    by_cell = {p.cell: p.value for p in evaluation.problems if p.sheet == "Clients"}
    assert by_cell["G6"] == "1/2/45"
    assert by_cell["G8"] == "03/01/2024"
    assert by_cell["D18"] == "Ohio Works First"


def test_a_whitespace_only_required_cell_is_an_error_not_only_a_warning(
    evaluation: Evaluation,
) -> None:
    """Row 10's Client Name is "   ": the row is left out, so an error must say why.

    Today the row silently disappears behind a "stray spaces removed" warning.
    """
    c10 = [p for p in evaluation.problems if p.sheet == "Clients" and p.cell == "C10"]
    assert any(
        p.severity == "error" and "Client Name is required but blank" in p.message for p in c10
    ), c10
    assert "B005" not in {c.case_id for c in evaluation.workbook.caseload.clients}


def test_a_duplicate_of_a_rejected_row_is_reported_and_not_processed(
    evaluation: Evaluation,
) -> None:
    """Row 7 (B002, impossible date) is rejected; row 19 types B002 again.

    Duplicates must be found on the typed keys of every row (reliability.md 4): today
    row 19 is taken as the one and only B002 without a word, so B002's contacts and
    letters would go to whichever row happens to be valid.
    """
    ids = {c.case_id for c in evaluation.workbook.caseload.clients}
    assert "B002" not in ids
    dup = [p for p in evaluation.problems if p.sheet == "Clients" and p.cell in {"A19", "A20"}]
    assert [(p.cell, p.severity) for p in dup] == [("A19", "error"), ("A20", "error")], dup
    assert "(first on row 7)" in dup[0].message
    assert "(first on row 5)" in dup[1].message


# ---------------------------------------------------------------- good rows go on


def test_every_good_row_is_processed(evaluation: Evaluation) -> None:
    clients = evaluation.workbook.caseload.clients
    ids = {c.case_id for c in clients}
    assert ids >= GOOD
    assert not ids & {"B001", "B004", "B005", "B006", "B007", "B008", "B009"}
    with_obligations = {clients[c].case_id for c in evaluation.obligations.case}
    assert with_obligations >= GOOD
    assert evaluation.workbook.client_rows["G001"] == 4  # the first G001, not a duplicate
    assert evaluation.workbook.client_rows["123"] == 14


def test_good_rows_are_read_as_typed(evaluation: Evaluation) -> None:
    clients = {c.case_id: c for c in evaluation.workbook.caseload.clients}
    assert clients["G001"].date_of_birth == D(1955, 6, 1)
    assert clients["G001"].client_name == "Ada Good"
    assert clients["G002"].client_name == "Bob Lee"
    assert clients["G002"].referral_date == D(2026, 1, 6)
    assert clients["G002"].engaged is True  # "yes"
    assert clients["123"].engaged is False  # "NO"
    assert clients["G004"].person_id is None  # #REF! read as blank
    contacts = evaluation.workbook.caseload.contacts
    assert sorted((c.case_id, c.date, c.successful) for c in contacts) == [
        ("123", D(2026, 2, 5), False),
        ("G001", D(2026, 2, 2), True),
        ("G001", D(2026, 2, 6), True),
    ]


def test_bad_settings_fall_back_to_the_defaults(evaluation: Evaluation) -> None:
    assert evaluation.workbook.settings["Due soon days"] == 5


# ---------------------------------------------------------------- nothing typed changes


def test_check_does_not_touch_the_file(tmp_path: Path, messy: Path) -> None:
    path = tmp_path / messy.name
    shutil.copy2(messy, path)
    before, mtime = _sha(path), path.stat().st_mtime_ns
    check(path, AS_OF)
    assert _sha(path) == before
    assert path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no lock, no backup


def _typed_cells(path: Path) -> dict[tuple[str, str], tuple[object, str]]:
    """Every cell staff type in: (sheet, address) -> (value, data type)."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        if ws.title in {s.name for s in schema.COMPUTED_SHEETS}:
            continue
        for row in ws.iter_rows():
            for cell in row:
                if ws.title == "Clients" and cell.column in COMPUTED_CLIENT_COLS:
                    continue
                if cell.value is not None:
                    out[(ws.title, cell.coordinate)] = (cell.value, cell.data_type)
        out[(ws.title, "merged")] = (sorted(str(m) for m in ws.merged_cells.ranges), "")
    return out


@pytest.mark.parametrize("date1904", [False, True], ids=["1900", "1904"])
def test_recompute_changes_no_typed_cell(
    tmp_path: Path, messy: Path, messy1904: Path, date1904: bool
) -> None:
    path = tmp_path / "caseload.xlsx"
    shutil.copy2(messy1904 if date1904 else messy, path)
    before = _typed_cells(path)
    result = recompute(path, AS_OF)
    after = _typed_cells(path)
    assert result.written
    assert after == before
    assert after[("Clients", "C15")] == ("#N/A", "e")  # still an error cell
    assert after[("Clients", "G9")] == (45352, "n")
    assert after[("Clients", "merged")] == ([MERGED], "")


# ---------------------------------------------------------------- the 1904 date system


def test_1904_workbook_gives_the_same_dates_and_problems(
    messy1904: Path, evaluation: Evaluation
) -> None:
    assert openpyxl.load_workbook(messy1904).epoch == CALENDAR_MAC_1904
    ev = check(messy1904, AS_OF)
    assert ev.problems == evaluation.problems
    assert ev.workbook.caseload == evaluation.workbook.caseload
    clients = {c.case_id: c for c in ev.workbook.caseload.clients}
    assert clients["G001"].date_of_birth == D(1955, 6, 1)
    assert clients["G001"].referral_date == D(2026, 1, 5)
    assert clients["G002"].referral_date == D(2026, 1, 6)
    assert [c.date for c in ev.workbook.caseload.contacts] == [
        c.date for c in evaluation.workbook.caseload.contacts
    ]


def test_1904_recompute_writes_the_same_dates(tmp_path: Path, messy: Path, messy1904: Path) -> None:
    """Next Due Date and the Due List dates must be the same days in both date systems
    (a 1900 serial in a 1904 workbook is 1,462 days off)."""
    written = {}
    for name, source in (("1900", messy), ("1904", messy1904)):
        path = tmp_path / f"{name}.xlsx"
        shutil.copy2(source, path)
        recompute(path, AS_OF)
        wb = openpyxl.load_workbook(path)
        clients = wb["Clients"]
        due = wb["Due List"]
        written[name] = (
            [
                [c.value for c in row]
                for row in clients.iter_rows(
                    min_row=FIRST,
                    min_col=min(COMPUTED_CLIENT_COLS),
                    max_col=max(COMPUTED_CLIENT_COLS),
                )
            ],
            [[c.value for c in row] for row in due.iter_rows(min_row=FIRST)],
        )
    summary, due_rows = written["1904"]
    assert written["1900"] == written["1904"]
    g001 = summary[0]
    assert isinstance(g001[0], dt.datetime) and D(2026, 1, 1) <= g001[0].date() <= D(2027, 1, 1)
    assert due_rows and all(isinstance(r[8], dt.datetime) for r in due_rows)


def test_each_problem_row_names_the_case_typed_on_it(evaluation: Evaluation) -> None:
    """Supervisor and report counts of data errors per worker go through these case ids:
    rejected rows give theirs as typed (cleaned), a number typed as a case id included."""
    cases = evaluation.problem_cases
    assert cases[("Contacts", 5)] == "UNKNOWN9"
    assert cases[("Clients", 14)] == "123"
    assert cases[("Clients", 12)] == cases[("Clients", 13)] == "G001"  # the duplicate rows
    rows = {(p.sheet, p.row) for p in evaluation.problems if p.row}
    assert set(cases) <= rows
