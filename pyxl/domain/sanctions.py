"""Non-compliance flows: where each case stands, what must happen next, and by when.

One state machine per program family (domain.md section 2), defined as data in
pyxl/policy/flows.toml. A flow replays a case's dated history through its table:
the events staff record on the Noncompliance sheet, the dates on the Penalties
sheet, and what the other sheets already say (letters and attempts in Contacts,
kept or missed appointments, the closure date). Some moves happen by themselves
when a date passes (a reply-by date, a cure month, an Alaska penalty step); each
flow's `_automatic` function says which.

The result per case is a state, a next action in words, the letter the flow wants
sent, the clocks it started (shown on the Due List like any rule), and flags for
every transition the rules forbid: a recorded fact is never silently accepted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from pyxl.domain.calendar import BusinessCalendar, edate, eomonth
from pyxl.domain.model import (
    WRITTEN_METHODS,
    Appointment,
    Caseload,
    Client,
    Contact,
    HoursEntry,
    Penalty,
    Program,
    Status,
)
from pyxl.domain.obligations import Obligation, classify, fmt, ordinal
from pyxl.domain.reference import WEEKENDS_ONLY, apply_clock
from pyxl.domain.rules import Clock, PolicyError, Rule, Settings

ANY = "*"
DAY = dt.timedelta(days=1)
LETTER_EVENTS = {  # Contacts purpose of a written contact -> the event it records
    "Non-compliance": "Non-compliance letter sent",
    "Outreach": "Outreach letter sent",
    "Re-engagement": "Conciliation letter sent",
    "Disengaged search": "Re-engagement letter sent",
}
PENALTY_EVENTS = (  # Penalties columns -> events, in the order they happen on one day
    ("requested_date", "Requested Date", "Penalty requested"),
    ("imposed_date", "Imposed Date", "Penalty imposed"),
    ("intent_date", "Intent to Comply Date", "Intent to comply"),
    ("compliance_date", "Compliance Date", "Complied"),
    ("ended_date", "Ended Date", "Penalty ended"),
)
ALASKA = frozenset({Program.ATAP_WORK_FIRST, Program.ATAP_FAMILIES_FIRST})
EPISODE_STARTS = frozenset(
    {"Missed activity", "Hours short", "Pattern of non-cooperation", "Cooperation trial failed"}
)
CONCILIATION_APPOINTMENTS = frozenset({"Conciliation", "Re-engagement staffing"})


# ---------------------------------------------------------------- flows as data


@dataclass(frozen=True)
class Machine:
    """A flow's states and moves, read from flows.toml."""

    name: str
    programs: frozenset[str]
    start: str
    moves: Mapping[tuple[str, str], str]  # (state or ANY, event) -> next state
    requires: Mapping[str, tuple[frozenset[str], str]]  # event -> (states it may follow, why)

    @classmethod
    def from_dict(cls, name: str, d: Mapping[str, Any]) -> Machine:
        moves: dict[tuple[str, str], str] = {}
        for source, event, target in d.get("moves", []):
            for s in [source] if isinstance(source, str) else source:
                for e in [event] if isinstance(event, str) else event:
                    if (s, e) in moves:
                        raise PolicyError(f"flow {name}: two moves for {e!r} from {s!r}")
                    moves[s, e] = target
        requires = {
            event: (frozenset(r["after"]), r["reason"])
            for event, r in d.get("requires", {}).items()
        }
        return cls(name, frozenset(d["programs"]), d["start"], moves, requires)

    @property
    def states(self) -> frozenset[str]:
        return frozenset(
            {self.start, *self.moves.values(), *(s for s, _ in self.moves if s != ANY)}
        )

    def move(self, state: str, event: str) -> str | None:
        return self.moves.get((state, event)) or self.moves.get((ANY, event))


@dataclass(frozen=True)
class FlowClock:
    """A deadline a flow starts on entering a state; `rule` gives its clock and words."""

    rule: Rule
    flow: str
    starts: frozenset[str]
    met_by: frozenset[str]
    cancelled_by: frozenset[str]
    stops_in: frozenset[str] = frozenset()  # states that end it without meeting it
    from_penalty_start: bool = False  # counts from the first month of the penalty in force

    @property
    def clock(self) -> Clock:
        assert self.rule.clock is not None  # every flow clock has one (from_dict)
        return self.rule.clock

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FlowClock:
        return cls(
            Rule.clock_only(d),
            d["flow"],
            frozenset(d["starts"]),
            frozenset(d["met_by"]),
            frozenset(d.get("cancelled_by", ())),
            frozenset(d.get("stops_in", ())),
            d.get("from") == "penalty start",
        )


@dataclass(frozen=True)
class FlowBook:
    machines: Mapping[str, Machine]
    clocks: tuple[FlowClock, ...]
    reply_by_clock: Mapping[str, str] = field(default_factory=dict)  # letter -> clock id

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FlowBook:
        machines = {name: Machine.from_dict(name, d) for name, d in data["flow"].items()}
        clocks = tuple(FlowClock.from_dict(d) for d in data.get("clock", ()))
        book = cls(machines, clocks, dict(data.get("reply_by_clock", {})))
        book._check()
        return book

    def _check(self) -> None:
        programs = [p for m in self.machines.values() for p in m.programs]
        if sorted(programs) != sorted(p.value for p in Program):
            raise PolicyError("every program needs exactly one flow")
        for c in self.clocks:
            machine = self.machines.get(c.flow)
            if machine is None:
                raise PolicyError(f"clock {c.rule.id}: unknown flow {c.flow!r}")
            unknown = c.starts - machine.states
            if machine.moves and unknown:
                raise PolicyError(f"clock {c.rule.id}: {c.flow} has no state {sorted(unknown)}")
        known = {c.rule.id for c in self.clocks}
        for letter, clock in self.reply_by_clock.items():
            if clock not in known:
                raise PolicyError(f"reply_by_clock {letter}: unknown clock {clock!r}")

    def machine_for(self, program: str) -> Machine:
        return self._machine_of[program]

    @cached_property
    def _machine_of(self) -> dict[str, Machine]:
        return {p: m for m in self.machines.values() for p in m.programs}

    @property
    def rules(self) -> dict[str, Rule]:
        return {c.rule.id: c.rule for c in self.clocks}

    def clock(self, rule_id: str) -> FlowClock:
        return next(c for c in self.clocks if c.rule.id == rule_id)


