"""`pyxl report`: the supervisor report over one or many caseload workbooks.

Each workbook goes through the same read / validate / evaluate path as
`pyxl recompute` (pyxl.services.recompute.evaluate_bytes); nothing is written to
it. The report is a set of tables (domain.md section 4), one per sheet, plus the
charts the Overview shows; pyxl.adapters.report_workbook lays them out with
XlsxWriter. Every figure is a count over the rows of another sheet of the
report, so a county roll-up is the sum of its branches' reports.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from pyxl.adapters import safe_save
from pyxl.domain import participation
from pyxl.domain.calendar import edate
from pyxl.domain.model import STATUS_ORDER, Client, Program, Status
from pyxl.domain.obligations import OPEN_STATUSES
from pyxl.domain.reference import WEEKENDS_ONLY, apply_clock
from pyxl.domain.sanctions import penalised_months
from pyxl.policy import flowbook
from pyxl.services.recompute import Evaluation, Progress, evaluate_bytes, supervisors

Kind = Literal["text", "int", "number", "date", "percent"]
SUMMED = Literal["sum", "count"]


@dataclass(frozen=True)
class ReportColumn:
    header: str
    kind: Kind = "text"
    width: float = 14
    total: SUMMED | None = None  # the table's total row (SUBTOTAL: follows filters)
    wrap: bool = False


@dataclass
class ReportTable:
    """One sheet of the report: one Excel table, title in A1, description in A2."""

    sheet: str
    table: str
    title: str
    description: str
    columns: tuple[ReportColumn, ...]
    rows: list[list[object]] = field(default_factory=list)

    def column(self, header: str) -> list[object]:
        at = [c.header for c in self.columns].index(header)
        return [r[at] for r in self.rows]

    @property
    def has_totals(self) -> bool:
        return any(c.total for c in self.columns)


@dataclass(frozen=True)
class ChartSpec:
    """A chart on the Overview over a range of one table: categories and value columns."""

    title: str
    kind: Literal["column", "bar", "line", "pie"]
    sheet: str  # the table's sheet
    categories: str  # header
    values: tuple[str, ...]  # headers, one series each
    rows: tuple[int, int] | None = None  # 0-based [start, end) of the table rows; None = all
    percent: bool = False


@dataclass
class Report:
    as_of: dt.date
    tables: dict[str, ReportTable]
    charts: list[ChartSpec]
    snapshot: dict[str, object]
    scope: str


def C(
    header: str, kind: Kind = "text", width: float = 14, total: SUMMED | None = None
) -> ReportColumn:
    return ReportColumn(header, kind, width, total)


def S(header: str, width: float = 10) -> ReportColumn:
    """A count column with a SUBTOTAL total."""
    return ReportColumn(header, "int", width, "sum")


# ---------------------------------------------------------------- reading the workbooks


@dataclass
class Source:
    """One workbook, evaluated, with what the report looks up per case."""

    path: Path
    ev: Evaluation
    supervisor_of: dict[str, str]  # case manager -> supervisor
    by_case: dict[str, Client]

    @classmethod
    def of(cls, path: Path, ev: Evaluation) -> Source:
        clients = ev.workbook.caseload.clients
        return cls(path, ev, supervisors(ev), {c.case_id: c for c in clients})

    def supervisor(self, client: Client) -> str:
        return self.supervisor_of.get(client.case_manager, "")


def read_sources(
    paths: Sequence[Path], as_of: dt.date, progress: Progress | None = None
) -> list[Source]:
    note = progress or (lambda _: None)
    out = []
    for path in paths:
        note(f"reading {path.name}")
        data, _ = safe_save.read_snapshot(path)
        out.append(Source.of(path, evaluate_bytes(data, as_of)))
    return out


# ---------------------------------------------------------------- helpers over obligations


def _rule_mask(ev: Evaluation, rule_id: str) -> np.ndarray:
    ob = ev.obligations
    if rule_id not in ob.rule_ids:
        return np.zeros(len(ob), bool)
    return ob.rule == list(ob.rule_ids).index(rule_id)


def _day(ordinal: int) -> dt.date | None:
    return dt.date.fromordinal(int(ordinal)) if ordinal else None


STATUS_CODE = {s: i for i, s in enumerate(STATUS_ORDER)}
OPEN_CODES = [STATUS_CODE[s] for s in OPEN_STATUSES]


def _open_case(client: Client, as_of: dt.date) -> bool:
    return client.closure_date is None or client.closure_date > as_of


# ---------------------------------------------------------------- the tables


def obligation_counts(
    sources: Sequence[Source], key: Callable[[Source, Client, int], tuple[object, ...]]
) -> dict[tuple[object, ...], Counter[Status]]:
    """Obligations per key and status."""
    out: dict[tuple[object, ...], Counter[Status]] = defaultdict(Counter)
    for src in sources:
        ob = src.ev.obligations
        clients = src.ev.workbook.caseload.clients
        for case, rule, status in zip(ob.case, ob.rule, ob.status, strict=True):
            out[key(src, clients[case], int(rule))][STATUS_ORDER[status]] += 1
    return out


def _open(c: Counter[Status]) -> int:
    return sum(c[s] for s in OPEN_STATUSES)


def by_rule(sources: Sequence[Source]) -> ReportTable:
    titles: dict[str, str] = {}
    for src in sources:
        titles.update({r: src.ev.book.rules[r].title for r in src.ev.obligations.rule_ids})
    counts = obligation_counts(sources, lambda s, _c, r: (s.ev.obligations.rule_ids[r],))
    rows = [
        [rule, titles[rule], _open(c), c[Status.OVERDUE], c[Status.DUE_SOON], c[Status.DUE],
         c[Status.MET]]
        for (rule,), c in sorted(counts.items())
    ]  # fmt: skip
    return ReportTable(
        "By Rule",
        "ByRule",
        "Obligations by rule",
        "Every rule's obligations by status on the report date.",
        (C("Rule", width=8), C("Obligation", width=44), S("Open"), S("Overdue"), S("Due Soon"),
         S("Due"), S("Met")),
        rows,
    )  # fmt: skip


def _people(sources: Sequence[Source], key: Callable[[Source, Client], tuple[object, ...]]):
    clients: Counter[tuple[object, ...]] = Counter()
    open_cases: Counter[tuple[object, ...]] = Counter()
    for src in sources:
        for client in src.ev.workbook.caseload.clients:
            k = key(src, client)
            clients[k] += 1
            open_cases[k] += _open_case(client, src.ev.as_of)
    return clients, open_cases


def _errors(sources: Sequence[Source], key: Callable[[Source, Client], tuple[object, ...]]):
    out: Counter[tuple[object, ...]] = Counter()
    for src in sources:
        for p in src.ev.problems:
            client = src.by_case.get(src.ev.problem_cases.get((p.sheet, p.row), ""))
            if p.severity == "error" and client is not None:
                out[key(src, client)] += 1
    return out


def by_branch(sources: Sequence[Source]) -> ReportTable:
    def key(src: Source, client: Client) -> tuple[object, ...]:
        return (client.branch,)

    states = {b.name: b.state for s in sources for b in s.ev.workbook.caseload.branches}
    bosses = {b.name: b.supervisor for s in sources for b in s.ev.workbook.caseload.branches}
    counts = obligation_counts(sources, lambda s, c, _r: key(s, c))
    clients, open_cases = _people(sources, key)
    errors = _errors(sources, key)
    rows = []
    for k in sorted(clients, key=str):
        c = counts.get(k, Counter())
        rows.append(
            [k[0], states.get(str(k[0]), ""), bosses.get(str(k[0]), ""), clients[k],
             open_cases[k], _open(c), c[Status.OVERDUE], c[Status.DUE_SOON], c[Status.DUE],
             c[Status.MET], errors[k]]
        )  # fmt: skip
    return ReportTable(
        "By Branch",
        "ByBranch",
        "Obligations by branch",
        "Clients and obligations per branch; Data Errors = rows pyxl could not read.",
        (C("Branch", width=18), C("State", width=7), C("Supervisor", width=18),
         S("Clients"), S("Open Cases"), S("Open"), S("Overdue"), S("Due Soon"), S("Due"),
         S("Met"), S("Data Errors")),
        rows,
    )  # fmt: skip


def by_case_manager(sources: Sequence[Source]) -> ReportTable:
    def key(src: Source, client: Client) -> tuple[object, ...]:
        return (client.branch, src.supervisor(client), client.case_manager)

    counts = obligation_counts(sources, lambda s, c, _r: key(s, c))
    clients, open_cases = _people(sources, key)
    errors = _errors(sources, key)
    oldest: dict[tuple[object, ...], int] = {}
    for src in sources:
        ob = src.ev.obligations
        cl = src.ev.workbook.caseload.clients
        for i in np.flatnonzero(ob.status == STATUS_CODE[Status.OVERDUE]):
            k = key(src, cl[ob.case[i]])
            oldest[k] = max(oldest.get(k, 0), int(ob.days_overdue[i]))
    rows = []
    for k in sorted(clients, key=lambda t: tuple(map(str, t))):
        c = counts.get(k, Counter())
        rows.append(
            [*k, clients[k], open_cases[k], _open(c), c[Status.OVERDUE], c[Status.DUE_SOON],
             c[Status.DUE], c[Status.MET], oldest.get(k), errors[k]]
        )  # fmt: skip
    return ReportTable(
        "By Case Manager",
        "ByCaseManager",
        "Obligations by case manager",
        "Who is behind, and on how much. Filter Branch or Supervisor.",
        (C("Branch", width=18), C("Supervisor", width=18), C("Case Manager", width=20),
         S("Clients"), S("Open Cases"), S("Open"), S("Overdue"), S("Due Soon"), S("Due"),
         S("Met"), C("Oldest Overdue Days", "int", 10), S("Data Errors")),
        rows,
    )  # fmt: skip


def work_list(sources: Sequence[Source], days: int) -> ReportTable:
    rows = []
    for src in sources:
        ev, ob = src.ev, src.ev.obligations
        clients = ev.workbook.caseload.clients
        horizon = (ev.as_of + dt.timedelta(days=days)).toordinal()
        wanted = (ob.status == STATUS_CODE[Status.OVERDUE]) | (
            np.isin(ob.status, OPEN_CODES) & (ob.due > 0) & (ob.due <= horizon)
        )
        for i in np.flatnonzero(wanted):
            client = clients[ob.case[i]]
            rule = ev.book.rules[ob.rule_ids[ob.rule[i]]]
            rows.append(
                [client.case_manager, client.branch, src.supervisor(client), _day(ob.due[i]),
                 str(STATUS_ORDER[ob.status[i]]), int(ob.days_overdue[i]) or None, rule.id,
                 rule.title, client.case_id, client.client_name, str(client.program)]
            )  # fmt: skip
    order = {str(s): i for i, s in enumerate(STATUS_ORDER)}
    rows.sort(key=lambda r: (r[0], order[r[4]], r[3] or dt.date.max, r[8], r[6]))
    return ReportTable(
        "Work List",
        "WorkList",
        f"Work list: overdue and due within {days} days",
        "What each case manager must do this week, most urgent first. Filter Case Manager.",
        (C("Case Manager", width=20), C("Branch", width=16), C("Supervisor", width=18),
         C("Due Date", "date", 12), C("Status", width=10), C("Days Overdue", "int", 9),
         C("Rule", width=7), C("Obligation", width=44), C("Case ID", width=11, total="count"),
         C("Client Name", width=22), C("Program", width=18)),
        rows,
    )  # fmt: skip


def noncompliance_tanf(sources: Sequence[Source]) -> ReportTable:
    """T-15: TANF customers with no activity recorded for more than one month."""
    rows = []
    for src in sources:
        ev, ob = src.ev, src.ev.obligations
        clients = ev.workbook.caseload.clients
        last_contact: dict[str, dt.date] = {}
        letters: dict[str, list[dt.date]] = defaultdict(list)
        for contact in ev.workbook.caseload.contacts:
            if contact.date <= ev.as_of:
                if contact.date > last_contact.get(contact.case_id, dt.date.min):
                    last_contact[contact.case_id] = contact.date
                if contact.method == "Letter":
                    letters[contact.case_id].append(contact.date)
        requested: dict[str, dt.date] = {}
        for penalty in ev.workbook.caseload.penalties:
            day = penalty.requested_date
            if day and day > requested.get(penalty.case_id, dt.date.min):
                requested[penalty.case_id] = day
        mask = _rule_mask(ev, "T-15") & (ob.status == STATUS_CODE[Status.OVERDUE])
        for i in np.flatnonzero(mask):
            client = clients[ob.case[i]]
            last = _day(ob.trigger[i])
            sent = [d for d in letters.get(client.case_id, []) if last is None or d >= last]
            rows.append(
                [src.supervisor(client), client.case_manager, client.branch, client.case_id,
                 client.client_name, str(client.program), last,
                 (ev.as_of - last).days if last else None, last_contact.get(client.case_id),
                 max(sent) if sent else None, requested.get(client.case_id),
                 ev.flows.states[client.case_id].next_action, ""]
            )  # fmt: skip
    rows.sort(key=lambda r: (r[0], r[1], -(r[7] or 0), r[3]))
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
         C("Penalty Requested", "date", 12), C("Next Action", width=36),
         C("Action Taken", width=28)),
        rows,
    )  # fmt: skip


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


def exiter_alert(sources: Sequence[Source]) -> ReportTable:
    """Y-08: WIOA participants on the 90-day clock, planned gaps apart."""
    programs_of: dict[str, set[str]] = defaultdict(set)
    for src in sources:
        for c in src.ev.workbook.caseload.clients:
            if c.person_id:
                programs_of[c.person_id].add(str(c.program))
    rows = []
    for src in sources:
        ev, ob = src.ev, src.ev.obligations
        clients = ev.workbook.caseload.clients
        limit = ev.workbook.settings["Y-08 days"]
        gaps: dict[str, tuple[dt.date, dt.date | None]] = {}
        for s in ev.workbook.caseload.services:
            open_at = s.start_date <= ev.as_of and (s.end_date is None or s.end_date >= ev.as_of)
            if s.service == "Planned gap (11)" and open_at:
                gaps[s.case_id] = (s.start_date, s.end_date)
        mask = _rule_mask(ev, "Y-08") & (ob.status != STATUS_CODE[Status.MET]) & (ob.trigger > 0)
        for i in np.flatnonzero(mask):
            client = clients[ob.case[i]]
            if not _open_case(client, ev.as_of):
                continue
            last = _day(ob.trigger[i])
            assert last is not None
            since = (ev.as_of - last).days
            reason = ob.reason[i]
            planned = "planned gap" in reason
            gap = gaps.get(client.case_id) if planned else None
            others = sorted(programs_of.get(client.person_id or "", set()) - {str(client.program)})
            rows.append(
                [EXIT_BANDS[4] if planned else exit_band(since), client.case_manager,
                 client.branch, client.case_id, client.client_name, ", ".join(others), last,
                 since, limit - since, "Yes" if planned else "No",
                 gap[0] if gap else None, gap[1] if gap else None,
                 "Yes" if "future service" in reason else "No"]
            )  # fmt: skip
    rows.sort(key=lambda r: (EXIT_BANDS.index(r[0]) == 4, r[8], r[3]))
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


def _monthly_rows(
    sources: Sequence[Source], rule_ids: Sequence[str], statuses: Iterable[Status]
) -> list[tuple[Source, Client, int]]:
    wanted = [STATUS_CODE[s] for s in statuses]
    out = []
    for src in sources:
        ob = src.ev.obligations
        clients = src.ev.workbook.caseload.clients
        mask = np.zeros(len(ob), bool)
        for rule_id in rule_ids:
            mask |= _rule_mask(src.ev, rule_id)
        for i in np.flatnonzero(mask & np.isin(ob.status, wanted)):
            out.append((src, clients[ob.case[i]], int(i)))
    return out


def _month_client(start: dt.date | None, client: Client) -> list[object]:
    """The first cells of a monthly duty's row: month, case manager, branch, case, name."""
    month = start.strftime("%Y-%m") if start else ""
    return [month, client.case_manager, client.branch, client.case_id, client.client_name]


