"""`pyxl report`: the supervisor report over one or many caseload workbooks.

Each workbook goes through the same read / validate / evaluate path as
`pyxl recompute` (pyxl.services.recompute.evaluate_file); nothing is written to
it. Each is then reduced to a `Part`: small per-branch and per-case-manager
tables, counted from the obligations its Due List shows (the rules' and the flows'
clocks alike, `Evaluation.items`), and the short lists a supervisor acts on. The
workbook itself is dropped, so a county or a state costs the memory of one
workbook at a time, and workbooks are reduced in parallel processes (or on a Dask
cluster, pyxl.services.rollup). The report adds the parts up: a county's figures
are the sum of its branches'.

Row-level lists that grow with the caseload (the work list, monthly duties,
participation per family) go to an optional detail workbook and to `pyxl export`.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pyxl.adapters import caseload_file, speed
from pyxl.domain import participation
from pyxl.domain.calendar import edate, eomonth
from pyxl.domain.model import STATUS_ORDER, Program, Status
from pyxl.domain.obligations import OPEN_STATUSES
from pyxl.domain.reference import WEEKENDS_ONLY, apply_clock
from pyxl.domain.report_model import C, ChartSpec, Report, ReportColumn, ReportTable, S, W
from pyxl.domain.sanctions import penalised_months
from pyxl.errors import UserError, os_advice
from pyxl.policy import flowbook
from pyxl.services.recompute import Evaluation, Progress, evaluate_file, supervisors

Key = tuple[str, str, str]  # branch, supervisor, case manager
Rows = list[list[object]]


STATUS_CODE = {s: i for i, s in enumerate(STATUS_ORDER)}
OPEN_CODES = [STATUS_CODE[s] for s in OPEN_STATUSES]
OVERDUE = STATUS_CODE[Status.OVERDUE]
DETAIL_SHEETS = (
    "Work List",
    "Contact Compliance",
    "Work Verification",
    "Track Review",
    "Participation Detail",
)
# A client per row: in the report of one workbook (an office reads them there); in a roll-up
# of several, with the detail workbook's lists (a state's would run to hundreds of thousands
# of rows, and their memory would grow with every workbook). The report keeps their counts.
CLIENT_LISTS = (
    "Non-Compliance TANF",
    "CM Exiter Alert",
    "Conciliation",
    "Disqualification History",
    "Selective Service",
)


def _day(ordinal: int) -> dt.date | None:
    return dt.date.fromordinal(int(ordinal)) if ordinal else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _yes_no(value: bool | None) -> str:
    return "" if value is None else "Yes" if value else "No"


# ---------------------------------------------------------------- one workbook, reduced


@dataclass
class Part:
    """One workbook reduced to what the report adds up: counts per branch, supervisor and
    case manager, and the short lists a supervisor acts on. Plain data: it is what comes
    back from a worker process or a Dask worker."""

    name: str
    as_of: dt.date
    work_list_days: int
    branches: dict[str, tuple[str, str]]  # branch -> state, supervisor
    titles: dict[str, str]  # rule id -> title
    people: dict[Key, list[int]]  # clients, open cases, data errors
    counts: dict[tuple[Key, str], list[int]]  # (key, rule id) -> obligations per status
    oldest: dict[Key, tuple[int, str, str, dt.date | None]]  # days, rule, case, due date
    this_week: dict[Key, int]  # open, not overdue, due within the work list days
    duties: dict[tuple[str, str], list[int]]  # (branch, manager) -> last month's duties
    rates: dict[str, Rows]  # "office" / "cm" -> participation rate rows
    lists: dict[str, Rows]  # sheet -> rows (the lists a supervisor reads)
    tallies: Counter[str]  # the client lists' counts the Overview shows
    conciliations: dict[tuple[str, str], Counter[str]]  # (branch, manager) -> outcomes
    reengaged: dict[tuple[str, str], list[int]]  # (branch, manager) -> days to re-engage
    detail: dict[str, Rows] = field(default_factory=dict)  # sheet -> rows (detail workbook)


@dataclass
class _Book:
    """An evaluated workbook with its clients' columns, for the reductions."""

    name: str
    ev: Evaluation

    def __post_init__(self) -> None:
        clients = self.ev.clients
        values = clients.values
        self.case_id = [str(v) for v in values("case_id")]
        self.client_name = [str(v) for v in values("client_name")]
        self.program = [str(v) for v in values("program")]
        self.branch = [str(v) for v in values("branch")]
        self.manager = [str(v) for v in values("case_manager")]
        boss = supervisors(self.ev)
        self.supervisor = [boss.get(m, "") for m in self.manager]
        closure = clients["closure_date"]
        as_of = self.ev.as_of.toordinal()
        self.open_case = (closure == 0) | (closure > as_of)
        self.index = self.ev.workbook.client_index
        # Each client's key (branch, supervisor, case manager), as a code into `keys`.
        codes: dict[Key, int] = {}
        self.key_code = np.fromiter(
            (codes.setdefault(k, len(codes)) for k in zip(self.branch, self.supervisor,
                                                            self.manager, strict=True)),
            dtype=np.int64,
            count=len(self.case_id),
        )  # fmt: skip
        self.keys: list[Key] = list(codes)

    def who(self, c: int) -> list[object]:
        """Case manager, branch, case id, name: the first cells of many lists."""
        return [self.manager[c], self.branch[c], self.case_id[c], self.client_name[c]]


def reduce_workbook(
    path: Path, as_of: dt.date, detail: bool = False, client_lists: bool = True
) -> Part:
    """Read, evaluate and reduce one workbook (read-only: a snapshot of its bytes)."""
    with speed.without_cycle_collector():  # the reduction too makes many objects, no cycles
        ev = evaluate_file(caseload_file.reading(Path(path)), as_of)
        return reduce_evaluation(Path(path).name, ev, detail, client_lists)


def reduce_evaluation(
    name: str, ev: Evaluation, detail: bool = False, client_lists: bool = True
) -> Part:
    """The workbook's part. `client_lists`: the CLIENT_LISTS go with the report's lists
    (one workbook), or else with the detail lists (kept only when `detail`)."""
    book = _Book(name, ev)
    settings = ev.workbook.settings
    days = int(settings["Report work list days"])
    branches = {b.name: (b.state, b.supervisor) for b in ev.workbook.domain_rows("Branches")}
    counts, oldest, this_week = _due_counts(book, days)
    last_month = edate(ev.as_of.replace(day=1), -1)
    monthly = _monthly(book, None if detail else last_month)
    family = _family_months(book)
    rates = {
        "office": _rate_rows(family, lambda fm: (fm.branch,)),
        "cm": _rate_rows(family, lambda fm: (fm.branch, fm.case_manager)),
    }
    exceptions = exception_rows(book)
    conciliations, history = conciliation_rows(book)
    listed = {
        "Non-Compliance TANF": noncompliance_tanf_rows(book),
        "CM Exiter Alert": exiter_rows(book),
        "Conciliation": conciliations,
        "Disqualification History": history,
        "Selective Service": selective_service_rows(book),
    }
    outcomes, reengaged = _conciliation_tallies(conciliations, history)
    part = Part(
        name=name,
        as_of=ev.as_of,
        work_list_days=days,
        branches=branches,
        titles={r: ev.rules[r].title for r in ev.items.rule_ids},
        people=_people(book, exceptions),
        counts=counts,
        oldest=oldest,
        this_week=this_week,
        duties=_duties(monthly, last_month),
        rates=rates,
        lists={**(listed if client_lists else {}), "Exceptions": exceptions},
        tallies=Counter(
            {
                "noncompliance_tanf": len(listed["Non-Compliance TANF"]),
                "exit_90_plus": sum(r[0] == EXIT_BANDS[3] for r in listed["CM Exiter Alert"]),
                "selective_service": len(listed["Selective Service"]),
            }
        ),
        conciliations=outcomes,
        reengaged=reengaged,
    )
    if detail:
        part.detail = {
            "Work List": work_list_rows(book, days),
            **{sheet: rows for sheet, rows in monthly.items()},
            "Participation Detail": [_family_row(fm) for fm in family[0]],
            **({} if client_lists else listed),
        }
    return part


