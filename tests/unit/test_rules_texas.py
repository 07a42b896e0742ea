"""Texas Choices and SNAP E&T rules (domain.md 1A; S0), on the real Texas office calendar.

Texas closes on Thu 2026-01-01, Mon 2026-01-19 (MLK; Confederate Memorial Day),
Wed 2026-11-11 (Veterans Day), Thu/Fri 2026-11-26/27; skeleton-crew days stay open.
"""

from __future__ import annotations

import pytest
from rulekit import (
    D,
    Program,
    Status,
    absent,
    client,
    contact,
    evaluate,
    for_month,
    hours,
    one,
    periods_of,
    service,
    text,
)

CHOICES = Program.TX_CHOICES
SNAP = Program.TX_SNAP_ET
YOUTH = Program.TX_WIOA_YOUTH
HOUSTON = "Houston"


def eligibility(day):
    return service("Eligibility check", day)


# ---------------------------------------------------------------- T-03 SNAP E&T outreach

POOL = D(2026, 3, 2)  # Mon; + 10 calendar days = Thu 2026-03-12


def test_T03_outreach_letter_within_ten_days_of_appearing_in_the_pool():
    obs = evaluate(
        client(SNAP, POOL),
        contact(D(2026, 3, 5), "Letter", successful=False, purpose="Outreach"),
        as_of=D(2026, 3, 6),
    )
    o = one(obs, "T-03")
    assert (o.trigger, o.due, o.status, o.met_on) == (
        POOL,
        D(2026, 3, 12),
        Status.MET,
        D(2026, 3, 5),
    )
    assert text(o, HOUSTON) == (
        "T-03 (Texas Workforce Solutions Program Tracking Specialist Job Description; TWC SNAP E&T "
        "Guide A-103.d): outreach within 10 days of appearing in "
        "the outreach pool; trigger Mon 2026-03-02; due Thu 2026-03-12. Met on Thu 2026-03-05."
    )


@pytest.mark.parametrize(
    "row",
    [
        contact(D(2026, 3, 4), "Letter", successful=False, purpose="Appointment notice"),
        contact(D(2026, 3, 4), "E-mail", successful=False, purpose="Outreach"),
        contact(D(2026, 3, 4), "Phone", successful=True),
        contact(D(2026, 3, 4), "In person", successful=True, purpose="Other"),
    ],
    ids=["appointment notice letter", "outreach e-mail", "successful call", "office visit"],
)
def test_T03_met_by_an_outreach_contact_or_by_reaching_the_client(row):
    assert one(evaluate(client(SNAP, POOL), row, as_of=D(2026, 3, 6)), "T-03").status == Status.MET


def test_T03_other_letters_failed_calls_voicemails_and_earlier_contacts_do_not_count():
    obs = evaluate(
        client(SNAP, POOL),
        contact(D(2026, 3, 3), "Letter", successful=False, purpose="Other"),
        contact(D(2026, 3, 3), "Phone", successful=False),
        contact(D(2026, 3, 4), "Voicemail", successful=False, purpose="Outreach"),
        contact(D(2026, 2, 27), "Letter", successful=False, purpose="Outreach"),
        as_of=D(2026, 3, 16),
    )
    o = one(obs, "T-03")
    assert (o.status, o.days_overdue) == (Status.OVERDUE, 4)
    assert text(o, HOUSTON).endswith("due Thu 2026-03-12. Not done: 4 days overdue.")


def test_T03_met_late_says_how_many_days_late():
    obs = evaluate(
        client(SNAP, POOL),
        contact(D(2026, 3, 16), "Letter", successful=False, purpose="Outreach"),
        as_of=D(2026, 3, 17),
    )
    o = one(obs, "T-03")
    assert (o.status, o.met_on) == (Status.MET, D(2026, 3, 16))
    assert text(o, HOUSTON).endswith("Met late on Mon 2026-03-16 (4 days late).")


def test_T03_due_six_days_ahead_is_DUE_and_five_days_ahead_is_DUE_SOON():
    assert one(evaluate(client(SNAP, POOL), as_of=D(2026, 3, 6)), "T-03").status == Status.DUE
    assert one(evaluate(client(SNAP, POOL), as_of=D(2026, 3, 7)), "T-03").status == Status.DUE_SOON


def test_T03_days_setting_changes_the_clock():
    settings = {"T-03 days": 5}
    o = one(evaluate(client(SNAP, POOL), as_of=D(2026, 3, 3), settings=settings), "T-03")
    assert o.due == D(2026, 3, 7)
    assert "outreach within 5 days" in text(o, HOUSTON, settings)


