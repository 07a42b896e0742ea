"""The report's conciliation tracking (S2): every Oregon conciliation with its 10-working-day
clock and outcome, the disqualification history per person, and re-engagement by worker --
checked against figures worked out by hand on a three-client branch."""

from __future__ import annotations

import datetime as dt

import pytest

from pyxl.adapters import schema
from pyxl.services.new_workbook import create_workbook
from pyxl.services.report import build_report, reduce_workbook

D = dt.date
AS_OF = D(2026, 4, 10)


def row(sheet: schema.Sheet, **values: object) -> list[object]:
    return [values.get(h) for h in sheet.headers]


def client(case: str) -> list[object]:
    values = {
        "Case ID": case,
        "Person ID": f"P-{case}",
        "Client Name": f"Client {case}",
        "Program": "Oregon JOBS",
        "Branch": "Portland",
        "Case Manager": "Ben Cole",
        "Referral Date": D(2026, 1, 5),
    }
    return row(schema.CLIENTS, **values)


def no_show(case: str, day: dt.date) -> list[object]:
    return row(
        schema.APPOINTMENTS,
        **{"Case ID": case, "Type": "Activity", "Date": day, "Status": "No-show"},
    )


def attempt(case: str, day: dt.date, method: str) -> list[object]:
    values = {"Case ID": case, "Date": day, "Method": method, "Successful": False}
    return row(schema.CONTACTS, **values)


def event(case: str, day: dt.date, name: str) -> list[object]:
    return row(schema.NONCOMPLIANCE, **{"Case ID": case, "Date": day, "Event": name})


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("conciliation") / "portland.xlsx"
    rows = {
        "Branches": [row(schema.BRANCHES, Branch="Portland", State="OR", Calendar="OR")],
        "Staff": [row(schema.STAFF, **{"Case Manager": "Ben Cole", "Branch": "Portland"})],
        "Clients": [client("OR-1"), client("OR-2"), client("OR-3")],
        "Appointments": [
            no_show("OR-1", D(2026, 3, 2)),
            no_show("OR-2", D(2026, 3, 2)),
            no_show("OR-3", D(2026, 4, 6)),
        ],
        "Contacts": [
            attempt("OR-1", D(2026, 3, 3), "Postcard"),
            attempt("OR-1", D(2026, 3, 4), "Phone"),
            attempt("OR-2", D(2026, 3, 3), "Letter"),
            attempt("OR-2", D(2026, 3, 4), "Phone"),
        ],
        "Noncompliance": [
            event("OR-1", D(2026, 3, 11), "Good cause: yes"),
            event("OR-2", D(2026, 3, 20), "Good cause: no"),  # late: due Mon Mar 16
            event("OR-2", D(2026, 3, 20), "Re-engagement page completed"),
            event("OR-2", D(2026, 3, 20), "Re-engagement page finalized"),
            event("OR-2", D(2026, 4, 1), "Re-engagement requested"),
        ],
        "Penalties": [
            row(
                schema.PENALTIES,
                **{
                    "Case ID": "OR-2",
                    "Program": "Oregon JOBS",
                    "Imposed Date": D(2026, 3, 23),
                    "Step": 1,
                    "Level": 1,
                },
            )
        ],
    }
    create_workbook(path, as_of=AS_OF, rows=rows)
    return build_report([reduce_workbook(path, AS_OF)], AS_OF)


def test_each_conciliation_is_listed_with_its_due_date_and_outcome(report):
    table = report.tables["Conciliation"]
    assert table.rows == [
        ["Portland", "Ben Cole", "OR-1", "Client OR-1", D(2026, 3, 2), D(2026, 3, 16),
         D(2026, 3, 11), "Yes", "Good cause"],
        ["Portland", "Ben Cole", "OR-2", "Client OR-2", D(2026, 3, 2), D(2026, 3, 16),
         D(2026, 3, 20), "No", "Disqualification"],
        ["Portland", "Ben Cole", "OR-3", "Client OR-3", D(2026, 4, 6), D(2026, 4, 20),
         None, "", "Pending"],
    ]  # fmt: skip


def test_the_worker_summary_counts_on_time_outcomes_and_re_engagement(report):
    (summary,) = report.tables["Conciliation by CM"].rows
    assert summary == ["Portland", "Ben Cole", 3, 1, 1 / 3, 1, 0, 1, 1, 1, 1, 1.0, 9]


def test_the_disqualification_history_names_the_step_level_and_re_engagement(report):
    (history,) = report.tables["Disqualification History"].rows
    assert history[:2] == ["P-OR-2", "OR-2"]
    assert history[5:8] == [D(2026, 3, 23), 1, 1]
    assert history[8].startswith("step 1, level 1")
    assert history[10:] == [D(2026, 4, 1), 9]
