"""Recompute a caseload workbook: read and validate, evaluate the rules, write the results.

The one use case behind `pyxl recompute`, `pyxl check`, the demo and the Excel
Refresh button. Workbook bytes in, computed sheets out; the domain never sees
a file.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import numpy as np
import pyarrow.compute as pc
from lxml import etree

from pyxl.adapters import safe_save, schema
from pyxl.adapters.validation import Problem, ValidatedWorkbook, validate_workbook
from pyxl.adapters.workbook_patch import ColumnValues, Patch, TableRows, apply_patch
from pyxl.adapters.workbook_reader import WorkbookUnreadable, read_raw, sheet_parts
from pyxl.domain.calendar import BusinessCalendar
from pyxl.domain.columns import TableColumns
from pyxl.domain.engine import Obligations, evaluate
from pyxl.domain.model import STATUS_ORDER, Status
from pyxl.domain.obligations import OPEN_STATUSES, explain
from pyxl.domain.reference import WEEKENDS_ONLY
from pyxl.domain.rules import RuleBook
from pyxl.policy import default_settings, rulebook

Progress = Callable[[str], None]
READ_SHEETS = {s.name for s in (*schema.INPUT_SHEETS, *schema.REFERENCE_SHEETS)}


@dataclass
class Evaluation:
    """A workbook's data, its problems and its obligations as of a date."""

    as_of: dt.date
    workbook: ValidatedWorkbook
    obligations: Obligations
    calendars: dict[str, BusinessCalendar]  # by branch
    book: RuleBook

    @property
    def problems(self) -> list[Problem]:
        return self.workbook.problems

    def status_counts(self) -> dict[Status, int]:
        return self.obligations.status_counts()

    @property
    def clients(self) -> TableColumns:
        return self.workbook.table("Clients")

    def counts_by_branch(self) -> dict[str, Counter[Status]]:
        branches = self.clients.values("branch")
        out: dict[str, Counter[Status]] = {}
        for case, status in zip(self.obligations.case, self.obligations.status, strict=True):
            out.setdefault(branches[case], Counter())[STATUS_ORDER[status]] += 1
        return dict(sorted(out.items()))

    def explanation(self, i: int) -> str:
        return self.explanations([i])[0]

    def explanations(self, indices: Sequence[int] | np.ndarray) -> list[str]:
        """The explanation of each obligation. Thousands of cases share a rule, dates, counts
        and calendar, and so an explanation: each distinct one is written once."""
        ob = self.obligations
        idx = np.asarray(indices, dtype=np.int64)
        branch_calendar = [
            id(self.calendars.get(b, WEEKENDS_ONLY)) for b in self.clients.values("branch")
        ]
        keys = zip(
            *(
                a[idx].tolist()
                for a in (
                    ob.rule,
                    ob.trigger,
                    ob.due,
                    ob.status,
                    ob.days_overdue,
                    ob.met_on,
                    ob.found,
                    ob.methods_found,
                    ob.period_start,
                    ob.period_end,
                )
            ),
            (ob.reason[i] for i in idx.tolist()),
            (branch_calendar[c] for c in ob.case[idx].tolist()),
            strict=True,
        )
        written: dict[tuple, str] = {}
        out = []
        for i, key in zip(idx.tolist(), keys, strict=True):
            text = written.get(key)
            if text is None:
                o = ob.record(i)
                branch = self.clients.values("branch")[ob.case[i]]
                text = written[key] = explain(
                    o,
                    self.book.rules[o.rule_id],
                    self.workbook.settings,
                    self.calendars.get(branch, WEEKENDS_ONLY),
                )
            out.append(text)
        return out


def office_calendars(validated: ValidatedWorkbook) -> dict[str, BusinessCalendar]:
    """Each branch's business-day calendar, from the Holidays sheet (closed days only)."""
    holidays = validated.domain_rows("Holidays")
    branches = validated.domain_rows("Branches")
    by_calendar = {
        name: BusinessCalendar.from_holidays(name, holidays)
        for name in {b.calendar for b in branches}
    }
    return {b.name: by_calendar[b.calendar] for b in branches}


def evaluate_bytes(data: bytes, as_of: dt.date, progress: Progress | None = None) -> Evaluation:
    # Millions of small objects and no cycles: the cyclic collector would only rescan them.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _evaluate_bytes(data, as_of, progress)
    finally:
        if collecting:
            gc.enable()