def test_T03_is_snap_et_only_and_not_applicable_when_closed():
    assert absent(evaluate(client(CHOICES, POOL), as_of=D(2026, 3, 6)), "T-03")
    assert absent(evaluate(client(YOUTH, POOL), as_of=D(2026, 3, 6)), "T-03")
    o = one(evaluate(client(SNAP, POOL, closure_date=D(2026, 3, 4)), as_of=D(2026, 3, 6)), "T-03")
    assert (o.status, o.reason) == (Status.NA, "case closed on 2026-03-04")


# ---------------------------------------------------------------- T-04 monthly eligibility

TX_OLD = D(2025, 11, 3)
DEC, JAN = D(2025, 12, 1), D(2026, 1, 1)  # T-04 lists January and the missed December


def test_T04_due_by_the_third_business_day_skipping_new_years_day():
    o = for_month(evaluate(client(CHOICES, TX_OLD), as_of=D(2026, 1, 2)), "T-04", JAN)
    assert (o.due, o.status, o.period_start) == (D(2026, 1, 6), Status.DUE_SOON, D(2026, 1, 1))
    assert o.due == D(2026, 1, 6)  # Fri 2, Mon 5, Tue 6


def test_T04_explanation_names_the_holiday_that_pushed_the_third_business_day():
    o = for_month(evaluate(client(CHOICES, TX_OLD), as_of=D(2026, 1, 2)), "T-04", JAN)
    assert text(o, HOUSTON) == (
        "T-04 (Texas Workforce Solutions Program Tracking Specialist Job Description): eligibility "
        "verified by business day 3 of January 2026; "
        "Thu 2026-01-01 is New Year's Day; due Tue 2026-01-06. So far: 0 found."
    )


@pytest.mark.parametrize(("n", "due"), [(1, D(2026, 1, 2)), (3, D(2026, 1, 6)), (5, D(2026, 1, 8))])
def test_T04_business_day_setting_picks_the_nth_business_day_of_the_month(n, due):
    settings = {"T-04 business day": n}
    obs = evaluate(client(CHOICES, TX_OLD), as_of=D(2026, 1, 2), settings=settings)
    assert for_month(obs, "T-04", JAN).due == due


def test_T04_tenth_business_day_skips_veterans_day_and_shows_DUE_then_DUE_SOON():
    settings = {"T-04 business day": 10}
    nov = D(2026, 11, 1)
    six = for_month(
        evaluate(client(CHOICES, TX_OLD), as_of=D(2026, 11, 10), settings=settings), "T-04", nov
    )
    five = for_month(
        evaluate(client(CHOICES, TX_OLD), as_of=D(2026, 11, 11), settings=settings), "T-04", nov
    )
    assert (six.due, six.status, five.status) == (D(2026, 11, 16), Status.DUE, Status.DUE_SOON)


def test_T04_met_on_time_met_late_and_overdue():
    on_time = for_month(
        evaluate(client(CHOICES, TX_OLD), eligibility(D(2026, 1, 5)), as_of=D(2026, 1, 9)),
        "T-04",
        JAN,
    )
    assert (on_time.status, on_time.met_on) == (Status.MET, D(2026, 1, 5))
    late = for_month(
        evaluate(client(CHOICES, TX_OLD), eligibility(D(2026, 1, 8)), as_of=D(2026, 1, 9)),
        "T-04",
        JAN,
    )
    assert (late.status, late.met_on) == (Status.MET, D(2026, 1, 8))
    assert text(late, HOUSTON).endswith("Met late on Thu 2026-01-08 (2 days late).")
    obs = evaluate(client(CHOICES, TX_OLD), eligibility(D(2025, 12, 30)), as_of=D(2026, 1, 9))
    missing = for_month(obs, "T-04", JAN)
    assert (missing.status, missing.days_overdue, missing.found) == (Status.OVERDUE, 3, 0)
    december = for_month(obs, "T-04", DEC)  # the Dec 30 check was December's, 27 days late
    assert (december.status, december.met_on) == (Status.MET, D(2025, 12, 30))
    assert text(december, HOUSTON).endswith("(27 days late).")


def test_T04_applies_to_snap_et_too_but_not_in_the_referral_month_nor_to_youth():
    assert for_month(evaluate(client(SNAP, TX_OLD), as_of=D(2026, 1, 2)), "T-04", JAN)
    assert absent(evaluate(client(CHOICES, D(2026, 1, 2)), as_of=D(2026, 1, 2)), "T-04")
    referred_in_december = evaluate(client(CHOICES, D(2025, 12, 1)), as_of=D(2026, 1, 2))
    assert periods_of(referred_in_december, "T-04") == [JAN]
    assert absent(evaluate(client(YOUTH, TX_OLD), as_of=D(2026, 1, 2)), "T-04")


