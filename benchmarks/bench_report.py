"""County roll-up: `pyxl report` over 10 branch workbooks, and reading them with
python-calamine (what pyxl uses) against openpyxl read-only, in the same run.

Each branch workbook is a demo caseload (`demo_data.generate(n, seed=k)`) whose three
offices are renamed "<office> <k>", so the county has 30 distinct branches. The
workbooks are built once and cached beside the round-trip benchmark's (keyed by the
client count and a hash of the code that shapes them).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
from pathlib import Path

from bench_common import REPO, Result, fmt_s, median, say, source_digest, timed
from bench_round_trip import SHAPING_CODE, default_cache_dir

BRANCH_WORKBOOKS = 10


def _rename_branches(rows: dict[str, list[list[object]]], k: int) -> None:
    """Give workbook k's offices their own names (Branch columns of three sheets)."""
    from pyxl.adapters import schema

    renamed = {row[0]: f"{row[0]} {k}" for row in rows["Branches"]}
    for sheet in (schema.BRANCHES, schema.STAFF, schema.CLIENTS):
        at = sheet.headers.index("Branch")
        for row in rows[sheet.name]:
            row[at] = renamed.get(row[at], row[at])


def branch_workbooks(n_clients: int, cache_dir: Path) -> list[Path]:
    """The ten branch workbooks of n clients each, built now unless cached."""
    from pyxl.services import demo_data
    from pyxl.services.new_workbook import create_workbook

    code = [REPO / p for p in SHAPING_CODE] + sorted((REPO / "pyxl/policy").glob("*.toml"))
    key = f"county-{n_clients}-{demo_data.AS_OF:%Y%m%d}-{source_digest(code)}"
    folder = cache_dir / key
    paths = [folder / f"branch-{k:02d}.xlsx" for k in range(1, BRANCH_WORKBOOKS + 1)]
    if all(p.exists() for p in paths):
        say(f"  cached branch workbooks in {folder}")
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    say(f"  building {BRANCH_WORKBOOKS} workbooks of {n_clients:,} clients (cached in {folder})")
    start = time.perf_counter()
    for k, path in enumerate(paths, start=1):
        if path.exists():
            continue
        rows = demo_data.generate(n_clients, seed=2026 + k)
        _rename_branches(rows, k)
        tmp = folder / f".{path.stem}-{os.getpid()}.xlsx"
        create_workbook(tmp, as_of=demo_data.AS_OF, rows=rows, overwrite=True)
        os.replace(tmp, path)
    say(f"  built in {time.perf_counter() - start:.0f} s")
    return paths


def read_with_calamine(paths: list[Path]) -> dict[str, int]:
    """pyxl's reader: every sheet recompute reads, of every workbook; rows per sheet."""
    from pyxl.adapters.workbook_reader import read_raw
    from pyxl.services.recompute import READ_SHEETS

    counts: dict[str, int] = {}
    for path in paths:
        raw = read_raw(path.read_bytes(), READ_SHEETS)
        for name, sheet in raw.sheets.items():
            counts[name] = counts.get(name, 0) + sum(any(v != "" for v in r) for r in sheet.values)
    return counts


def read_with_openpyxl(paths: list[Path]) -> dict[str, int]:
    """The same sheets read with openpyxl's fastest mode (read-only, values only)."""
    import openpyxl

    from pyxl.services.recompute import READ_SHEETS

    counts: dict[str, int] = {}
    for path in paths:
        book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
        try:
            for name in READ_SHEETS & set(book.sheetnames):
                rows = book[name].iter_rows(values_only=True)
                n = sum(any(v not in (None, "") for v in r) for r in rows)
                counts[name] = counts.get(name, 0) + n
        finally:
            book.close()
    return counts


def run(n_clients: int, repeats: int, cache_dir: Path | None = None) -> Result:
    from pyxl.domain.model import Status
    from pyxl.services import demo_data
    from pyxl.services.report import run_report

    result = Result("report")
    say(f"report: county roll-up of {BRANCH_WORKBOOKS} workbooks x {n_clients:,} clients")
    paths = branch_workbooks(n_clients, cache_dir or default_cache_dir())
    work = Path(tempfile.mkdtemp(prefix="pyxl-bench-report-"))
    as_of = demo_data.AS_OF

    report_runs = []
    report = None
    for k in range(max(1, repeats)):
        wall, cpu, done = timed(lambda k=k: run_report(paths, as_of, work / f"county-{k}.xlsx"))
        report_runs.append(wall)
        report = done
        say(f"  pyxl report: {fmt_s(wall)} (cpu {fmt_s(cpu)})")
    assert report is not None

    cal_runs, op_runs = [], []
    by_calamine = by_openpyxl = {}
    for _ in range(max(1, repeats)):
        wall, _, by_calamine = timed(lambda: read_with_calamine(paths))
        cal_runs.append(wall)
        wall, _, by_openpyxl = timed(lambda: read_with_openpyxl(paths))
        op_runs.append(wall)
    ratio = median(op_runs) / median(cal_runs)
    say(
        f"  reading the {BRANCH_WORKBOOKS} workbooks: calamine {fmt_s(median(cal_runs))}, "
        f"openpyxl read-only {fmt_s(median(op_runs))} ({ratio:.1f}x)"
    )

    figures = report.report.snapshot
    sources = report.sources
    clients = sum(len(s.ev.workbook.caseload.clients) for s in sources)
    overdue = sum(s.ev.status_counts()[Status.OVERDUE] for s in sources)
    branches = {r[0] for r in report.report.tables["By Branch"].rows}
    result.check(
        "the roll-up counts every client of the ten workbooks", figures["clients"] == clients
    )
    result.check(
        "the roll-up's OVERDUE is the sum over the workbooks", figures["overdue"] == overdue
    )
    result.check("thirty distinct branches", len(branches) == 3 * BRANCH_WORKBOOKS)
    result.check("both readers see the same rows", by_calamine == by_openpyxl)

    size = sum(p.stat().st_size for p in paths)
    result.row(
        f"pyxl report, {BRANCH_WORKBOOKS} x {n_clients:,} clients",
        fmt_s(median(report_runs)),
        "",
    )
    result.row(
        f"read {BRANCH_WORKBOOKS} workbooks ({size / 1e6:.0f} MB) with calamine",
        fmt_s(median(cal_runs)),
        f"openpyxl read-only {fmt_s(median(op_runs))} ({ratio:.1f}x)",
    )
    result.data.update(
        {
            "workbooks": BRANCH_WORKBOOKS,
            "clients_per_workbook": n_clients,
            "bytes": size,
            "report_seconds": report_runs,
            "report_median_s": median(report_runs),
            "calamine_seconds": cal_runs,
            "openpyxl_read_only_seconds": op_runs,
            "read_ratio": ratio,
            "rows_read": by_calamine,
            "report_rows": {n: len(t.rows) for n, t in report.report.tables.items()},
        }
    )
    (work / "figures.json").write_text(json.dumps(result.data, indent=1, default=str))
    return result
