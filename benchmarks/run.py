"""Run pyxl's benchmarks: `python benchmarks/run.py [evaluation|business-days|round-trip ...]`.

With no names, runs all of them at the default scale. `--quick` is a small smoke
run (well under a minute). Each benchmark measures its naive baseline in the
same run and prints ratios against it; a table and JSON results come at the end.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import Result, say

HERE = Path(__file__).resolve().parent
NAMES = (
    "evaluation",
    "business-days",
    "round-trip",
    "typos",
    "letters",
    "excel-functions",
    "report",
)
SCALES = {
    # name: (default, quick)
    "eval_clients": (100_000, 3_000),
    "eval_subset": (5_000, 1_000),
    "bd_clients": (50_000, 5_000),
    "bd_rrule_sample": (5_000, 500),
    "rt_clients": (50_000, 500),
    "xl_rows": (10_000, 500),
    "report_clients": (10_000, 300),  # per branch workbook; ten of them
    "typo_clients": (20_000, 500),
    "repeat": (3, 1),
    "letters": (1_000, 60),
    "letters_naive_sample": (200, 20),
    "letters_pdf": (500, 60),
}
PACKAGES = (
    "numpy",
    "openpyxl",
    "python-calamine",
    "XlsxWriter",
    "python-dateutil",
    "pydantic",
    "lxml",
    "docxtpl",
    "pypdf",
)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="pyxl benchmarks; each prints ratios against a naive baseline run alongside.",
    )
    p.add_argument(
        "benchmarks",
        nargs="*",
        metavar="benchmark",
        help=f"which to run: {', '.join(NAMES)} or all (default: all)",
    )
    p.add_argument("--quick", action="store_true", help="small smoke run (< 60 s)")
    p.add_argument(
        "--skip-naive",
        action="store_true",
        help="round trip: skip the slow openpyxl load+save baseline; report: reuse the naive "
        "roll-up recorded in the results file (the line says when it was measured)",
    )
    p.add_argument("--clients", type=int, help="override the client count of every benchmark run")
    p.add_argument("--repeat", type=int, help="timed runs per measurement (median is reported)")
    p.add_argument(
        "--full-reference",
        action="store_true",
        help="evaluation: also time the reference on every client, not only the subset",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="round trip: one extra recompute under cProfile; prints the top costs",
    )
    p.add_argument("--cache-dir", type=Path, help="where the built workbook is cached")
    p.add_argument(
        "--json",
        type=Path,
        help="results file (default: results/latest.json; results/quick.json with --quick)",
    )
    p.add_argument("--no-json", action="store_true", help="do not write a results file")
    p.add_argument(
        "--strict", action="store_true", help="exit 2 if a target judged at its scale is missed"
    )
    args = p.parse_args(argv)
    unknown = sorted(set(args.benchmarks) - {*NAMES, "all"})
    if unknown:
        p.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(NAMES)}, all")
    if not args.benchmarks or "all" in args.benchmarks:
        args.benchmarks = list(NAMES)
    return args


def scale(args: argparse.Namespace, key: str) -> int:
    default, quick = SCALES[key]
    value = quick if args.quick else default
    if key == "repeat" and args.repeat:
        return args.repeat
    if (key.endswith("_clients") or key == "xl_rows") and args.clients:
        return args.clients
    return value


def table(results: list[Result]) -> str:
    rows = [("benchmark", "what", "measured", "vs naive")]
    for r in results:
        rows += [(r.name, *row) for row in r.rows]
    for r in results:
        for t in r.targets:
            verdict = {True: "MET", False: "MISSED", None: "not judged (scale)"}[t.met]
            rows.append((r.name, f"target: {t.name}", t.measured, verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    line = "  ".join("-" * w for w in widths)
    out = [line]
    for i, row in enumerate(rows):
        out.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            out.append(line)
    out.append(line)
    return "\n".join(out)


def environment() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "packages": versions,
    }


def write_json(path: Path, results: list[Result], args: argparse.Namespace, argv) -> None:
    """Write this run's results; a benchmark not run now keeps its last result (with its date)."""
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    fresh = {
        r.name: {
            "when": now,
            "argv": sys.argv[1:] if argv is None else argv,
            **r.data,
            "checks": r.checks,
            "targets": [t.__dict__ for t in r.targets],
        }
        for r in results
    }
    previous: dict = {}
    if path.exists():
        try:
            old = json.loads(path.read_text())
            if old.get("quick") == args.quick:
                previous = old.get("results", {})
        except (ValueError, OSError):
            previous = {}
    merged = {**previous, **fresh}
    record = {
        "updated": now,
        "quick": args.quick,
        "environment": environment(),
        "results": merged,
        "all_checks_passed": all(all(r.get("checks", {}).values()) for r in merged.values()),
        "targets_missed": [
            f"{name}: {t['name']}"
            for name, r in merged.items()
            for t in r.get("targets", [])
            if t.get("met") is False
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, default=str) + "\n")
    say(f"results written to {path}")


