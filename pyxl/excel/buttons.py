"""The add-in's buttons: one registry drives the task pane, the ribbon and the manifest.

Adding a button is one `Button(...)` entry in BUTTONS plus, if it runs new
work, one `@script` function below that calls a service. The task pane
template, the ribbon commands (pyxl.js) and the manifest's ribbon group are
all generated from BUTTONS; a test checks every entry names a script that
exists.

A script can answer in the task pane through two callbacks (pyxl.js): a preview
to confirm (PREVIEW_CALLBACK: a table and the script call that does the work,
e.g. print exactly these letters) and a file to download (OFFER_CALLBACK: a
file kept by pyxl.excel.downloads and served once by the add-in's route).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass

import xlwings as xw
from xlwings.server import script
from xlwings_server.models import CurrentUser

from pyxl.excel import downloads, scripts, uploads, writes
from pyxl.excel.tables import CASE_SHEETS
from pyxl.excel.workers import off_loop
from pyxl.services import letters
from pyxl.services.sheets import schema

PREVIEW_CALLBACK = "pyxlPreview"  # shows a preview in the task pane with a confirm button
OFFER_CALLBACK = "pyxlOffer"  # offers a file made by the script for download
LETTERS_AUDIT = "letters-audit.jsonl"  # in the server's folder: every letter printed
REPORT_HISTORY = "report-history.jsonl"  # in the server's folder: the reports' Trend sheet
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Read:
    """A sheet a button reads: the task pane sends only the span of columns holding these
    headers (all rows, or the rows down to the header row)."""

    sheet: str
    columns: tuple[str, ...]
    header_only: bool = False
    # Only the rows of the clients selected (by the Case ID column; with `selection`);
    # `other_ids`: every other row's Case ID too (the Due List's order follows Clients).
    selected_rows: bool = False
    other_ids: bool = False


def _whole(*sheets: schema.Sheet) -> tuple[Read, ...]:
    return tuple(Read(s.name, s.headers) for s in sheets)


# Refresh reads the tables `pyxl recompute` reads, and nothing else.
REFRESH_READS = _whole(*schema.INPUT_SHEETS, *schema.REFERENCE_SHEETS)
# Refresh selected reads the selected clients' rows and the office-wide sheets whole: a
# client's deadlines depend on its own rows only (pyxl.excel.tables.CASE_SHEETS).
SELECTED_READS = tuple(
    dataclasses.replace(
        r, selected_rows=r.sheet in CASE_SHEETS, other_ids=r.sheet == schema.CLIENTS.name
    )
    for r in REFRESH_READS
)
# The letters read the same tables and the Letters log (what was printed today); the
# report reads what Refresh reads.
LETTERS_READS = (*REFRESH_READS, *_whole(schema.LETTERS))


@dataclass(frozen=True)
class Button:
    id: str  # HTML id, ribbon control id and Office.actions id
    label: str
    script: str  # the custom script it runs
    tooltip: str
    args: tuple[str, ...] = ()  # fixed arguments; "{today}" is the user's local date
    form: str | None = None  # a task-pane form whose fields are the script's arguments
    form_fields: tuple[str, ...] = ()  # the form's field names, in the script's order
    ribbon: bool = True  # also on the ribbon (a form button opens the task pane there)
    pane: bool = False  # answers in the task pane (a preview, a download): the ribbon opens it
    working: str = "reading the workbook, computing, writing"  # the progress line
    # What the pane sends: these sheets' columns in pieces under the request limit, and
    # the Case IDs of the selected rows (`selection`); nothing declared: the whole book.
    reads: tuple[Read, ...] = ()
    selection: bool = False


BUTTONS: tuple[Button, ...] = (
    Button(
        "pyxl-refresh-all",
        "Refresh Due List",
        "refresh_due_list",
        "Recompute every deadline and rewrite the Due List, Errors, Supervisor and grey columns",
        args=("all", "{today}"),
        reads=REFRESH_READS,
    ),
    Button(
        "pyxl-refresh-selected",
        "Refresh selected clients",
        "refresh_due_list",
        "Recompute only the clients on the selected rows; other rows stay as they are",
        args=("selected", "{today}"),
        reads=(*SELECTED_READS, *_whole(schema.DUE_LIST)),
        selection=True,
    ),
    Button(
        "pyxl-log-contact",
        "Log contact",
        "log_contact",
        "Add a contact for the client on the selected row",
        form="contact",
        form_fields=("day", "method", "successful", "meaningful", "purpose", "notes", "staff"),
        reads=(
            Read(schema.CONTACTS.name, schema.CONTACTS.headers, header_only=True),
            Read(schema.CLIENTS.name, ("Case ID",)),
        ),
        selection=True,
    ),
    Button(
        "pyxl-letters-all",
        "Generate letters",
        "preview_letters",
        "Today's letter queue: check it in the task pane, then print one PDF and log the letters",
        args=("all", "{today}"),
        pane=True,
        working="reading the workbook and choosing the letters due",
        reads=LETTERS_READS,
    ),
    Button(
        "pyxl-letters-selected",
        "Letters for selected clients",
        "preview_letters",
        "The letters due for the clients on the selected rows: check, then print and log",
        args=("selected", "{today}"),
        pane=True,
        working="reading the workbook and choosing the letters due",
        reads=LETTERS_READS,
        selection=True,
    ),
    Button(
        "pyxl-report",
        "Build supervisor report",
        "build_report",
        "The supervisor report (an Excel workbook with charts) from this workbook, to download",
        args=("{today}",),
        pane=True,
        working="reading the workbook and building the report",
        reads=REFRESH_READS,
    ),
)
# Scripts the pane runs itself: a preview's confirm button, and the next page of a
# button's writes when they did not fit in one response.
CONFIRM_SCRIPTS = ("generate_letters", "more_writes")


# The scripts are the functions in pyxl.excel.scripts themselves, registered for xlwings Server.
# Each runs in a worker thread (pyxl.excel.workers), so no button holds up another call.
refresh_due_list = script(button=f"Due List!{scripts.BUTTON_CELL}")(off_loop(scripts.refresh))
log_contact = script(off_loop(scripts.log_contact))
more_writes = script(off_loop(scripts.more_writes))


@script
@off_loop
def preview_letters(book: xw.Book, scope: str = "all", as_of: str = "", upload: str = "") -> None:
    """Show the letter queue in the task pane; its confirm button runs generate_letters
    (the pane sends the same sheets again for it)."""
    note = uploads.progress(upload)  # the task pane shows each step as it happens
    note("reading the sheets sent")
    scripts.sent(book, upload)
    cases = scripts.letter_cases(book, scope)
    plan = scripts.plan_letters(book, scripts.as_of_day(as_of), cases, note)
    preview = scripts.letters_preview(plan, "generate_letters")
    if preview["confirm"] is not None:
        preview["confirm"]["reads"] = [dataclasses.asdict(r) for r in LETTERS_READS]
    book.app.macro(PREVIEW_CALLBACK)(json.dumps(preview))


@script
@off_loop
def generate_letters(
    book: xw.Book,
    as_of: str,
    fingerprint: str,
    cases: str,
    current_user: CurrentUser,
    upload: str = "",
) -> None:
    """Print the confirmed queue as one PDF (offered for download) and log it through Excel."""
    note = uploads.progress(upload)
    note("reading the sheets sent")
    scripts.sent(book, upload)
    work = downloads.work_dir()
    try:
        result = scripts.print_letters(
            book,
            scripts.as_of_day(as_of),
            fingerprint,
            json.loads(cases),
            work,
            current_user.name,
            note,
        )
        audit = [{**line, "workbook": book.name} for line in result.audit]
        letters.append_audit(downloads.data_dir() / LETTERS_AUDIT, audit)
        offered = None
        if result.pdf is not None:
            offered = downloads.offer(result.pdf, result.pdf.name, "application/pdf")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _offer(book, offered, scripts.letters_summary(result), result.errors)
    writes.paginate(book, uploads.request_limit())  # a big batch's log rows: in pages


@script
@off_loop
def build_report(book: xw.Book, as_of: str = "", upload: str = "") -> None:
    """Build the supervisor report from the open book and offer it for download."""
    note = uploads.progress(upload)
    note("reading the sheets sent")
    scripts.sent(book, upload)
    day = scripts.as_of_day(as_of)
    work = downloads.work_dir()
    try:
        out = work / f"report-{day.isoformat()}.xlsx"
        made = scripts.supervisor_report(
            book, day, out, downloads.data_dir() / REPORT_HISTORY, note
        )
        offered = downloads.offer(out, out.name, XLSX)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _offer(book, offered, scripts.report_summary(made), [])


def _offer(
    book: xw.Book, offered: downloads.Download | None, summary: str, problems: list[str]
) -> None:
    """Tell the task pane what was done and which file to offer (OFFER_CALLBACK)."""
    payload = {
        "id": offered.id if offered else None,
        "filename": offered.filename if offered else None,
        "summary": summary,
        "problems": problems,
    }
    book.app.macro(OFFER_CALLBACK)(json.dumps(payload))
