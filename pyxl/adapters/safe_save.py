"""Safe saves of the shared caseload workbook (see reliability.md 1.3 and 1.4).

An in-place save is not atomic: a save killed half-way leaves a small file that
no longer opens, and two writers silently overwrite each other. This module
never writes into the workbook itself. A save goes:

1. refuse if Excel/LibreOffice (owner or lock file) or another pyxl has it;
2. write the new bytes to ``.<name>.<random>.tmp<suffix>`` in the same folder
   (e.g. ``.caseload.xlsx.1f0c….tmp.xlsx``: openpyxl only opens paths ending in
   .xlsx/.xlsm, so a verify hook can load it), flush and fsync;
3. check the temp file (zip structure for .xlsx/.xlsm, then the caller's hook);
4. re-check that the workbook on disk is still the version that was read
   (size, mtime and SHA-256), otherwise refuse: nothing is written;
5. copy that version to ``.pyxl-backups/`` and keep the newest N copies;
6. give the temp file the workbook's permission bits, ``os.replace`` it over
   the workbook (retrying a few times: on Windows the replace fails while any
   program has the file open), fsync the folder.

The target is never deleted or truncated, so at every instant the workbook on
disk is either the old version or the new one. A killed save leaves at most a
temp file, which :func:`cleanup_stale_temp_files` removes once it is old.

Writers serialise with :func:`writer_lock` (a lock file beside the workbook,
in the spirit of Excel's ``~$`` owner file); hold it from
:func:`read_snapshot` until :func:`atomic_write` returns. The SHA-256 check in
step 4 also catches writers that take no lock, such as Excel itself.

Exception messages are shown to case managers as they are: they say what
happened, that nothing was written, and what to do. They name staff (from
lock files) and files, never client data.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import re
import secrets
import socket
import stat
import time
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from pyxl.adapters import speed
from pyxl.adapters.workbook_reader import check_member
from pyxl.errors import os_advice

__all__ = [
    "BACKUP_DIR_NAME",
    "SafeSaveError",
    "SaveFailed",
    "Snapshot",
    "VerifyFailed",
    "WorkbookBusy",
    "WorkbookChanged",
    "WorkbookReadOnly",
    "atomic_write",
    "cleanup_stale_temp_files",
    "read_snapshot",
    "who_has_open",
    "writer_lock",
]

BACKUP_DIR_NAME = ".pyxl-backups"
PYXL_LOCK_PREFIX = ".~pyxl.lock."
STALE_TEMP_SECONDS = 3600.0
# A pyxl lock that cannot be judged from here (another computer's, or a live process that
# is not its owner cannot be told apart) is taken over once it is this old: the longest
# pyxl command (letters with a PDF for a whole office) takes minutes.
ABANDONED_LOCK_SECONDS = 3600.0
# A lock file that is not a pyxl lock at all (unreadable, not pyxl's JSON) is taken over once
# this old: a pyxl writing its lock on a share without hard links fills it within a second.
FOREIGN_LOCK_SECONDS = 60.0
# Pauses between os.replace attempts that fail with PermissionError (Windows:
# Excel, an antivirus scan or the search indexer has the file open). ~1.5 s.
REPLACE_RETRY_DELAYS: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4, 0.8)

_O_BINARY: int = getattr(os, "O_BINARY", 0)  # Windows only; 0 elsewhere
_TOKEN_HEX = 8  # random part of temp names: 16 hex digits
_MSO_MAX_USER = 52  # Office refuses longer user names
_OOXML_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm"})
_MACRO_SUFFIXES = frozenset({".xlsm", ".xltm"})
_replace: Callable[[Path, Path], None] = os.replace  # replaced in tests
_log = logging.getLogger("pyxl")


# --------------------------------------------------------------------------- errors


class SafeSaveError(Exception):
    """Base class: a save was refused or abandoned and the workbook is unchanged."""


class WorkbookBusy(SafeSaveError):
    """Someone has the workbook open, or another pyxl is writing it."""

    def __init__(self, message: str, *, path: Path, holder: str, lock_path: Path | None) -> None:
        super().__init__(message)
        self.path = path
        self.holder = holder
        self.lock_path = lock_path


class WorkbookChanged(SafeSaveError):
    """The workbook on disk is no longer the version pyxl read."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


