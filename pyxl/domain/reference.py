"""The rules, evaluated one case at a time in plain Python.

This is the readable statement of what every rule kind means. The fast engine
(pyxl.domain.engine) must agree with it on every case; the tests check that on
generated caseloads, and the benchmark uses it as the naive baseline. It also
serves single-case questions ("why is this due?") where speed does not matter.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pyxl.domain.calendar import BusinessCalendar, edate, eomonth
from pyxl.domain.model import PLANNED_GAP_REASONS, Caseload, Client, Status
from pyxl.domain.obligations import Obligation, classify, nothing_yet
from pyxl.domain.rules import TABLES, Clock, Evidence, Rule, RuleBook, Settings

WEEKENDS_ONLY = BusinessCalendar("weekends only", {})


# ---------------------------------------------------------------- clocks and periods


def apply_clock(
    clock: Clock, base: dt.date, calendar: BusinessCalendar, settings: Settings
) -> dt.date:
    n = int(settings.resolve(clock.n))
    match clock.unit:
        case "calendar_days":
            return base + dt.timedelta(days=n)
        case "business_days":
            return calendar.workday(base, n)
        case "months":
            return edate(base, n)
        case "end_of_month":
            return eomonth(base, n)
        case "nth_business_day":
            return calendar.workday(eomonth(base, -1), n)
        case "day_of_month":
            first = eomonth(base, clock.months - 1) + dt.timedelta(days=1)
            last_day = eomonth(first, 0).day
            day = first.replace(day=min(int(settings.resolve(clock.day)), last_day))
            roll = settings.resolve(clock.roll)
            if roll == "previous":
                return calendar.previous_business_day(day)
            if roll == "next":
                return calendar.next_business_day(day)
            return day
    raise ValueError(f"unknown clock unit {clock.unit}")


def quarter_end_after(day: dt.date) -> dt.date:
    """End of the calendar quarter after the one holding `day`."""
    quarter_last_month = ((day.month - 1) // 3) * 3 + 3
    return eomonth(dt.date(day.year, quarter_last_month, 1), 3)


def rolling_due(
    rule: Rule, last: dt.date, calendar: BusinessCalendar, settings: Settings
) -> dt.date:
    """The clock of a rolling rule, as its mode setting reads ("rolling 3 months" or not)."""
    mode = settings[rule.mode_setting] if rule.mode_setting else None
    if mode == "calendar quarter":
        return quarter_end_after(last)
    if mode == "30 days":
        return last + dt.timedelta(days=30)
    assert rule.clock is not None
    return apply_clock(rule.clock, last, calendar, settings)


def periods(rule: Rule, as_of: dt.date, settings: Settings) -> list[tuple[dt.date, dt.date]]:
    """The periods a periodic rule is checked for: the latest one and the missed ones before
    it, back to the office's horizon, so a period that ended unmet stays OVERDUE until met."""
    assert rule.period
    if rule.period == "previous_week":
        start, end = period_bounds("previous_week", as_of)
        weeks = range(int(settings["Missed weeks shown"]) + 1)
        return [(start - dt.timedelta(weeks=k), end - dt.timedelta(weeks=k)) for k in weeks]
    latest = as_of.replace(day=1)
    if rule.period == "previous_month":
        latest = edate(latest, -1)
    back = int(settings["Missed months shown"])
    return [period_bounds("month", edate(latest, -k)) for k in range(back + 1)]


def period_bounds(period: str, as_of: dt.date) -> tuple[dt.date, dt.date]:
    if period == "month":
        return as_of.replace(day=1), eomonth(as_of, 0)
    if period == "previous_month":
        end = eomonth(as_of, -1)
        return end.replace(day=1), end
    if period == "previous_week":
        this_monday = as_of - dt.timedelta(days=as_of.weekday())
        return this_monday - dt.timedelta(days=7), this_monday - dt.timedelta(days=1)
    raise ValueError(f"unknown period {period}")


# ---------------------------------------------------------------- evidence


@dataclass
class CaseRows:
    """One case's rows, by table."""

    rows: Mapping[str, list] = field(default_factory=lambda: defaultdict(list))


def group_by_case(caseload: Caseload) -> dict[str, CaseRows]:
    groups: dict[str, CaseRows] = defaultdict(CaseRows)
    branch_of = {c.case_id: c.branch for c in caseload.clients}
    for table in TABLES:
        for row in getattr(caseload, table):
            if table == "noncompliance" and row.branch not in (None, branch_of.get(row.case_id)):
                continue  # history from another branch: it started its clocks there
            groups[row.case_id].rows[table].append(row)
    return groups


def _matches(row: object, where: Mapping[str, tuple]) -> bool:
    return all(getattr(row, key) in allowed for key, allowed in where.items())