# ---------------------------------------------------------------- results


class ClockRun(NamedTuple):
    """One run of a flow's clock: started on `trigger`, ended on `ended` by `by` (a met_by or
    cancelled_by event); `ended` None = still running (by None) or cancelled."""

    rule_id: str
    trigger: dt.date
    ended: dt.date | None = None
    by: str | None = None


class Origin(NamedTuple):
    """Where a fact is recorded: a sheet, the row's position among its rows, a column."""

    sheet: str
    index: int
    column: str


@dataclass(frozen=True)
class Flag:
    case_id: str
    origin: Origin
    message: str


@dataclass(frozen=True)
class CaseState:
    case_id: str
    flow: str
    state: str
    since: dt.date | None = None
    next_action: str = ""
    letter: str | None = None  # the letter the flow wants sent next (letter code)
    reply_by: dt.date | None = None
    obligations: tuple[Obligation, ...] = ()
    flags: tuple[Flag, ...] = ()
    clock_runs: tuple[ClockRun, ...] = ()  # the case's history of clocks (conciliations, ...)


@dataclass(frozen=True)
class PenaltyView:
    """What pyxl computes for one Penalties row."""

    minimum_end: dt.date | None = None
    end_effective: dt.date | None = None
    expected: str = ""


@dataclass(frozen=True)
class Flows:
    states: Mapping[str, CaseState]  # by case id
    penalties: tuple[PenaltyView, ...]  # one per caseload.penalties row
    flags: tuple[Flag, ...]  # every flag, cases' and rows'


# ---------------------------------------------------------------- a case's history


class Happening(NamedTuple):
    """One dated thing in a case's history (a NamedTuple: a walk replays many of them)."""

    date: dt.date
    rank: int  # same-day order: recorded events, then appointments, contacts, penalties
    event: str
    origin: Origin | None = None  # None: derived or automatic
    reported: dt.date | None = None
    reply_by: dt.date | None = None
    checked: bool = False  # a fact staff recorded in this branch


def _when(h: Happening) -> tuple[dt.date, int]:
    return h.date, h.rank


@dataclass
class Context:
    """Everything one case's walk reads."""

    client: Client
    client_index: int
    contacts: list[Contact]
    appointments: list[Appointment]
    hours: list[HoursEntry]
    penalties: list[tuple[int, Penalty]]  # this case's rows (index in caseload.penalties)
    history: list[tuple[int, Penalty]]  # the person's rows in every branch, same flow
    settings: Settings
    calendar: BusinessCalendar
    as_of: dt.date


def _happenings(
    ctx: Context, events: Iterable[tuple[int, Any]], heeded: frozenset[str]
) -> list[Happening]:
    """The case's history in order. Contacts say much: "Contact made" and "Home visit" are
    derived only for flows that heed them (`heeded`)."""
    here = ctx.client.branch
    contact_made, home_visit = "Contact made" in heeded, "Home visit" in heeded

    def local(row_branch: str | None) -> bool:
        """History imported from another branch is replayed but not checked again here."""
        return row_branch is None or row_branch == here

    out = [
        Happening(
            e.date,
            0,
            e.event,
            Origin("Noncompliance", i, "Event"),
            e.reported_date,
            e.reply_by,
            checked=local(e.branch),
        )
        for i, e in events
    ]
    for a in ctx.appointments:
        if a.type == "Orientation" and a.status == "Kept":
            out.append(Happening(a.date, 1, "Orientation attended"))
        elif a.type in CONCILIATION_APPOINTMENTS and a.status == "Kept":
            out.append(Happening(a.date, 1, "Conciliation held"))
        elif a.status == "No-show" and not a.called_ahead and ctx.client.program == Program.OR_JOBS:
            out.append(Happening(a.date, 1, "Missed activity"))
    for c in ctx.contacts:
        if c.method in WRITTEN_METHODS and c.purpose in LETTER_EVENTS:
            out.append(Happening(c.date, 2, LETTER_EVENTS[c.purpose], reply_by=c.reply_by))
        elif home_visit and c.method == "Home visit":
            out.append(Happening(c.date, 2, "Home visit"))
        if contact_made and c.successful:
            out.append(Happening(c.date, 2, "Contact made"))
    for i, p in ctx.penalties:
        for rank, (name, header, event) in enumerate(PENALTY_EVENTS, start=3):
            day = getattr(p, name)
            if day is not None:
                origin = Origin("Penalties", i, header)
                out.append(Happening(day, rank, event, origin, checked=local(p.branch)))
    if ctx.client.closure_date:
        out.append(Happening(ctx.client.closure_date, 9, "Case closed"))
    # Earlier spells (before this referral) count as history for the next step, not as moves.
    start = ctx.client.referral_date
    return sorted((h for h in out if start <= h.date <= ctx.as_of), key=_when)  # stable


# ---------------------------------------------------------------- walking a case


