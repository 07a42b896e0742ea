"""The desktop route: desktop Excel with local Python (classic xlwings, Windows or macOS).

The macros in macros/*.bas call the entry points below through RunPython, and
the classic "Import Functions" (UDF Modules = pyxl.excel.desktop) registers the
PYXL_* worksheet functions. Both are thin wrappers over the same code the
xlwings Server add-in runs (pyxl.excel.scripts, pyxl.excel.functions).

Classic UDFs cannot return an Excel error carrying a message, so a cell whose
value cannot be computed shows the error code and the message as text (for
example "#N/A: case C-9 is not in the Clients table"): never a blank.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import xlwings as xw

from pyxl.excel import functions, scripts
from pyxl.excel.cells import DATE_FORMAT, Grid, is_excel_error
from pyxl.services import letters, report

_CODES = {"Value": "#VALUE!", "NotAvailable": "#N/A", "Num": "#NUM!"}


# ---------------------------------------------------------------- RunPython entry points


def refresh_due_list(scope: str = "all") -> None:
    """The Refresh buttons: scope 'all' or 'selected' (the clients on the selected rows)."""
    scripts.refresh(xw.Book.caller(), scope)


def log_contact(*fields: str) -> None:
    """The Log contact button: one Contacts row for the client on the selected row.

    The fields are pyxl.excel.scripts.log_contact's, after the book: day, method,
    successful, meaningful, purpose, notes, staff.
    """
    scripts.log_contact(xw.Book.caller(), *fields)


def generate_letters(scope: str = "all") -> None:
    """The Generate letters buttons: scope 'all' (today's queue) or 'selected' (the clients
    on the selected rows). The queue is shown for OK/Cancel; then one PDF is made in a
    letters folder beside the workbook and the letters are logged through Excel."""
    book = xw.Book.caller()
    as_of = dt.date.today()
    plan = scripts.plan_letters(book, as_of, scripts.letter_cases(book, scope))
    preview = scripts.letters_preview(plan, "")
    confirm = preview["confirm"]
    text = preview_text(preview)
    if not isinstance(confirm, dict):
        book.app.alert(text, title="pyxl letters")
        return
    answer = book.app.alert(f"{text}\n\n{confirm['label']}?", "pyxl letters", "ok_cancel")
    if answer != "ok":
        return
    workbook, local = _workbook_path(book)
    folder = _output_dir(book) / "letters" / as_of.isoformat()
    user = letters.user_name()
    result = scripts.print_letters(book, as_of, plan.fingerprint, plan.cases, folder, user)
    audit = letters.audit_path(workbook) if local else folder / "letters-audit.jsonl"
    letters.append_audit(audit, [{**line, "workbook": book.name} for line in result.audit])
    where = f"\nPDF: {result.pdf}" if result.pdf else ""
    book.app.alert(scripts.letters_summary(result) + where, title="pyxl letters")


def build_report() -> None:
    """The Build supervisor report button: report-DATE.xlsx beside the workbook (its
    history file beside it gives the Trend sheet), then a message says where it is."""
    book = xw.Book.caller()
    as_of = dt.date.today()
    out = _output_dir(book) / f"report-{as_of.isoformat()}.xlsx"
    made = scripts.supervisor_report(book, as_of, out, report.history_file(out))
    book.app.alert(f"{scripts.report_summary(made)}\nReport: {out}", title="pyxl report")


def _workbook_path(book: Any) -> tuple[Path, bool]:
    """The workbook's path, and whether it is a local file (not a SharePoint/OneDrive URL)."""
    workbook = Path(book.fullname)
    return workbook, workbook.parent.is_dir()


