"""Dates as people type them, at their cell, on every sheet kind: a text date that can mean
only one day is read (a warning says how), one that could mean two follows the Settings
*Date order* (reported), a two-digit year is refused. The row is never left out for a date
that was read (Contacts rows were, before)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from pyxl.adapters import schema
from pyxl.services.new_workbook import create_workbook
from pyxl.services.recompute import Evaluation, check

AS_OF = dt.date(2026, 11, 30)
FIRST = schema.HEADER_ROW + 1
NOV_23 = dt.date(2026, 11, 23)
ONE_DAY_ONLY = ["11/23/2026", "2026-11-23", "Nov 23 2026", "23-Nov-2026", "November 23, 2026"]
CLIENT = {
    "Case ID": "C1",
    "Client Name": "Ana Example",
    "Program": "Texas Choices",
    "Branch": "Austin North",
    "Case Manager": "Maria Lopez",
    "Referral Date": dt.date(2026, 1, 5),
}


def first(list_key: str) -> str:
    return schema.LISTS[list_key][0]


# Per sheet: the date column typed as text, and the other values a good row needs.
SHEETS: dict[str, tuple[str, dict[str, object]]] = {
    "Clients": ("Referral Date", {k: v for k, v in CLIENT.items() if k != "Referral Date"}),
    "Contacts": ("Date", {"Case ID": "C1", "Method": "Phone", "Successful": "Yes"}),
    "Appointments": (
        "Date",
        {"Case ID": "C1", "Type": first("AppointmentTypes"), "Status": "Kept"},
    ),
    "Hours": ("Week Start", {"Case ID": "C1", "Activity": first("Activities"), "Hours": 5}),
    "Services": ("Start Date", {"Case ID": "C1", "Service": first("ServiceTypes")}),
    "Plans": ("Plan Date", {"Case ID": "C1", "Plan Type": first("PlanTypes")}),
    "Noncompliance": ("Date", {"Case ID": "C1", "Event": first("NoncomplianceEvents")}),
    "Penalties": ("Requested Date", {"Case ID": "C1", "Program": "Texas Choices"}),
}


def build(path: Path, typed: list[str], date_order: str | None = None) -> dict[str, list[str]]:
    """A workbook with one row per typed text on every sheet kind; returns the date cells."""
    base = path.with_name(f"base-{path.name}")
    create_workbook(
        base,
        as_of=AS_OF,
        rows={
            "Branches": [
                [
                    {"Branch": "Austin North", "State": "TX", "Calendar": "TX"}.get(h)
                    for h in schema.BRANCHES.headers
                ]
            ],
            "Staff": [
                [
                    {"Case Manager": "Maria Lopez", "Branch": "Austin North"}.get(h)
                    for h in schema.STAFF.headers
                ]
            ],
            "Clients": [[CLIENT.get(h) for h in schema.CLIENTS.headers]],
        },
    )
    wb = openpyxl.load_workbook(base)
    cells: dict[str, list[str]] = {}
    for name, (date_header, others) in SHEETS.items():
        ws, headers = wb[name], schema.SHEETS[name].headers
        start = FIRST + 1 if name == "Clients" else FIRST  # Clients row 4 holds C1
        cells[name] = []
        for k, text in enumerate(typed):
            row = start + k
            values = {**others, date_header: text}
            if name == "Clients":
                values["Case ID"] = f"T{k}"
            for header, value in values.items():
                ws.cell(row, headers.index(header) + 1, value)
            cells[name].append(
                f"{openpyxl.utils.get_column_letter(headers.index(date_header) + 1)}{row}"
            )
            assert ws.cell(row, headers.index(date_header) + 1).data_type == "s"  # really text
    if date_order is not None:
        settings = wb["Settings"]
        for r in range(FIRST, settings.max_row + 1):
            if settings.cell(r, 1).value == "Date order":
                settings.cell(r, 2, date_order)
    wb.save(path)
    return cells


def at(ev: Evaluation, sheet: str, cell: str) -> list[tuple[str, str]]:
    return [(p.severity, p.message) for p in ev.problems if p.sheet == sheet and p.cell == cell]


def kept_rows(ev: Evaluation, sheet: str) -> set[int]:
    return set(ev.workbook.sheets[sheet].row_numbers)


@pytest.fixture(scope="module")
def typed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Evaluation, dict[str, list[str]]]:
    path = tmp_path_factory.mktemp("dates") / "typed.xlsx"
    cells = build(path, [*ONE_DAY_ONLY, "03/04/2026", "11/23/26", "02/30/2026"])
    return check(path, AS_OF), cells


@pytest.mark.parametrize("sheet", list(SHEETS))
@pytest.mark.parametrize("k", range(len(ONE_DAY_ONLY)), ids=ONE_DAY_ONLY)
def test_a_date_that_means_one_day_is_read_with_a_warning_at_its_cell(typed, sheet, k) -> None:
    ev, cells = typed
    cell = cells[sheet][k]
    found = at(ev, sheet, cell)
    assert ("warning", f"date typed as text; read as {NOV_23.isoformat()}") in found, found
    assert not [m for severity, m in found if severity == "error"]
    assert int(cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) in kept_rows(ev, sheet)


@pytest.mark.parametrize("sheet", list(SHEETS))
def test_an_ambiguous_date_follows_the_date_order_and_is_reported(typed, sheet) -> None:
    ev, cells = typed
    cell = cells[sheet][len(ONE_DAY_ONLY)]
    (severity, message), *_ = at(ev, sheet, cell)
    assert severity == "warning"
    assert message.startswith(
        "'03/04/2026' could be month-first or day-first; read as 2026-03-04 (month first, "
        "the Date order setting)"
    )
    assert int(cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) in kept_rows(ev, sheet)


@pytest.mark.parametrize("sheet", list(SHEETS))
def test_two_digit_years_and_impossible_dates_stay_refused_at_their_cell(typed, sheet) -> None:
    ev, cells = typed
    two_digit, impossible = cells[sheet][len(ONE_DAY_ONLY) + 1 :]
    assert at(ev, sheet, two_digit)[0][0] == "error"
    assert "two-digit year in '11/23/26'" in at(ev, sheet, two_digit)[0][1]
    assert at(ev, sheet, impossible)[0][0] == "error"
    assert "'02/30/2026' is not a real date" in at(ev, sheet, impossible)[0][1]


def test_an_office_that_types_day_first_says_so_on_settings(tmp_path: Path) -> None:
    cells = build(tmp_path / "uk.xlsx", ["03/04/2026", "23/11/2026"], date_order="day first")
    ev = check(tmp_path / "uk.xlsx", AS_OF)
    for sheet in SHEETS:
        ambiguous, unambiguous = cells[sheet]
        assert (
            "read as 2026-04-03 (day first, the Date order setting)"
            in at(ev, sheet, ambiguous)[0][1]
        )
        assert ("warning", "date typed as text; read as 2026-11-23") in at(ev, sheet, unambiguous)
    clients = {c.case_id: c for c in ev.workbook.caseload.clients}
    assert clients["T0"].referral_date == dt.date(2026, 4, 3)
