"""What the PYXL.* cell functions compute: plain Python over cell grids, no xlwings.

Each function takes ranges (or single cells) and returns one result per input
cell, shaped like the input, so a whole column is one call and its result
spills. The rules, calendars and evaluation are the core's
(pyxl.domain.calendar, pyxl.domain.reference, pyxl.services.recompute); this
module only reads cells, groups them and shapes the answers.

A problem with one row (a text where a date belongs, an unknown case) becomes
an Excel error with a message in that row; a problem with the call as a whole
(an unknown calendar, ranges of different sizes, a missing table) raises
`FunctionError`, which the server shows as #VALUE! with the message.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from pyxl.domain.calendar import BusinessCalendar
from pyxl.domain.model import STATUS_ORDER, Status
from pyxl.domain.obligations import OPEN_STATUSES, fmt
from pyxl.domain.reference import apply_clock, rolling_due
from pyxl.domain.rules import Rule, Settings
from pyxl.excel.cells import (
    CellError,
    Grid,
    as_grid,
    broadcast,
    excel_error,
    ordinals,
    read_date,
    read_number,
    read_text,
    reshape,
)
from pyxl.excel.tables import EvaluationCache, TablesError, raw_sheet
from pyxl.policy import default_settings, rulebook
from pyxl.policy.calendars import SUPPORTED_STATES, SUPPORTED_YEARS, office_holidays
from pyxl.services.recompute import Evaluation, client_summaries
from pyxl.services.sheets import RawSheet, schema, sent_workbook
from pyxl.services.sheets import validated as sheets_validated


class FunctionError(ValueError):
    """The call as a whole cannot be answered; shown as #VALUE! with this message."""


_EVALUATIONS = EvaluationCache()


# ---------------------------------------------------------------- calendars


def _years_for(ords: np.ndarray, margin: int = 1) -> range:
    present = ords[ords > 0]
    if not present.size:
        return range(dt.date.today().year, dt.date.today().year + 1)
    first = dt.date.fromordinal(int(present.min())).year - margin
    last = dt.date.fromordinal(int(present.max())).year + margin
    return range(max(first, SUPPORTED_YEARS.start), min(last, SUPPORTED_YEARS.stop - 1) + 1)


@functools.lru_cache(maxsize=32)
def _built_in(state: str, first: int, last: int) -> BusinessCalendar:
    return BusinessCalendar.from_holidays(
        state, office_holidays(state, range(first, last + 1)), first, last
    )


def _checked(raw: RawSheet) -> Any:
    """Validate a reference table passed to a function; a bad row fails the call, never drops."""
    sheets = {raw.name}
    validated = sheets_validated(sent_workbook({raw.name: raw}))
    errors = [p for p in validated.problems if p.sheet in sheets and p.severity == "error"]
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        row = f" row {first.row}" if first.row else ""
        raise FunctionError(f"{first.sheet}{row}, {first.column or 'table'}: {first.message}{more}")
    return validated


@functools.lru_cache(maxsize=16)
def _from_table(holidays: str) -> dict[str, BusinessCalendar]:
    """Every calendar of a Holidays table (passed as its JSON text, to be cacheable)."""

    raw = raw_sheet(schema.HOLIDAYS.name, json.loads(holidays), serial_dates=True)
    validated = _checked(raw)
    rows = validated.caseload.holidays
    return {name: BusinessCalendar.from_holidays(name, rows) for name in {h.calendar for h in rows}}


def calendars(
    names: Sequence[str], holidays: object, ords: np.ndarray
) -> dict[str, BusinessCalendar]:
    """The business-day calendar of each name: from the Holidays table if given, else built in."""

    wanted = sorted({n for n in names if n})
    if holidays is not None:
        table = _from_table(json.dumps(as_grid(holidays), default=str))
        unknown = [n for n in wanted if n not in table]
        if unknown:
            known = ", ".join(sorted(table)) or "none"
            raise FunctionError(
                f"no calendar {', '.join(map(repr, unknown))} in the Holidays table "
                f"(calendars there: {known})"
            )
        return {n: table[n] for n in wanted}
    unknown = [n for n in wanted if n not in SUPPORTED_STATES]
    if unknown:
        raise FunctionError(
            f"no built-in calendar {', '.join(map(repr, unknown))}: use one of "
            f"{', '.join(SUPPORTED_STATES)}, or pass the Holidays table"
        )
    years = _years_for(ords)
    return {n: _built_in(n, years.start, years.stop - 1) for n in wanted}


