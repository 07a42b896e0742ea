"""Two pyxl writers on one workbook at the same moment (issue 15, item 5).

Each pair of writers that can change a caseload workbook (recompute, letters, import-history,
and each of them against itself: two clerks printing the day's letters) is started in two
processes released by one barrier, ROUNDS times on a fresh copy. Every time, each writer
either succeeds or is refused with a message saying nothing was written and what to do;
every edit a writer reports is in the file afterwards (no edit lost, no letter logged
twice), and the file still opens. The tally is printed for the README's reliability table.
All data is made up.
"""

from __future__ import annotations

import datetime as dt
import io
import multiprocessing
import os
import shutil
import signal
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import python_calamine

from pyxl.adapters import schema
from pyxl.adapters.safe_save import SafeSaveError, writer_lock
from pyxl.services import demo_data
from pyxl.services.history import import_history
from pyxl.services.letters import run_letters
from pyxl.services.new_workbook import create_workbook
from pyxl.services.recompute import recompute

AS_OF = demo_data.AS_OF
ROUNDS = 5
PAIRS = [
    ("recompute", "letters"),
    ("recompute", "import-history"),
    ("letters", "import-history"),
    ("recompute", "recompute"),
    ("letters", "letters"),
    ("import-history", "import-history"),
]
TALLY: Counter[str] = Counter()


def rows(data: bytes, sheet: str) -> int:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    values = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    return sum(1 for r in values[schema.HEADER_ROW :] if any(v != "" for v in r))


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A caseload never recomputed (its Due List is empty) and another branch's workbook
    holding the history of one of its people."""
    folder = tmp_path_factory.mktemp("concurrent")
    data = demo_data.generate(30, as_of=AS_OF)
    target = create_workbook(folder / "caseload.xlsx", as_of=AS_OF, rows=data)
    person = dict(zip(schema.CLIENTS.headers, data["Clients"][0], strict=True))
    moved = {**person, "Case ID": "FB-1", "Branch": "Fairbanks"}
    events = [
        {"Case ID": "FB-1", "Date": dt.date(2026, 5, 4), "Event": "Missed activity"},
        {"Case ID": "FB-1", "Date": dt.date(2026, 6, 8), "Event": "Missed activity"},
    ]
    source = create_workbook(
        folder / "fairbanks.xlsx",
        as_of=AS_OF,
        rows={
            "Branches": [
                [
                    {"Branch": "Fairbanks", "State": "AK", "Calendar": "AK"}.get(h)
                    for h in schema.BRANCHES.headers
                ]
            ],
            "Clients": [[moved.get(h) for h in schema.CLIENTS.headers]],
            "Noncompliance": [[e.get(h) for h in schema.NONCOMPLIANCE.headers] for e in events],
        },
    )
    return target, source


def writers(source: Path) -> dict[str, Callable[[Path], int]]:
    """Each writer, returning how many rows it reports adding (recompute: 0)."""

    def letters(path: Path) -> int:
        return run_letters(path, AS_OF, out_dir=path.parent / f"letters-{os.getpid()}").logged

    def history(path: Path) -> int:
        return import_history(source, path, AS_OF).added

    def refresh(path: Path) -> int:
        recompute(path, AS_OF)
        return 0

    return {"recompute": refresh, "letters": letters, "import-history": history}


def _race(name: str, path: Path, source: Path, barrier, results) -> None:  # type: ignore[no-untyped-def]
    write = writers(source)[name]
    barrier.wait()
    try:
        results.put((name, "ok", write(path)))
    except SafeSaveError as exc:
        results.put((name, "refused", str(exc)))
    except BaseException as exc:  # reported to the parent as a failure
        results.put((name, "crashed", repr(exc)))


def race(pair: tuple[str, str], path: Path, source: Path) -> list[tuple[str, str, object]]:
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    processes = [ctx.Process(target=_race, args=(n, path, source, barrier, results)) for n in pair]
    for p in processes:
        p.start()
    outcomes = [results.get(timeout=300) for _ in processes]
    for p in processes:
        p.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("pair", PAIRS, ids="+".join)
def test_two_writers_at_once_never_lose_an_edit(
    pair: tuple[str, str], books: tuple[Path, Path], tmp_path: Path
) -> None:
    target, source = books
    before = target.read_bytes()
    for k in range(ROUNDS):
        path = Path(shutil.copy(target, tmp_path / f"round{k}.xlsx"))
        outcomes = race(pair, path, source)
        crashed = [o for o in outcomes if o[1] == "crashed"]
        assert not crashed, crashed
        done = [o for o in outcomes if o[1] == "ok"]
        assert done, outcomes  # one of them always gets the workbook
        for _, _, message in (o for o in outcomes if o[1] == "refused"):
            assert "Nothing was" in str(message) and "try again" in str(message), message
        data = path.read_bytes()
        zipfile.ZipFile(io.BytesIO(data)).testzip()
        added = Counter()
        for name, _, count in done:
            added[name] += int(count)  # type: ignore[call-overload]
        if "recompute" in added:
            assert rows(data, "Due List") > 0
        assert rows(data, "Letters") == rows(before, "Letters") + added["letters"]
        assert (
            rows(data, "Noncompliance") == rows(before, "Noncompliance") + added["import-history"]
        )
        if len(done) == 1 or pair[0] != pair[1]:  # a fresh copy: each writer has work to do
            assert all(count for name, _, count in done if name != "recompute"), outcomes
        TALLY["races"] += 1
        TALLY["refused"] += len(outcomes) - len(done)
        TALLY["both succeeded"] += len(done) == 2
    print(f"\n{'+'.join(pair)}: {dict(TALLY)}")


def _killed_holding_the_lock(path: Path) -> None:
    with writer_lock(path):
        os.kill(os.getpid(), signal.SIGKILL)


def test_a_lock_left_by_a_killed_writer_is_cleared_or_explained(
    books: tuple[Path, Path], tmp_path: Path
) -> None:
    """kill -9 while holding the lock: the next run takes over the stale lock, or is refused
    with a message saying how to clear it."""
    path = Path(shutil.copy(books[0], tmp_path / "caseload.xlsx"))
    ctx = multiprocessing.get_context("fork")
    killed = ctx.Process(target=_killed_holding_the_lock, args=(path,))
    killed.start()
    killed.join(timeout=60)
    assert killed.exitcode == -signal.SIGKILL
    assert list(tmp_path.glob(".~pyxl.lock.*"))  # the lock was left behind
    try:
        recompute(path, AS_OF)
    except SafeSaveError as exc:
        assert "delete" in str(exc) and ".~pyxl.lock." in str(exc), exc
    else:
        assert rows(path.read_bytes(), "Due List") > 0
