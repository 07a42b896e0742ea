"""`pyxl import-history FROM INTO`: a person's non-compliance history follows them to another
branch, matched on Person ID, never duplicated, conflicts reported, and the next step counted
from it."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest

from pyxl.adapters import schema
from pyxl.cli import main
from pyxl.services.history import import_history
from pyxl.services.new_workbook import create_workbook
from pyxl.services.recompute import check

D = dt.date
AS_OF = D(2026, 3, 20)


def row(sheet: schema.Sheet, **values: object) -> list[object]:
    return [values.get(h.replace(" ", "_"), values.get(h)) for h in sheet.headers]


def client(case: str, person: str | None, branch: str, manager: str) -> list[object]:
    values = {
        "Case ID": case,
        "Person ID": person,
        "Client Name": f"Client {case}",
        "Program": "Oregon JOBS",
        "Branch": branch,
        "Case Manager": manager,
        "Referral Date": D(2026, 1, 5),
    }
    return [values.get(h) for h in schema.CLIENTS.headers]


def sheet(values: dict[str, object], s: schema.Sheet) -> list[object]:
    return [values.get(h) for h in s.headers]


def workbook(path: Path, branch: str, manager: str, clients, events=(), penalties=()) -> Path:
    rows = {
        "Branches": [sheet({"Branch": branch, "State": "OR", "Calendar": "OR"}, schema.BRANCHES)],
        "Staff": [sheet({"Case Manager": manager, "Branch": branch}, schema.STAFF)],
        "Clients": list(clients),
        "Noncompliance": [sheet(e, schema.NONCOMPLIANCE) for e in events],
        "Penalties": [sheet(p, schema.PENALTIES) for p in penalties],
    }
    return create_workbook(path, as_of=AS_OF, rows=rows)


SALEM_EVENTS = [
    {"Case ID": "S-1", "Date": D(2025, 5, 20), "Event": "Good cause: no"},
    {"Case ID": "S-1", "Date": D(2025, 5, 20), "Event": "Re-engagement page completed"},
    {"Case ID": "S-2", "Date": D(2025, 6, 2), "Event": "Missed activity"},  # not a client here
    {"Case ID": "S-3", "Date": D(2025, 6, 3), "Event": "Missed activity"},  # no Person ID
]
SALEM_PENALTIES = [
    {
        "Case ID": "S-1",
        "Program": "Oregon JOBS",
        "Imposed Date": D(2025, 6, 1),
        "Ended Date": D(2025, 7, 1),
        "Step": 1,
        "Level": 1,
    },
    {
        "Case ID": "S-1",
        "Program": "Oregon JOBS",
        "Imposed Date": D(2025, 9, 1),
        "Ended Date": D(2025, 10, 1),
        "Step": 2,
        "Level": 1,
    },
]


@pytest.fixture
def branches(tmp_path: Path) -> tuple[Path, Path]:
    salem = workbook(
        tmp_path / "salem.xlsx",
        "Salem",
        "Rosa Ortiz",
        [
            client("S-1", "P-1", "Salem", "Rosa Ortiz"),
            client("S-2", "P-2", "Salem", "Rosa Ortiz"),
            client("S-3", None, "Salem", "Rosa Ortiz"),
        ],
        SALEM_EVENTS,
        SALEM_PENALTIES,
    )
    portland = workbook(
        tmp_path / "portland.xlsx",
        "Portland",
        "Ben Cole",
        [client("OR-1", "P-1", "Portland", "Ben Cole")],
        penalties=[  # one of the two already copied by hand, with a different end date
            {
                **SALEM_PENALTIES[1],
                "Case ID": "OR-1",
                "Person ID": "P-1",
                "Branch": "Salem",
                "Ended Date": D(2025, 10, 15),
            },
        ],
    )
    return salem, portland


def table(path: Path, name: str) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path)[name]
    [(_, ref)] = ws.tables.items()
    cells = ws[ref]
    headers = [c.value for c in cells[0]]
    return [dict(zip(headers, (c.value for c in r), strict=True)) for r in cells[1:]]


def test_history_of_shared_people_is_copied_under_the_local_case_with_its_own_branch(branches):
    salem, portland = branches
    result = import_history(salem, portland, AS_OF)
    assert (result.people, len(result.events), len(result.penalties)) == (1, 2, 1)
    events = table(portland, "Noncompliance")
    assert [
        (e["Case ID"], e["Person ID"], e["Event"], e["Branch"], e["Case Manager"]) for e in events
    ] == [
        ("OR-1", "P-1", "Good cause: no", "Salem", "Rosa Ortiz"),
        ("OR-1", "P-1", "Re-engagement page completed", "Salem", "Rosa Ortiz"),
    ]
    penalties = table(portland, "Penalties")
    assert [(p["Step"], p["Branch"]) for p in penalties] == [(2, "Salem"), (1, "Salem")]
    assert result.backup is not None and result.backup.exists()


def test_a_conflicting_penalty_and_rows_without_a_person_id_are_reported_not_imported(branches):
    salem, portland = branches
    result = import_history(salem, portland, AS_OF)
    (conflict,) = result.conflicts
    assert "Penalties row 5 (person P-1, Oregon JOBS, 2025-09-01)" in conflict
    assert "different ended date" in conflict
    assert result.unmatched == ["Noncompliance row 7 (case S-3): no Person ID"]


def test_importing_twice_never_duplicates(branches):
    salem, portland = branches
    import_history(salem, portland, AS_OF)
    before = (len(table(portland, "Noncompliance")), len(table(portland, "Penalties")))
    again = import_history(salem, portland, AS_OF)
    assert again.added == 0 and again.already_there == 3 and again.backup is None
    assert (len(table(portland, "Noncompliance")), len(table(portland, "Penalties"))) == before


def test_the_next_disqualification_step_counts_the_imported_history(branches, tmp_path):
    salem, portland = branches
    import_history(salem, portland, AS_OF)
    wb = openpyxl.load_workbook(portland)
    ws = wb["Penalties"]
    ref = ws.tables["Penalties"].ref
    last = int(ref.split(":")[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    ws.cell(last + 1, 1, "OR-1")
    ws.cell(last + 1, 3, "Oregon JOBS")
    ws.cell(last + 1, 5, dt.datetime(2026, 3, 16))
    ws.tables["Penalties"].ref = ref.replace(str(last), str(last + 1))
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    ev = check(edited, AS_OF)
    assert ev.flows.penalties[-1].expected.startswith("step 3, level 2")


def test_the_command_reports_what_it_did_and_refuses_a_workbook_in_use(branches, capsys):
    salem, portland = branches
    assert main(["import-history", str(salem), str(portland), "--as-of", "2026-03-20"]) == 0
    out = capsys.readouterr().out
    assert "imported 2 events and 1 penalties" in out and "conflict:" in out
    lock = portland.with_name(f".~lock.{portland.name}#")
    lock.write_text("someone")
    assert main(["import-history", str(salem), str(portland)]) == 2
    assert "nothing was imported" in capsys.readouterr().err.lower()
    shutil.os.remove(lock)