def _month_client_columns(month: str) -> tuple[ReportColumn, ...]:
    return (C(month, width=9), C("Case Manager", width=20), C("Branch", width=16),
            C("Case ID", width=11, total="count"), C("Client Name", width=22))  # fmt: skip


CONTACT_RULES = ("A-06", "A-07", "Y-04")
CHECKED = (Status.MET, Status.OVERDUE, Status.DUE_SOON, Status.DUE)


def contact_compliance(sources: Sequence[Source]) -> ReportTable:
    rows = []
    for src, client, i in _monthly_rows(sources, CONTACT_RULES, CHECKED):
        ob = src.ev.obligations
        rule = src.ev.book.rules[ob.rule_ids[ob.rule[i]]]
        start = _day(ob.period_start[i])
        rows.append(
            [*_month_client(start, client), rule.id, rule.title, int(ob.found[i]),
             str(STATUS_ORDER[ob.status[i]]), _day(ob.met_on[i])]
        )  # fmt: skip
    rows.sort(key=lambda r: (r[0], r[1], r[3], r[5]))
    return ReportTable(
        "Contact Compliance",
        "ContactCompliance",
        "Monthly contact compliance",
        "One row per client, rule and month: meaningful contact with FSSP review (A-06), two "
        "attempts by two methods when not engaged (A-07), in-person quality contact (Y-04).",
        (*_month_client_columns("Month"), C("Rule", width=7), C("Requirement", width=36),
         C("Contacts Found", "int", 9), C("Status", width=10),
         C("Met On", "date", 12)),
        rows,
    )  # fmt: skip