def _due_counts(book: _Book, days: int):
    """Obligations per key, rule and status; each key's oldest overdue item; and what falls
    due within `days` (open, not yet overdue)."""
    items = book.ev.items
    horizon = book.ev.as_of.toordinal() + days
    keys, width, rules = book.keys, len(STATUS_ORDER), len(items.rule_ids)
    key = book.key_code[items.case]
    # One count over (key, rule, status) triples, in numpy.
    table = np.bincount(
        (key * rules + items.rule) * width + items.status, minlength=len(keys) * rules * width
    ).reshape(len(keys), rules, width)
    counts: dict[tuple[Key, str], list[int]] = {
        (keys[k], items.rule_ids[r]): table[k, r].tolist()
        for k, r in zip(*np.nonzero(table.any(axis=2)), strict=True)
    }
    # Each key's most overdue item (the first listed among equals).
    late = np.flatnonzero(items.status == OVERDUE)
    order = late[np.lexsort((late, -items.days_overdue[late], key[late]))]
    first = order[np.r_[True, key[order][1:] != key[order][:-1]]] if len(order) else order
    oldest: dict[Key, tuple[int, str, str, dt.date | None]] = {
        keys[key[i]]: (int(items.days_overdue[i]), items.rule_ids[items.rule[i]],
                       book.case_id[items.case[i]], _day(items.due[i]))
        for i in first.tolist()
    }  # fmt: skip
    soon = np.isin(items.status, OPEN_CODES) & (items.status != OVERDUE) & (items.due > 0)
    soon &= items.due <= horizon
    week = np.bincount(key[soon], minlength=len(keys))
    return counts, oldest, {keys[k]: int(week[k]) for k in np.flatnonzero(week).tolist()}


def _people(book: _Book, exceptions: Rows) -> dict[Key, list[int]]:
    """Per key: clients, open cases, data errors."""
    n = len(book.keys)
    clients = np.bincount(book.key_code, minlength=n)
    open_cases = np.bincount(book.key_code, weights=book.open_case, minlength=n)
    errors = [0] * n
    for row in exceptions:
        c = book.index.get(str(row[3]))
        if row[7] == "error" and c is not None:
            errors[book.key_code[c]] += 1
    return {
        key: [int(clients[k]), int(open_cases[k]), errors[k]]
        for k, key in enumerate(book.keys)
        if clients[k]
    }


def work_list_rows(book: _Book, days: int) -> Rows:
    """Overdue, and open due within `days`: the Due List's urgent rows, per case manager."""
    items, ev = book.ev.items, book.ev
    horizon = (ev.as_of + dt.timedelta(days=days)).toordinal()
    wanted = (items.status == OVERDUE) | (
        np.isin(items.status, OPEN_CODES) & (items.due > 0) & (items.due <= horizon)
    )
    rows = []
    for i in np.flatnonzero(wanted).tolist():
        c = int(items.case[i])
        rule = ev.rules[items.rule_ids[items.rule[i]]]
        rows.append(
            [book.manager[c], book.branch[c], book.supervisor[c], _day(items.due[i]),
             str(STATUS_ORDER[items.status[i]]), int(items.days_overdue[i]) or None, rule.id,
             rule.title, book.case_id[c], book.client_name[c], book.program[c]]
        )  # fmt: skip
    return rows


def _rule_mask(ev: Evaluation, rule_id: str) -> np.ndarray:
    ob = ev.obligations
    if rule_id not in ob.rule_ids:
        return np.zeros(len(ob), bool)
    return ob.rule == list(ob.rule_ids).index(rule_id)


def noncompliance_tanf_rows(book: _Book) -> Rows:
    """T-15: TANF customers with no activity recorded for more than one month."""
    ev, ob = book.ev, book.ev.obligations
    mask = _rule_mask(ev, "T-15") & (ob.status == OVERDUE)
    if not mask.any():
        return []
    cases = {book.case_id[c] for c in ob.case[mask].tolist()}
    contacts = ev.workbook.table("Contacts")
    last_contact: dict[str, dt.date] = {}
    letters: dict[str, list[dt.date]] = defaultdict(list)
    for case_id, day, method in zip(
        contacts.values("case_id"), contacts.values("date"), contacts.values("method"),
        strict=True,
    ):  # fmt: skip
        if case_id in cases and day <= ev.as_of:
            if day > last_contact.get(case_id, dt.date.min):
                last_contact[case_id] = day
            if method == "Letter":
                letters[case_id].append(day)
    penalties = ev.workbook.table("Penalties")
    requested: dict[str, dt.date] = {}
    for case_id, day in zip(
        penalties.values("case_id"), penalties.values("requested_date"), strict=True
    ):
        if day and day > requested.get(case_id, dt.date.min):
            requested[case_id] = day
    rows = []
    for i in np.flatnonzero(mask).tolist():
        c = int(ob.case[i])
        case_id = book.case_id[c]
        last = _day(ob.trigger[i])
        sent = [d for d in letters.get(case_id, []) if last is None or d >= last]
        rows.append(
            [book.supervisor[c], book.manager[c], book.branch[c], case_id, book.client_name[c],
             book.program[c], last, (ev.as_of - last).days if last else None,
             last_contact.get(case_id), max(sent) if sent else None, requested.get(case_id),
             ev.flows.states[case_id].next_action, ""]
        )  # fmt: skip
    return rows


EXIT_BANDS = ("0-30", "31-60", "61-89", "90+ (exit)", "Planned gap")


def exit_band(days_since: int) -> str:
    """CM Exiter Alert band of the days since the last qualifying service."""
    if days_since <= 30:
        return EXIT_BANDS[0]
    if days_since <= 60:
        return EXIT_BANDS[1]
    if days_since <= 89:
        return EXIT_BANDS[2]
    return EXIT_BANDS[3]


def exiter_rows(book: _Book) -> Rows:
    """Y-08: WIOA participants on the 90-day clock, planned gaps apart. Co-enrolled = the
    person's other programs in the same workbook."""
    ev, ob = book.ev, book.ev.obligations
    mask = _rule_mask(ev, "Y-08") & (ob.status != STATUS_CODE[Status.MET]) & (ob.trigger > 0)
    if not mask.any():
        return []
    person = [str(p or "") for p in ev.clients.values("person_id")]
    programs_of: dict[str, set[str]] = defaultdict(set)
    for p, program in zip(person, book.program, strict=True):
        if p:
            programs_of[p].add(program)
    limit = ev.workbook.settings["Y-08 days"]
    services = ev.workbook.table("Services")
    gaps: dict[str, tuple[dt.date, dt.date | None]] = {}
    for case_id, kind, start, end in zip(
        *(services.values(f) for f in ("case_id", "service", "start_date", "end_date")),
        strict=True,
    ):
        if kind == "Planned gap (11)" and start <= ev.as_of and (end is None or end >= ev.as_of):
            gaps[case_id] = (start, end)
    rows = []
    for i in np.flatnonzero(mask).tolist():
        c = int(ob.case[i])
        if not book.open_case[c]:
            continue
        last = _day(ob.trigger[i])
        assert last is not None
        since = (ev.as_of - last).days
        reason = ob.reason[i]
        planned = "planned gap" in reason
        gap = gaps.get(book.case_id[c]) if planned else None
        others = sorted(programs_of.get(person[c], set()) - {book.program[c]}) if person[c] else []
        rows.append(
            [EXIT_BANDS[4] if planned else exit_band(since), book.manager[c], book.branch[c],
             book.case_id[c], book.client_name[c], ", ".join(others), last, since,
             limit - since, "Yes" if planned else "No", gap[0] if gap else None,
             gap[1] if gap else None, "Yes" if "future service" in reason else "No"]
        )  # fmt: skip
    return rows


