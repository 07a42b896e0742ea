"""The letter queue: which letters are due, why, and the reply-by date on the branch calendar."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from pyxl.domain.calendar import BusinessCalendar
from pyxl.domain.letters import LetterInputError, letter_queue
from pyxl.domain.model import Appointment, Client, Holiday, Program, Status
from pyxl.domain.obligations import Obligation
from pyxl.policy import letter_book

BOOK = letter_book()
D = dt.date
OREGON = BusinessCalendar.from_holidays(
    "OR",
    (Holiday("OR", D(2026, 11, 26), "Thanksgiving"), Holiday("OR", D(2026, 11, 27), "Day after")),
)
CALENDARS = {"Portland": OREGON, "Anchorage": OREGON}


def client(case_id: str, program: Program = Program.OR_JOBS, language: str = "English") -> Client:
    return Client(
        case_id, "Name", program, "Portland", "Sam Lee", D(2026, 10, 1), language=language
    )


def obligation(case_id: str, rule: str, trigger: dt.date, status: Status) -> Obligation:
    return Obligation(case_id, rule, trigger, trigger + dt.timedelta(days=1), status)


def State(case_id, flow, state, since, letter, reply_by) -> SimpleNamespace:
    """What pyxl.domain.sanctions.CaseState carries for letters."""
    return SimpleNamespace(
        case_id=case_id, flow=flow, state=state, since=since, letter=letter, reply_by=reply_by
    )


AS_OF = D(2026, 11, 24)


def queue(obligations=(), appointments=None, sent=(), states=(), clients=None, as_of=AS_OF):
    clients = clients or {c: client(c) for c in ("C1", "C2")}
    return letter_queue(
        BOOK, clients, obligations, appointments or {}, CALENDARS, as_of, sent, states
    )


def test_a_missed_activity_not_yet_followed_up_asks_for_an_engagement_note():
    [letter] = queue([obligation("C1", "O-06", D(2026, 11, 20), Status.OVERDUE)])
    assert (letter.case_id, letter.code, letter.trigger) == ("C1", "OR-ENGAGE", D(2026, 11, 20))
    assert letter.reason.startswith("O-06") and "overdue" in letter.reason


def test_the_reply_by_date_counts_business_days_and_skips_the_branch_holidays():
    # Tue 24 Nov + 2 business days: Wed 25, then Thanksgiving and the day after are closed,
    # the weekend too: Mon 30 Nov.
    [letter] = queue([obligation("C1", "O-06", D(2026, 11, 23), Status.DUE_SOON)])
    assert letter.reply_by == D(2026, 11, 30)


def test_an_appointment_letter_asks_for_a_reply_before_the_appointment():
    meeting = Appointment("C1", "Conciliation", D(2026, 11, 30), "Scheduled")
    [letter] = queue(appointments={"C1": [meeting]})
    assert letter.code == "OR-CONCIL" and letter.appointment == meeting
    assert letter.reply_by == D(2026, 11, 25)  # the business day before Mon 30 Nov


def test_met_obligations_and_other_rules_ask_for_no_letter():
    assert queue([obligation("C1", "O-06", D(2026, 11, 20), Status.MET)]) == []
    assert queue([obligation("C1", "A-06", D(2026, 11, 20), Status.OVERDUE)]) == []


def test_a_letter_already_logged_for_the_same_trigger_is_not_asked_for_again():
    o = obligation("C1", "O-06", D(2026, 11, 20), Status.OVERDUE)
    assert queue([o], sent=[("C1", "OR-ENGAGE", D(2026, 11, 20))]) == []
    newer = obligation("C1", "O-06", D(2026, 11, 23), Status.DUE_SOON)
    [letter] = queue([o, newer], sent=[("C1", "OR-ENGAGE", D(2026, 11, 20))])
    assert letter.trigger == D(2026, 11, 23)


def test_one_letter_per_case_and_kind_about_the_latest_missed_activity():
    [letter] = queue(
        [
            obligation("C1", "O-06", D(2026, 11, 2), Status.OVERDUE),
            obligation("C1", "O-06", D(2026, 11, 20), Status.OVERDUE),
            obligation("C1", "O-07", D(2026, 11, 20), Status.DUE),
        ]
    )
    assert letter.trigger == D(2026, 11, 20)


def test_the_flow_letter_wins_and_keeps_the_flow_reply_by_date():
    states = [State("C2", "OR", "RE_ENGAGEMENT", D(2026, 11, 20), "OR-ENGAGE", D(2026, 12, 4))]
    letters = queue([obligation("C2", "O-06", D(2026, 11, 22), Status.OVERDUE)], states=states)
    [letter] = letters
    assert letter.rule_id == "flow:OR" and letter.reply_by == D(2026, 12, 4)
    assert "RE_ENGAGEMENT" in letter.reason


def test_a_flow_state_without_a_letter_asks_for_nothing_and_an_unknown_code_is_refused():
    assert queue(states=[State("C1", "TX", "ACTIVE", None, None, None)]) == []
    with pytest.raises(LetterInputError, match=r"C1.*NOPE"):
        queue(states=[State("C1", "TX", "X", None, "NOPE", None)])


def test_the_client_language_picks_the_spanish_template():
    clients = {"C1": client("C1", language="Spanish")}
    [letter] = queue([obligation("C1", "O-06", D(2026, 11, 20), Status.OVERDUE)], clients=clients)
    assert letter.language == "es"


def test_every_letter_allows_the_common_fields_and_none_allows_the_masked_ssn():
    for code in BOOK.letters:
        allowed = BOOK.allowed_fields(code)
        assert {"case_id", "client_name", "reply_by", "letter_code"} <= allowed
        assert "ssn_masked" not in allowed
