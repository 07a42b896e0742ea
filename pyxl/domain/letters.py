"""Letters as domain values: definitions, requests and the letter queue (which are due).

Pure: obligations, appointments, the letters already logged and the flows' wishes in;
the letters due out, each with why and its reply-by date on the branch calendar.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from pyxl.domain.calendar import BusinessCalendar
from pyxl.domain.model import Appointment, Client, Contact, Status
from pyxl.domain.obligations import Obligation, fmt
from pyxl.domain.rules import Rule

LANGUAGE_CODES = {"English": "en", "Spanish": "es"}


class LetterInputError(ValueError):
    """A letter request that cannot be met (unknown letter kind, ...)."""


@dataclass(frozen=True)
class LetterDefinition:
    code: str
    title: str
    source: str
    purpose: str  # Contacts purpose when logged
    reply_by_days: int
    fields: tuple[str, ...]  # the letter's own fields (all required)
    optional: tuple[str, ...] = ()
    appointment_types: tuple[str, ...] = ()
    before_appointment: bool = False
    version: int = 1
    propose: str = ""  # the appointment type pyxl proposes when none is scheduled

    def allowed_fields(self, common: Iterable[str]) -> frozenset[str]:
        return frozenset((*common, *self.fields, *self.optional))

    def reply_by(
        self, letter_date: dt.date, calendar: BusinessCalendar, appointment: dt.date | None
    ) -> dt.date:
        """Letter date + N business days; not after the business day before the appointment."""
        day = calendar.workday(letter_date, self.reply_by_days)
        if self.before_appointment and appointment is not None and appointment > letter_date:
            day = min(day, max(letter_date, calendar.workday(appointment, -1)))
        return day


@dataclass(frozen=True)
class RuleTrigger:
    rule: str
    letter: str
    statuses: frozenset[Status]


@dataclass(frozen=True)
class AppointmentTrigger:
    types: frozenset[str]
    letter: str
    programs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LetterBook:
    common: tuple[str, ...]
    common_optional: tuple[str, ...]
    restricted: tuple[str, ...]
    letters: Mapping[str, LetterDefinition]
    from_rules: tuple[RuleTrigger, ...]
    from_appointments: tuple[AppointmentTrigger, ...]
    sample: Mapping[str, Any] = field(default_factory=dict)
    voice: tuple[str, ...] = ()  # one letter a client a day: the first of these goes
    short_window: Rule | None = None  # the Due List's call for a letter mail cannot carry
    spanish: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # list -> en -> es
    violations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # event -> lang

    def words(self, kind: str, value: str, lang: str) -> str | None:
        """A value-list word as a letter in `lang` prints it (None: no Spanish for it)."""
        if lang != "es":
            return value
        return self.spanish.get(kind, {}).get(value)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LetterBook:
        letters = {}
        for code, d in data["letters"].items():
            letters[code] = LetterDefinition(
                code=code,
                title=d["title"],
                source=d["source"],
                purpose=d["purpose"],
                reply_by_days=int(d["reply_by_days"]),
                fields=tuple(d.get("fields", ())),
                optional=tuple(d.get("optional", ())),
                appointment_types=tuple(d.get("appointment_types", ())),
                before_appointment=bool(d.get("before_appointment", False)),
                version=int(d.get("version", 1)),
                propose=str(d.get("propose", "")),
            )
        rules = tuple(
            RuleTrigger(t["rule"], t["letter"], frozenset(Status(s) for s in t["statuses"]))
            for t in data.get("from_rule", ())
        )
        appointments = tuple(
            AppointmentTrigger(frozenset(t["types"]), t["letter"], frozenset(t.get("programs", ())))
            for t in data.get("from_appointment", ())
        )
        for trigger in (*rules, *appointments):
            if trigger.letter not in letters:
                raise ValueError(f"letters.toml: unknown letter code {trigger.letter!r}")
        voice = tuple(data.get("one_voice", {}).get("order", ()))
        if set(voice) != set(letters):
            raise ValueError("letters.toml: [one_voice] order must list every letter once")
        return cls(
            tuple(data["common"]["fields"]),
            tuple(data["common"].get("optional", ())),
            tuple(data["common"].get("restricted", ())),
            letters,
            rules,
            appointments,
            dict(data.get("sample", {})),
            voice,
            Rule.clock_only(data["short_window"]) if "short_window" in data else None,
            {k: dict(v) for k, v in data.get("spanish", {}).items()},
            {k: dict(v) for k, v in data.get("violations", {}).items()},
        )

    def allowed_fields(self, code: str) -> frozenset[str]:
        return self.letters[code].allowed_fields(self.common)

    def optional_fields(self, code: str) -> frozenset[str]:
        return frozenset((*self.common_optional, *self.letters[code].optional))

    def sample_fields(self, code: str) -> dict[str, Any]:
        """Made-up values for the fields a letter may use (template checks, tests)."""
        allowed = self.allowed_fields(code)
        return {k: v for k, v in self.sample.items() if k in allowed} | {"letter_code": code}

    @property
    def known_fields(self) -> frozenset[str]:
        """Every field pyxl can fill in for some letter (restricted ones included)."""
        own = {f for d in self.letters.values() for f in (*d.fields, *d.optional)}
        return frozenset((*self.common, *self.restricted, *own))


class CaseStateLike(Protocol):
    """What the letter queue reads from a non-compliance flow's state (sanctions.CaseState)."""

    case_id: str
    flow: str
    state: str
    since: dt.date | None
    letter: str | None
    reply_by: dt.date | None