def work_verification(sources: Sequence[Source]) -> ReportTable:
    rows = []
    for src, client, i in _monthly_rows(sources, ("A-23",), CHECKED):
        ob = src.ev.obligations
        start, due, met = _day(ob.period_start[i]), _day(ob.due[i]), _day(ob.met_on[i])
        on_time = "Yes" if met and due and met <= due else "No"
        rows.append(
            [*_month_client(start, client), due, str(STATUS_ORDER[ob.status[i]]), met, on_time]
        )
    rows.sort(key=lambda r: (r[0], r[1], r[3]))
    return ReportTable(
        "Work Verification",
        "WorkVerification",
        "Monthly work verification completeness",
        "A-23: the hours of the month entered by the 20th of the next month (Settings: A-23 "
        "day, A-23 roll). On Time = entered by the due date.",
        (*_month_client_columns("Hours Month"), C("Due", "date", 12), C("Status", width=10),
         C("Entered On", "date", 12),
         C("On Time", width=8)),
        rows,
    )  # fmt: skip


def track_review(sources: Sequence[Source]) -> ReportTable:
    rows = []
    for src, client, i in _monthly_rows(sources, ("A-38",), CHECKED):
        ob = src.ev.obligations
        start = _day(ob.period_start[i])
        rows.append(
            [*_month_client(start, client), str(STATUS_ORDER[ob.status[i]]), _day(ob.met_on[i]),
             client.track_change_date]
        )  # fmt: skip
    rows.sort(key=lambda r: (r[0], r[1], r[3]))
    return ReportTable(
        "Track Review",
        "TrackReview",
        "Families First monthly track review",
        "A-38: every Families First case reviewed each month for readiness for Work First.",
        (*_month_client_columns("Month"), C("Status", width=10), C("Reviewed On", "date", 12),
         C("Track Change Date", "date", 13)),
        rows,
    )  # fmt: skip