CONTACT_RULES = ("A-06", "A-07", "Y-04")
CHECKED = [STATUS_CODE[s] for s in (Status.MET, Status.OVERDUE, Status.DUE_SOON, Status.DUE)]


def _monthly(book: _Book, month: dt.date | None = None) -> dict[str, Rows]:
    """The monthly duties' rows: contacts, work verification, track reviews (of one month,
    or of every month when `month` is None)."""
    ev, ob = book.ev, book.ev.obligations
    out: dict[str, Rows] = {"Contact Compliance": [], "Work Verification": [], "Track Review": []}
    checked = np.isin(ob.status, CHECKED)
    if month is not None:
        first, last = month.toordinal(), edate(month, 1).toordinal()
        checked &= (ob.period_start >= first) & (ob.period_start < last)
    for sheet, rule_ids in (
        ("Contact Compliance", CONTACT_RULES),
        ("Work Verification", ("A-23",)),
        ("Track Review", ("A-38",)),
    ):
        mask = np.zeros(len(ob), bool)
        for rule_id in rule_ids:
            mask |= _rule_mask(ev, rule_id)
        rows = out[sheet]
        for i in np.flatnonzero(mask & checked).tolist():
            c = int(ob.case[i])
            start, met = _day(ob.period_start[i]), _day(ob.met_on[i])
            first = [start.strftime("%Y-%m") if start else "", book.manager[c], book.branch[c],
                     book.case_id[c], book.client_name[c]]  # fmt: skip
            status = str(STATUS_ORDER[ob.status[i]])
            if sheet == "Contact Compliance":
                rule = ev.book.rules[ob.rule_ids[ob.rule[i]]]
                rows.append([*first, rule.id, rule.title, int(ob.found[i]), status, met])
            elif sheet == "Work Verification":
                due = _day(ob.due[i])
                on_time = "Yes" if met and due and met <= due else "No"
                rows.append([*first, due, status, met, on_time])
            else:
                track = ev.clients.values("track_change_date")[c]
                rows.append([*first, status, met, track])
    return out


def _duties(monthly: dict[str, Rows], month: dt.date) -> dict[tuple[str, str], list[int]]:
    """Per (branch, case manager): due and met of each monthly duty of `month`."""
    wanted = month.strftime("%Y-%m")
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 6)
    for sheet, at, met_at, met in (
        ("Contact Compliance", 0, 8, "MET"),
        ("Work Verification", 2, 8, "Yes"),
        ("Track Review", 4, 5, "MET"),
    ):
        for row in monthly[sheet]:
            if row[0] == wanted:
                t = tally[(str(row[2]), str(row[1]))]
                t[at] += 1
                t[at + 1] += row[met_at] == met
    return dict(tally)


def selective_service_rows(book: _Book) -> Rows:
    ev, ob = book.ev, book.ev.obligations
    mask = _rule_mask(ev, "T-14") & np.isin(ob.status, OPEN_CODES)
    born = ev.clients.values("date_of_birth")
    rows = []
    for i in np.flatnonzero(mask).tolist():
        c = int(ob.case[i])
        dob = born[c]
        rows.append(
            [book.manager[c], book.branch[c], book.case_id[c], book.client_name[c],
             book.program[c], dob, _age(dob, ev.as_of) if dob else None, _day(ob.due[i]),
             str(STATUS_ORDER[ob.status[i]]), int(ob.days_overdue[i]) or None]
        )  # fmt: skip
    return rows


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def exception_rows(book: _Book) -> Rows:
    ev = book.ev
    rows = []
    for p in ev.problems:
        case_id = ev.problem_cases.get((p.sheet, p.row), "")
        c = book.index.get(case_id)
        known = c is not None
        rows.append(
            [book.program[c] if known else "(unknown)", book.manager[c] if known else "(unknown)",
             book.branch[c] if known else "", case_id, book.name, p.sheet, p.cell or None,
             p.severity, p.column, p.value, p.message]
        )  # fmt: skip
    return rows


# ---------------------------------------------------------------- conciliation (Oregon)

OUTCOMES = {  # how a conciliation clock ended -> what the supervisor reads
    "Good cause: yes": "Good cause",
    "Decision not to disqualify": "No disqualification",
    "Good cause: no": "Disqualification",
    "Client responded": "Engaged before conciliation",
    "Contact made": "Engaged before conciliation",
    "Conciliation held": "Held, outcome not recorded",
    "Exemption started": "Exempt",
    "Case closed": "Closed",
}


def conciliation_rows(book: _Book) -> tuple[Rows, Rows]:
    """Every conciliation (NC-OR-01, 10 working days from the report) with its outcome, and
    each Oregon disqualification with the re-engagement that followed."""
    ev = book.ev
    clock = flowbook().clock("NC-OR-01").clock
    rows: Rows = []
    for c, case_id in enumerate(book.case_id):
        calendar = ev.calendars.get(book.branch[c], WEEKENDS_ONLY)
        for run in ev.flows.states[case_id].clock_runs:
            if run.rule_id != "NC-OR-01":
                continue
            due = apply_clock(clock, run.trigger, calendar, ev.workbook.settings)
            if run.by is None:  # still running
                outcome = "Overdue" if ev.as_of > due else "Pending"
            else:
                outcome = OUTCOMES.get(run.by, run.by)
            on_time = None if run.ended is None else run.ended <= due
            rows.append(
                [book.branch[c], book.manager[c], case_id, book.client_name[c], run.trigger, due,
                 run.ended, _yes_no(on_time), outcome]
            )  # fmt: skip
    history: Rows = []
    penalties = ev.workbook.domain_rows("Penalties")
    oregon = [(p, v) for p, v in zip(penalties, ev.flows.penalties, strict=True)
              if p.program == Program.OR_JOBS and p.imposed_date is not None]  # fmt: skip
    if not oregon:
        return rows, history
    asked_on: dict[str, list[dt.date]] = defaultdict(list)
    for e in ev.workbook.domain_rows("Noncompliance"):
        if e.event == "Re-engagement requested":
            asked_on[e.case_id].append(e.date)
    person = ev.clients.values("person_id")
    for p, view in oregon:
        c = book.index.get(p.case_id)
        if c is None:
            continue
        asked = [d for d in asked_on[p.case_id] if d >= p.imposed_date]
        requested = min(asked) if asked else None
        history.append(
            [person[c] or p.case_id, p.case_id, book.client_name[c], p.branch or book.branch[c],
             p.case_manager or book.manager[c], p.imposed_date, p.step, p.level, view.expected,
             p.ended_date, requested, (requested - p.imposed_date).days if requested else None]
        )  # fmt: skip
    return rows, history


# ---------------------------------------------------------------- participation


def _family_months(book: _Book) -> tuple[list[participation.FamilyMonth], object]:
    ev = book.ev
    settings = ev.workbook.settings
    rules = participation.ParticipationRules.from_settings(settings)
    months = participation.months_before(ev.as_of, settings["Participation months"])
    clients = [c for c in ev.workbook.domain_rows("Clients") if c.program in rules.programs]
    cases = {c.case_id for c in clients}
    hours = ev.workbook.table("Hours")
    # Only the weeks with a weekday in the months shown can count (a year of weeks is logged;
    # the rates look at a few months): the others are not made into objects.
    week = hours["week_start"]
    first, end = months[0].toordinal(), eomonth(months[-1], 0).toordinal()
    shown = (week == 0) | ((week + 4 >= first) & (week <= end))
    found = participation.family_months(
        clients,
        hours.rows_at(np.flatnonzero(hours.isin("case_id", cases) & shown).tolist()),
        months,
        rules,
        penalised_months(ev.workbook.domain_rows("Penalties"), ev.as_of),
    )
    return found, rules


