"""A few typos must not slow a workbook down: `pyxl check` of a caseload with the demo's
typos against the same caseload without them.

Both workbooks are `demo_data.generate(n)` with and without `messy=True` (a text that is no
date in Contacts, a two-digit year and a blank Case Manager in Clients, a duplicate row),
built once and cached. Each `pyxl check` is its own process, as a user runs it, timed from
the outside (wall, and CPU of the process and its reading threads); the two alternate, so
a busy moment on the machine falls on both. The naive way is how a typo used to be read:
every cell of the sheet one by one (python-calamine, the plain path), timed once on the
workbook with typos; both ways must report the same problems.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench_common import REPO, Result, Target, fmt_s, median, say, source_digest
from bench_round_trip import SHAPING_CODE

TARGET_RATIO = 1.10  # with typos / without, CPU seconds
TARGET_CLIENTS = 20_000


def cached_pair(n_clients: int, cache_dir: Path) -> dict[str, Path]:
    """The clean and the messy workbook of n clients, built now unless cached."""
    from pyxl.services import demo_data
    from pyxl.services.new_workbook import create_workbook

    code = [REPO / p for p in SHAPING_CODE] + sorted((REPO / "pyxl/policy").glob("*.toml"))
    key = f"typos-{n_clients}-{demo_data.AS_OF:%Y%m%d}-{source_digest(code)}"
    paths = {kind: cache_dir / f"{key}-{kind}.xlsx" for kind in ("clean", "typos")}
    cache_dir.mkdir(parents=True, exist_ok=True)
    for kind, path in paths.items():
        if path.exists():
            continue
        say(f"  building the {n_clients:,}-client workbook {kind} (cached at {path}) ...")
        rows = demo_data.generate(n_clients, messy=kind == "typos")
        tmp = path.with_name(f".{path.name}-{os.getpid()}")
        create_workbook(tmp, as_of=demo_data.AS_OF, rows=rows)
        os.replace(tmp, path)
    for stale in cache_dir.glob(f"typos-{n_clients}-*"):  # built from older code
        if not stale.name.startswith(key):
            stale.unlink(missing_ok=True)
    return paths


def command_check(path: Path, plain: bool = False) -> tuple[float, float, str]:
    """Wall and CPU (user + system) seconds of `pyxl check PATH`, and what it printed."""
    from pyxl.services import demo_data

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pyxl.cli", "check", str(path), "--as-of", str(demo_data.AS_OF)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYXL_SPEED": "plain"} if plain else None,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"pyxl check {path} failed: {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def run(n_clients: int, repeats: int, cache_dir: Path) -> Result:
    res = Result("typos")
    say(f"== typos: `pyxl check` of {n_clients:,} clients with and without the demo's typos")
    paths = cached_pair(n_clients, cache_dir)
    runs: dict[str, list[tuple[float, float]]] = {"clean": [], "typos": []}
    printed = ""
    for _ in range(max(1, repeats)):
        for kind in ("clean", "typos"):
            wall, cpu, out = command_check(paths[kind])
            runs[kind].append((wall, cpu))
            printed = out if kind == "typos" else printed
            say(f"  {kind}: {fmt_s(wall)} (CPU {cpu:.2f} s)")
    naive_wall, naive_cpu, naive_printed = command_check(paths["typos"], plain=True)
    say(f"  typos, every cell one by one (naive): {fmt_s(naive_wall)} (CPU {naive_cpu:.2f} s)")
    res.check(
        "the typos are reported as the cell-by-cell reading reports them", printed == naive_printed
    )
    res.check("the typos are reported", "Data problems:" in printed and "error" in printed)
    wall = {k: median([w for w, _ in v]) for k, v in runs.items()}
    cpu = {k: median([c for _, c in v]) for k, v in runs.items()}
    # Each pair ran back to back: its ratio cancels the machine's slower moments.
    ratio = median([t[1] / c[1] for c, t in zip(runs["clean"], runs["typos"], strict=True)])
    res.row(
        f"check, {n_clients:,} clients, no typos",
        f"{fmt_s(wall['clean'])} (CPU {cpu['clean']:.2f} s)",
    )
    res.row(
        f"check, {n_clients:,} clients, the demo's typos",
        f"{fmt_s(wall['typos'])} (CPU {cpu['typos']:.2f} s)",
        f"{naive_cpu / cpu['typos']:.1f}x CPU vs every cell one by one",
    )
    res.row("typos / no typos (CPU, median of the pairs run back to back)", f"{ratio:.2f}x")
    res.data = {
        "clients": n_clients,
        "runs": runs,
        "median_wall_s": wall,
        "median_cpu_s": cpu,
        "ratio_typos_vs_clean_cpu": ratio,  # median of the back-to-back pairs' ratios
        "naive_cell_by_cell": {"wall_s": naive_wall, "cpu_s": naive_cpu},
        "ratio_naive_vs_typos_cpu": naive_cpu / cpu["typos"],
        "load_average": os.getloadavg()[0],
    }
    res.targets.append(
        Target(
            f"`pyxl check` with a few typos within {TARGET_RATIO - 1:.0%} of without "
            f"({TARGET_CLIENTS:,} clients)",
            f"<= {TARGET_RATIO:.2f}x",
            f"{ratio:.2f}x",
            ratio <= TARGET_RATIO if n_clients >= TARGET_CLIENTS else None,
        )
    )
    return res


if __name__ == "__main__":  # a quick look: python benchmarks/bench_typos.py [CLIENTS]
    from bench_round_trip import default_cache_dir

    result = run(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000, 3, default_cache_dir())
    print(json.dumps(result.data, indent=1, default=str))