class Walk:
    """Replays one case's history through its flow's table."""

    def __init__(self, machine: Machine, clocks: Sequence[FlowClock], ctx: Context):
        self.machine, self.clocks, self.ctx = machine, clocks, ctx
        self.settings = ctx.settings
        self.state = machine.start
        self.since: dt.date | None = None
        self.last: dict[str, dt.date] = {}  # event -> the last date it happened
        self.reply_by: dt.date | None = None
        self.reported: dt.date | None = None  # when the current episode was reported
        self.penalty: tuple[int, Penalty] | None = None  # the penalty in force
        self.flags: list[Flag] = []
        self.running: dict[str, dt.date] = {}  # clock id -> trigger
        self.finished: dict[str, tuple[dt.date, dt.date]] = {}  # id -> (trigger, met on)
        self.runs: list[ClockRun] = []  # every clock that ran and how it ended

    def flag(self, h: Happening, message: str) -> None:
        origin = h.origin or Origin("Clients", self.ctx.client_index, "Case ID")
        self.flags.append(Flag(self.ctx.client.case_id, origin, message))

    def run(self, history: list[Happening], automatic: Callable[[Walk], Happening | None]) -> None:
        seen: set[tuple[str, dt.date]] = set()
        pending = iter(history)
        nxt = next(pending, None)
        while True:
            auto = automatic(self)
            if (
                auto is not None
                and auto.date <= self.ctx.as_of
                and (nxt is None or auto.date <= nxt.date)  # a date passing comes first
                and (auto.event, auto.date) not in seen
            ):
                seen.add((auto.event, auto.date))
                self.apply(auto)
            elif nxt is not None:
                self.apply(nxt)
                nxt = next(pending, None)
            else:
                return

    def apply(self, h: Happening) -> None:
        target = self.machine.move(self.state, h.event)
        self._remember(h, target)
        if target is None:
            if h.checked:
                self.flag(
                    h,
                    f"{h.event} on {fmt(h.date)} is not expected while the case is "
                    f"'{self.state}'; the flow ignores it",
                )
            self._clock_events(h)
            return
        required = self.machine.requires.get(h.event)
        if required and self.state not in required[0] and h.checked:
            self.flag(h, f"{h.event} on {fmt(h.date)} while '{self.state}': {required[1]}")
        self._clock_events(h)
        if target != self.state:
            self.state, self.since = target, h.date
            for c in self.clocks:
                if target in c.stops_in and c.rule.id in self.running:
                    self.runs.append(
                        ClockRun(c.rule.id, self.running.pop(c.rule.id), None, h.event)
                    )
                if target in c.starts and c.rule.id not in self.running:
                    self.running[c.rule.id] = self._trigger(c, h)

    def _remember(self, h: Happening, target: str | None) -> None:
        self.last[h.event] = h.date
        if h.event in LETTER_EVENTS.values() or h.event == "Outreach started":
            default = h.date + dt.timedelta(days=self.settings["Reply-by days"])
            self.reply_by = h.reply_by or default
        if target is not None and target != self.state and h.event in EPISODE_STARTS:
            self.reported = max(h.date, h.reported or h.date)
        if h.event == "Penalty imposed" and h.origin is not None:
            self.penalty = next((p for p in self.ctx.penalties if p[0] == h.origin.index), None)
        if h.event == "Penalty ended":
            self.penalty = None

    def _trigger(self, c: FlowClock, h: Happening) -> dt.date:
        if c.from_penalty_start and self.penalty:
            return alaska_penalty_start(self.penalty[1])
        return max(h.date, h.reported or h.date)

    def _clock_events(self, h: Happening) -> None:
        for c in self.clocks:
            rid = c.rule.id
            if rid not in self.running:
                continue
            if h.event in c.met_by and h.date >= self.running[rid]:
                self.finished[rid] = (self.running.pop(rid), h.date)
                self.runs.append(ClockRun(rid, self.finished[rid][0], h.date, h.event))
            elif h.event in c.cancelled_by:
                self.runs.append(ClockRun(rid, self.running.pop(rid), None, h.event))

    def obligations(self) -> tuple[Obligation, ...]:
        s, ctx = self.settings, self.ctx
        lookback = ctx.as_of - dt.timedelta(days=s["Per-event lookback days"])
        out = []
        for c in self.clocks:
            rid = c.rule.id
            if rid in self.running:
                trigger, met_on = self.running[rid], None
            elif rid in self.finished and self.finished[rid][1] >= lookback:
                trigger, met_on = self.finished[rid]
            else:
                continue
            due = apply_clock(c.clock, trigger, ctx.calendar, s)
            status, late = classify(due, met_on, met_on is not None, ctx.as_of, s["Due soon days"])
            out.append(Obligation(ctx.client.case_id, rid, trigger, due, status, late, met_on))
        return tuple(out)

    def due(self, rule_id: str) -> dt.date | None:
        """The due date of a running clock (None when it is not running)."""
        trigger = self.running.get(rule_id)
        if trigger is None:
            return None
        clock = next(c for c in self.clocks if c.rule.id == rule_id).clock
        return apply_clock(clock, trigger, self.ctx.calendar, self.settings)

    def letter_since(self, event: str, day: dt.date | None) -> bool:
        return day is not None and self.last.get(event, dt.date.min) >= day


# ---------------------------------------------------------------- Alaska: one fact, two records

# "Clients who are not engaged" is one fact: the Engaged column and the flow's state.
NOT_ENGAGED_STATES = frozenset({"Not engaged", "Penalty due"})


def _disengaging(machine: Machine, history: Sequence[Happening]) -> bool:
    """Does the history record why the client stopped engaging (a missed activity, ...)?"""
    return any(machine.moves.get(("Engaged", h.event)) == "Not engaged" for h in history)


def _check_engaged_column(w: Walk, history: Sequence[Happening]) -> None:
    """Flag the Engaged cell when the flow and the column disagree about the same client."""
    client = w.ctx.client
    if client.engaged == (w.state not in NOT_ENGAGED_STATES) or w.state not in (
        NOT_ENGAGED_STATES | {"Engaged"}
    ):
        return
    why = next((h for h in reversed(history) if h.date == w.since), None)
    since = f" since {fmt(w.since)}" + (f" ({why.event})" if why else "") if w.since else ""
    if client.engaged:
        message = (
            f"Engaged says Yes, but the Noncompliance sheet puts the client 'Not engaged'"
            f"{since}: set Engaged to No (A-07 already asks for two contact attempts a month, "
            "by two methods)"
        )
    else:
        message = (
            f"Engaged says No, but the client is 'Engaged' again{since}: set Engaged to Yes "
            "(A-07 no longer asks for contact attempts)"
        )
    w.flags.append(Flag(client.case_id, Origin("Clients", w.ctx.client_index, "Engaged"), message))


