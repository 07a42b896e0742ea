"""Oregon JOBS engagement rules O-06 and O-07 (domain.md 1C; S4), on the Oregon calendar.

Oregon closes Thu 2026-11-26 (Thanksgiving) and Fri 2026-11-27 (day after Thanksgiving).
"""

from __future__ import annotations

import pytest
from rulekit import (
    Appointment,
    D,
    Program,
    Status,
    absent,
    client,
    contact,
    evaluate,
    no_show,
    of_rule,
    one,
    text,
)

JOBS = Program.OR_JOBS
PORTLAND = "Portland"
OPENED = D(2025, 12, 1)
MISSED = D(2026, 3, 3)  # Tue; + 1 business day = Wed 2026-03-04


def jobs(**fields):
    return client(JOBS, OPENED, **fields)


# ---------------------------------------------------------------- O-06 per missed activity


def test_O06_engagement_contact_within_one_business_day_of_a_missed_activity():
    o = one(evaluate(jobs(), no_show(MISSED), as_of=MISSED), "O-06")
    assert (o.trigger, o.due, o.status) == (MISSED, D(2026, 3, 4), Status.DUE_SOON)
    assert text(o, PORTLAND) == (
        "O-06 (Oregon SSP Transmittal: TANF Engagement and Re-engagement): engagement contact "
        "within 1 business day of the missed activity on "
        "Tue 2026-03-03; due Wed 2026-03-04."
    )


def test_O06_skips_thanksgiving_and_the_day_after_in_oregon_and_names_them():
    o = one(evaluate(jobs(), no_show(D(2026, 11, 25)), as_of=D(2026, 11, 25)), "O-06")
    assert (o.due, o.status) == (D(2026, 11, 30), Status.DUE_SOON)
    assert text(o, PORTLAND) == (
        "O-06 (Oregon SSP Transmittal: TANF Engagement and Re-engagement): engagement contact "
        "within 1 business day of the missed activity on "
        "Wed 2026-11-25; Thu 2026-11-26 is Thanksgiving Day; Fri 2026-11-27 is Day after "
        "Thanksgiving; due Mon 2026-11-30."
    )


@pytest.mark.parametrize(
    ("method", "successful"),
    [
        ("Postcard", False),
        ("Phone", False),
        ("Home visit", False),
        ("Letter", False),
        ("E-mail", True),
    ],
)
def test_O06_any_engagement_attempt_meets_it_even_an_unanswered_one(method, successful):
    obs = evaluate(
        jobs(), no_show(MISSED), contact(D(2026, 3, 4), method, successful), as_of=D(2026, 3, 5)
    )
    o = one(obs, "O-06")
    assert (o.status, o.met_on) == (Status.MET, D(2026, 3, 4))


def test_O06_a_voicemail_or_an_attempt_before_the_missed_activity_does_not_count():
    obs = evaluate(
        jobs(),
        no_show(MISSED),
        contact(D(2026, 3, 2), "Phone", successful=False),
        contact(D(2026, 3, 3), "Voicemail", successful=False),
        as_of=D(2026, 3, 9),
    )
    o = one(obs, "O-06")
    assert (o.status, o.days_overdue) == (Status.OVERDUE, 5)
    assert text(o, PORTLAND).endswith("due Wed 2026-03-04. Not done: 5 days overdue.")


def test_O06_met_late_says_how_many_days_late():
    obs = evaluate(
        jobs(), no_show(MISSED), contact(D(2026, 3, 6), "Postcard", False), as_of=D(2026, 3, 9)
    )
    o = one(obs, "O-06")
    assert (o.status, o.met_on) == (Status.MET, D(2026, 3, 6))
    assert text(o, PORTLAND).endswith("Met late on Fri 2026-03-06 (2 days late).")


def test_O06_no_obligation_when_the_client_called_ahead_or_the_appointment_was_kept():
    rows = (
        no_show(MISSED, called_ahead=True),
        Appointment("C1", "Activity", D(2026, 3, 4), "Kept"),
        Appointment("C1", "Activity", D(2026, 3, 5), "Rescheduled"),
        Appointment("C1", "Activity", D(2026, 3, 6), "Cancelled"),
        Appointment("C1", "Activity", D(2026, 3, 9), "Scheduled"),
    )
    assert absent(evaluate(jobs(), *rows, as_of=D(2026, 3, 10)), "O-06")


def test_O06_each_missed_activity_starts_its_own_deadline():
    obs = evaluate(
        jobs(),
        no_show(MISSED),
        no_show(D(2026, 4, 14)),
        contact(D(2026, 3, 4), "Phone", successful=False),
        as_of=D(2026, 4, 14),
    )
    assert [(o.trigger, o.status, o.due) for o in of_rule(obs, "O-06")] == [
        (MISSED, Status.MET, D(2026, 3, 4)),
        (D(2026, 4, 14), Status.DUE_SOON, D(2026, 4, 15)),
    ]