def _calendar_names(values: Sequence[object]) -> list[str]:
    return [
        read_text(v).upper() if read_text(v).upper() in SUPPORTED_STATES else read_text(v)
        for v in values
    ]


# ---------------------------------------------------------------- business days


def workday(start: object, days: object, calendar: object, holidays: object = None) -> Grid:
    """Excel WORKDAY on a branch calendar, for every start date (and day count) at once."""
    shape, (starts, steps, names) = _broadcast(start, days, calendar)
    start_ords, bad = ordinals(starts, "start date")
    counts = np.zeros(len(steps), dtype=np.int64)
    for i, step in enumerate(steps):
        if i in bad or start_ords[i] == 0:
            continue
        try:
            counts[i] = int(read_number(step, "days"))
        except CellError as exc:
            bad[i] = exc
    cal_names = _calendar_names(names)
    _require_names(cal_names, start_ords)
    cals = calendars(cal_names, holidays, start_ords)
    result = np.zeros(len(starts), dtype=np.int64)
    for cal, rows in _rows_by_calendar(cal_names, cals, bad):
        result[rows] = _guarded(cal.workday_array, start_ords[rows], counts[rows])
    return reshape(_dates_or_errors(result, bad), shape)


def networkdays(start: object, end: object, calendar: object, holidays: object = None) -> Grid:
    """Excel NETWORKDAYS on a branch calendar: both ends count, negative when end < start."""
    shape, (starts, ends, names) = _broadcast(start, end, calendar)
    start_ords, bad = ordinals(starts, "start date")
    end_ords, bad_end = ordinals(ends, "end date")
    bad.update({i: e for i, e in bad_end.items() if i not in bad})
    cal_names = _calendar_names(names)
    both = np.concatenate([start_ords, end_ords])
    _require_names(cal_names, start_ords)
    cals = calendars(cal_names, holidays, both)
    counts = np.zeros(len(starts), dtype=np.int64)
    for cal, rows in _rows_by_calendar(cal_names, cals, bad):
        counts[rows] = _guarded(cal.networkdays_array, start_ords[rows], end_ords[rows])
    blank = (start_ords == 0) | (end_ords == 0)
    out: list[Any] = [
        excel_error(str(bad[i])) if i in bad else None if blank[i] else int(counts[i])
        for i in range(len(starts))
    ]
    return reshape(out, shape)


def _require_names(names: Sequence[str], ords: np.ndarray) -> None:
    if any(not n and o for n, o in zip(names, ords, strict=True)):
        raise FunctionError('name a calendar (e.g. "TX" or the branch\'s Calendar)')


def _broadcast(*arguments: object) -> tuple[tuple[int, int], list[list[Any]]]:
    try:
        return broadcast(*arguments)
    except ValueError as exc:
        raise FunctionError(str(exc)) from None


def _rows_by_calendar(
    names: Sequence[str], cals: dict[str, BusinessCalendar], bad: dict[int, CellError]
) -> list[tuple[BusinessCalendar, np.ndarray]]:
    """Each calendar with the (good) rows that use it."""
    out = []
    for name, cal in cals.items():
        rows = np.array([i for i, n in enumerate(names) if n == name and i not in bad], np.int64)
        if rows.size:
            out.append((cal, rows))
    return out


def _guarded(compute: Any, *args: Any) -> Any:
    try:
        return compute(*args)
    except OverflowError as exc:
        raise FunctionError(str(exc)) from None


