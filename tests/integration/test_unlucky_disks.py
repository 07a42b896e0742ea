"""Full disks, read-only folders, names too long, locks left behind and temp copies of a
killed save: each is one line naming the file and what to do (exit 2), the workbook is
unchanged and nothing pyxl made is left behind.

A small tmpfs (full, then remounted read-only) is used where the test may mount one (root);
elsewhere the same failures come from monkeypatched OS calls.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pyxl import cli
from pyxl.adapters import safe_save
from pyxl.adapters.safe_save import WorkbookBusy, writer_lock
from pyxl.services import demo

AS_OF = "2026-11-23"


@pytest.fixture(scope="module")
def caseload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo.run_demo(tmp_path_factory.mktemp("caseload"), n_clients=20).path


@pytest.fixture
def book(caseload: Path, tmp_path: Path) -> Path:
    path = tmp_path / "office" / "caseload.xlsx"
    path.parent.mkdir()
    shutil.copy(caseload, path)
    return path


def leftovers(folder: Path) -> list[str]:
    """Files pyxl may have left beside the workbook (backups are kept on purpose)."""
    return sorted(n for n in os.listdir(folder) if n.startswith(".") and n != ".pyxl-backups")


def one_line(capsys: pytest.CaptureFixture[str], code: int, expected: int = 2) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("...")]
    assert code == expected, err
    assert len(lines) == 1 and lines[0].startswith("pyxl: "), err
    assert "Errno" not in err and "Traceback" not in err
    return lines[0]


# ---------------------------------------------------------------- a full / read-only disk


@pytest.fixture
def small_disk(tmp_path: Path, caseload: Path) -> Iterator[Path | None]:
    """A tmpfs just big enough for the workbook (None where the test cannot mount one)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    size = caseload.stat().st_size + 16 * 1024
    try:
        made = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
            capture_output=True,
        ).returncode
    except OSError:  # no mount command
        made = -1
    if made != 0:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def pyxl(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pyxl.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_recompute_on_a_full_disk(
    small_disk: Path | None,
    book: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if small_disk is not None:
        path = small_disk / book.name
        shutil.copy(book, path)
        before = path.read_bytes()
        done = pyxl("recompute", path, "--as-of", AS_OF)
        assert done.returncode == 2, done.stderr
        line = done.stderr.strip().splitlines()[-1]
        assert "Traceback" not in done.stderr
    else:
        path, before = book, book.read_bytes()

        def full(fd: int) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(safe_save.os, "fsync", full)
        line = one_line(capsys, cli.main(["recompute", str(path), "--as-of", AS_OF]))
    assert f"{path.name} could not be saved in {path.parent}" in line
    assert "the disk is full" in line and "unchanged" in line
    assert path.read_bytes() == before
    assert leftovers(path.parent) == []


def test_recompute_in_a_read_only_folder(
    small_disk: Path | None,
    book: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if small_disk is not None:
        path = small_disk / book.name
        shutil.copy(book, path)
        subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
        done = pyxl("recompute", path, "--as-of", AS_OF)
        assert done.returncode == 2, done.stderr
        line = done.stderr.strip().splitlines()[-1]
    else:
        path = book
        real_open = os.open

        def read_only(file: object, flags: int, *args: object, **kwargs: object) -> int:
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                raise OSError(errno.EROFS, "Read-only file system", str(file))
            return real_open(file, flags, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(safe_save.os, "open", read_only)
        line = one_line(capsys, cli.main(["recompute", str(path), "--as-of", AS_OF]))
    assert str(path.parent) in line and "read-only" in line
    assert leftovers(path.parent) == []


def test_a_name_too_long_is_a_message(book: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = book.parent / ("r" * 300 + ".xlsx")
    args = ["report", str(book), "--as-of", AS_OF, "--out", str(out)]
    line = one_line(capsys, cli.main(args))
    assert "name is too long" in line and "shorter" in line


def test_letters_that_cannot_be_logged_are_removed(
    book: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pyxl.adapters import caseload_file

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(caseload_file.safe_save, "atomic_write", disk_full)
    out = book.parent / "letters"
    before = book.read_bytes()
    line = one_line(capsys, cli.main(["letters", str(book), "--as-of", AS_OF, "--out", str(out)]))
    assert "the disk is full" in line and "were removed" in line and "logged" in line
    assert not out.exists()
    assert book.read_bytes() == before


# ---------------------------------------------------------------- locks and temp copies


def lock_of(path: Path) -> Path:
    return path.with_name(f".~pyxl.lock.{path.name}")


def write_lock(path: Path, age: float = 0.0, **record: object) -> Path:
    lock = lock_of(path)
    started = datetime.now().astimezone() - timedelta(seconds=age)
    base = {
        "app": "pyxl",
        "user": "carol",
        "host": socket.gethostname(),
        "pid": 0,
        "started": started.isoformat(timespec="seconds"),
        "token": "f" * 16,
    }
    lock.write_text(json.dumps(base | record))
    os.utime(lock, (time.time() - age, time.time() - age))
    return lock


def test_a_lock_whose_process_id_now_belongs_to_another_process_is_taken_over(
    book: Path,
) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_lock(book, age=600, pid=sleeper.pid)  # taken ten minutes before it started
        with writer_lock(book, user="dora") as lock:
            assert json.loads(lock.read_text())["user"] == "dora"
    finally:
        sleeper.kill()
        sleeper.wait()


def test_another_computers_lock_is_reported_with_its_age_then_taken_over(
    book: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_lock(book, age=25 * 60, host="ws12-elsewhere", pid=4242)
    with pytest.raises(WorkbookBusy) as caught, writer_lock(book):
        pass
    message = str(caught.value)
    assert "carol" in message and "ws12-elsewhere" in message
    assert "25 minutes old" in message and "60 minutes old" in message
    write_lock(book, age=safe_save.ABANDONED_LOCK_SECONDS + 60, host="ws12-elsewhere", pid=4242)
    with caplog.at_level(logging.WARNING, "pyxl"), writer_lock(book, user="erin") as lock:
        assert json.loads(lock.read_text())["user"] == "erin"
    assert "took over the lock" in caplog.text and "carol" in caplog.text


def test_a_lock_file_that_is_not_a_pyxl_lock_is_taken_over_after_a_minute(book: Path) -> None:
    lock = lock_of(book)
    lock.write_bytes(b"\x00garbage\xff")
    with pytest.raises(WorkbookBusy, match="not a pyxl lock"), writer_lock(book):
        pass
    old = time.time() - safe_save.FOREIGN_LOCK_SECONDS - 5
    os.utime(lock, (old, old))
    with writer_lock(book, user="finn") as taken:
        assert json.loads(taken.read_text())["user"] == "finn"


def test_a_killed_saves_temp_copy_is_removed_by_the_next_writer(book: Path) -> None:
    leftover = book.with_name(f".{book.name}.0123456789abcdef.tmp.xlsx")
    leftover.write_bytes(book.read_bytes())  # a complete copy: client data
    with writer_lock(book):
        assert not leftover.exists()


# ---------------------------------------------------------------- report and export, disk full


def _disk_full(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_report_on_a_full_disk_leaves_the_earlier_report(
    book: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import xlsxwriter.workbook

    out = book.parent / "report.xlsx"
    args = ["report", str(book), "--as-of", AS_OF, "--out", str(out)]
    assert cli.main(args) == 0
    capsys.readouterr()
    before = out.read_bytes()

    def half_written(self: xlsxwriter.workbook.Workbook) -> None:
        Path(self.filename).write_bytes(b"PK\x03\x04 cut short")
        _disk_full()

    monkeypatch.setattr(xlsxwriter.workbook.Workbook, "_store_workbook", half_written)
    line = one_line(capsys, cli.main(args))
    assert str(out) in line and "the disk is full" in line and "unchanged" in line
    assert out.read_bytes() == before
    assert leftovers(out.parent) == []


def test_a_report_whose_history_cannot_be_written_leaves_no_temp(
    book: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = book.parent / "report.xlsx"
    args = ["report", str(book), "--as-of", AS_OF, "--out", str(out)]
    assert cli.main(args) == 0
    capsys.readouterr()
    history = book.parent / "report-history.jsonl"
    before = history.read_bytes()
    write_text = Path.write_text

    def half_written(self: Path, text: str, *args: object, **kwargs: object) -> int:
        if self.name.endswith(".jsonl.tmp"):
            write_text(self, text[:10], encoding="utf-8")
            _disk_full()
        return write_text(self, text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", half_written)
    line = one_line(capsys, cli.main(args))
    assert str(history) in line and "the disk is full" in line and str(out) in line
    assert history.read_bytes() == before
    assert [p.name for p in book.parent.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("earlier", [True, False])
def test_an_export_on_a_full_disk_leaves_no_half_written_file(
    book: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    earlier: bool,
) -> None:
    import pyarrow.parquet as pq

    out = book.parent / "export"
    args = ["export", str(book), "--as-of", AS_OF, "--out", str(out)]
    before = {}
    if earlier:
        assert cli.main(args) == 0
        capsys.readouterr()
        before = {p.name: p.read_bytes() for p in out.iterdir()}
    write_table = pq.ParquetWriter.write_table

    def half_written(self: pq.ParquetWriter, table: object, *a: object, **kw: object) -> None:
        write_table(self, table, *a, **kw)  # bytes reach the temporary file, then the disk fills
        _disk_full()

    monkeypatch.setattr(pq.ParquetWriter, "write_table", half_written)
    line = one_line(capsys, cli.main(args))
    assert str(out) in line and "the disk is full" in line and "Nothing was changed" in line
    if earlier:
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    else:
        assert not out.exists()