def _rate_rows(family, group: Callable[[participation.FamilyMonth], tuple]) -> Rows:
    found, rules = family
    return [
        [r.month.strftime("%Y-%m"), *r.group, r.kind, r.families, r.excluded, r.denominator,
         r.met, r.rate, r.target / 100, _yes_no(r.meets_target)]
        for r in participation.rates(found, rules, group)
    ]  # fmt: skip


def _family_row(fm: participation.FamilyMonth) -> list[object]:
    return [fm.month.strftime("%Y-%m"), fm.branch, fm.case_manager, fm.case_id, fm.program,
            fm.family_type, fm.required_hours, fm.required_core, fm.core_hours, fm.other_hours,
            "Yes" if fm.meets else "No", "Yes" if fm.in_all_families else "No",
            "Yes" if fm.in_two_parent else "No", fm.excluded]  # fmt: skip


# ---------------------------------------------------------------- the tables, from the parts


def _sorted_keys(keys: Iterable[Key]) -> list[Key]:
    return sorted(keys, key=lambda k: tuple(map(str, k)))


def _status_sum(parts: Sequence[Part], group: Callable[[Key, str], tuple]) -> dict:
    out: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(STATUS_ORDER))
    for part in parts:
        for (key, rule), n in part.counts.items():
            total = out[group(key, rule)]
            for s, v in enumerate(n):
                total[s] += v
    return out


def _open(n: Sequence[int]) -> int:
    return sum(n[s] for s in OPEN_CODES)


def _by_status(n: Sequence[int]) -> list[int]:
    """Open, Overdue, Due Soon, Due, Met."""
    return [_open(n), *(n[STATUS_CODE[s]] for s in (Status.OVERDUE, Status.DUE_SOON,
                                                    Status.DUE, Status.MET))]  # fmt: skip


STATUS_COLUMNS = (S("Open"), S("Overdue"), S("Due Soon"), S("Due"), S("Met"))


def by_rule(parts: Sequence[Part]) -> ReportTable:
    titles = {r: t for p in parts for r, t in p.titles.items()}
    counts = _status_sum(parts, lambda _k, rule: (rule,))
    rows = [[rule, titles[rule], *_by_status(n)] for (rule,), n in sorted(counts.items())]
    return ReportTable(
        "By Rule",
        "ByRule",
        "Obligations by rule",
        "Every rule's and non-compliance clock's obligations by status on the report date: "
        "the rows of the workbooks' Due Lists.",
        (C("Rule", width=10), W("Obligation", 44), *STATUS_COLUMNS),
        rows,
    )


def _people_sum(parts: Sequence[Part], group: Callable[[Key], tuple]) -> dict[tuple, list[int]]:
    out: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for part in parts:
        for key, n in part.people.items():
            total = out[group(key)]
            for k, v in enumerate(n):
                total[k] += v
    return out


def _oldest(parts: Sequence[Part], group: Callable[[Key], tuple]) -> dict[tuple, tuple]:
    out: dict[tuple, tuple] = {}
    for part in parts:
        for key, item in part.oldest.items():
            g = group(key)
            if g not in out or item[0] > out[g][0]:
                out[g] = item
    return out


def _week(parts: Sequence[Part], group: Callable[[Key], tuple]) -> Counter[tuple]:
    out: Counter[tuple] = Counter()
    for part in parts:
        for key, n in part.this_week.items():
            out[group(key)] += n
    return out


def by_branch(parts: Sequence[Part]) -> ReportTable:
    def branch(key: Key) -> tuple:
        return (key[0],)

    info = {b: v for p in parts for b, v in p.branches.items()}
    counts = _status_sum(parts, lambda k, _r: branch(k))
    people = _people_sum(parts, branch)
    oldest = _oldest(parts, branch)
    rows = []
    for k in sorted(people, key=str):
        n = counts.get(k, [0] * len(STATUS_ORDER))
        state, boss = info.get(str(k[0]), ("", ""))
        first = oldest.get(k)
        rows.append(
            [k[0], state, boss, people[k][0], people[k][1], *_by_status(n),
             first[0] if first else None, people[k][2]]
        )  # fmt: skip
    return ReportTable(
        "By Branch",
        "ByBranch",
        "Obligations by branch",
        "Clients and obligations per branch; Data Errors = rows pyxl could not read.",
        (C("Branch", width=18), C("State", width=7), C("Supervisor", width=18),
         S("Clients"), S("Open Cases"), *STATUS_COLUMNS, C("Oldest Overdue Days", "int", 10),
         S("Data Errors")),
        rows,
    )  # fmt: skip


def by_case_manager(parts: Sequence[Part]) -> ReportTable:
    counts = _status_sum(parts, lambda k, _r: k)
    people = _people_sum(parts, lambda k: k)
    oldest = _oldest(parts, lambda k: k)
    rows = []
    for k in _sorted_keys(people):  # type: ignore[arg-type]
        n = counts.get(k, [0] * len(STATUS_ORDER))
        first = oldest.get(k)
        rows.append(
            [*k, people[k][0], people[k][1], *_by_status(n), first[0] if first else None,
             people[k][2]]
        )  # fmt: skip
    return ReportTable(
        "By Case Manager",
        "ByCaseManager",
        "Obligations by case manager",
        "Who is behind, and on how much. Filter Branch or Supervisor.",
        (C("Branch", width=18), C("Supervisor", width=18), C("Case Manager", width=20),
         S("Clients"), S("Open Cases"), *STATUS_COLUMNS, C("Oldest Overdue Days", "int", 10),
         S("Data Errors")),
        rows,
    )  # fmt: skip


def who_is_behind(parts: Sequence[Part], days: int) -> ReportTable:
    """Page one: each branch (bold) and its case managers, most overdue first, with the
    oldest overdue obligation (days, rule, case, due date) and what falls due within
    `days`."""
    counts = _status_sum(parts, lambda k, _r: k)
    oldest = _oldest(parts, lambda k: k)
    week = _week(parts, lambda k: k)
    keys = _sorted_keys(_people_sum(parts, lambda k: k))  # type: ignore[arg-type]
    overdue = {k: counts.get(k, [0] * len(STATUS_ORDER))[OVERDUE] for k in keys}
    branches: dict[str, list[Key]] = defaultdict(list)
    for k in keys:
        branches[k[0]].append(k)

    def line(label: list[object], group: list[Key]) -> list[object]:
        late = sum(overdue[k] for k in group)
        first = max((oldest[k] for k in group if k in oldest), default=None, key=lambda t: t[0])
        since = list(first) if first else [None, "", "", None]
        return [*label, late, *since, sum(week[k] for k in group)]

    rows: Rows = []
    bold = []
    for branch, group in sorted(
        branches.items(), key=lambda kv: (-sum(overdue[k] for k in kv[1]), kv[0])
    ):
        bold.append(len(rows))
        rows.append(line([branch, "All case managers"], group))
        for k in sorted(group, key=lambda k: (-overdue[k], k[2])):
            rows.append(line([branch, k[2]], [k]))
    return ReportTable(
        "Overview",
        "WhoIsBehind",
        "Who is behind",
        "",
        (C("Branch", width=16), C("Case Manager", width=18), C("Overdue", "int", 8),
         C("Oldest Overdue Days", "int", 8), C("Oldest: Rule", width=11),
         C("Oldest: Case", width=11), C("Oldest: Due", "date", 11),
         C(f"Due in {days} Days", "int", 8)),
        rows,
        frozenset(bold),
    )  # fmt: skip


def work_list(parts: Sequence[Part], days: int) -> ReportTable:
    rows = [r for p in parts for r in p.detail.get("Work List", [])]
    order = {str(s): i for i, s in enumerate(STATUS_ORDER)}
    rows.sort(key=lambda r: (r[0], order[r[4]], r[3] or dt.date.max, r[8], r[6]))
    return ReportTable(
        "Work List",
        "WorkList",
        f"Work list: overdue and due within {days} days",
        "What each case manager must do this week, most urgent first (the Due List's rows). "
        "Filter Case Manager.",
        (C("Case Manager", width=20), C("Branch", width=16), C("Supervisor", width=18),
         C("Due Date", "date", 12), C("Status", width=10), C("Days Overdue", "int", 9),
         C("Rule", width=9), W("Obligation", 40), C("Case ID", width=11, total="count"),
         C("Client Name", width=22), C("Program", width=18)),
        rows,
    )  # fmt: skip


