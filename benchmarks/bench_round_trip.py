"""Round trip: a whole `recompute` of a demo caseload workbook, against openpyxl load + save.

The workbook (`pyxl new` content plus `demo_data.generate(n)` rows) is built once
and cached in a temp directory, keyed by the client count and a hash of the code
that shapes it; every run copies it first, so each starts from the same bytes.
Also: reading the Clients sheet read-only with python-calamine vs openpyxl.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import gc
import io
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import REPO, Result, Target, fmt_rate, fmt_s, median, say, source_digest, timed

TARGET_SECONDS = 10.0
TARGET_CLIENTS = 50_000
STEPS = ("opening", "reading and checking", "evaluating", "writing")
SHAPING_CODE = (
    "pyxl/services/demo_data.py",
    "pyxl/services/new_workbook.py",
    "pyxl/adapters/workbook_builder.py",
    "pyxl/adapters/schema.py",
    "pyxl/domain/model.py",
    "pyxl/policy/calendars.py",
)


def default_cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "pyxl-benchmarks"


def cached_workbook(n_clients: int, cache_dir: Path) -> tuple[Path, dict]:
    """The demo workbook for n clients, built now unless a current one is cached."""
    from pyxl.services import demo_data
    from pyxl.services.new_workbook import create_workbook

    code = [REPO / p for p in SHAPING_CODE] + sorted((REPO / "pyxl/policy").glob("*.toml"))
    key = f"caseload-{n_clients}-{demo_data.AS_OF:%Y%m%d}-{source_digest(code)}"
    path, info_path = cache_dir / f"{key}.xlsx", cache_dir / f"{key}.json"
    if path.exists() and info_path.exists():
        info = json.loads(info_path.read_text())
        say(f"  cached workbook {path} (built in {info['build_s']:.0f} s earlier)")
        return path, info
    cache_dir.mkdir(parents=True, exist_ok=True)
    say(f"  building the {n_clients:,}-client workbook once (cached at {path}) ...")
    start = time.perf_counter()
    rows = demo_data.generate(n_clients)
    generate_s = time.perf_counter() - start
    tmp = cache_dir / f".{key}-{os.getpid()}.xlsx"
    tmp.unlink(missing_ok=True)
    create_workbook(tmp, as_of=demo_data.AS_OF, rows=rows)
    info = {
        "clients": n_clients,
        "rows": {name: len(r) for name, r in rows.items()},
        "cells": sum(len(r) * len(r[0]) for r in rows.values() if r),
        "generate_s": generate_s,
        "build_s": time.perf_counter() - start,
        "bytes": tmp.stat().st_size,
    }
    os.replace(tmp, path)
    info_path.write_text(json.dumps(info, indent=1))
    for stale in cache_dir.glob(f"caseload-{n_clients}-*"):  # built from older code
        if stale.stem != key:
            stale.unlink(missing_ok=True)
    say(f"  built in {info['build_s']:.0f} s (generate {generate_s:.1f} s)")
    return path, info


def fresh_copy(source: Path, work: Path) -> Path:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    target = work / "caseload.xlsx"
    shutil.copyfile(source, target)
    return target


def command_recompute(path: Path, plain: bool = False) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of `pyxl recompute PATH` as a user runs it: a new
    process, imports, reading, writing and exit included (`plain`: on the plain speed path,
    as where fastexcel or ISA-L are unavailable)."""
    from pyxl.services import demo_data

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pyxl.cli", "recompute", str(path), "--as-of", str(demo_data.AS_OF)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYXL_SPEED": "plain"} if plain else None,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def one_recompute(source: Path, work: Path) -> tuple[float, float, dict[str, float], object]:
    """Wall and CPU seconds of a whole recompute of a fresh copy, seconds per step, the result."""
    from pyxl.services import demo_data
    from pyxl.services.recompute import recompute

    path = fresh_copy(source, work)
    marks: list[tuple[str, float]] = []
    gc.collect()
    cpu, start = time.process_time(), time.perf_counter()
    result = recompute(
        path, demo_data.AS_OF, lambda step: marks.append((step, time.perf_counter()))
    )
    end = time.perf_counter()
    cpu = time.process_time() - cpu
    points = [("opening", start), *marks, ("end", end)]
    steps = {points[i][0]: points[i + 1][1] - points[i][1] for i in range(len(points) - 1)}
    return end - start, cpu, steps, result


