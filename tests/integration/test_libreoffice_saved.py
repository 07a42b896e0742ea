"""A caseload an office keeps in LibreOffice Calc. LibreOffice saves the workbook in its own
way (`t="n"` on numbers, formulas as `<f aca="false">`, its own styles and shared strings,
no request to recalculate on opening): `recompute`, `letters` and `report` give the same
results on it as on the workbook as pyxl (and Excel) write it."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import pytest
import python_calamine

from pyxl.adapters import libreoffice
from pyxl.adapters.workbook_reader import sheet_parts
from pyxl.services import demo_data
from pyxl.services.demo import run_demo
from pyxl.services.letters import run_letters
from pyxl.services.recompute import recompute
from pyxl.services.report import run_report

AS_OF = demo_data.AS_OF
A_WEEK_LATER = AS_OF + dt.timedelta(days=7)
# What a refresh writes; the second row of the first three says when ("Computed as of ...
# refreshed <time>"), so it is not compared.
WRITTEN = ("Due List", "Supervisor", "Errors", "Clients", "Penalties")
STAMPED = {"Due List", "Supervisor", "Errors"}


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory, soffice: str) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("saved")
    excel = run_demo(folder / "excel", as_of=AS_OF, n_clients=120).path
    saved = libreoffice.convert(excel, "xlsx", folder / "libreoffice")[0]
    return {"excel": excel, "libreoffice": saved}


def copies(books: dict[str, Path], folder: Path) -> dict[str, Path]:
    out = {}
    for label, path in books.items():
        out[label] = folder / label / "caseload.xlsx"
        out[label].parent.mkdir()
        shutil.copy(path, out[label])
    return out


def sheets(path: Path, names: tuple[str, ...]) -> dict[str, list[list[object]]]:
    """The sheets' values as saved (as readers that do not recalculate see them)."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return {
        name: [
            row
            for k, row in enumerate(book.get_sheet_by_name(name).to_python())
            if not (k == 1 and name in STAMPED)
        ]
        for name in names
    }


def test_libreoffice_writes_its_own_way(books: dict[str, Path]) -> None:
    """What makes the comparisons below worth making (if LibreOffice changes, say so)."""
    with zipfile.ZipFile(books["libreoffice"]) as z:
        due_list = z.read(sheet_parts(z)[0]["Due List"])
        assert b'<f aca="false">' in due_list and b't="n"' in due_list
        assert b"fullCalcOnLoad" not in z.read("xl/workbook.xml")


def test_a_refresh_writes_the_same_sheets(books: dict[str, Path], tmp_path: Path) -> None:
    """The Due List with its counts, the Supervisor sheet, the Errors, the Clients summary and
    the Penalties' computed column, as readers that do not recalculate see them."""
    found = {}
    for label, path in copies(books, tmp_path).items():
        recompute(path, A_WEEK_LATER)
        found[label] = sheets(path, WRITTEN)
    before = sheets(books["excel"], WRITTEN)
    for name in WRITTEN:
        assert found["libreoffice"][name] == found["excel"][name], name
    assert found["excel"]["Due List"] != before["Due List"]


def test_letters_are_made_and_logged_alike(books: dict[str, Path], tmp_path: Path) -> None:
    made, logged = {}, {}
    for label, path in copies(books, tmp_path).items():
        result = run_letters(path, A_WEEK_LATER, out_dir=tmp_path / f"letters-{label}")
        made[label] = sorted((m.case_id, m.code) for m in result.made)
        logged[label] = sheets(path, ("Contacts", "Letters"))
    assert made["libreoffice"] == made["excel"] and made["excel"]
    assert logged["libreoffice"] == logged["excel"]


def test_the_report_counts_alike(books: dict[str, Path], tmp_path: Path) -> None:
    snapshots = {
        label: run_report([path], A_WEEK_LATER, tmp_path / f"{label}.xlsx").report.snapshot
        for label, path in copies(books, tmp_path).items()
    }
    assert snapshots["libreoffice"] == snapshots["excel"]