def compliance_by_case_manager(
    contacts: ReportTable, verification: ReportTable, reviews: ReportTable, month: str
) -> ReportTable:
    """Per worker: share met of each monthly duty for the last complete month."""
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 6)
    for table, at, month_ok in (
        (contacts, 0, lambda m: m == month),
        (verification, 2, lambda m: m == month),
        (reviews, 4, lambda m: m == month),
    ):
        status = table.column("Status")
        ok = table.column("On Time") if table is verification else None
        for k, row in enumerate(table.rows):
            if not month_ok(row[0]):
                continue
            t = tally[(str(row[2]), str(row[1]))]
            t[at] += 1
            t[at + 1] += (ok[k] == "Yes") if ok is not None else status[k] == "MET"
    rows = []
    for (branch, manager), t in sorted(tally.items()):
        rows.append(
            [branch, manager, t[0], t[1], _share(t[1], t[0]), t[2], t[3], _share(t[3], t[2]),
             t[4], t[5], _share(t[5], t[4])]
        )  # fmt: skip
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


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def selective_service(sources: Sequence[Source]) -> ReportTable:
    rows = []
    for src, client, i in _monthly_rows(
        sources, ("T-14",), (Status.OVERDUE, Status.DUE_SOON, Status.DUE)
    ):
        ob = src.ev.obligations
        dob = client.date_of_birth
        age = _age(dob, src.ev.as_of) if dob else None
        rows.append(
            [client.case_manager, client.branch, client.case_id, client.client_name,
             str(client.program), dob, age, _day(ob.due[i]), str(STATUS_ORDER[ob.status[i]]),
             int(ob.days_overdue[i]) or None]
        )  # fmt: skip
    rows.sort(key=lambda r: (r[0], r[7] or dt.date.max, r[2]))
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


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def exceptions(sources: Sequence[Source]) -> ReportTable:
    rows = []
    for src in sources:
        for p in src.ev.problems:
            case_id = src.ev.problem_cases.get((p.sheet, p.row), "")
            client = src.by_case.get(case_id)
            rows.append(
                [str(client.program) if client else "(unknown)",
                 client.case_manager if client else "(unknown)",
                 client.branch if client else "", case_id, src.path.name, p.sheet,
                 p.cell or None, p.severity, p.column, p.value, p.message]
            )  # fmt: skip
    rows.sort(key=lambda r: (r[0], r[1], r[4], r[5], r[6] or ""))
    return ReportTable(
        "Exceptions",
        "Exceptions",
        "Customer Load Exception List",
        "Every data problem the last check found, by program and case manager: fix each at "
        "the workbook, sheet and cell shown. (unknown) = the row names no known case.",
        (C("Program", width=18), C("Case Manager", width=20), C("Branch", width=14),
         C("Case ID", width=11), C("Workbook", width=20), C("Sheet", width=12),
         C("Cell", width=7, total="count"), C("Severity", width=9), C("Column", width=14),
         C("Value", width=18), ReportColumn("Problem", "text", 60, None, True)),
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


def conciliation_tables(sources: Sequence[Source]) -> list[ReportTable]:
    """S2: every conciliation (O-01, 10 working days from the report), its outcome, the
    disqualification steps and levels, and re-engagement after a disqualification; by branch
    and worker, and each person's disqualification history."""
    rows: list[list[object]] = []
    history: list[list[object]] = []
    for src in sources:
        ev = src.ev
        caseload = ev.workbook.caseload
        clock = flowbook().clock("NC-OR-01").clock
        for client in caseload.clients:
            state = ev.flows.states[client.case_id]
            calendar = ev.calendars.get(client.branch, WEEKENDS_ONLY)
            for run in state.clock_runs:
                if run.rule_id != "NC-OR-01":
                    continue
                due = apply_clock(clock, run.trigger, calendar, ev.workbook.settings)
                if run.by is None:  # still running
                    outcome = "Overdue" if ev.as_of > due else "Pending"
                else:
                    outcome = OUTCOMES.get(run.by, run.by)
                on_time = None if run.ended is None else run.ended <= due
                rows.append(
                    [client.branch, client.case_manager, client.case_id, client.client_name,
                     run.trigger, due, run.ended, _yes_no(on_time), outcome]
                )  # fmt: skip
        views = ev.flows.penalties
        for p, view in zip(caseload.penalties, views, strict=True):
            if p.program != Program.OR_JOBS or p.imposed_date is None:
                continue
            client = src.by_case.get(p.case_id)
            if client is None:
                continue
            asked = [
                e.date
                for e in caseload.noncompliance
                if e.case_id == p.case_id
                and e.event == "Re-engagement requested"
                and e.date >= p.imposed_date
            ]
            requested = min(asked) if asked else None
            history.append(
                [client.person_id or client.case_id, client.case_id, client.client_name,
                 p.branch or client.branch, p.case_manager or client.case_manager,
                 p.imposed_date, p.step, p.level, view.expected, p.ended_date, requested,
                 (requested - p.imposed_date).days if requested else None]
            )  # fmt: skip
    rows.sort(key=lambda r: (r[0], r[1], r[4], r[2]))
    history.sort(key=lambda r: (r[0], r[5]))
    tracking = ReportTable(
        "Conciliation",
        "Conciliation",
        "Conciliation tracking (Oregon JOBS)",
        "Every conciliation: reported, due (10 working days, O-01), held, on time, outcome.",
        (C("Branch", width=16), C("Case Manager", width=20), C("Case ID", width=11, total="count"),
         C("Client Name", width=22), C("Reported", "date", 12), C("Due", "date", 12),
         C("Held", "date", 12), C("On Time", width=8), C("Outcome", width=26)),
        rows,
    )  # fmt: skip
    by_worker: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for r in rows:
        c = by_worker[(str(r[0]), str(r[1]))]
        c["conciliations"] += 1
        c["on time"] += r[7] == "Yes"
        c[str(r[8])] += 1
    reengaged: dict[tuple[str, str], list[int]] = defaultdict(list)
    disqualified: Counter[tuple[str, str]] = Counter()
    for h in history:
        key = (str(h[3]), str(h[4]))
        disqualified[key] += 1
        if h[11] is not None:
            reengaged[key].append(int(h[11]))
    summary_rows = []
    for key in sorted(set(by_worker) | set(disqualified)):
        c, days = by_worker[key], sorted(reengaged[key])
        summary_rows.append(
            [*key, c["conciliations"], c["on time"], _share(c["on time"], c["conciliations"]),
             c["Good cause"], c["No disqualification"], c["Disqualification"],
             c["Pending"] + c["Overdue"], disqualified[key], len(days),
             _share(len(days), disqualified[key]), days[len(days) // 2] if days else None]
        )  # fmt: skip
    summary = ReportTable(
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
    people = ReportTable(
        "Disqualification History",
        "DisqualificationHistory",
        "Disqualification history per person (Oregon JOBS)",
        "Every disqualification of each person in any branch, with the step and level the "
        "ladder expects and the re-engagement that followed.",
        (C("Person ID", width=12), C("Case ID", width=11, total="count"),
         C("Client Name", width=22), C("Branch", width=16), C("Case Manager", width=20),
         C("Imposed", "date", 12), C("Step", "int", 6), C("Level", "int", 6),
         C("Expected", width=40), C("Ended", "date", 12), C("Re-engagement Requested", "date", 12),
         C("Days to Re-engage", "int", 10)),
        history,
    )  # fmt: skip
    return [tracking, summary, people]


# ---------------------------------------------------------------- participation


def participation_tables(sources: Sequence[Source], as_of: dt.date) -> list[ReportTable]:
    detail_rows: list[list[object]] = []
    family_months: list[participation.FamilyMonth] = []
    rules_of = []
    for src in sources:
        settings = src.ev.workbook.settings
        rules = participation.ParticipationRules.from_settings(settings)
        months = participation.months_before(as_of, settings["Participation months"])
        caseload = src.ev.workbook.caseload
        found = participation.family_months(
            caseload.clients,
            caseload.hours,
            months,
            rules,
            penalised_months(caseload.penalties, as_of),
        )
        family_months += found
        rules_of.append((rules, found))
    for fm in family_months:
        detail_rows.append(
            [fm.month.strftime("%Y-%m"), fm.branch, fm.case_manager, fm.case_id, fm.program,
             fm.family_type, fm.required_hours, fm.required_core, fm.core_hours, fm.other_hours,
             "Yes" if fm.meets else "No", "Yes" if fm.in_all_families else "No",
             "Yes" if fm.in_two_parent else "No", fm.excluded]
        )  # fmt: skip
    detail_rows.sort(key=lambda r: (r[0], r[1], r[2], r[3]))

    def rate_rows(group: Callable[[participation.FamilyMonth], tuple]) -> list[list[object]]:
        out = []
        for rules, found in rules_of:
            for r in participation.rates(found, rules, group):
                out.append(
                    [r.month.strftime("%Y-%m"), *r.group, r.kind, r.families, r.excluded,
                     r.denominator, r.met, r.rate, r.target / 100, _yes_no(r.meets_target)]
                )  # fmt: skip
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
        rate_rows(lambda fm: (fm.branch,)),
    )
    by_cm = ReportTable(
        "Participation by CM",
        "ParticipationByCM",
        "Participation rates by case manager",
        "As by office, per case manager.",
        (C("Month", width=9), C("Branch", width=16), C("Case Manager", width=20),
         *rate_columns),
        rate_rows(lambda fm: (fm.branch, fm.case_manager)),
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
        "together. Details on the next sheets.",
        (C("Month", width=9), S("All Families Denominator", 13), S("All Families Met", 11),
         C("All Families Rate", "percent", 11), C("All Families Target", "percent", 10),
         S("Two-Parent Denominator", 13), S("Two-Parent Met", 11),
         C("Two-Parent Rate", "percent", 11), C("Two-Parent Target", "percent", 10)),
        overall,
    )  # fmt: skip
    detail = ReportTable(
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
         C("Excluded", width=26)),
        detail_rows,
    )  # fmt: skip
    return [summary, by_office, by_cm, detail]


def _yes_no(value: bool | None) -> str:
    return "" if value is None else "Yes" if value else "No"


# ---------------------------------------------------------------- overview and history


def status_totals(sources: Sequence[Source]) -> Counter[Status]:
    total: Counter[Status] = Counter()
    for src in sources:
        total.update(src.ev.status_counts())
    return total


def key_figures(sources: Sequence[Source], tables: dict[str, ReportTable]) -> dict[str, object]:
    statuses = status_totals(sources)
    clients = [c for s in sources for c in s.ev.workbook.caseload.clients]
    problems = [p for s in sources for p in s.ev.problems]
    rates = tables["Participation"].rows
    last = rates[-1] if rates else None
    exiter = Counter(tables["CM Exiter Alert"].column("Band"))
    return {
        "clients": len(clients),
        "open_cases": sum(_open_case(c, s.ev.as_of) for s in sources
                          for c in s.ev.workbook.caseload.clients),
        "open": sum(statuses[s] for s in OPEN_STATUSES),
        "overdue": statuses[Status.OVERDUE],
        "due_soon": statuses[Status.DUE_SOON],
        "due": statuses[Status.DUE],
        "met": statuses[Status.MET],
        "errors": sum(p.severity == "error" for p in problems),
        "warnings": sum(p.severity == "warning" for p in problems),
        "noncompliance_tanf": len(tables["Non-Compliance TANF"].rows),
        "exit_90_plus": exiter[EXIT_BANDS[3]],
        "selective_service": len(tables["Selective Service"].rows),
        "all_families_rate": last[3] if last else None,
        "two_parent_rate": last[7] if last else None,
        "rate_month": last[0] if last else None,
    }  # fmt: skip


def overview(
    as_of: dt.date, sources: Sequence[Source], figures: dict[str, object]
) -> tuple[ReportTable, tuple[int, int]]:
    """The key figures; returns the table and the rows of the status figures (for a chart)."""
    branches = sorted({c.branch for s in sources for c in s.ev.workbook.caseload.clients})
    rate_month = figures["rate_month"] or "-"
    rows: list[list[object]] = [
        ["Report date", as_of, ""],
        ["Workbooks", len(sources), ", ".join(s.path.name for s in sources)],
        ["Branches", len(branches), ", ".join(branches)],
        ["Clients", figures["clients"], "rows on the Clients sheets"],
        ["Open cases", figures["open_cases"], "no closure date on or before the report date"],
        ["Obligations open", figures["open"], "OVERDUE + DUE SOON + DUE"],
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
        ["All-families rate", figures["all_families_rate"], f"{rate_month}; see Participation"],
        ["Two-parent rate", figures["two_parent_rate"], f"{rate_month}; see Participation"],
        ["Non-Compliance TANF", figures["noncompliance_tanf"], "no activity for over a month"],
        ["WIOA 90+ days (exit)", figures["exit_90_plus"], "see CM Exiter Alert"],
        ["Selective Service missing", figures["selective_service"], "see Selective Service"],
        ["Data errors", figures["errors"], "see Exceptions"],
        ["Data warnings", figures["warnings"], "see Exceptions"],
    ]
    table = ReportTable(
        "Overview",
        "Overview",
        f"Supervisor report, {as_of.isoformat()}",
        "Key figures on the report date; the charts read the sheets named under them.",
        (C("Figure", width=24), ReportColumn("Value", "number", 12),
         C("Note", width=40)),
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
    sources: Sequence[Source],
    as_of: dt.date,
    history: list[dict[str, object]] | None = None,
) -> Report:
    """Every table of the report; `history` = earlier snapshots (this run's is added)."""
    settings = sources[0].ev.workbook.settings if sources else None
    days = settings["Report work list days"] if settings else 7
    contacts = contact_compliance(sources)
    verification = work_verification(sources)
    reviews = track_review(sources)
    last_month = edate(as_of.replace(day=1), -1).strftime("%Y-%m")
    listing = exceptions(sources)
    tables_in_order = [
        work_list(sources, days),
        by_rule(sources),
        by_branch(sources),
        by_case_manager(sources),
        noncompliance_tanf(sources),
        exiter_alert(sources),
        *conciliation_tables(sources),
        *participation_tables(sources, as_of),
        contacts,
        verification,
        compliance_by_case_manager(contacts, verification, reviews, last_month),
        reviews,
        selective_service(sources),
        listing,
        exception_counts(listing),
    ]
    tables = {t.sheet: t for t in tables_in_order}
    figures = key_figures(sources, tables)
    scope = " + ".join(sorted({c.branch for s in sources for c in s.ev.workbook.caseload.clients}))
    snapshot: dict[str, object] = {"as_of": as_of.isoformat(), "scope": scope}
    snapshot.update({k: figures.get(k) for k in HISTORY_FIELDS if k in figures})
    trend = trend_table(record_snapshot(history or [], snapshot), scope, as_of)
    first, status_rows = overview(as_of, sources, figures)
    ordered = {first.sheet: first, trend.sheet: trend, **tables}
    charts = [
        ChartSpec("Obligations by status", "column", "Overview", "Figure", ("Value",),
                  status_rows),
        ChartSpec("Overdue by rule", "bar", "By Rule", "Rule", ("Overdue",)),
        ChartSpec("Overdue by branch", "bar", "By Branch", "Branch", ("Overdue", "Due Soon")),
        ChartSpec("Overdue by case manager", "bar", "By Case Manager", "Case Manager",
                  ("Overdue", "Due Soon")),
        ChartSpec("Participation rates", "column", "Participation", "Month",
                  ("All Families Rate", "Two-Parent Rate"), percent=True),
        ChartSpec("Trend: open and overdue", "line", "Trend", "Month", ("Open", "Overdue")),
    ]  # fmt: skip
    return Report(as_of, ordered, charts, snapshot, scope)


def snapshot_line(snapshot: dict[str, object]) -> str:
    return json.dumps(snapshot, sort_keys=True, default=str)


def append_history(path: Path, snapshot: dict[str, object]) -> None:
    """Add this run's snapshot to the history file (one JSON line; same date+scope replaced)."""
    entries = record_snapshot(read_history(path), snapshot)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(snapshot_line(e) + "\n" for e in entries), encoding="utf-8")
    tmp.replace(path)


# ---------------------------------------------------------------- the use case


@dataclass
class ReportResult:
    report: Report
    path: Path
    history: Path
    pdf: Path | None
    sources: list[Source]


def default_output(paths: Sequence[Path], as_of: dt.date) -> Path:
    """report-<date>.xlsx beside the first workbook."""
    return paths[0].with_name(f"report-{as_of.isoformat()}.xlsx")


def run_report(
    paths: Sequence[Path],
    as_of: dt.date,
    out: Path | None = None,
    *,
    pdf: bool = False,
    progress: Progress | None = None,
) -> ReportResult:
    """Read the workbooks, write the report (and its PDF), record the dated snapshot."""
    from pyxl.adapters import libreoffice
    from pyxl.adapters.report_workbook import write_report

    note = progress or (lambda _: None)
    out = out or default_output(paths, as_of)
    sources = read_sources(paths, as_of, progress)
    history_path = history_file(out)
    note("computing the report")
    report = build_report(sources, as_of, read_history(history_path))
    note("writing the report")
    write_report(report, out)
    append_history(history_path, report.snapshot)
    printed = None
    if pdf:
        note("printing to PDF (LibreOffice)")
        printed = libreoffice.to_pdf(out, out.parent)
    return ReportResult(report, out, history_path, printed, sources)