def test_T04_a_missed_previous_month_is_OVERDUE_from_its_own_third_business_day():
    obs = evaluate(client(CHOICES, TX_OLD), eligibility(D(2026, 1, 5)), as_of=D(2026, 1, 9))
    assert periods_of(obs, "T-04") == [DEC, JAN]
    dec = for_month(obs, "T-04", DEC)
    # Mon Dec 1, Tue 2, Wed 3: due Wed 2025-12-03, 37 days before Fri 2026-01-09.
    assert (dec.trigger, dec.period_end, dec.due, dec.status, dec.days_overdue) == (
        DEC,
        D(2025, 12, 31),
        D(2025, 12, 3),
        Status.OVERDUE,
        37,
    )
    assert text(dec, HOUSTON) == (
        "T-04 (Texas Workforce Solutions Program Tracking Specialist Job Description): eligibility "
        "verified by business day 3 of December 2025; "
        "due Wed 2025-12-03. So far: 0 found. Not done: 37 days overdue."
    )
    assert for_month(obs, "T-04", JAN).status == Status.MET


def test_T04_missed_months_shown_zero_lists_only_the_current_month_and_weeks_are_unaffected():
    settings = {"Missed months shown": 0}
    obs = evaluate(client(CHOICES, TX_OLD), as_of=D(2026, 1, 9), settings=settings)
    assert periods_of(obs, "T-04") == [JAN]
    assert periods_of(obs, "T-05") == [D(2025, 12, 29)]  # last week only, whatever the setting
    two = {"Missed months shown": 2}
    obs = evaluate(client(CHOICES, D(2025, 10, 1)), as_of=D(2026, 1, 9), settings=two)
    assert periods_of(obs, "T-04") == [D(2025, 11, 1), DEC, JAN]
    assert for_month(obs, "T-04", D(2025, 11, 1)).days_overdue == 65  # due Wed 2025-11-05
    # Referred Nov 3: November is the referral month and is never listed.
    obs = evaluate(client(CHOICES, TX_OLD), as_of=D(2026, 1, 9), settings=two)
    assert periods_of(obs, "T-04") == [DEC, JAN]


def test_T04_not_applicable_when_the_case_is_closed():
    o = one(
        evaluate(client(CHOICES, TX_OLD, closure_date=D(2025, 12, 31)), as_of=D(2026, 1, 2)), "T-04"
    )
    assert (o.status, o.reason) == (Status.NA, "case closed on 2025-12-31")


# ---------------------------------------------------------------- T-05 weekly hours

WEEK = D(2026, 11, 9)  # Mon; the week is Nov 9-15, due Mon Nov 16
WED = D(2026, 11, 18)


def test_T05_last_weeks_hours_entered_by_the_first_business_day_after_the_week():
    o = one(evaluate(client(CHOICES, TX_OLD), hours(WEEK, D(2026, 11, 16)), as_of=WED), "T-05")
    assert (o.status, o.met_on, o.due) == (Status.MET, D(2026, 11, 16), D(2026, 11, 16))
    assert (o.period_start, o.period_end) == (WEEK, D(2026, 11, 15))
    assert text(o, HOUSTON) == (
        "T-05 (Texas Workforce Solutions Program Tracking Specialist Job Description): hours for "
        "the week of 2026-11-09 entered by the first business day after "
        "the week; due Mon 2026-11-16. Met on Mon 2026-11-16."
    )


def test_T05_met_late_overdue_and_other_weeks_do_not_count():
    late = one(evaluate(client(CHOICES, TX_OLD), hours(WEEK, D(2026, 11, 17)), as_of=WED), "T-05")
    assert (late.status, late.met_on) == (Status.MET, D(2026, 11, 17))
    assert text(late, HOUSTON).endswith("Met late on Tue 2026-11-17 (1 day late).")
    missing = one(
        evaluate(
            client(CHOICES, TX_OLD),
            hours(D(2026, 11, 2), D(2026, 11, 9)),
            hours(D(2026, 11, 16), D(2026, 11, 17)),
            hours(WEEK, D(2026, 11, 19)),  # entered after as-of
            as_of=WED,
        ),
        "T-05",
    )
    assert (missing.status, missing.days_overdue, missing.found) == (Status.OVERDUE, 2, 0)
    assert text(missing, HOUSTON).endswith("So far: 0 found. Not done: 2 days overdue.")


def test_T05_a_monday_holiday_moves_the_deadline_to_tuesday_and_is_named():
    o = one(evaluate(client(CHOICES, TX_OLD), as_of=D(2026, 1, 20)), "T-05")
    assert (o.period_start, o.due, o.status) == (D(2026, 1, 12), D(2026, 1, 20), Status.DUE_SOON)
    explanation = text(o, HOUSTON)
    assert "Mon 2026-01-19 is Martin Luther King Jr. Day; Confederate Memorial Day" in explanation
    assert "due Tue 2026-01-20" in explanation


