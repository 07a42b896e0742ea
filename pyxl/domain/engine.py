"""The rules, evaluated for the whole caseload at once with numpy.

Same meaning as pyxl.domain.reference (the tests hold them equal); this one
turns each rule into a few array operations over all cases, so 100,000 cases
take a second, not a minute. Dates are proleptic ordinals (date.toordinal());
0 means "no date".

The trick used throughout: evidence rows are sorted by key = case * 2**20 + date,
so "the first evidence on or after a date, for every case" is one searchsorted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from pyxl.domain.calendar import BusinessCalendar, edate_array, eomonth_array
from pyxl.domain.columns import CaseloadColumns, TableColumns, member_of
from pyxl.domain.model import PLANNED_GAP_REASONS, STATUS_ORDER, Caseload, Status
from pyxl.domain.obligations import Obligation, nothing_yet
from pyxl.domain.reference import WEEKENDS_ONLY, periods, quarter_end_after
from pyxl.domain.rules import TABLES, Clock, Evidence, Rule, RuleBook, Settings

K = np.int64(1 << 20)  # > any ordinal before year 2870
I64 = np.int64
STATUS_CODES = {s: i for i, s in enumerate(STATUS_ORDER)}
OVERDUE, DUE_SOON, DUE, MET, NA = (STATUS_CODES[s] for s in STATUS_ORDER)


class _Table:
    """One table's columns, and each row's case as an index into the clients (-1: unknown)."""

    def __init__(self, columns: TableColumns, case: np.ndarray):
        self.columns = columns
        self.case = case

    def column(self, name: str) -> np.ndarray:
        return self.columns[name]


@dataclass
class _EvidenceRows:
    """Matching rows dated on or before as-of, sorted by (case, date)."""

    keys: np.ndarray  # case * K + date
    case: np.ndarray
    date: np.ndarray
    period: np.ndarray  # the date that places a row in a period
    row: np.ndarray  # index into the table (for per-row fields)

    def first_on_or_after(self, cases: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Per (case, start): the first evidence date >= start, else 0. start 0 gives 0."""
        at = np.searchsorted(self.keys, cases * K + start, "left")
        return self._date_if_same_case(at, cases, start > 0)

    def nth_on_or_after(
        self, cases: np.ndarray, start: np.ndarray, nth: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per (case, start): the nth evidence date >= start (else 0), and how many there are."""
        at = np.searchsorted(self.keys, cases * K + start, "left")
        end = np.searchsorted(self.keys, (cases + 1) * K, "left")
        count = np.where(start > 0, end - at, 0)
        nth_at = at + nth - 1
        return self._date_if_same_case(nth_at, cases, (start > 0) & (count >= nth)), count

    def last(self, cases: np.ndarray) -> np.ndarray:
        at = np.searchsorted(self.keys, (cases + 1) * K, "left") - 1
        return self._date_if_same_case(at, cases, at >= 0)

    def first(self, cases: np.ndarray) -> np.ndarray:
        return self.first_on_or_after(cases, np.ones_like(cases))

    def _date_if_same_case(self, at: np.ndarray, cases: np.ndarray, ok: np.ndarray) -> np.ndarray:
        safe = np.clip(at, 0, max(len(self.keys) - 1, 0))
        if len(self.keys) == 0:
            return np.zeros(len(cases), I64)
        hit = ok & (at < len(self.keys)) & (at >= 0) & (self.case[safe] == cases)
        return np.where(hit, self.date[safe], 0)


@dataclass
class Obligations:
    """Every obligation as parallel arrays; `records()` turns them into Obligation values."""

    case_ids: Sequence[str]
    rule_ids: Sequence[str]
    case: np.ndarray
    rule: np.ndarray
    trigger: np.ndarray
    due: np.ndarray
    met_on: np.ndarray
    status: np.ndarray
    days_overdue: np.ndarray
    found: np.ndarray
    methods_found: np.ndarray
    period_start: np.ndarray
    period_end: np.ndarray
    reason: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.case)

    def status_counts(self) -> dict[Status, int]:
        counts = np.bincount(self.status, minlength=len(STATUS_ORDER))
        return {s: int(counts[i]) for i, s in enumerate(STATUS_ORDER)}

    def record(self, i: int) -> Obligation:
        def day(a: np.ndarray) -> dt.date | None:
            return dt.date.fromordinal(int(a[i])) if a[i] else None

        return Obligation(
            case_id=self.case_ids[self.case[i]],
            rule_id=self.rule_ids[self.rule[i]],
            trigger=day(self.trigger),
            due=day(self.due),
            status=STATUS_ORDER[self.status[i]],
            days_overdue=int(self.days_overdue[i]),
            met_on=day(self.met_on),
            found=int(self.found[i]),
            methods_found=int(self.methods_found[i]),
            period_start=day(self.period_start),
            period_end=day(self.period_end),
            reason=self.reason[i],
        )

    def records(self, indices: Sequence[int] | np.ndarray | None = None) -> list[Obligation]:
        idx = range(len(self)) if indices is None else indices
        return [self.record(int(i)) for i in idx]

    def by_case(self, rule_ids: Sequence[str]) -> dict[str, dict[str, Obligation]]:
        """Obligations of some rules, by case id and rule id."""
        codes = [i for i, r in enumerate(self.rule_ids) if r in rule_ids]
        out: dict[str, dict[str, Obligation]] = {}
        for i in np.flatnonzero(np.isin(self.rule, codes)):
            o = self.record(int(i))
            out.setdefault(o.case_id, {})[o.rule_id] = o
        return out

    def by_urgency(self, statuses: Sequence[Status] | None = None) -> np.ndarray:
        """Indices, most urgent first: status, then due date, then case."""
        keep = np.ones(len(self), bool)
        if statuses is not None:
            keep = np.isin(self.status, [STATUS_CODES[s] for s in statuses])
        idx = np.flatnonzero(keep)
        due = np.where(self.due[idx] > 0, self.due[idx], np.iinfo(I64).max)
        order = np.lexsort((self.case[idx], due, self.status[idx]))
        return idx[order]


class _Builder:
    """Collects one rule's arrays at a time."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []
        self.reasons: list[str] = []

    def add(
        self, rule_index: int, case: np.ndarray, reason: str | list[str] = "", **cols: np.ndarray
    ) -> None:
        n = len(case)
        if n == 0:
            return
        zeros = np.zeros(n, I64)
        part = {
            "case": case,
            "rule": np.full(n, rule_index, I64),
            **{
                k: cols.get(k, zeros)
                for k in (
                    "trigger",
                    "due",
                    "met_on",
                    "days_overdue",
                    "found",
                    "methods_found",
                    "period_start",
                    "period_end",
                )
            },
            "status": cols.get("status", np.full(n, NA, I64)),
        }
        self.parts.append(part)
        self.reasons += [reason] * n if isinstance(reason, str) else reason


class Engine:
    """Evaluate a rule book over a caseload as of a date."""

    def __init__(
        self,
        caseload: Caseload | CaseloadColumns,
        book: RuleBook,
        settings: Settings,
        calendars: Mapping[str, BusinessCalendar],
        as_of: dt.date,
    ):
        columns = (
            caseload
            if isinstance(caseload, CaseloadColumns)
            else CaseloadColumns.from_caseload(caseload)
        )
        self.columns = columns
        self.book = book
        self.settings = settings
        self.as_of = as_of
        self.asof = I64(as_of.toordinal())
        clients = columns.clients
        self.n = len(clients)
        self.case_ids = clients["case_id"].tolist()
        self.cases = np.arange(self.n, dtype=I64)
        # One calendar per distinct branch; clients point at theirs.
        branch_names, branch_code = np.unique(clients["branch"].astype(str), return_inverse=True)
        self.calendars = [calendars.get(str(b), WEEKENDS_ONLY) for b in branch_names]
        self.calendar_of = branch_code.astype(I64).reshape(self.n)
        self.programs, program_index = clients.codes("program")
        self.program_code = {str(p): code for p, code in program_index.items()}
        self._evidence: dict[tuple[str, bool], _EvidenceRows] = {}

    # ---------------------------------------------------------- columns

    def client_column(self, name: str) -> np.ndarray:
        return self.columns.clients[name]

    @cached_property
    def tables(self) -> dict[str, _Table]:
        out = {t: _Table(self.columns.tables[t], self.columns.case_positions(t)) for t in TABLES}
        events = out["noncompliance"]
        if len(events.case):  # history from another branch started its clocks there
            branch = events.columns.values("branch")
            client_branch = self.client_column("branch")
            elsewhere = [
                b is not None and (c < 0 or b != client_branch[c])
                for b, c in zip(branch, events.case.tolist(), strict=True)
            ]
            events.case = np.where(elsewhere, -1, events.case)
        return out

    def evidence(self, name: str, include_future: bool = False) -> _EvidenceRows:
        key = (name, include_future)
        if key not in self._evidence:
            self._evidence[key] = self._select(self.book.evidence[name], include_future)
        return self._evidence[key]

    def _select(self, ev: Evidence, include_future: bool) -> _EvidenceRows:
        table = self.tables[ev.table]
        keep = table.case >= 0
        for col, allowed in ev.where.items():
            values = table.column(col) if table.columns.kind_of(col) == "bool" else None
            if values is not None:
                keep &= values == bool(allowed[0])
            else:
                keep &= table.columns.isin(col, allowed)
        date = table.column(ev.date_fields[0])
        for fallback in ev.date_fields[1:]:
            date = np.where(date > 0, date, table.column(fallback))
        keep &= date > 0
        if not include_future:
            keep &= date <= self.asof
        rows = np.flatnonzero(keep)
        keys = table.case[rows] * K + date[rows]
        order = np.argsort(keys, kind="stable")
        rows = rows[order]
        return _EvidenceRows(
            keys=keys[order],
            case=table.case[rows],
            date=date[rows],
            period=table.column(ev.period_field)[rows],
            row=rows,
        )

    # ---------------------------------------------------------- clocks

    def clock(self, clock: Clock, base: np.ndarray, cases: np.ndarray) -> np.ndarray:
        """Apply a clock to base dates (0 stays 0), each case on its branch calendar."""
        n = int(self.settings.resolve(clock.n))
        match clock.unit:
            case "calendar_days":
                return np.where(base > 0, base + n, 0)
            case "months":
                return edate_array(base, n)
            case "end_of_month":
                return eomonth_array(base, n)
        out = np.zeros(len(base), I64)
        cal_of = self.calendar_of[cases]
        for code, calendar in enumerate(self.calendars):
            mask = cal_of == code
            if not mask.any():
                continue
            b = base[mask]
            match clock.unit:
                case "business_days":
                    out[mask] = calendar.workday_array(b, n)
                case "nth_business_day":
                    out[mask] = calendar.workday_array(eomonth_array(b, -1), n)
                case "day_of_month":
                    first = eomonth_array(b, clock.months - 1) + 1
                    month_end = eomonth_array(first, 0)
                    day = np.minimum(first + int(self.settings.resolve(clock.day)) - 1, month_end)
                    day = np.where(b > 0, day, 0)
                    roll = self.settings.resolve(clock.roll)
                    if roll == "previous":
                        day = calendar.previous_business_day_array(day)
                    elif roll == "next":
                        day = calendar.next_business_day_array(day)
                    out[mask] = day
        return out

    def rolling_due(self, rule: Rule, last: np.ndarray, cases: np.ndarray) -> np.ndarray:
        mode = self.settings[rule.mode_setting] if rule.mode_setting else None
        if mode == "calendar quarter":
            return np.fromiter(
                (
                    quarter_end_after(dt.date.fromordinal(int(d))).toordinal() if d else 0
                    for d in last
                ),
                I64,
                len(last),
            )
        if mode == "30 days":
            return np.where(last > 0, last + 30, 0)
        assert rule.clock is not None
        return self.clock(rule.clock, last, cases)

    def classify(self, due: np.ndarray, met: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        soon = int(self.settings["Due soon days"])
        status = np.select(
            [met, due == 0, self.asof > due, due - self.asof <= soon],
            [MET, NA, OVERDUE, DUE_SOON],
            DUE,
        )
        overdue = np.where(status == OVERDUE, self.asof - due, 0)
        return status.astype(I64), overdue

    # ---------------------------------------------------------- evaluation

    def applicable(self, rule: Rule) -> np.ndarray:
        programs = [p for p, ids in self.book.packs.items() if rule.id in ids]
        wanted = [self.program_code[p] for p in programs if p in self.program_code]
        mask = member_of(self.programs, wanted, len(self.program_code))
        for name, value in rule.when.items():
            mask &= self.client_column(name) == value
        return mask

    def run(self) -> Obligations:
        out = _Builder()
        closure = self.client_column("closure_date")
        closed = (closure > 0) & (closure <= self.asof)
        closed_on = {
            d: f"case closed on {dt.date.fromordinal(d)}"
            for d in np.unique(closure[closed]).tolist()
        }
        for index, rule in enumerate(self.book.rules.values()):
            mask = self.applicable(rule)
            if not mask.any():
                continue
            if rule.open_only:
                shut = mask & closed
                cases = np.flatnonzero(shut)
                out.add(
                    index,
                    cases,
                    reason=[closed_on[d] for d in closure[cases].tolist()],
                )
                mask &= ~closed
            cases = np.flatnonzero(mask)
            getattr(self, f"_{rule.kind}")(index, rule, cases, out)
        return self._assemble(out)

    def _assemble(self, out: _Builder) -> Obligations:
        cols = {
            k: np.concatenate([p[k] for p in out.parts]) if out.parts else np.zeros(0, I64)
            for k in (
                "case",
                "rule",
                "trigger",
                "due",
                "met_on",
                "status",
                "days_overdue",
                "found",
                "methods_found",
                "period_start",
                "period_end",
            )
        }
        return Obligations(self.case_ids, list(self.book.rules), reason=out.reasons, **cols)

    def _deadline(self, index: int, rule: Rule, cases: np.ndarray, out: _Builder) -> None:
        if rule.trigger_first:
            trigger = self.evidence(rule.trigger_first).first(cases)
        elif rule.trigger_birthday:
            trigger = edate_array(
                self.client_column("date_of_birth")[cases], 12 * rule.trigger_birthday
            )
            for name in rule.trigger_fields:
                trigger = np.where(
                    trigger > 0, np.maximum(trigger, self.client_column(name)[cases]), 0
                )
        else:
            trigger = np.max([self.client_column(f)[cases] for f in rule.trigger_fields], axis=0)
        has = trigger > 0
        out.add(index, cases[~has], reason="no trigger date yet")
        cases, trigger = cases[has], trigger[has]
        due = self.clock(rule.clock, trigger, cases)
        since = eomonth_array(trigger, -1) + 1 if rule.evidence_from_month_start else trigger
        met_on = found = np.zeros(len(cases), I64)
        if rule.count:  # the Nth piece of evidence meets it
            need = max(1, int(self.settings.resolve(rule.count.minimum)))
            met_on, found = self.evidence(rule.count.evidence).nth_on_or_after(cases, since, need)
        elif rule.any_of:
            firsts = [self.evidence(n).first_on_or_after(cases, since) for n in rule.any_of]
            stacked = np.where(np.array(firsts) > 0, np.array(firsts), np.iinfo(I64).max)
            best = stacked.min(axis=0)
            met_on = np.where(best == np.iinfo(I64).max, 0, best)
        elif rule.all_of:
            firsts = np.array(
                [self.evidence(n).first_on_or_after(cases, since) for n in rule.all_of]
            )
            met_on = np.where((firsts > 0).all(axis=0), firsts.max(axis=0), 0)
        met = met_on > 0
        if rule.met_when_field:
            met |= self._present(rule.met_when_field)[cases]
        status, overdue = self.classify(due, met)
        out.add(
            index,
            cases,
            trigger=trigger,
            due=due,
            met_on=met_on,
            status=status,
            days_overdue=overdue,
            found=found,
        )

    def _present(self, field_name: str) -> np.ndarray:
        col = self.client_column(field_name)
        if col.dtype == object:
            return np.fromiter((bool(v) for v in col), bool, len(col))
        return col > 0

    def _rolling(self, index: int, rule: Rule, cases: np.ndarray, out: _Builder) -> None:
        last = np.max([self.evidence(n).last(cases) for n in rule.last], axis=0)
        if rule.fallback:
            last = np.where(last > 0, last, self.client_column(rule.fallback)[cases])
        has = last > 0
        label = self.book.evidence[rule.last[0]].label
        out.add(index, cases[~has], reason=nothing_yet(label))
        cases, last = cases[has], last[has]
        met = np.zeros(len(cases), bool)
        if rule.met_when_field:
            met = self._present(rule.met_when_field)[cases]
        if self.settings.resolve(rule.suspended_by_planned_gap):
            gap = self._valid_planned_gap()[cases] & ~met
            out.add(
                index, cases[gap], trigger=last[gap], reason="a valid planned gap is open (Y-07)"
            )
            cases, last, met = cases[~gap], last[~gap], met[~gap]
        if rule.suspended_by_future_service:
            scheduled = self.evidence(rule.last[0], include_future=True)
            future = (scheduled.last(cases) > self.asof) & ~met
            out.add(
                index, cases[future], trigger=last[future], reason="a future service is scheduled"
            )
            cases, last, met = cases[~future], last[~future], met[~future]
        due = self.rolling_due(rule, last, cases)
        status, overdue = self.classify(due, met)
        out.add(index, cases, trigger=last, due=due, status=status, days_overdue=overdue)

    def _valid_planned_gap(self) -> np.ndarray:
        """Y-07, per case: a planned gap of 91-179 days for an allowed reason, open at as-of."""
        t = self.tables["services"]
        start, end = t.column("start_date"), t.column("end_date")
        length = end - start
        ok = (
            (t.case >= 0)
            & t.columns.isin("service", ["Planned gap (11)"])
            & (end > 0)
            & (length > 90)
            & (length < 180)
            & t.columns.isin("gap_reason", PLANNED_GAP_REASONS)
            & (start <= self.asof)
            & (self.asof <= end)
        )
        valid = np.zeros(self.n, bool)
        valid[t.case[ok]] = True
        return valid

    def _monthly(self, index: int, rule: Rule, cases: np.ndarray, out: _Builder) -> None:
        for first, last in periods(rule, self.as_of, self.settings):
            self._monthly_period(index, rule, cases, out, first.toordinal(), last.toordinal())

    def _monthly_period(
        self, index: int, rule: Rule, cases: np.ndarray, out: _Builder, start: int, end: int
    ) -> None:
        assert rule.period and rule.count and rule.clock
        cases = cases[self.client_column("referral_date")[cases] < start]
        n = len(cases)
        due = self.clock(rule.clock, np.full(n, end, I64), cases)
        ev = self.evidence(rule.count.evidence)
        in_period = (ev.period >= start) & (ev.period <= end)
        # Per case: the date the count reached `need`, and the date methods reached `need_methods`.
        need = max(1, int(self.settings.resolve(rule.count.minimum)))
        need_methods = int(self.settings.resolve(rule.count.methods))
        rows_case, rows_date = (
            ev.case[in_period],
            ev.date[in_period],
        )  # still sorted by (case, date)
        found = np.bincount(rows_case, minlength=self.n)
        met_on = self._nth_date(rows_case, rows_date, need)
        methods_found = np.zeros(self.n, I64)
        if need_methods:
            codes = self.tables["contacts"].columns.codes("method")[0][ev.row[in_period]]
            order = np.lexsort((rows_date, codes, rows_case))
            c, m, d = rows_case[order], codes[order], rows_date[order]
            first_of_method = np.ones(len(c), bool)
            first_of_method[1:] = (c[1:] != c[:-1]) | (m[1:] != m[:-1])
            c, d = c[first_of_method], d[first_of_method]
            order = np.lexsort((d, c))
            c, d = c[order], d[order]
            methods_found = np.bincount(c, minlength=self.n)
            reached_methods = self._nth_date(c, d, need_methods)
            met_on = np.where(
                (met_on > 0) & (reached_methods > 0), np.maximum(met_on, reached_methods), 0
            )
        met_on = met_on[cases]
        status, overdue = self.classify(due, met_on > 0)
        period = {"period_start": np.full(n, start, I64), "period_end": np.full(n, end, I64)}
        out.add(
            index,
            cases,
            trigger=period["period_start"],
            due=due,
            met_on=met_on,
            status=status,
            days_overdue=overdue,
            found=found[cases],
            methods_found=methods_found[cases],
            **period,
        )

    def _nth_date(self, case: np.ndarray, date: np.ndarray, nth: int) -> np.ndarray:
        """Per case (rows sorted by case, date): the nth date, else 0. nth 0 = always met."""
        result = np.zeros(self.n, I64)
        if len(case) == 0:
            return result
        starts = np.searchsorted(case, np.arange(self.n), "left")
        counts = np.bincount(case, minlength=self.n)
        has = counts >= nth
        result[has] = date[starts[has] + nth - 1]
        return result

    def _per_event(self, index: int, rule: Rule, cases: np.ndarray, out: _Builder) -> None:
        ev_case, ev_date, due = self._event_starts(rule, cases)
        firsts = [self.evidence(n).first_on_or_after(ev_case, ev_date) for n in rule.any_of]
        stacked = np.where(np.array(firsts) > 0, np.array(firsts), np.iinfo(I64).max)
        best = stacked.min(axis=0) if len(firsts) else np.zeros(0, I64)
        met_on = np.where(best == np.iinfo(I64).max, 0, best)
        lookback = self.asof - int(self.settings["Per-event lookback days"])
        current = ~((met_on > 0) & (ev_date < lookback))  # settled long ago: history, not work
        ev_case, ev_date, due, met_on = (
            ev_case[current],
            ev_date[current],
            due[current],
            met_on[current],
        )
        status, overdue = self.classify(due, met_on > 0)
        out.add(
            index,
            ev_case,
            trigger=ev_date,
            due=due,
            met_on=met_on,
            status=status,
            days_overdue=overdue,
        )

    def _event_records(
        self, rule: Rule, names: Sequence[str], cases: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """(case, event date, trigger, due) of every record of some evidences, in scope."""
        assert rule.clock
        parts = []
        for name in names:
            events = self.evidence(name)
            keep = member_of(events.case, cases, self.n)
            case, trigger = events.case[keep], events.date[keep]
            due = self.clock(rule.clock, trigger, case)
            if rule.due_field:
                table = self.tables[self.book.evidence[name].table]
                given = table.column(rule.due_field)[events.row[keep]]
                due = np.where(given > 0, given, due)
            parts.append((case, events.period[keep], trigger, due))
        if not parts:
            return tuple(np.zeros(0, I64) for _ in range(4))
        return tuple(np.concatenate(column) for column in zip(*parts, strict=True))

    @staticmethod
    def _first_per_date(*columns: np.ndarray) -> tuple[np.ndarray, ...]:
        """The first record (earliest trigger, then due) of each (case, event date), sorted by
        case and event date."""
        case, event, trigger, due = columns
        order = np.lexsort((due, trigger, event, case))
        case, event, trigger, due = case[order], event[order], trigger[order], due[order]
        first = np.ones(len(case), bool)
        first[1:] = (case[1:] != case[:-1]) | (event[1:] != event[:-1])
        return case[first], event[first], trigger[first], due[first]

    def _event_starts(self, rule: Rule, cases: np.ndarray) -> tuple[np.ndarray, ...]:
        """(case, trigger, due) of each deadline a per-event rule starts (reference.event_starts):
        one per case and event date, from the earliest record."""
        case, event, trigger, due = self._first_per_date(
            *self._event_records(rule, rule.each, cases)
        )
        if rule.pattern_count is not None:  # a pattern: enough events within the window
            window = int(self.settings.resolve(rule.pattern_window))
            need = int(self.settings.resolve(rule.pattern_count))
            keys = case * K + event  # sorted
            upto = np.searchsorted(keys, keys, "right")
            since = np.searchsorted(keys, keys - window, "right")
            reached = (upto - since) >= need
            case, event, trigger, due = (
                case[reached],
                event[reached],
                trigger[reached],
                due[reached],
            )
        also = self._event_records(rule, rule.also_each, cases)
        merged = (
            np.concatenate(pair) for pair in zip((case, event, trigger, due), also, strict=True)
        )
        case, _, trigger, due = self._first_per_date(*merged)
        return case, trigger, due


def evaluate(
    caseload: Caseload | CaseloadColumns,
    book: RuleBook,
    settings: Settings,
    calendars: Mapping[str, BusinessCalendar],
    as_of: dt.date,
) -> Obligations:
    """Every obligation of every case as of a date. `calendars` is keyed by branch name."""
    return Engine(caseload, book, settings, calendars, as_of).run()
