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
import gc
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from pyxl.adapters import speed, workbook_reader
from pyxl.adapters.safe_save import SafeSaveError
from pyxl.adapters.workbook_reader import WorkbookUnreadable
from pyxl.services.report import Part, Unreadable, reduce_workbook

Outcome = tuple[Any, str | None]  # the result, or why the workbook was left out


def guarded(work: Callable[..., Any], path: Path, *args: Any) -> Outcome:
    """`work(path, *args)`, or the reason the workbook cannot be read (for the user)."""
    try:
        return work(Path(path), *args), None
    except (WorkbookUnreadable, SafeSaveError) as exc:
        return None, str(exc)
    except OSError as exc:
        return None, exc.strerror or str(exc)


def each_workbook(
    paths: Sequence[Path],
    work: Callable[..., Any],
    *args: Any,
    scheduler: str | None = None,
    workers: int | None = None,
) -> Iterator[tuple[Path, Any, Unreadable | None]]:
    """(path, work(path, *args), None) per workbook in the order given, or (path, None, why)
    for one that cannot be read. In this process for one workbook; in a pool of processes
    for several; on the Dask cluster at `scheduler` when given. `work` must be importable
    (a module-level function): it runs in other processes."""
    if scheduler:
        outcomes: Iterable[Outcome] = _on_dask(paths, work, args, scheduler)
    else:
        outcomes = _in_processes(paths, work, args, workers)
    for path, (result, reason) in zip(paths, outcomes, strict=True):
        why = None if reason is None else Unreadable(Path(path), reason)
        yield Path(path), result, why


def reduce_all(
    paths: Sequence[Path],
    as_of: dt.date,
    detail: bool = False,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[Part], list[Unreadable]]:
    """Every workbook's part, in the order given, and the workbooks left out (with why). The
    client lists come back with the report's lists for one workbook; for several, only with
    the detail (`detail`), so what comes back from each stays small."""
    note = progress or (lambda _: None)
    parts, skipped = [], []
    one = len(paths) == 1
    for path, part, why in each_workbook(
        paths, reduce_workbook, as_of, detail, one, scheduler=scheduler, workers=workers
    ):
        note(f"read {path.name}" if why is None else f"left out {path.name}")
        if why is None:
            parts.append(part)
        else:
            skipped.append(why)
    return parts, skipped


def _in_processes(
    paths: Sequence[Path], work: Callable[..., Any], args: tuple, workers: int | None
) -> Iterator[Outcome]:
    count = min(len(paths), workers or os.cpu_count() or 1)
    if count <= 1:
        return (guarded(work, p, *args) for p in paths)
    # fork: the workers start with pyxl already imported (no threads run yet here).
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(
        count, mp_context=multiprocessing.get_context(method), initializer=_one_reader
    )

    def results() -> Iterator[Outcome]:
        with pool:
            # One workbook per task: a worker holds one workbook at a time. The biggest go
            # first, so that no worker is left with a big one while the others wait.
            futures = {
                k: pool.submit(guarded, work, paths[k], *args) for k in _biggest_first(paths)
            }
            for k in range(len(paths)):
                yield futures[k].result()

    return results()


def _biggest_first(paths: Sequence[Path]) -> list[int]:
    def size(k: int) -> int:
        try:
            return os.stat(paths[k]).st_size
        except OSError:  # named with its reason when its turn comes
            return 0

    return sorted(range(len(paths)), key=size, reverse=True)


def _one_reader() -> None:
    """A pool's process reads its workbook in one thread: the processes already keep every
    core busy, and each more reading thread would parse the shared strings again. It keeps
    the memory it frees: each workbook takes about as much as the one before (half the
    page faults, a tenth of a second of system time per workbook)."""
    workbook_reader.MAX_READERS = 1
    speed.keep_freed_memory()
    gc.freeze()  # what the worker starts with stays: collections skip it (pyxl's modules)


def _on_dask(
    paths: Sequence[Path], work: Callable[..., Any], args: tuple, address: str
) -> list[Outcome]:
    from distributed import Client

    with Client(address) as client:
        futures = [client.submit(guarded, work, str(p), *args, pure=False) for p in paths]
        return client.gather(futures)
