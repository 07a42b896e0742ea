"""Helpers for the per-rule tests: the real office calendars, a client factory, and one call
that runs *both* evaluators (the readable reference and the numpy engine), checks that they
agree, and returns the obligations.

Branches: "Anchorage" (AK calendar), "Houston" (TX), "Portland" (OR); any other branch name
has no holiday calendar (weekends only), as in the product.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from pyxl.domain import engine, reference
from pyxl.domain.calendar import BusinessCalendar
from pyxl.domain.model import (
    Appointment,
    Caseload,
    Client,
    Contact,
    HoursEntry,
    Plan,
    Program,
    Service,
    Status,
)
from pyxl.domain.obligations import Obligation, explain
from pyxl.domain.rules import Settings
from pyxl.policy import default_settings, rulebook
from pyxl.policy.calendars import office_holidays

D = dt.date
YEARS = range(2023, 2030)
BOOK = rulebook()
DEFAULTS = default_settings()


def _calendar(state: str) -> BusinessCalendar:
    return BusinessCalendar.from_holidays(state, office_holidays(state, YEARS))


AK, TX, OR = _calendar("AK"), _calendar("TX"), _calendar("OR")
CALENDARS: dict[str, BusinessCalendar] = {"Anchorage": AK, "Houston": TX, "Portland": OR}
HOME_BRANCH = {
    Program.ATAP_WORK_FIRST: "Anchorage",
    Program.ATAP_FAMILIES_FIRST: "Anchorage",
    Program.TX_CHOICES: "Houston",
    Program.TX_SNAP_ET: "Houston",
    Program.TX_WIOA_YOUTH: "Houston",
    Program.OR_JOBS: "Portland",
}
ROW_FIELDS = {
    Contact: "contacts",
    Appointment: "appointments",
    HoursEntry: "hours",
    Service: "services",
    Plan: "plans",
}


def client(program: Program, referral: dt.date, case_id: str = "C1", **fields: Any) -> Client:
    """A client of `program` in its home branch (override with branch=...)."""
    fields.setdefault("branch", HOME_BRANCH[program])
    return Client(
        case_id=case_id,
        client_name=f"Client {case_id}",
        program=program,
        case_manager="Pat Doe",
        referral_date=referral,
        **fields,
    )


def caseload(clients: Client | Iterable[Client], *rows: object) -> Caseload:
    people = (clients,) if isinstance(clients, Client) else tuple(clients)
    tables: dict[str, list[object]] = {name: [] for name in ROW_FIELDS.values()}
    for row in rows:
        tables[ROW_FIELDS[type(row)]].append(row)
    return Caseload(clients=people, **{k: tuple(v) for k, v in tables.items()})


def contact(day: dt.date, method: str, successful: bool = True, case_id: str = "C1", **kw: Any):
    return Contact(case_id, day, method, successful, **kw)


def service(name: str, start: dt.date, case_id: str = "C1", **kw: Any) -> Service:
    return Service(case_id, name, start, **kw)


def fssp(plan_date: dt.date, case_id: str = "C1", **kw: Any) -> Plan:
    return Plan(case_id, "FSSP", plan_date, **kw)


def hours(week_start: dt.date, entered: dt.date | None, case_id: str = "C1") -> HoursEntry:
    return HoursEntry(
        case_id, week_start, "Job search and job readiness", 20.0, entered_date=entered
    )


def no_show(day: dt.date, called_ahead: bool = False, case_id: str = "C1") -> Appointment:
    return Appointment(case_id, "Activity", day, "No-show", called_ahead)


def settings_with(overrides: Mapping[str, Any] | None = None) -> Settings:
    return DEFAULTS.with_values(overrides or {})


def evaluate(
    clients: Client | Iterable[Client],
    *rows: object,
    as_of: dt.date,
    settings: Mapping[str, Any] | Settings | None = None,
) -> list[Obligation]:
    """Both evaluators; they must produce exactly the same obligations. Returns the reference's."""
    chosen = settings if isinstance(settings, Settings) else settings_with(settings)
    load = caseload(clients, *rows)
    expected = reference.evaluate(load, BOOK, chosen, CALENDARS, as_of)
    actual = engine.evaluate(load, BOOK, chosen, CALENDARS, as_of).records()
    only_reference = Counter(expected) - Counter(actual)
    only_engine = Counter(actual) - Counter(expected)
    assert not only_reference and not only_engine, (
        f"engine and reference disagree\n only in reference: {list(only_reference)}\n"
        f" only in engine: {list(only_engine)}"
    )
    return expected


def of_rule(obligations: Iterable[Obligation], rule_id: str) -> list[Obligation]:
    return sorted(
        (o for o in obligations if o.rule_id == rule_id),
        key=lambda o: (o.case_id, o.trigger or D.min),
    )


def one(obligations: Iterable[Obligation], rule_id: str) -> Obligation:
    found = of_rule(obligations, rule_id)
    assert len(found) == 1, f"expected one {rule_id} obligation, got {found}"
    return found[0]


def for_month(obligations: Iterable[Obligation], rule_id: str, first_day: dt.date) -> Obligation:
    """The one obligation of a periodic rule for the period starting on `first_day`.

    Monthly rules list the as-of month and the missed months before it ("Missed months
    shown"), so a test about one month picks that month's obligation.
    """
    found = [o for o in of_rule(obligations, rule_id) if o.period_start == first_day]
    assert len(found) == 1, f"expected one {rule_id} obligation for {first_day}, got {found}"
    return found[0]


def latest(obligations: Iterable[Obligation], rule_id: str) -> Obligation:
    """The latest period's obligation of a periodic rule (the missed periods before it stay
    listed until met: "Missed months shown", "Missed weeks shown")."""
    found = of_rule(obligations, rule_id)
    assert found, f"no {rule_id} obligation"
    return max(found, key=lambda o: o.period_start or D.min)


def periods_of(obligations: Iterable[Obligation], rule_id: str) -> list[dt.date]:
    """The period starts listed for a rule, oldest first."""
    return sorted(o.period_start for o in of_rule(obligations, rule_id) if o.period_start)


def absent(obligations: Iterable[Obligation], rule_id: str) -> bool:
    return not of_rule(obligations, rule_id)


def text(
    o: Obligation,
    branch: str | None = None,
    settings: Mapping[str, Any] | Settings | None = None,
) -> str:
    """The explanation a case manager reads, on the branch's real calendar."""
    chosen = settings if isinstance(settings, Settings) else settings_with(settings)
    calendar = CALENDARS.get(branch) if branch else None
    return explain(o, BOOK.rules[o.rule_id], chosen, calendar)


def status_of(o: Obligation) -> tuple[Status, dt.date | None, int]:
    return o.status, o.due, o.days_overdue


__all__ = [
    "AK",
    "BOOK",
    "CALENDARS",
    "DEFAULTS",
    "OR",
    "TX",
    "Appointment",
    "Contact",
    "D",
    "HoursEntry",
    "Plan",
    "Program",
    "Service",
    "Status",
    "absent",
    "caseload",
    "client",
    "contact",
    "evaluate",
    "for_month",
    "fssp",
    "hours",
    "latest",
    "no_show",
    "of_rule",
    "one",
    "periods_of",
    "service",
    "settings_with",
    "status_of",
    "text",
]
