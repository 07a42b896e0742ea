"""Letters as domain values: definitions, requests and the letter queue (which are due).

Pure: obligations, appointments, the letters already logged and the flows' wishes in;
the letters due out, each with why and its reply-by date on the branch calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pyxl.domain.calendar import BusinessCalendar
from pyxl.domain.model import Appointment, Client, Status
from pyxl.domain.obligations import Obligation, fmt

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
        return cls(
            tuple(data["common"]["fields"]),
            tuple(data["common"].get("optional", ())),
            tuple(data["common"].get("restricted", ())),
            letters,
            rules,
            appointments,
            dict(data.get("sample", {})),
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
class LetterRequest:
    """One letter due for one case: which, why, and by when the client should reply."""

    case_id: str
    code: str
    reason: str
    trigger: dt.date | None  # what the letter answers (missed activity, referral, ...)
    reply_by: dt.date
    language: str  # "en" / "es"
    appointment: Appointment | None = None
    rule_id: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


SentKey = tuple[str, str, dt.date | None]  # case id, letter code, trigger date


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
) -> list[LetterRequest]:
    """The letters due as of a date, one per case and letter, in case order.

    Sources: open obligations named in letters.toml [[from_rule]], scheduled appointments
    named in [[from_appointment]], and the flows' `CaseState.letter` (which wins: the flow
    knows the state). A letter already logged for the same case, letter and trigger date is
    left out, so a batch run again another day does not repeat it.
    """
    already = set(sent)
    chosen: dict[tuple[str, str], LetterRequest] = {}

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
        if (client.case_id, code, trigger) in already:
            return
        reply_by = kw.pop("reply_by", None) or definition.reply_by(
            as_of, calendar, appointment.date if appointment else None
        )
        request = LetterRequest(
            client.case_id,
            code,
            reason,
            trigger,
            reply_by,
            LANGUAGE_CODES.get(client.language, "en"),
            appointment,
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