class VerifyFailed(SafeSaveError):
    """The new version failed its check; the workbook was not replaced."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


class SaveFailed(SafeSaveError):
    """The operating system refused a write beside the workbook (a full disk, a read-only
    folder, ...); the workbook is unchanged and nothing pyxl made is left behind."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


@contextmanager
def _os_errors_named(target: Path) -> Iterator[None]:
    """An OSError while saving is told as SaveFailed naming the workbook (a failed write()
    names no file, and the temp or lock file it concerns means nothing to the user)."""
    try:
        yield
    except SafeSaveError:
        raise
    except OSError as err:
        if err.errno is None:
            raise
        raise SaveFailed(
            f"{target.name} could not be saved in {target.parent}: {os_advice(err)} "
            "The workbook is unchanged.",
            path=target,
        ) from err


class WorkbookReadOnly(SafeSaveError, PermissionError):
    """The workbook is marked read-only: pyxl will not replace it."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


# --------------------------------------------------------------------------- helpers


def _target(path: str | os.PathLike[str]) -> Path:
    """The real file behind ``path`` (absolute, symlinks resolved)."""
    return Path(os.path.realpath(os.fspath(path)))


def _same_file_name(a: Path, b: Path) -> bool:
    return os.path.normcase(os.fspath(a)) == os.path.normcase(os.fspath(b))


def _clean(text: str, limit: int = 80) -> str:
    """Text read from a lock file, safe to show: printable, trimmed, bounded."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    return text[:limit]


def _local_minutes(when: datetime) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def _remove_quietly(path: Path) -> bool:
    """Delete ``path``; True if it is gone afterwards."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        return False
    return True


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (POSIX). Not possible, and not needed, on Windows."""
    if os.name == "nt":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some network file systems refuse; the data itself is fsynced
    finally:
        os.close(fd)


def _write_new_file(path: Path, data: bytes | bytearray | memoryview, mode: int = 0o600) -> None:
    """Create ``path`` (it must not exist), write ``data`` and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        _remove_quietly(path)
        raise


def _current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some services/containers
        return os.environ.get("USERNAME") or os.environ.get("USER") or "unknown"


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine. When unsure, True (refuse to
    break a lock rather than break a live one)."""
    if pid <= 0:
        return False
    if os.name == "nt":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists but belongs to someone else, or cannot tell
    try:  # Linux: a zombie has exited, only its exit status is left
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    return not fields or fields[0] != "Z"


def _windows_pid_alive(pid: int) -> bool:  # pragma: no cover - Windows only
    # Never os.kill on Windows: any signal but CTRL_* events terminates the process.
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
    kernel32.GetExitCodeProcess.argtypes = (wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD))
    kernel32.CloseHandle.argtypes = (wintypes.HANDLE,)
    process_query_limited_information = 0x1000
    still_active = 259
    error_invalid_parameter = 87  # no such process
    handle = kernel32.OpenProcess(process_query_limited_information, False, pid)
    if not handle:
        return ctypes.get_last_error() != error_invalid_parameter  # type: ignore[attr-defined]
    try:
        code = wintypes.DWORD()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == still_active
    finally:
        kernel32.CloseHandle(handle)


# --------------------------------------------------------------------------- who has it open


@dataclass(frozen=True)
class _Holder:
    kind: str  # "excel" | "libreoffice" | "pyxl"
    description: str
    lock_path: Path


def _describe(app: str, user: str, host: str = "", since: str = "", pid: str = "") -> str:
    parts = [f"user: {user or 'unknown'}"]
    if host:
        parts.append(f"on host {host}")
    if since:
        parts.append(f"since {since}")
    if pid:
        parts.append(f"process {pid}")
    return f"{app} ({' '.join(parts)})"


def _excel_owner_candidates(target: Path) -> list[Path]:
    """Office's owner file names for ``target``. Excel uses ``~$`` + name; Word
    cuts the first two characters of names of 8+ characters (one for 7), so
    both spellings are checked (a false alarm only refuses a save)."""
    name, stem = target.name, target.stem
    names = [f"~${name}"]
    if len(stem) >= 8:
        names.append(f"~${name[2:]}")
    elif len(stem) == 7:
        names.append(f"~${name[1:]}")
    return [target.with_name(n) for n in names]