def engagement_by_flow(
    caseload: Caseload,
    book: FlowBook,
    settings: Settings,
    calendars: Mapping[str, BusinessCalendar],
    as_of: dt.date,
    rows_of: RowsOf | None = None,
) -> dict[str, bool]:
    """Alaska cases whose Engaged column the flow contradicts, and what the flow says (engaged
    or not): the rules read it, so A-07 follows the recorded history while the Engaged cell
    carries the warning. Only cases with Noncompliance or Penalties rows can disagree."""
    recorded = {e.case_id for e in caseload.noncompliance} | {p.case_id for p in caseload.penalties}
    walked = tuple(c for c in caseload.clients if c.program in ALASKA and c.case_id in recorded)
    if not walked:
        return {}
    ids = {c.case_id for c in walked}
    flows = evaluate_flows(
        Caseload(
            clients=walked,
            noncompliance=tuple(e for e in caseload.noncompliance if e.case_id in ids),
            penalties=tuple(p for p in caseload.penalties if p.case_id in ids),
        ),
        book,
        settings,
        calendars,
        as_of,
        rows_of=rows_of,
    )
    out = {}
    for c in walked:
        state = flows.states[c.case_id].state
        if state in NOT_ENGAGED_STATES | {"Engaged"}:
            engaged = state not in NOT_ENGAGED_STATES
            if engaged != c.engaged:
                out[c.case_id] = engaged
    return out


# ---------------------------------------------------------------- penalties


def alaska_penalty_start(p: Penalty) -> dt.date:
    """7 AAC 45.980(d): a reduction starts on the first of the month after the notice."""
    assert p.imposed_date is not None
    return eomonth(p.imposed_date, 0) + DAY


def alaska_percent(p: Penalty, settings: Settings, on: dt.date) -> int:
    start = alaska_penalty_start(p)
    if on >= edate(start, settings["AK 100% after months"]):
        return 100
    if on >= edate(start, settings["AK 75% after months"]):
        return 75
    return 40


def next_step(
    history: Sequence[tuple[int, Penalty]], settings: Settings, on: dt.date, oregon: bool
) -> int:
    """The occurrence (SNAP) or ladder step (Oregon) of a penalty imposed on `on`: one more
    than the person's earlier ones that still count (Oregon's may lapse, by a setting)."""
    lapse = settings["Oregon DQ lapse months"] if oregon else 0
    earlier = 0
    for _, q in history:
        if q.imposed_date is None or q.imposed_date >= on:
            continue
        if lapse and edate(q.ended_date or q.imposed_date, lapse) < on:
            continue
        earlier += 1
    return earlier + 1


def ladder_step(
    row: tuple[int, Penalty], history: Sequence[tuple[int, Penalty]], settings: Settings
) -> int:
    _, p = row
    assert p.imposed_date is not None
    return next_step(history, settings, p.imposed_date, p.program == Program.OR_JOBS)


def _nth(values: Sequence[int], n: int) -> int:
    return values[min(n, len(values)) - 1]


def penalty_view(
    row: tuple[int, Penalty],
    history: Sequence[tuple[int, Penalty]],
    settings: Settings,
    as_of: dt.date,
) -> tuple[PenaltyView, list[tuple[str, str]]]:
    """The computed columns of one Penalties row and (column, message) for entries that
    disagree with the rules."""
    _, p = row
    problems: list[tuple[str, str]] = []
    if p.imposed_date is None:
        return PenaltyView(expected="requested; not imposed yet" if p.requested_date else ""), []
    imposed = p.imposed_date
    minimum_end = end_effective = None
    if p.program == Program.TX_CHOICES:
        months = settings["TX cure months"]
        minimum_end = edate(imposed, months)
        expected = (
            f"full-family sanction: at least {months} month to {fmt(minimum_end)}, or until "
            "the family cooperates, whichever is longer"
        )
    elif p.program == Program.TX_SNAP_ET:
        n = ladder_step(row, history, settings)
        months = _nth(settings["SNAP disqualification months"], n)
        minimum_end = edate(imposed, months)
        expected = (
            f"{ordinal(n)} disqualification: at least {months} month{'s' if months > 1 else ''} "
            f"to {fmt(minimum_end)}, or until the person complies, whichever is longer"
        )
        if p.step is not None and p.step != n:
            problems.append(
                (
                    "Step",
                    f"this is the person's {ordinal(n)} SNAP disqualification, not the "
                    f"{ordinal(p.step)}",
                )
            )
    elif p.program == Program.OR_JOBS:
        ladder = settings["Oregon DQ levels by step"]
        n = ladder_step(row, history, settings)
        level = _nth(ladder, n)
        top = (
            " (the top step: the case closes unless the client agrees first)"
            if n >= len(ladder)
            else ""
        )
        expected = (
            f"step {n}, level {level}{top}; lifted after two consecutive weeks of cooperation"
        )
        if p.step is not None and p.step != n:
            problems.append(
                (
                    "Step",
                    f"the person's history puts this disqualification at step {n}, not {p.step}",
                )
            )
        if p.level is not None and p.level != level:
            problems.append(("Level", f"step {n} is level {level} on the ladder, not {p.level}"))
    else:  # Alaska
        start = alaska_penalty_start(p)
        rise75 = edate(start, settings["AK 75% after months"])
        rise100 = edate(start, settings["AK 100% after months"])
        known = [d for d in (p.intent_date, p.compliance_date) if d]
        end_effective = min(known) if known else None
        on = min(as_of, end_effective) if end_effective else as_of
        now = alaska_percent(p, settings, on)
        expected = (
            f"40% from {fmt(start)}; 75% from {fmt(rise75)}; 100% from {fmt(rise100)} "
            f"(a home visit before each rise); {now}% as of {fmt(on)}"
        )
        if end_effective:
            expected += f"; ends effective {fmt(end_effective)} (A-19)"
        if p.percent is not None and p.percent not in (40, 75, 100):
            problems.append(
                ("Percent", f"Alaska penalties are 40, 75 or 100 percent, not {p.percent:g}")
            )
    return PenaltyView(minimum_end, end_effective, expected), problems


def _penalty_order_problems(p: Penalty) -> list[tuple[str, str]]:
    out = []
    if p.requested_date and p.imposed_date and p.imposed_date < p.requested_date:
        out.append(
            (
                "Imposed Date",
                f"imposed on {fmt(p.imposed_date)}, before it was requested on "
                f"{fmt(p.requested_date)}",
            )
        )
    start = p.imposed_date or p.requested_date
    for name, header, _ in PENALTY_EVENTS[2:]:
        day = getattr(p, name)
        if day and start and day < start and name != "intent_date":
            out.append((header, f"{header} {fmt(day)} is before the penalty began on {fmt(start)}"))
    return out


