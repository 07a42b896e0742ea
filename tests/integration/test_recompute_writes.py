"""What `recompute` writes, and what it leaves alone.

recompute patches the xlsx package instead of saving through openpyxl, so that what
Excel wrote and openpyxl does not know survives (reliability.md 1.1 and "Top risks" 1).
These tests check the written parts (Due List, Errors, the Clients summary columns,
table and conditional-format ranges), that every other part is unchanged, that a second
run changes nothing, and that Excel-only parts and x14 extensions are kept. All data is
made up (pyxl.services.demo_data).
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import shutil
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree

from pyxl.adapters import libreoffice, schema
from pyxl.adapters.workbook_reader import column_letter, sheet_parts
from pyxl.services import demo_data
from pyxl.services.new_workbook import create_workbook
from pyxl.services.recompute import RecomputeResult, recompute

AS_OF = demo_data.AS_OF
FIRST = schema.HEADER_ROW + 1
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
M = {"m": MAIN}
HEADERS = schema.CLIENTS.headers
NEXT_DUE, NEXT_RULE, OVERDUE = (
    HEADERS.index("Next Due Date") + 1,
    HEADERS.index("Next Due Rule") + 1,
    HEADERS.index("Overdue Count") + 1,
)
COMPUTED = {HEADERS.index(c.header) + 1 for c in schema.CLIENTS.columns if c.computed}
STALE = (dt.date(2001, 1, 1), "OLD", 99)  # typed over the computed columns before Refresh


def build(path: Path, n_clients: int = 40) -> Path:
    """A demo caseload with its injected mistakes, and stale summary values on every
    Clients row (so that clearing is visible)."""
    data = demo_data.generate(n_clients, as_of=AS_OF, messy=True)
    for row in data["Clients"]:
        row[NEXT_DUE - 1], row[NEXT_RULE - 1], row[OVERDUE - 1] = STALE
    return create_workbook(path, as_of=AS_OF, rows=data)


def members(path: Path) -> dict[str, bytes]:
    """Every zip member, decompressed, in archive order."""
    with zipfile.ZipFile(path) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def parts_of(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return sheet_parts(z)[0]


def table_part(path: Path, sheet: str) -> str:
    part = parts_of(path)[sheet]
    folder, name = part.rsplit("/", 1)
    with zipfile.ZipFile(path) as z:
        rels = etree.fromstring(z.read(f"{folder}/_rels/{name}.rels"))
    targets = [r.get("Target") for r in rels if r.get("Type", "").endswith("/table")]
    assert len(targets) == 1, targets
    return posixpath.normpath(f"{folder}/{targets[0]}")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, RecomputeResult]:
    folder = tmp_path_factory.mktemp("writes")
    path = build(folder / "caseload.xlsx")
    before = path.read_bytes()
    result = recompute(path, AS_OF)
    return path, before, result


# ---------------------------------------------------------------- (a), (b) it opens


def test_opens_in_openpyxl_without_warnings(written: tuple[Path, bytes, RecomputeResult]) -> None:
    path, _, _ = written
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wb = openpyxl.load_workbook(path)
    assert [str(w.message) for w in caught] == []
    assert [ws.title for ws in wb.worksheets][:4] == [
        "How to use",
        "Due List",
        "Supervisor",
        "Clients",
    ]


def test_libreoffice_converts_it_to_xlsx_and_pdf(
    soffice: str, written: tuple[Path, bytes, RecomputeResult], tmp_path: Path
) -> None:
    path, _, result = written
    xlsx = libreoffice.convert(path, "xlsx", tmp_path / "xlsx")[0]
    due = openpyxl.load_workbook(xlsx)["Due List"]
    statuses = [due.cell(r, 10).value for r in range(FIRST, due.max_row + 1)]
    assert len([s for s in statuses if s]) == result.due_list_rows
    pdf = libreoffice.to_pdf(path, tmp_path / "pdf")
    body = pdf.read_bytes()
    assert body.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", body)) >= 3  # guide, Due List, Clients...


# ---------------------------------------------------------------- (c) ranges


def _ranges(path: Path, sheet: schema.Sheet) -> dict[str, object]:
    parts = parts_of(path)
    with zipfile.ZipFile(path) as z:
        ws = etree.fromstring(z.read(parts[sheet.name]))
        table = etree.fromstring(z.read(table_part(path, sheet.name)))
    rows = [int(r.get("r")) for r in ws.find("m:sheetData", M)]
    return {
        "table": table.get("ref"),
        "autofilter": table.find("m:autoFilter", M).get("ref"),
        "cf": sorted({cf.get("sqref") for cf in ws.findall("m:conditionalFormatting", M)}),
        "dimension": ws.find("m:dimension", M).get("ref"),
        "last_row": max(rows),
        "rows": rows,
    }


def _expected_ranges(sheet: schema.Sheet, n: int) -> dict[str, object]:
    last = schema.HEADER_ROW + max(n, 1)
    col = column_letter(len(sheet.columns) - 1)
    return {
        "table": f"A{schema.HEADER_ROW}:{col}{last}",
        "autofilter": f"A{schema.HEADER_ROW}:{col}{last}",
        "cf": [f"A{FIRST}:{col}{last}"],
        "dimension": f"A1:{col}{last}",
        "last_row": schema.HEADER_ROW + n if n else schema.HEADER_ROW,
        "rows": list(range(1, schema.HEADER_ROW + n + 1)),
    }


@pytest.mark.parametrize(
    "as_of", [AS_OF, AS_OF - dt.timedelta(days=200), AS_OF], ids=["today", "earlier", "again"]
)
def test_table_and_conditional_format_ranges_follow_the_rows(
    written: tuple[Path, bytes, RecomputeResult], tmp_path: Path, as_of: dt.date
) -> None:
    """Ranges grow and shrink with the rows; no old row is left below the table."""
    source, _, _ = written
    path = tmp_path / "caseload.xlsx"
    shutil.copy2(source, path)
    result = recompute(path, as_of)
    assert _ranges(path, schema.DUE_LIST) == _expected_ranges(schema.DUE_LIST, result.due_list_rows)
    n_errors = len(result.evaluation.problems)
    assert n_errors > 0  # demo_data(messy=True) puts mistakes in
    assert _ranges(path, schema.ERRORS) == _expected_ranges(schema.ERRORS, n_errors)


def test_an_empty_due_list_keeps_one_blank_table_row(tmp_path: Path) -> None:
    path = create_workbook(tmp_path / "empty.xlsx", as_of=AS_OF)
    result = recompute(path, AS_OF)
    assert result.due_list_rows == 0
    ranges = _ranges(path, schema.DUE_LIST)
    assert ranges["table"] == "A3:L4" and ranges["cf"] == ["A4:L4"]
    assert ranges["rows"] == [1, 2, 3]


# ---------------------------------------------------------------- (d) Clients summary


def test_clients_summary_columns_are_on_the_right_rows(
    written: tuple[Path, bytes, RecomputeResult],
) -> None:
    path, _, result = written
    wb = openpyxl.load_workbook(path)
    due = wb["Due List"]
    by_case: dict[str, list[tuple[dt.date | None, str, str]]] = {}
    for row in due.iter_rows(min_row=FIRST, values_only=True):
        case_id, rule, due_date, status = row[0], row[5], row[8], row[9]
        by_case.setdefault(case_id, []).append(
            (due_date.date() if due_date else None, rule, status)
        )
    clients = wb["Clients"]
    rows = result.evaluation.workbook.client_rows
    assert len(rows) >= 30
    checked_dates = 0
    for case_id, r in rows.items():
        assert clients.cell(r, 1).value == case_id
        next_due = clients.cell(r, NEXT_DUE)
        rule = clients.cell(r, NEXT_RULE).value
        overdue = clients.cell(r, OVERDUE).value
        listed = by_case.get(case_id, [])
        dates = [d for d, _, _ in listed if d]
        assert overdue == sum(s == "OVERDUE" for _, _, s in listed), case_id
        if dates:
            assert next_due.is_date, (case_id, next_due.value, next_due.number_format)
            assert next_due.value.date() == min(dates), case_id
            assert rule in {ru for d, ru, _ in listed if d == min(dates)}, case_id
            checked_dates += 1
        else:
            assert (next_due.value, rule) == (None, None), case_id
    assert checked_dates >= 20


def test_rejected_rows_point_at_the_errors_sheet_instead_of_looking_like_nothing_due(
    written: tuple[Path, bytes, RecomputeResult],
) -> None:
    path, _, result = written
    clients = openpyxl.load_workbook(path)["Clients"]
    kept = set(result.evaluation.workbook.client_rows.values())
    rejected = [r for r in range(FIRST, clients.max_row + 1) if r not in kept]
    assert rejected, "demo_data(messy=True) should leave out at least one Clients row"
    for r in rejected:
        values = [clients.cell(r, c).value for c in (NEXT_DUE, NEXT_RULE, OVERDUE)]
        assert values == [None, "see Errors", None], (r, values)
    stale = [
        r for r in range(FIRST, clients.max_row + 1) if clients.cell(r, NEXT_RULE).value == "OLD"
    ]
    assert stale == []


def test_other_clients_cells_are_untouched(written: tuple[Path, bytes, RecomputeResult]) -> None:
    path, before, _ = written
    old = path.with_name("before.xlsx")
    old.write_bytes(before)
    a = openpyxl.load_workbook(old)["Clients"]
    b = openpyxl.load_workbook(path)["Clients"]
    assert a.max_row == b.max_row
    for ra, rb in zip(a.iter_rows(), b.iter_rows(), strict=True):
        for ca, cb in zip(ra, rb, strict=True):
            if ca.row >= FIRST and ca.column in COMPUTED:
                continue
            assert (ca.value, ca.data_type, ca.style_id) == (cb.value, cb.data_type, cb.style_id)


# ---------------------------------------------------------------- (e) other parts


def test_every_other_part_is_unchanged(written: tuple[Path, bytes, RecomputeResult]) -> None:
    path, before, _ = written
    old = path.with_name("before-parts.xlsx")
    old.write_bytes(before)
    a, b = members(old), members(path)
    assert list(a) == list(b), "parts added, removed or reordered"
    parts = parts_of(path)
    allowed = {
        parts[schema.DUE_LIST.name],
        parts[schema.ERRORS.name],
        parts[schema.SUPERVISOR.name],
        parts[schema.CLIENTS.name],
        parts[schema.PENALTIES.name],  # its computed columns
        table_part(path, schema.DUE_LIST.name),
        table_part(path, schema.ERRORS.name),
        table_part(path, schema.SUPERVISOR.name),
        "xl/styles.xml",
    }
    changed = {name for name in a if a[name] != b[name]}
    assert changed <= allowed, sorted(changed - allowed)
    assert parts[schema.DUE_LIST.name] in changed and parts[schema.CLIENTS.name] in changed


def test_styles_only_gain_quote_prefix_twins(written: tuple[Path, bytes, RecomputeResult]) -> None:
    path, before, _ = written
    old = path.with_name("before-styles.xlsx")
    old.write_bytes(before)
    a = etree.fromstring(members(old)["xl/styles.xml"])
    b = etree.fromstring(members(path)["xl/styles.xml"])
    xa, xb = a.find("m:cellXfs", M), b.find("m:cellXfs", M)
    assert [etree.tostring(x) for x in xa] == [etree.tostring(x) for x in xb[: len(xa)]]
    assert all(x.get("quotePrefix") == "1" for x in xb[len(xa) :])
    assert xb.get("count") == str(len(xb))
    for tag in ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "dxfs"):
        ea, eb = a.find(f"m:{tag}", M), b.find(f"m:{tag}", M)
        assert (ea is None) == (eb is None), tag
        if ea is not None:
            assert etree.tostring(ea) == etree.tostring(eb), tag


# ---------------------------------------------------------------- (f) idempotent


def test_recompute_twice_changes_nothing(
    written: tuple[Path, bytes, RecomputeResult], tmp_path: Path
) -> None:
    source, _, first = written
    path = tmp_path / "caseload.xlsx"
    shutil.copy2(source, path)
    once = members(path)
    second = recompute(path, AS_OF)
    twice = members(path)
    assert second.due_list_rows == first.due_list_rows
    assert [n for n in once if once[n] != twice[n]] == []


# ---------------------------------------------------------------- (g) Excel-only parts

X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"

DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
CUSTOM_XML = DECL + (
    b'<p:properties xmlns:p="http://schemas.microsoft.com/office/2006/metadata/properties">'
    b"<documentManagement><Owner>Work Services</Owner></documentManagement></p:properties>"
)
CUSTOM_PROPS = DECL + (
    b'<ds:datastoreItem ds:itemID="{6A2E0B2C-3C1F-4C53-9B2B-1D5D1F0E2A11}" '
    b'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml">'
    b"<ds:schemaRefs/></ds:datastoreItem>"
)
CUSTOM_RELS = DECL + (
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/customXmlProps" Target="itemProps1.xml"/></Relationships>'
)
LABEL_INFO = DECL + (
    b'<clbl:labelList xmlns:clbl="http://schemas.microsoft.com/office/2020/mipLabelMetadata">'
    b'<clbl:label id="{f42aa342-8706-4288-bd11-ebb85995028c}" enabled="1" method="Privileged" '
    b'siteId="{00000000-1111-2222-3333-444444444444}" removed="0"/></clbl:labelList>'
)
CLIENTS_EXT = (
    f'<extLst><ext uri="{{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}}" xmlns:x14="{X14}">'
    f'<x14:dataValidations count="1" xmlns:xm="{XM}"><x14:dataValidation type="list" '
    'allowBlank="1" showErrorMessage="1"><x14:formula1><xm:f>Lists!$A$4:$A$9</xm:f>'
    "</x14:formula1><xm:sqref>D4:D100000</xm:sqref></x14:dataValidation>"
    "</x14:dataValidations></ext></extLst>"
)
DUE_EXT = (
    f'<extLst><ext uri="{{78C0D931-6437-407d-A8EE-F0AAD7539E65}}" xmlns:x14="{X14}">'
    f'<x14:conditionalFormattings><x14:conditionalFormatting xmlns:xm="{XM}">'
    '<x14:cfRule type="dataBar" id="{7A1D1A52-0000-4000-8000-000000000001}">'
    '<x14:dataBar minLength="0" maxLength="100" gradient="0"><x14:cfvo type="autoMin"/>'
    '<x14:cfvo type="autoMax"/><x14:negativeFillColor rgb="FFFF0000"/></x14:dataBar>'
    "</x14:cfRule><xm:sqref>K4:K1000</xm:sqref></x14:conditionalFormatting>"
    "</x14:conditionalFormattings></ext></extLst>"
)


def excelify(source: Path, target: Path) -> None:
    """Add what Excel writes and openpyxl drops: customXml parts, a sensitivity label
    (docMetadata/LabelInfo.xml), x14 extensions in the Clients and Due List sheets, and
    the x14ac:dyDescent row attribute Excel puts on every row."""
    parts = parts_of(source)
    extensions = {parts[schema.CLIENTS.name]: CLIENTS_EXT, parts[schema.DUE_LIST.name]: DUE_EXT}
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in extensions:
                text = data.decode()
                text = text.replace(
                    "<worksheet ",
                    f'<worksheet xmlns:mc="{MC}" xmlns:x14ac="{X14AC}" mc:Ignorable="x14ac" ',
                    1,
                )
                text = re.sub(r'(<row r="\d+")', r'\1 x14ac:dyDescent="0.25"', text)
                text = text.replace("</worksheet>", extensions[info.filename] + "</worksheet>")
                data = text.encode()
            elif info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/customXml/itemProps1.xml" ContentType='
                    b'"application/vnd.openxmlformats-officedocument.customXmlProperties+xml"/>'
                    b'<Override PartName="/docMetadata/LabelInfo.xml" ContentType='
                    b'"application/vnd.ms-office.classificationlabels+xml"/></Types>',
                )
            elif info.filename == "_rels/.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdLabel" Type="http://schemas.microsoft.com/office/'
                    b'2020/02/relationships/classificationlabels" '
                    b'Target="docMetadata/LabelInfo.xml"/></Relationships>',
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdCustom1" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/customXml" '
                    b'Target="../customXml/item1.xml"/></Relationships>',
                )
            z.writestr(info, data)
        z.writestr("customXml/item1.xml", CUSTOM_XML)
        z.writestr("customXml/itemProps1.xml", CUSTOM_PROPS)
        z.writestr("customXml/_rels/item1.xml.rels", CUSTOM_RELS)
        z.writestr("docMetadata/LabelInfo.xml", LABEL_INFO)


def _ext(xml: bytes) -> bytes:
    ext = etree.fromstring(xml).find("m:extLst", M)
    assert ext is not None, "the extLst is gone"
    return etree.tostring(ext, method="c14n")


def test_excel_only_parts_survive_recompute(tmp_path: Path) -> None:
    plain = build(tmp_path / "plain.xlsx", n_clients=12)
    path = tmp_path / "caseload.xlsx"
    excelify(plain, path)
    before = members(path)
    parts = parts_of(path)
    result = recompute(path, AS_OF)
    assert result.due_list_rows > 0
    after = members(path)

    assert list(after) == list(before)
    for name in (
        "customXml/item1.xml",
        "customXml/itemProps1.xml",
        "customXml/_rels/item1.xml.rels",
        "docMetadata/LabelInfo.xml",
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/_rels/workbook.xml.rels",
    ):
        assert after[name] == before[name], name
    for sheet in (schema.CLIENTS.name, schema.DUE_LIST.name):
        part = parts[sheet]
        assert _ext(after[part]) == _ext(before[part]), sheet
        root = etree.fromstring(after[part])
        assert root.get(f"{{{MC}}}Ignorable") == "x14ac", sheet
        assert root[-1].tag == f"{{{MAIN}}}extLst", f"{sheet}: extLst is no longer last"
    clients = etree.fromstring(after[parts[schema.CLIENTS.name]])
    rows = clients.find("m:sheetData", M)
    assert all(r.get(f"{{{X14AC}}}dyDescent") == "0.25" for r in rows)
    # openpyxl would drop both extensions on a save: the reason recompute patches instead.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wb = openpyxl.load_workbook(path)
    dropped = sorted(str(w.message) for w in caught)
    assert any("Conditional Formatting extension" in m for m in dropped), dropped
    assert any("Data Validation extension" in m for m in dropped), dropped
    # and the computed cells were still written
    assert wb["Due List"].max_row == schema.HEADER_ROW + result.due_list_rows
    written_rules = [
        wb["Clients"].cell(r, NEXT_RULE).value
        for r in result.evaluation.workbook.client_rows.values()
    ]
    assert any(written_rules)


# ---------------------------------------------------------------- cell order in rows


def _cell_order_problems(path: Path, sheet: str) -> list[str]:
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read(parts_of(path)[sheet]))
    bad = []
    for row in root.find("m:sheetData", M):
        cols = [re.match(r"[A-Z]+", c.get("r")).group(0) for c in row]
        index = [openpyxl.utils.column_index_from_string(c) for c in cols]
        if index != sorted(set(index)):
            bad.append(f"row {row.get('r')}: {' '.join(cols)}")
    return bad


def test_patched_rows_keep_their_cells_in_column_order(
    written: tuple[Path, bytes, RecomputeResult],
) -> None:
    path, _, _ = written
    for sheet in (schema.CLIENTS.name, schema.DUE_LIST.name, schema.ERRORS.name):
        assert _cell_order_problems(path, sheet) == [], sheet


def move_columns(source: Path, target: Path, a: int, b: int) -> None:
    """Swap two Clients columns (1-based) the way an Excel cut-and-insert moves them:
    header, column formatting (<col style>) and the table's column name."""
    sheet_part = parts_of(source)[schema.CLIENTS.name]
    table = table_part(source, schema.CLIENTS.name)
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == sheet_part:
                root = etree.fromstring(data)
                cols = {int(c.get("min")): c for c in root.find("m:cols", M)}
                style_a, style_b = cols[a].get("style"), cols[b].get("style")
                cols[a].set("style", style_b)
                cols[b].set("style", style_a)
                header = root.find(f"m:sheetData/m:row[@r='{schema.HEADER_ROW}']", M)
                cells = {c.get("r"): c for c in header}
                ca = cells[f"{column_letter(a - 1)}{schema.HEADER_ROW}"]
                cb = cells[f"{column_letter(b - 1)}{schema.HEADER_ROW}"]
                va, vb = ca.find("m:v", M), cb.find("m:v", M)
                va.text, vb.text = vb.text, va.text
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
            elif info.filename == table:
                root = etree.fromstring(data)
                columns = root.find("m:tableColumns", M)
                na, nb = columns[a - 1].get("name"), columns[b - 1].get("name")
                columns[a - 1].set("name", nb)
                columns[b - 1].set("name", na)
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
            z.writestr(info, data)