def _decode_owner_file(raw: bytes) -> str:
    """User name in an Office owner file; '' if it cannot be read.

    Layout (reverse-engineered, see LibreOffice svl/msodocumentlockfile.cxx):
    byte 0 = length of the name, then the name in the Windows 8-bit code page,
    padded to offset 54 (Word, zeros) or 55 (Excel/PowerPoint, spaces); there a
    2-byte little-endian length and the name again in UTF-16-LE; padding up to
    162/165 bytes. The UTF-16 copy is preferred (accents survive).
    """
    for offset in (55, 54):
        if len(raw) < offset + 2:
            continue
        count = int.from_bytes(raw[offset : offset + 2], "little")
        end = offset + 2 + 2 * count
        if 0 < count <= _MSO_MAX_USER and len(raw) >= end:
            text = raw[offset + 2 : end].decode("utf-16-le", errors="replace")
            if "\ufffd" not in text and text.isprintable() and text.strip():
                return _clean(text)
    if raw and 0 < raw[0] <= _MSO_MAX_USER + 1 and len(raw) > raw[0]:
        text = raw[1 : 1 + raw[0]].decode("cp1252", errors="replace")
        if text.strip() and text.replace("\ufffd", "").strip():
            return _clean(text)
    return ""


def _excel_holder(target: Path) -> _Holder | None:
    for owner in _excel_owner_candidates(target):
        try:
            st = owner.stat()
        except OSError:
            continue
        try:
            with open(owner, "rb") as f:
                raw = f.read(4096)
        except OSError:
            raw = b""  # Excel may hold it exclusively; it still means "open"
        since = _local_minutes(datetime.fromtimestamp(st.st_mtime, UTC))
        return _Holder("excel", _describe("Excel", _decode_owner_file(raw), since=since), owner)
    return None


def _parse_libreoffice_lock(text: str) -> list[str]:
    """Fields of a LibreOffice lock file: ``name,sysuser,host,date,userurl;``.
    A backslash escapes ``,`` ``;`` and ``\\``."""
    fields: list[str] = []
    current: list[str] = []
    escaped = False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",;":
            fields.append("".join(current))
            current = []
            if ch == ";":
                break
        else:
            current.append(ch)
    else:
        if current:
            fields.append("".join(current))
    return fields


def _libreoffice_holder(target: Path) -> _Holder | None:
    lock = target.with_name(f".~lock.{target.name}#")
    try:
        with open(lock, "rb") as f:
            raw = f.read(4096)
    except FileNotFoundError:
        return None
    except OSError:
        raw = b""
    fields = [_clean(f) for f in _parse_libreoffice_lock(raw.decode("utf-8", errors="replace"))]
    fields += [""] * (5 - len(fields))
    user = fields[0] or fields[1]  # LibreOffice's own user name, else the login name
    since = fields[3]
    with suppress(ValueError):
        since = datetime.strptime(since, "%d.%m.%Y %H:%M").strftime("%Y-%m-%d %H:%M")
    return _Holder("libreoffice", _describe("LibreOffice", user, fields[2], since), lock)


def _pyxl_lock_path(target: Path) -> Path:
    return target.with_name(f"{PYXL_LOCK_PREFIX}{target.name}")


def _read_pyxl_lock(lock: Path) -> tuple[bytes, dict[str, object]] | None:
    """Raw bytes and parsed record of a pyxl lock; None if there is no lock.
    An unreadable or half-written lock parses as an empty record."""
    try:
        with open(lock, "rb") as f:
            raw = f.read(65536)
    except FileNotFoundError:
        return None
    except OSError:
        return b"", {}
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return raw, {}
    return raw, record if isinstance(record, dict) else {}


def _lock_pid(record: dict[str, object]) -> int | None:
    pid = record.get("pid")
    return pid if isinstance(pid, int) and not isinstance(pid, bool) else None


def _same_host(record: dict[str, object]) -> bool:
    host = record.get("host")
    return isinstance(host, str) and host.casefold() == socket.gethostname().casefold()