def test_O06_a_missed_activity_dated_after_as_of_is_not_listed_yet():
    assert absent(evaluate(jobs(), no_show(D(2026, 3, 10)), as_of=D(2026, 3, 9)), "O-06")


def test_O06_an_answered_miss_drops_off_after_the_60_day_lookback_and_its_setting():
    rows = (no_show(MISSED), contact(D(2026, 3, 4), "Postcard", False))
    sixty = one(evaluate(jobs(), *rows, as_of=D(2026, 5, 2)), "O-06")  # 60 days on: still listed
    assert (sixty.trigger, sixty.status, sixty.met_on) == (MISSED, Status.MET, D(2026, 3, 4))
    assert absent(evaluate(jobs(), *rows, as_of=D(2026, 5, 3)), "O-06")  # 61 days: history
    settings = {"Per-event lookback days": 90}
    assert one(evaluate(jobs(), *rows, as_of=D(2026, 5, 3), settings=settings), "O-06")


def test_O06_an_unanswered_miss_stays_listed_however_old_while_an_answered_one_drops_off():
    # Two clients (an attempt answers every earlier miss of its own case, however late).
    unanswered = D(2026, 1, 2)  # Fri, 120 days before May 2; Mon Jan 5 is the next business day
    answered = D(2026, 3, 2)  # Mon, 61 days before May 2, answered the same day
    obs = evaluate(
        [jobs(), client(JOBS, OPENED, case_id="C2")],
        no_show(unanswered),
        no_show(answered, case_id="C2"),
        contact(answered, "Phone", successful=False, case_id="C2"),
        as_of=D(2026, 5, 2),
    )
    o = one(obs, "O-06")
    assert (o.case_id, o.trigger, o.due, o.status, o.days_overdue) == (
        "C1",
        unanswered,
        D(2026, 1, 5),
        Status.OVERDUE,
        117,
    )
    assert text(o, PORTLAND).endswith("due Mon 2026-01-05. Not done: 117 days overdue.")
    # The day before, the answered miss was 60 days old and still listed, MET.
    obs = evaluate(
        client(JOBS, OPENED, case_id="C2"),
        no_show(answered, case_id="C2"),
        contact(answered, "Phone", successful=False, case_id="C2"),
        as_of=D(2026, 5, 1),
    )
    assert one(obs, "O-06").status == Status.MET


def test_O06_not_applicable_when_the_case_is_closed_and_not_listed_for_other_programs():
    o = one(
        evaluate(jobs(closure_date=D(2026, 3, 4)), no_show(MISSED), as_of=D(2026, 3, 5)), "O-06"
    )
    assert (o.status, o.reason, o.trigger) == (Status.NA, "case closed on 2026-03-04", None)
    alaska = client(Program.ATAP_WORK_FIRST, OPENED)
    assert absent(evaluate(alaska, no_show(MISSED), as_of=D(2026, 3, 5)), "O-06")


# ---------------------------------------------------------------- O-07 pattern of noncooperation

SECOND = D(2026, 3, 26)  # Thu; 23 days after MISSED; + 5 business days = Thu 2026-04-02


def test_O07_two_missed_activities_within_30_days_start_a_five_business_day_clock():
    obs = evaluate(jobs(), no_show(MISSED), no_show(SECOND), as_of=SECOND)
    o = one(obs, "O-07")
    assert (o.trigger, o.due, o.status) == (SECOND, D(2026, 4, 2), Status.DUE)
    assert text(o, PORTLAND) == (
        "O-07 (Oregon SSP Transmittal: TANF Engagement and Re-engagement): contact within 5 "
        "business days of the pattern of missed activities "
        "(2 within 30 days, the last on Thu 2026-03-26); due Thu 2026-04-02."
    )


def test_O07_a_single_missed_activity_is_not_a_pattern():
    assert absent(evaluate(jobs(), no_show(SECOND), as_of=SECOND), "O-07")


@pytest.mark.parametrize(("apart", "pattern"), [(29, True), (30, False), (31, False)])
def test_O07_the_two_missed_activities_must_fall_within_a_30_day_window(apart, pattern):
    from datetime import timedelta

    second = MISSED + timedelta(days=apart)
    obs = evaluate(jobs(), no_show(MISSED), no_show(second), as_of=second)
    assert bool(of_rule(obs, "O-07")) is pattern


def test_O07_a_missed_activity_with_a_call_ahead_does_not_count_toward_the_pattern():
    obs = evaluate(jobs(), no_show(MISSED, called_ahead=True), no_show(SECOND), as_of=SECOND)
    assert absent(obs, "O-07")


