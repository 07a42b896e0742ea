"""The two speed paths (pyxl/adapters/speed.py) write the same workbooks: the fast one
(fastexcel, ISA-L, raw zip copies) where its parts are available, the plain one (python-calamine
and the standard library) everywhere else, chosen automatically and named by `pyxl --version`."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pyxl.adapters import speed
from pyxl.services import demo_data
from pyxl.services.history import import_history
from pyxl.services.new_workbook import create_workbook
from pyxl.services.recompute import check, recompute

AS_OF = demo_data.AS_OF


def members(path: Path) -> dict[str, bytes]:
    """Every part of the package, inflated: what Excel reads (the compressed bytes differ)."""
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as package:
        return {name: package.read(name) for name in package.namelist()}


def assert_same_workbook(fast: Path, plain: Path) -> None:
    mine, theirs = members(fast), members(plain)
    assert list(mine) == list(theirs)
    different = [name for name in mine if mine[name] != theirs[name]]
    assert different == []


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A caseload with the demo's typing mistakes: both paths must report them alike."""
    path = tmp_path_factory.mktemp("speed") / "caseload.xlsx"
    return create_workbook(path, as_of=AS_OF, rows=demo_data.generate(300, messy=True))


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1796112000")  # the "Computed as of" stamps agree


def test_recompute_writes_the_same_workbook_on_both_paths(source: Path, tmp_path: Path) -> None:
    fast = Path(shutil.copy(source, tmp_path / "fast.xlsx"))
    plain = Path(shutil.copy(source, tmp_path / "plain.xlsx"))
    assert speed.fast()  # this machine has the fast parts: the comparison means something
    by_fast = recompute(fast, AS_OF)
    with speed.plain():
        by_plain = recompute(plain, AS_OF)
    assert by_fast.due_list_rows == by_plain.due_list_rows > 0
    assert by_fast.evaluation.problems == by_plain.evaluation.problems != []
    assert_same_workbook(fast, plain)
    # ... and each path reads what the other wrote as it reads its own.
    with speed.plain():
        assert check(fast, AS_OF).status_counts() == by_fast.evaluation.status_counts()
    assert check(plain, AS_OF).status_counts() == by_plain.evaluation.status_counts()


def test_rows_appended_are_the_same_on_both_paths(source: Path, tmp_path: Path) -> None:
    history = create_workbook(
        tmp_path / "other-branch.xlsx", as_of=AS_OF, rows=demo_data.generate(300, seed=7)
    )
    fast = Path(shutil.copy(source, tmp_path / "fast.xlsx"))
    plain = Path(shutil.copy(source, tmp_path / "plain.xlsx"))
    added = import_history(history, fast, AS_OF).added
    with speed.plain():
        assert import_history(history, plain, AS_OF).added == added
    assert_same_workbook(fast, plain)


def test_the_plain_path_is_chosen_where_a_fast_part_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(speed, "fastexcel", None)
    chosen = speed._choose()
    assert not chosen.fast
    assert str(chosen) == "plain path (fastexcel unavailable)"


def test_pyxl_version_names_the_path(tmp_path: Path) -> None:
    def version(**env: str) -> str:
        run = subprocess.run(
            [sys.executable, "-m", "pyxl.cli", "--version"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        return run.stdout.strip()

    assert "fast path (fastexcel " in version()
    assert version(PYXL_SPEED="plain").endswith("plain path (PYXL_SPEED=plain)")