def profile_recompute(source: Path, work: Path, top: int, out: Path) -> list[dict]:
    """One recompute under cProfile; print and return the top functions by cumulative time."""
    from pyxl.services import demo_data
    from pyxl.services.recompute import recompute

    path = fresh_copy(source, work)
    profiler = cProfile.Profile()
    profiler.enable()
    recompute(path, demo_data.AS_OF)
    profiler.disable()
    profiler.dump_stats(out)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).sort_stats("cumulative")
    stats.print_stats(top + 20)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative")
    say(f"  cProfile of one recompute (saved to {out}):")
    say("\n".join("    " + line for line in text.getvalue().splitlines() if line.strip()))
    rows = []
    for (file, line, func), (_, ncalls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{Path(file).name}:{line}({func})",
                "calls": ncalls,
                "tottime_s": round(tottime, 3),
                "cumtime_s": round(cumtime, 3),
            }
        )
    rows.sort(key=lambda r: -r["cumtime_s"])
    return rows[: top + 20]


def naive_openpyxl(source: Path, work: Path) -> dict[str, float]:
    """The obvious way to update a workbook from Python: openpyxl load_workbook + save."""
    import openpyxl

    path = fresh_copy(source, work)
    gc.collect()
    start = time.perf_counter()
    book = openpyxl.load_workbook(path)
    loaded = time.perf_counter()
    book.save(work / "saved.xlsx")
    saved = time.perf_counter()
    del book
    gc.collect()
    return {"load_s": loaded - start, "save_s": saved - loaded, "total_s": saved - start}


def _normal(value: object) -> object:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _normal_rows(rows) -> list[tuple]:
    out = [tuple(_normal(v) for v in row) for row in rows]
    out = [
        row[: max((i + 1 for i, v in enumerate(row) if v is not None), default=0)] for row in out
    ]
    while out and not out[-1]:
        out.pop()
    return out


def read_only_clients(path: Path, repeats: int) -> tuple[dict, bool]:
    import openpyxl
    import python_calamine

    def calamine():
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        return book.get_sheet_by_name("Clients").to_python(skip_empty_area=False)

    def openpyxl_read_only():
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            return list(book["Clients"].iter_rows(values_only=True))
        finally:
            book.close()

    cal_runs, op_runs = [], []
    for _ in range(repeats):
        t, _, by_calamine = timed(calamine)
        cal_runs.append(t)
        t, _, by_openpyxl = timed(openpyxl_read_only)
        op_runs.append(t)
    same = _normal_rows(by_calamine) == _normal_rows(by_openpyxl)
    cells = sum(len(r) for r in by_calamine)
    return {
        "cells": cells,
        "rows": len(by_calamine),
        "calamine_seconds": cal_runs,
        "openpyxl_read_only_seconds": op_runs,
        "calamine_median_s": median(cal_runs),
        "openpyxl_read_only_median_s": median(op_runs),
        "ratio": median(op_runs) / median(cal_runs),
        "identical_values": same,
    }, same