def test_moved_summary_columns_are_written_in_column_order(tmp_path: Path) -> None:
    """Staff moved Overdue Count in front of Next Due Date (cut and insert in Excel).

    pyxl finds columns by header, so the values must land under the right headers, and
    the cells of each row must stay in column order: OOXML requires it, and Excel
    offers to "repair" a workbook whose row has cells out of order. Today the patch
    appends the computed cells in header order (X, W, V).
    """
    data = demo_data.generate(12, as_of=AS_OF)
    plain = create_workbook(tmp_path / "plain.xlsx", as_of=AS_OF, rows=data)
    path = tmp_path / "moved.xlsx"
    move_columns(plain, path, NEXT_DUE, OVERDUE)
    result = recompute(path, AS_OF)
    assert result.evaluation.problems == []  # the moved columns were found by header

    assert _cell_order_problems(path, schema.CLIENTS.name) == []
    ws = openpyxl.load_workbook(path)["Clients"]
    assert ws.cell(3, NEXT_DUE).value == "Overdue Count"
    assert ws.cell(3, OVERDUE).value == "Next Due Date"
    dates = 0
    for case_id, r in result.evaluation.workbook.client_rows.items():
        count = ws.cell(r, NEXT_DUE).value  # now the Overdue Count column
        due = ws.cell(r, OVERDUE)  # now the Next Due Date column
        assert isinstance(count, int), (case_id, count)
        if due.value is not None:
            assert due.is_date, (case_id, due.value, due.number_format)
            dates += 1
    assert dates > 0