@dataclass(frozen=True)
class LetterTiming:
    """The Settings that decide whether a client can answer a letter in time."""

    mail_days: int = 3  # business days a letter takes to reach the client (and back)
    minimum_reply_days: int = 2  # business days the client has once the letter arrives
    closed_day_moves_flow: bool = True  # the flow waits for a reply-by moved off a closed day

    @property
    def needed(self) -> int:
        return self.mail_days + self.minimum_reply_days


@dataclass(frozen=True)
class LetterRequest:
    """One letter due for one case: which, why, and by when the client should reply.

    `reply_by` is printed (always an open day); `flow_reply_by` is logged on Contacts, where
    the flows read it. A letter with `problem` cannot be printed; one with `held` waits (it
    would contradict the letter this client gets today); `warnings` go out with it.
    """

    case_id: str
    code: str
    reason: str
    trigger: dt.date | None  # what the letter answers (missed activity, referral, ...)
    reply_by: dt.date
    language: str  # "en" / "es"
    appointment: Appointment | None = None
    rule_id: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)
    flow_reply_by: dt.date | None = None
    warnings: tuple[str, ...] = ()
    problem: str = ""
    held: str = ""
    proposed_time: dt.time | None = None  # the appointment is pyxl's proposal (not yet booked)

    @property
    def logged_reply_by(self) -> dt.date:
        return self.flow_reply_by or self.reply_by


SentKey = tuple[str, str, dt.date | None]  # case id, letter code, trigger date


@dataclass(frozen=True)
class OfficeHours:
    """When a branch books appointments: first start, end, and the length of one."""

    opens: dt.time
    closes: dt.time
    minutes: int

    def starts(self) -> list[dt.time]:
        day = dt.date(2000, 1, 1)
        at, end = dt.datetime.combine(day, self.opens), dt.datetime.combine(day, self.closes)
        step = dt.timedelta(minutes=self.minutes)
        out = []
        while self.minutes > 0 and at + step <= end:
            out.append(at.time())
            at += step
        return out