def results_path(args: argparse.Namespace) -> Path:
    return args.json or (HERE / "results" / ("quick.json" if args.quick else "latest.json"))


def run_one(name: str, args: argparse.Namespace, repeat: int) -> Result:
    if name == "evaluation":
        import bench_evaluation

        result = bench_evaluation.run(
            scale(args, "eval_clients"),
            contacts_per_client=10,
            subset_clients=min(scale(args, "eval_subset"), scale(args, "eval_clients")),
            repeats=repeat,
            full_reference=args.full_reference,
        )
    elif name == "business-days":
        import bench_business_days

        result = bench_business_days.run(
            scale(args, "bd_clients"), scale(args, "bd_rrule_sample"), repeat
        )
    elif name == "letters":
        import bench_letters

        result = bench_letters.run(
            scale(args, "letters"),
            scale(args, "letters_naive_sample"),
            scale(args, "letters_pdf"),
            repeat,
        )
    elif name == "excel-functions":
        import bench_excel_functions

        result = bench_excel_functions.run(scale(args, "xl_rows"), repeat)
        sizes = (300,) if args.quick else (5_000, 20_000)
        bench_excel_functions.run_buttons(
            (args.clients,) if args.clients else sizes, repeat, result
        )
    elif name == "typos":
        import bench_round_trip
        import bench_typos

        cache = args.cache_dir or bench_round_trip.default_cache_dir()
        result = bench_typos.run(scale(args, "typo_clients"), repeat, cache)
    elif name == "report":
        import bench_report

        result = bench_report.run(
            scale(args, "report_clients"),
            repeat,
            args.cache_dir,
            skip_naive=args.skip_naive,
            results=results_path(args),
        )
    else:
        import bench_round_trip

        cache = args.cache_dir or bench_round_trip.default_cache_dir()
        result = bench_round_trip.run(
            scale(args, "rt_clients"), repeat, args.skip_naive, cache, profile=args.profile
        )
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    say(
        f"pyxl benchmarks ({'quick' if args.quick else 'default scale'}): "
        f"{', '.join(args.benchmarks)}; Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    repeat = scale(args, "repeat")
    results: list[Result] = []
    for name in args.benchmarks:
        t0 = time.perf_counter()
        load_before = os.getloadavg()[0]
        if load_before > 0.5 * (os.cpu_count() or 1):
            say(
                f"  note: load average {load_before:.1f} on {os.cpu_count()} CPUs before "
                f"{name}: other processes compete, absolute times will read high"
            )
        try:
            result = run_one(name, args, repeat)
        except Exception:  # the code under test broke: report it, go on with the others
            say(traceback.format_exc().rstrip())
            result = Result(name.replace("-", "_"))
            result.check("the benchmark ran to completion", False)
        result.data["wall_s"] = time.perf_counter() - t0
        result.data["load_average_before_after"] = [load_before, os.getloadavg()[0]]
        results.append(result)
        say()

    say(table(results))
    failed = [f"{r.name}: {c}" for r in results for c, ok in r.checks.items() if not ok]
    missed = [f"{r.name}: {t.name}" for r in results for t in r.targets if t.met is False]
    say(f"correctness checks: {'all passed' if not failed else 'FAILED: ' + '; '.join(failed)}")
    if missed:
        say(f"targets missed: {'; '.join(missed)}")
    say(f"total wall time {time.perf_counter() - started:.0f} s")

    if not args.no_json:
        write_json(results_path(args), results, args, argv)
    if failed:
        return 1
    if missed and args.strict:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