def test_due_list_rows_are_tall_enough_for_their_wrapped_explanations(
    written: tuple[Path, bytes, RecomputeResult],
) -> None:
    # Neither Excel nor LibreOffice autofits row heights on open, so pyxl sets them.
    path, _, _ = written
    due = openpyxl.load_workbook(path)["Due List"]
    explanation = schema.DUE_LIST.headers.index("Explanation") + 1
    checked = 0
    for r in range(FIRST, due.max_row + 1):
        text = due.cell(r, explanation).value or ""
        height = due.row_dimensions[r].height
        needed = schema.text_height(text, schema.DUE_LIST.column("Explanation").width)
        if needed >= 3 * schema.LINE_HEIGHT:
            assert height and height >= needed, (r, height, text)
            checked += 1
    assert checked > 0


def due_list_counts(path: Path, rows: int) -> tuple[tuple[object, ...], tuple[int, ...]]:
    """The Due List's counts as a reader that does not recalculate sees them (the formulas'
    saved results), and the counts of its `rows` rows."""
    from pyxl.adapters.workbook_builder import due_list_count_cells

    ws = openpyxl.load_workbook(path, data_only=True)["Due List"]
    statuses = [
        ws.cell(r, schema.DUE_LIST.headers.index("Status") + 1).value
        for r in range(FIRST, FIRST + rows)
    ]
    shown = tuple(ws[cell].value for cell in due_list_count_cells())
    return shown, (len(statuses), statuses.count("OVERDUE"), statuses.count("DUE SOON"))


