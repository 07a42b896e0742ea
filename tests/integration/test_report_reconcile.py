"""One source of truth: every count of the report and of each workbook's Supervisor sheet
is recounted here, independently, from the Due List rows `pyxl recompute` wrote into the
workbooks (the timing rules and the non-compliance clocks alike), per branch and per case
manager, over several workbooks: the hand-worked branch, the demo, and a generated
caseload with non-compliance flows."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import python_calamine
from report_fixtures import AS_OF, build_branch

from pyxl.adapters import libreoffice, schema
from pyxl.adapters.report_workbook import HEADER_ROW, table_range
from pyxl.services import demo_data
from pyxl.services.demo import run_demo
from pyxl.services.new_workbook import create_workbook
from pyxl.services.recompute import recompute
from pyxl.services.report import ReportResult, run_report

OPEN = ("OVERDUE", "DUE SOON", "DUE")
FLOW_RULES = ("NC-OR-01", "NC-TX-07", "NC-AK-08", "NC-SNAP-10")


def sheet_rows(path: Path, sheet: schema.Sheet) -> list[dict[str, object]]:
    values = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet.name)
    return [
        dict(zip(sheet.headers, row, strict=False))
        for row in values.to_python()[schema.HEADER_ROW :]
        if row and row[0] not in ("", None)
    ]


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("reconcile")
    houston = build_branch(folder / "houston.xlsx")
    demo = run_demo(folder / "demo", as_of=AS_OF, n_clients=240).path
    flows = folder / "generated.xlsx"
    rows = demo_data.generate(400, as_of=AS_OF, seed=7)
    for row in rows["Branches"]:  # its own offices, so the county has distinct branches
        row[0] = f"{row[0]} 2"
    for sheet in (schema.STAFF, schema.CLIENTS):
        at = sheet.headers.index("Branch")
        for row in rows[sheet.name]:
            row[at] = f"{row[at]} 2"
    create_workbook(flows, as_of=AS_OF, rows=rows, overwrite=True)
    for path in (houston, flows):
        recompute(path, AS_OF)
    return [houston, demo, flows]


@pytest.fixture(scope="module")
def due(workbooks: list[Path]) -> list[dict[str, object]]:
    return [row for path in workbooks for row in sheet_rows(path, schema.DUE_LIST)]


@pytest.fixture(scope="module")
def county(workbooks: list[Path], tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    out = tmp_path_factory.mktemp("county") / "county.xlsx"
    return run_report(workbooks, AS_OF, out, detail=True)


def recount(due: list[dict[str, object]], key) -> dict[object, Counter[str]]:
    out: dict[object, Counter[str]] = defaultdict(Counter)
    for row in due:
        out[key(row)][str(row["Status"])] += 1
    return out


def test_the_due_lists_hold_flow_clocks_so_the_check_covers_them(due) -> None:
    rules = {r["Rule"] for r in due}
    assert rules & set(FLOW_RULES), rules
    assert Counter(r["Status"] for r in due)["OVERDUE"] > 20


def test_by_branch_by_case_manager_and_by_rule_count_the_due_list_rows(county, due) -> None:
    def expected(key) -> dict[object, list[int]]:
        found = recount(due, key)
        return {k: [c[s] for s in OPEN] for k, c in found.items()}

    def table(sheet: str, key) -> dict[object, list[int]]:
        t = county.table(sheet)
        headers = [c.header for c in t.columns]
        at = [headers.index(h) for h in ("Overdue", "Due Soon", "Due")]
        return {key(r): [r[i] for i in at] for r in t.rows if any(r[i] for i in at)}

    assert table("By Branch", lambda r: r[0]) == expected(lambda r: r["Branch"])
    assert table("By Case Manager", lambda r: (r[0], r[2])) == expected(
        lambda r: (r["Branch"], r["Case Manager"])
    )
    assert table("By Rule", lambda r: r[0]) == expected(lambda r: r["Rule"])
    for sheet in ("By Branch", "By Case Manager", "By Rule"):
        t = county.table(sheet)
        opened = t.column("Open")
        split = zip(t.column("Overdue"), t.column("Due Soon"), t.column("Due"), strict=True)
        assert opened == [sum(s) for s in split], sheet


def test_the_overview_and_who_is_behind_count_the_due_list_rows(county, due) -> None:
    figures = {r[0]: r[1] for r in county.report.tables["Overview"].rows}
    statuses = Counter(str(r["Status"]) for r in due)
    assert figures["OVERDUE"] == statuses["OVERDUE"]
    assert figures["DUE SOON"] == statuses["DUE SOON"]
    assert figures["DUE"] == statuses["DUE"]
    assert figures["Obligations open"] == len(due)
    behind = county.report.beside["Overview"]
    late = Counter((r["Branch"], r["Case Manager"]) for r in due if r["Status"] == "OVERDUE")
    oldest: dict[tuple, int] = {}
    for r in due:
        if r["Status"] == "OVERDUE":
            k = (r["Branch"], r["Case Manager"])
            oldest[k] = max(oldest.get(k, 0), int(r["Days Overdue"]))
    horizon = AS_OF + dt.timedelta(days=7)
    week = Counter(
        (r["Branch"], r["Case Manager"])
        for r in due
        if r["Status"] != "OVERDUE" and r["Due Date"] and _date(r["Due Date"]) <= horizon
    )
    managers = [r for r in behind.rows if r[1] != "All case managers"]
    assert {(r[0], r[1]): r[2] for r in managers if r[2]} == dict(late)
    assert {(r[0], r[1]): r[3] for r in managers if r[3]} == oldest
    assert {(r[0], r[1]): r[7] for r in managers if r[7]} == dict(week)
    branches = {r[0]: r for r in behind.rows if r[1] == "All case managers"}
    for branch, row in branches.items():
        assert row[2] == sum(n for (b, _), n in late.items() if b == branch)
    assert figures["Due in 7 days"] == sum(week.values())


def test_the_work_list_is_the_due_lists_overdue_and_due_this_week_rows(county, due) -> None:
    horizon = AS_OF + dt.timedelta(days=7)
    urgent = Counter(
        (r["Case ID"], r["Rule"], _date(r["Due Date"]), r["Status"])
        for r in due
        if r["Status"] == "OVERDUE" or (r["Due Date"] and _date(r["Due Date"]) <= horizon)
    )
    listed = Counter((r[8], r[6], r[3], r[4]) for r in county.table("Work List").rows)
    assert listed == urgent


def test_each_workbooks_supervisor_sheet_counts_its_due_list_rows(workbooks) -> None:
    for path in workbooks:
        due = sheet_rows(path, schema.DUE_LIST)
        late = Counter(r["Case Manager"] for r in due if r["Status"] == "OVERDUE")
        soon = Counter(r["Case Manager"] for r in due if r["Status"] == "DUE SOON")
        opened = Counter(r["Case Manager"] for r in due)
        for row in sheet_rows(path, schema.SUPERVISOR):
            m = row["Case Manager"]
            got = (row["Open"], row["Overdue"], row["Due Soon"])
            assert got == (opened[m], late[m], soon[m]), (path.name, m)


def test_the_report_and_the_supervisor_sheets_agree_per_case_manager(county, workbooks) -> None:
    sheet: Counter[str] = Counter()
    for path in workbooks:
        for row in sheet_rows(path, schema.SUPERVISOR):
            sheet[f"{row['Case Manager']}|overdue"] += int(row["Overdue"])
            sheet[f"{row['Case Manager']}|open"] += int(row["Open"])
    report: Counter[str] = Counter()
    t = county.table("By Case Manager")
    for manager, late, opened in zip(
        t.column("Case Manager"), t.column("Overdue"), t.column("Open"), strict=True
    ):
        report[f"{manager}|overdue"] += late
        report[f"{manager}|open"] += opened
    assert +report == +sheet


def test_each_total_row_equals_the_overview(soffice: str, county, tmp_path: Path) -> None:
    """What LibreOffice computes in each sheet's Total (shown rows) row is the Overview's."""
    figures = {r[0]: r[1] for r in county.report.tables["Overview"].rows}
    out = libreoffice.recalculate(county.path, tmp_path)
    book = python_calamine.CalamineWorkbook.from_path(str(out))
    for name in ("By Rule", "By Branch", "By Case Manager"):
        cells = book.get_sheet_by_name(name).to_python()
        header = cells[HEADER_ROW]
        total = cells[table_range(county.report.tables[name])[1] + 1]
        assert total[0] == "Total (shown rows)", name
        pairs = (("Open", "Obligations open"), ("Overdue", "OVERDUE"), ("Due Soon", "DUE SOON"),
                 ("Due", "DUE"), ("Met", "MET"))  # fmt: skip
        for column, figure in pairs:
            assert total[header.index(column)] == figures[figure], (name, column)
        if "Clients" in header:
            assert total[header.index("Clients")] == figures["Clients"], name


def _date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    assert isinstance(value, dt.date), value
    return value