def _listed(parts: Sequence[Part], sheet: str) -> Rows:
    """A list's rows from every part, in the report's lists or the detail's."""
    return [r for p in parts for r in p.lists.get(sheet, p.detail.get(sheet, []))]


def _carried(parts: Sequence[Part], sheet: str, where: str) -> bool:
    """Whether the parts carry this list in their report lists or their detail lists."""
    return bool(parts) and all(sheet in getattr(p, where) for p in parts)


def noncompliance_tanf(parts: Sequence[Part]) -> ReportTable:
    rows = _listed(parts, "Non-Compliance TANF")
    rows.sort(key=lambda r: (r[0], r[1], -(r[7] or 0), r[3]))  # type: ignore[operator]
    return ReportTable(
        "Non-Compliance TANF",
        "NonComplianceTANF",
        "Non-Compliance TANF",
        "TANF customers with no activity recorded for more than one month (T-15), by "
        "supervisor, with the last penalty request and the flow's next action. Action Taken "
        "is for the supervisor's note.",
        (C("Supervisor", width=18), C("Case Manager", width=20), C("Branch", width=16),
         C("Case ID", width=11, total="count"), C("Client Name", width=22),
         C("Program", width=14), C("Last Activity", "date", 12), C("Days Since", "int", 9),
         C("Last Contact", "date", 12), C("Letter Sent", "date", 12),
         C("Penalty Requested", "date", 12), W("Next Action", 36), W("Action Taken", 28)),
        rows,
    )  # fmt: skip


def exiter_alert(parts: Sequence[Part]) -> ReportTable:
    rows = _listed(parts, "CM Exiter Alert")
    rows.sort(key=lambda r: (EXIT_BANDS.index(r[0]) == 4, r[8], r[3]))  # type: ignore[arg-type]
    return ReportTable(
        "CM Exiter Alert",
        "ExiterAlert",
        "CM Exiter Alert",
        "WIOA Youth by days since the last qualifying service (90 days = exit, dated back to "
        "that service); open planned gaps are listed apart, at the end.",
        (C("Band", width=12), C("Case Manager", width=20), C("Branch", width=16),
         C("Case ID", width=11, total="count"), C("Participant", width=22),
         C("Co-enrolled", width=16), C("Last Qualifying Service", "date", 13),
         C("Days Since", "int", 9), C("Days Left", "int", 9), C("Planned Gap", width=9),
         C("Gap Start", "date", 12), C("Gap End", "date", 12), C("Future Service", width=10)),
        rows,
    )  # fmt: skip


def _month_client_columns(month: str) -> tuple[ReportColumn, ...]:
    return (C(month, width=9), C("Case Manager", width=20), C("Branch", width=16),
            C("Case ID", width=11, total="count"), C("Client Name", width=22))  # fmt: skip


def _detail(parts: Sequence[Part], sheet: str, key: Callable[[list[object]], tuple]) -> Rows:
    rows = [r for p in parts for r in p.detail.get(sheet, [])]
    rows.sort(key=key)
    return rows


def contact_compliance(parts: Sequence[Part]) -> ReportTable:
    return ReportTable(
        "Contact Compliance",
        "ContactCompliance",
        "Monthly contact compliance",
        "One row per client, rule and month: meaningful contact with FSSP review (A-06), two "
        "attempts by two methods when not engaged (A-07), in-person quality contact (Y-04).",
        (*_month_client_columns("Month"), C("Rule", width=7), W("Requirement", 36),
         C("Contacts Found", "int", 9), C("Status", width=10), C("Met On", "date", 12)),
        _detail(parts, "Contact Compliance", lambda r: (r[0], r[1], r[3], r[5])),
    )  # fmt: skip


def work_verification(parts: Sequence[Part]) -> ReportTable:
    return ReportTable(
        "Work Verification",
        "WorkVerification",
        "Monthly work verification completeness",
        "A-23: the hours of the month entered by the 20th of the next month (Settings: A-23 "
        "day, A-23 roll). On Time = entered by the due date.",
        (*_month_client_columns("Hours Month"), C("Due", "date", 12), C("Status", width=10),
         C("Entered On", "date", 12), C("On Time", width=8)),
        _detail(parts, "Work Verification", lambda r: (r[0], r[1], r[3])),
    )  # fmt: skip


def track_review(parts: Sequence[Part]) -> ReportTable:
    return ReportTable(
        "Track Review",
        "TrackReview",
        "Families First monthly track review",
        "A-38: every Families First case reviewed each month for readiness for Work First.",
        (*_month_client_columns("Month"), C("Status", width=10), C("Reviewed On", "date", 12),
         C("Track Change Date", "date", 13)),
        _detail(parts, "Track Review", lambda r: (r[0], r[1], r[3])),
    )  # fmt: skip


def compliance_by_case_manager(parts: Sequence[Part], month: str) -> ReportTable:
    """Per worker: share met of each monthly duty for the last complete month."""
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 6)
    for part in parts:
        for key, n in part.duties.items():
            t = tally[key]
            for k, v in enumerate(n):
                t[k] += v
    rows = [
        [branch, manager, t[0], t[1], _share(t[1], t[0]), t[2], t[3], _share(t[3], t[2]),
         t[4], t[5], _share(t[5], t[4])]
        for (branch, manager), t in sorted(tally.items())
    ]  # fmt: skip
    return ReportTable(
        "Compliance by CM",
        "ComplianceByCM",
        f"Monthly duties by case manager, {month}",
        f"Share met for {month}: contacts (A-06, A-07, Y-04), work verification on time "
        "(A-23, hours of that month) and Families First track reviews (A-38).",
        (C("Branch", width=16), C("Case Manager", width=20), S("Contacts Due"),
         S("Contacts Met"), C("Contacts %", "percent", 10), S("Verifications Due"),
         S("Verified On Time"), C("Verified %", "percent", 10), S("Reviews Due"),
         S("Reviewed"), C("Reviewed %", "percent", 10)),
        rows,
    )  # fmt: skip


def selective_service(parts: Sequence[Part]) -> ReportTable:
    rows = _listed(parts, "Selective Service")
    rows.sort(key=lambda r: (r[0], r[7] or dt.date.max, r[2]))  # type: ignore[operator]
    return ReportTable(
        "Selective Service",
        "SelectiveService",
        "Selective Service",
        "Male participants without a Selective Service number (T-14): look the number up, "
        "or have the PSR ask the customer to register.",
        (C("Case Manager", width=20), C("Branch", width=16),
         C("Case ID", width=11, total="count"), C("Participant", width=22),
         C("Program", width=16), C("Date of Birth", "date", 12), C("Age", "int", 6),
         C("Due", "date", 12), C("Status", width=10), C("Days Overdue", "int", 9)),
        rows,
    )  # fmt: skip


def exceptions(parts: Sequence[Part]) -> ReportTable:
    rows = _listed(parts, "Exceptions")
    rows.sort(key=lambda r: (r[0], r[1], r[4], r[5], r[6] or ""))  # type: ignore[operator]
    return ReportTable(
        "Exceptions",
        "Exceptions",
        "Customer Load Exception List",
        "Every data problem the last check found, by program and case manager: fix each at "
        "the workbook, sheet and cell shown. (unknown) = the row names no known case.",
        (C("Program", width=18), C("Case Manager", width=20), C("Branch", width=14),
         C("Case ID", width=11), W("Workbook", 16), C("Sheet", width=12),
         C("Cell", width=7, total="count"), C("Severity", width=9), W("Column", 14),
         W("Value", 18), W("Problem", 48)),
        rows,
    )  # fmt: skip