def _evaluate_bytes(data: bytes, as_of: dt.date, progress: Progress | None) -> Evaluation:
    note = progress or (lambda _: None)
    note("reading")
    raw = read_raw(data, READ_SHEETS, columnar=schema.HEADER_ROW - 1)
    note("validating")
    validated = validate_workbook(raw, default_settings(), as_of)
    note("evaluating")
    calendars = office_calendars(validated)
    book = rulebook()
    obligations = evaluate(validated.columns, book, validated.settings, calendars, as_of)
    return Evaluation(as_of, validated, obligations, calendars, book)


# ---------------------------------------------------------------- what gets written


def due_list_rows(ev: Evaluation) -> list[list[object]]:
    shown = list(OPEN_STATUSES) + (
        [Status.MET] if ev.workbook.settings["Due List shows met"] else []
    )
    ob = ev.obligations
    idx = ob.by_urgency(shown)
    case = ob.case[idx]
    identity = [
        _take(ev.clients.values(name), case)
        for name in ("case_id", "client_name", "program", "branch", "case_manager")
    ]
    rules = [ev.book.rules[r] for r in ob.rule_ids]
    rule_index = ob.rule[idx].tolist()
    days = _days(ob.trigger[idx], ob.due[idx])
    overdue = [d or None for d in ob.days_overdue[idx].tolist()]
    status = [str(STATUS_ORDER[s]) for s in range(len(STATUS_ORDER))]
    return [
        [*ids, rules[r].id, rules[r].title, trigger, due, status[st], late, text]
        for *ids, r, trigger, due, st, late, text in zip(
            *identity,
            rule_index,
            *days,
            ob.status[idx].tolist(),
            overdue,
            ev.explanations(idx),
            strict=True,
        )
    ]


def _take(values: Sequence[object], positions: np.ndarray) -> list[str]:
    """values[p] as text for every position p."""
    column = np.empty(len(values), dtype=object)
    column[:] = [str(v) for v in values]
    return column[positions].tolist()


def _days(*ordinal_arrays: np.ndarray) -> list[list[dt.date | None]]:
    """Ordinal arrays as dates (0 -> None), each distinct day made once."""
    made: dict[int, dt.date | None] = {}
    out = []
    for array in ordinal_arrays:
        values = array.tolist()
        for o in set(values) - made.keys():
            made[o] = _day(o)
        out.append([made[o] for o in values])
    return out


def client_summaries(ev: Evaluation) -> dict[str, tuple[dt.date | None, str | None, int]]:
    """Per case: next due date and rule among open obligations, and the overdue count."""
    ob = ev.obligations
    n = len(ev.clients)
    open_codes = [STATUS_ORDER.index(s) for s in OPEN_STATUSES]
    is_open = np.isin(ob.status, open_codes) & (ob.due > 0)
    overdue = np.bincount(ob.case[ob.status == 0], minlength=n)
    next_due = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(next_due, ob.case[is_open], ob.due[is_open])
    # The rule of each case's first open obligation (in evaluation order) due on its next date.
    at_next = np.flatnonzero(is_open & (ob.due == next_due[ob.case]))
    cases, first = np.unique(ob.case[at_next], return_index=True)
    rule_of = dict(
        zip(cases.tolist(), (ob.rule_ids[r] for r in ob.rule[at_next[first]].tolist()), strict=True)
    )
    has = next_due != np.iinfo(np.int64).max
    (next_days,) = _days(np.where(has, next_due, 0))
    return {
        case_id: (next_days[c], rule_of.get(c), late)
        for c, (case_id, late) in enumerate(
            zip(ev.clients.values("case_id"), overdue.tolist(), strict=True)
        )
    }


def error_rows(problems: list[Problem]) -> list[list[object]]:
    return [
        [p.sheet, p.row or None, p.column, p.cell, p.severity, p.value, p.message] for p in problems
    ]


def _day(ordinal: int) -> dt.date | None:
    return dt.date.fromordinal(int(ordinal)) if ordinal else None


def _row_heights(sheet: schema.Sheet, rows: list[list[object]]) -> list[float | None]:
    """Each row's height for its wrapped text, worked out once per distinct wrapped text."""
    wrapped = [i for i, c in enumerate(sheet.columns) if c.wrap]
    heights: dict[tuple, float | None] = {}
    out = []
    for row in rows:
        key = tuple(row[i] if i < len(row) else None for i in wrapped)
        if key not in heights:
            heights[key] = schema.row_height(sheet, row)
        out.append(heights[key])
    return out


def check_writable(data: bytes) -> None:
    """pyxl writes only into a caseload workbook: one that has the sheets it fills in."""
    try:
        present = set(sheet_parts(zipfile.ZipFile(io.BytesIO(data)))[0])
    except (zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as exc:
        raise WorkbookUnreadable(f"not a readable .xlsx/.xlsm workbook ({exc})") from exc
    needed = {schema.DUE_LIST.name, schema.ERRORS.name, schema.CLIENTS.name}
    missing = sorted(needed - present)
    if missing:
        raise WorkbookUnreadable(
            f"this is not a pyxl caseload workbook: no {', '.join(repr(m) for m in missing)} "
            "sheet. Create one with `pyxl new`, or run `pyxl check` to see what it holds."
        )


def build_patch(ev: Evaluation) -> Patch:
    clients = ev.workbook.sheets["Clients"]
    summary = client_summaries(ev)
    computed = [c.header for c in schema.CLIENTS.columns if c.computed]
    positions = clients.positions
    columns = [positions[h] for h in computed if h in positions]
    tables = {schema.DUE_LIST: due_list_rows(ev), schema.ERRORS: error_rows(ev.problems)}
    patch = Patch(
        tables={
            sheet.name: TableRows(rows, _row_heights(sheet, rows)) for sheet, rows in tables.items()
        }
    )
    if len(columns) == len(computed):
        rows = ev.workbook.client_rows
        values: dict[int, list[object]] = {rows[case]: list(v) for case, v in summary.items()}
        # A row left out for an error must not look like "nothing due".
        for number, _, _ in clients.typed:
            values.setdefault(number, [None, "see Errors", None])
        patch.columns[schema.CLIENTS.name] = ColumnValues(
            columns=columns,
            values=values,
            first_row=clients.header_row + 1,
            last_row=clients.header_row + 1_048_576,
        )
    return patch


# ---------------------------------------------------------------- the use cases


@dataclass
class RecomputeResult:
    evaluation: Evaluation
    written: bool
    backup: Path | None
    due_list_rows: int


def check(path: Path, as_of: dt.date, progress: Progress | None = None) -> Evaluation:
    """Read and evaluate without writing anything."""
    data, _ = safe_save.read_snapshot(path)
    return evaluate_bytes(data, as_of, progress)


def recompute(path: Path, as_of: dt.date, progress: Progress | None = None) -> RecomputeResult:
    """Evaluate and write the Due List, the Errors sheet and the Clients summary columns.

    Refuses (raising safe_save errors) while Excel or LibreOffice has the file open,
    while another pyxl writes it, or if it changed since it was read.
    """
    note = progress or (lambda _: None)
    safe_save.cleanup_stale_temp_files(path)
    with safe_save.writer_lock(path):
        data, snapshot = safe_save.read_snapshot(path)
        check_writable(data)
        ev = evaluate_bytes(data, as_of, progress)
        note("writing")
        patch = build_patch(ev)
        new = apply_patch(data, patch)
        expected_rows = len(patch.tables[schema.DUE_LIST.name].rows)
        backup = safe_save.atomic_write(
            path, new, expected=snapshot, verify=lambda p: verify_written(p, expected_rows)
        )
    return RecomputeResult(ev, True, backup, expected_rows)


def verify_written(path: Path, due_rows: int) -> None:
    """Re-open the new file as a reader would, and check what pyxl wrote is there."""
    data = path.read_bytes()
    book = fastexcel.read_excel(data)
    missing = {s.name for s in schema.ALL_SHEETS} - set(book.sheet_names)
    if missing:
        raise ValueError(f"sheets missing after writing: {', '.join(sorted(missing))}")
    due = book.load_sheet(schema.DUE_LIST.name, header_row=None, skip_rows=schema.HEADER_ROW)
    table = due.to_arrow()
    filled = np.zeros(table.num_rows, bool)
    for column in table.columns:
        filled |= np.asarray(
            pc.fill_null(pc.is_valid(column), False).to_numpy(zero_copy_only=False)
        )
    if int(filled.sum()) != due_rows:
        raise ValueError(f"the Due List has {int(filled.sum())} rows, expected {due_rows}")
