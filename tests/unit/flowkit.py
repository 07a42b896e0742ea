"""A small kit for the non-compliance flow tests: one case, its history, its state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pyxl.domain import engine
from pyxl.domain.model import (
    Appointment,
    Caseload,
    Client,
    Contact,
    HoursEntry,
    NoncomplianceEvent,
    Penalty,
    Program,
    Service,
)
from pyxl.domain.obligations import Obligation
from pyxl.domain.sanctions import YOUTH_RULES, CaseState, Flows, evaluate_flows
from pyxl.policy import default_settings, flowbook, rulebook
from tests.unit.rulekit import CALENDARS, HOME_BRANCH

D = dt.date
CASE = "C1"


def client(program: Program, case_id: str = CASE, **fields: Any) -> Client:
    values: dict[str, Any] = {
        "case_id": case_id,
        "client_name": f"Client {case_id}",
        "program": program,
        "branch": HOME_BRANCH[program],
        "case_manager": "Case Manager",
        "referral_date": D(2026, 1, 5),
        **fields,
    }
    return Client(**values)


def event(day: dt.date, name: str, case_id: str = CASE, **fields: Any) -> NoncomplianceEvent:
    return NoncomplianceEvent(case_id, day, name, **fields)


def penalty(program: Program, case_id: str = CASE, **fields: Any) -> Penalty:
    return Penalty(case_id, program, **fields)


def contact(
    day: dt.date,
    method: str,
    successful: bool = False,
    purpose: str | None = None,
    case_id: str = CASE,
    **fields: Any,
) -> Contact:
    return Contact(case_id, day, method, successful, purpose=purpose, **fields)


def appointment(
    day: dt.date, kind: str, status: str, called_ahead: bool = False, case_id: str = CASE
) -> Appointment:
    return Appointment(case_id, kind, day, status, called_ahead)


def week(monday: dt.date, hours: float, case_id: str = CASE) -> HoursEntry:
    return HoursEntry(case_id, monday, "Job search and job readiness", hours)


def evaluate(
    clients: Client | Sequence[Client],
    as_of: dt.date,
    *,
    events: Sequence[NoncomplianceEvent] = (),
    penalties: Sequence[Penalty] = (),
    contacts: Sequence[Contact] = (),
    appointments: Sequence[Appointment] = (),
    hours: Sequence[HoursEntry] = (),
    services: Sequence[Service] = (),
    settings: dict[str, Any] | None = None,
) -> Flows:
    caseload = Caseload(
        clients=(clients,) if isinstance(clients, Client) else tuple(clients),
        contacts=tuple(contacts),
        appointments=tuple(appointments),
        hours=tuple(hours),
        services=tuple(services),
        noncompliance=tuple(events),
        penalties=tuple(penalties),
    )
    s = default_settings().with_values(settings or {})
    rules = engine.evaluate(caseload, rulebook(), s, CALENDARS, as_of).by_case(YOUTH_RULES)
    return evaluate_flows(caseload, flowbook(), s, CALENDARS, as_of, rules)


def state(*args: Any, **kwargs: Any) -> CaseState:
    return evaluate(*args, **kwargs).states[CASE]


def clock(s: CaseState, rule_id: str) -> Obligation:
    found = [o for o in s.obligations if o.rule_id == rule_id]
    assert len(found) == 1, f"{rule_id}: {s.obligations}"
    return found[0]


def messages(flows: Flows) -> list[str]:
    return [f.message for f in flows.flags]