def _lock_is_stale(record: dict[str, object]) -> bool:
    """A lock from this machine whose process is gone, or whose process id now belongs to a
    process started after the lock was taken (the id was reused), is stale. A lock from
    another machine cannot be judged here: see `_lock_age_limit`."""
    pid = _lock_pid(record)
    if pid is None or not _same_host(record):
        return False
    if not _pid_alive(pid):
        return True
    started = _process_start(pid)
    taken = _lock_started(record)
    return started is not None and taken is not None and started > taken + 2.0


def _lock_started(record: dict[str, object]) -> float | None:
    value = record.get("started")
    try:
        return datetime.fromisoformat(value).timestamp() if isinstance(value, str) else None
    except ValueError:
        return None


def _process_start(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), on Linux; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22 of stat: start time in clock ticks after boot
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, IndexError, ValueError, StopIteration):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def _lock_age(lock: Path) -> float | None:
    try:
        return max(time.time() - lock.stat().st_mtime, 0.0)
    except OSError:
        return None


def _lock_age_limit(record: dict[str, object]) -> float:
    """How old a lock that cannot be judged may be before it is taken over."""
    return ABANDONED_LOCK_SECONDS if record.get("app") == "pyxl" else FOREIGN_LOCK_SECONDS


def _lock_is_abandoned(lock: Path, record: dict[str, object]) -> bool:
    age = _lock_age(lock)
    return age is not None and age > _lock_age_limit(record)


