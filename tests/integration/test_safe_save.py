"""Safe saves of the shared workbook (reliability.md 1.3/1.4): killed saves, two
writers, files changed behind pyxl's back, Excel/LibreOffice lock files, verify,
backups, permissions and pyxl's own lock. All data here is made up."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from pyxl.adapters import safe_save
from pyxl.adapters.safe_save import (
    BACKUP_DIR_NAME,
    SafeSaveError,
    VerifyFailed,
    WorkbookBusy,
    WorkbookChanged,
    WorkbookReadOnly,
    atomic_write,
    cleanup_stale_temp_files,
    read_snapshot,
    who_has_open,
    writer_lock,
)

ROWS = [
    ("C0001", "Client A", "2026-01-05", "Open"),
    ("C0002", "Client B", "2026-01-12", "Open"),
    ("C0003", "Client C", "2026-02-02", "Closed"),
]

# ----------------------------------------------------------------------------- helpers


def make_workbook(path: Path) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Caseload"
    ws.append(["Case number", "Name", "Due date", "Status", "Note"])
    for row in ROWS:
        ws.append(list(row))
    wb.save(path)
    return path.read_bytes()


def edited(data: bytes, cell: str, value: str) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    wb["Caseload"][cell] = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def cell(path: Path, ref: str) -> object:
    return openpyxl.load_workbook(path)["Caseload"][ref].value


def assert_valid_workbook(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
    assert cell(path, "A2") == "C0001"


def temp_files(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.*.tmp*"))


def backups_of(path: Path) -> list[Path]:
    folder = path.parent / BACKUP_DIR_NAME
    return sorted(folder.glob(f"{path.stem}.*{path.suffix}")) if folder.exists() else []


def excel_owner_file(user: str, *, word_layout: bool = False) -> bytes:
    """An Office owner file as Excel (or Word) writes it: a length byte and the
    name in the 8-bit code page, padded (Excel: spaces to offset 55; Word: zeros
    to 54), then a 2-byte length and the name in UTF-16-LE, padded to 165/162."""
    ansi = user.encode("cp1252", errors="replace")
    raw = bytes([len(ansi)]) + ansi
    if word_layout:
        raw = raw.ljust(54, b"\0") + len(user).to_bytes(2, "little") + user.encode("utf-16-le")
        return raw.ljust(162, b"\0")
    raw = raw.ljust(55, b" ") + len(user).to_bytes(2, "little") + user.encode("utf-16-le")
    while len(raw) < 165:
        raw += b" \0"
    return raw[:165]


def dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def write_pyxl_lock(path: Path, **record: object) -> Path:
    lock = path.with_name(f".~pyxl.lock.{path.name}")
    base = {
        "app": "pyxl",
        "user": "carol",
        "host": socket.gethostname(),
        "pid": 0,
        # now: a live process started after its lock was taken is not its owner
        "started": datetime.now().astimezone().isoformat(timespec="seconds"),
        "token": "f" * 16,
    }
    lock.write_text(json.dumps(base | record))
    return lock


def wait_for(marker: Path, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"helper exited early: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            raise AssertionError("helper never reached the marker")
        time.sleep(0.005)


def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.fixture()
def book(tmp_path: Path) -> Path:
    path = tmp_path / "caseload.xlsx"
    make_workbook(path)
    return path


@pytest.fixture(scope="module")
def big_payload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ~20 MB workbook: the small one plus a stored 20 MB part, so a write
    takes long enough to be killed half-way."""
    folder = tmp_path_factory.mktemp("payload")
    small = folder / "small.xlsx"
    make_workbook(small)
    big = folder / "big.xlsx"
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/media/padding.bin", os.urandom(20 * 1024 * 1024), zipfile.ZIP_STORED)
    return big


ATOMIC_HELPER = """
import pathlib, sys, time
from pyxl.adapters.safe_save import atomic_write, read_snapshot, writer_lock

target, payload, marker, mode = sys.argv[1:5]
data = pathlib.Path(payload).read_bytes()

def slow_verify(tmp):
    part = pathlib.Path(marker + ".part")  # the marker appears with its content
    part.write_text(str(tmp))
    part.replace(marker)
    time.sleep(120)

with writer_lock(target, user="crashy"):
    _, snap = read_snapshot(target)
    if mode == "verify":
        atomic_write(target, data, expected=snap, verify=slow_verify)
    else:
        pathlib.Path(marker).touch()
        atomic_write(target, data, expected=snap)
"""

