"""Output paths that never overwrite what is not pyxl's.

`pyxl report --out other-branch.xlsx` once replaced another office's caseload workbook
without a word. Every file pyxl writes where the user points (`--out`) goes through
`claim_file` first: a missing file, or one pyxl wrote earlier for the same purpose (told by
its document title), may be written; anything else is refused with a message naming it,
unless the user says `--force`, and then a copy is kept in `.pyxl-backups/` beside it.
A folder given for letters must be a folder (`claim_folder`); a folder given for the export
may hold only its own earlier files under the names it writes (`claim_folder_files`; its
Parquet files carry PARQUET_MARK in their metadata).
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from pyxl.adapters.safe_save import BACKUP_DIR_NAME, SafeSaveError
from pyxl.errors import UserError, describe_os_error

# The document title each kind of pyxl output carries (docProps/core.xml), by purpose.
TITLES = {
    "report": "pyxl supervisor report",
    "export": "pyxl export",
}
CASELOAD_SHEETS = {"Clients", "Due List", "Errors"}
# The key-value metadata a Parquet file pyxl writes carries: the purpose, then ":", the table.
PARQUET_MARK = b"pyxl:export"
_TITLE = re.compile(rb"<dc:title>([^<]*)</dc:title>")
_SHEET_NAME = re.compile(rb'<sheet [^>]*?name="([^"]*)"')


def what_it_is(path: Path) -> str:
    """'caseload' (a caseload workbook, by its sheets), a purpose of TITLES, or 'other'."""
    if _is_parquet(path):
        return "export" if _marked(path) else "other"
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            book = archive.read("xl/workbook.xml") if "xl/workbook.xml" in names else b""
            core = archive.read("docProps/core.xml") if "docProps/core.xml" in names else b""
    except (OSError, zipfile.BadZipFile, KeyError):
        return "other"
    sheets = {m.decode("utf-8", "replace") for m in _SHEET_NAME.findall(book)}
    if sheets >= CASELOAD_SHEETS:
        return "caseload"
    title = _TITLE.search(core)
    text = title[1].decode("utf-8", "replace") if title else ""
    for purpose, prefix in TITLES.items():
        if text.startswith(prefix):
            return purpose
    return "other"


def claim_file(path: Path, purpose: str, *, force: bool = False) -> Path | None:
    """May pyxl write its `purpose` output (a key of TITLES) at `path`? UserError if not;
    with `force`, a copy of what is there is kept first and its path returned."""
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_dir():
        raise UserError(f"{path} is a folder; the {purpose} is a file: give a file name for --out.")
    found = what_it_is(path)
    if found == purpose:
        return None
    described = {
        "caseload": "a caseload workbook",
        "other": f"a file pyxl did not write as a {purpose}",
    }.get(found, f"a pyxl {found}, not a {purpose}")
    if not force:
        raise UserError(
            f"{path} already exists and is {described}: pyxl will not overwrite it. "
            f"Choose another --out, or add --force to replace it (a copy is kept in "
            f"{BACKUP_DIR_NAME})."
        )
    return keep_copy(path)


def _is_parquet(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(4) == b"PAR1"
    except OSError:
        return False


def _marked(path: Path) -> bool:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException):
        return False
    return PARQUET_MARK in metadata


def claim_folder_files(
    folder: Path, names: Iterable[str], purpose: str, *, force: bool = False
) -> dict[Path, Path]:
    """May pyxl write its `purpose` files `names` into `folder`? It must be a folder (or
    missing), and each of `names` already there must be pyxl's own `purpose` output;
    UserError if not, naming them. With `force`, a copy of each is kept first (returned by
    file). Other files in the folder are never touched, so they do not matter."""
    claim_folder(folder, f"the {purpose} files")
    there = [folder / n for n in names if (folder / n).exists() or (folder / n).is_symlink()]
    foreign = [p for p in there if what_it_is(p) != purpose]
    if not foreign:
        return {}
    if not force:
        listed = ", ".join(p.name for p in foreign)
        raise UserError(
            f"{folder} already holds {listed}, which pyxl did not write as its {purpose}: "
            f"pyxl will not overwrite {'it' if len(foreign) == 1 else 'them'}. Choose another "
            f"--out, or add --force to replace them (a copy is kept in {BACKUP_DIR_NAME})."
        )
    return {p: keep_copy(p) for p in foreign}


def keep_copy(path: Path) -> Path:
    """Copy `path` into .pyxl-backups/ beside it, named with the time, before it is replaced."""
    folder = path.parent / BACKUP_DIR_NAME
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    backup = folder / f"{path.stem}.{stamp}{path.suffix}"
    shutil.copy2(path, backup)
    return backup


def claim_folder(path: Path, what: str) -> None:
    """A folder pyxl writes `what` into must be a folder (it is made if missing)."""
    if path.exists() and not path.is_dir():
        raise UserError(
            f"{path} is a file, not a folder: {what} go into a folder. Give a folder for --out "
            "(it is made if missing)."
        )


@contextmanager
def removed_unless_done(folder: Path, what: str, why: str) -> Iterator[None]:
    """Files the block makes in `folder` are removed if it fails (a full disk, a workbook
    that cannot be saved, Ctrl+C): `what` made but not finished (`why`) must not be used.
    A failure that leaves files behind is told as a `UserError` naming them."""
    existed = folder.is_dir()
    before = set(os.listdir(folder)) if existed else set()
    try:
        yield
    except BaseException as exc:
        made = sorted(set(os.listdir(folder)) - before) if folder.is_dir() else []
        left = [name for name in made if not _removed(folder / name)]
        if not existed:
            with suppress(OSError):
                folder.rmdir()
        if not made or not isinstance(exc, OSError | SafeSaveError):
            raise
        cause = (
            f"nothing was written: {exc}"
            if isinstance(exc, SafeSaveError)
            else describe_os_error(exc, folder)
            if isinstance(exc, OSError)
            else str(exc)
        )
        if left:
            kept = ", ".join(left[:3]) + (" ..." if len(left) > 3 else "")
            done = (
                f" The {what} made in {folder} could not all be removed ({kept}): do not use "
                f"them ({why}); delete them."
            )
        else:
            done = f" The {len(made)} {what} files made in {folder} were removed ({why})."
        raise UserError(cause + done) from exc


def _removed(path: Path) -> bool:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError:
        return False
    return True