@dataclass
class SlotFinder:
    """The next free appointment slot of a case manager: on a day the branch is open and the
    case manager is in the office, within office hours, not overlapping an appointment the
    case manager already has, and late enough for the letter to reach the client first.
    Each slot it proposes is taken (two letters of one batch never share one)."""

    calendars: Mapping[str, BusinessCalendar]  # by branch
    hours: Mapping[str, OfficeHours]  # by branch
    office_days: Mapping[str, frozenset[int]]  # case manager -> weekdays (Monday 0)
    booked: dict[str, list[dt.datetime]]  # case manager -> appointment starts
    lead_days: int  # business days from the letter date to the first day offered
    horizon_days: int = 90

    def propose(self, client: Client, as_of: dt.date) -> tuple[dt.date, dt.time] | None:
        hours = self.hours.get(client.branch)
        calendar = self.calendars.get(client.branch)
        if hours is None or calendar is None:
            return None
        days = self.office_days.get(client.case_manager) or frozenset(range(5))
        taken = self.booked.setdefault(client.case_manager, [])
        length = dt.timedelta(minutes=hours.minutes)
        day = calendar.workday(as_of, max(self.lead_days, 1))
        for _ in range(self.horizon_days):
            if calendar.is_business_day(day) and day.weekday() in days:
                for start in hours.starts():
                    at = dt.datetime.combine(day, start)
                    if all(not (b - length < at < b + length) for b in taken):
                        taken.append(at)
                        return day, start
            day += dt.timedelta(days=1)
        return None


def _closed_words(day: dt.date, calendar: BusinessCalendar) -> str:
    name = calendar.holidays.get(day) or ("a weekend" if day.weekday() >= 5 else "closed")
    return f"{fmt(day)} ({name})"


def open_reply_by(
    wanted: dt.date,
    as_of: dt.date,
    calendar: BusinessCalendar,
    timing: LetterTiming,
    office: str,
) -> tuple[dt.date, dt.date, list[str]]:
    """The reply-by printed (the next open day on or after the wanted one, never before the
    letter date), the one the flow waits for, and what the clerk should know about it."""
    notes = []
    day = max(wanted, as_of)
    printed = calendar.next_business_day(day)
    if printed != day:
        notes.append(
            f"reply-by moved from {_closed_words(day, calendar)}, when {office} is closed, "
            f"to {fmt(printed)}"
        )
    flow = printed if timing.closed_day_moves_flow else day
    window = calendar.networkdays(as_of, printed) - 1  # business days after the letter date
    if window < timing.needed:
        notes.append(
            f"only {window} business days to reply by mail (mail {timing.mail_days} + reply "
            f"{timing.minimum_reply_days}): phone or see the client in person today "
            "(a voicemail does not count)"
        )
    return printed, flow, notes


def _status_words(o: Obligation) -> str:
    if o.status == Status.OVERDUE:
        return f"overdue since {fmt(o.due)}"
    return f"due {fmt(o.due)}"


def next_appointment(
    appointments: Sequence[Appointment], types: Iterable[str], on_or_after: dt.date
) -> Appointment | None:
    wanted = set(types)
    upcoming = [
        a
        for a in appointments
        if a.type in wanted and a.status == "Scheduled" and a.date >= on_or_after
    ]
    return min(upcoming, key=lambda a: a.date, default=None)


