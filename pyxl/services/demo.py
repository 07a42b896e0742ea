"""`pyxl demo`: a realistic synthetic caseload, built into a workbook and recomputed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pyxl.services import demo_data
from pyxl.services.new_workbook import create_workbook
from pyxl.services.recompute import Progress, RecomputeResult, recompute

DEMO_FILE = "caseload-demo.xlsx"


@dataclass
class DemoResult:
    path: Path
    result: RecomputeResult
    clients: int
    rows: dict[str, int]


def run_demo(
    directory: Path,
    *,
    as_of: dt.date = demo_data.AS_OF,
    n_clients: int = 600,
    progress: Progress | None = None,
) -> DemoResult:
    note = progress or (lambda _: None)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / DEMO_FILE
    note("generating the caseload")
    # A few typing mistakes are put in on purpose, so the Errors sheet has something to show.
    data = demo_data.generate(n_clients, as_of=as_of, messy=True)
    note("building the workbook")
    create_workbook(path, as_of=as_of, rows=data, overwrite=True)
    result = recompute(path, as_of, progress)
    return DemoResult(path, result, n_clients, {k: len(v) for k, v in data.items()})