def test_T05_due_soon_on_the_monday_itself():
    o = one(evaluate(client(CHOICES, TX_OLD), as_of=D(2026, 11, 16)), "T-05")
    assert (o.status, o.due, o.period_start) == (Status.DUE_SOON, D(2026, 11, 16), WEEK)


def test_T05_hours_without_an_entered_date_count_from_their_week_start():
    o = one(evaluate(client(SNAP, TX_OLD), hours(WEEK, None), as_of=WED), "T-05")
    assert (o.status, o.met_on) == (Status.MET, WEEK)


def test_T05_not_listed_when_referred_during_or_after_the_week_reported_on():
    assert absent(evaluate(client(CHOICES, D(2026, 11, 10)), as_of=WED), "T-05")
    assert absent(evaluate(client(CHOICES, WEEK), as_of=WED), "T-05")
    assert one(evaluate(client(CHOICES, D(2026, 11, 8)), as_of=WED), "T-05")
    assert absent(evaluate(client(YOUTH, TX_OLD), as_of=WED), "T-05")


def test_T05_not_applicable_when_the_case_is_closed():
    o = one(evaluate(client(SNAP, TX_OLD, closure_date=D(2026, 11, 13)), as_of=WED), "T-05")
    assert (o.status, o.reason) == (Status.NA, "case closed on 2026-11-13")


# ---------------------------------------------------------------- T-15 activity monthly

LAST = D(2026, 1, 31)  # Sat


def test_T15_more_than_one_calendar_month_without_activity_is_overdue():
    obs = evaluate(client(CHOICES, TX_OLD), contact(LAST, "Phone"), as_of=D(2026, 3, 1))
    o = one(obs, "T-15")
    assert (o.trigger, o.due, o.status, o.days_overdue) == (LAST, D(2026, 2, 28), Status.OVERDUE, 1)
    assert text(o, HOUSTON) == (
        "T-15 (Texas Workforce Solutions Program Tracking Specialist Job Description): activity "
        "recorded within one month of Sat 2026-01-31; due Sat 2026-02-28. "
        "Not done: 1 day overdue."
    )


def test_T15_thirty_days_setting_gives_march_2_instead_of_february_28():
    settings = {"T-15 mode": "30 days"}
    obs = evaluate(
        client(CHOICES, TX_OLD), contact(LAST, "Phone"), as_of=D(2026, 3, 1), settings=settings
    )
    o = one(obs, "T-15")
    assert (o.due, o.status) == (D(2026, 3, 2), Status.DUE_SOON)


def test_T15_logged_hours_count_as_activity_and_the_latest_activity_wins():
    obs = evaluate(
        client(CHOICES, TX_OLD),
        contact(LAST, "Phone"),
        hours(D(2026, 2, 2), D(2026, 2, 9)),
        as_of=D(2026, 3, 1),
    )
    o = one(obs, "T-15")
    assert (o.trigger, o.due, o.status) == (D(2026, 2, 2), D(2026, 3, 2), Status.DUE_SOON)


def test_T15_failed_and_future_contacts_are_not_activity_and_the_referral_is_the_fallback():
    obs = evaluate(
        client(CHOICES, D(2026, 1, 15)),
        contact(D(2026, 2, 10), "Phone", successful=False),
        contact(D(2026, 3, 5), "Phone"),
        as_of=D(2026, 3, 1),
    )
    o = one(obs, "T-15")
    assert (o.trigger, o.due, o.status, o.days_overdue) == (
        D(2026, 1, 15),
        D(2026, 2, 15),
        Status.OVERDUE,
        14,
    )


def test_T15_due_six_days_ahead_is_DUE_and_five_days_ahead_is_DUE_SOON():
    rows = (contact(LAST, "Phone"),)
    assert (
        one(evaluate(client(CHOICES, TX_OLD), *rows, as_of=D(2026, 2, 22)), "T-15").status
        == Status.DUE
    )
    five = one(evaluate(client(CHOICES, TX_OLD), *rows, as_of=D(2026, 2, 23)), "T-15")
    assert five.status == Status.DUE_SOON


def test_T15_is_choices_only_and_not_applicable_when_closed():
    assert absent(evaluate(client(SNAP, TX_OLD), as_of=D(2026, 3, 1)), "T-15")
    o = one(
        evaluate(client(CHOICES, TX_OLD, closure_date=D(2026, 2, 1)), as_of=D(2026, 3, 1)), "T-15"
    )
    assert (o.status, o.reason) == (Status.NA, "case closed on 2026-02-01")