def letter_queue(
    book: LetterBook,
    clients: Mapping[str, Client],
    obligations: Iterable[Obligation],
    appointments: Mapping[str, Sequence[Appointment]],
    calendars: Mapping[str, BusinessCalendar],
    as_of: dt.date,
    sent: Iterable[SentKey] = (),
    case_states: Iterable[CaseStateLike] = (),
    rule_titles: Mapping[str, str] | None = None,
    timing: LetterTiming = LetterTiming(),
    slots: SlotFinder | None = None,
) -> list[LetterRequest]:
    """The letters due as of a date, one per case and letter, in case order.

    Sources: open obligations named in letters.toml [[from_rule]], scheduled appointments
    named in [[from_appointment]], and the flows' `CaseState.letter` (which wins: the flow
    knows the state). A letter that announces an appointment when none is scheduled gets
    the next free slot from `slots` (its `propose` type), which printing then books. A
    letter already logged for the same case, letter and trigger date is left out, so a
    batch run again another day does not repeat it.
    """
    already = set(sent)
    chosen: dict[tuple[str, str], LetterRequest] = {}
    proposals: dict[tuple[str, str], tuple[dt.date, dt.time] | None] = {}  # one per letter

    def offer(client: Client, code: str, trigger: dt.date | None, reason: str, **kw: Any) -> None:
        definition = book.letters[code]
        calendar = calendars[client.branch]
        appointment = None
        if definition.appointment_types:
            appointment = next_appointment(
                appointments.get(client.case_id, ()), definition.appointment_types, as_of
            )
            if appointment is not None:  # the letter announces it, whoever asked for it
                trigger = appointment.date
        proposed_time = None
        if definition.appointment_types and appointment is None and definition.propose:
            key = (client.case_id, code)
            if key not in proposals and slots is not None:
                proposals[key] = slots.propose(client, as_of)
            if proposals.get(key) is not None:
                day, proposed_time = proposals[key]  # type: ignore[misc]
                appointment = Appointment(client.case_id, definition.propose, day)
                trigger = day
        if (client.case_id, code, trigger) in already:
            return
        wanted = kw.pop("reply_by", None) or definition.reply_by(
            as_of, calendar, appointment.date if appointment else None
        )
        reply_by, flow_reply_by, warnings = open_reply_by(
            wanted, as_of, calendar, timing, client.branch
        )
        problem = ""
        if appointment is not None and not calendar.is_business_day(appointment.date):
            problem = (
                f"Appointments: the {appointment.type} for {client.case_id} is on "
                f"{_closed_words(appointment.date, calendar)}, when {client.branch} is "
                "closed; move it to an open day"
            )
        request = LetterRequest(
            client.case_id,
            code,
            reason,
            trigger,
            reply_by,
            LANGUAGE_CODES.get(client.language, "en"),
            appointment,
            flow_reply_by=flow_reply_by,
            warnings=tuple(warnings),
            problem=problem,
            proposed_time=proposed_time,
            **kw,
        )
        key = (client.case_id, code)
        held = chosen.get(key)
        # One letter per case and kind: the flow's wins, then the latest trigger.
        if held is None or _preferred(request, held):
            chosen[key] = request

    by_rule: dict[str, list[RuleTrigger]] = {}
    for t in book.from_rules:
        by_rule.setdefault(t.rule, []).append(t)
    for o in obligations:
        for t in by_rule.get(o.rule_id, ()):
            client = clients.get(o.case_id)
            if client is None or o.status not in t.statuses:
                continue
            title = (rule_titles or {}).get(o.rule_id, "")
            trigger_words = f", trigger {fmt(o.trigger)}" if o.trigger else ""
            reason = f"{o.rule_id} {title}{trigger_words}: {_status_words(o)}"
            offer(client, t.letter, o.trigger, reason, rule_id=o.rule_id)

    for trigger in book.from_appointments:
        for case_id, rows in appointments.items():
            client = clients.get(case_id)
            if client is None or (trigger.programs and client.program not in trigger.programs):
                continue
            for a in rows:
                if a.type in trigger.types and a.status == "Scheduled" and a.date >= as_of:
                    reason = f"{a.type} appointment scheduled for {fmt(a.date)}"
                    offer(client, trigger.letter, a.date, reason)

    for state in case_states:
        client = clients.get(state.case_id)
        if client is None or not state.letter:
            continue
        if state.letter not in book.letters:
            raise LetterInputError(
                f"case {state.case_id}: the flow asks for unknown letter {state.letter!r}"
            )
        reason = f"{state.flow} flow: {state.state}" + (
            f" since {fmt(state.since)}" if state.since else ""
        )
        offer(
            client,
            state.letter,
            state.since,
            reason,
            reply_by=state.reply_by,
            rule_id=f"flow:{state.flow}",
        )
    return sorted(chosen.values(), key=lambda r: (r.case_id, r.code))


