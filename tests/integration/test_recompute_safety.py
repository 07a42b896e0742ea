"""`pyxl recompute` on a shared workbook (reliability.md 1.3 and "Top risks" 2): killed
half-way it leaves the old version or the complete new one, never a broken file; a
second writer, an open Excel or LibreOffice, or a save by someone else in between make
it refuse with "Nothing was written" (said once) and exit code 2. All data is made up.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import io
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine

from pyxl import cli
from pyxl.adapters import caseload_file, safe_save, schema
from pyxl.adapters.safe_save import BACKUP_DIR_NAME, WorkbookChanged
from pyxl.services import demo_data
from pyxl.services import recompute as recompute_service
from pyxl.services.new_workbook import create_workbook
from pyxl.services.recompute import recompute

AS_OF = demo_data.AS_OF
AS_OF_ARG = AS_OF.isoformat()


def pyxl_command() -> list[str]:
    """The installed `pyxl` console script (it must exist: the project declares it)."""
    script = Path(sys.executable).with_name("pyxl")
    found = str(script) if script.exists() else shutil.which("pyxl")
    assert found, "the pyxl console script is not installed (pip install -e .)"
    return [found]


def run_pyxl(*args: object, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*pyxl_command(), *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def build(path: Path, n_clients: int) -> Path:
    return create_workbook(
        path, as_of=AS_OF, rows=demo_data.generate(n_clients, as_of=AS_OF, messy=True)
    )


def contents(data: bytes | Path) -> dict[str, bytes]:
    source = data if isinstance(data, Path) else io.BytesIO(data)
    with zipfile.ZipFile(source) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def assert_opens(path: Path) -> None:
    """openpyxl (read-only: a 3,000-client book loads lazily) and calamine both read it."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        assert schema.CLIENTS.name in wb.sheetnames
        header = next(wb[schema.CLIENTS.name].iter_rows(min_row=3, max_row=3, values_only=True))
        assert header[0] == "Case ID"
    finally:
        wb.close()
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_name(schema.DUE_LIST.name).to_python()
    assert rows[schema.HEADER_ROW - 1][0] == "Case ID"