def penalised_months(penalties: Iterable[Penalty], as_of: dt.date) -> dict[str, set[dt.date]]:
    """Per case, the months (first days) a TANF family was under a penalty for refusing to
    work, from the imposed date to the end (or the as-of date): 45 CFR 261.22 excludes them
    from the participation rate."""
    out: dict[str, set[dt.date]] = defaultdict(set)
    for p in penalties:
        if p.imposed_date is None or p.program == Program.TX_SNAP_ET:
            continue
        start = alaska_penalty_start(p) if p.program in ALASKA else p.imposed_date
        end = min(p.ended_date or as_of, as_of)
        month = start.replace(day=1)
        while month <= end:
            out[p.case_id].add(month)
            month = edate(month, 1)
    return dict(out)


# ---------------------------------------------------------------- automatic moves


def _automatic_texas(w: Walk) -> Happening | None:
    s = w.settings
    if w.state in ("Notified", "Non-compliance letter sent") and w.reply_by:
        return Happening(w.reply_by + DAY, 8, "Reply-by passed")
    if w.state == "Curing" and w.since:
        return Happening(edate(w.since, s["TX cure months"]), 8, "Cure period ended")
    if w.state == "Conditional applicant" and w.since:
        done = consecutive_weeks_done(
            w.ctx.hours, w.since, s["TX cooperation weeks"], s["TX weekly hours"]
        )
        return Happening(done, 8, "Four weeks of cooperation") if done else None
    return None


def _automatic_snap(w: Walk) -> Happening | None:
    if w.state == "Outreached" and w.reply_by:
        return Happening(w.reply_by + DAY, 8, "Reply-by passed")
    if w.state in ("Disqualified", "Disqualified: complied") and w.penalty:
        view, _ = penalty_view(w.penalty, w.ctx.history, w.settings, w.ctx.as_of)
        if view.minimum_end:
            return Happening(view.minimum_end, 8, "Minimum served")
    return None


def _automatic_alaska(w: Walk) -> Happening | None:
    if w.penalty and w.state in ("Penalty 40%", "Penalty 75%"):
        start = alaska_penalty_start(w.penalty[1])
        key = "AK 75% after months" if w.state == "Penalty 40%" else "AK 100% after months"
        event = "Penalty rises to 75%" if w.state == "Penalty 40%" else "Penalty rises to 100%"
        return Happening(edate(start, w.settings[key]), 8, event)
    return None


def _automatic_oregon(w: Walk) -> Happening | None:
    if w.state == "Non-participation" and w.reported:
        done = attempts_complete(w.ctx.contacts, w.reported, w.settings["O-05 attempts"])
        return Happening(done, 8, "Attempts complete") if done else None
    if w.state == "Cooperation trial" and w.since:
        return Happening(
            w.since + dt.timedelta(days=w.settings["Oregon cooperation days"]), 8, "Trial ended"
        )
    return None


def attempts_complete(contacts: Sequence[Contact], since: dt.date, needed: int) -> dt.date | None:
    """O-05: the day the unsuccessful attempts since `since` reach `needed`, one in writing and
    one in another format."""
    count, written, other = 0, False, False
    for c in contacts:
        if c.date < since or c.successful:
            continue
        count += 1
        written |= c.method in WRITTEN_METHODS
        other |= c.method not in WRITTEN_METHODS
        if count >= needed and written and other:
            return c.date
    return None


def attempts_so_far(contacts: Sequence[Contact], since: dt.date) -> tuple[int, bool, bool]:
    tried = [c for c in contacts if c.date >= since and not c.successful]
    return (
        len(tried),
        any(c.method in WRITTEN_METHODS for c in tried),
        any(c.method not in WRITTEN_METHODS for c in tried),
    )


def consecutive_weeks_done(
    hours: Sequence[HoursEntry], since: dt.date, weeks: int, per_week: float
) -> dt.date | None:
    """The last day of the first run of `weeks` consecutive weeks from `since` with at least
    `per_week` actual hours each (weeks start on Monday, as on the Hours sheet)."""
    totals: dict[dt.date, float] = defaultdict(float)
    for h in hours:
        if h.week_start + dt.timedelta(days=6) >= since:
            totals[h.week_start] += h.hours
    run = 0
    previous = None
    for week in sorted(totals):
        if totals[week] < per_week:
            run, previous = 0, None
            continue
        run = run + 1 if previous and week - previous == dt.timedelta(days=7) else 1
        previous = week
        if run >= weeks:
            return week + dt.timedelta(days=6)
    return None


AUTOMATIC: dict[str, Callable[[Walk], Happening | None]] = {
    "Texas Choices": _automatic_texas,
    "Texas SNAP E&T": _automatic_snap,
    "Alaska ATAP": _automatic_alaska,
    "Oregon JOBS": _automatic_oregon,
}


# ---------------------------------------------------------------- next actions


Advice = tuple[str, str | None]  # next action in words, letter code


def _on(day: dt.date | None) -> str:
    return fmt(day) if day else "(no date)"


def _advise_texas(w: Walk) -> Advice:
    s, last = w.settings, w.last
    match w.state:
        case "Notified":
            if "Outreach letter sent" not in last:
                return (
                    "Send the orientation notification letter (consequences of not responding)",
                    "APPT",
                )
            return f"Wait for orientation or a reply by {_on(w.reply_by)}", None
        case "Non-cooperation":
            return "Send non-compliance letter", "TX-NONCOMP"
        case "Non-compliance letter sent":
            return f"Wait for the client's reply by {_on(w.reply_by)}", None
        case "No response":
            return (
                f"Request penalty: no response by {_on(w.reply_by)}, no good cause recorded",
                None,
            )
        case "Good cause review":
            return (
                f"PSR to decide good cause (client responded {_on(last.get('Client responded'))})",
                None,
            )
        case "Penalty due":
            return (
                "Request penalty: no good cause (PSR decision on "
                f"{_on(last.get('Good cause: no'))})",
                None,
            )
        case "Penalty requested":
            return f"Wait for HHSC to impose the sanction (requested {_on(w.since)})", None
        case "Sanctioned":
            return (
                "Sanctioned: offer the family the chance to cure (agree to cooperate); "
                "child care continues if they do",
                None,
            )
        case "Curing":
            end = edate(w.since, s["TX cure months"]) if w.since else None
            return (
                f"Cooperation month runs to {_on(end)}; then send Form 2583 to rescind the "
                "sanction",
                None,
            )
        case "Cured":
            return f"Send Form 2583: sanction cured on {_on(w.since)}", None
        case "Conditional applicant":
            return (
                f"Conditional applicant: orientation and {s['TX cooperation weeks']} consecutive "
                f"weeks of cooperation by {_on(w.due('NC-TX-19'))}",
                None,
            )
        case "Conditional: four weeks done":
            return (
                f"Send Form 2588: four consecutive weeks of cooperation finished {_on(w.since)}",
                None,
            )
        case "Exempt: services to end":
            return (
                "Exempt participant not cooperating: end Choices services, no penalty (40 TAC "
                "811.14(b)(2))",
                None,
            )
    return "", None


