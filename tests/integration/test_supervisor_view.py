"""The Supervisor sheet recompute writes, its links, and the Due List counts that follow a
filter (checked by letting LibreOffice recalculate a workbook filtered to one worker)."""

from __future__ import annotations

import re
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
import python_calamine
from lxml import etree
from report_fixtures import AS_OF, build_branch

from pyxl.adapters import libreoffice, schema
from pyxl.adapters.workbook_builder import FILTER_COUNT_COLUMN
from pyxl.adapters.workbook_reader import sheet_parts
from pyxl.services.recompute import recompute

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
FIRST = schema.HEADER_ROW + 1


@pytest.fixture(scope="module")
def recomputed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build_branch(tmp_path_factory.mktemp("supervisor") / "houston.xlsx")
    recompute(path, AS_OF)
    return path


def due_list(path: Path) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path)[schema.DUE_LIST.name]
    headers = schema.DUE_LIST.headers
    return [
        dict(zip(headers, (c.value for c in row), strict=False))
        for row in ws.iter_rows(min_row=FIRST)
        if row[0].value
    ]


def test_the_supervisor_sheet_counts_each_workers_open_and_overdue_items(recomputed: Path):
    ws = openpyxl.load_workbook(recomputed)[schema.SUPERVISOR.name]
    got = [[c.value for c in row] for row in ws.iter_rows(min_row=FIRST)]
    rows = due_list(recomputed)
    overdue = Counter(r["Case Manager"] for r in rows if r["Status"] == "OVERDUE")
    soon = Counter(r["Case Manager"] for r in rows if r["Status"] == "DUE SOON")
    opened = Counter(r["Case Manager"] for r in rows)
    assert [r[:9] for r in got] == [
        ["Houston", "Sue Boss", "Ana", 3, opened["Ana"], overdue["Ana"], soon["Ana"], 145, 0],
        ["Houston", "Tom Lead", "Ben", 3, opened["Ben"], overdue["Ben"], soon["Ben"], 115, 1],
    ]
    # Weeks of hours never entered stay OVERDUE (T-05, "Missed weeks shown"): Ana's TX-1 has
    # four, Ben's TX-2 two, beside the other rules' overdue items.
    assert (overdue["Ana"], overdue["Ben"]) == (12, 8)


def test_the_links_jump_to_the_workers_most_urgent_item_and_first_client(recomputed: Path):
    book = openpyxl.load_workbook(recomputed)
    ws = book[schema.SUPERVISOR.name]
    due = book[schema.DUE_LIST.name]
    clients = book[schema.CLIENTS.name]
    manager_col = schema.DUE_LIST.headers.index("Case Manager") + 1
    client_manager_col = schema.CLIENTS.headers.index("Case Manager") + 1
    for r in range(FIRST, ws.max_row + 1):
        manager = ws.cell(r, 3).value
        urgent, first = ws.cell(r, 10).hyperlink, ws.cell(r, 11).hyperlink
        sheet, row = re.fullmatch(r"'(.+)'!A(\d+)", urgent.location).groups()
        assert sheet == schema.DUE_LIST.name and ws.cell(r, 10).value == f"Due List row {row}"
        assert due.cell(int(row), manager_col).value == manager
        assert due.cell(int(row), 10).value == "OVERDUE"  # the most urgent item is overdue
        assert all(  # and no row above it is this worker's
            due.cell(k, manager_col).value != manager for k in range(FIRST, int(row))
        )
        sheet, row = re.fullmatch(r"'(.+)'!A(\d+)", first.location).groups()
        assert sheet == schema.CLIENTS.name
        assert clients.cell(int(row), client_manager_col).value == manager


def filter_due_list(source: Path, target: Path, manager: str) -> None:
    """What Excel stores when a user filters the Due List's Case Manager column: a filter on
    the table's autoFilter and the other rows hidden."""
    shutil.copy2(source, target)
    with zipfile.ZipFile(source) as z:
        part = sheet_parts(z)[0][schema.DUE_LIST.name]
        members = {i.filename: z.read(i) for i in z.infolist()}
    sheet = etree.fromstring(members[part])
    col = schema.DUE_LIST.headers.index("Case Manager")
    for row in sheet.iterfind(f".//{{{MAIN}}}sheetData/{{{MAIN}}}row"):
        if int(row.get("r")) < FIRST:
            continue
        texts = ["".join(c.itertext()) for c in row if c.get("r", "").startswith("E")]
        if texts and texts[0] != manager:
            row.set("hidden", "1")
    members[part] = etree.tostring(sheet, xml_declaration=True, encoding="UTF-8")
    table_name = next(
        n for n in members if n.startswith("xl/tables/") and b'name="DueList"' in members[n]
    )
    table = etree.fromstring(members[table_name])
    auto = table.find(f"{{{MAIN}}}autoFilter")
    column = etree.SubElement(auto, f"{{{MAIN}}}filterColumn", colId=str(col))
    filters = etree.SubElement(column, f"{{{MAIN}}}filters")
    etree.SubElement(filters, f"{{{MAIN}}}filter", val=manager)
    members[table_name] = etree.tostring(table, xml_declaration=True, encoding="UTF-8")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)


@pytest.mark.parametrize("manager", ["Ana", "Ben"])
def test_the_due_list_counts_follow_a_filter_on_one_worker_in_libreoffice(
    soffice: str, recomputed: Path, tmp_path: Path, manager: str
) -> None:
    filtered = tmp_path / f"{manager}.xlsx"
    filter_due_list(recomputed, filtered, manager)
    out = libreoffice.recalculate(filtered, tmp_path / "lo")
    top = python_calamine.CalamineWorkbook.from_path(str(out))
    row = top.get_sheet_by_name(schema.DUE_LIST.name).to_python()[0]
    counts = dict(zip(row[FILTER_COUNT_COLUMN::2], row[FILTER_COUNT_COLUMN + 1 :: 2], strict=False))
    mine = [r for r in due_list(recomputed) if r["Case Manager"] == manager]
    assert counts == {
        "Shown:": len(mine),
        "Overdue:": sum(r["Status"] == "OVERDUE" for r in mine),
        "Due soon:": sum(r["Status"] == "DUE SOON" for r in mine),
    }
    everyone = libreoffice.recalculate(recomputed, tmp_path / "all")
    row = (
        python_calamine.CalamineWorkbook.from_path(str(everyone))
        .get_sheet_by_name(schema.DUE_LIST.name)
        .to_python()[0]
    )
    assert row[FILTER_COUNT_COLUMN + 1] == len(due_list(recomputed)) > len(mine)


def test_a_workbook_made_before_the_supervisor_sheet_still_recomputes(tmp_path: Path) -> None:
    """Remove the sheet the way an older workbook lacks it; recompute writes the rest."""
    path = build_branch(tmp_path / "old.xlsx")
    book = openpyxl.load_workbook(path)
    del book[schema.SUPERVISOR.name]
    book.save(path)
    result = recompute(path, AS_OF)
    assert result.due_list_rows == len(due_list(path)) > 0
    assert schema.SUPERVISOR.name not in openpyxl.load_workbook(path).sheetnames
