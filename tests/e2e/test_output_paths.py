"""`--out` never replaces a file pyxl did not write for the same purpose (another branch's
caseload workbook, anything else) unless `--force`, which keeps a copy; messages name the
file and no raw OS error reaches the user."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pyxl.adapters.outputs import what_it_is
from pyxl.services import demo

AS_OF = "2026-11-23"


def pyxl(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pyxl.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def refused(done: subprocess.CompletedProcess, path: Path) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = [line for line in done.stderr.splitlines() if not line.startswith("...")]
    assert len(lines) == 1 and lines[0].startswith("pyxl: "), done.stderr
    assert str(path) in lines[0]
    assert "Errno" not in lines[0] and "Traceback" not in done.stderr
    return lines[0]


@pytest.fixture(scope="module")
def branches(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two branches' caseload workbooks."""
    ours = demo.run_demo(tmp_path_factory.mktemp("ours"), n_clients=20).path
    other = demo.run_demo(tmp_path_factory.mktemp("other"), n_clients=20).path
    return ours, other


def test_a_report_over_another_branchs_workbook_is_refused(
    branches: tuple[Path, Path],
) -> None:
    ours, other = branches
    before = other.read_bytes()
    line = refused(pyxl("report", ours, "--as-of", AS_OF, "--out", other), other)
    assert "caseload workbook" in line and "--force" in line
    assert other.read_bytes() == before


def test_a_report_over_a_file_pyxl_did_not_write_is_refused(
    branches: tuple[Path, Path], tmp_path: Path
) -> None:
    ours, _ = branches
    stranger = tmp_path / "budget.xlsx"
    stranger.write_bytes(b"not pyxl's")
    refused(pyxl("report", ours, "--as-of", AS_OF, "--out", stranger), stranger)
    assert stranger.read_bytes() == b"not pyxl's"


def test_force_replaces_it_and_keeps_a_copy(branches: tuple[Path, Path], tmp_path: Path) -> None:
    ours, _ = branches
    target = tmp_path / "budget.xlsx"
    target.write_bytes(b"not pyxl's")
    done = pyxl("report", ours, "--as-of", AS_OF, "--out", target, "--force")
    assert done.returncode == 0, done.stderr
    copies = list((tmp_path / ".pyxl-backups").iterdir())
    assert [c.read_bytes() for c in copies] == [b"not pyxl's"]
    assert str(copies[0]) in done.stdout
    assert what_it_is(target) == "report"


def test_a_report_replaces_the_report_it_wrote_before(
    branches: tuple[Path, Path], tmp_path: Path
) -> None:
    ours, _ = branches
    out = tmp_path / "report.xlsx"
    for _ in range(2):
        done = pyxl("report", ours, "--as-of", AS_OF, "--out", out)
        assert done.returncode == 0, done.stderr
    assert not (tmp_path / ".pyxl-backups").exists()


@pytest.mark.parametrize("preview", [False, True])
def test_letters_out_naming_a_file_is_a_message(
    branches: tuple[Path, Path], tmp_path: Path, preview: bool
) -> None:
    ours, other = branches
    before = other.read_bytes()
    args = ("letters", ours, "--as-of", AS_OF, "--out", other)
    refused(pyxl(*args, *(["--preview"] if preview else [])), other)
    assert other.read_bytes() == before


def test_an_export_over_parquet_files_pyxl_did_not_write_is_refused(
    branches: tuple[Path, Path], tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ours, _ = branches
    folder = tmp_path / "warehouse"
    folder.mkdir()
    theirs = folder / "obligations.parquet"  # the state's own table, by the same name
    pq.write_table(pa.table({"x": [1, 2]}), theirs)
    (folder / "notes.txt").write_text("other files in the folder are left alone")
    before = theirs.read_bytes()
    line = refused(pyxl("export", ours, "--as-of", AS_OF, "--out", folder), folder)
    assert "obligations.parquet" in line and "--force" in line
    assert theirs.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", "obligations.parquet"]

    done = pyxl("export", ours, "--as-of", AS_OF, "--out", folder, "--force")
    assert done.returncode == 0, done.stderr
    (copy,) = (folder / ".pyxl-backups").iterdir()
    assert copy.read_bytes() == before and str(copy) in done.stdout
    assert what_it_is(theirs) == "export"
    assert pq.read_schema(theirs).metadata[b"pyxl:export"] == b"export:obligations"


def test_an_export_replaces_the_files_it_wrote_before(
    branches: tuple[Path, Path], tmp_path: Path
) -> None:
    ours, _ = branches
    folder = tmp_path / "export"
    for _ in range(2):
        done = pyxl("export", ours, "--as-of", AS_OF, "--out", folder)
        assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == [
        "due_list.parquet", "flow_states.parquet", "obligations.parquet", "penalties.parquet"
    ]  # fmt: skip


def test_export_out_naming_a_file_is_a_message(branches: tuple[Path, Path]) -> None:
    ours, other = branches
    before = other.read_bytes()
    for force in ([], ["--force"]):
        line = refused(pyxl("export", ours, "--as-of", AS_OF, "--out", other, *force), other)
        assert "not a folder" in line
    assert other.read_bytes() == before
