"""Files a button made (the letters' PDF, the report), kept on the server for one download.

A button's script runs inside Excel's request and can only send actions back, so a
file it makes is kept here under an unguessable id and the task pane fetches it
from the add-in's download route (addin/routers/custom.py, signed in like every
call). A file is served once, then deleted; files not fetched within an hour go
too. The folder is on disk, so several workers on one machine share it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DATA_VARIABLE = "PYXL_SERVER_DATA"  # the server's own folder: downloads and the audit file
KEEP_SECONDS = 3600
_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")


def data_dir() -> Path:
    """The server's folder (PYXL_SERVER_DATA, else ~/.pyxl-server), private to its user."""
    folder = Path(os.environ.get(DATA_VARIABLE) or Path.home() / ".pyxl-server")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _downloads() -> Path:
    folder = data_dir() / "downloads"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


@dataclass(frozen=True)
class Download:
    id: str
    filename: str  # the name the user's browser saves it under
    media_type: str


def offer(source: Path, filename: str, media_type: str) -> Download:
    """Move a made file into the store; its id is the only way to fetch it."""
    folder = _downloads()
    _forget_old(folder)
    file_id = secrets.token_urlsafe(24)  # 32 characters, 192 random bits
    target = folder / file_id
    shutil.move(source, target)
    os.chmod(target, 0o600)
    meta = {"filename": filename, "media_type": media_type}
    (folder / f"{file_id}.json").write_text(json.dumps(meta), encoding="utf-8")
    return Download(file_id, filename, media_type)


def take(file_id: str) -> tuple[bytes, Download] | None:
    """The file and its name, removed from the store; None for an unknown or used id."""
    if not _ID.match(file_id):
        return None
    folder = _downloads()
    claimed = folder / f"{file_id}.{secrets.token_hex(4)}.taken"
    try:  # the rename is atomic: of two requests for one id, one gets the file
        os.rename(folder / file_id, claimed)
    except FileNotFoundError:
        return None
    try:
        meta = json.loads((folder / f"{file_id}.json").read_text(encoding="utf-8"))
        return claimed.read_bytes(), Download(file_id, meta["filename"], meta["media_type"])
    finally:
        claimed.unlink(missing_ok=True)
        (folder / f"{file_id}.json").unlink(missing_ok=True)


def _forget_old(folder: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:  # another worker removed it first
            continue


def work_dir() -> Path:
    """A private scratch folder for one button's files (the caller removes it)."""
    return Path(tempfile.mkdtemp(prefix="work-", dir=data_dir()))
