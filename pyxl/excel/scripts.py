"""The buttons' work: thin wrappers over pyxl.services for the book Excel sends.

Each script computes everything from the values Office.js sent, then queues
all its writes on the book; xlwings returns them to Excel as one batch of
actions (see pyxl.excel.writes). Nothing here knows a rule.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlwings as xw

from pyxl import now
from pyxl.domain.model import STATUS_ORDER
from pyxl.excel import uploads, writes
from pyxl.excel.cells import CellError, read_date
from pyxl.excel.tables import EvaluationCache, SentBook, case_key, header_spec
from pyxl.policy import letter_book
from pyxl.services import letters, report
from pyxl.services.recompute import (
    READ_SHEETS,
    Evaluation,
    build_patch,
    due_list_rows,
    evaluate_raw,
    needs_refresh_line,
    refresh_stamp,
)
from pyxl.services.sheets import (
    Patch,
    RawSheet,
    RawWorkbook,
    check_rows,
    find_header,
    save_report,
    schema,
)

SCOPES = ("all", "selected")
BUTTON_CELL = "N1"  # the Due List's sheet button: selecting this cell refreshes everything
BUTTON_LABEL = "⟳ Refresh (select this cell)"


_SENT: weakref.WeakKeyDictionary[Any, SentBook] = weakref.WeakKeyDictionary()


def sent(book: Any, upload: str = "") -> SentBook:
    """The values Excel sent with this call (the pane's upload if it names one, else the
    book's own values), read once however many helpers ask."""
    found = _SENT.get(book.impl)
    if found is None:
        if upload:
            taken = uploads.take(upload)
            if taken is None:
                raise xw.XlwingsError(
                    "the sheets sent for this button were not found (used already, or sent "
                    "over an hour ago): press the button again"
                )
            found = SentBook(taken.grids, True, taken.selected, taken.digest)
        else:
            found = SentBook.of(book)
        _SENT[book.impl] = found
    return found


def _book_raw(book: Any) -> RawWorkbook:
    _require_caseload(book)
    return sent(book).raw(READ_SHEETS)


def _require_caseload(book: Any) -> None:
    names = {s.name for s in book.sheets}
    needed = {schema.DUE_LIST.name, schema.ERRORS.name, schema.CLIENTS.name}
    missing = sorted(needed - names)
    if missing:
        raise xw.XlwingsError(
            f"this is not a pyxl caseload workbook: no {', '.join(missing)} sheet"
        )


def as_of_day(text: str) -> dt.date:
    """The as-of date a button sends (the user's local date), today if blank."""
    if not text:
        return dt.date.today()
    try:
        day = read_date(text, "as-of date")
    except CellError as exc:
        raise xw.XlwingsError(str(exc)) from None
    return day or dt.date.today()


def selected_case_ids(book: Any) -> list[str]:
    """Case IDs on the selected rows of the active sheet (any sheet with a Case ID column)."""
    chosen = sent(book).selected
    if chosen is not None:  # the pane read them from the selected rows
        cases = list(dict.fromkeys(c.strip() for c in chosen if c and c.strip()))
        if not cases:
            raise xw.XlwingsError(
                "no client on the selected rows: select one or more clients' rows"
            )
        return cases
    selection = book.selection
    if selection is None:
        raise xw.XlwingsError("select one or more clients' rows first")
    sheet = selection.sheet
    spec = schema.SHEETS.get(sheet.name)
    address = selection.address.replace("$", "")
    if spec is None or "Case ID" not in spec.headers or not address:
        raise xw.XlwingsError("select rows on Clients, Due List or a sheet with a Case ID column")
    values = sent(book).values(sheet.name)
    found = find_header(RawSheet(sheet.name, values), header_spec(spec))
    if found is None:
        raise xw.XlwingsError(f"the {sheet.name} sheet has no Case ID header")
    header_row, positions = found
    column = positions["Case ID"]
    cases: list[str] = []
    for part in address.split(","):
        first, _, last, _ = writes.parse_address(part)
        for r in range(max(first, header_row + 2), last + 1):
            if r - 1 < len(values) and column < len(values[r - 1]):
                case = str(values[r - 1][column] or "").strip()
                if case and case not in cases:
                    cases.append(case)
    if not cases:
        raise xw.XlwingsError("no client on the selected rows: select one or more clients' rows")
    return cases


def refresh(book: xw.Book, scope: str = "all", as_of: str = "", upload: str = "") -> Evaluation:
    """Recompute, then write the Due List, Errors and the Clients summary columns in one go.

    `upload` names the sheets the task pane sent for this call (pyxl.excel.uploads);
    without it the script reads the book's own values.
    """
    if scope not in SCOPES:
        raise xw.XlwingsError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    note = uploads.progress(upload)  # the task pane shows each step as it happens
    note("reading the sheets sent")
    sent(book, upload)
    selected = selected_case_ids(book) if scope == "selected" else None
    ev = evaluate(book, as_of_day(as_of), selected, note)  # the selected clients' rows only
    note("making the writes")
    patch = build_patch(ev, heights=False)  # Excel sizes its rows itself
    clients = patch.columns.get(schema.CLIENTS.name)
    if selected is None:
        due_rows = list(patch.tables[schema.DUE_LIST.name].rows)
        writes.replace_table_body(book, schema.ERRORS, patch.tables[schema.ERRORS.name].rows)
        last = book.sheets[schema.CLIENTS.name].used_range.last_cell.row
        client_rows = range(clients.first_row, last + 1) if clients else range(0)
    else:
        unknown = [c for c in selected if c not in ev.workbook.client_rows]
        if unknown:
            raise xw.XlwingsError(
                f"not refreshed: {', '.join(unknown)} not on Clients or its row has errors "
                "(see Errors)"
            )
        due_rows = _merged_due_list(book, ev, set(selected))
        client_rows = [ev.workbook.client_rows[c] for c in selected]
    writes.replace_table_body(book, schema.DUE_LIST, due_rows)
    if clients:
        writes.write_columns(
            book, schema.CLIENTS.name, clients.columns, dict(clients.values), list(client_rows)
        )
    penalties = patch.columns.get(schema.PENALTIES.name)
    if penalties and selected is None:  # the computed columns of the penalty history
        rows = sorted(penalties.values)
        writes.write_columns(
            book, schema.PENALTIES.name, penalties.columns, dict(penalties.values), rows
        )
    stamp = refresh_stamp(ev.as_of, who="Excel")
    _status_line(book, ev, len(due_rows), scope, stamp)
    if schema.SUPERVISOR.name in {s.name for s in book.sheets}:
        _supervisor(book, patch, stamp, selected)
    writes.paginate(book, uploads.request_limit())
    return ev


_EVALUATIONS = EvaluationCache()


def evaluate(
    book: Any,
    as_of: dt.date,
    cases: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """The caseload's evaluation (of these clients only, if given: each client's deadlines
    depend on its own rows and the office-wide sheets), from the cache when the same tables
    were evaluated for the same day (a Refresh pressed again with nothing changed).
    `progress` hears each step (checking the sheets, evaluating)."""
    _require_caseload(book)
    key = sent(book).key(READ_SHEETS, as_of, cases)
    note = progress or (lambda _: None)

    def make() -> Evaluation:
        raw = sent(book).raw(READ_SHEETS, cases)
        return _evaluated(raw, as_of, note)

    return _EVALUATIONS.get_or_make(key, make)


# The evaluation's steps (pyxl.services.recompute) as the task pane words them.
_STEPS = {"reading and checking": "checking the sheets"}


def _evaluated(raw: RawWorkbook, as_of: dt.date, progress: Callable[[str], None]) -> Evaluation:
    """The evaluation, its steps told to `progress` in the task pane's words."""
    return evaluate_raw(raw, as_of, lambda step: progress(_STEPS.get(step, step)))


def forget_evaluations() -> None:
    """Empty the evaluation cache (benchmarks time a first press with it)."""
    _EVALUATIONS.clear()


def more_writes(book: xw.Book, key: str) -> None:
    """The next page of a button's writes that did not fit in one response."""
    found = uploads.next_page(key)
    if found is None:
        raise xw.XlwingsError("these writes were already made, or are over an hour old")
    page, left = found
    book.json()["actions"].extend(page)
    if left:
        writes.more_to_come(book, key, left)


def _merged_due_list(book: Any, ev: Evaluation, cases: set[str]) -> list[list[object]]:
    """The Due List with the selected clients' rows recomputed and everyone else's kept."""
    values = sent(book).values(schema.DUE_LIST.name)
    found = find_header(RawSheet(schema.DUE_LIST.name, values), header_spec(schema.DUE_LIST))
    width = len(schema.DUE_LIST.columns)
    kept: list[list[object]] = []
    if found is not None:
        header_row, _ = found
        for row in values[header_row + 1 :]:
            row = (list(row) + [None] * width)[:width]
            if any(v not in (None, "") for v in row) and str(row[0]).strip() not in cases:
                kept.append(row)
    fresh = [r for r in due_list_rows(ev) if r[0] in cases]
    order = sent(book).client_order()  # ties go by the Clients sheet's order, as in a full one
    status_rank = {str(s): i for i, s in enumerate(STATUS_ORDER)}

    def urgency(row: Sequence[object]) -> tuple[int, int, int]:
        due = row[8]
        due_ordinal = due.toordinal() if isinstance(due, dt.date) else 10**9
        return status_rank.get(str(row[9]), 99), due_ordinal, order.get(case_key(row[0]), 10**9)

    return sorted(kept + fresh, key=urgency)


def _supervisor(book: Any, patch: Patch, stamp: str, selected: Sequence[str] | None) -> None:
    """The Supervisor table as `pyxl recompute` writes it, stamped like the Due List. After
    a Refresh of selected clients its counts stay, marked as needing a full Refresh: the
    other clients' Due List rows and the Errors sheet are from the last full Refresh, and
    the counts must agree with them."""
    sheet = book.sheets[schema.SUPERVISOR.name]
    if selected is not None:
        who = "client" if len(selected) == 1 else "clients"
        sheet["A2"].value = needs_refresh_line(
            f"Refresh selected clients recomputed {len(selected)} {who} on {now():%Y-%m-%d %H:%M}"
        )
        return
    table = patch.tables[schema.SUPERVISOR.name]
    writes.replace_table_body(book, schema.SUPERVISOR, table.rows)
    writes.add_links(book, schema.SUPERVISOR, table.rows, table.links or [])
    sheet["A2"].value = f"{stamp} {schema.SUPERVISOR.description}"


def _status_line(book: Any, ev: Evaluation, rows: int, scope: str, stamp: str) -> None:
    errors = len(ev.workbook.errors)
    warnings = len(ev.problems) - errors
    what = "all clients" if scope == "all" else "the selected clients"
    sheet = book.sheets[schema.DUE_LIST.name]
    sheet["A2"].value = (
        f"{stamp} {schema.DUE_LIST.description} Last refresh: {what}, {rows} rows; "
        f"data problems: {errors} errors, {warnings} warnings."
    )
    sheet[BUTTON_CELL].value = BUTTON_LABEL


# ---------------------------------------------------------------- log a contact


def contact_row(
    book: Any,
    case_id: str,
    day: str,
    method: str,
    successful: str,
    meaningful: str,
    purpose: str,
    notes: str,
    staff: str,
) -> list[object]:
    """The new Contacts row in the table's own column order, validated like typed rows."""
    values = sent(book).values(schema.CONTACTS.name)
    found = find_header(RawSheet(schema.CONTACTS.name, values), schema.CONTACTS)
    if found is None:
        raise xw.XlwingsError("the Contacts sheet has no header row")
    header_row, positions = found
    typed = {
        "Case ID": case_id,
        "Date": day,
        "Method": method,
        "Successful": successful,
        "Meaningful": meaningful,
        "Purpose": purpose,
        "Note Entered": dt.date.today().isoformat(),
        "Staff": staff,
        "Notes": notes,
    }
    width = len(values[header_row])
    row: list[object] = [None] * width
    for header, value in typed.items():
        if header in positions and value not in (None, ""):
            row[positions[header]] = value
    checked, problems = check_rows(
        RawSheet(schema.CONTACTS.name, [*values[: header_row + 1], row]), schema.CONTACTS
    )
    bad = [p for p in problems if p.severity == "error"]
    if bad or not checked.rows:
        raise xw.XlwingsError(
            "contact not logged: " + "; ".join(f"{p.column}: {p.message}" for p in bad)
        )
    for header, column in positions.items():
        if schema.CONTACTS.column(header).kind == "date" and isinstance(row[column], str):
            row[column] = dt.date.fromisoformat(row[column])
    return [writes.cell_value(v) for v in row]


def log_contact(
    book: xw.Book,
    day: str,
    method: str,
    successful: str,
    meaningful: str = "",
    purpose: str = "",
    notes: str = "",
    staff: str = "",
    upload: str = "",
) -> str:
    """Append one contact for the client on the selected row; returns its case ID."""
    sent(book, upload)
    cases = selected_case_ids(book)
    if len(cases) != 1:
        raise xw.XlwingsError(f"select one client's row (selected: {', '.join(cases)})")
    case_id = cases[0]
    known = {
        str(r[0]).strip()
        for r in sent(book).values(schema.CLIENTS.name)[schema.HEADER_ROW :]
        if r and r[0]
    }
    if case_id not in known:
        raise xw.XlwingsError(f"case {case_id} is not on the Clients sheet")
    row = contact_row(book, case_id, day, method, successful, meaningful, purpose, notes, staff)
    sheet = book.sheets[schema.CONTACTS.name]
    table = writes.find_table(sheet, schema.CONTACTS)
    # Office.js adds the row at the table's end in one step: a co-author's row is never hit.
    table.rows.add(row, None)
    return case_id


# ---------------------------------------------------------------- letters


@dataclass
class LetterPlan:
    """The letters a batch would print, computed from the open book; nothing written yet."""

    ev: Evaluation
    extras: letters.WorkbookExtras
    queue: list[letters.QueuedLetter]
    cases: list[str]  # the selected clients; empty for the whole day's queue
    problems: list[letters.NotMade]  # letters that cannot be made: what to fill in, where
    printable: int = 0  # letters printing will make (not held, nothing missing)

    @property
    def fingerprint(self) -> str:
        """Names this exact queue: printing refuses if the book changed since the preview."""
        keys = sorted(
            f"{q.request.case_id}\t{q.request.code}\t{q.logged_today}" for q in self.queue
        )
        text = "\n".join([self.ev.as_of.isoformat(), *self.cases, "", *keys])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def new(self) -> int:
        return sum(not q.logged_today for q in self.queue)


def letter_cases(book: Any, scope: str) -> list[str]:
    """The clients a letters button is for: the selected rows', or none (the whole queue)."""
    if scope not in SCOPES:
        raise xw.XlwingsError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    return selected_case_ids(book) if scope == "selected" else []


def plan_letters(
    book: Any,
    as_of: dt.date,
    cases: Sequence[str] = (),
    progress: Callable[[str], None] = lambda _: None,
) -> LetterPlan:
    """The day's letter queue (or the given clients') by the same rules as `pyxl letters`;
    `progress` hears each step."""
    names = {s.name for s in book.sheets}
    missing = [s.name for s in (schema.LETTERS, schema.CONTACTS) if s.name not in names]
    if missing:
        raise xw.XlwingsError(
            f"this workbook has no {', '.join(missing)} sheet, where letters are logged: "
            "create a new workbook with `pyxl new` and copy the data over"
        )
    _book_raw(book)  # refuses a book that is not a caseload
    raw = sent(book).raw(READ_SHEETS | letters.EXTRA_SHEETS)
    ev = _evaluated(raw, as_of, progress)
    progress("making the letter queue")
    for sheet in raw.sheets.values():
        sheet.cells()  # the letters' extras read the cells, not the typed columns
    extras = letters.WorkbookExtras.from_sheets(raw.sheets)
    book_of_letters = letter_book()
    queue = letters.build_queue(ev, extras, book_of_letters, (), cases)
    jobs, _, problems = letters.letter_jobs(queue, ev, extras, book_of_letters)
    return LetterPlan(ev, extras, queue, list(cases), problems, len(jobs))


def letters_preview(plan: LetterPlan, script: str) -> dict[str, object]:
    """What the task pane shows before printing, and the call that prints exactly this."""
    who = f"the selected clients ({', '.join(plan.cases)})" if plan.cases else "today's queue"
    count = len(plan.queue)
    again = count - plan.new
    title = f"Letters for {who} as of {plan.ev.as_of.isoformat()}: {count} letters"
    if again:
        title += f" ({again} already printed today: printed again, not logged twice)"
    return {
        "title": title if count else f"No letters are due for {who}.",
        "headers": list(letters.QUEUE_HEADERS),
        "rows": letters.queue_rows(plan.queue, plan.problems),
        "problems": plan.problems,
        "confirm": {
            "label": f"Print {plan.printable} letters and log them",
            "script": script,
            "working": "rendering the letters, making one PDF, logging them",
            "args": [plan.ev.as_of.isoformat(), plan.fingerprint, json.dumps(plan.cases)],
        }
        if plan.printable
        else None,
    }


def print_letters(
    book: Any,
    as_of: dt.date,
    fingerprint: str,
    cases: Sequence[str],
    out_dir: Path,
    user: str,
    progress: Callable[[str], None] = lambda _: None,
) -> letters.LettersResult:
    """Print the previewed queue (one PDF) and log the new letters through Excel in one go.

    The queue is computed again from the book as it is now; if it is not the one the
    user confirmed (a co-author logged letters, the data changed), nothing is printed.
    """
    plan = plan_letters(book, as_of, cases, progress)
    if fingerprint != plan.fingerprint:
        raise xw.XlwingsError(
            "the letter queue changed since the preview (the workbook was edited): nothing "
            "was printed or logged. Press Generate letters again to see the new queue."
        )
    book_of_letters = letter_book()
    progress("rendering the letters and making one PDF")
    result = letters.make_letters(
        plan.ev, plan.extras, book_of_letters, plan.queue, out_dir, pdf=True, user=user
    )
    progress("logging the letters")
    log = letters.log_rows(result, as_of, book_of_letters, user)
    for spec in (schema.LETTERS, schema.CONTACTS, schema.APPOINTMENTS):
        if log.get(spec.name):
            writes.append_table_rows(book, spec, log[spec.name])
    return result


def letters_summary(result: letters.LettersResult) -> str:
    """One line on what a batch did: printed, logged, not made."""
    made = len(result.made)
    text = f"{made} letters printed in batch {result.batch}" if made else "No letters printed"
    text += f"; {result.logged} logged on the Letters and Contacts sheets"
    if made > result.logged:
        text += f" ({made - result.logged} already logged today, not logged again)"
    if result.errors:
        text += f"; {len(result.errors)} not made (see below)"
    return text + "."


# ---------------------------------------------------------------- supervisor report


def supervisor_report(
    book: Any,
    as_of: dt.date,
    out: Path,
    history: Path,
    progress: Callable[[str], None] = lambda _: None,
) -> report.Report:
    """The supervisor report of the open book, as `pyxl report` makes it from a file: written
    to `out`, its dated snapshot added to the `history` file that gives the Trend sheet;
    `progress` hears each step."""
    ev = _evaluated(_book_raw(book), as_of, progress)
    progress("building the report")
    made = report.build_report(
        [report.reduce_evaluation(Path(book.name).name, ev)], as_of, report.read_history(history)
    )
    progress("writing the report file")
    save_report(made, out)
    report.append_history(history, made.snapshot)
    return made


def report_summary(made: report.Report) -> str:
    figures = made.snapshot
    return (
        f"Supervisor report for {made.scope} as of {made.as_of.isoformat()}: "
        f"{figures.get('clients')} clients, {figures.get('open')} open obligations, "
        f"{figures.get('overdue')} overdue, {figures.get('due_soon')} due soon."
    )