def exception_counts(table: ReportTable) -> ReportTable:
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in table.rows:
        tally[(str(row[0]), str(row[1]))][0 if row[7] == "error" else 1] += 1
    rows = [[p, m, e, w, e + w] for (p, m), (e, w) in sorted(tally.items())]
    return ReportTable(
        "Exception Counts",
        "ExceptionCounts",
        "Open exceptions by program and case manager",
        "Counts of the Exceptions sheet (T-16: correct and submit at least weekly).",
        (C("Program", width=18), C("Case Manager", width=20), S("Errors"), S("Warnings"),
         S("Total")),
        rows,
    )  # fmt: skip


def _conciliation_tallies(
    rows: Rows, history: Rows
) -> tuple[dict[tuple[str, str], Counter[str]], dict[tuple[str, str], list[int]]]:
    """Per (branch, case manager): conciliations, on time, by outcome, and disqualified;
    and the days from each disqualification to a re-engagement request (those asked)."""
    by_worker: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for r in rows:
        c = by_worker[(str(r[0]), str(r[1]))]
        c["conciliations"] += 1
        c["on time"] += r[7] == "Yes"
        c[str(r[8])] += 1
    reengaged: dict[tuple[str, str], list[int]] = defaultdict(list)
    for h in history:
        key = (str(h[3]), str(h[4]))
        by_worker[key]["disqualified"] += 1
        if h[11] is not None:
            reengaged[key].append(int(h[11]))  # type: ignore[call-overload]
    return dict(by_worker), dict(reengaged)


def conciliation_list(parts: Sequence[Part]) -> ReportTable:
    """Oregon: every conciliation and its outcome."""
    rows = _listed(parts, "Conciliation")
    rows.sort(key=lambda r: (r[0], r[1], r[4], r[2]))  # type: ignore[operator]
    return ReportTable(
        "Conciliation",
        "Conciliation",
        "Conciliation tracking (Oregon JOBS)",
        "Every conciliation: reported, due (10 working days), held, on time, outcome.",
        (C("Branch", width=16), C("Case Manager", width=20), C("Case ID", width=11, total="count"),
         C("Client Name", width=22), C("Reported", "date", 12), C("Due", "date", 12),
         C("Held", "date", 12), C("On Time", width=8), W("Outcome", 26)),
        rows,
    )  # fmt: skip