def _preferred(new: LetterRequest, held: LetterRequest) -> bool:
    new_flow = (new.rule_id or "").startswith("flow:")
    held_flow = (held.rule_id or "").startswith("flow:")
    if new_flow != held_flow:
        return new_flow
    return (new.trigger or dt.date.min) > (held.trigger or dt.date.min)


def one_voice(
    requests: Sequence[LetterRequest], book: LetterBook, sent_today: Iterable[str] = ()
) -> list[LetterRequest]:
    """One coherent mailing a client a day: of the letters one client would get today, the
    one ranked first in the book's `voice` order goes (a letter already printed today for
    the client ranks before all) and the others are held, with the reason. A first letter
    that cannot be made yet still holds the others: fixed and printed later that day, it
    must not arrive beside a letter it contradicts."""
    rank = {code: n for n, code in enumerate(book.voice)}
    printed = set(sent_today)
    by_case: dict[str, list[LetterRequest]] = {}
    for r in requests:
        by_case.setdefault(r.case_id, []).append(r)
    out = []
    for case_id, letters in by_case.items():
        first = min(
            letters,
            key=lambda r: (f"{case_id}\t{r.code}" not in printed, rank.get(r.code, len(rank))),
        )
        for r in letters:
            if r is not first:
                waits = " (once it can be made)" if first.problem else ""
                r = replace(
                    r,
                    held=f"{case_id} gets the letter {book.letters[first.code].title!r} today"
                    f"{waits}: one letter a "
                    "client a day, so two letters never contradict each other; a later batch "
                    "asks for this one again if it is still due",
                )
            out.append(r)
    return out


CALL_METHODS = frozenset({"Phone", "In person", "Home visit", "School visit"})


def short_window_calls(
    contacts: Mapping[str, Sequence[Contact]],
    calendars: Mapping[str, BusinessCalendar],  # by case
    timing: LetterTiming,
    as_of: dt.date,
    rule_id: str,
) -> list[Obligation]:
    """For each letter logged on Contacts whose reply window is shorter than the mail can
    carry, still open (reply-by not passed): a phone or in-person attempt due the day it was
    mailed, met by the first such contact from that day on."""
    out = []
    for case_id, rows in contacts.items():
        calendar = calendars[case_id]
        for letter in rows:
            if letter.method != "Letter" or letter.reply_by is None:
                continue
            if not letter.date <= as_of <= letter.reply_by:
                continue
            if calendar.networkdays(letter.date, letter.reply_by) - 1 >= timing.needed:
                continue
            calls = [
                c.date for c in rows if c.method in CALL_METHODS and letter.date <= c.date <= as_of
            ]
            if calls:
                status, late, met = Status.MET, 0, min(calls)
            elif as_of > letter.date:
                status, late, met = Status.OVERDUE, (as_of - letter.date).days, None
            else:
                status, late, met = Status.DUE, 0, None
            out.append(Obligation(case_id, rule_id, letter.date, letter.date, status, late, met))
    return out


_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def read_office_days(text: str) -> tuple[frozenset[int], tuple[str, ...]]:
    """'Mon Tue Thu', 'Mon-Fri', 'Mon–Thu, Sat' -> weekdays (Monday 0), and the words that
    name no day ('Mnday'), for the Errors sheet."""
    days: set[int] = set()
    unread: list[str] = []
    for part in re.split(r"[,;/\s]+", text.strip().lower()):
        ends = [p[:3] for p in re.split(r"[-–]", part) if p]
        if len(ends) == 2 and all(e in _DAY_NAMES for e in ends):
            a, b = (_DAY_NAMES.index(e) for e in ends)
            days |= set(range(a, b + 1))
        elif len(ends) == 1 and ends[0] in _DAY_NAMES:
            days.add(_DAY_NAMES.index(ends[0]))
        elif part:
            unread.append(part)
    return frozenset(days), tuple(unread)