def _dates_or_errors(result: np.ndarray, bad: dict[int, CellError]) -> list[Any]:
    return [
        excel_error(str(bad[i]), bad[i].code) if i in bad else _day(int(o))
        for i, o in enumerate(result)
    ]


def _day(ordinal: int) -> dt.date | None:
    return dt.date.fromordinal(ordinal) if ordinal else None


# ---------------------------------------------------------------- rules


def _rule(value: object) -> Rule:
    rule_id = read_text(value).upper()
    rule = rulebook().rules.get(rule_id)
    if rule is None:
        raise CellError(f"no rule {rule_id or '(blank)'} in the rule book", "#N/A")
    return rule


def _settings(table: object) -> Settings:
    if table is None:
        return default_settings()
    raw = raw_sheet(schema.SETTINGS.name, as_grid(table), serial_dates=True)
    return _checked(raw).settings


def due_date(
    rule: object,
    trigger: object,
    calendar: object,
    holidays: object = None,
    settings: object = None,
) -> Grid:
    """The due date a rule's clock gives for the date it starts from, for every row at once."""
    shape, (rules, triggers, names) = _broadcast(rule, trigger, calendar)
    trigger_ords, bad = ordinals(triggers, "trigger date")
    cal_names = _calendar_names(names)
    _require_names(cal_names, trigger_ords)
    cals = calendars(cal_names, holidays, trigger_ords)
    office = _settings(settings)
    memo: dict[tuple[str, int, str], Any] = {}
    out: list[Any] = []
    rows = zip(rules, trigger_ords, cal_names, strict=True)
    for i, (rule_value, ordinal, name) in enumerate(rows):
        if i in bad:
            out.append(excel_error(str(bad[i])))
            continue
        if not ordinal:
            out.append(None)
            continue
        key = (read_text(rule_value).upper(), int(ordinal), name)
        if key not in memo:
            start = dt.date.fromordinal(int(ordinal))
            memo[key] = _one_due_date(rule_value, start, cals[name], office)
        out.append(memo[key])
    return reshape(out, shape)


def _one_due_date(
    rule_value: object, start: dt.date, cal: BusinessCalendar, office: Settings
) -> Any:
    try:
        rule = _rule(rule_value)
        if rule.clock is None:
            raise CellError(f"{rule.id} has no clock")
        if rule.kind == "rolling":
            return rolling_due(rule, start, cal, office)
        return apply_clock(rule.clock, start, cal, office)
    except CellError as exc:
        return excel_error(str(exc), exc.code)
    except OverflowError as exc:
        return excel_error(str(exc), "#NUM!")


# ---------------------------------------------------------------- clients


def _evaluation(as_of: object, tables: Sequence[object]) -> Evaluation:
    try:
        day = read_date(to_scalar(as_of), "as-of date")
    except CellError as exc:
        raise FunctionError(str(exc)) from None
    if day is None:
        raise FunctionError("the as-of date is blank: pass TODAY() or a date")
    try:
        return _EVALUATIONS.get(list(tables), day)
    except TablesError as exc:
        raise FunctionError(str(exc)) from None


def to_scalar(value: object) -> object:
    grid = as_grid(value)
    if len(grid) != 1 or len(grid[0]) != 1:
        raise FunctionError("the as-of date must be a single cell")
    return grid[0][0]


def _per_case(case_ids: object, answer: Any, ev: Evaluation) -> Grid:
    grid = as_grid(case_ids)
    known = ev.workbook.client_rows
    typed = {str(k).strip() for _, k, _ in ev.workbook.sheets["Clients"].typed}
    out: list[Any] = []
    for value in (c for row in grid for c in row):
        case = read_text(value)
        if not case:
            out.append(None)
        elif case in known:
            out.append(answer(case))
        elif case in typed:
            out.append(excel_error(f"case {case}: its Clients row has errors (see Errors)"))
        else:
            out.append(excel_error(f"case {case} is not in the Clients table", "#N/A"))
    return reshape(out, (len(grid), len(grid[0])))


