"""Every file pyxl writes opens in Excel and Word without a repair prompt: each validates
against the ISO/IEC 29500 transitional schemas and passes openxml-audit (see tests/ooxml.py).

Workbooks: a new one (empty and with data), the recomputed demo, one whose client text is
hostile (formulas, `_xHHHH_` look-alikes, control characters), the demo after `pyxl letters`
logged its letters, the supervisor report with its charts, and a workbook after
`pyxl import-history`. (The letters themselves are checked in test_letters_validate.py.)
"""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from datetime import date
from pathlib import Path

import ooxml
import pytest
from test_import_history import AS_OF as HISTORY_AS_OF
from test_import_history import SALEM_EVENTS, SALEM_PENALTIES, client, workbook

from pyxl.adapters import schema
from pyxl.services import demo_data
from pyxl.services.demo import run_demo
from pyxl.services.history import import_history
from pyxl.services.letters import run_letters
from pyxl.services.new_workbook import create_workbook
from pyxl.services.recompute import recompute
from pyxl.services.report import run_report

AS_OF = dt.date(2026, 11, 23)
HOSTILE_NAMES = (
    "Ana _x0041_ Ruiz",
    "_x0000_x0000_",
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "bell\x07 tab\t cr\r lf\n",
    "👩🏽‍💼 ß 中文 \ufffe",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("demo"), as_of=AS_OF, n_clients=120).path


def test_a_new_caseload_workbook_validates(tmp_path: Path) -> None:
    path = tmp_path / "caseload.xlsx"
    create_workbook(path, as_of=date(2026, 11, 23))
    assert ooxml.problems(path) == []


def test_a_new_workbook_with_data_validates(tmp_path: Path) -> None:
    path = tmp_path / "caseload.xlsx"
    create_workbook(path, as_of=AS_OF, rows=demo_data.generate(40, as_of=AS_OF, messy=True))
    assert ooxml.problems(path) == []


def test_the_recomputed_demo_validates(demo: Path) -> None:
    assert ooxml.problems(demo) == []


def test_a_recomputed_workbook_with_hostile_client_text_validates(tmp_path: Path) -> None:
    rows = []
    for k, name in enumerate(HOSTILE_NAMES):
        values = {
            "Case ID": f"H{k}",
            "Client Name": name,
            "Program": "Texas Choices",
            "Branch": "Houston",
            "Case Manager": name,
            "Referral Date": AS_OF - dt.timedelta(days=40),
            "Address": name,
        }
        rows.append([values.get(h) for h in schema.CLIENTS.headers])
    path = create_workbook(tmp_path / "hostile.xlsx", as_of=AS_OF, rows={"Clients": rows})
    recompute(path, AS_OF)
    assert ooxml.problems(path) == []


def test_the_workbook_after_letters_are_logged_validates(demo: Path, tmp_path: Path) -> None:
    path = Path(shutil.copy(demo, tmp_path / "caseload.xlsx"))
    result = run_letters(path, AS_OF, out_dir=tmp_path / "letters")
    assert result.logged  # letters were logged: the Letters and Contacts tables grew
    assert ooxml.problems(path) == []


def test_the_workbook_after_import_history_validates(tmp_path: Path) -> None:
    salem = workbook(
        tmp_path / "salem.xlsx",
        "Salem",
        "Rosa Ortiz",
        [client("S-1", "P-1", "Salem", "Rosa Ortiz"), client("S-3", None, "Salem", "Rosa Ortiz")],
        SALEM_EVENTS[:2],
        SALEM_PENALTIES,
    )
    portland = workbook(
        tmp_path / "portland.xlsx",
        "Portland",
        "Ben Cole",
        [client("OR-1", "P-1", "Portland", "Ben Cole")],
    )
    result = import_history(salem, portland, HISTORY_AS_OF)
    assert result.events and result.penalties
    assert ooxml.problems(portland) == []


@pytest.fixture(scope="module")
def report(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.xlsx"
    run_report([demo], AS_OF, out)
    with zipfile.ZipFile(out) as package:
        assert any(n.startswith("xl/charts/chart") for n in package.namelist())
    return out


def test_the_supervisor_report_with_charts_validates(report: Path) -> None:
    assert ooxml.problems(report) == []


def test_the_validator_finds_a_part_out_of_schema_order(tmp_path: Path) -> None:
    """The check itself: a docx whose section properties are out of order is refused."""
    broken = tmp_path / "broken.docx"
    body = (
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p/><w:sectPr><w:cols/><w:pgSz/></w:sectPr></w:body></w:document>"
    )
    with zipfile.ZipFile(broken, "w") as package:
        package.writestr("word/document.xml", body)
    assert any("pgSz" in error for error in ooxml.schema_errors(broken))