IN_PLACE_HELPER = """
import pathlib, sys, time

target, payload, marker = sys.argv[1:4]
data = pathlib.Path(payload).read_bytes()
with open(target, "wb") as f:  # what wb.save(target) does: truncate, then write
    f.write(data[:2048])
    f.flush()
    pathlib.Path(marker).touch()
    time.sleep(120)
    f.write(data[2048:])
"""


def start(script: str, *args: Path | str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


# ----------------------------------------------------------------------------- killed saves


def test_a_save_killed_mid_write_leaves_the_original_byte_identical_and_the_temp_is_cleaned_later(
    book: Path, big_payload: Path, tmp_path: Path
) -> None:
    original = book.read_bytes()
    marker = tmp_path / "verifying"
    proc = start(ATOMIC_HELPER, book, big_payload, marker, "verify")
    try:
        wait_for(marker, proc)
    finally:
        kill(proc)

    assert book.read_bytes() == original
    assert_valid_workbook(book)
    assert not (tmp_path / BACKUP_DIR_NAME).exists()
    [leftover] = temp_files(book)
    assert leftover == Path(marker.read_text())
    assert leftover.stat().st_size == big_payload.stat().st_size

    # a fresh leftover may belong to a save in progress: kept
    assert cleanup_stale_temp_files(book) == []
    assert leftover.exists()
    two_hours_ago = time.time() - 7200
    os.utime(leftover, (two_hours_ago, two_hours_ago))
    assert cleanup_stale_temp_files(book) == [leftover]
    assert temp_files(book) == []

    # the killed writer's lock is taken over and the next save goes through
    with writer_lock(book, user="next"):
        data, snap = read_snapshot(book)
        atomic_write(book, edited(data, "E2", "after the crash"), expected=snap)
    assert cell(book, "E2") == "after the crash"


@pytest.mark.parametrize("delay", [0.0, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16])
def test_a_save_killed_at_any_moment_leaves_either_the_old_or_the_new_workbook(
    book: Path, big_payload: Path, tmp_path: Path, delay: float
) -> None:
    original = book.read_bytes()
    new = big_payload.read_bytes()
    marker = tmp_path / "writing"
    proc = start(ATOMIC_HELPER, book, big_payload, marker, "plain")
    try:
        wait_for(marker, proc)
        time.sleep(delay)
    finally:
        kill(proc)

    assert book.read_bytes() in (original, new)
    assert_valid_workbook(book)
    cleanup_stale_temp_files(book, older_than=-1)
    assert temp_files(book) == []


def test_an_in_place_save_killed_half_way_destroys_the_workbook_which_is_why_pyxl_never_does_one(
    book: Path, big_payload: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "half-written"
    proc = start(IN_PLACE_HELPER, book, big_payload, marker)
    try:
        wait_for(marker, proc)
    finally:
        kill(proc)

    assert book.stat().st_size == 2048
    assert not zipfile.is_zipfile(book)
    with pytest.raises(zipfile.BadZipFile):
        openpyxl.load_workbook(book)


# ----------------------------------------------------------------------------- two writers


def _racer(
    path: str,
    user: str,
    ref: str,
    barrier: multiprocessing.synchronize.Barrier,
    loser_done: multiprocessing.synchronize.Event,
    results: multiprocessing.Queue[tuple[str, str, str]],
) -> None:
    try:
        barrier.wait(timeout=30)
        with writer_lock(path, user=user):
            data, snap = read_snapshot(path)
            loser_done.wait(timeout=30)  # hold the lock until the other one has tried
            atomic_write(path, edited(data, ref, f"note by {user}"), expected=snap)
        results.put((user, "saved", ""))
    except SafeSaveError as err:
        results.put((user, type(err).__name__, str(err)))
        loser_done.set()


def test_two_writers_racing_for_the_lock_one_saves_the_other_is_told_who_and_no_update_is_lost(
    book: Path,
) -> None:
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    loser_done = ctx.Event()
    results: multiprocessing.Queue[tuple[str, str, str]] = ctx.Queue()
    cells = {"alice": "E2", "bob": "E3"}
    procs = [
        ctx.Process(target=_racer, args=(str(book), user, ref, barrier, loser_done, results))
        for user, ref in cells.items()
    ]
    for p in procs:
        p.start()
    reports = [results.get(timeout=60) for _ in procs]
    outcome = {user: (kind, message) for user, kind, message in reports}
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0

    winners = [u for u, (kind, _) in outcome.items() if kind == "saved"]
    losers = [u for u, (kind, _) in outcome.items() if kind == "WorkbookBusy"]
    assert len(winners) == 1 and len(losers) == 1, outcome
    [winner], [loser] = winners, losers
    message = outcome[loser][1]
    assert f"user: {winner}" in message and "another pyxl" in message
    assert "Nothing was written" in message

    # the refused update was reported, not lost: retried, both are in the file
    assert cell(book, cells[winner]) == f"note by {winner}"
    assert cell(book, cells[loser]) is None
    with writer_lock(book, user=loser):
        data, snap = read_snapshot(book)
        atomic_write(book, edited(data, cells[loser], f"note by {loser}"), expected=snap)
    assert cell(book, "E2") == "note by alice"
    assert cell(book, "E3") == "note by bob"
    assert not book.with_name(f".~pyxl.lock.{book.name}").exists()


def test_a_writer_whose_copy_went_stale_because_another_saved_first_gets_workbook_changed(
    book: Path,
) -> None:
    alice_data, alice_snap = read_snapshot(book)
    bob_data, bob_snap = read_snapshot(book)
    atomic_write(book, edited(alice_data, "E2", "alice"), expected=alice_snap)

    with pytest.raises(WorkbookChanged, match="Run the command again"):
        atomic_write(book, edited(bob_data, "E3", "bob"), expected=bob_snap)
    assert cell(book, "E2") == "alice"  # alice's update is not overwritten
    assert temp_files(book) == []


# ----------------------------------------------------------------------------- changed on disk


def test_a_same_size_edit_with_the_mtime_put_back_is_still_caught_by_the_hash(book: Path) -> None:
    data, snap = read_snapshot(book)
    before = book.stat()
    with open(book, "r+b") as f:  # someone else's in-place edit of one byte
        f.seek(len(data) // 2)
        byte = f.read(1)
        f.seek(len(data) // 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    os.utime(book, ns=(before.st_atime_ns, before.st_mtime_ns))
    theirs = book.read_bytes()
    assert (book.stat().st_size, book.stat().st_mtime_ns) == (snap.size, snap.mtime_ns)

    with pytest.raises(WorkbookChanged, match="changed on disk since pyxl read it"):
        atomic_write(book, edited(data, "E2", "mine"), expected=snap)
    assert book.read_bytes() == theirs
    assert temp_files(book) == []
    assert backups_of(book) == []


@pytest.mark.parametrize("change", ["touched", "resaved", "deleted"])
def test_any_change_since_the_snapshot_refuses_the_save(book: Path, change: str) -> None:
    data, snap = read_snapshot(book)
    if change == "touched":
        os.utime(book, ns=(snap.mtime_ns + 10**9, snap.mtime_ns + 10**9))
    elif change == "resaved":
        book.write_bytes(edited(data, "E4", "someone else"))
    else:
        book.unlink()

    with pytest.raises(WorkbookChanged, match="Nothing was written"):
        atomic_write(book, edited(data, "E2", "mine"), expected=snap)
    assert temp_files(book) == []
    if change == "resaved":
        assert cell(book, "E4") == "someone else"
    if change == "deleted":
        assert not book.exists()


# ----------------------------------------------------------------------------- Excel / LibreOffice


@pytest.mark.parametrize(
    ("owner_name", "user", "word_layout"),
    [
        ("~$caseload.xlsx", "Maria Lopez", False),
        ("~$caseload.xlsx", "José Muñoz-Ibáñez", False),
        ("~$seload.xlsx", "Maria Lopez", True),  # long names: first two characters cut
    ],
    ids=["excel", "excel accented name", "word-style shortened name"],
)
def test_an_office_owner_file_blocks_the_save_and_the_message_names_the_user(
    book: Path, owner_name: str, user: str, word_layout: bool
) -> None:
    owner = book.with_name(owner_name)
    owner.write_bytes(excel_owner_file(user, word_layout=word_layout))
    opened = datetime(2026, 11, 23, 9, 14).timestamp()
    os.utime(owner, (opened, opened))
    data, snap = read_snapshot(book)
    original = book.read_bytes()

    assert who_has_open(book) == f"Excel (user: {user} since 2026-11-23 09:14)"
    with pytest.raises(WorkbookBusy) as caught:
        atomic_write(book, edited(data, "E2", "mine"), expected=snap)
    message = str(caught.value)
    assert user in message
    assert "Close the workbook in Excel/LibreOffice and try again" in message
    assert f"If nobody has it open, delete {owner}" in message
    assert caught.value.lock_path == owner
    assert book.read_bytes() == original
    assert temp_files(book) == []
    assert backups_of(book) == []


@pytest.mark.parametrize(
    "content",
    [b"", b"\xff" * 3, bytes(range(256))[::-1][:165]],
    ids=["empty", "too short", "garbage"],
)
def test_an_unreadable_owner_file_still_means_the_workbook_is_open(
    book: Path, content: bytes
) -> None:
    book.with_name(f"~${book.name}").write_bytes(content)
    data, snap = read_snapshot(book)
    assert (who_has_open(book) or "").startswith("Excel (user: ")
    with pytest.raises(WorkbookBusy, match="Close the workbook"):
        atomic_write(book, data, expected=snap)


def test_a_libreoffice_lock_file_blocks_the_save_and_names_user_host_and_time(book: Path) -> None:
    lock = book.with_name(f".~lock.{book.name}#")
    lock.write_text(",jdoe,ws12,23.11.2026 09:14,file:///home/jdoe/.config/libreoffice/4;")
    data, snap = read_snapshot(book)
    original = book.read_bytes()

    assert who_has_open(book) == "LibreOffice (user: jdoe on host ws12 since 2026-11-23 09:14)"
    with pytest.raises(WorkbookBusy) as caught:
        atomic_write(book, edited(data, "E2", "mine"), expected=snap)
    message = str(caught.value)
    assert "jdoe on host ws12" in message
    assert f"delete {lock}" in message
    assert book.read_bytes() == original
    assert temp_files(book) == []


def test_lock_file_text_is_shown_with_escapes_undone_and_control_characters_removed(
    book: Path,
) -> None:
    lock = book.with_name(f".~lock.{book.name}#")
    lock.write_text("Lopez\\, Maria,mlopez,ws\x1b[31m7,garbage date,url;")
    assert (
        who_has_open(book) == "LibreOffice (user: Lopez, Maria on host ws [31m7 since garbage date)"
    )


def test_nobody_has_the_workbook_open_when_there_is_no_lock_file(book: Path) -> None:
    book.with_name("~$other.xlsx").write_bytes(excel_owner_file("Someone Else"))
    assert who_has_open(book) is None


# ----------------------------------------------------------------------------- verify


def test_a_failing_verify_leaves_the_original_untouched_and_removes_the_temp_file(
    book: Path,
) -> None:
    data, snap = read_snapshot(book)
    original = book.read_bytes()
    seen: list[Path] = []

    def row_count_dropped(tmp: Path) -> None:
        seen.append(tmp)
        assert tmp.exists() and tmp.parent == book.parent
        raise ValueError("row count went from 3 to 2")

    with pytest.raises(VerifyFailed) as caught:
        atomic_write(book, edited(data, "E2", "x"), expected=snap, verify=row_count_dropped)
    assert "row count went from 3 to 2" in str(caught.value)
    assert "Nothing was replaced" in str(caught.value)
    assert isinstance(caught.value.__cause__, ValueError)
    assert book.read_bytes() == original
    assert not seen[0].exists()
    assert temp_files(book) == []
    assert backups_of(book) == []


def test_a_passing_verify_sees_the_new_version_before_it_replaces_the_workbook(book: Path) -> None:
    data, snap = read_snapshot(book)

    def check(tmp: Path) -> None:
        assert openpyxl.load_workbook(tmp)["Caseload"]["E2"].value == "checked"
        assert cell(book, "E2") is None  # not replaced yet

    atomic_write(book, edited(data, "E2", "checked"), expected=snap, verify=check)
    assert cell(book, "E2") == "checked"


@pytest.mark.parametrize("bad", ["empty", "not a zip", "truncated zip"])
def test_a_broken_new_version_is_refused_even_without_a_verify_hook(book: Path, bad: str) -> None:
    data, snap = read_snapshot(book)
    payload = {"empty": b"", "not a zip": b"<html>oops</html>", "truncated zip": data[:-100]}[bad]
    with pytest.raises(VerifyFailed, match="workbook on disk is unchanged"):
        atomic_write(book, payload, expected=snap)
    assert book.read_bytes() == data
    assert temp_files(book) == []


def test_an_xlsm_saved_without_its_macros_is_refused_and_a_proper_one_keeps_its_suffix(
    tmp_path: Path,
) -> None:
    path = tmp_path / "caseload.xlsm"
    make_workbook(path)  # content type: plain workbook, as after a save without keep_vba
    data, snap = read_snapshot(path)
    with pytest.raises(VerifyFailed, match="keep_vba"):
        atomic_write(path, data, expected=snap)

    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as dst:
        for item in src.infolist():
            part = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                part = part.replace(
                    b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
                )
            dst.writestr(item, part)
    backup = atomic_write(path, buf.getvalue(), expected=snap)
    assert backup is not None and backup.suffix == ".xlsm"
    assert backup.read_bytes() == data
    assert path.read_bytes() == buf.getvalue()


# ----------------------------------------------------------------------------- backups, permissions


def test_backups_keep_the_newest_n_previous_versions_and_leave_other_files_alone(
    book: Path,
) -> None:
    folder = book.parent / BACKUP_DIR_NAME
    folder.mkdir()
    other = folder / "other.20200101-000000-000000.xlsx"
    other.write_bytes(b"another workbook's backup")
    versions = []
    for i in range(6):
        data, snap = read_snapshot(book)
        versions.append(data)
        backup = atomic_write(book, edited(data, "E2", f"v{i + 1}"), expected=snap, backups=3)
        assert backup is not None and backup.read_bytes() == data

    kept = backups_of(book)
    assert [p.read_bytes() for p in kept] == versions[-3:]
    assert all(p.name.startswith("caseload.") and p.suffix == ".xlsx" for p in kept)
    assert other.exists()
    assert cell(book, "E2") == "v6"


def test_the_backup_just_made_survives_rotation_even_if_another_pc_clock_runs_ahead(
    book: Path,
) -> None:
    folder = book.parent / BACKUP_DIR_NAME
    folder.mkdir()
    ahead = [folder / f"caseload.20990101-00000{i}-000000.xlsx" for i in range(3)]
    for p in ahead:
        p.write_bytes(b"made by a PC whose clock is wrong")
    data, snap = read_snapshot(book)
    backup = atomic_write(book, edited(data, "E2", "x"), expected=snap, backups=3)
    assert backup is not None and backup.read_bytes() == data
    assert backups_of(book) == sorted([backup, *ahead[1:]])


def test_no_backup_is_made_when_backups_is_zero(book: Path) -> None:
    data, snap = read_snapshot(book)
    assert atomic_write(book, edited(data, "E2", "x"), expected=snap, backups=0) is None
    assert backups_of(book) == []


def test_the_workbook_and_its_backup_keep_the_workbook_permission_bits(book: Path) -> None:
    os.chmod(book, 0o640)
    data, snap = read_snapshot(book)
    backup = atomic_write(book, edited(data, "E2", "x"), expected=snap)
    assert stat.S_IMODE(book.stat().st_mode) == 0o640
    assert backup is not None and stat.S_IMODE(backup.stat().st_mode) == 0o640
    assert backup.stat().st_mtime_ns == snap.mtime_ns


def test_a_read_only_workbook_is_not_replaced(book: Path) -> None:
    data, snap = read_snapshot(book)
    os.chmod(book, 0o444)
    with pytest.raises(WorkbookReadOnly, match="read-only"):
        atomic_write(book, edited(data, "E2", "x"), expected=snap)
    assert book.read_bytes() == data


def test_a_replace_refused_by_windows_is_retried_and_then_succeeds(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def flaky(src: Path, dst: Path) -> None:
        calls.append(1)
        if len(calls) < 3:
            raise PermissionError(13, "Access is denied")
        os.replace(src, dst)

    monkeypatch.setattr(safe_save, "_replace", flaky)
    monkeypatch.setattr(safe_save, "REPLACE_RETRY_DELAYS", (0, 0, 0))
    data, snap = read_snapshot(book)
    atomic_write(book, edited(data, "E2", "x"), expected=snap)
    assert len(calls) == 3
    assert cell(book, "E2") == "x"


def test_a_replace_that_keeps_failing_says_the_file_is_busy_and_leaves_no_temp_or_backup(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(src: Path, dst: Path) -> None:
        raise PermissionError(13, "Access is denied")

    monkeypatch.setattr(safe_save, "_replace", locked)
    monkeypatch.setattr(safe_save, "REPLACE_RETRY_DELAYS", (0, 0))
    data, snap = read_snapshot(book)
    with pytest.raises(WorkbookBusy, match="Nothing was written"):
        atomic_write(book, edited(data, "E2", "x"), expected=snap)
    assert book.read_bytes() == data
    assert temp_files(book) == []
    assert backups_of(book) == []


# ----------------------------------------------------------------------------- pyxl's own lock


def test_the_writer_lock_records_who_holds_it_and_is_removed_even_when_the_body_fails(
    book: Path,
) -> None:
    lock = book.with_name(f".~pyxl.lock.{book.name}")
    with pytest.raises(RuntimeError), writer_lock(book, user="dave") as held:
        assert held == lock
        record = json.loads(lock.read_text())
        assert record["user"] == "dave"
        assert record["pid"] == os.getpid()
        assert record["host"] == socket.gethostname()
        raise RuntimeError("boom")
    assert not lock.exists()


def test_a_stale_pyxl_lock_from_a_dead_process_on_this_machine_is_taken_over(book: Path) -> None:
    lock = write_pyxl_lock(book, pid=dead_pid())
    assert who_has_open(book) is None
    with writer_lock(book, user="erin"):
        assert json.loads(lock.read_text())["user"] == "erin"
        data, snap = read_snapshot(book)
        atomic_write(book, edited(data, "E2", "erin"), expected=snap)
    assert not lock.exists()
    assert cell(book, "E2") == "erin"


def test_a_live_pyxl_lock_refuses_other_writers_and_names_its_user(book: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = write_pyxl_lock(book, pid=sleeper.pid)
        with pytest.raises(WorkbookBusy) as caught, writer_lock(book, user="frank"):
            pass
        message = str(caught.value)
        assert "another pyxl (user: carol on host" in message
        assert f"delete {lock}" in message
        assert json.loads(lock.read_text())["user"] == "carol"  # untouched

        # a save that did not take the lock is refused too
        data, snap = read_snapshot(book)
        with pytest.raises(WorkbookBusy, match="carol"):
            atomic_write(book, data, expected=snap)
    finally:
        kill(sleeper)


def test_a_pyxl_lock_from_another_machine_is_never_taken_over(book: Path) -> None:
    write_pyxl_lock(book, host="some-other-pc", pid=dead_pid())
    with pytest.raises(WorkbookBusy, match="on host some-other-pc"), writer_lock(book):
        pass


def test_an_unreadable_pyxl_lock_counts_as_held(book: Path) -> None:
    book.with_name(f".~pyxl.lock.{book.name}").write_bytes(b"")
    with pytest.raises(WorkbookBusy, match="another pyxl"), writer_lock(book):
        pass


def test_a_lock_that_someone_else_now_holds_is_not_removed_on_exit(book: Path) -> None:
    with writer_lock(book, user="gina") as lock:
        lock.unlink()  # a supervisor broke it and another writer took it
        write_pyxl_lock(book, user="hank", pid=os.getppid())
    assert json.loads(lock.read_text())["user"] == "hank"


def test_cleanup_only_removes_old_pyxl_temp_files_of_this_workbook(book: Path) -> None:
    old = time.time() - 7200
    ours = [
        book.with_name(f".{book.name}.0123456789abcdef.tmp.xlsx"),
        book.with_name(f".{book.name}.fedcba9876543210.tmp"),
    ]
    others = [
        book.with_name(f".{book.name}.0123456789abcdef.tmp.docx"),
        book.with_name(".other.xlsx.0123456789abcdef.tmp"),
        book.with_name(f".{book.name}.notours.tmp"),
        book.with_name("notes.tmp"),
    ]
    for p in [*ours, *others]:
        p.write_bytes(b"x")
        os.utime(p, (old, old))
    assert sorted(cleanup_stale_temp_files(book)) == sorted(ours)
    assert all(p.exists() for p in others)


def test_the_lock_still_excludes_a_second_writer_on_a_share_without_hard_links(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(safe_save.os, "link", no_links)
    lock = book.with_name(f".~pyxl.lock.{book.name}")
    with writer_lock(book, user="ivy"):
        assert json.loads(lock.read_text())["user"] == "ivy"
        with pytest.raises(WorkbookBusy, match="ivy"), writer_lock(book, user="jack"):
            pass
    assert not lock.exists()
    assert list(book.parent.glob(".~pyxl.lock.*.new")) == []