def _advise_snap(w: Walk) -> Advice:
    match w.state:
        case "Outreach pool":
            return "Send the SNAP E&T outreach letter", "SNAP-OUTREACH"
        case "Outreached":
            return f"Wait for a reply or orientation by {_on(w.reply_by)}", None
        case "No response":
            return (
                f"Request penalty: no response to outreach by {_on(w.reply_by)} (Form H1816)",
                None,
            )
        case "Non-cooperation":
            return "Request penalty or record good cause: hours short of the plan (T-11)", None
        case "Penalty due":
            return "Request penalty: no good cause", None
        case "Penalty requested":
            return f"Wait for HHSC to disqualify (requested {_on(w.since)})", None
    if w.state.startswith("Disqualified") and w.penalty:
        view, _ = penalty_view(w.penalty, w.ctx.history, w.settings, w.ctx.as_of)
        if w.state == "Disqualified: minimum served":
            return (
                "Minimum period served: the disqualification ends when the person complies "
                "(H1816 Part II)",
                None,
            )
        if w.state == "Disqualified: complied":
            return f"Complied; the disqualification runs to {_on(view.minimum_end)}", None
        return f"Disqualified: {view.expected}", None
    return "", None


def _advise_alaska(w: Walk) -> Advice:
    s, ctx = w.settings, w.ctx
    if w.state == "Not engaged":
        month = ctx.as_of.replace(day=1)
        tried = [c for c in ctx.contacts if c.date >= month]
        methods = {c.method for c in tried}
        need, kinds = s["A-07 attempts"], s["A-07 methods"]
        if len(tried) < need or len(methods) < kinds:
            letter = None if any(c.method in WRITTEN_METHODS for c in tried) else "APPT"
            return (
                f"Contact attempt needed: {len(tried)} of {need} this month, by {kinds} "
                "methods (phone, letter, home visit)",
                letter,
            )
        return "Decide good cause: two attempts made this month and the client is not engaged", None
    match w.state:
        case "Penalty due":
            return (
                f"Request penalty: no good cause (decided {_on(w.last.get('Good cause: no'))}); "
                "CANO + E alert",
                None,
            )
        case "Penalty requested":
            return f"Wait for eligibility to impose the penalty (requested {_on(w.since)})", None
        case "Penalty 40%" | "Penalty 75%" if w.penalty:
            rule = "NC-AK-75" if w.state == "Penalty 40%" else "NC-AK-100"
            step = "75%" if w.state == "Penalty 40%" else "100%"
            key = "AK 75% after months" if w.state == "Penalty 40%" else "AK 100% after months"
            rises = edate(alaska_penalty_start(w.penalty[1]), s[key])
            if rule in w.running:
                return (
                    f"{w.state}: home visit and CANO decision before it rises to {step} on "
                    f"{_on(rises)}",
                    None,
                )
            return f"{w.state}: rises to {step} on {_on(rises)} unless the client complies", None
        case "Penalty 100% (full family)":
            return (
                "Full-family penalty: keep offering engagement; end it back to the "
                "intent-to-comply date",
                None,
            )
        case "Penalty to end":
            known = [d for d in (w.last.get("Intent to comply"), w.last.get("Complied")) if d]
            return (
                f"Request to end the penalty effective {_on(min(known) if known else None)} (A-19)",
                None,
            )
    return "", None


def _advise_oregon(w: Walk) -> Advice:
    s, ctx = w.settings, w.ctx
    step = level = 0
    if w.state in (
        "Disqualification due",
        "Re-engagement page completed",
        "Re-engagement page finalized",
    ):
        step = next_step(ctx.history, s, ctx.as_of + DAY, oregon=True)
        level = _nth(s["Oregon DQ levels by step"], step)
    match w.state:
        case "Non-participation":
            count, written, other = attempts_so_far(ctx.contacts, w.reported or ctx.as_of)
            need = s["O-05 attempts"]
            if not written:
                missing = "one must be in writing"
            elif not other:
                missing = "one must be by phone, home visit or e-mail"
            else:
                missing = f"{need - count} more needed"
            what = NTH_WORDS[count] if count < len(NTH_WORDS) else ordinal(count + 1)
            return f"{what} contact attempt needed: {missing}", None if written else "OR-ENGAGE"
        case "Re-engagement":
            if w.letter_since("Conciliation held", w.since):
                held = _on(w.last["Conciliation held"])
                return (
                    f"Record the conciliation outcome (held {held}): good cause, a decision not "
                    "to disqualify, or no good cause",
                    None,
                )
            sent = w.letter_since("Conciliation letter sent", w.since)
            letter = None if sent else "OR-CONCIL"
            return f"Hold the conciliation by {_on(w.due('NC-OR-01'))}", letter
        case "Disqualification due":
            return (
                f"Disqualify at step {step} (level {level}): complete the Re-Engagement page, "
                "then finalize it",
                None,
            )
        case "Re-engagement page completed":
            return f"Finalize the Re-Engagement page (step {step}, level {level})", None
        case "Re-engagement page finalized":
            return (
                f"Record the disqualification (step {step}, level {level}) on the Penalties sheet",
                None,
            )
        case "Disqualified":
            notice = w.letter_since("Non-compliance letter sent", w.since)
            view = penalty_view(w.penalty, ctx.history, s, ctx.as_of)[0] if w.penalty else None
            words = f"Disqualified ({view.expected})" if view else "Disqualified"
            return (
                f"{words}; the client may ask to re-engage at any time",
                None if notice else "DQ-NOTICE",
            )
        case "Cooperation trial":
            sent = w.letter_since("Conciliation letter sent", w.since)
            return (
                f"Cooperation trial to {_on(w.due('NC-OR-04'))}: two consecutive weeks with every "
                "case-plan activity",
                None if sent else "OR-CONCIL",
            )
        case "Cooperation trial: result due":
            return f"Record the cooperation trial result (ended {_on(w.since)})", None
    return "", None