def _most_urgent(ev: Evaluation) -> dict[str, int]:
    """Per case, the index of its most urgent rule obligation (open before met before N/A)."""
    ob = ev.obligations
    clients = ev.workbook.caseload.clients
    first: dict[str, int] = {}
    for i in ob.by_urgency():
        first.setdefault(clients[int(ob.case[i])].case_id, int(i))
    return first


def _most_urgent_status(ev: Evaluation) -> dict[str, Status]:
    """Per case, the most urgent status among the rules' and the flows' obligations."""
    ob = ev.obligations
    best = {
        case: (int(ob.status[i]), int(ob.due[i]) or 1 << 40) for case, i in _most_urgent(ev).items()
    }
    for o in ev.flow_obligations():
        key = (STATUS_ORDER.index(o.status), o.due.toordinal() if o.due else 1 << 40)
        if o.case_id not in best or key < best[o.case_id]:
            best[o.case_id] = key
    return {case: STATUS_ORDER[code] for case, (code, _) in best.items()}


def status(case_ids: object, as_of: object, *tables: object) -> Grid:
    """Each client's most urgent status: OVERDUE, DUE SOON, DUE, MET or N/A."""
    ev = _evaluation(as_of, tables)
    urgent = _most_urgent_status(ev)

    def answer(case: str) -> str:
        return str(urgent.get(case, Status.NA))

    return _per_case(case_ids, answer, ev)


def next_action(case_ids: object, as_of: object, *tables: object) -> Grid:
    """Each client's next action: the non-compliance flow's when it has one, else the most
    urgent open obligation (rule, what to do, due date and status)."""
    ev = _evaluation(as_of, tables)
    urgent = _most_urgent(ev)
    ob = ev.obligations

    def answer(case: str) -> str:
        flow = ev.flows.states.get(case)
        if flow is not None and flow.next_action:  # the non-compliance flow knows best
            return flow.next_action
        i = urgent.get(case)
        if i is None or STATUS_ORDER[int(ob.status[i])] not in OPEN_STATUSES:
            return "nothing open"
        rule = ev.book.rules[ob.rule_ids[ob.rule[i]]]
        state = STATUS_ORDER[int(ob.status[i])]
        due = _day(int(ob.due[i]))
        late = f", {int(ob.days_overdue[i])} days overdue" if state == Status.OVERDUE else ""
        return f"{rule.id} {rule.title}: due {fmt(due)} ({state}{late})"

    return _per_case(case_ids, answer, ev)


def next_due(case_ids: object, as_of: object, *tables: object) -> Grid:
    """Each client's next due date among open obligations (blank when nothing is open)."""
    ev = _evaluation(as_of, tables)
    summary = client_summaries(ev)
    return _per_case(case_ids, lambda case: summary[case][0], ev)


def overdue_count(keys: object, as_of: object, *tables: object) -> Grid:
    """Overdue obligations per case ID, or per branch or case manager for those names."""
    ev = _evaluation(as_of, tables)
    clients = ev.workbook.caseload.clients
    by: dict[str, Counter[str]] = defaultdict(Counter)
    summary = client_summaries(ev)  # the rules' and the flows' clocks, as on Clients
    for client in clients:
        overdue = summary[client.case_id][2]
        by["case"][client.case_id] += overdue
        by["branch"][client.branch] += overdue
        by["manager"][client.case_manager] += overdue
    cases = {c.case_id for c in clients}
    branches = {c.branch for c in clients} | {b.name for b in ev.workbook.caseload.branches}
    managers = {c.case_manager for c in clients}
    grid = as_grid(keys)
    out: list[Any] = []
    for value in (c for row in grid for c in row):
        key = read_text(value)
        if not key:
            out.append(None)
        elif key in cases:
            out.append(by["case"][key])
        elif key in branches:
            out.append(by["branch"][key])
        elif key in managers:
            out.append(by["manager"][key])
        else:
            out.append(excel_error(f"{key!r} is not a case ID, branch or case manager", "#N/A"))
    return reshape(out, (len(grid), len(grid[0])))
