"""The Excel add-in through xlwings Server's HTTP interface, with the payloads Office.js sends.

The answers are checked against hand-worked dates (the README's Alaska Day example)
and against `pyxl recompute` on the same workbook: the Excel route must give the
same Due List, statuses and overdue counts as the command line.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from pyxl.excel.server import app, configure  # before xlwings: it sets the license key

configure("test-code")

from fastapi.testclient import TestClient  # noqa: E402

from pyxl.adapters import schema  # noqa: E402
from pyxl.excel.buttons import BUTTONS, CONFIRM_SCRIPTS  # noqa: E402
from pyxl.excel.cells import date_to_serial  # noqa: E402
from pyxl.services import demo_data  # noqa: E402
from pyxl.services.new_workbook import create_workbook  # noqa: E402
from pyxl.services.recompute import (  # noqa: E402
    check,
    client_summaries,
    due_list_rows,
    recompute,
)
from tests.integration.officejs import (  # noqa: E402
    HEADERS,
    book_payload,
    function_call,
    table_range,
)

AS_OF = dt.date(2026, 11, 23)
TABLES = tuple(s.name for s in (*schema.INPUT_SHEETS, *schema.REFERENCE_SHEETS))


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(app())


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("excel") / "caseload.xlsx"
    create_workbook(path, as_of=AS_OF, rows=demo_data.generate(30, as_of=AS_OF))
    recompute(path, AS_OF)  # a Due List already there, as after an earlier refresh
    return path


def call(client: TestClient, name: str, *args: object, repeating: list | None = None) -> Any:
    body = function_call(name, *args, repeating=repeating)
    response = client.post("/xlwings/custom-functions-call", json=body, headers=HEADERS)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def serial(day: dt.date) -> float:
    return float(date_to_serial(day))


def shown_date(value: dict[str, Any]) -> dt.date:
    assert value["type"] == "FormattedNumber" and value["numberFormat"] == "ddd yyyy-mm-dd"
    return dt.date(1899, 12, 30) + dt.timedelta(days=int(value["basicValue"]))


# ---------------------------------------------------------------- metadata and manifest


def test_metadata_lists_every_pyxl_function_with_its_parameters(client: TestClient) -> None:
    meta = client.get("/xlwings/custom-functions-meta.json").json()["functions"]
    names = {f["name"]: [p["name"] for p in f["parameters"]] for f in meta}
    assert names == {
        "WORKDAY": ["start", "days", "calendar", "holidays"],
        "NETWORKDAYS": ["start", "end", "calendar", "holidays"],
        "DUE_DATE": ["rule", "trigger", "calendar", "holidays", "settings"],
        "STATUS": ["case_ids", "as_of", "tables"],
        "NEXT_ACTION": ["case_ids", "as_of", "tables"],
        "NEXT_DUE": ["case_ids", "as_of", "tables"],
        "OVERDUE_COUNT": ["keys", "as_of", "tables"],
    }
    assert all(f["result"]["dimensionality"] == "matrix" for f in meta)


def test_the_manifest_is_valid_xml_pointing_at_this_server_with_the_pyxl_namespace(
    client: TestClient,
) -> None:
    text = client.get("/manifest.xml", headers={"X-Forwarded-Proto": "https"}).text
    root = etree.fromstring(text.encode())
    ns = {
        "o": "http://schemas.microsoft.com/office/appforoffice/1.1",
        "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
        "v": "http://schemas.microsoft.com/office/taskpaneappversionoverrides",
    }
    urls = {u.get("id"): u.get("DefaultValue") for u in root.iterfind(".//bt:Url", ns)}
    assert urls == {
        "Taskpane.Url": "https://testserver/taskpane.html",
        "Functions.Script.Url": "https://testserver/xlwings/custom-functions-code.js",
        "Functions.Metadata.Url": "https://testserver/xlwings/custom-functions-meta.json",
    }
    strings = {s.get("id"): s.get("DefaultValue") for s in root.iterfind(".//bt:String", ns)}
    assert strings["Functions.Namespace"] == "PYXL"
    controls = [c.get("id") for c in root.iterfind(".//v:Control", ns)]
    assert controls == [b.id for b in BUTTONS if b.ribbon] + ["PyxlTaskpaneButton"]
    for button in BUTTONS:
        action = root.find(f".//v:Control[@id='{button.id}']/v:Action", ns)
        kind = action.get("{http://www.w3.org/2001/XMLSchema-instance}type")
        assert kind == ("ShowTaskpane" if button.form else "ExecuteFunction")


def test_every_button_runs_a_script_the_server_has(client: TestClient) -> None:
    scripts = {s["function_name"] for s in client.get("/xlwings/custom-scripts-meta").json()}
    assert {b.script for b in BUTTONS} | set(CONFIRM_SCRIPTS) <= scripts


def test_the_refresh_script_has_a_sheet_button_on_the_due_list(client: TestClient) -> None:
    meta = {s["function_name"]: s for s in client.get("/xlwings/custom-scripts-meta").json()}
    assert meta["refresh_due_list"]["button"] == "Due List!N1"


# ---------------------------------------------------------------- sign-in


@pytest.mark.parametrize("headers", [{}, {"Authorization": "wrong", "Auth-Provider": "pyxl"}])
def test_a_function_call_without_the_access_code_is_refused(
    client: TestClient, headers: dict[str, str]
) -> None:
    body = function_call("workday", serial(dt.date(2026, 10, 16)), 1, "AK")
    response = client.post("/xlwings/custom-functions-call", json=body, headers=headers)
    assert response.status_code == 401
    assert "access code" in response.json()["detail"]


def test_a_script_call_without_the_access_code_is_refused_and_writes_nothing(
    client: TestClient, workbook: Path
) -> None:
    response = client.post(
        "/xlwings/custom-scripts-call/refresh_due_list", json=book_payload(workbook, "Clients")
    )
    assert response.status_code == 401
    assert "actions" not in response.text


# ---------------------------------------------------------------- business days


def test_workday_skips_alaska_day_like_the_readme_example(client: TestClient) -> None:
    result = call(client, "workday", serial(dt.date(2026, 10, 16)), 1, "AK")
    assert shown_date(result[0][0]) == dt.date(2026, 10, 20)


def test_workday_takes_a_column_and_spills_one_date_per_row(client: TestClient) -> None:
    starts = [[serial(dt.date(2026, 10, 16))], [serial(dt.date(2026, 10, 17))], [None]]
    result = call(client, "workday", starts, [[1], [-1], [5]], "TX")
    assert [shown_date(r[0]) for r in result[:2]] == [dt.date(2026, 10, 19), dt.date(2026, 10, 16)]
    assert result[2] == [""]  # a blank start stays blank


def test_workday_uses_the_workbooks_holidays_table_when_given(
    client: TestClient, workbook: Path
) -> None:
    holidays = table_range(workbook, "Holidays")
    thanksgiving_eve = serial(dt.date(2026, 11, 25))
    result = call(client, "workday", thanksgiving_eve, 1, "OR", holidays)
    # Oregon closes Thanksgiving and the day after (State HR Policy 60.010.01).
    assert shown_date(result[0][0]) == dt.date(2026, 11, 30)


def test_networkdays_counts_both_ends_and_skips_the_office_holidays(client: TestClient) -> None:
    result = call(
        client,
        "networkdays",
        [[serial(dt.date(2026, 11, 23))], [serial(dt.date(2026, 11, 30))]],
        [[serial(dt.date(2026, 11, 30))], [serial(dt.date(2026, 11, 23))]],
        "OR",
    )
    assert result == [[4], [-4]]  # Mon 23 .. Mon 30 less Thu 26 and Fri 27


def test_a_bad_date_in_one_row_is_an_excel_error_with_a_message_and_the_rest_go_on(
    client: TestClient,
) -> None:
    result = call(client, "workday", [[serial(dt.date(2026, 10, 16))], ["13/45/2026"]], 1, "AK")
    assert shown_date(result[0][0]) == dt.date(2026, 10, 20)
    assert result[1][0]["type"] == "Error" and result[1][0]["errorType"] == "Value"
    assert "13/45/2026" in result[1][0]["message"]


def test_an_unknown_calendar_fails_the_whole_call_with_the_known_ones_named(
    client: TestClient,
) -> None:
    body = function_call("workday", serial(dt.date(2026, 10, 16)), 1, "ZZ")
    response = client.post("/xlwings/custom-functions-call", json=body, headers=HEADERS)
    assert response.status_code == 400
    assert "'ZZ'" in response.text and "AK, OR, TX" in response.text


def test_ranges_of_different_sizes_are_refused_not_truncated(client: TestClient) -> None:
    body = function_call("workday", [[serial(dt.date(2026, 10, 16))]] * 3, [[1], [2]], "AK")
    response = client.post("/xlwings/custom-functions-call", json=body, headers=HEADERS)
    assert response.status_code == 400
    assert "same size" in response.text


# ---------------------------------------------------------------- rules


def test_due_date_applies_the_rules_clock_on_the_branch_calendar(client: TestClient) -> None:
    result = call(
        client, "due_date", [["A-01"], ["a-01"], ["X-99"]], serial(dt.date(2026, 10, 16)), "AK"
    )
    assert [shown_date(r[0]) for r in result[:2]] == [dt.date(2026, 10, 20)] * 2
    assert result[2][0]["errorType"] == "NotAvailable" and "X-99" in result[2][0]["message"]


# ---------------------------------------------------------------- clients


def tables(path: Path) -> list[list[list[Any]]]:
    return [table_range(path, name) for name in reversed(TABLES)]  # any order works


def test_status_next_due_and_overdue_counts_match_pyxl_recompute(
    client: TestClient, workbook: Path
) -> None:
    ev = check(workbook, AS_OF)
    summary = client_summaries(ev)
    cases = [[c] for c in summary]
    as_of = serial(AS_OF)
    statuses = call(client, "status", cases, as_of, repeating=tables(workbook))
    next_due = call(client, "next_due", cases, as_of, repeating=tables(workbook))
    overdue = call(client, "overdue_count", cases, as_of, repeating=tables(workbook))
    expected_status = {}
    for row in due_list_rows(ev):
        expected_status.setdefault(row[0], row[9])  # the Due List is most urgent first
    for (case,), (got_status,), (got_due,), (got_overdue,) in zip(
        cases, statuses, next_due, overdue, strict=True
    ):
        next_date, _, overdue_count, *_ = summary[case]
        assert got_overdue == overdue_count
        assert (shown_date(got_due) if got_due != "" else None) == next_date
        if case in expected_status:
            assert got_status == expected_status[case]
        else:
            assert got_status in {"MET", "N/A"}


def test_next_action_names_the_rule_due_date_and_status(client: TestClient, workbook: Path) -> None:
    ev = check(workbook, AS_OF)
    first = due_list_rows(ev)[0]
    result = call(client, "next_action", first[0], serial(AS_OF), repeating=tables(workbook))
    text = result[0][0]
    assert text.startswith(f"{first[5]} {first[6]}: due ")
    assert first[9] in text


def test_overdue_count_by_branch_adds_up_its_clients(client: TestClient, workbook: Path) -> None:
    ev = check(workbook, AS_OF)
    by_branch = ev.counts_by_branch()
    branches = [[b] for b in by_branch]
    result = call(client, "overdue_count", branches, serial(AS_OF), repeating=tables(workbook))
    assert [r[0] for r in result] == [by_branch[b[0]]["OVERDUE"] for b in branches]


def test_an_unknown_case_is_n_a_with_a_message_not_a_blank(
    client: TestClient, workbook: Path
) -> None:
    result = call(
        client, "status", [["NO-SUCH-CASE"], [None]], serial(AS_OF), repeating=tables(workbook)
    )
    assert result[0][0]["errorType"] == "NotAvailable"
    assert "NO-SUCH-CASE" in result[0][0]["message"]
    assert result[1] == [""]


def test_a_missing_table_is_named_in_the_error(client: TestClient, workbook: Path) -> None:
    some = [table_range(workbook, name) for name in TABLES if name != "Contacts"]
    body = function_call("status", "C-1", serial(AS_OF), repeating=some)
    response = client.post("/xlwings/custom-functions-call", json=body, headers=HEADERS)
    assert response.status_code == 400
    assert "Contacts[#All]" in response.text


# ---------------------------------------------------------------- scripts


def run_script(client: TestClient, name: str, book: dict[str, Any], *args: object) -> list[dict]:
    body = {**book, "args": list(args)}
    response = client.post(f"/xlwings/custom-scripts-call/{name}", json=body, headers=HEADERS)
    assert response.status_code == 200, response.text
    return response.json()["actions"]


def values_at(actions: list[dict], sheet: str, start_row: int) -> list[list[Any]]:
    index = schema_index(sheet)
    found = [
        a for a in actions
        if a["func"] == "setValues" and a["sheet_position"] == index and a["start_row"] == start_row
    ]  # fmt: skip
    assert found, f"no values written to {sheet} row {start_row + 1}"
    return found[-1]["values"]


def schema_index(sheet: str) -> int:
    return _SHEET_ORDER.index(sheet)


_SHEET_ORDER: list[str] = []


@pytest.fixture(scope="module")
def refreshed(client: TestClient, workbook: Path) -> list[dict]:
    import openpyxl

    _SHEET_ORDER[:] = openpyxl.load_workbook(workbook, read_only=True).sheetnames
    return run_script(
        client, "refresh_due_list", book_payload(workbook, "Clients"), "all", AS_OF.isoformat()
    )


def test_refresh_writes_the_same_due_list_as_pyxl_recompute(
    refreshed: list[dict], workbook: Path
) -> None:
    rows = due_list_rows(check(workbook, AS_OF))
    written = values_at(refreshed, "Due List", schema.HEADER_ROW)
    assert len(written) == len(rows)
    for got, want in zip(written, rows, strict=True):
        assert got[0] == want[0] and got[5] == want[5] and got[9] == want[9]
        assert got[8] == (date_to_serial(want[8]) if want[8] else "")


def test_refresh_resizes_the_tables_and_sets_text_format_before_writing_text(
    refreshed: list[dict],
) -> None:
    funcs = [a["func"] for a in refreshed]
    assert funcs.count("resizeTable") == 3  # Due List, Errors and Supervisor
    due = schema_index("Due List")
    formats = [
        a for a in refreshed if a["func"] == "setNumberFormat" and a["sheet_position"] == due
    ]
    by_column = {a["start_column"]: a["args"][0] for a in formats}
    assert by_column[1] == "@"  # Client Name: client text is never parsed as a formula
    assert by_column[8] == "ddd yyyy-mm-dd"  # Due Date
    first_format = funcs.index("setNumberFormat")
    writes = [i for i, a in enumerate(refreshed) if a["func"] == "setValues"]
    assert first_format < max(writes)


def test_refresh_fills_the_grey_clients_columns_and_touches_no_other_clients_cell(
    refreshed: list[dict], workbook: Path
) -> None:
    clients = schema_index("Clients")
    first_computed = schema.CLIENTS.headers.index("Next Due Date")
    touched = [
        a for a in refreshed
        if a["sheet_position"] == clients and a["func"] not in ("activateSheet",)
    ]  # fmt: skip
    assert touched and all(a["start_column"] == first_computed for a in touched)
    ev = check(workbook, AS_OF)
    summary = client_summaries(ev)
    rows = touched[0]["values"]
    for case, row_number in ev.workbook.client_rows.items():
        next_date, rule, overdue, *_ = summary[case]
        row = rows[row_number - touched[0]["start_row"] - 1]
        assert row[1] == (rule or "") and row[2] == overdue
        assert row[0] == (date_to_serial(next_date) if next_date else "")


def test_refresh_of_selected_rows_rewrites_only_those_clients_cells(
    client: TestClient, workbook: Path
) -> None:
    ev = check(workbook, AS_OF)
    rows = due_list_rows(ev)
    case = rows[0][0]
    row = ev.workbook.client_rows[case]
    book = book_payload(workbook, "Clients", selection=f"B{row}:C{row}")
    actions = run_script(client, "refresh_due_list", book, "selected", AS_OF.isoformat())
    clients = schema_index("Clients")
    client_writes = [a for a in actions if a["sheet_position"] == clients]
    assert [(a["start_row"], a["row_count"]) for a in client_writes] == [(row - 1, 1)]
    errors = schema_index("Errors")
    assert not [a for a in actions if a["sheet_position"] == errors]
    due = values_at(actions, "Due List", schema.HEADER_ROW)
    # Everyone's rows are still there, in the same order as a full refresh puts them.
    assert [(r[0], r[5], r[9]) for r in due] == [(r[0], r[5], r[9]) for r in rows]
    # The Supervisor's counts stay as they were, visibly marked as needing a full Refresh.
    supervisor = [a for a in actions if a["sheet_position"] == schema_index("Supervisor")]
    assert [(a["func"], a["start_row"], a["start_column"]) for a in supervisor] == [
        ("setValues", 1, 0)
    ]
    line = supervisor[0]["values"][0][0]
    assert line.startswith("Needs a Refresh: Refresh selected clients recomputed 1 client on ")


def test_log_contact_adds_one_validated_row_to_the_contacts_table(
    client: TestClient, workbook: Path
) -> None:
    ev = check(workbook, AS_OF)
    case, row = next(iter(ev.workbook.client_rows.items()))
    book = book_payload(workbook, "Clients", selection=f"A{row}")
    actions = run_script(
        client, "log_contact", book, "2026-11-20", "Phone", "Yes", "Yes", "", "=HYPERLINK(1)", ""
    )
    assert [a["func"] for a in actions] == ["addTableRow"]
    values = actions[0]["args"][2]
    headers = schema.CONTACTS.headers
    assert values[headers.index("Case ID")] == case
    assert values[headers.index("Date")] == date_to_serial(dt.date(2026, 11, 20))
    assert values[headers.index("Method")] == "Phone"
    assert values[headers.index("Notes")] == "=HYPERLINK(1)"  # into a Text column: stays text


def test_log_contact_refuses_a_bad_form_and_names_the_field(
    client: TestClient, workbook: Path
) -> None:
    ev = check(workbook, AS_OF)
    _, row = next(iter(ev.workbook.client_rows.items()))
    body = {**book_payload(workbook, "Clients", selection=f"A{row}")}
    body["args"] = ["2026-13-40", "Carrier pigeon", "Yes"]
    response = client.post("/xlwings/custom-scripts-call/log_contact", json=body, headers=HEADERS)
    assert response.status_code == 400
    assert "Date" in response.text and "Method" in response.text


def test_refresh_refuses_a_workbook_that_is_not_a_caseload(
    client: TestClient, workbook: Path
) -> None:
    book = book_payload(workbook, "Clients")
    book["sheets"] = [s for s in book["sheets"] if s["name"] != "Due List"]
    book["book"]["active_sheet_index"] = 0
    body = {**book, "args": ["all", AS_OF.isoformat()]}
    response = client.post(
        "/xlwings/custom-scripts-call/refresh_due_list", json=body, headers=HEADERS
    )
    assert response.status_code == 400
    assert "not a pyxl caseload workbook" in response.text