def evidence_dates(ev: Evidence, rows: CaseRows, as_of: dt.date) -> list[tuple[dt.date, object]]:
    """(date, row) of every matching row dated on or before as_of (later rows are only planned)."""
    found = []
    for row in rows.rows.get(ev.table, ()):
        if not _matches(row, ev.where):
            continue
        day = next((d for f in ev.date_fields if (d := getattr(row, f)) is not None), None)
        if day is not None and day <= as_of:
            found.append((day, row))
    found.sort(key=lambda pair: pair[0])
    return found


def first_on_or_after(dates: Iterable[dt.date], start: dt.date) -> dt.date | None:
    return min((d for d in dates if d >= start), default=None)


# ---------------------------------------------------------------- evaluation


def _client_matches(client: Client, when: Mapping[str, object]) -> bool:
    return all(getattr(client, key) == value for key, value in when.items())


def _valid_planned_gap(rows: CaseRows, as_of: dt.date) -> bool:
    """Y-07: a planned gap of 91-179 days, for an allowed reason, open at as-of."""
    for s in rows.rows.get("services", ()):
        if s.service != "Planned gap (11)" or s.end_date is None:
            continue
        length = (s.end_date - s.start_date).days
        if (
            90 < length < 180
            and s.gap_reason in PLANNED_GAP_REASONS
            and s.start_date <= as_of <= s.end_date
        ):
            return True
    return False


def evaluate_case(
    client: Client,
    rows: CaseRows,
    rules: Sequence[Rule],
    book: RuleBook,
    settings: Settings,
    calendar: BusinessCalendar,
    as_of: dt.date,
) -> list[Obligation]:
    soon = settings["Due soon days"]
    closed = client.closure_date is not None and client.closure_date <= as_of
    out: list[Obligation] = []

    def dates_of(name: str) -> list[dt.date]:
        return [d for d, _ in evidence_dates(book.evidence[name], rows, as_of)]

    def na(rule: Rule, reason: str, trigger: dt.date | None = None) -> Obligation:
        return Obligation(client.case_id, rule.id, trigger, None, Status.NA, reason=reason)

    for rule in rules:
        if not _client_matches(client, rule.when):
            continue
        if rule.open_only and closed:
            out.append(na(rule, f"case closed on {client.closure_date}"))
            continue
        assert rule.clock is not None
        if rule.kind == "deadline":
            if rule.trigger_first:
                trigger = min(dates_of(rule.trigger_first), default=None)
            elif rule.trigger_birthday:
                dob = client.date_of_birth
                trigger = edate(dob, 12 * rule.trigger_birthday) if dob else None
                later = [getattr(client, f) for f in rule.trigger_fields]
                if trigger is not None:
                    trigger = max([trigger, *(d for d in later if d is not None)])
            else:
                fields = [getattr(client, f) for f in rule.trigger_fields]
                trigger = max((d for d in fields if d is not None), default=None)
            if trigger is None:
                out.append(na(rule, "no trigger date yet"))
                continue
            due = apply_clock(rule.clock, trigger, calendar, settings)
            since = trigger.replace(day=1) if rule.evidence_from_month_start else trigger
            met_on, found = None, 0
            if rule.count:  # the Nth piece of evidence meets it
                after = [d for d in dates_of(rule.count.evidence) if d >= since]
                need = max(1, int(settings.resolve(rule.count.minimum)))
                met_on, found = (after[need - 1] if len(after) >= need else None), len(after)
            elif rule.any_of:
                firsts = [first_on_or_after(dates_of(n), since) for n in rule.any_of]
                met_on = min((d for d in firsts if d), default=None)
            elif rule.all_of:
                firsts = [first_on_or_after(dates_of(n), since) for n in rule.all_of]
                met_on = None if None in firsts else max(firsts)  # type: ignore[type-var]
            met = met_on is not None or (
                rule.met_when_field is not None and bool(getattr(client, rule.met_when_field))
            )
            status, late = classify(due, met_on, met, as_of, soon)
            out.append(
                Obligation(client.case_id, rule.id, trigger, due, status, late, met_on, found)
            )

        elif rule.kind == "rolling":
            lasts = [d for name in rule.last for d in dates_of(name)]
            last = max(lasts, default=None)
            if last is None and rule.fallback:
                last = getattr(client, rule.fallback)
            if last is None:
                out.append(na(rule, nothing_yet(book.evidence[rule.last[0]].label)))
                continue
            met = rule.met_when_field is not None and bool(getattr(client, rule.met_when_field))
            gap_pauses = settings.resolve(rule.suspended_by_planned_gap)
            if not met and gap_pauses and _valid_planned_gap(rows, as_of):
                out.append(na(rule, "a valid planned gap is open (Y-07)", last))
                continue
            scheduled = _all_dates(book, rule.last[0], rows)
            if not met and rule.suspended_by_future_service and any(d > as_of for d in scheduled):
                out.append(na(rule, "a future service is scheduled", last))
                continue
            due = rolling_due(rule, last, calendar, settings)
            status, late = classify(due, None, met, as_of, soon)
            out.append(Obligation(client.case_id, rule.id, last, due, status, late))

        elif rule.kind == "monthly":
            assert rule.period and rule.count
            for start, end in periods(rule, as_of, settings):
                if client.referral_date >= start:
                    continue  # the first period is covered by the intake rules (A-01, A-03, ...)
                out.append(
                    _monthly(client, rule, rows, book, settings, calendar, as_of, start, end)
                )

        elif rule.kind == "per_event":
            lookback = as_of - dt.timedelta(days=settings["Per-event lookback days"])
            answers = [d for name in rule.any_of for d in dates_of(name)]
            for day, due in event_starts(rule, rows, book, settings, calendar, as_of):
                met_on = first_on_or_after(answers, day)
                if met_on is not None and day < lookback:
                    continue  # settled long ago: history, not work
                status, late = classify(due, met_on, met_on is not None, as_of, soon)
                out.append(Obligation(client.case_id, rule.id, day, due, status, late, met_on))
    return out