NTH_WORDS = ("First", "Second", "Third", "Fourth", "Fifth")

ADVICE: dict[str, Callable[[Walk], Advice]] = {
    "Texas Choices": _advise_texas,
    "Texas SNAP E&T": _advise_snap,
    "Alaska ATAP": _advise_alaska,
    "Oregon JOBS": _advise_oregon,
}


# ---------------------------------------------------------------- WIOA Youth


YOUTH_RULES = ("Y-05", "Y-08", "Y-09")


def youth_state(ctx: Context, obligations: Mapping[str, Obligation], clock: FlowClock) -> CaseState:
    """WIOA Youth (domain.md 2.7) follows from the Y-rules' clocks and the disengaged search
    recorded in Contacts: phone, then a re-engagement letter to every address, then a visit."""
    client, as_of, s = ctx.client, ctx.as_of, ctx.settings
    case, flow = client.case_id, "WIOA Youth"
    exit_rule, lapse = obligations.get("Y-08"), obligations.get("Y-05")
    if client.closure_date:
        end = edate(client.closure_date, 12)
        if as_of <= end:
            return CaseState(
                case,
                flow,
                "Follow-up",
                client.closure_date,
                f"Follow-up services to {fmt(end)} (Y-09)",
            )
        return CaseState(case, flow, "Closed", end)
    if exit_rule and exit_rule.status == Status.OVERDUE:
        return CaseState(
            case,
            flow,
            "Ready to exit",
            exit_rule.due,
            f"Ready to exit on {fmt(exit_rule.trigger)}: no qualifying service for "
            f"{s['Y-08 days']} days (exit dated at the last qualifying service)",
        )
    if exit_rule and exit_rule.status == Status.NA and "gap" in exit_rule.reason:
        return CaseState(case, flow, "Planned gap", None, f"Exit held: {exit_rule.reason}")
    if lapse is None or lapse.status != Status.OVERDUE or lapse.due is None:
        return CaseState(case, flow, "Active" if lapse else "Enrolled")
    start = lapse.due
    search = [c for c in ctx.contacts if c.date >= start]
    phoned = [c for c in search if c.method in ("Phone", "Text", "Voicemail")]
    written = [c for c in search if c.method in WRITTEN_METHODS]
    visited = [c for c in search if c.method == "Home visit"]
    obligations_out: tuple[Obligation, ...] = ()
    if phoned:
        trigger = phoned[0].date
        due = apply_clock(clock.clock, trigger, ctx.calendar, s)
        met_on = written[0].date if written else None
        status, late = classify(due, met_on, bool(written), as_of, s["Due soon days"])
        obligations_out = (Obligation(case, clock.rule.id, trigger, due, status, late, met_on),)
    if not phoned:
        action, letter = "Disengaged search: phone the primary and any alternative numbers", None
    elif not written:
        action, letter = "Send the re-engagement letter to every address on file", "YOUTH-REENG"
    elif not visited:
        action, letter = "Disengaged search: home visit, if appropriate", None
    else:
        action, letter = (
            f"Disengaged search done: exit due {_on(exit_rule.due if exit_rule else None)} "
            "without a qualifying service",
            None,
        )
    return CaseState(case, flow, "Disengaged search", start, action, letter, None, obligations_out)


# ---------------------------------------------------------------- the whole caseload


RowsOf = Callable[[Caseload, set[str], Sequence[str]], dict[str, dict[str, list]]]


def rows_by_case(
    caseload: Caseload, cases: set[str], names: Sequence[str]
) -> dict[str, dict[str, list]]:
    """Some tables' rows (contacts, appointments, hours) of some cases, grouped by case id."""
    tables: dict[str, dict[str, list]] = {name: defaultdict(list) for name in names}
    for name, group in tables.items():
        for row in getattr(caseload, name):
            if row.case_id in cases:
                group[row.case_id].append(row)
    return tables


def person_key(client: Client) -> str:
    return client.person_id or client.case_id