def temp_files(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.*.tmp*"))


class Versions:
    """The old bytes of a workbook and the complete new version recompute makes of it."""

    def __init__(self, folder: Path, n_clients: int) -> None:
        self.source = build(folder / "source.xlsx", n_clients)
        self.old = self.source.read_bytes()
        done = folder / "done.xlsx"
        shutil.copy2(self.source, done)
        self.result = recompute(done, AS_OF)
        self.new = contents(done)

    def fresh_copy(self, folder: Path) -> Path:
        path = folder / "caseload.xlsx"
        path.write_bytes(self.old)
        return path

    def state(self, path: Path) -> str:
        """'old' or 'new'; fails for anything else."""
        data = path.read_bytes()
        if data == self.old:
            return "old"
        assert contents(data) == self.new, "the workbook is neither the old nor the new version"
        return "new"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Versions:
    return Versions(tmp_path_factory.mktemp("big"), 3000)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Versions:
    return Versions(tmp_path_factory.mktemp("small"), 60)


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


# ---------------------------------------------------------------- killed runs


def wait_for_file(folder: Path, pattern: str, proc: subprocess.Popen, timeout: float = 120) -> bool:
    """Poll `folder` for a file matching `pattern` while `proc` runs; False if it ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(folder.glob(pattern)):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.001)
    raise AssertionError(f"no {pattern} in {folder} after {timeout} s")


# What the running recompute leaves in its folder, step by step: its lock (reading and
# evaluating), the temp file of the new version (writing), the backup (about to replace).
SIGNS = {
    "lock": (".", ".~pyxl.lock.caseload.xlsx"),
    "temp": (".", ".caseload.xlsx.*.tmp.xlsx"),
    "backup": (BACKUP_DIR_NAME, "caseload.*.xlsx"),
}


@pytest.mark.parametrize(
    ("sign", "delay"),
    [
        ("lock", 0.5),
        ("temp", 0.0),
        ("temp", 0.03),
        ("temp", 0.1),
        ("backup", 0.0),
        ("backup", 0.3),
    ],
    ids=["evaluating", "temp+0", "temp+30ms", "temp+100ms", "backup+0", "backup+300ms"],
)
def test_killed_recompute_leaves_old_or_complete_new_version(
    big: Versions, tmp_path: Path, sign: str, delay: float
) -> None:
    """The real console script, SIGKILLed when its lock, its temp file or its backup
    appears (plus a delay). Whatever moment the kill hits, the workbook is byte for
    byte the old version or exactly the new one, and it opens."""
    path = big.fresh_copy(tmp_path)
    folder, pattern = SIGNS[sign]
    proc = subprocess.Popen(
        [*pyxl_command(), "recompute", str(path), "--as-of", AS_OF_ARG],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        (tmp_path / folder).mkdir(exist_ok=True)
        seen = wait_for_file(tmp_path / folder, pattern, proc)
        time.sleep(delay)
    finally:
        kill(proc)
    state = big.state(path)
    assert_opens(path)
    assert len(temp_files(path)) <= 1
    backups = list((tmp_path / BACKUP_DIR_NAME).glob("*"))
    assert len(backups) <= 1
    if state == "new":
        assert len(backups) == 1
    if not seen:  # the run finished before the sign was seen: then it is complete
        assert state == "new"


KILL_HELPER = r"""
import os, pathlib, sys, time
from pyxl import cli
from pyxl.adapters import safe_save

point, marker = sys.argv[1], pathlib.Path(sys.argv[2])

def pause():
    marker.touch()
    time.sleep(600)

if point == "temp-half-written":
    original_write = safe_save._write_new_file
    def half(path, data, mode=0o600):
        if ".tmp" in path.name:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            os.write(fd, bytes(data[: len(data) // 2]))
            os.fsync(fd)
            pause()
        return original_write(path, data, mode)
    safe_save._write_new_file = half
elif point == "verifying":
    original_check = safe_save._check_structure
    def check(tmp, target):
        original_check(tmp, target)
        pause()
    safe_save._check_structure = check
elif point == "backup-written":
    original_same = safe_save._check_still_same_file
    def same(*args):
        pause()
        return original_same(*args)
    safe_save._check_still_same_file = same
elif point in ("before-replace", "after-replace"):
    original_replace = safe_save._replace
    def replace(tmp, target):
        if point == "before-replace":
            pause()
        original_replace(tmp, target)
        pause()
    safe_save._replace = replace
sys.exit(cli.main(sys.argv[3:]))
"""


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ("temp-half-written", "old"),
        ("verifying", "old"),
        ("backup-written", "old"),
        ("before-replace", "old"),
        ("after-replace", "new"),
    ],
)
def test_kill_at_each_step_of_the_save(
    small: Versions, tmp_path: Path, point: str, expected: str
) -> None:
    path = small.fresh_copy(tmp_path)
    marker = tmp_path / "paused"
    command = ["recompute", str(path), "--as-of", AS_OF_ARG]
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_HELPER, point, str(marker), *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the helper never reached the kill point"
            time.sleep(0.01)
    finally:
        kill(proc)
    assert small.state(path) == expected
    assert_opens(path)
    assert len(temp_files(path)) <= 1
    # The killed run's lock (its process is gone) does not block the next run.
    lock = path.with_name(f".~pyxl.lock.{path.name}")
    assert lock.exists()
    again = run_pyxl("recompute", path, "--as-of", AS_OF_ARG)
    assert again.returncode == 0, again.stderr
    assert small.state(path) == "new"
    assert not lock.exists()


def test_recovery_after_a_killed_big_run(big: Versions, tmp_path: Path) -> None:
    path = big.fresh_copy(tmp_path)
    proc = subprocess.Popen(
        [*pyxl_command(), "recompute", str(path), "--as-of", AS_OF_ARG],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for_file(tmp_path, ".caseload.xlsx.*.tmp.xlsx", proc)
    finally:
        kill(proc)
    assert big.state(path) == "old"
    again = run_pyxl("recompute", path, "--as-of", AS_OF_ARG)
    assert again.returncode == 0, again.stderr
    assert big.state(path) == "new"
    assert f"Wrote {big.result.due_list_rows} Due List rows" in again.stdout


# ---------------------------------------------------------------- two writers

HOLD_HELPER = r"""
import pathlib, sys, time, datetime as dt
from pyxl.services.recompute import recompute

path, marker, go, as_of = sys.argv[1:5]
def progress(step):
    if step == "evaluating":
        pathlib.Path(marker).touch()
        while not pathlib.Path(go).exists():
            time.sleep(0.02)
recompute(pathlib.Path(path), dt.date.fromisoformat(as_of), progress)
"""


def test_a_second_recompute_is_refused_while_the_first_holds_the_lock(
    small: Versions, tmp_path: Path
) -> None:
    path = small.fresh_copy(tmp_path)
    marker, go = tmp_path / "holding", tmp_path / "go"
    first = subprocess.Popen(
        [sys.executable, "-c", HOLD_HELPER, str(path), str(marker), str(go), AS_OF_ARG],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert first.poll() is None, first.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline
            time.sleep(0.01)
        second = run_pyxl("recompute", path, "--as-of", AS_OF_ARG)
        assert second.returncode == 2, (second.stdout, second.stderr)
        message = second.stderr
        assert message.count("Nothing was written") == 1, message
        assert "another pyxl" in message
        assert f"process {first.pid}" in message
        assert getpass.getuser() in message
        assert "Traceback" not in message
        assert small.state(path) == "old"  # the second writer wrote nothing
        go.touch()
        assert first.wait(timeout=120) == 0, first.stderr.read().decode()  # type: ignore[union-attr]
    finally:
        kill(first)
    assert small.state(path) == "new"
    assert len(list((tmp_path / BACKUP_DIR_NAME).iterdir())) == 1  # one save, one backup


def _excel_owner_file(user: str) -> bytes:
    """Excel's ~$ owner file: length byte, name (cp1252) padded to 55 with spaces, then
    the UTF-16 length and name, padded to 165 bytes."""
    head = bytes([len(user)]) + user.encode("cp1252")
    head = head.ljust(55, b" ")
    wide = len(user).to_bytes(2, "little") + user.encode("utf-16-le")
    return (head + wide).ljust(165, b"\x00")


@pytest.mark.parametrize(
    ("lock_name", "content", "holder"),
    [
        ("~$caseload.xlsx", _excel_owner_file("Maria López"), "Excel (user: Maria López"),
        (
            ".~lock.caseload.xlsx#",
            b"Jane Doe,jdoe,ws12,23.11.2026 09:14,file:///home/jdoe/.config/libreoffice/4;",
            "LibreOffice (user: Jane Doe on host ws12 since 2026-11-23 09:14)",
        ),
    ],
    ids=["excel", "libreoffice"],
)
def test_open_in_excel_or_libreoffice_refuses_with_exit_2(
    small: Versions, tmp_path: Path, lock_name: str, content: bytes, holder: str
) -> None:
    path = small.fresh_copy(tmp_path)
    (tmp_path / lock_name).write_bytes(content)
    done = run_pyxl("recompute", path, "--as-of", AS_OF_ARG)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.count("Nothing was written") == 1, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert holder in done.stderr
    assert "Traceback" not in done.stderr
    assert small.state(path) == "old"
    assert temp_files(path) == []
    assert not list((tmp_path / BACKUP_DIR_NAME).glob("*"))
    assert not path.with_name(f".~pyxl.lock.{path.name}").exists()


# ---------------------------------------------------------------- changed in between


def _someone_saves(path: Path) -> bytes:
    """What Excel does when a colleague saves: a different, complete workbook."""
    wb = openpyxl.load_workbook(path)
    wb["Clients"]["C4"] = "Changed By A Colleague"
    wb.save(path)
    return path.read_bytes()


def _assert_refused(path: Path, theirs: bytes, folder: Path) -> None:
    assert path.read_bytes() == theirs  # their save is kept, not overwritten
    assert temp_files(path) == []
    assert not list((folder / BACKUP_DIR_NAME).glob("*"))
    assert not path.with_name(f".~pyxl.lock.{path.name}").exists()


def test_file_saved_by_someone_else_during_recompute_is_not_overwritten(
    small: Versions, tmp_path: Path
) -> None:
    path = small.fresh_copy(tmp_path)
    theirs: list[bytes] = []

    def progress(step: str) -> None:
        if step == "writing":
            theirs.append(_someone_saves(path))

    with pytest.raises(WorkbookChanged, match="Nothing was written"):
        recompute(path, AS_OF, progress)
    _assert_refused(path, theirs[0], tmp_path)


def test_same_size_same_mtime_change_is_still_caught(
    small: Versions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change that keeps size and modification time is caught by the SHA-256."""
    path = small.fresh_copy(tmp_path)
    original = safe_save.read_snapshot
    theirs: list[bytes] = []

    def read_then_change(p: Path) -> tuple[bytes, safe_save.Snapshot]:
        data, snapshot = original(p)
        st = os.stat(path)
        changed = bytearray(data)
        changed[-30] ^= 0xFF  # inside the zip's central directory comment area
        path.write_bytes(bytes(changed))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        theirs.append(bytes(changed))
        return data, snapshot

    monkeypatch.setattr(safe_save, "read_snapshot", read_then_change)
    with pytest.raises(WorkbookChanged):
        recompute(path, AS_OF)
    _assert_refused(path, theirs[0], tmp_path)


def test_cli_reports_a_changed_file_with_exit_2(
    small: Versions,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = small.fresh_copy(tmp_path)
    evaluate = recompute_service.evaluate_file
    theirs: list[bytes] = []

    def evaluate_then_someone_saves(*args: object, **kw: object) -> object:
        result = evaluate(*args, **kw)
        theirs.append(_someone_saves(path))
        return result

    monkeypatch.setattr(recompute_service, "evaluate_file", evaluate_then_someone_saves)
    code = cli.main(["recompute", str(path), "--as-of", AS_OF_ARG])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("Nothing was written") == 1, err
    assert "changed" in err and "Run the command again" in err
    _assert_refused(path, theirs[0], tmp_path)


def test_snapshot_matches_what_was_evaluated(small: Versions, tmp_path: Path) -> None:
    """Sanity check of the fixture: the reference new version is what recompute writes
    as of AS_OF (so 'new' above means the complete, correct result)."""
    path = small.fresh_copy(tmp_path)
    result = recompute(path, AS_OF)
    assert small.state(path) == "new"
    assert result.due_list_rows == small.result.due_list_rows > 0
    assert result.evaluation.as_of == dt.date.fromisoformat(AS_OF_ARG)


def test_a_new_version_missing_due_list_rows_is_discarded(
    small: Versions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new version is read back before it replaces anything: had the writer lost a Due
    List row, the check says so and the workbook on disk stays as it was."""
    path = tmp_path / "caseload.xlsx"
    path.write_bytes(small.old)
    written = caseload_file.apply_patch

    def losing_a_row(data: bytes, patch: recompute_service.Patch) -> bytes:
        due = patch.tables[schema.DUE_LIST.name]
        short = dataclasses.replace(due, rows=due.rows[1:], heights=None)
        return written(
            data, dataclasses.replace(patch, tables={**patch.tables, schema.DUE_LIST.name: short})
        )

    monkeypatch.setattr(caseload_file, "apply_patch", losing_a_row)
    with pytest.raises(safe_save.VerifyFailed, match=r"the Due List sheet has \d+ rows, expected"):
        recompute(path, AS_OF)
    assert path.read_bytes() == small.old
    assert not list(tmp_path.glob(".caseload.xlsx.*.tmp.xlsx"))
