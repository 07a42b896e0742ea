"""Letters a client can act on: reply-by dates and appointments only on open days, a window
long enough to answer by mail (or a call today), one letter a client a day, and a proposed
appointment in the case manager's free office hours."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from pyxl.domain.calendar import BusinessCalendar
from pyxl.domain.letters import (
    LetterRequest,
    LetterTiming,
    OfficeHours,
    SlotFinder,
    letter_queue,
    one_voice,
    open_reply_by,
    short_window_calls,
)
from pyxl.domain.model import Appointment, Client, Contact, Holiday, Program, Status
from pyxl.policy import letter_book

BOOK = letter_book()
D = dt.date
TEXAS = BusinessCalendar.from_holidays(
    "TX",
    (
        Holiday("TX", D(2026, 11, 26), "Thanksgiving Day"),
        Holiday("TX", D(2026, 11, 27), "Day after"),
    ),
)
MONDAY = D(2026, 11, 23)


def client(case_id: str = "C1", program: Program = Program.OR_JOBS, manager: str = "Sam") -> Client:
    return Client(case_id, "Name", program, "East", manager, D(2026, 10, 1))


def flow(case_id: str, letter: str, reply_by: dt.date | None) -> SimpleNamespace:
    return SimpleNamespace(
        case_id=case_id, flow="F", state="S", since=MONDAY, letter=letter, reply_by=reply_by
    )


def queue(appointments=None, states=(), timing=None, slots=None, clients=None):
    clients = clients or {"C1": client()}
    return letter_queue(
        BOOK,
        clients,
        (),
        appointments or {},
        {"East": TEXAS},
        MONDAY,
        case_states=states,
        timing=timing or LetterTiming(),
        slots=slots,
    )


def test_a_reply_by_on_a_holiday_moves_to_the_next_open_day_and_says_so():
    [letter] = queue(states=[flow("C1", "TX-NONCOMP", D(2026, 11, 26))])
    assert letter.reply_by == D(2026, 11, 30)  # Thanksgiving, the day after, the weekend
    assert letter.logged_reply_by == D(2026, 11, 30)  # the flow waits too (default)
    assert any("moved from Thu 2026-11-26 (Thanksgiving Day)" in w for w in letter.warnings)


def test_the_setting_can_keep_the_flows_own_date():
    timing = LetterTiming(closed_day_moves_flow=False)
    [letter] = queue(states=[flow("C1", "TX-NONCOMP", D(2026, 11, 26))], timing=timing)
    assert letter.reply_by == D(2026, 11, 30) and letter.logged_reply_by == D(2026, 11, 26)


def test_a_reply_by_in_the_past_is_never_printed():
    printed, _, notes = open_reply_by(D(2026, 11, 12), MONDAY, TEXAS, LetterTiming(), "East")
    assert printed == MONDAY and any("only 0 business days" in n for n in notes)


def test_a_window_too_short_for_the_mail_goes_out_and_asks_for_a_call_today():
    printed, _, notes = open_reply_by(D(2026, 11, 25), MONDAY, TEXAS, LetterTiming(), "East")
    assert printed == D(2026, 11, 25)
    [note] = notes
    assert "only 2 business days" in note and "phone or see the client" in note
    _, _, enough = open_reply_by(D(2026, 12, 7), MONDAY, TEXAS, LetterTiming(), "East")
    assert enough == []


def test_an_appointment_on_a_closed_day_is_not_printed_and_is_named():
    meeting = Appointment("C1", "Conciliation", D(2026, 11, 26), "Scheduled")
    [letter] = queue(appointments={"C1": [meeting]})
    assert letter.code == "OR-CONCIL"
    assert (
        "Thu 2026-11-26 (Thanksgiving Day)" in letter.problem and "East is closed" in letter.problem
    )


def request(code: str, problem: str = "") -> LetterRequest:
    return LetterRequest("C1", code, "why", None, MONDAY, "en", problem=problem)


def test_one_client_gets_one_letter_a_day_the_first_in_the_procedures_order():
    letters = one_voice([request("OR-ENGAGE"), request("OR-CONCIL")], BOOK)
    by_code = {r.code: r for r in letters}
    assert not by_code["OR-CONCIL"].held
    assert "Conciliation / re-engagement appointment (Oregon)" in by_code["OR-ENGAGE"].held


def test_a_first_letter_that_cannot_be_made_yet_still_holds_the_other():
    letters = one_voice([request("OR-ENGAGE"), request("OR-CONCIL", "closed")], BOOK)
    assert {r.code for r in letters if r.held} == {"OR-ENGAGE"}


def test_a_letter_already_printed_today_keeps_its_place():
    letters = one_voice([request("OR-ENGAGE"), request("OR-CONCIL")], BOOK, {"C1\tOR-ENGAGE"})
    assert {r.code for r in letters if r.held} == {"OR-CONCIL"}


def finder(booked=None, days=None) -> SlotFinder:
    hours = OfficeHours(dt.time(8), dt.time(10), 60)  # two slots a day: 8:00 and 9:00
    return SlotFinder({"East": TEXAS}, {"East": hours}, days or {}, booked or {}, 5)


def test_a_proposed_slot_skips_closed_days_days_out_and_booked_hours():
    slots = finder(
        booked={"Sam": [dt.datetime(2026, 12, 2, 8, 30)]},  # overlaps 8:00 and 9:00 of Wed
        days={"Sam": frozenset({1, 2})},  # in the office Tuesday and Wednesday
    )
    # Mon 23 + 5 business days (Thanksgiving and the day after closed) = Wed 2 Dec.
    assert slots.propose(client(), MONDAY) == (D(2026, 12, 8), dt.time(8))
    assert slots.propose(client(), MONDAY) == (D(2026, 12, 8), dt.time(9))  # taken once
    assert slots.propose(client(), MONDAY) == (D(2026, 12, 9), dt.time(8))


def test_a_letter_without_an_appointment_proposes_one_and_answers_it():
    [letter] = queue(states=[flow("C1", "OR-CONCIL", None)], slots=finder())
    assert letter.appointment == Appointment("C1", "Conciliation", D(2026, 12, 2))
    assert letter.proposed_time == dt.time(8) and letter.trigger == D(2026, 12, 2)
    assert letter.reply_by == D(2026, 12, 1)  # the business day before the meeting


def letter_contact(day: dt.date, reply_by: dt.date) -> Contact:
    return Contact("C1", day, "Letter", False, reply_by=reply_by)


def calls(rows, as_of):
    return short_window_calls({"C1": rows}, {"C1": TEXAS}, LetterTiming(), as_of, "LTR-CALL")


def test_a_letter_mail_cannot_carry_puts_a_call_on_the_due_list_until_one_is_made():
    short = letter_contact(MONDAY, D(2026, 11, 25))  # 2 business days: mail needs 3 + 2
    [due] = calls([short], MONDAY)
    assert (due.rule_id, due.due, due.status) == ("LTR-CALL", MONDAY, Status.DUE)
    [late] = calls([short], D(2026, 11, 24))
    assert late.status == Status.OVERDUE and late.days_overdue == 1
    voicemail = Contact("C1", MONDAY, "Voicemail", False)
    assert calls([short, voicemail], MONDAY)[0].status == Status.DUE  # does not count
    phoned = Contact("C1", MONDAY, "Phone", False)
    [met] = calls([short, phoned], MONDAY)
    assert met.status == Status.MET and met.met_on == MONDAY
    assert calls([short], D(2026, 11, 30)) == []  # the reply-by has passed
    assert calls([letter_contact(MONDAY, D(2026, 12, 7))], MONDAY) == []  # long enough