def _output_dir(book: Any) -> Path:
    """Where the buttons put files: beside a local workbook, else ~/pyxl."""
    workbook, local = _workbook_path(book)
    folder = workbook.parent if local else Path.home() / "pyxl"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def preview_text(preview: dict[str, Any], shown: int = 20) -> str:
    """A letters preview as a message box shows it: the title, the first letters, problems."""
    rows = preview["rows"]
    lines = [str(preview["title"]), *(f"  {r[0]}  {r[1]}  {r[3]}" for r in rows[:shown])]
    if len(rows) > shown:
        lines.append(f"  ... and {len(rows) - shown} more")
    lines += [f"Will not be made: {p}" for p in preview["problems"]]
    return "\n".join(lines)


# ---------------------------------------------------------------- classic UDFs


def _desktop(compute: Callable[..., Grid], *args: Any) -> Grid:
    try:
        grid = compute(*args)
    except functions.FunctionError as exc:
        return [[f"#VALUE!: {exc}"]]
    return [[_shown(v) for v in row] for row in grid]


def _shown(value: object) -> object:
    if is_excel_error(value):
        assert isinstance(value, dict)
        return f"{_CODES.get(value['errorType'], '#VALUE!')}: {value['message']}"
    return value


@xw.func
@xw.arg("start", ndim=2)
@xw.arg("days", ndim=2)
@xw.arg("calendar", ndim=2)
@xw.arg("holidays", ndim=2)
@xw.ret(date_format=DATE_FORMAT)
def pyxl_workday(start, days, calendar, holidays=None):
    """WORKDAY on an office calendar (see PYXL.WORKDAY)."""
    return _desktop(functions.workday, start, days, calendar, holidays)


@xw.func
@xw.arg("start", ndim=2)
@xw.arg("end", ndim=2)
@xw.arg("calendar", ndim=2)
@xw.arg("holidays", ndim=2)
def pyxl_networkdays(start, end, calendar, holidays=None):
    """NETWORKDAYS on an office calendar (see PYXL.NETWORKDAYS)."""
    return _desktop(functions.networkdays, start, end, calendar, holidays)


@xw.func
@xw.arg("rule", ndim=2)
@xw.arg("trigger", ndim=2)
@xw.arg("calendar", ndim=2)
@xw.arg("holidays", ndim=2)
@xw.arg("settings", ndim=2)
@xw.ret(date_format=DATE_FORMAT)
def pyxl_due_date(rule, trigger, calendar, holidays=None, settings=None):
    """A rule's due date for a trigger date (see PYXL.DUE_DATE)."""
    return _desktop(functions.due_date, rule, trigger, calendar, holidays, settings)


@xw.func
@xw.arg("case_ids", ndim=2)
@xw.arg("tables", ndim=2)
def pyxl_status(case_ids, as_of, *tables):
    """Each client's most urgent status (see PYXL.STATUS)."""
    return _desktop(functions.status, case_ids, as_of, *tables)


@xw.func
@xw.arg("case_ids", ndim=2)
@xw.arg("tables", ndim=2)
def pyxl_next_action(case_ids, as_of, *tables):
    """Each client's next action (see PYXL.NEXT_ACTION)."""
    return _desktop(functions.next_action, case_ids, as_of, *tables)


@xw.func
@xw.arg("case_ids", ndim=2)
@xw.arg("tables", ndim=2)
@xw.ret(date_format=DATE_FORMAT)
def pyxl_next_due(case_ids, as_of, *tables):
    """Each client's next due date (see PYXL.NEXT_DUE)."""
    return _desktop(functions.next_due, case_ids, as_of, *tables)


@xw.func
@xw.arg("keys", ndim=2)
@xw.arg("tables", ndim=2)
def pyxl_overdue_count(keys, as_of, *tables):
    """Overdue obligations per case, branch or case manager (see PYXL.OVERDUE_COUNT)."""
    return _desktop(functions.overdue_count, keys, as_of, *tables)


UDFS = (
    pyxl_workday,
    pyxl_networkdays,
    pyxl_due_date,
    pyxl_status,
    pyxl_next_action,
    pyxl_next_due,
    pyxl_overdue_count,
)
