"""County and state roll-ups: `pyxl report` over 10 branch workbooks (and the same ten
listed ten times: 100 workbooks, a state), against the naive path in the same run.

pyxl's path reduces each workbook to small per-branch tables in worker processes (one
per core) and writes only what a supervisor reads. The naive path is what `pyxl report`
did before: one process reads and evaluates the workbooks one after another and writes
every row-level list (work list, monthly duties, participation per family) too.
Each run is its own process, so its peak memory is measured alone (the largest of the
main process and its workers).

Each branch workbook is a demo caseload (`demo_data.generate(n, seed=k)`) whose three
offices are renamed "<office> <k>", so the county has 30 distinct branches. The
workbooks are built once and cached beside the round-trip benchmark's (keyed by the
client count and a hash of the code that shapes them).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench_common import REPO, Result, Target, fmt_s, median, say, source_digest
from bench_round_trip import SHAPING_CODE, default_cache_dir

BRANCH_WORKBOOKS = 10
STATE_COPIES = 10  # the state: the ten workbooks listed ten times
RUN = """
import time
start = time.perf_counter()  # before pyxl is imported: a user's command pays for that too
import datetime as dt, json, os, resource, sys
from pathlib import Path
from pyxl.services.report import run_report
paths, out, naive = [Path(p) for p in sys.argv[1].split("|")], Path(sys.argv[2]), sys.argv[3]
marks, used = {}, {}
def spent():  # CPU seconds of this process and its workers (LibreOffice's come after)
    own, workers = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime
def note(what):
    marks.setdefault(what.split(" (")[0], time.perf_counter())
    if what.startswith("printing"):
        used["cpu"] = spent()
        used["workers_peak"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
load = os.getloadavg()[0]
as_of = dt.date.fromisoformat(sys.argv[4])
if naive == "1":
    result = run_report(paths, as_of, out, detail=True, workers=1, progress=note)
else:
    result = run_report(paths, as_of, out, pdf=sys.argv[5] == "1", progress=note)
end = time.perf_counter()
cpu = used.get("cpu", spent())
own = resource.getrusage(resource.RUSAGE_SELF)
workers_peak = used.get("workers_peak", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
printing = marks.get("printing to PDF", end)
print(json.dumps({"wall": printing - start, "pdf_s": end - printing if result.pdf else None,
                  "reduce_s": marks["computing the report"] - start,
                  "write_s": printing - marks["writing the report"],
                  "cpu": cpu, "parent_peak_mb": own.ru_maxrss / 1024,
                  "worker_peak_mb": workers_peak / 1024,
                  "peak_mb": max(own.ru_maxrss, workers_peak) / 1024,
                  "load_before_after": [load, os.getloadavg()[0]],
                  "snapshot": result.report.snapshot,
                  "branches": len(result.report.tables["By Branch"].rows),
                  "cells": sum(len(t.rows) * len(t.columns)
                               for r in (result.report, result.detail_report) if r
                               for t in r.tables.values())}, default=str))
"""


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
    missing = [(k, n_clients, path) for k, path in enumerate(paths, start=1) if not path.exists()]
    with ProcessPoolExecutor(min(len(missing), os.cpu_count() or 1)) as pool:
        list(pool.map(_build_one, missing))
    say(f"  built in {time.perf_counter() - start:.0f} s")
    return paths


def _build_one(job: tuple[int, int, Path]) -> None:
    """Branch workbook k of n clients, written beside and moved into place."""
    from pyxl.services import demo_data
    from pyxl.services.new_workbook import create_workbook

    k, n_clients, path = job
    rows = demo_data.generate(n_clients, seed=2026 + k)
    _rename_branches(rows, k)
    tmp = path.with_name(f".{path.stem}-{os.getpid()}.xlsx")
    create_workbook(tmp, as_of=demo_data.AS_OF, rows=rows, overwrite=True)
    os.replace(tmp, path)


def report_once(paths: list[Path], out: Path, naive: bool, pdf: bool = False) -> dict:
    """One `pyxl report` in its own process: wall seconds to the written report (and the
    PDF's seconds after it), CPU seconds of the process and its workers, peak MB, the
    figures."""
    from pyxl.services import demo_data

    args = [sys.executable, "-c", RUN, "|".join(map(str, paths)), str(out), "1" if naive else "0",
            demo_data.AS_OF.isoformat(), "1" if pdf else "0"]  # fmt: skip
    done = subprocess.run(args, check=True, capture_output=True, text=True, cwd=REPO)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _last_naive(results: Path, n_clients: int) -> tuple[dict, str] | None:
    """The naive run recorded by an earlier `report` benchmark at this scale, and its date."""
    try:
        last = json.loads(results.read_text())["results"]["report"]
        if last["clients_per_workbook"] == n_clients and last["runs"]["naive"]:
            return last["runs"]["naive"][-1], str(last.get("naive_measured", last["when"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _figures(f: dict) -> str:
    pdf = f" + summary PDF {fmt_s(f['pdf_s'])}" if f.get("pdf_s") else ""
    return (
        f"{fmt_s(f['wall'])} (CPU {f['cpu']:.0f} s; writing {fmt_s(f['write_s'])}){pdf}, peak "
        f"{f['parent_peak_mb']:,.0f} MB main / {f['worker_peak_mb']:,.0f} MB per worker, "
        f"load {f['load_before_after'][0]:.1f}"
    )


def run(
    n_clients: int,
    repeats: int,
    cache_dir: Path | None = None,
    state: bool = True,
    skip_naive: bool = False,
    results: Path | None = None,
) -> Result:
    result = Result("report")
    say(f"report: county roll-up of {BRANCH_WORKBOOKS} workbooks x {n_clients:,} clients")
    paths = branch_workbooks(n_clients, cache_dir or default_cache_dir())
    work = Path(tempfile.mkdtemp(prefix="pyxl-bench-report-"))
    runs: dict[str, list[dict]] = {"county": [], "naive": [], "state": []}
    earlier = _last_naive(results, n_clients) if skip_naive and results else None
    naive_when = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    if earlier:
        runs["naive"].append(earlier[0])
        naive_when = earlier[1]
        say(f"  naive: not run (--skip-naive); the one measured {naive_when}: "
            f"{_figures(earlier[0])}")  # fmt: skip
    for k in range(max(1, repeats)):
        for name, naive in (("county", False), ("naive", True)):
            if naive and earlier:
                continue
            figures = report_once(paths, work / f"{name}-{k}.xlsx", naive, pdf=not naive)
            runs[name].append(figures)
            say(f"  {name}: {_figures(figures)}")
    if state:
        figures = report_once(paths * STATE_COPIES, work / "state.xlsx", False)
        runs["state"].append(figures)
        say(f"  state ({len(paths) * STATE_COPIES} workbooks): {_figures(figures)}")

    def wall(name: str) -> float:
        return median([r["wall"] for r in runs[name]])

    county, naive = runs["county"][-1], runs["naive"][-1]
    ratio = wall("naive") / wall("county")
    say(f"  county {fmt_s(wall('county'))}, naive {fmt_s(wall('naive'))} ({ratio:.1f}x)")
    result.check("the same figures on both paths", county["snapshot"] == naive["snapshot"])
    result.check("thirty distinct branches", county["branches"] == 3 * BRANCH_WORKBOOKS)
    judged = n_clients >= 10_000
    result.row(
        f"pyxl report, {BRANCH_WORKBOOKS} workbooks x {n_clients:,} clients",
        _figures(county),
        f"naive {fmt_s(wall('naive'))}, peak {naive['peak_mb']:,.0f} MB ({ratio:.1f}x)"
        + (" (naive from an earlier run)" if earlier else ""),
    )
    result.targets.append(
        Target("county roll-up", "< 15 s", fmt_s(wall("county")),
               wall("county") < 15 if judged else None)
    )  # fmt: skip
    if county.get("pdf_s"):
        result.targets.append(
            Target("the county's summary PDF", "< 60 s", fmt_s(county["pdf_s"]),
                   county["pdf_s"] < 60 if judged else None)
        )  # fmt: skip
    if runs["state"]:
        big = runs["state"][-1]
        counts = {k: big["snapshot"][k] for k in ("clients", "open", "overdue")}
        tenfold = {k: STATE_COPIES * county["snapshot"][k] for k in counts}
        result.check("the state counts ten times the county", counts == tenfold)
        result.check(
            "a worker's memory does not grow with the number of workbooks",
            big["worker_peak_mb"] < 1.25 * county["worker_peak_mb"],
        )
        result.row(
            f"pyxl report, {len(paths) * STATE_COPIES} workbooks x {n_clients:,} clients",
            _figures(big),
            f"{big['wall'] / wall('county'):.1f}x the county's time for 10x the workbooks",
        )
        result.targets.append(
            Target("state roll-up", "< 180 s", fmt_s(big["wall"]),
                   big["wall"] < 180 if judged else None)
        )  # fmt: skip
    result.data.update(
        {
            "workbooks": BRANCH_WORKBOOKS,
            "clients_per_workbook": n_clients,
            "bytes": sum(p.stat().st_size for p in paths),
            "runs": runs,
            "report_median_s": wall("county"),
            "naive_median_s": wall("naive"),
            "naive_measured": naive_when,
            "ratio": ratio,
        }
    )
    (work / "figures.json").write_text(json.dumps(result.data, indent=1, default=str))
    return result
