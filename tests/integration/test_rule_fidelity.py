"""What the procedures decide, the workbook shows (issue 14), end to end: `pyxl recompute` on a
real workbook and the PYXL functions on the same tables give the same answers.

  * the Engaged column and the Alaska flow disagreeing: A-07 follows the recorded history, the
    Engaged cell gets a warning on Errors, and the PYXL next action asks to check it;
  * a month of work verification never entered stays on the Due List beside the next one;
  * a missed activity on both Appointments and Noncompliance starts one O-06 clock; a pattern
    recorded on Noncompliance starts O-07 from its Reported Date;
  * the Holidays sheet lists Fri 2027-12-31 (New Year's Day 2028 is a Saturday) for each
    calendar, closed or open by its state's rule, and the business-day functions follow it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pyxl.adapters import schema
from pyxl.excel import functions
from pyxl.excel.cells import date_to_serial
from pyxl.services import recompute
from pyxl.services.new_workbook import create_workbook

D = dt.date
AS_OF = D(2028, 3, 2)  # Thu
FRIDAY = D(2027, 12, 31)  # before New Year's Day 2028, a Saturday
TABLES = tuple(s.name for s in (*schema.INPUT_SHEETS, *schema.REFERENCE_SHEETS))


def row(sheet: schema.Sheet, **values: object) -> list[object]:
    return [values.get(h) for h in sheet.headers]


def client(case: str, program: str, branch: str, **more: object) -> list[object]:
    values = {
        "Case ID": case,
        "Client Name": f"Client {case}",
        "Program": program,
        "Branch": branch,
        "Case Manager": f"CM {branch}",
        "Referral Date": D(2027, 11, 1),
        **more,
    }
    return row(schema.CLIENTS, **values)


def event(case: str, day: dt.date, name: str, **more: object) -> list[object]:
    return row(schema.NONCOMPLIANCE, **{"Case ID": case, "Date": day, "Event": name, **more})


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fidelity") / "caseload.xlsx"
    branches = (("Anchorage", "AK"), ("Portland", "OR"), ("Houston", "TX"))
    rows = {
        "Branches": [row(schema.BRANCHES, Branch=b, State=s, Calendar=s) for b, s in branches],
        "Staff": [
            row(schema.STAFF, **{"Case Manager": f"CM {b}", "Branch": b}) for b, _ in branches
        ],
        "Clients": [
            client("AK-1", "ATAP Work First", "Anchorage", Engaged=True),
            client("AK-2", "ATAP Work First", "Anchorage", Engaged=True),
            client("OR-1", "Oregon JOBS", "Portland"),
            client("OR-2", "Oregon JOBS", "Portland"),
        ],
        "Appointments": [
            row(
                schema.APPOINTMENTS,
                **{
                    "Case ID": "OR-1",
                    "Type": "Activity",
                    "Date": D(2027, 12, 30),
                    "Status": "No-show",
                    "Called Ahead": False,
                },
            )
        ],
        "Noncompliance": [
            event("AK-1", D(2028, 2, 29), "Missed activity"),
            event("OR-1", D(2027, 12, 30), "Missed activity", **{"Called Ahead": False}),
            event(
                "OR-2",
                D(2027, 12, 28),
                "Pattern of non-cooperation",
                **{"Reported Date": D(2027, 12, 30)},
            ),
        ],
    }
    create_workbook(path, as_of=AS_OF, rows=rows)
    recompute.recompute(path, AS_OF)
    return path


def sheet_rows(path: Path, name: str) -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(path, data_only=True)[name]
    values = list(ws.iter_rows(min_row=schema.HEADER_ROW, values_only=True))
    return [dict(zip(values[0], r, strict=True)) for r in values[1:] if any(r)]


def grids(path: Path) -> list[list[list[object]]]:
    """Every table with its header row, as Excel hands `Table[#All]` to a function."""
    book = openpyxl.load_workbook(path, data_only=True)
    out = []
    for name in TABLES:
        ws = book[name]
        cells = list(ws.iter_rows(min_row=schema.HEADER_ROW, values_only=True))
        out.append(
            [
                [
                    date_to_serial(v.date() if isinstance(v, dt.datetime) else v)
                    if isinstance(v, dt.date)
                    else ("" if v is None else v)
                    for v in r
                ]
                for r in cells
                if any(v is not None for v in r)
            ]
        )
    return out


def due(path: Path, case: str, rule: str) -> list[dict[str, Any]]:
    return [r for r in sheet_rows(path, "Due List") if r["Case ID"] == case and r["Rule"] == rule]


def test_engaged_yes_with_a_missed_activity_on_record_is_a_warning_at_the_engaged_cell(written):
    (problem,) = [e for e in sheet_rows(written, "Errors") if e["Column"] == "Engaged"]
    column = schema.CLIENTS.headers.index("Engaged")
    assert problem["Sheet"] == "Clients"
    assert problem["Cell"] == f"{openpyxl.utils.get_column_letter(column + 1)}4"
    assert problem["Severity"] == "warning"
    assert (
        "Engaged says Yes, but the Noncompliance sheet puts the client 'Not engaged'"
        in (problem["Problem"])
    )
    clients = {r["Case ID"]: r for r in sheet_rows(written, "Clients")}
    assert clients["AK-1"]["Flow State"] == "Not engaged"
    (action,) = functions.next_action("AK-1", date_to_serial(AS_OF), *grids(written))[0]
    assert action == clients["AK-1"]["Next Action"]
    assert action.startswith("Check: Engaged says Yes")
    # Meanwhile A-07 follows the recorded history: two attempts by two methods each month,
    # February (ended Tue Feb 29, missed) and March.
    months = {r["Due Date"].date(): r["Status"] for r in due(written, "AK-1", "A-07")}
    assert months == {D(2028, 2, 29): "OVERDUE", D(2028, 3, 31): "DUE"}
    assert due(written, "AK-2", "A-07") == []  # engaged, and nothing says otherwise


def test_a_month_of_hours_never_entered_stays_overdue_beside_the_next_one(written):
    months = {r["Due Date"].date(): r["Status"] for r in due(written, "AK-2", "A-23")}
    # January: Sun Feb 20 rolls back to Fri Feb 18; February: Mon Mar 20.
    assert months == {D(2028, 2, 18): "OVERDUE", D(2028, 3, 20): "DUE"}


def test_a_missed_activity_on_both_sheets_starts_one_o06_and_a_recorded_pattern_starts_o07(
    written,
):
    (o06,) = due(written, "OR-1", "O-06")  # one, not two
    assert (o06["Trigger Date"].date(), o06["Due Date"].date()) == (D(2027, 12, 30), D(2028, 1, 3))
    assert "Fri 2027-12-31 is New Year's Day (observed)" in o06["Explanation"]
    (o07,) = due(written, "OR-2", "O-07")
    assert (o07["Trigger Date"].date(), o07["Due Date"].date()) == (D(2027, 12, 30), D(2028, 1, 7))
    # The PYXL count agrees with the Due List (the conciliation clock NC-OR-01 runs too).
    counts = functions.overdue_count([["OR-1"], ["OR-2"]], date_to_serial(AS_OF), *grids(written))
    listed = [
        [
            sum(
                r["Case ID"] == c and r["Status"] == "OVERDUE"
                for r in sheet_rows(written, "Due List")
            )
        ]
        for c in ("OR-1", "OR-2")
    ]
    assert counts == listed == [[2], [2]]


def test_the_holidays_sheet_lists_the_friday_before_new_year_2028_with_each_states_rule(written):
    friday = {
        r["Calendar"]: r for r in sheet_rows(written, "Holidays") if r["Date"].date() == FRIDAY
    }
    assert {c: r["Closed"] for c, r in friday.items()} == {"AK": "Yes", "OR": "Yes", "TX": "No"}
    assert "ORS 187.010(2)" in friday["OR"]["Source"]
    assert "AS 44.12.020" in friday["AK"]["Source"]
    assert "§662.005(a)(1)" in friday["TX"]["Source"]
    holidays = grids(written)[TABLES.index("Holidays")]
    thursday = date_to_serial(D(2027, 12, 30))
    answers = functions.workday([[thursday]] * 3, [[1]] * 3, [["AK"], ["OR"], ["TX"]], holidays)
    assert answers == [[D(2028, 1, 3)], [D(2028, 1, 3)], [FRIDAY]]
    built_in = functions.due_date("O-06", [[thursday]] * 3, [["AK"], ["OR"], ["TX"]])
    assert built_in == [[D(2028, 1, 3)], [D(2028, 1, 3)], [FRIDAY]]