def conciliation_by_cm(parts: Sequence[Part]) -> ReportTable:
    """Oregon: conciliations, disqualifications and re-engagement by branch and worker."""
    by_worker: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    reengaged: dict[tuple[str, str], list[int]] = defaultdict(list)
    for p in parts:
        for key, counts in p.conciliations.items():
            by_worker[key].update(counts)
        for key, days in p.reengaged.items():
            reengaged[key] += days
    summary_rows = []
    for key in sorted(by_worker):
        c, days = by_worker[key], sorted(reengaged[key])
        summary_rows.append(
            [*key, c["conciliations"], c["on time"], _share(c["on time"], c["conciliations"]),
             c["Good cause"], c["No disqualification"], c["Disqualification"],
             c["Pending"] + c["Overdue"], c["disqualified"], len(days),
             _share(len(days), c["disqualified"]), days[len(days) // 2] if days else None]
        )  # fmt: skip
    return ReportTable(
        "Conciliation by CM",
        "ConciliationByCM",
        "Conciliation and re-engagement by branch and case manager",
        "On time = held within 10 working days. Re-engaged = disqualified people who asked to "
        "re-engage; days = median from the disqualification to the request.",
        (C("Branch", width=16), C("Case Manager", width=20), S("Conciliations"),
         S("On Time"), C("On Time %", "percent", 9), S("Good Cause"), S("No DQ"),
         S("Disqualified"), S("Open"), S("DQs Imposed"), S("Re-engaged"),
         C("Re-engagement %", "percent", 11), C("Median Days to Re-engage", "int", 12)),
        summary_rows,
    )  # fmt: skip


def disqualification_history(parts: Sequence[Part]) -> ReportTable:
    """Oregon: each person's disqualifications in any branch, with the re-engagement."""
    history = _listed(parts, "Disqualification History")
    history.sort(key=lambda r: (r[0], r[5]))  # type: ignore[operator]
    return ReportTable(
        "Disqualification History",
        "DisqualificationHistory",
        "Disqualification history per person (Oregon JOBS)",
        "Every disqualification of each person in any branch, with the step and level the "
        "ladder expects and the re-engagement that followed.",
        (C("Person ID", width=12), C("Case ID", width=11, total="count"),
         C("Client Name", width=22), C("Branch", width=16), C("Case Manager", width=20),
         C("Imposed", "date", 12), C("Step", "int", 6), C("Level", "int", 6),
         W("Expected", 40), C("Ended", "date", 12), C("Re-engagement Requested", "date", 12),
         C("Days to Re-engage", "int", 10)),
        history,
    )  # fmt: skip


CLIENT_TABLES: dict[str, Callable[[Sequence[Part]], ReportTable]] = {
    "Non-Compliance TANF": noncompliance_tanf,
    "CM Exiter Alert": exiter_alert,
    "Conciliation": conciliation_list,
    "Disqualification History": disqualification_history,
    "Selective Service": selective_service,
}


def _client_tables(parts: Sequence[Part], where: str, *sheets: str) -> list[ReportTable]:
    """The client lists among `sheets` that the parts carry `where` ("lists", "detail")."""
    return [CLIENT_TABLES[s](parts) for s in sheets if _carried(parts, s, where)]


def participation_tables(parts: Sequence[Part]) -> list[ReportTable]:
    def rates(kind: str) -> Rows:
        out = [r for p in parts for r in p.rates[kind]]
        out.sort(key=lambda row: tuple(map(str, row[:-6])))
        return out

    rate_columns = (C("Rate", width=12), S("Families"), S("Excluded"), S("Denominator"),
                    S("Met"), C("Rate %", "percent", 9), C("Target", "percent", 8),
                    C("Meets Target", width=8))  # fmt: skip
    by_office = ReportTable(
        "Participation by Office",
        "ParticipationByOffice",
        "Participation rates by office",
        "45 CFR 261.22 per month: met / (families - excluded). Targets from Settings.",
        (C("Month", width=9), C("Branch", width=16), *rate_columns),
        rates("office"),
    )
    by_cm = ReportTable(
        "Participation by CM",
        "ParticipationByCM",
        "Participation rates by case manager",
        "As by office, per case manager.",
        (C("Month", width=9), C("Branch", width=16), C("Case Manager", width=20),
         *rate_columns),
        rates("cm"),
    )  # fmt: skip
    monthly: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    targets: dict[str, int] = {}
    for row in by_office.rows:
        month, kind = str(row[0]), str(row[2])
        monthly[month][kind][0] += int(row[5])  # type: ignore[call-overload]
        monthly[month][kind][1] += int(row[6])  # type: ignore[call-overload]
        targets[kind] = round(float(row[8]) * 100)  # type: ignore[arg-type]
    overall = []
    for month in sorted(monthly):
        a, t = monthly[month]["All families"], monthly[month]["Two-parent"]
        overall.append(
            [month, a[0], a[1], _share(a[1], a[0]), targets.get("All families", 50) / 100,
             t[0], t[1], _share(t[1], t[0]), targets.get("Two-parent", 75) / 100]
        )  # fmt: skip
    summary = ReportTable(
        "Participation",
        "Participation",
        "Work participation rates",
        "All-families (A-36) and two-parent (A-37) rates per complete month, all offices "
        "together, against their targets (Settings). Details on the next sheets.",
        (C("Month", width=9), S("All Families Denominator", 13), S("All Families Met", 11),
         C("All Families Rate", "percent", 11), C("All Families Target", "percent", 10),
         S("Two-Parent Denominator", 13), S("Two-Parent Met", 11),
         C("Two-Parent Rate", "percent", 11), C("Two-Parent Target", "percent", 10)),
        overall,
    )  # fmt: skip
    return [summary, by_office, by_cm]


def participation_detail(parts: Sequence[Part]) -> ReportTable:
    return ReportTable(
        "Participation Detail",
        "ParticipationDetail",
        "Participation: every family and month",
        "Weekly average hours in the month (core / other activities), the family's "
        "requirement, and where it counts. Hours: Hours sheet; family: Clients sheet.",
        (C("Month", width=9), C("Branch", width=14), C("Case Manager", width=18),
         C("Case ID", width=11, total="count"), C("Program", width=16),
         C("Family Type", width=13), C("Hours Needed", "int", 8), C("Core Needed", "int", 8),
         C("Core Hours", "number", 8), C("Other Hours", "number", 8), C("Meets", width=7),
         C("In All Families", width=9), C("In Two-Parent", width=9),
         W("Excluded", 26)),
        _detail(parts, "Participation Detail", lambda r: (r[0], r[1], r[2], r[3])),
    )  # fmt: skip


# ---------------------------------------------------------------- overview and history


def key_figures(parts: Sequence[Part], tables: dict[str, ReportTable]) -> dict[str, object]:
    totals = [0] * len(STATUS_ORDER)
    for n in _status_sum(parts, lambda _k, _r: ()).values():
        totals = [a + b for a, b in zip(totals, n, strict=True)]
    people = [sum(n[k] for p in parts for n in p.people.values()) for k in range(2)]
    severities = Counter(str(r[7]) for r in tables["Exceptions"].rows)
    rates = tables["Participation"].rows
    last = rates[-1] if rates else None
    tallies = sum((p.tallies for p in parts), Counter())
    return {
        "clients": people[0],
        "open_cases": people[1],
        "open": _open(totals),
        "overdue": totals[OVERDUE],
        "due_soon": totals[STATUS_CODE[Status.DUE_SOON]],
        "due": totals[STATUS_CODE[Status.DUE]],
        "met": totals[STATUS_CODE[Status.MET]],
        "due_this_week": sum(_week(parts, lambda _k: ()).values()),
        "errors": severities["error"],
        "warnings": severities["warning"],
        "noncompliance_tanf": tallies["noncompliance_tanf"],
        "exit_90_plus": tallies["exit_90_plus"],
        "selective_service": tallies["selective_service"],
        "all_families_rate": last[3] if last else None,
        "all_families_target": last[4] if last else None,
        "two_parent_rate": last[7] if last else None,
        "two_parent_target": last[8] if last else None,
        "rate_month": last[0] if last else None,
    }


def overview(
    as_of: dt.date, parts: Sequence[Part], figures: dict[str, object], days: int
) -> tuple[ReportTable, tuple[int, int]]:
    """The key figures; returns the table and the rows of the status figures (for a chart)."""
    branches = sorted({k[0] for p in parts for k in p.people})
    rate_month = figures["rate_month"] or "-"

    def target(key: str) -> str:
        value = figures[key]
        return f"{rate_month}; target {value:.0%}" if isinstance(value, float) else "no month"

    def see(sheet: str) -> str:
        if _carried(parts, sheet, "lists"):
            return f"see {sheet}"
        return f"listed in the detail workbook (--detail): {sheet}"

    def listed(names: list[str], sheet: str) -> str:
        return ", ".join(names) if len(names) <= 3 else f"{names[0]}, ... (see {sheet})"

    rows: Rows = [
        ["Report date", as_of, ""],
        ["Workbooks", len(parts), listed([p.name for p in parts], "Exceptions")],
        ["Branches", len(branches), listed(branches, "By Branch")],
        ["Clients", figures["clients"], "rows on the Clients sheets"],
        ["Open cases", figures["open_cases"], "no closure date on or before the report date"],
        ["Obligations open", figures["open"], "OVERDUE + DUE SOON + DUE (the Due Lists)"],
    ]
    first_status = len(rows)
    for label, key, note in (
        ("OVERDUE", "overdue", "past due, not done"),
        ("DUE SOON", "due_soon", "due within the Settings window"),
        ("DUE", "due", "open, not yet close"),
        ("MET", "met", "done (late ones included)"),
    ):
        rows.append([label, figures[key], note])
    status_rows = (first_status, len(rows))
    rows += [
        [f"Due in {days} days", figures["due_this_week"], "open, not overdue, due by then"],
        ["All-families rate", figures["all_families_rate"], target("all_families_target")],
        ["Two-parent rate", figures["two_parent_rate"], target("two_parent_target")],
        ["Non-Compliance TANF", figures["noncompliance_tanf"], "no activity for over a month"],
        ["WIOA 90+ days (exit)", figures["exit_90_plus"], see("CM Exiter Alert")],
        ["Selective Service missing", figures["selective_service"], see("Selective Service")],
        ["Data errors", figures["errors"], "see Exceptions"],
        ["Data warnings", figures["warnings"], "see Exceptions"],
    ]
    table = ReportTable(
        "Overview",
        "Overview",
        f"Supervisor report, {as_of.isoformat()}",
        "Key figures; who is behind, on what, since when (right); charts below.",
        (C("Figure", width=22), ReportColumn("Value", "number", 11), W("Note", 42)),
        rows,
    )  # fmt: skip
    return table, status_rows


HISTORY_FIELDS = ("as_of", "scope", "clients", "open", "overdue", "due_soon", "errors",
                  "all_families_rate", "two_parent_rate")  # fmt: skip


def history_file(out: Path) -> Path:
    """Where the dated snapshots live: beside the report, one JSON object per line."""
    return out.with_name(f"{out.stem}-history.jsonl")


def read_history(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a crash must not stop the report
        if isinstance(entry, dict) and "as_of" in entry and "scope" in entry:
            out.append(entry)
    return out


def record_snapshot(history: list[dict[str, object]], snapshot: dict[str, object]):
    """The history with this run's snapshot in (replacing one of the same date and scope)."""
    same = (snapshot["as_of"], snapshot["scope"])
    kept = [h for h in history if (h["as_of"], h["scope"]) != same]
    return sorted([*kept, snapshot], key=lambda h: (str(h["scope"]), str(h["as_of"])))


def trend_table(history: list[dict[str, object]], scope: str, as_of: dt.date) -> ReportTable:
    """The last snapshot of each of the last 12 months, for this report's scope."""
    start = edate(as_of.replace(day=1), -11)
    latest: dict[str, dict[str, object]] = {}
    for h in history:
        day = dt.date.fromisoformat(str(h["as_of"]))
        if h["scope"] == scope and start <= day <= as_of:
            month = day.strftime("%Y-%m")
            if month not in latest or str(latest[month]["as_of"]) <= str(h["as_of"]):
                latest[month] = h
    rows = [
        [month, dt.date.fromisoformat(str(h["as_of"])), h.get("clients"), h.get("open"),
         h.get("overdue"), h.get("due_soon"), h.get("errors"), h.get("all_families_rate"),
         h.get("two_parent_rate")]
        for month, h in sorted(latest.items())
    ]  # fmt: skip
    return ReportTable(
        "Trend",
        "Trend",
        "Trend over the last months",
        "The last report of each month for these branches (history kept beside the report "
        "file, one line per run).",
        (C("Month", width=9), C("Report Date", "date", 12), C("Clients", "int", 9),
         C("Open", "int", 9), C("Overdue", "int", 9), C("Due Soon", "int", 9),
         C("Data Errors", "int", 9), C("All Families Rate", "percent", 11),
         C("Two-Parent Rate", "percent", 11)),
        rows,
    )  # fmt: skip


# ---------------------------------------------------------------- the whole report


def build_report(
    parts: Sequence[Part],
    as_of: dt.date,
    history: list[dict[str, object]] | None = None,
) -> Report:
    """Every table of the report; `history` = earlier snapshots (this run's is added)."""
    days = parts[0].work_list_days if parts else 7
    last_month = edate(as_of.replace(day=1), -1).strftime("%Y-%m")
    listing = exceptions(parts)
    tables_in_order = [
        by_rule(parts),
        by_branch(parts),
        by_case_manager(parts),
        *_client_tables(parts, "lists", "Non-Compliance TANF", "CM Exiter Alert", "Conciliation"),
        conciliation_by_cm(parts),
        *_client_tables(parts, "lists", "Disqualification History"),
        *participation_tables(parts),
        compliance_by_case_manager(parts, last_month),
        *_client_tables(parts, "lists", "Selective Service"),
        listing,
        exception_counts(listing),
    ]
    tables = {t.sheet: t for t in tables_in_order}
    figures = key_figures(parts, tables)
    scope = " + ".join(sorted({k[0] for p in parts for k in p.people}))
    snapshot: dict[str, object] = {"as_of": as_of.isoformat(), "scope": scope}
    snapshot.update({k: figures.get(k) for k in HISTORY_FIELDS if k in figures})
    trend = trend_table(record_snapshot(history or [], snapshot), scope, as_of)
    first, status_rows = overview(as_of, parts, figures, days)
    ordered = {first.sheet: first, trend.sheet: trend, **tables}
    charts = [
        ChartSpec("Participation rates against their targets", "column", "Participation",
                  "Month", ("All Families Rate", "Two-Parent Rate"), percent=True,
                  lines=("All Families Target", "Two-Parent Target")),
        ChartSpec("Overdue by branch", "bar", "By Branch", "Branch", ("Overdue", "Due Soon")),
        ChartSpec("Obligations by status", "column", "Overview", "Figure", ("Value",),
                  status_rows),
        ChartSpec("Overdue by rule", "bar", "By Rule", "Rule", ("Overdue",)),
        ChartSpec("Overdue by case manager", "bar", "By Case Manager", "Case Manager",
                  ("Overdue", "Due Soon")),
        ChartSpec("Trend: open and overdue", "line", "Trend", "Month", ("Open", "Overdue")),
    ]  # fmt: skip
    beside = {"Overview": who_is_behind(parts, days)}
    return Report(as_of, ordered, charts, snapshot, scope, beside)


PDF_LIST_ROWS = 300  # a list longer than this stays in the workbook, out of the PDF


def printable(report: Report) -> tuple[Report, list[str]]:
    """What the PDF prints: the report, less the lists longer than PDF_LIST_ROWS (a county's
    lists run to hundreds of pages; they stay in the workbook, filterable). Returns the
    report to print and the sheets left out of it."""
    charted = {c.sheet for c in report.charts}
    left_out = [
        name
        for name, t in report.tables.items()
        if len(t.rows) > PDF_LIST_ROWS and name not in charted and name != "Overview"
    ]
    if not left_out:
        return report, []
    kept = {n: t for n, t in report.tables.items() if n not in left_out}
    return Report(report.as_of, kept, report.charts, report.snapshot, report.scope,
                  report.beside), left_out  # fmt: skip


def build_detail(parts: Sequence[Part], as_of: dt.date, scope: str) -> Report:
    """The row-level lists: the work list, the monthly duties, participation per family,
    and in a roll-up the client lists."""
    days = parts[0].work_list_days if parts else 7
    tables = [work_list(parts, days), contact_compliance(parts), work_verification(parts),
              track_review(parts), participation_detail(parts),
              *_client_tables(parts, "detail", *CLIENT_LISTS)]  # fmt: skip
    return Report(as_of, {t.sheet: t for t in tables}, [], {}, scope)


def snapshot_line(snapshot: dict[str, object]) -> str:
    return json.dumps(snapshot, sort_keys=True, default=str)


def append_history(path: Path, snapshot: dict[str, object]) -> None:
    """Add this run's snapshot to the history file (one JSON line; same date+scope replaced)."""
    entries = record_snapshot(read_history(path), snapshot)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text("".join(snapshot_line(e) + "\n" for e in entries), encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------- the use case


@dataclass
class Unreadable:
    """A workbook the report had to leave out, and why."""

    path: Path
    reason: str


@dataclass
class ReportResult:
    report: Report
    path: Path
    history: Path
    pdf: Path | None
    parts: list[Part]
    skipped: list[Unreadable] = field(default_factory=list)
    detail: Path | None = None
    detail_report: Report | None = None
    not_printed: list[str] = field(default_factory=list)  # sheets left out of the PDF
    kept: Path | None = None  # where what --force replaced at `path` was copied

    def table(self, sheet: str) -> ReportTable:
        """A sheet of the report or of the detail workbook."""
        if sheet in self.report.tables or self.detail_report is None:
            return self.report.tables[sheet]
        return self.detail_report.tables[sheet]


@contextmanager
def _written(path: Path, report: Path | None) -> Iterator[None]:
    """An OSError writing `path` (a full disk, a read-only folder) as a message naming it;
    the file is written beside and moved into place, so what was there is unchanged."""
    try:
        yield
    except OSError as exc:
        done = f" The report itself was written to {report}." if report is not None else ""
        raise UserError(
            f"{path} could not be written: {os_advice(exc)} What was there before is "
            f"unchanged.{done}"
        ) from exc


def default_output(paths: Sequence[Path], as_of: dt.date) -> Path:
    """report-<date>.xlsx beside the first workbook."""
    return paths[0].with_name(f"report-{as_of.isoformat()}.xlsx")


def detail_file(out: Path) -> Path:
    return out.with_name(f"{out.stem}-detail.xlsx")


def run_report(
    paths: Sequence[Path],
    as_of: dt.date,
    out: Path | None = None,
    *,
    pdf: bool = False,
    detail: bool = False,
    scheduler: str | None = None,
    workers: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> ReportResult:
    """Reduce the workbooks (in parallel), write the report (and its PDF, and the detail
    workbook when asked), record the dated snapshot. A workbook that cannot be read is
    left out and named in `skipped`; nothing is written to any workbook, and `out` never
    replaces a file pyxl did not write as a report (unless `force`, which keeps a copy)."""
    from pyxl.adapters import libreoffice
    from pyxl.adapters.outputs import claim_file
    from pyxl.adapters.report_workbook import write_report
    from pyxl.services.rollup import reduce_all

    note = progress or (lambda _: None)
    out = out or default_output(paths, as_of)
    if out.suffix.lower() != ".xlsx":
        raise UserError(f"the report is an .xlsx workbook; {out} is not: end --out in .xlsx")
    if out.resolve() in {p.resolve() for p in paths}:
        raise UserError(f"{out} is one of the caseload workbooks; choose another --out")
    kept = claim_file(out, "report", force=force)
    parts, skipped = reduce_all(paths, as_of, detail, scheduler=scheduler, workers=workers,
                                progress=note)  # fmt: skip
    if not parts:
        from pyxl.adapters.workbook_reader import WorkbookUnreadable

        raise WorkbookUnreadable(
            "no workbook could be read: " + "; ".join(f"{s.path}: {s.reason}" for s in skipped)
        )
    history_path = history_file(out)
    note("computing the report")
    report = build_report(parts, as_of, read_history(history_path))
    note("writing the report")
    with _written(out, None):
        write_report(report, out)
    written_detail = detail_report = None
    if detail:
        detail_report = build_detail(parts, as_of, report.scope)
        with _written(detail_file(out), out):
            written_detail = write_report(detail_report, detail_file(out))
    with _written(history_path, out):
        append_history(history_path, report.snapshot)
    printed, not_printed = None, []
    if pdf:
        note("printing to PDF (LibreOffice)")
        shown, not_printed = printable(report)
        if not not_printed:
            printed = libreoffice.to_pdf(out, out.parent)
        else:  # the same workbook less the long lists, under the report's name
            with tempfile.TemporaryDirectory(prefix="pyxl-print-") as tmp:
                summary = write_report(shown, Path(tmp) / out.name)
                printed = libreoffice.to_pdf(summary, out.parent)
    return ReportResult(
        report, out, history_path, printed, parts, skipped, written_detail, detail_report,
        not_printed, kept,
    )  # fmt: skip
