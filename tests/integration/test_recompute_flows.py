"""Recompute writes the non-compliance flows into the workbook: the state and next action on
Clients, the flows' clocks on the Due List, the Penalties sheet's computed columns, and every
forbidden transition on the Errors sheet at the cell that holds it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from pyxl.adapters import schema
from pyxl.services import recompute
from pyxl.services.new_workbook import create_workbook

D = dt.date
AS_OF = D(2026, 3, 17)


def row(sheet: schema.Sheet, **values: object) -> list[object]:
    return [values.get(h) for h in sheet.headers]


def client(case: str, program: str, branch: str, manager: str, **more: object) -> list[object]:
    return row(
        schema.CLIENTS,
        **{
            "Case ID": case,
            "Client Name": f"Client {case}",
            "Program": program,
            "Branch": branch,
            "Case Manager": manager,
            "Referral Date": D(2026, 1, 5),
            **more,
        },
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, recompute.RecomputeResult]:
    path = tmp_path_factory.mktemp("flows") / "caseload.xlsx"
    rows = {
        "Branches": [
            row(schema.BRANCHES, Branch="Houston", State="TX", Calendar="TX"),
            row(schema.BRANCHES, Branch="Portland", State="OR", Calendar="OR"),
        ],
        "Staff": [
            row(schema.STAFF, **{"Case Manager": "Ana Ruiz", "Branch": "Houston"}),
            row(schema.STAFF, **{"Case Manager": "Ben Cole", "Branch": "Portland"}),
        ],
        "Clients": [
            client("TX-1", "Texas Choices", "Houston", "Ana Ruiz"),
            client("OR-1", "Oregon JOBS", "Portland", "Ben Cole", **{"Person ID": "P-9"}),
        ],
        "Noncompliance": [
            row(
                schema.NONCOMPLIANCE,
                **{
                    "Case ID": "TX-1",
                    "Date": D(2026, 3, 9),
                    "Event": "Missed activity",
                    "Reported Date": D(2026, 3, 10),
                },
            ),
            row(
                schema.NONCOMPLIANCE,
                **{"Case ID": "TX-404", "Date": D(2026, 3, 9), "Event": "Missed activity"},
            ),
        ],
        "Penalties": [
            row(  # history from another branch: step 1
                schema.PENALTIES,
                **{
                    "Case ID": "OR-1",
                    "Person ID": "P-9",
                    "Program": "Oregon JOBS",
                    "Imposed Date": D(2025, 4, 1),
                    "Ended Date": D(2025, 5, 1),
                    "Step": 1,
                    "Level": 1,
                    "Branch": "Salem",
                },
            ),
            row(  # imposed here with no re-engagement staffing on record: flagged
                schema.PENALTIES,
                **{
                    "Case ID": "OR-1",
                    "Program": "Oregon JOBS",
                    "Imposed Date": D(2026, 3, 2),
                    "Step": 3,
                    "Branch": "Portland",
                },
            ),
        ],
    }
    create_workbook(path, as_of=AS_OF, rows=rows)
    return path, recompute.recompute(path, AS_OF)


def sheet_rows(path: Path, name: str) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path, data_only=True)[name]
    values = list(ws.iter_rows(min_row=schema.HEADER_ROW, values_only=True))
    headers = values[0]
    return [dict(zip(headers, r, strict=True)) for r in values[1:] if any(r)]


def test_clients_show_each_cases_flow_state_and_next_action(written):
    path, _ = written
    by_case = {r["Case ID"]: r for r in sheet_rows(path, "Clients")}
    assert by_case["TX-1"]["Flow State"] == "Non-cooperation"
    assert by_case["TX-1"]["Next Action"] == "Send non-compliance letter"
    assert by_case["OR-1"]["Flow State"] == "Disqualified"
    assert str(by_case["OR-1"]["Next Action"]).startswith("Check: ")


def test_the_flows_clocks_are_on_the_due_list_with_their_explanation(written):
    path, _ = written
    (entry,) = [r for r in sheet_rows(path, "Due List") if r["Rule"] == "NC-TX-07"]
    assert entry["Case ID"] == "TX-1" and entry["Status"] == "DUE SOON"  # due today
    assert entry["Due Date"].date() == D(2026, 3, 17)
    assert "within 7 calendar days of the non-cooperation found on Tue 2026-03-10" in str(
        entry["Explanation"]
    )


def test_penalties_get_their_expected_step_and_the_disagreement_is_reported(written):
    path, _ = written
    penalties = sheet_rows(path, "Penalties")
    assert penalties[0]["Expected"].startswith("step 1, level 1")
    assert penalties[1]["Expected"].startswith("step 2, level 1")
    errors = sheet_rows(path, "Errors")
    step = [e for e in errors if e["Sheet"] == "Penalties" and e["Column"] == "Step"]
    assert step and step[0]["Cell"] == "F5"
    assert "puts this disqualification at step 2, not 3" in step[0]["Problem"]
    imposed = [e for e in errors if e["Sheet"] == "Penalties" and e["Column"] == "Imposed Date"]
    assert "re-engagement staffing that decided to disqualify" in imposed[0]["Problem"]
    assert imposed[0]["Cell"] == "E5"


def test_an_event_for_an_unknown_case_is_reported_and_the_rest_goes_on(written):
    path, result = written
    errors = sheet_rows(path, "Errors")
    unknown = [e for e in errors if e["Sheet"] == "Noncompliance"]
    assert unknown[0]["Cell"] == "A5" and "not on the Clients sheet" in unknown[0]["Problem"]
    assert result.evaluation.flows.states["TX-1"].state == "Non-cooperation"