def _minutes(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes == 0:
        return "less than a minute"
    if minutes < 120:
        return f"{minutes} minute{'s' * (minutes != 1)}"
    return f"{minutes // 60} hours"


def _lock_is_ours(record: dict[str, object]) -> bool:
    return _same_host(record) and _lock_pid(record) == os.getpid()


def _describe_pyxl_lock(record: dict[str, object]) -> str:
    def text(key: str) -> str:
        value = record.get(key)
        return _clean(str(value)) if isinstance(value, str | int) else ""

    since = text("started")
    with suppress(ValueError):
        since = _local_minutes(datetime.fromisoformat(since))
    return _describe("another pyxl", text("user"), text("host"), since, text("pid"))


def _describe_lock(record: dict[str, object]) -> str:
    if record.get("app") == "pyxl":
        return _describe_pyxl_lock(record)
    return "another pyxl or another program (its lock file is not a pyxl lock pyxl can read)"


def _pyxl_holder(target: Path) -> _Holder | None:
    lock = _pyxl_lock_path(target)
    found = _read_pyxl_lock(lock)
    if found is None:
        return None
    record = found[1]
    if record and (_lock_is_ours(record) or _lock_is_stale(record)):
        return None
    if _lock_is_abandoned(lock, record):
        return None
    return _Holder("pyxl", _describe_lock(record), lock)


def _find_holder(target: Path) -> _Holder | None:
    return _libreoffice_holder(target) or _excel_holder(target) or _pyxl_holder(target)


def refuse_if_open(path: Path, nothing_done: str) -> None:
    """Raise WorkbookBusy while Excel or LibreOffice has the workbook open: for writers whose
    work cannot wait until the end (letters printed but not logged would be sent twice)."""
    holder = who_has_open(path)
    if holder:
        raise WorkbookBusy(
            f"{path.name} is open in {holder}. {nothing_done} Close the workbook in "
            "Excel/LibreOffice and try again.",
            path=path,
            holder=holder,
            lock_path=None,
        )


def who_has_open(path: str | os.PathLike[str]) -> str | None:
    """Who has the workbook open, read from the lock files beside it, or None.

    Looks for LibreOffice's ``.~lock.<name>#``, Office's ``~$<name>`` owner file
    and the lock of another pyxl (one held by this process, or left by a dead
    process on this machine, does not count). Returns e.g.
    ``"Excel (user: Maria Lopez since 2026-11-23 09:14)"`` or
    ``"LibreOffice (user: jdoe on host ws12 since 2026-11-23 09:14)"``.
    A crashed Excel leaves its owner file behind; it still counts as open.
    """
    holder = _find_holder(Path(os.path.abspath(os.fspath(path))))
    target = _target(path)
    if holder is None and not _same_file_name(target, Path(os.path.abspath(os.fspath(path)))):
        holder = _find_holder(target)  # a symlink: check beside the real file too
    return holder.description if holder else None


def _busy_error(target: Path, holder: _Holder) -> WorkbookBusy:
    if holder.kind == "pyxl":
        found = _read_pyxl_lock(holder.lock_path) if holder.lock_path else None
        age = _lock_age(holder.lock_path) if holder.lock_path else None
        held = (
            f" Its lock is {_minutes(age)} old; pyxl takes it over once it is "
            f"{_minutes(_lock_age_limit(found[1] if found else {}))} old."
            if age is not None
            else ""
        )
        message = (
            f"{target.name} is being changed by {holder.description}. Nothing was written. "
            f"Wait until it has finished and try again.{held} If no pyxl is running any more "
            f"(for example it was interrupted), delete {holder.lock_path} and try again."
        )
    else:
        message = (
            f"{target.name} is open in {holder.description}. Nothing was written. "
            f"Close the workbook in Excel/LibreOffice and try again. "
            f"If nobody has it open, delete {holder.lock_path} and try again."
        )
    return WorkbookBusy(message, path=target, holder=holder.description, lock_path=holder.lock_path)


def _check_not_busy(target: Path, path: str | os.PathLike[str]) -> None:
    holder = _find_holder(target)
    given = Path(os.path.abspath(os.fspath(path)))
    if holder is None and not _same_file_name(target, given):
        holder = _find_holder(given)
    if holder is not None:
        raise _busy_error(target, holder)


# --------------------------------------------------------------------------- snapshot


@dataclass(frozen=True)
class Snapshot:
    """The version of the workbook that pyxl read."""

    path: Path
    data: bytes = field(repr=False, compare=False)  # the bytes read (the caller holds them)
    size: int
    mtime_ns: int

    @cached_property
    def sha256(self) -> str:
        """Hashed when a save compares it, not at every read: a report reads many workbooks
        and writes none of them."""
        return hashlib.sha256(self.data).hexdigest()


def read_snapshot(path: str | os.PathLike[str]) -> tuple[bytes, Snapshot]:
    """Read the whole workbook once; the snapshot's hash is of exactly these bytes.

    A read that overlaps someone else's in-place save is retried; if the file
    keeps changing, WorkbookChanged.
    """
    target = _target(path)
    for attempt in range(3):
        if attempt:
            time.sleep(0.2)
        with open(target, "rb") as f:
            before = os.fstat(f.fileno())
            data = f.read()
            after = os.fstat(f.fileno())
        if (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns) and len(
            data
        ) == after.st_size:
            return data, Snapshot(target, data, len(data), after.st_mtime_ns)
    raise WorkbookChanged(
        f"{target.name} kept changing while pyxl was reading it (someone is saving it). "
        f"Nothing was written. Wait a moment and run the command again.",
        path=target,
    )


# --------------------------------------------------------------------------- writer lock


def _break_stale_lock(lock: Path, seen: bytes) -> None:
    """Remove the stale lock whose bytes were ``seen``, without ever removing a
    lock that another process has just taken over.

    Renaming is atomic, so exactly one process moves a given lock file aside;
    if what it moved is not the stale lock it judged, it puts it back.
    """
    aside = lock.with_name(f"{lock.name}.{secrets.token_hex(_TOKEN_HEX)}.stale")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return  # someone else broke it first
    try:
        moved = aside.read_bytes()
    except OSError:
        moved = None
    if moved == seen:
        _remove_quietly(aside)
        return
    try:  # a live lock: restore it, never over a newer one
        os.link(aside, lock)
    except FileExistsError:
        return  # a third writer has a fresh lock; leave ours aside for inspection
    except OSError:  # no hard links on this file system
        if not os.path.lexists(lock):
            os.rename(aside, lock)
        return
    _remove_quietly(aside)


def _create_lock(lock: Path, payload: bytes) -> bool:
    """Create ``lock`` holding ``payload``; False if it already exists.

    The record is written to a private file first and hard-linked into place,
    which fails if the lock exists, so no one ever sees an empty lock.
    """
    staging = lock.with_name(f"{lock.name}.{secrets.token_hex(_TOKEN_HEX)}.new")
    _write_new_file(staging, payload, 0o644)
    try:
        os.link(staging, lock)
    except FileExistsError:
        return False
    except OSError:  # no hard links here (some network shares): exclusive create
        try:
            _write_new_file(lock, payload, 0o644)
        except FileExistsError:
            return False
    finally:
        _remove_quietly(staging)
    return True


@contextmanager
def writer_lock(path: str | os.PathLike[str], *, user: str | None = None) -> Iterator[Path]:
    """Hold ``.~pyxl.lock.<name>`` beside the workbook while pyxl changes it.

    The lock appears atomically with its content (hard link of a fully written
    file; O_CREAT|O_EXCL where the file system has no hard links) and holds JSON
    ``{app, user, host, pid, started, token}``. If another pyxl holds it:
    WorkbookBusy naming that user. A lock left by a process on this machine that
    is no longer running is taken over. The lock is removed on exit, also on
    exceptions (only if it is still ours). Not re-entrant. Yields the lock path.
    """
    target = _target(path)
    lock = _pyxl_lock_path(target)
    token = secrets.token_hex(_TOKEN_HEX)
    record = {
        "app": "pyxl",
        "user": user or _current_user(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": datetime.now().astimezone().isoformat(timespec="seconds"),
        "token": token,
    }
    payload = json.dumps(record, ensure_ascii=False).encode("utf-8")
    for attempt in range(20):
        with _os_errors_named(target):
            created = _create_lock(lock, payload)
        if created:
            break
        found = _read_pyxl_lock(lock)
        if found is None:
            continue  # released meanwhile: try again
        seen, existing = found
        if not existing and attempt < 10:
            time.sleep(0.05)  # being written by a pyxl without hard links: wait for it
            continue
        if existing and _lock_is_stale(existing):
            _break_stale_lock(lock, seen)
            continue
        if _lock_is_abandoned(lock, existing):
            _log.warning(
                "pyxl: took over the lock %s, %s old, of %s: it is older than pyxl waits for",
                lock,
                _minutes(_lock_age(lock) or 0.0),
                _describe_lock(existing),
            )
            _break_stale_lock(lock, seen)
            continue
        raise _busy_error(target, _Holder("pyxl", _describe_lock(existing), lock))
    else:
        found = _read_pyxl_lock(lock)
        holder = _describe_pyxl_lock(found[1] if found else {})
        raise _busy_error(target, _Holder("pyxl", holder, lock))
    # No other pyxl can be saving this workbook now: any temp copy beside it is a leftover
    # of a killed save, holding client data.
    with suppress(OSError):
        cleanup_stale_temp_files(target, older_than=0.0)
    try:
        yield lock
    finally:
        found = _read_pyxl_lock(lock)
        if found is not None and found[1].get("token") == token:
            _remove_quietly(lock)


# --------------------------------------------------------------------------- atomic write


def _check_structure(tmp: Path, target: Path) -> None:
    """Built-in check of the temp file before the caller's: never replace a
    workbook with an empty file, a broken zip, or an .xlsm whose content types
    lost the macro-enabled workbook type (Excel refuses to open that)."""
    if tmp.stat().st_size == 0:
        raise ValueError("the new version is empty")
    if target.suffix.lower() not in _OOXML_SUFFIXES:
        return
    try:
        with zipfile.ZipFile(tmp) as archive:
            bad = _damaged_part(archive)
            if bad is not None:
                raise ValueError(f"the new version is damaged (part {bad})")
            try:
                content_types = archive.read("[Content_Types].xml")
            except KeyError:
                raise ValueError("the new version is not an Excel workbook") from None
    except zipfile.BadZipFile as err:
        raise ValueError(f"the new version is not a valid workbook ({err})") from None
    if target.suffix.lower() in _MACRO_SUFFIXES and b"macroEnabled" not in content_types:
        raise ValueError(
            f"the new version is not macro-enabled, so Excel would refuse to open it as "
            f"{target.suffix} (was it saved without keep_vba=True?)"
        )


def _damaged_part(archive: zipfile.ZipFile) -> str | None:
    """The first member that does not inflate to its CRC-32, like ZipFile.testzip (on the fast
    path with ISA-L: twice as fast on the hundreds of megabytes of a big workbook's sheets)."""
    for info in archive.infolist():
        try:
            check_member(archive, info.filename)
        except (zipfile.BadZipFile, *speed.ZLIB_ERRORS):
            return info.filename
    return None


def _check(tmp: Path, target: Path, verify: Callable[[Path], None] | None) -> None:
    """The built-in check and the caller's, side by side: the built-in one inflates every
    part without holding the GIL. Its failure is the one reported when both fail."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        structure = pool.submit(_check_structure, tmp, target)
        try:
            if verify is not None:
                verify(tmp)
        finally:
            structure.result()


def _temp_path(target: Path) -> Path:
    """``.<name>.<16 hex>.tmp<suffix>``: hidden on POSIX, never mistaken for
    the workbook, and still ending in the workbook's suffix."""
    return target.with_name(f".{target.name}.{secrets.token_hex(_TOKEN_HEX)}.tmp{target.suffix}")


def _temp_pattern(target: Path) -> re.Pattern[str]:
    return re.compile(
        r"\." + re.escape(target.name) + r"\.[0-9a-f]{16}\.tmp(?:" + re.escape(target.suffix) + ")?"
    )


def _verify_failed(target: Path, tmp: Path, reason: str) -> VerifyFailed:
    gone = _remove_quietly(tmp)
    leftover = "" if gone else f" (the temporary file {tmp} could not be removed yet)"
    return VerifyFailed(
        f"The new version of {target.name} failed its check: {reason}. Nothing was replaced: "
        f"the workbook on disk is unchanged and the new version was discarded{leftover}.",
        path=target,
    )


def _changed_error(target: Path, what: str = "changed on disk") -> WorkbookChanged:
    return WorkbookChanged(
        f"{target.name} {what} since pyxl read it (someone else saved it meanwhile). "
        f"Nothing was written. Run the command again so that it works on the current version.",
        path=target,
    )


def _read_if_unchanged(target: Path, expected: Snapshot) -> tuple[bytes, os.stat_result]:
    """The workbook's current bytes, if they are still the expected version."""
    try:
        with open(target, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_size != expected.size or st.st_mtime_ns != expected.mtime_ns:
                raise _changed_error(target)
            current = f.read()
    except FileNotFoundError:
        raise _changed_error(target, "was moved or deleted") from None
    if len(current) != expected.size or hashlib.sha256(current).hexdigest() != expected.sha256:
        raise _changed_error(target)
    return current, st


def _check_still_same_file(target: Path, expected: Snapshot, seen: os.stat_result) -> None:
    try:
        st = os.stat(target)
    except FileNotFoundError:
        raise _changed_error(target, "was moved or deleted") from None
    if (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev) != (
        expected.size,
        expected.mtime_ns,
        seen.st_ino,
        seen.st_dev,
    ):
        raise _changed_error(target)


def _backup_pattern(target: Path) -> re.Pattern[str]:
    return re.compile(re.escape(target.stem) + r"\.\d{8}-\d{6}-\d{6}" + re.escape(target.suffix))


def _write_backup(target: Path, current: bytes, st: os.stat_result) -> Path:
    """Copy of the current version in .pyxl-backups/<stem>.<UTC time><suffix>,
    with the workbook's permission bits and modification time."""
    folder = target.parent / BACKUP_DIR_NAME
    folder.mkdir(exist_ok=True)
    for _attempt in range(100):
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        backup = folder / f"{target.stem}.{stamp}{target.suffix}"
        try:
            _write_new_file(backup, current)
        except FileExistsError:
            time.sleep(0.001)
            continue
        break
    else:  # pragma: no cover - 100 collisions in a row
        raise FileExistsError(f"could not create a backup name in {folder}")
    os.utime(backup, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.chmod(backup, stat.S_IMODE(st.st_mode))
    _fsync_dir(folder)
    return backup


def _rotate_backups(target: Path, newest: Path, keep: int) -> None:
    """Keep ``newest`` and the keep-1 latest other backups of this workbook
    (by the time in their names). ``newest`` is never deleted, even if a clock
    that went back (or another PC's clock) gave it an older-looking name."""
    folder = newest.parent
    pattern = _backup_pattern(target)
    try:
        names = sorted(e.name for e in os.scandir(folder) if pattern.fullmatch(e.name))
        names.remove(newest.name)
    except (OSError, ValueError):
        return
    for name in names[: max(len(names) - (keep - 1), 0)]:
        _remove_quietly(folder / name)


def _replace_with_retries(tmp: Path, target: Path) -> None:
    for delay in (*REPLACE_RETRY_DELAYS, None):
        try:
            _replace(tmp, target)
        except PermissionError as err:
            if delay is None:
                raise WorkbookBusy(
                    f"Could not replace {target.name} ({err.strerror or err}). Another program "
                    f"may have it open (Excel, an antivirus scan, the search indexer), or you "
                    f"may not be allowed to change files in {target.parent}. Nothing was "
                    f"written; the workbook is unchanged. Close the workbook in "
                    f"Excel/LibreOffice and try again.",
                    path=target,
                    holder="another program",
                    lock_path=None,
                ) from err
            time.sleep(delay)
        else:
            return


def atomic_write(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    expected: Snapshot,
    verify: Callable[[Path], None] | None = None,
    backups: int = 5,
) -> Path | None:
    """Replace the workbook with ``data`` atomically, if it is still ``expected``.

    Returns the backup of the replaced version (None when ``backups`` is 0).
    Raises WorkbookBusy (open in Excel/LibreOffice, another pyxl, or the replace
    kept failing), WorkbookReadOnly, VerifyFailed (built-in zip check or
    ``verify(tmp_path)`` raised), WorkbookChanged or SaveFailed (the system refused a
    write: a full disk, a read-only folder); in every case the workbook
    is unchanged and the temp file is removed. Take :func:`writer_lock` around
    read_snapshot ... atomic_write so that two pyxl writers queue up.
    """
    with _os_errors_named(_target(path)):
        return _atomic_write(path, data, expected=expected, verify=verify, backups=backups)


def _atomic_write(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    expected: Snapshot,
    verify: Callable[[Path], None] | None,
    backups: int,
) -> Path | None:
    if backups < 0:
        raise ValueError("backups must be 0 or more")
    target = _target(path)
    if not _same_file_name(_target(expected.path), target):
        raise ValueError(f"the snapshot is of {expected.path}, not of {target}")
    # (1) nobody may have it open
    _check_not_busy(target, path)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        raise _changed_error(target, "was moved or deleted") from None
    if mode & 0o222 == 0 or not os.access(target, os.W_OK):
        raise WorkbookReadOnly(
            f"{target.name} is marked read-only, so pyxl will not change it. Nothing was "
            f"written. If it should be editable, ask whoever manages the folder.",
            path=target,
        )
    with suppress(OSError):
        cleanup_stale_temp_files(target)
    # (2) the new version goes to a temp file in the same folder (same volume)
    tmp = _temp_path(target)
    _write_new_file(tmp, data)
    backup: Path | None = None
    replaced = False
    try:
        # (3) check it
        try:
            _check(tmp, target, verify)
        except Exception as err:
            raise _verify_failed(target, tmp, str(err) or type(err).__name__) from err
        # (4) the workbook must still be the version that was read, and not open
        current, seen = _read_if_unchanged(target, expected)
        _check_not_busy(target, path)
        # (5) keep a copy of it
        if backups:
            backup = _write_backup(target, current, seen)
        del current
        # (6) swap
        _check_still_same_file(target, expected, seen)
        os.chmod(tmp, stat.S_IMODE(seen.st_mode))
        _replace_with_retries(tmp, target)
        replaced = True
    finally:
        if not replaced:
            _remove_quietly(tmp)
            if backup is not None:  # a refused save must not push out older backups
                _remove_quietly(backup)
    _fsync_dir(target.parent)
    if backup is not None:
        _rotate_backups(target, backup, backups)
    return backup


def cleanup_stale_temp_files(
    path: str | os.PathLike[str], *, older_than: float = STALE_TEMP_SECONDS
) -> list[Path]:
    """Remove ``.<name>.<random>.tmp<suffix>`` files beside the workbook older
    than ``older_than`` seconds (left by a killed save; they hold client data).
    Younger ones may belong to a save in progress and are kept. Returns the
    removed paths."""
    target = _target(path)
    pattern = _temp_pattern(target)
    now = time.time()
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if now - entry.stat(follow_symlinks=False).st_mtime <= older_than:
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed
