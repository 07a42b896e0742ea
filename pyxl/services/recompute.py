"""Recompute a caseload workbook: read and validate, evaluate the rules, write the results.

The one use case behind `pyxl recompute`, `pyxl check`, the demo and the Excel
Refresh button. Workbook bytes in, computed sheets out; the domain never sees
a file.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import getpass
import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from pyxl import now, version
from pyxl.adapters import caseload_file, schema, speed
from pyxl.adapters.validation import (
    CASELOAD_FIELDS,
    Problem,
    ValidatedWorkbook,
    problem_order,
    validate_workbook,
)
from pyxl.adapters.workbook_builder import due_list_count_cells
from pyxl.adapters.workbook_patch import ColumnValues, Patch, TableRows
from pyxl.adapters.workbook_reader import RawWorkbook
from pyxl.domain import model
from pyxl.domain.calendar import BusinessCalendar
from pyxl.domain.columns import TableColumns
from pyxl.domain.engine import Obligations, evaluate
from pyxl.domain.letters import LetterTiming, short_window_calls
from pyxl.domain.model import STATUS_ORDER, Status
from pyxl.domain.obligations import OPEN_STATUSES, Obligation, explain
from pyxl.domain.reference import WEEKENDS_ONLY
from pyxl.domain.rules import Rule, RuleBook
from pyxl.domain.sanctions import YOUTH_RULES, Flows, engagement_by_flow, evaluate_flows
from pyxl.policy import default_settings, flowbook, letter_book, rulebook

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
    flows: Flows
    # (sheet, 1-based row) -> the Case ID typed on that row, for every problem row of an
    # input sheet: reports file each data problem under its case even when the row was left out.
    problem_cases: dict[tuple[str, int], str] = field(default_factory=dict)
    # Letters mailed with a reply window too short for mail: a call due (pyxl.domain.letters).
    letter_calls: list[Obligation] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return self.workbook.problems

    @property
    def rules(self) -> dict[str, Rule]:
        """Every rule an obligation may name: the timing rules, the flows' clocks and the
        letters' call when the mail is too slow."""
        call = letter_book().short_window
        return {**self.book.rules, **flowbook().rules, **({call.id: call} if call else {})}

    def status_counts(self) -> dict[Status, int]:
        """Obligations by status: the rules' and the flows' clocks."""
        counts = self.obligations.status_counts()
        for o in self.flow_obligations():
            counts[o.status] += 1
        return counts

    @property
    def clients(self) -> TableColumns:
        return self.workbook.table("Clients")

    def counts_by_branch(self) -> dict[str, Counter[Status]]:
        branches = self.clients.values("branch")
        codes, index = self.clients.codes("branch")
        ob = self.obligations
        width = len(STATUS_ORDER)
        table = np.bincount(
            codes[ob.case] * width + ob.status, minlength=len(index) * width
        ).reshape(len(index), width)
        out: dict[str, Counter[Status]] = {}
        for branch, row in zip(index, table.tolist(), strict=True):
            if any(row):
                out[str(branch)] = Counter({STATUS_ORDER[s]: n for s, n in enumerate(row) if n})
        for o in self.flow_obligations():
            branch = branches[self.workbook.client_index[o.case_id]]
            out.setdefault(branch, Counter())[o.status] += 1
        return dict(sorted(out.items()))

    def explain(self, o: Obligation) -> str:
        """One obligation's explanation (the flows' clocks go through here)."""
        branch = self.clients.values("branch")[self.workbook.client_index[o.case_id]]
        return explain(
            o,
            self.rules[o.rule_id],
            self.workbook.settings,
            self.calendars.get(branch, WEEKENDS_ONLY),
        )

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

    def flow_obligations(self) -> list[Obligation]:
        """The flows' clocks and the letters' calls: obligations beside the rules' columns."""
        flows = [o for state in self.flows.states.values() for o in state.obligations]
        return flows + self.letter_calls

    @cached_property
    def items(self) -> DueItems:
        """Every obligation the Due List draws on, the rules' and the flows' clocks together:
        the one set every count (Supervisor sheet, report) is taken from."""
        return DueItems.of(self)


@dataclass(frozen=True)
class DueItems:
    """Obligations as parallel columns: client position, rule, status, due date (ordinal,
    0 = none) and days overdue. The rules' obligations first, then the flows' clocks."""

    rule_ids: tuple[str, ...]
    case: np.ndarray
    rule: np.ndarray
    status: np.ndarray
    due: np.ndarray
    days_overdue: np.ndarray

    def __len__(self) -> int:
        return len(self.case)

    @classmethod
    def of(cls, ev: Evaluation) -> DueItems:
        ob = ev.obligations
        flows = ev.flow_obligations()
        codes = {r: i for i, r in enumerate(ob.rule_ids)}
        for o in flows:
            codes.setdefault(o.rule_id, len(codes))
        index = ev.workbook.client_index

        def column(rules: np.ndarray, flow: list[int]) -> np.ndarray:
            return np.concatenate([np.asarray(rules, np.int64), np.asarray(flow, np.int64)])

        return cls(
            tuple(codes),
            column(ob.case, [index[o.case_id] for o in flows]),
            column(ob.rule, [codes[o.rule_id] for o in flows]),
            column(ob.status, [STATUS_ORDER.index(o.status) for o in flows]),
            column(ob.due, [o.due.toordinal() if o.due else 0 for o in flows]),
            column(ob.days_overdue, [o.days_overdue for o in flows]),
        )

    def shown(self, statuses: Collection[Status]) -> np.ndarray:
        """Mask of the obligations with one of these statuses."""
        return np.isin(self.status, [STATUS_ORDER.index(s) for s in statuses])


def office_calendars(validated: ValidatedWorkbook) -> dict[str, BusinessCalendar]:
    """Each branch's business-day calendar, from the Holidays sheet (closed days only)."""
    holidays = validated.domain_rows("Holidays")
    branches = validated.domain_rows("Branches")
    by_calendar = {
        name: BusinessCalendar.from_holidays(name, holidays)
        for name in {b.calendar for b in branches}
    }
    return {b.name: by_calendar[b.calendar] for b in branches}


def evaluate_file(
    book: caseload_file.CaseloadFile, as_of: dt.date, progress: Progress | None = None
) -> Evaluation:
    """Read the sheets the rules need and evaluate them."""
    with speed.without_cycle_collector():
        return evaluate_raw(book.read(READ_SHEETS), as_of, progress)


def evaluate_raw(raw: RawWorkbook, as_of: dt.date, progress: Progress | None = None) -> Evaluation:
    """Validate and evaluate cells read (from a file, or sent by Excel). A file's sheets are
    checked as they are read, so one step covers both."""
    note = progress or (lambda _: None)
    note("reading and checking")
    validated = validate_workbook(raw, default_settings(), as_of)
    note("evaluating")
    calendars = office_calendars(validated)
    book = rulebook()
    history = model.Caseload(
        clients=validated.domain_rows("Clients"),
        noncompliance=validated.domain_rows("Noncompliance"),
        penalties=validated.domain_rows("Penalties"),
    )

    def rows_of(_: model.Caseload, cases: set[str], names: Sequence[str]) -> dict:
        return rows_of_cases(validated, cases, names)

    columns = validated.columns
    # "Not engaged" is one fact: where the Alaska flow contradicts the Engaged column, the
    # rules follow the flow and the Engaged cell gets the warning (flag_problems).
    engaged = engagement_by_flow(history, flowbook(), validated.settings, calendars, as_of, rows_of)
    if engaged:
        clients = columns.clients
        column = [
            engaged.get(c, e)
            for c, e in zip(clients.values("case_id"), clients.values("engaged"), strict=True)
        ]
        columns = dataclasses.replace(columns, clients=clients.replaced("engaged", column))
    obligations = evaluate(columns, book, validated.settings, calendars, as_of)
    unjudged_without_sheets(obligations, book, validated)
    flows = evaluate_flows(
        history,
        flowbook(),
        validated.settings,
        calendars,
        as_of,
        obligations.by_case(YOUTH_RULES),
        rows_of=rows_of,
    )
    validated.problems.extend(flag_problems(validated, flows))
    validated.problems.sort(key=problem_order)
    return Evaluation(
        as_of,
        validated,
        obligations,
        calendars,
        book,
        flows,
        problem_cases(raw, validated),
        letter_calls(validated, calendars, as_of),
    )


def letter_calls(
    validated: ValidatedWorkbook, calendars: Mapping[str, BusinessCalendar], as_of: dt.date
) -> list[Obligation]:
    """The calls due for letters mailed with a reply window too short for mail (read from
    the letters logged on Contacts: method Letter, with a Reply By not yet passed)."""
    rule = letter_book().short_window
    contacts = validated.table("Contacts")
    if rule is None or not len(contacts):
        return []
    day = as_of.toordinal()
    reply_by, date = np.asarray(contacts["reply_by"]), np.asarray(contacts["date"])
    letters = contacts.isin("method", {"Letter"}) & (reply_by >= day) & (date <= day)
    cases = set(np.asarray(contacts["case_id"])[letters].tolist())
    if not cases:
        return []
    rows = rows_of_cases(validated, cases, ["contacts"])["contacts"]
    branches = validated.table("Clients")["branch"]
    index = validated.client_index
    calendar = {
        case: calendars.get(str(branches[index[case]]), WEEKENDS_ONLY)
        if case in index
        else WEEKENDS_ONLY
        for case in rows
    }
    settings = validated.settings
    timing = LetterTiming(
        settings["Letter mail days"],
        settings["Minimum reply window"],
        settings["Reply-by on a closed day moves the flow"],
    )
    return short_window_calls(rows, calendar, timing, as_of, rule.id)


def unjudged_without_sheets(
    obligations: Obligations, book: RuleBook, validated: ValidatedWorkbook
) -> None:
    """A rule whose evidence lives on a sheet the workbook lacks (or whose headers are gone)
    cannot be judged: its obligations are N/A with that reason, never OVERDUE as if nothing
    had ever been done (the sheet's own error says it is missing)."""
    missing = {
        CASELOAD_FIELDS[name]: name
        for name, rows in validated.sheets.items()
        if name in CASELOAD_FIELDS and not rows.present
    }
    if not missing:
        return
    not_applicable = STATUS_ORDER.index(Status.NA)
    for code, rule_id in enumerate(obligations.rule_ids):
        rule = book.rules.get(rule_id)
        if rule is None:
            continue
        sheets = sorted(
            {missing[t] for n in rule.evidence_names if (t := book.evidence[n].table) in missing}
        )
        if not sheets:
            continue
        reason = (
            f"the {' and '.join(sheets)} sheet{'s are' if len(sheets) > 1 else ' is'} missing "
            "from the workbook, so this cannot be checked"
        )
        for i in np.flatnonzero(obligations.rule == code).tolist():
            obligations.status[i] = not_applicable
            obligations.days_overdue[i] = 0
            obligations.reason[i] = reason


def rows_of_cases(
    validated: ValidatedWorkbook, cases: set[str], names: Sequence[str]
) -> dict[str, dict[str, list]]:
    """Some tables' rows of some cases as objects, straight from the columns (the flows walk
    a few cases; the other million rows stay columns)."""
    out: dict[str, dict[str, list]] = {}
    sheet_of = {field: sheet for sheet, field in CASELOAD_FIELDS.items()}
    for name in names:
        table = validated.table(sheet_of[name])
        group: dict[str, list] = defaultdict(list)
        for row in table.rows_at(np.flatnonzero(table.isin("case_id", cases)).tolist()):
            group[row.case_id].append(row)
        out[name] = group
    return out


def flag_problems(validated: ValidatedWorkbook, flows: Flows) -> list[Problem]:
    """Each forbidden transition or inconsistent record, at the cell that holds it."""
    out = []
    for flag in flows.flags:
        rows = validated.sheets[flag.origin.sheet]
        number = rows.row_numbers[flag.origin.index]
        out.append(rows.problem(number, flag.origin.column, "warning", flag.case_id, flag.message))
    return out


def problem_cases(raw: RawWorkbook, validated: ValidatedWorkbook) -> dict[tuple[str, int], str]:
    """The Case ID typed on each input-sheet row that has a problem (as typed, cleaned): a
    valid row's from its checked values, a rejected row's from its cells."""
    out: dict[tuple[str, int], str] = {}
    for p in validated.problems:
        rows = validated.sheets.get(p.sheet)
        if rows is None or "Case ID" not in rows.positions or p.row <= 0:
            continue
        i = bisect.bisect_left(rows.row_numbers, p.row)  # the valid rows, in sheet order
        if i < len(rows) and rows.row_numbers[i] == p.row and "case_id" in rows.values:
            typed: object = rows.values["case_id"][i]
        else:
            sheet = raw.sheets.get(p.sheet)
            if sheet is None:
                continue
            typed = sheet.cell(p.row - 1, rows.positions["Case ID"])
        if isinstance(typed, float) and typed.is_integer():
            typed = int(typed)
        if typed != "":
            out[(p.sheet, p.row)] = " ".join(str(typed).split())
    return out


# ---------------------------------------------------------------- what gets written


def due_list_rows(ev: Evaluation) -> list[list[object]]:
    """Open obligations of the rules and of the flows, most urgent first (status, due date,
    case)."""
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
    from_rules = [
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
    # The flows' clocks join them in the same order: status, due date, case.
    never = np.iinfo(np.int64).max
    keys = zip(
        ob.status[idx].tolist(),
        np.where(ob.due[idx] > 0, ob.due[idx], never).tolist(),
        case.tolist(),
        strict=True,
    )
    index = ev.workbook.client_index
    flow_rows = sorted(
        (
            (STATUS_ORDER.index(o.status), o.due.toordinal() if o.due else never, index[o.case_id]),
            flow_row(ev, o),
        )
        for o in ev.flow_obligations()
        if o.status in shown
    )
    merged = heapq.merge(zip(keys, from_rules, strict=True), flow_rows, key=lambda pair: pair[0])
    return [row for _, row in merged]


def flow_row(ev: Evaluation, o: Obligation) -> list[object]:
    """A Due List row for one of the flows' clocks."""
    client = ev.workbook.domain_rows("Clients")[ev.workbook.client_index[o.case_id]]
    rule = ev.rules[o.rule_id]
    return [
        client.case_id,
        client.client_name,
        str(client.program),
        client.branch,
        client.case_manager,
        rule.id,
        rule.title,
        o.trigger,
        o.due,
        str(o.status),
        o.days_overdue or None,
        ev.explain(o),
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


ClientSummary = tuple[dt.date | None, str | None, int, str, str]


def client_summaries(ev: Evaluation) -> dict[str, ClientSummary]:
    """Per case: next due date and rule among open obligations (rules and flows), the overdue
    count, the flow state and the next action."""
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
    index = ev.workbook.client_index
    for o in ev.flow_obligations():  # the flows' clocks count too
        if o.status not in OPEN_STATUSES or o.due is None:
            continue
        c = index[o.case_id]
        overdue[c] += o.status == Status.OVERDUE
        if o.due.toordinal() < next_due[c]:
            next_due[c], rule_of[c] = o.due.toordinal(), o.rule_id
    has = next_due != np.iinfo(np.int64).max
    (next_days,) = _days(np.where(has, next_due, 0))
    states = ev.flows.states
    return {
        case_id: (
            next_days[c],
            rule_of.get(c),
            late,
            states[case_id].state,
            states[case_id].next_action or None,
        )
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


def _column_heights(
    sheet: schema.Sheet, headers: Sequence[str], values: dict[int, list[object]]
) -> dict[int, float]:
    """Rows whose computed wrapped text needs more than one line: their height, so the
    text stays inside its row on screen and on paper (once per distinct text)."""
    widths = {c.header: c.width for c in sheet.columns if c.wrap}
    wrapped = [(k, widths[h]) for k, h in enumerate(headers) if h in widths]
    made: dict[tuple, float] = {}
    out = {}
    for row, cells in values.items():
        key = tuple(cells[k] for k, _ in wrapped)
        if key not in made:
            texts = [(str(v), w) for v, (_, w) in zip(key, wrapped, strict=True) if v]
            made[key] = max((schema.text_height(t, w) for t, w in texts), default=0.0)
        if made[key] > schema.LINE_HEIGHT + 3:
            out[row] = min(made[key], 409.0)
    return out


def supervisors(ev: Evaluation) -> dict[str, str]:
    """Case manager -> supervisor: the Staff sheet's, else the supervisor of their branch."""
    staff = ev.workbook.sheets[schema.STAFF.name]
    by_branch = {b.name: b.supervisor for b in ev.workbook.domain_rows("Branches")}
    out = {}
    if staff.rows and "supervisor" in staff.names:
        for manager, branch, supervisor in zip(
            staff.column("Case Manager"),
            staff.column("Branch"),
            staff.column("supervisor"),
            strict=True,
        ):
            out[manager] = supervisor or by_branch.get(branch, "")
    for client in ev.workbook.domain_rows("Clients"):
        if client.case_manager not in out:
            out[client.case_manager] = by_branch.get(client.branch, "")
    return out


def supervisor_rows(
    ev: Evaluation, due_rows: Sequence[Sequence[object]]
) -> tuple[list[list[object]], list[list[tuple[int, str]]]]:
    """Counts per case manager for the Supervisor sheet, with each row's links: the
    worker's most urgent Due List row and their first row on Clients."""
    clients = ev.workbook.domain_rows("Clients")
    boss = supervisors(ev)
    manager_of = {c.case_id: c.case_manager for c in clients}
    workers: dict[str, dict[str, object]] = {}
    for c in clients:
        w = workers.setdefault(
            c.case_manager,
            {"branch": c.branch, "clients": 0, "first_client": ev.workbook.client_rows[c.case_id]},
        )
        w["clients"] = int(w["clients"]) + 1  # type: ignore[call-overload]
    # The Due List's obligations (rules and flows' clocks), counted per case manager.
    items = ev.items
    managers = np.asarray(ev.clients.values("case_manager"), dtype=object)[items.case]
    counts = Counter(zip(managers.tolist(), items.status.tolist(), strict=True))
    oldest: dict[str, int] = {}
    late = items.status == STATUS_ORDER.index(Status.OVERDUE)
    for m, days in zip(managers[late].tolist(), items.days_overdue[late].tolist(), strict=True):
        oldest[m] = max(oldest.get(m, 0), days)
    errors = Counter(
        manager_of.get(ev.problem_cases.get((p.sheet, p.row), ""), "")
        for p in ev.problems
        if p.severity == "error"
    )
    first_due: dict[str, int] = {}
    manager_at = schema.DUE_LIST.headers.index("Case Manager")
    for k, row in enumerate(due_rows):
        first_due.setdefault(str(row[manager_at]), schema.HEADER_ROW + 1 + k)
    rows, links = [], []
    overdue, soon = STATUS_ORDER.index(Status.OVERDUE), STATUS_ORDER.index(Status.DUE_SOON)
    for manager, w in sorted(workers.items(), key=lambda kv: (str(kv[1]["branch"]), kv[0])):
        opened = sum(counts[(manager, STATUS_ORDER.index(s))] for s in OPEN_STATUSES)
        due_row, client_row = first_due.get(manager), int(w["first_client"])  # type: ignore[call-overload]
        rows.append(
            [
                w["branch"],
                boss.get(manager, ""),
                manager,
                w["clients"],
                opened,
                counts[(manager, overdue)],
                counts[(manager, soon)],
                oldest.get(manager),
                errors.get(manager, 0),
                f"Due List row {due_row}" if due_row else "nothing open",
                f"Clients row {client_row}",
            ]
        )
        row_links = [(10, f"'{schema.CLIENTS.name}'!A{client_row}")]
        if due_row:
            row_links.insert(0, (9, f"'{schema.DUE_LIST.name}'!A{due_row}"))
        links.append(row_links)
    return rows, links


def refresh_stamp(
    as_of: dt.date, *, who: str | None = None, when: dt.datetime | None = None
) -> str:
    """The line every Refresh writes on the Due List and the Supervisor sheet (and in their
    printed footers): the day the deadlines were computed for, and who refreshed when."""
    when = when or now()
    who = " ".join((who or _login_name()).split())[:40] or "unknown"
    return (
        f"Computed as of {as_of.isoformat()} (refreshed {when:%Y-%m-%d %H:%M} by {who}, "
        f"pyxl {version()})."
    )


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some services and containers
        return "unknown"


def stamp_sheets(patch: Patch, stamp: str, sheets: Collection[str] | None = None) -> None:
    """Write the refresh stamp above the Due List and Supervisor tables and in their footers."""
    for sheet in (schema.DUE_LIST, schema.SUPERVISOR):
        if sheets is None or sheet.name in sheets:
            patch.texts.setdefault(sheet.name, {})["A2"] = f"{stamp} {sheet.description}"
            patch.footers[sheet.name] = stamp.replace("&", "&&").rstrip(".") + "; printed &D"


def needs_refresh(command: str, sheets: Collection[str]) -> dict[str, dict[str, str]]:
    """What a command that adds input rows after a Refresh writes above the Due List and
    Supervisor tables (for append_rows' `above`): their figures are from before."""
    added = " and ".join(sheets)
    text = needs_refresh_line(f"{command} added rows to {added} on {now():%Y-%m-%d %H:%M}")
    return {schema.DUE_LIST.name: {"A2": text}, schema.SUPERVISOR.name: {"A2": text}}


def needs_refresh_line(what_changed: str) -> str:
    """The line above figures computed before `what_changed` (e.g. "letters added rows to
    Contacts on 2026-11-23 10:02"): they stay, marked as needing a Refresh."""
    return (
        f"Needs a Refresh: {what_changed}, after these figures were computed. "
        "Refresh to bring them up to date."
    )


def build_patch(
    ev: Evaluation,
    sheets: Collection[str] | None = None,
    stamp: str | None = None,
    heights: bool = True,
) -> Patch:
    """What recompute writes; `sheets` = the sheets the workbook has (a workbook made
    before a computed sheet existed simply goes without it); `stamp`, the refresh line;
    `heights`: the table rows' heights (a file's; Excel sizes its own rows)."""
    clients = ev.workbook.sheets["Clients"]
    summary = client_summaries(ev)
    computed = [c.header for c in schema.CLIENTS.columns if c.computed]
    positions = clients.positions
    columns = [positions[h] for h in computed if h in positions]
    due_rows = due_list_rows(ev)
    tables = {schema.DUE_LIST: due_rows, schema.ERRORS: error_rows(ev.problems)}
    patch = Patch(
        tables={
            sheet.name: TableRows(rows, _row_heights(sheet, rows) if heights else None)
            for sheet, rows in tables.items()
        }
    )
    # The Due List's own counts (rows, overdue, due soon), unfiltered, for readers that do
    # not recalculate on open.
    status_at = schema.DUE_LIST.headers.index("Status")
    shown = [r[status_at] for r in due_rows]
    counts = (len(shown), shown.count(str(Status.OVERDUE)), shown.count(str(Status.DUE_SOON)))
    patch.results[schema.DUE_LIST.name] = dict(zip(due_list_count_cells(), counts, strict=True))
    if sheets is None or schema.SUPERVISOR.name in sheets:
        rows, links = supervisor_rows(ev, due_rows)
        patch.tables[schema.SUPERVISOR.name] = TableRows(rows, links=links)
    if len(columns) == len(computed):
        rows = ev.workbook.client_rows
        values: dict[int, list[object]] = {rows[case]: list(v) for case, v in summary.items()}
        # A row left out for an error must not look like "nothing due".
        for number, _, _ in clients.typed:
            values.setdefault(number, [None, "see Errors", None, None, None])
        patch.columns[schema.CLIENTS.name] = ColumnValues(
            columns=columns,
            values=values,
            first_row=clients.header_row + 1,
            last_row=clients.header_row + 1_048_576,
            heights=_column_heights(schema.CLIENTS, computed, values),
        )
    penalties = ev.workbook.sheets[schema.PENALTIES.name]
    computed = [c.header for c in schema.PENALTIES.columns if c.computed]
    if penalties.present and all(h in penalties.positions for h in computed):
        values = {
            number: [view.minimum_end, view.end_effective, view.expected or None]
            for number, view in zip(penalties.row_numbers, ev.flows.penalties, strict=True)
        }
        patch.columns[schema.PENALTIES.name] = ColumnValues(
            columns=[penalties.positions[h] for h in computed],
            values=values,
            first_row=penalties.header_row + 1,
            last_row=penalties.header_row + 1_048_576,
            heights=_column_heights(schema.PENALTIES, computed, values),
        )
    if stamp:
        stamp_sheets(patch, stamp, sheets)
    return patch


# ---------------------------------------------------------------- the use cases


@dataclass
class RecomputeResult:
    evaluation: Evaluation
    written: bool
    backup: Path | None
    due_list_rows: int
    # sheet -> cells typed outside the table it fills, which the refresh removed (the backup
    # keeps them)
    removed: dict[str, list[str]] = field(default_factory=dict)


def check(path: Path, as_of: dt.date, progress: Progress | None = None) -> Evaluation:
    """Read and evaluate without writing anything."""
    return evaluate_file(caseload_file.reading(path), as_of, progress)


def recompute(path: Path, as_of: dt.date, progress: Progress | None = None) -> RecomputeResult:
    """Evaluate and write the Due List, the Errors sheet and the Clients summary columns.

    Refuses (raising safe_save errors) while Excel or LibreOffice has the file open,
    while another pyxl writes it, or if it changed since it was read.
    """
    note = progress or (lambda _: None)
    with (
        caseload_file.changing(path, "Nothing was written.") as book,
        speed.without_cycle_collector(),
    ):
        ev = evaluate_file(book, as_of, progress)
        note("writing")
        patch = build_patch(ev, book.sheet_names, refresh_stamp(as_of))
        removed = book.typed_outside_tables(patch.tables)
        backup = book.write_patch(patch, counted=(schema.DUE_LIST.name,))
    return RecomputeResult(ev, True, backup, len(patch.tables[schema.DUE_LIST.name].rows), removed)