def event_starts(
    rule: Rule,
    rows: CaseRows,
    book: RuleBook,
    settings: Settings,
    calendar: BusinessCalendar,
    as_of: dt.date,
) -> list[tuple[dt.date, dt.date]]:
    """(trigger, due) of each deadline a per-event rule starts: one per event date however
    many records of it there are (a no-show on Appointments and the same missed activity on
    Noncompliance start it once), from the earliest record's date (its reported date)."""
    assert rule.clock

    def records(names: Sequence[str]) -> list[tuple[dt.date, dt.date, dt.date]]:
        out = []
        for name in names:
            ev = book.evidence[name]
            for day, row in evidence_dates(ev, rows, as_of):
                given = getattr(row, rule.due_field) if rule.due_field else None
                due = given or apply_clock(rule.clock, day, calendar, settings)
                out.append((getattr(row, ev.period_field), day, due))
        return out

    events = _first_per_date(records(rule.each))
    if rule.pattern_count is not None:  # a pattern: enough events within the window
        window = dt.timedelta(days=int(settings.resolve(rule.pattern_window)))
        need = int(settings.resolve(rule.pattern_count))
        dates = [event for event, _, _ in events]
        events = [e for e in events if sum(e[0] - window < d <= e[0] for d in dates) >= need]
    return [(day, due) for _, day, due in _first_per_date(events + records(rule.also_each))]


def _first_per_date(
    records: list[tuple[dt.date, dt.date, dt.date]],
) -> list[tuple[dt.date, dt.date, dt.date]]:
    """The first record (earliest trigger, then due) of each event date, by event date."""
    first: dict[dt.date, tuple[dt.date, dt.date, dt.date]] = {}
    for record in sorted(records):
        first.setdefault(record[0], record)
    return sorted(first.values())


def _monthly(
    client: Client,
    rule: Rule,
    rows: CaseRows,
    book: RuleBook,
    settings: Settings,
    calendar: BusinessCalendar,
    as_of: dt.date,
    start: dt.date,
    end: dt.date,
) -> Obligation:
    """A monthly rule for one period: count the evidence and the distinct methods in it."""
    assert rule.count and rule.clock
    due = apply_clock(rule.clock, end, calendar, settings)
    ev = book.evidence[rule.count.evidence]
    in_period = [
        (d, row)
        for d, row in evidence_dates(ev, rows, as_of)
        if start <= getattr(row, ev.period_field) <= end
    ]
    need = max(1, int(settings.resolve(rule.count.minimum)))
    need_methods = int(settings.resolve(rule.count.methods))
    met_on = None
    seen_methods: set[str] = set()
    for i, (d, row) in enumerate(in_period, start=1):
        if need_methods:
            seen_methods.add(row.method)
        if i >= need and len(seen_methods) >= need_methods:
            met_on = d
            break
    methods_found = len({row.method for _, row in in_period}) if need_methods else 0
    status, late = classify(due, met_on, met_on is not None, as_of, settings["Due soon days"])
    return Obligation(
        client.case_id,
        rule.id,
        start,
        due,
        status,
        late,
        met_on,
        found=len(in_period),
        methods_found=methods_found,
        period_start=start,
        period_end=end,
    )


def _all_dates(book: RuleBook, name: str, rows: CaseRows) -> list[dt.date]:
    """Every date of an evidence, future ones included (scheduled services)."""
    return [d for d, _ in evidence_dates(book.evidence[name], rows, dt.date.max)]


def evaluate(
    caseload: Caseload,
    book: RuleBook,
    settings: Settings,
    calendars: Mapping[str, BusinessCalendar],
    as_of: dt.date,
) -> list[Obligation]:
    """Every obligation of every case, one case at a time. `calendars` is keyed by branch."""
    groups = group_by_case(caseload)
    out: list[Obligation] = []
    for client in caseload.clients:
        out += evaluate_case(
            client,
            groups.get(client.case_id, CaseRows()),
            book.rules_for(client.program),
            book,
            settings,
            calendars.get(client.branch, WEEKENDS_ONLY),
            as_of,
        )
    return out
