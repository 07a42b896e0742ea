"""Reduce many caseload workbooks to report `Part`s: one at a time, in worker processes,
or on a Dask distributed cluster.

Workbooks are independent, so each is read, evaluated and reduced where it is read;
only the small reduced tables travel back and the workbook is dropped. One workbook is
reduced in this process (the plain path); several go to a process pool; `scheduler`
sends them to the Dask cluster at that address, whose workers must see the same paths
(the office's file share).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pyxl.adapters.safe_save import SafeSaveError
from pyxl.adapters.workbook_reader import WorkbookUnreadable
from pyxl.services.report import Part, Unreadable, reduce_workbook

Outcome = tuple[Part | None, str | None]  # the part, or why the workbook was left out


def reduce_or_reason(path: Path, as_of: dt.date, detail: bool = False) -> Outcome:
    """A workbook's part, or the reason it cannot be read (a message for the user)."""
    try:
        return reduce_workbook(Path(path), as_of, detail), None
    except (WorkbookUnreadable, SafeSaveError, zipfile.BadZipFile) as exc:
        return None, str(exc)
    except OSError as exc:
        return None, exc.strerror or str(exc)


def reduce_all(
    paths: Sequence[Path],
    as_of: dt.date,
    detail: bool = False,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[Part], list[Unreadable]]:
    """Every workbook's part, in the order given, and the workbooks left out (with why)."""
    note = progress or (lambda _: None)
    if scheduler:
        outcomes = _on_dask(paths, as_of, detail, scheduler)
    else:
        outcomes = _in_processes(paths, as_of, detail, workers)
    parts, skipped = [], []
    for path, (part, reason) in zip(paths, outcomes, strict=True):
        note(f"read {Path(path).name}" if part else f"left out {Path(path).name}")
        if part is None:
            skipped.append(Unreadable(Path(path), reason or "unreadable"))
        else:
            parts.append(part)
    return parts, skipped


def _in_processes(
    paths: Sequence[Path], as_of: dt.date, detail: bool, workers: int | None
) -> Iterator[Outcome]:
    count = min(len(paths), workers or os.cpu_count() or 1)
    if count <= 1:
        return (reduce_or_reason(p, as_of, detail) for p in paths)
    # fork: the workers start with pyxl already imported (no threads run yet here).
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context(method))

    def results() -> Iterator[Outcome]:
        with pool:
            # One workbook per task: a worker holds one workbook at a time.
            yield from pool.map(reduce_or_reason, paths, [as_of] * len(paths),
                                [detail] * len(paths))  # fmt: skip

    return results()


def _on_dask(paths: Sequence[Path], as_of: dt.date, detail: bool, address: str) -> list[Outcome]:
    from distributed import Client

    with Client(address) as client:
        futures = client.map(
            reduce_or_reason, [str(p) for p in paths], as_of=as_of, detail=detail, pure=False
        )
        return client.gather(futures)