def run(
    n_clients: int,
    repeats: int,
    skip_naive: bool,
    cache_dir: Path,
    profile: bool = False,
    profile_out: Path | None = None,
) -> Result:
    res = Result("round_trip")
    say(f"== round trip: recompute of a {n_clients:,}-client workbook")
    source, info = cached_workbook(n_clients, cache_dir)
    rows = info["rows"]
    say(
        f"  workbook: {info['bytes'] / 1e6:.1f} MB, {info['cells']:,} data cells; rows per sheet: "
        + ", ".join(f"{k} {v:,}" for k, v in rows.items())
    )
    work = Path(tempfile.mkdtemp(prefix="pyxl-bench-", dir=cache_dir))
    try:
        totals, cpus, per_step, result = [], [], {s: [] for s in STEPS}, None
        for i in range(max(1, repeats)):
            result = None
            total, cpu, steps, result = one_recompute(source, work / f"run{i}")
            totals.append(total)
            cpus.append(cpu)
            for s in STEPS:
                per_step[s].append(steps.get(s, 0.0))
            say(
                f"  recompute run {i + 1}: {total:.2f} s, CPU {cpu:.2f} s ("
                + ", ".join(f"{s} {steps.get(s, 0):.2f}" for s in STEPS)
                + ")"
            )
        # The target is the command itself, in its own process: fresh copies, then once more
        # on a workbook already recomputed (every Due List row and summary cell replaced).
        commands, command_cpus = [], []
        for i in range(max(1, repeats)):
            path = fresh_copy(source, work / f"command{i}")
            wall, cpu = command_recompute(path)
            commands.append(wall)
            command_cpus.append(cpu)
            say(f"  pyxl recompute run {i + 1}: {wall:.2f} s, CPU {cpu:.2f} s")
        again, again_cpu = command_recompute(path)
        say(f"  pyxl recompute of the recomputed workbook: {again:.2f} s, CPU {again_cpu:.2f} s")
        command_s = median(commands)
        plain, plain_cpu = command_recompute(fresh_copy(source, work / "plain"), plain=True)
        say(f"  pyxl recompute on the plain speed path: {plain:.2f} s, CPU {plain_cpu:.2f} s")
        ev = result.evaluation  # type: ignore[union-attr]
        errors = len(ev.workbook.errors)
        res.check("the demo workbook validates without errors", errors == 0)
        res.check("recompute wrote and verified the Due List", bool(result.written))  # type: ignore[union-attr]
        due_rows, obligations = result.due_list_rows, len(ev.obligations)  # type: ignore[union-attr]
        del result, ev
        gc.collect()
        total_s = median(totals)
        step_s = {s: median(v) for s, v in per_step.items()}
        rate = n_clients / total_s
        say(
            f"  recompute median {fmt_s(total_s)} (CPU {fmt_s(median(cpus))}; "
            f"{fmt_rate(rate)}); "
            f"{obligations:,} obligations, {due_rows:,} Due List rows"
        )
        res.row(
            f"`pyxl recompute`, {n_clients:,} clients (command)",
            f"{fmt_s(command_s)} ({fmt_rate(n_clients / command_s)}; "
            f"CPU {fmt_s(median(command_cpus))})",
        )
        res.row("  again, on the recomputed workbook", fmt_s(again))
        res.row(
            "  on the plain speed path (PYXL_SPEED=plain: no fastexcel, ISA-L, raw zip copies)",
            f"{fmt_s(plain)} (CPU {fmt_s(plain_cpu)})",
            f"fast path {plain / command_s:.1f}x",
        )
        res.row(
            f"recompute(), {n_clients:,} clients (in process)",
            f"{fmt_s(total_s)} ({fmt_rate(rate)}; CPU {fmt_s(median(cpus))})",
        )
        for s in STEPS:
            res.row(f"  step: {s}", f"{fmt_s(step_s[s])} ({step_s[s] / total_s:.0%})")

        naive = None
        if not skip_naive:
            say(
                "  naive: openpyxl load_workbook + save of the same file (slow; --skip-naive skips)"
            )
            naive = naive_openpyxl(source, work / "naive")
            say(
                f"  openpyxl load {naive['load_s']:.1f} s + save {naive['save_s']:.1f} s = "
                f"{naive['total_s']:.1f} s -> recompute is {naive['total_s'] / total_s:.1f}x faster"
            )
            res.row(
                "naive openpyxl load + save (no evaluation)",
                f"{fmt_s(naive['total_s'])} "
                f"(load {naive['load_s']:.0f} + save {naive['save_s']:.0f})",
                f"recompute {naive['total_s'] / total_s:.1f}x",
            )

        read_only, same = read_only_clients(source, repeats)
        res.check("calamine == openpyxl read_only values on Clients", same)
        say(
            f"  read-only Clients sheet ({read_only['cells']:,} cells): calamine "
            f"{fmt_s(read_only['calamine_median_s'])}, openpyxl read_only "
            f"{fmt_s(read_only['openpyxl_read_only_median_s'])} -> calamine "
            f"{read_only['ratio']:.1f}x; identical values: {same}"
        )
        res.row("read Clients: python-calamine", fmt_s(read_only["calamine_median_s"]))
        res.row(
            "read Clients: openpyxl read_only (naive)",
            fmt_s(read_only["openpyxl_read_only_median_s"]),
            f"calamine {read_only['ratio']:.1f}x",
        )

        top = None
        if profile:
            out = profile_out or (cache_dir / f"recompute-{n_clients}.prof")
            top = profile_recompute(source, work / "profile", 10, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    res.data = {
        "clients": n_clients,
        "workbook": info,
        "obligations": obligations,
        "due_list_rows": due_rows,
        "recompute_seconds": totals,
        "recompute_median_s": total_s,
        "recompute_cpu_seconds": cpus,
        "recompute_cpu_median_s": median(cpus),
        "recompute_clients_per_s": rate,
        "command_seconds": commands,
        "command_median_s": command_s,
        "command_cpu_seconds": command_cpus,
        "command_again_s": again,
        "step_median_s": step_s,
        "step_seconds": per_step,
        "naive_openpyxl": naive,
        "ratio_recompute_vs_openpyxl_roundtrip": naive["total_s"] / total_s if naive else None,
        "read_only_clients": read_only,
        "profile_top": top,
    }
    res.targets.append(
        Target(
            f"`pyxl recompute` < {TARGET_SECONDS:.0f} s for {TARGET_CLIENTS:,} clients",
            f"< {TARGET_SECONDS:.0f} s",
            fmt_s(command_s),
            command_s < TARGET_SECONDS if n_clients >= TARGET_CLIENTS else None,
        )
    )
    return res