def evaluate_flows(
    caseload: Caseload,
    book: FlowBook,
    settings: Settings,
    calendars: Mapping[str, BusinessCalendar],
    as_of: dt.date,
    rule_obligations: Mapping[str, Mapping[str, Obligation]] | None = None,
    rows_of: RowsOf | None = None,
) -> Flows:
    """Every case's flow state as of a date. `rule_obligations[case][rule]` gives the youth
    rules' obligations (YOUTH_RULES) from the rules engine; `rows_of` finds the contacts,
    appointments and hours of the cases that need them (default: `rows_by_case`)."""
    clients = {c.case_id: (i, c) for i, c in enumerate(caseload.clients)}
    flags: list[Flag] = []

    def row_flag(case_id: str, origin: Origin, message: str) -> None:
        flags.append(Flag(case_id, origin, message))

    # Events on record, checked for dates that cannot be right.
    events: dict[str, list[tuple[int, Any]]] = defaultdict(list)
    for i, e in enumerate(caseload.noncompliance):
        origin = Origin("Noncompliance", i, "Date")
        if e.date > as_of:
            row_flag(e.case_id, origin, f"dated after {as_of.isoformat()}: it counts from then")
            continue
        if e.reported_date and e.reported_date < e.date:
            row_flag(
                e.case_id,
                origin._replace(column="Reported Date"),
                f"reported on {fmt(e.reported_date)}, before it happened on {fmt(e.date)}",
            )
        if e.reply_by and e.reply_by < e.date:
            row_flag(
                e.case_id,
                origin._replace(column="Reply By"),
                f"reply-by {fmt(e.reply_by)} is before the event on {fmt(e.date)}",
            )
        events[e.case_id].append((i, e))

    # Penalties: the person's history across branches, checked and de-duplicated.
    family_of = {p: m.name for m in book.machines.values() for p in m.programs}
    by_person: dict[tuple[str, str], list[tuple[int, Penalty]]] = defaultdict(list)
    own: dict[str, list[tuple[int, Penalty]]] = defaultdict(list)
    seen: dict[tuple[str, str, dt.date], int] = {}
    for i, p in enumerate(caseload.penalties):
        origin = Origin("Penalties", i, "Imposed Date")
        client = clients.get(p.case_id)
        key = p.person_id or (person_key(client[1]) if client else p.case_id)
        for column, message in _penalty_order_problems(p):
            row_flag(p.case_id, origin._replace(column=column), message)
        if p.imposed_date:
            same = (key, family_of[p.program], p.imposed_date)
            if same in seen:
                row_flag(
                    p.case_id,
                    origin,
                    f"the same penalty (imposed {fmt(p.imposed_date)}) is already recorded; this "
                    "row is ignored",
                )
                continue
            seen[same] = i
        by_person[key, family_of[p.program]].append((i, p))
        own[p.case_id].append((i, p))
    for rows in by_person.values():
        in_force: tuple[int, Penalty] | None = None
        imposed = sorted((p.imposed_date, i, p) for i, p in rows if p.imposed_date)
        for _, i, p in imposed:
            if in_force and not in_force[1].ended_date:
                row_flag(
                    p.case_id,
                    Origin("Penalties", i, "Imposed Date"),
                    f"imposed on {fmt(p.imposed_date)} while the penalty imposed "
                    f"{fmt(in_force[1].imposed_date)} has no Ended Date",
                )
            in_force = (i, p)

    views = [PenaltyView()] * len(caseload.penalties)
    for (_, _family), rows in by_person.items():
        for row in rows:
            view, problems = penalty_view(row, rows, settings, as_of)
            views[row[0]] = view
            for column, message in problems:
                row_flag(row[1].case_id, Origin("Penalties", row[0], column), message)

    # Only cases with something to walk need their contacts, appointments and hours: rows
    # are objects only for them (the caseload's million other rows may stay columns).
    rows_of = rows_of or rows_by_case
    lapsed = {  # youth in the disengaged search (Y-05 overdue) need their contacts
        case
        for case, found in (rule_obligations or {}).items()
        if (o := found.get("Y-05")) is not None and o.status == Status.OVERDUE
    }
    busy = (
        set(events)
        | set(own)
        | lapsed
        | {
            c.case_id
            for c in caseload.clients
            if c.program == Program.TX_SNAP_ET or (c.program in ALASKA and not c.engaged)
        }
    )
    oregon = {c.case_id: c for c in caseload.clients if c.program == Program.OR_JOBS}
    schedule = rows_of(caseload, set(oregon) - busy, ("appointments",))["appointments"]
    busy |= {  # Oregon cases that missed an activity without calling ahead
        case
        for case, rows in schedule.items()
        if any(
            a.status == "No-show" and not a.called_ahead and a.date >= oregon[case].referral_date
            for a in rows
        )
    }
    tables = rows_of(caseload, busy, ("contacts", "appointments", "hours"))
    # What happens after the as-of date has not happened yet (appointments may be scheduled).
    for name in ("contacts", "hours"):
        for rows in tables[name].values():
            rows[:] = [r for r in rows if (r.date if name == "contacts" else r.week_start) <= as_of]
    clocks_of = defaultdict(list)
    for c in book.clocks:
        clocks_of[c.flow].append(c)
    heeded = {  # the events each flow moves on or ends a clock with
        m.name: frozenset(e for _, e in m.moves).union(
            *(c.met_by | c.cancelled_by for c in clocks_of[m.name])
        )
        for m in book.machines.values()
    }

    states: dict[str, CaseState] = {}
    for index, client in enumerate(caseload.clients):
        machine = book.machine_for(client.program)
        if client.case_id not in busy and machine.name != "WIOA Youth":
            states[client.case_id] = CaseState(client.case_id, machine.name, machine.start)
            continue
        key = person_key(client)
        ctx = Context(
            client,
            index,
            sorted(tables["contacts"].get(client.case_id, ()), key=lambda c: c.date),
            tables["appointments"].get(client.case_id, []),
            tables["hours"].get(client.case_id, []),
            own.get(client.case_id, []),
            by_person.get((key, machine.name), []),
            settings,
            calendars.get(client.branch, WEEKENDS_ONLY),
            as_of,
        )
        if machine.name == "WIOA Youth":
            found = (rule_obligations or {}).get(client.case_id, {})
            states[client.case_id] = youth_state(ctx, found, book.clock("NC-Y-06"))
            continue
        walk = Walk(machine, clocks_of[machine.name], ctx)
        history = _happenings(ctx, events.get(client.case_id, ()), heeded[machine.name])
        alaska = machine.name == "Alaska ATAP"
        if alaska and not client.engaged and not _disengaging(machine, history):
            walk.state = "Not engaged"  # the Engaged column says so, and no event says why
        walk.run(history, AUTOMATIC[machine.name])
        if alaska:
            _check_engaged_column(walk, history)
        action, letter = ADVICE[machine.name](walk)
        state = walk.state
        if walk.flags:
            action = f"Check: {walk.flags[-1].message}" + (f". Then: {action}" if action else "")
        reply_by = walk.reply_by if letter is None else None
        window = walk.due(book.reply_by_clock.get(letter or "", ""))
        if window is not None and window >= as_of:
            reply_by = window
        states[client.case_id] = CaseState(
            client.case_id,
            machine.name,
            state,
            walk.since,
            action,
            letter,
            reply_by,
            walk.obligations(),
            tuple(walk.flags),
            (*walk.runs, *(ClockRun(rid, trigger) for rid, trigger in walk.running.items())),
        )
        flags.extend(walk.flags)
    return Flows(states, tuple(views), tuple(flags))
