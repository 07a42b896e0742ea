"""The demo's supervisor report as it prints: page one answers who is behind, on what,
since when; every sheet landscape and one page wide with its headers repeated; rows tall
enough for their wrapped text; charts that label every category; a file that validates."""

from __future__ import annotations

import math
import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from ooxml import problems

from pyxl.adapters import libreoffice
from pyxl.adapters.report_workbook import HEADER_ROW
from pyxl.services import demo_data
from pyxl.services.demo import run_demo
from pyxl.services.report import ReportResult, run_report

C_NS = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart"}


@pytest.fixture(scope="module")
def caseload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("print")
    return run_demo(folder / "demo", as_of=demo_data.AS_OF, n_clients=300).path


@pytest.fixture(scope="module")
def demo(caseload: Path) -> ReportResult:
    return run_report([caseload], demo_data.AS_OF, caseload.with_name("report.xlsx"), pdf=True)


def page_text(pdf: Path, page: int) -> str:
    args = ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def test_the_report_validates_against_the_office_open_xml_schemas(demo: ReportResult) -> None:
    assert problems(demo.path) == []


def test_page_one_shows_who_is_behind_on_what_since_when(soffice: str, demo) -> None:
    assert demo.pdf is not None
    first = page_text(demo.pdf, 1)
    behind = demo.report.beside["Overview"]
    assert "Who is behind" in first
    assert "Participation rates against their targets" in first
    for branch, manager, overdue, days, rule, case_id, *_ in behind.rows:
        line = next((ln for ln in first.splitlines() if f"{branch}" in ln and manager in ln), None)
        assert line is not None, (branch, manager)
        if overdue:  # the count, how old the oldest is, and which obligation of which case
            assert re.search(rf"\b{overdue}\s+{days}\s+{re.escape(rule)}\s+{case_id}\b", line)


def test_every_sheet_prints_landscape_one_page_wide_with_its_headers_repeated(demo) -> None:
    book = openpyxl.load_workbook(demo.path)
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        # fitToWidth left out means 1 (the schema default)
        assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0), ws.title
        assert ws.print_title_rows == f"${HEADER_ROW + 1}:${HEADER_ROW + 1}", ws.title


def short_rows(path: Path, sheets: list[str] | None = None) -> tuple[list[tuple], int]:
    """Cells whose wrapped text needs more lines than their row is tall, measured generously
    (1.3 characters per width unit, more than Calibri prose needs); and how many were seen."""
    book = openpyxl.load_workbook(path)
    checked, short = 0, []
    for ws in book.worksheets if sheets is None else [book[s] for s in sheets]:
        widths = {k: d.width for k, d in ws.column_dimensions.items() if d.width}
        for row in ws.iter_rows(min_row=HEADER_ROW + 2):
            height = ws.row_dimensions[row[0].row].height or 15
            for cell in row:
                if not (cell.alignment.wrap_text and isinstance(cell.value, str)):
                    continue
                width = widths.get(cell.column_letter, 8.43)
                lines = sum(math.ceil(len(p) / (width * 1.3)) or 1 for p in cell.value.split("\n"))
                if height < lines * 15 - 1:
                    short.append((ws.title, cell.coordinate, height, cell.value))
                checked += 1
    return short, checked


def test_report_rows_are_tall_enough_for_their_wrapped_text(demo) -> None:
    short, checked = short_rows(demo.path)
    assert short == [] and checked > 50


def test_the_caseload_workbooks_computed_wrapped_text_fits_its_rows(caseload: Path) -> None:
    """The Due List, the Clients' next action and the Penalties' expected step, as recompute
    wrote them: no text runs over the next row when printed."""
    short, checked = short_rows(caseload, ["Due List", "Clients", "Penalties"])
    assert short == [] and checked > 50


def test_headers_and_total_labels_fit_their_columns(demo) -> None:
    book = openpyxl.load_workbook(demo.path)
    for ws in book.worksheets:
        for cell in ws[HEADER_ROW + 1]:
            if isinstance(cell.value, str):
                width = ws.column_dimensions[cell.column_letter].width
                assert max(len(w) for w in cell.value.split()) <= width, (ws.title, cell.value)
        for row in ws.iter_rows(min_col=1, max_col=1):
            if row[0].value == "Total (shown rows)":
                assert ws.column_dimensions["A"].width >= len("Total (shown rows)"), ws.title


def test_charts_label_every_category_and_draw_the_participation_targets(demo) -> None:
    with zipfile.ZipFile(demo.path) as z:
        charts = [etree.fromstring(z.read(n)) for n in z.namelist() if n.startswith("xl/charts/")]
    assert len(charts) == len(demo.report.charts)
    for chart in charts:
        assert not [d for d in chart.iterfind(".//c:dLbls", C_NS) if len(d) == 0]  # no empty
        axis = chart.find(".//c:catAx", C_NS)
        assert axis.find("c:tickLblSkip", C_NS).get("val") == "1"
    participation = next(
        c for c in charts if "Participation" in "".join(c.find(".//c:title", C_NS).itertext())
    )
    targets = participation.findall(".//c:lineChart/c:ser/c:tx//c:f", C_NS)
    assert [t.text for t in targets] == ["Participation!$E$3", "Participation!$I$3"]


def test_percentages_print_as_percentages(demo) -> None:
    book = openpyxl.load_workbook(demo.path)
    for name in ("Participation", "Participation by Office", "Compliance by CM"):
        ws = book[name]
        headers = [c.value for c in ws[HEADER_ROW + 1]]
        for at, header in enumerate(headers):
            if header and ("Rate" in header or "%" in header or "Target" in header):
                cell = ws.cell(HEADER_ROW + 2, at + 1)
                if isinstance(cell.value, float):
                    assert cell.number_format.endswith("%"), (name, header)


def test_the_pdf_has_a_page_or_a_few_per_sheet(soffice: str, demo, tmp_path: Path) -> None:
    assert demo.pdf is not None
    info = subprocess.run(["pdfinfo", str(demo.pdf)], check=True, capture_output=True, text=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
    sheets = len(demo.report.tables)
    assert sheets <= pages <= 3 * sheets + len(demo.report.charts)
    png = libreoffice.pdf_to_png(demo.pdf, tmp_path, dpi=40, first=1, last=1)[0]
    assert png.stat().st_size > 5_000
