"""The `pyxl` command: thin wrappers around the services, with clear messages and exit codes.

Exit codes (pyxl/errors.py): 0 done; 1 done, but the data has problems to fix (`check` found
errors, letters not made); 2 nothing done: the input is unusable (missing, not a workbook,
unknown case) or writing was refused (open in Excel, locked, changed meanwhile, read-only).
Errors are one line on stderr naming the file and what to do; never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from pyxl import errors, version
from pyxl.adapters import speed
from pyxl.adapters.safe_save import SafeSaveError
from pyxl.adapters.workbook_reader import WorkbookUnreadable
from pyxl.domain.letters import LetterInputError
from pyxl.domain.model import STATUS_ORDER
from pyxl.errors import UserError
from pyxl.services.recompute import Evaluation


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD") from None


class _Steps:
    """Progress on stderr: a bar over the command's steps on a terminal; nothing off a terminal
    (a log or a pipe gets only the result)."""

    def __init__(self, total: int) -> None:
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm  # a tenth of a second to import: only for a terminal

            # No tqdm monitor thread: the bar moves only between steps.
            tqdm.monitor_interval = 0
            self.bar = tqdm(
                total=total,
                file=sys.stderr,
                leave=False,
                bar_format="{desc:<24} {bar:30} {n_fmt}/{total_fmt} {elapsed}",
            )

    def __call__(self, step: str) -> None:
        if self.bar is None:
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
        f"{sum(counts.values())} obligations"
    ]
    lines.append("  " + "  ".join(f"{s}: {counts[s]}" for s in STATUS_ORDER))
    by_branch = ev.counts_by_branch()
    if by_branch:
        width = max(len(b) for b in by_branch)
        lines.append("By branch:")
        for branch, c in by_branch.items():
            lines.append(f"  {branch:<{width}}  " + "  ".join(f"{s}: {c[s]}" for s in STATUS_ORDER))
    acting = sum(1 for state in ev.flows.states.values() if state.next_action)
    lines.append(
        f"Non-compliance flows: {acting} cases with a next action, "
        f"{len(ev.flows.flags)} flagged records"
    )
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


NEEDS_REFRESH = (
    "The Due List and Supervisor sheet now say they need a Refresh: run pyxl recompute {path}"
)


def cmd_new(args: argparse.Namespace) -> int:
    from pyxl.services.new_workbook import EXAMPLE, create_workbook, example_rows

    rows = None if args.empty else example_rows(args.as_of)
    path = create_workbook(args.path, as_of=args.as_of, rows=rows)
    if args.empty:
        print(f"Created {path}. Fill in Branches and Staff, then add clients.")
    else:
        print(
            f"Created {path}. The rows marked {EXAMPLE} on Branches, Staff and Clients show how "
            "each sheet is filled in: replace them with your own, then Refresh."
        )
    return 0


def cmd_recompute(args: argparse.Namespace) -> int:
    from pyxl.services.recompute import recompute

    steps = _Steps(total=3)
    result = recompute(args.path, args.as_of, steps)
    steps.done()
    print(_summary(result.evaluation))
    print(
        f"Wrote {result.due_list_rows} Due List rows to {args.path}"
        + (f" (backup: {result.backup})" if result.backup else "")
    )
    for sheet, cells in result.removed.items():
        shown = ", ".join(cells[:5]) + (f" and {len(cells) - 5} more" if len(cells) > 5 else "")
        print(
            f"  removed: what was typed on the {sheet} sheet outside its table ({shown}): "
            f"Refresh rebuilds that sheet; the backup keeps it",
            file=sys.stderr,
        )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from pyxl.services.recompute import check

    steps = _Steps(total=2)
    ev = check(args.path, args.as_of, steps)
    steps.done()
    print(_summary(ev, written=False))
    _print_problems(ev)
    return 1 if ev.workbook.errors else 0


def cmd_import_history(args: argparse.Namespace) -> int:
    from pyxl.services.history import import_history

    steps = _Steps(total=1)
    steps(f"importing from {args.source.name}")
    result = import_history(args.source, args.target, args.as_of)
    steps.done()
    print(
        f"{result.people} people of {args.source.name} are clients in {args.target.name}: "
        f"imported {len(result.events)} events and {len(result.penalties)} penalties; "
        f"{result.already_there} rows were already there"
        + (f" (backup: {result.backup})" if result.backup else "")
    )
    if result.events or result.penalties:
        print(NEEDS_REFRESH.format(path=args.target))
    for line in result.conflicts:
        print(f"  conflict: {line}")
    for line in result.unmatched:
        print(f"  not matched: {line}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from pyxl.services.demo import run_demo

    steps = _Steps(total=5)
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


def cmd_letters(args: argparse.Namespace) -> int:
    from pyxl.services import letters

    if args.preview:
        plan = letters.preview(args.path, args.as_of, args.kind or (), args.case or ())
        print(
            f"Letters due as of {args.as_of.isoformat()}: {len(plan.queue)}; printing will make "
            f"{len(plan.printable)}, hold {len(plan.held)}, and cannot make {len(plan.errors)}"
        )
        for row in letters.queue_rows(plan.queue, plan.errors):
            case, code, lang, why, reply_by, *_, status, note = row
            print(f"  {case:<12} {code:<13} {lang}  reply by {reply_by}  {why}")
            if status != "Yes" or note:
                print(f"  {'':<12} {status if status != 'Yes' else 'Note'}: {note}")
        if args.out:
            target = letters.write_queue_csv(plan, args.out, args.as_of)
            print(f"Queue written to {target}")
        return 0
    steps = _Steps(total=6)
    result = letters.run_letters(
        args.path,
        args.as_of,
        out_dir=args.out,
        kinds=args.kind or (),
        cases=args.case or (),
        pdf=args.pdf,
        progress=steps,
    )
    steps.done()
    print(f"Letters due as of {args.as_of.isoformat()}: {len(result.queue)}")
    print(
        f"Made {len(result.made)} letters in {result.out_dir}" if result.made else "No letters made"
    )
    if result.print_file:
        print(f"Print file (sorted by branch, case manager, postal code): {result.print_file}")
    if result.pdf:
        print(f"PDF: {result.pdf}")
    if result.manifest:
        print(f"Manifest: {result.manifest}")
    reprinted = len(result.made) - result.logged
    print(
        f"Logged {result.logged} letters on the Letters and Contacts sheets"
        + (f"; {reprinted} were already logged today" if reprinted else "")
    )
    for q in result.held:
        print(f"  held: {q.request.case_id} {q.request.code}: {q.request.held}")
    if result.logged:
        print(NEEDS_REFRESH.format(path=args.path))
    for error in result.errors:
        print(f"  not made: {error}")
    return 1 if result.errors else 0


def cmd_templates_check(args: argparse.Namespace) -> int:
    from pyxl.policy import letter_book
    from pyxl.services.letters import TEMPLATES_DIR
    from pyxl.services.templates import check_templates

    directory = args.dir or TEMPLATES_DIR
    checked, findings = check_templates(letter_book(), directory)
    for finding in findings:
        print(f"  {finding}")
    print(f"Checked {checked} templates in {directory}: {len(findings)} problems")
    return 1 if findings else 0


def cmd_templates_text(args: argparse.Namespace) -> int:
    from pyxl.policy import letter_book
    from pyxl.services.letters import TEMPLATES_DIR
    from pyxl.services.templates import write_texts

    written = write_texts(letter_book(), args.dir or TEMPLATES_DIR)
    print(f"Wrote {len(written)} side-by-side texts in {written[0].parent}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from pyxl.excel.server import serve

    serve(args.host, args.port, ssl_certfile=args.certfile, ssl_keyfile=args.keyfile)


def cmd_report(args: argparse.Namespace) -> int:
    from pyxl.adapters.libreoffice import LibreOfficeError
    from pyxl.services.report import default_output, run_report

    out = args.out or default_output(args.paths, args.as_of)
    steps = _Steps(total=len(args.paths) + 2 + args.pdf)
    try:
        result = run_report(
            args.paths,
            args.as_of,
            out,
            pdf=args.pdf,
            detail=args.detail,
            scheduler=args.scheduler,
            force=args.force,
            progress=steps,
        )
    except LibreOfficeError as exc:
        steps.done()
        print(f"pyxl: the report was written to {out}, but not the PDF: {exc}", file=sys.stderr)
        return 1
    steps.done()
    if result.kept is not None:
        print(f"The file that was at {out} is kept as {result.kept}")
    figures = result.report.snapshot
    print(
        f"As of {args.as_of.isoformat()}: {len(result.parts)} workbook(s), "
        f"{figures['clients']} clients, {figures['open']} open obligations, "
        f"{figures['overdue']} OVERDUE, {figures['errors']} data errors"
    )
    print(f"Report: {result.path}")
    if result.detail is not None:
        print(f"Detail: {result.detail}")
    if result.pdf is not None:
        print(f"PDF: {result.pdf}")
        if result.not_printed:
            print(f"  (long lists in the workbook only: {', '.join(result.not_printed)})")
    print(f"History (trend): {result.history}")
    for skipped in result.skipped:
        print(f"pyxl: left out {skipped.path}: {skipped.reason}", file=sys.stderr)
    return errors.DATA_PROBLEMS if result.skipped else errors.OK


def cmd_export(args: argparse.Namespace) -> int:
    from pyxl.services.export import export

    steps = _Steps(total=len(args.paths))
    result = export(args.paths, args.as_of, args.out, force=args.force, progress=steps)
    steps.done()
    for replaced, backup in result.kept.items():
        print(f"The file that was at {replaced} is kept as {backup}")
    for table, path in result.files.items():
        print(f"{path}: {result.rows[table]} rows")
    for skipped in result.skipped:
        print(f"pyxl: left out {skipped.path}: {skipped.reason}", file=sys.stderr)
    return errors.DATA_PROBLEMS if result.skipped else errors.OK


WORKBOOK_HELP = "the caseload workbook (.xlsx or .xlsm)"
EXIT_CODES_HELP = """exit codes:
  0  done
  1  done, but the data has problems to fix (see the Errors sheet or the lines printed)
  2  nothing done: the input is unusable or writing was refused (the message says why)"""


def _new_workbook_path(text: str) -> Path:
    path = Path(text)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a workbook name: end it in .xlsx (or .xlsm for macros)"
        )
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pyxl",
        description="Caseload deadlines for welfare-to-work offices.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"pyxl {version()}, {speed.choice()}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    today = dt.date.today()

    p = sub.add_parser("new", help="create an empty caseload workbook")
    p.add_argument(
        "path",
        type=_new_workbook_path,
        help="the workbook to create (.xlsx or .xlsm; never replaced)",
    )
    p.add_argument(
        "--as-of",
        type=_date,
        default=today,
        help="centre year of the holiday calendars; example dates count back from it",
    )
    p.add_argument("--empty", action="store_true", help="no example branches, staff and clients")
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
        p.add_argument("path", type=Path, help=WORKBOOK_HELP)
        p.add_argument(
            "--as-of", type=_date, default=today, help="evaluate as of this date (YYYY-MM-DD)"
        )
        p.set_defaults(func=func)

    p = sub.add_parser("letters", help="print the letters due and log them in the workbook")
    p.add_argument("path", type=Path, help=WORKBOOK_HELP)
    p.add_argument("--as-of", type=_date, default=today, help="letter date (YYYY-MM-DD)")
    p.add_argument("--kind", action="append", help="only this letter code (repeatable)")
    p.add_argument("--case", action="append", help="only this case id (repeatable)")
    p.add_argument("--out", type=Path, help="folder for the letters (default letters/DATE)")
    p.add_argument("--pdf", action="store_true", help="also one PDF of the batch (LibreOffice)")
    p.add_argument(
        "--preview",
        action="store_true",
        help="list what printing would make, hold and not make (and why); print and log nothing",
    )
    p.set_defaults(func=cmd_letters)

    p = sub.add_parser("templates", help="letter templates")
    tsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    t = tsub.add_parser("check", help="lint every letter template")
    t.add_argument("--dir", type=Path, help="template folder (default letter_templates)")
    t.set_defaults(func=cmd_templates_check)
    t = tsub.add_parser(
        "text", help="write each letter's English and Spanish texts side by side (Markdown)"
    )
    t.add_argument("--dir", type=Path, help="template folder (default letter_templates)")
    t.set_defaults(func=cmd_templates_text)

    p = sub.add_parser(
        "import-history",
        help="copy the Noncompliance and Penalties history of shared clients from another "
        "branch's workbook (matched on Person ID)",
    )
    p.add_argument("source", type=Path, help="the other branch's workbook (read only)")
    p.add_argument("target", type=Path, help="this branch's workbook (rows are added)")
    p.add_argument("--as-of", type=_date, default=today, help="for reading dates (YYYY-MM-DD)")
    p.set_defaults(func=cmd_import_history)

    p = sub.add_parser("report", help="supervisor report over one or many caseload workbooks")
    p.add_argument(
        "paths", type=Path, nargs="+", metavar="PATH", help="caseload workbooks (only read)"
    )
    p.add_argument("--as-of", type=_date, default=today, help="report as of this date (YYYY-MM-DD)")
    p.add_argument(
        "--out", type=Path, help="report workbook (default: report-DATE.xlsx beside the first)"
    )
    p.add_argument("--pdf", action="store_true", help="also print it to PDF (LibreOffice)")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace --out even if pyxl did not write it as a report (a copy is kept)",
    )
    p.add_argument(
        "--detail",
        action="store_true",
        help="also write the row-level lists (work list, monthly duties, participation per "
        "family; for several workbooks also the client lists) to REPORT-detail.xlsx",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="reduce the workbooks on this Dask cluster (e.g. tcp://host:8786); its workers "
        "must see the same paths",
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "export",
        help="write the Due List, obligations, flow states and penalties of one or many "
        "workbooks as Parquet (for DuckDB, pandas, Power BI)",
    )
    p.add_argument(
        "paths", type=Path, nargs="+", metavar="PATH", help="caseload workbooks (only read)"
    )
    p.add_argument("--as-of", type=_date, default=today, help="as of this date (YYYY-MM-DD)")
    p.add_argument("--out", type=Path, required=True, help="folder for the .parquet files")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace .parquet files in --out that pyxl did not write as an export (a copy "
        "is kept)",
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("demo", help="build and recompute a synthetic caseload (no Excel needed)")
    p.add_argument(
        "dir", type=Path, nargs="?", default=Path("demo"), help="folder for it (default demo)"
    )
    p.add_argument(
        "--as-of", type=_date, default=dt.date(2026, 11, 23), help="its today (default 2026-11-23)"
    )
    p.add_argument("--clients", type=int, default=600, help="how many clients (default 600)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="run the Excel add-in (PYXL functions, buttons) for one user")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--certfile", help="TLS certificate (Excel loads add-ins over HTTPS)")
    p.add_argument("--keyfile", help="TLS private key")
    p.set_defaults(func=cmd_serve)
    return parser


def _one_line(exc: BaseException) -> str:
    """The message of a refusal on one line (messages may hold a newline or two)."""
    return " ".join(str(exc).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors are one line on stderr and an exit code (see errors.py)."""
    try:
        args = build_parser().parse_args(argv)
        if args.func is not cmd_serve:
            speed.keep_freed_memory()
        code = _run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        # The reader went away (`pyxl check x.xlsx | head`): stop quietly, as other commands do.
        with suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return CLOSED_PIPE
    except KeyboardInterrupt:
        print("pyxl: interrupted; the workbook was not changed.", file=sys.stderr)
        return 130


CLOSED_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a command whose reader closed


def _run(args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except UserError as exc:
        return _refuse(_one_line(exc), exc.exit_code)
    except SafeSaveError as exc:  # its messages already say that nothing was written
        return _refuse(_one_line(exc), errors.REFUSED)
    except WorkbookUnreadable as exc:
        path = getattr(args, "path", None)
        named = f"{path}: " if path is not None and path.name not in str(exc) else ""
        advice = "" if exc.advised else "; check that it is the caseload workbook, saved as .xlsx"
        return _refuse(f"{named}{_one_line(exc)}{advice}", errors.REFUSED)
    except LetterInputError as exc:
        return _refuse(_one_line(exc), errors.REFUSED)
    except BrokenPipeError:
        raise
    except OSError as exc:
        return _refuse(errors.describe_os_error(exc), errors.REFUSED)


def _refuse(message: str, code: int) -> int:
    print(f"pyxl: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
