"""The `pyxl` command: thin wrappers around the services, with clear messages and exit codes.

Exit codes: 0 done; 1 the workbook has data errors (check) or the input is unusable;
2 refused to write (the workbook is open, locked or changed meanwhile).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from pyxl.adapters.safe_save import SafeSaveError
from pyxl.adapters.workbook_reader import WorkbookUnreadable
from pyxl.domain.model import STATUS_ORDER
from pyxl.services.recompute import Evaluation


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD") from None


class _Steps:
    """Progress on stderr: a bar over the command's steps on a terminal, a line per step in logs."""

    def __init__(self, total: int) -> None:
        self.bar = None
        if sys.stderr.isatty():
            # No tqdm monitor thread: reading a big workbook forks a helper process, which it
            # does only while no other thread runs.
            tqdm.monitor_interval = 0
            self.bar = tqdm(
                total=total,
                file=sys.stderr,
                leave=False,
                bar_format="{desc:<24} {bar:30} {n_fmt}/{total_fmt} {elapsed}",
            )

    def __call__(self, step: str) -> None:
        if self.bar is None:
            print(f"... {step}", file=sys.stderr, flush=True)
            return
        if self.bar.desc:
            self.bar.update(1)
        self.bar.set_description_str(step)

    def done(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _summary(ev: Evaluation, written: bool = True) -> str:
    counts = ev.status_counts()
    lines = [
        f"As of {ev.as_of.isoformat()}: {len(ev.workbook.sheets['Clients'])} clients, "
        f"{len(ev.obligations)} obligations"
    ]
    lines.append("  " + "  ".join(f"{s}: {counts[s]}" for s in STATUS_ORDER))
    by_branch = ev.counts_by_branch()
    if by_branch:
        width = max(len(b) for b in by_branch)
        lines.append("By branch:")
        for branch, c in by_branch.items():
            lines.append(f"  {branch:<{width}}  " + "  ".join(f"{s}: {c[s]}" for s in STATUS_ORDER))
    errors = sum(p.severity == "error" for p in ev.problems)
    warnings = len(ev.problems) - errors
    lines.append(
        f"Data problems: {errors} errors, {warnings} warnings"
        + (" (see the Errors sheet)" if ev.problems and written else "")
    )
    return "\n".join(lines)


def _print_problems(ev: Evaluation, limit: int | None = None) -> None:
    shown = ev.problems if limit is None else ev.problems[:limit]
    for p in shown:
        print(f"  {p}")
    if limit is not None and len(ev.problems) > limit:
        print(f"  ... and {len(ev.problems) - limit} more")


def cmd_new(args: argparse.Namespace) -> int:
    from pyxl.services.new_workbook import create_workbook

    path = create_workbook(args.path, as_of=args.as_of)
    print(f"Created {path}. Fill in Branches and Staff, then add clients.")
    return 0


def cmd_recompute(args: argparse.Namespace) -> int:
    from pyxl.services.recompute import recompute

    steps = _Steps(total=4)
    result = recompute(args.path, args.as_of, steps)
    steps.done()
    print(_summary(result.evaluation))
    print(
        f"Wrote {result.due_list_rows} Due List rows to {args.path}"
        + (f" (backup: {result.backup})" if result.backup else "")
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from pyxl.services.recompute import check

    ev = check(args.path, args.as_of)
    print(_summary(ev, written=False))
    _print_problems(ev)
    return 1 if ev.workbook.errors else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from pyxl.services.demo import run_demo

    steps = _Steps(total=6)
    demo = run_demo(args.dir, as_of=args.as_of, n_clients=args.clients, progress=steps)
    steps.done()
    ev = demo.result.evaluation
    print(
        f"Demo caseload: {demo.rows.get('Clients', 0)} clients, "
        f"{demo.rows.get('Contacts', 0)} contacts, "
        f"{demo.rows.get('Appointments', 0)} appointments, "
        f"{demo.rows.get('Hours', 0)} hours rows, {demo.rows.get('Services', 0)} services"
    )
    print(_summary(ev))
    print("Problems put in on purpose (the Errors sheet lists them with their cells):")
    _print_problems(ev, limit=8)
    print(f"Workbook: {demo.path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pyxl", description="Caseload deadlines for welfare-to-work offices."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    today = dt.date.today()

    p = sub.add_parser("new", help="create an empty caseload workbook")
    p.add_argument("path", type=Path)
    p.add_argument(
        "--as-of", type=_date, default=today, help="centre year of the holiday calendars"
    )
    p.set_defaults(func=cmd_new)

    for name, func, text in (
        (
            "recompute",
            cmd_recompute,
            "evaluate the rules and write the Due List, Errors and summary columns",
        ),
        ("check", cmd_check, "list the data problems and obligations without writing"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("path", type=Path)
        p.add_argument(
            "--as-of", type=_date, default=today, help="evaluate as of this date (YYYY-MM-DD)"
        )
        p.set_defaults(func=func)

    p = sub.add_parser("demo", help="build and recompute a synthetic caseload (no Excel needed)")
    p.add_argument("dir", type=Path, nargs="?", default=Path("demo"))
    p.add_argument("--as-of", type=_date, default=dt.date(2026, 11, 23))
    p.add_argument("--clients", type=int, default=600)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SafeSaveError as exc:
        print(f"pyxl: nothing was written: {exc}", file=sys.stderr)
        return 2
    except (WorkbookUnreadable, FileNotFoundError, FileExistsError, IsADirectoryError) as exc:
        print(f"pyxl: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