def test_O07_count_and_window_settings_change_what_a_pattern_is():
    third = D(2026, 4, 20)
    rows = (no_show(MISSED), no_show(SECOND), no_show(third))
    obs = evaluate(jobs(), *rows, as_of=third, settings={"O-07 missed count": 3})
    assert [o.trigger for o in of_rule(obs, "O-07")] == []  # Mar 3 and Apr 20 are 48 days apart
    obs = evaluate(
        jobs(), *rows, as_of=third, settings={"O-07 missed count": 3, "O-07 window days": 60}
    )
    assert [o.trigger for o in of_rule(obs, "O-07")] == [third]
    obs = evaluate(jobs(), *rows, as_of=third)
    assert [o.trigger for o in of_rule(obs, "O-07")] == [SECOND, third]


def test_O07_met_by_an_attempt_after_the_last_missed_activity_and_overdue_otherwise():
    met = one(
        evaluate(
            jobs(),
            no_show(MISSED),
            no_show(SECOND),
            contact(D(2026, 3, 4), "Phone", successful=False),  # answers O-06 only
            contact(D(2026, 3, 31), "Home visit", successful=False),
            as_of=D(2026, 4, 6),
        ),
        "O-07",
    )
    assert (met.status, met.met_on) == (Status.MET, D(2026, 3, 31))
    overdue = one(
        evaluate(
            jobs(),
            no_show(MISSED),
            no_show(SECOND),
            contact(D(2026, 3, 4), "Phone", successful=False),
            as_of=D(2026, 4, 6),
        ),
        "O-07",
    )
    assert (overdue.status, overdue.days_overdue) == (Status.OVERDUE, 4)
    late = one(
        evaluate(
            jobs(),
            no_show(MISSED),
            no_show(SECOND),
            contact(D(2026, 4, 3), "Letter", successful=False),
            as_of=D(2026, 4, 6),
        ),
        "O-07",
    )
    assert text(late, PORTLAND).endswith("Met late on Fri 2026-04-03 (1 day late).")


def test_O07_due_six_days_ahead_is_DUE_and_five_days_ahead_is_DUE_SOON():
    rows = (no_show(MISSED), no_show(SECOND))
    assert one(evaluate(jobs(), *rows, as_of=D(2026, 3, 27)), "O-07").status == Status.DUE
    assert one(evaluate(jobs(), *rows, as_of=D(2026, 3, 28)), "O-07").status == Status.DUE_SOON


def test_O07_five_business_days_skip_thanksgiving_and_the_day_after():
    rows = (no_show(D(2026, 11, 2)), no_show(D(2026, 11, 23)))
    o = one(evaluate(jobs(), *rows, as_of=D(2026, 11, 23)), "O-07")
    assert o.due == D(2026, 12, 2)


def test_O07_per_event_lookback_applies_to_the_pattern_date_not_the_first_miss():
    rows = (
        no_show(MISSED),
        no_show(SECOND),
        contact(D(2026, 3, 4), "Phone", successful=False),  # answers the first miss
        contact(D(2026, 3, 27), "Letter", successful=False),  # answers the second and the pattern
    )
    # Mar 3 is 61 days before May 3 but the pattern completed on Mar 26: still listed.
    obs = evaluate(jobs(), *rows, as_of=D(2026, 5, 3))
    assert [(o.trigger, o.status) for o in of_rule(obs, "O-07")] == [(SECOND, Status.MET)]
    assert [o.trigger for o in of_rule(obs, "O-06")] == [SECOND]
    # 61 days after the pattern date the answered pattern is history too.
    assert of_rule(evaluate(jobs(), *rows, as_of=D(2026, 5, 25)), "O-07")
    assert absent(evaluate(jobs(), *rows, as_of=D(2026, 5, 26)), "O-07")


def test_O07_an_unanswered_pattern_stays_listed_past_the_lookback():
    rows = (no_show(MISSED), no_show(SECOND))
    obs = evaluate(jobs(), *rows, as_of=D(2026, 7, 24))  # 120 days after the pattern date
    o = one(obs, "O-07")
    assert (o.trigger, o.due, o.status, o.days_overdue) == (
        SECOND,
        D(2026, 4, 2),
        Status.OVERDUE,
        113,
    )
    assert [o.trigger for o in of_rule(obs, "O-06")] == [MISSED, SECOND]  # both unanswered


def test_O07_not_applicable_when_the_case_is_closed():
    rows = (no_show(MISSED), no_show(SECOND))
    o = one(evaluate(jobs(closure_date=D(2026, 3, 27)), *rows, as_of=D(2026, 3, 28)), "O-07")
    assert (o.status, o.reason) == (Status.NA, "case closed on 2026-03-27")
