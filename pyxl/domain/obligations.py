"""Obligations: what a rule asks of one case, its due date, status and explanation."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import defaultdict
from dataclasses import dataclass

from pyxl.domain.calendar import BusinessCalendar, eomonth
from pyxl.domain.model import Status
from pyxl.domain.rules import Rule, Settings
from pyxl.domain.sources import cite

OPEN_STATUSES = frozenset({Status.OVERDUE, Status.DUE_SOON, Status.DUE})


def classify(
    due: dt.date | None, met_on: dt.date | None, met: bool, as_of: dt.date, due_soon_days: int
) -> tuple[Status, int]:
    """Status and days overdue. A late completion is still MET; the explanation says how late."""
    if met:
        return Status.MET, 0
    if due is None:
        return Status.NA, 0
    if as_of > due:
        return Status.OVERDUE, (as_of - due).days
    if (due - as_of).days <= due_soon_days:
        return Status.DUE_SOON, 0
    return Status.DUE, 0


@dataclass(frozen=True)
class Obligation:
    case_id: str
    rule_id: str
    trigger: dt.date | None
    due: dt.date | None
    status: Status
    days_overdue: int = 0
    met_on: dt.date | None = None
    # What the rule found, for the explanation (counts for monthly rules, ...).
    found: int = 0
    methods_found: int = 0
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    reason: str = ""  # why N/A

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def nothing_yet(label: str) -> str:
    """N/A reason for a clock with nothing to start from: "no qualifying service recorded yet"."""
    return f"no {re.sub(r'^(a|an|the) ', '', label)} recorded yet"


def ordinal(n: int) -> str:
    """1 -> 1st, 2 -> 2nd, 11 -> 11th, 22 -> 22nd."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


@functools.lru_cache(maxsize=8192)  # a Due List has many rows but few distinct dates
def fmt(day: dt.date | None) -> str:
    return f"{day:%a} {day.isoformat()}" if day else "(no date)"


def _period_words(o: Obligation, rule: Rule) -> str:
    if o.period_start is None or o.period_end is None:
        return ""
    if rule.period == "previous_week":
        return o.period_start.isoformat()
    return f"{o.period_start:%B %Y}"


def explain(
    o: Obligation, rule: Rule, settings: Settings, calendar: BusinessCalendar | None = None
) -> str:
    """A sentence a case manager can check by hand: rule, source, trigger, skipped days, due."""
    if o.status == Status.NA:  # no dates to show: name the rule and say why
        reason = o.reason or "no trigger date"
        return f"{rule.id} ({cite(rule.source)}): {rule.title}. Not applicable: {reason}."
    count = rule.count
    values: dict[str, object] = defaultdict(
        str,
        n=settings.resolve(rule.clock.n) if rule.clock else "",
        day=ordinal(int(settings.resolve(rule.clock.day))) if rule.clock else "",
        period=_period_words(o, rule),
        last=fmt(o.trigger),
        trigger=fmt(o.trigger),
        min=settings.resolve(count.minimum) if count else "",
        methods=settings.resolve(count.methods) if count else "",
        count=settings.resolve(rule.pattern_count) if rule.pattern_count else "",
        window=settings.resolve(rule.pattern_window) if rule.pattern_window else "",
    )
    parts = [f"{rule.id} ({cite(rule.source)}): {rule.phrase.format_map(values)}"]
    if rule.kind == "deadline" and o.trigger:
        parts[0] += f"; trigger {fmt(o.trigger)}"

    skipped = _skipped_days(o, rule, settings, calendar)
    if skipped:
        parts.append(skipped)
    parts.append(f"due {fmt(o.due)}")
    text = "; ".join(parts) + "."
    if o.status == Status.MET:
        if o.met_on and o.due and o.met_on > o.due:
            return f"{text} Met late on {fmt(o.met_on)} ({days((o.met_on - o.due).days)} late)."
        return f"{text} Met{f' on {fmt(o.met_on)}' if o.met_on else ''}."
    if rule.kind == "monthly" and count:
        needed = f"{o.found} found"
        if settings.resolve(count.methods):
            needed += f", {o.methods_found} method{'s' if o.methods_found != 1 else ''}"
        text += f" So far: {needed}."
    if o.status == Status.OVERDUE:
        return f"{text} Not done: {days(o.days_overdue)} overdue."
    return text


def _skipped_days(
    o: Obligation, rule: Rule, settings: Settings, calendar: BusinessCalendar | None
) -> str:
    """Name the office holidays a business-day clock skipped (weekends go without saying)."""
    if calendar is None or rule.clock is None or o.due is None:
        return ""
    clock = rule.clock
    if clock.unit == "day_of_month" and o.period_end:
        # Only the roll moves this deadline: name the day it was rolled off, if any.
        first = eomonth(o.period_end, clock.months - 1) + dt.timedelta(days=1)
        nominal = first.replace(day=min(int(settings.resolve(clock.day)), eomonth(first, 0).day))
        if nominal == o.due:
            return ""
        name = calendar.holidays.get(nominal, "a weekend day")
        roll = settings.resolve(clock.roll)
        return f"{fmt(nominal)} is {name}, so it moves to the {roll} business day"
    if clock.unit == "business_days":
        start = o.period_end if rule.kind == "monthly" else o.trigger
    elif clock.unit == "nth_business_day" and o.period_end:
        start = eomonth(o.period_end, -1)
    else:
        return ""
    if start is None:
        return ""
    names = [f"{fmt(d)} is {name}" for d, name in calendar.holidays_between(start, o.due)]
    return "; ".join(names)
