"""The sheets a button reads, sent by the task pane in pieces, and writes sent back in pages.

Excel on the web caps each Office.js request and response at 5 MB, and a reverse proxy
may cap a request body lower; the whole book of a branch passes that. So the task
pane reads only the sheets and columns a button declares (pyxl.excel.buttons), in
row blocks, and posts them in pieces under the request limit to the add-in's upload
route; the button's script then gets the upload's id and reads the pieces. Writes
that would pass the limit go back in pages, each fetched by the pane in turn.

Pieces and pages are kept on disk under the server's folder (like downloads), so
several workers on one machine share them; each is used once, and anything left
behind goes after an hour.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic_core
from pydantic import BaseModel, Field

from pyxl.excel.downloads import KEEP_SECONDS, data_dir

LIMIT_VARIABLE = "PYXL_REQUEST_LIMIT"
DEFAULT_LIMIT = 4_000_000  # bytes: under Excel on the web's 5 MB, with room for the envelope
_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")


def request_limit() -> int:
    """The largest request or response body the pane and the scripts make, in bytes."""
    try:
        return max(int(os.environ.get(LIMIT_VARIABLE, DEFAULT_LIMIT)), 100_000)
    except ValueError:
        return DEFAULT_LIMIT


class Piece(BaseModel):
    """A block of rows of one sheet: cells as Office.js reads them (dates as serials)."""

    sheet: str
    first_row: int = Field(ge=0)  # 0-based sheet row of rows[0]
    first_column: int = Field(ge=0, le=16_383)  # 0-based sheet column of each row's first cell
    rows: list[list[Any]]


class Posted(BaseModel):
    """One upload request: pieces, and the Case IDs on the rows the user selected."""

    pieces: list[Piece] = []
    selected: list[str] | None = None


@dataclass
class Upload:
    grids: dict[str, list[list[Any]]] = field(default_factory=dict)  # sheet -> cells from A1
    selected: list[str] | None = None
    digest: str = ""  # of the posted bodies: the same cells sent again, the same digest


def _folder(kind: str) -> Path:
    folder = data_dir() / kind
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def start() -> str:
    """A new upload's id (unguessable: it is the only way to use the upload)."""
    folder = _folder("uploads")
    _forget_old(folder)
    upload_id = secrets.token_urlsafe(24)
    (folder / upload_id).mkdir(mode=0o700)
    return upload_id


def add(upload_id: str, body: bytes) -> bool:
    """Keep one posted body as it came (read when the script runs); False if unknown."""
    if not _ID.match(upload_id):
        return False
    target = _folder("uploads") / upload_id
    if not target.is_dir():
        return False
    (target / f"{time.time_ns()}-{secrets.token_hex(4)}.json").write_bytes(body)
    return True


def take(upload_id: str) -> Upload | None:
    """The upload's sheets (removed from the store); None for an unknown or used id."""
    if not _ID.match(upload_id):
        return None
    folder = _folder("uploads")
    claimed = folder / f"{upload_id}.{secrets.token_hex(4)}.taken"
    try:  # atomic: of two scripts given one id, one gets the upload
        os.rename(folder / upload_id, claimed)
    except FileNotFoundError:
        return None
    bodies = []
    try:
        bodies = [path.read_bytes() for path in sorted(claimed.iterdir())]
    finally:
        shutil.rmtree(claimed, ignore_errors=True)
    posted = [_posted(body) for body in bodies]
    hashed = hashlib.blake2b(digest_size=20)
    for body in sorted(bodies):
        hashed.update(len(body).to_bytes(8, "big"))
        hashed.update(body)
    upload = Upload(digest=hashed.hexdigest())
    pieces = sorted((p for b in posted for p in b.pieces), key=lambda p: (p.sheet, p.first_row))
    for piece in pieces:
        grid = upload.grids.setdefault(piece.sheet, [])
        if len(grid) < piece.first_row:
            grid.extend([[]] * (piece.first_row - len(grid)))
        del grid[piece.first_row :]  # a block sent twice counts once
        lead = [None] * piece.first_column
        grid.extend([lead + row for row in piece.rows] if lead else piece.rows)
    for b in posted:
        if b.selected is not None:
            upload.selected = b.selected
    return upload


def _posted(body: bytes) -> Posted:
    """One posted body as Posted. The JSON is parsed once by pydantic's parser (in Rust) and
    the envelope checked; the cells are not checked again one by one (any JSON value is a
    cell), only that each row is a list. A body that is not so is checked whole, to say why."""
    try:
        data = pydantic_core.from_json(body)
        rows = [piece.pop("rows") for piece in data.get("pieces", [])]
        if not all(type(block) is list and all(type(r) is list for r in block) for block in rows):
            raise ValueError("a piece's rows are not lists")
        for piece in data.get("pieces", []):
            piece["rows"] = []
        posted = Posted.model_validate(data)
        for piece, block in zip(posted.pieces, rows, strict=True):
            piece.rows = block
        return posted
    except (ValueError, TypeError, AttributeError, KeyError):
        return Posted.model_validate_json(body)  # raises, saying what is wrong


# ---------------------------------------------------------------- progress


def progress(upload_id: str) -> Callable[[str], None]:
    """A script's step recorder for the upload it works on: the task pane asks for the
    latest step (step_of) while the script runs. On disk, so any worker can answer."""
    if not _ID.match(upload_id):
        return lambda _: None
    folder = _folder("progress")
    _forget_old(folder)
    target = folder / upload_id

    def note(step: str) -> None:
        temporary = target.with_suffix(f".{secrets.token_hex(4)}.tmp")
        temporary.write_text(step, encoding="utf-8")
        os.replace(temporary, target)  # a reader sees the old step or the new, whole

    return note


def step_of(upload_id: str) -> str | None:
    """The latest step the script working on this upload recorded; None before any."""
    if not _ID.match(upload_id):
        return None
    try:
        return (_folder("progress") / upload_id).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


# ---------------------------------------------------------------- pages of writes


def keep_pages(pages: list[str]) -> str:
    """Keep the writes that did not fit in the response (each page a JSON list of actions);
    returns the key to fetch them."""
    folder = _folder("pages")
    _forget_old(folder)
    key = secrets.token_urlsafe(24)
    (folder / key).mkdir(mode=0o700)
    for n, page in enumerate(pages):
        (folder / key / f"{n:06d}.json").write_text(page, encoding="utf-8")
    return key


def next_page(key: str) -> tuple[list[dict[str, Any]], int] | None:
    """The next page of writes and how many remain after it; None if none is kept."""
    if not _ID.match(key):
        return None
    folder = _folder("pages") / key
    pages = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not pages:
        return None
    claimed = pages[0].with_suffix(f".{secrets.token_hex(4)}.taken")
    try:
        os.rename(pages[0], claimed)
    except FileNotFoundError:
        return None
    page = json.loads(claimed.read_text(encoding="utf-8"))
    claimed.unlink(missing_ok=True)
    if len(pages) == 1:
        shutil.rmtree(folder, ignore_errors=True)
    return page, len(pages) - 1


def _forget_old(folder: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        except FileNotFoundError:  # another worker removed it first
            continue