def test_the_due_list_counts_carry_their_results_for_readers_that_do_not_recalculate(
    written: tuple[Path, bytes, RecomputeResult],
) -> None:
    path, _, result = written
    shown, counted = due_list_counts(path, result.due_list_rows)
    assert shown == counted


def test_the_counts_carry_their_results_in_a_workbook_libreoffice_saved(
    soffice: str, tmp_path: Path
) -> None:
    """LibreOffice saves a formula as `<f aca="false">`, and on opening a file it saved does
    not recalculate SUBTOTAL: the counts' results are written all the same (before: the
    Due List showed last week's "Shown" beside this week's rows, in LibreOffice too)."""
    saved = libreoffice.convert(build(tmp_path / "book.xlsx"), "xlsx", tmp_path / "saved")[0]
    assert b'<f aca="false">' in members(saved)[parts_of(saved)["Due List"]]
    before = due_list_counts(saved, 0)[0]
    result = recompute(saved, AS_OF + dt.timedelta(days=7))
    shown, counted = due_list_counts(saved, result.due_list_rows)
    assert shown == counted != before
    reopened = libreoffice.convert(saved, "xlsx", tmp_path / "reopened")[0]
    assert due_list_counts(reopened, result.due_list_rows) == (shown, counted)


def test_what_is_typed_outside_a_filled_table_is_named_when_a_refresh_removes_it(
    written: tuple[Path, bytes, RecomputeResult], tmp_path: Path
) -> None:
    """A note typed beside the Due List's rows or below them, and one beside the Supervisor
    table: Refresh rebuilds those sheets (their rows in a new order), so the notes go; the
    result names each cell, the backup keeps them. The titles above the tables and cells
    with a format but no value are not notes; a refresh of pyxl's own sheets names none."""
    path, _, result = written
    assert result.removed == {}
    called_back = f'<c r="N{FIRST + 1}" s="0" t="inlineStr"><is><t>called back</t></is></c>'
    formatted = f'<c r="O{FIRST + 1}" s="0"/>'
    notes = {  # sheet -> (cells beside a row, rows below the table)
        "Due List": (called_back + formatted, '<row r="3000"><c r="B3000"><v>7</v></c></row>'),
        "Supervisor": (f'<c r="M{FIRST}" t="inlineStr"><is><t>ask Lisa</t></is></c>', ""),
    }
    typed = tmp_path / "typed.xlsx"
    parts = parts_of(path)
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(typed, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            for sheet, (beside, below) in notes.items():
                if info.filename == parts[sheet]:
                    row = FIRST + 1 if sheet == "Due List" else FIRST
                    data = re.sub(rb'(<row r="%d"[^>]*>.*?)</row>' % row,
                                  lambda m, b=beside: m[1] + b.encode() + b"</row>", data,
                                  count=1, flags=re.S)  # fmt: skip
                    data = data.replace(b"</sheetData>", below.encode() + b"</sheetData>")
            zout.writestr(info, data)
    again = recompute(typed, AS_OF)
    assert again.removed == {"Due List": [f"N{FIRST + 1}", "B3000"], "Supervisor": [f"M{FIRST}"]}
    assert again.backup is not None
    kept = openpyxl.load_workbook(again.backup)
    assert kept["Due List"][f"N{FIRST + 1}"].value == "called back"
    assert kept["Supervisor"][f"M{FIRST}"].value == "ask Lisa"
    now = openpyxl.load_workbook(typed)
    assert now["Due List"][f"N{FIRST + 1}"].value is None and now["Due List"]["B3000"].value is None
