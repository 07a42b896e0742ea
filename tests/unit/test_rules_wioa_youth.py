"""Texas WIOA Youth rules Y-02..Y-09 and Selective Service T-14 (domain.md 1A, 1D; S3).

Youth are served from the Houston branch (Texas calendar).
"""

from __future__ import annotations

import re

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
    one,
    periods_of,
    service,
    text,
)

YOUTH = Program.TX_WIOA_YOUTH
CHOICES = Program.TX_CHOICES
HOUSTON = "Houston"
ENROLLED = D(2026, 1, 5)


def youth(**fields):
    return client(YOUTH, ENROLLED, **fields)


def qualifying(name, day, **kw):
    return service(name, day, qualifying=True, **kw)


def gap(start, days, reason="Delay before training"):
    from datetime import timedelta

    return service(
        "Planned gap (11)", start, end_date=start + timedelta(days=days), gap_reason=reason
    )


def readable(reason: str) -> bool:
    """An N/A reason reads as English: no "no a ..." / "no the ..."."""
    return not re.match(r"no (a|an|the) ", reason)


# ---------------------------------------------------------------- Y-02 ISS after the COA

COA = D(2026, 2, 2)  # Mon; + 30 days = Wed 2026-03-04


def test_Y02_ISS_within_thirty_days_of_the_COA():
    obs = evaluate(
        youth(),
        qualifying("COA (08)", COA),
        qualifying("ISS (68)", D(2026, 2, 20)),
        as_of=D(2026, 2, 25),
    )
    o = one(obs, "Y-02")
    assert (o.trigger, o.due, o.status, o.met_on) == (
        COA,
        D(2026, 3, 4),
        Status.MET,
        D(2026, 2, 20),
    )
    assert text(o, HOUSTON) == (
        "Y-02 (Texas Workforce Solutions Youth Case Management Procedure): ISS within 30 days of "
        "the COA; trigger Mon 2026-02-02; due Wed 2026-03-04. "
        "Met on Fri 2026-02-20."
    )


def test_Y02_met_late_and_overdue():
    late = one(
        evaluate(
            youth(),
            qualifying("COA (08)", COA),
            qualifying("ISS (68)", D(2026, 3, 6)),
            as_of=D(2026, 3, 9),
        ),
        "Y-02",
    )
    assert text(late, HOUSTON).endswith("Met late on Fri 2026-03-06 (2 days late).")
    missing = one(evaluate(youth(), qualifying("COA (08)", COA), as_of=D(2026, 3, 9)), "Y-02")
    assert (missing.status, missing.days_overdue) == (Status.OVERDUE, 5)


def test_Y02_the_first_COA_is_the_trigger_and_an_ISS_before_it_does_not_count():
    obs = evaluate(
        youth(),
        qualifying("ISS (68)", D(2026, 1, 20)),
        qualifying("COA (08)", D(2026, 2, 16)),
        qualifying("COA (08)", COA),
        as_of=D(2026, 2, 20),
    )
    o = one(obs, "Y-02")
    assert (o.trigger, o.status) == (COA, Status.DUE)


def test_Y02_due_six_days_ahead_is_DUE_and_five_days_ahead_is_DUE_SOON_and_the_days_setting():
    rows = (qualifying("COA (08)", COA),)
    assert one(evaluate(youth(), *rows, as_of=D(2026, 2, 26)), "Y-02").status == Status.DUE
    assert one(evaluate(youth(), *rows, as_of=D(2026, 2, 27)), "Y-02").status == Status.DUE_SOON
    o = one(evaluate(youth(), *rows, as_of=D(2026, 2, 3), settings={"Y-02 days": 14}), "Y-02")
    assert o.due == D(2026, 2, 16)


def test_Y02_not_applicable_before_the_COA_and_when_closed():
    o = one(evaluate(youth(), qualifying("COA (08)", D(2026, 3, 1)), as_of=D(2026, 2, 20)), "Y-02")
    assert (o.status, o.reason) == (Status.NA, "no trigger date yet")
    closed = one(
        evaluate(
            youth(closure_date=D(2026, 2, 10)), qualifying("COA (08)", COA), as_of=D(2026, 2, 20)
        ),
        "Y-02",
    )
    assert (closed.status, closed.reason) == (Status.NA, "case closed on 2026-02-10")


def test_Y02_is_not_listed_for_other_programs():
    assert absent(evaluate(client(CHOICES, ENROLLED), as_of=D(2026, 2, 20)), "Y-02")


# ---------------------------------------------------------------- Y-03 ISS review quarterly

ISS = D(2026, 2, 20)  # Fri; + 3 months = Wed 2026-05-20


def test_Y03_ISS_review_within_three_months_of_the_ISS():
    o = one(evaluate(youth(), qualifying("ISS (68)", ISS), as_of=D(2026, 5, 25)), "Y-03")
    assert (o.trigger, o.due, o.status, o.days_overdue) == (ISS, D(2026, 5, 20), Status.OVERDUE, 5)
    assert text(o, HOUSTON) == (
        "Y-03 (Texas Workforce Solutions Youth Case Management Procedure): ISS review within 3 "
        "months of Fri 2026-02-20; due Wed 2026-05-20. "
        "Not done: 5 days overdue."
    )


def test_Y03_each_ISS_review_restarts_the_clock():
    obs = evaluate(
        youth(),
        qualifying("ISS (68)", ISS),
        service("ISS review", D(2026, 4, 30)),
        as_of=D(2026, 5, 25),
    )
    o = one(obs, "Y-03")
    assert (o.trigger, o.due, o.status) == (D(2026, 4, 30), D(2026, 7, 30), Status.DUE)


def test_Y03_calendar_quarter_setting_is_due_at_the_end_of_the_next_quarter():
    settings = {"Y-03 mode": "calendar quarter"}
    o = one(
        evaluate(youth(), qualifying("ISS (68)", ISS), as_of=D(2026, 5, 25), settings=settings),
        "Y-03",
    )
    assert (o.due, o.status) == (D(2026, 6, 30), Status.DUE)


def test_Y03_due_six_days_ahead_is_DUE_and_five_days_ahead_is_DUE_SOON():
    rows = (qualifying("ISS (68)", ISS),)
    assert one(evaluate(youth(), *rows, as_of=D(2026, 5, 14)), "Y-03").status == Status.DUE
    assert one(evaluate(youth(), *rows, as_of=D(2026, 5, 15)), "Y-03").status == Status.DUE_SOON


def test_Y03_not_applicable_before_any_ISS_with_a_readable_reason():
    o = one(evaluate(youth(), as_of=D(2026, 2, 1)), "Y-03")
    assert o.status == Status.NA
    assert "ISS review" in o.reason
    assert readable(o.reason), o.reason
    assert "(no date)" not in text(o, HOUSTON)


def test_Y03_not_applicable_when_closed():
    o = one(
        evaluate(
            youth(closure_date=D(2026, 3, 1)), qualifying("ISS (68)", ISS), as_of=D(2026, 3, 5)
        ),
        "Y-03",
    )
    assert (o.status, o.reason) == (Status.NA, "case closed on 2026-03-01")


# ---------------------------------------------------------------- Y-04 in-person quality contact


FEB, MAR = D(2026, 2, 1), D(2026, 3, 1)  # Y-04 lists March and the missed February


def test_Y04_one_in_person_quality_contact_a_month():
    obs = evaluate(youth(), contact(D(2026, 3, 4), "In person"), as_of=D(2026, 3, 10))
    o = for_month(obs, "Y-04", MAR)
    assert (o.status, o.met_on, o.due, o.found) == (Status.MET, D(2026, 3, 4), D(2026, 3, 31), 1)


@pytest.mark.parametrize("method", ["Home visit", "School visit"])
def test_Y04_home_and_school_visits_are_in_person(method):
    obs = evaluate(youth(), contact(D(2026, 3, 4), method), as_of=D(2026, 3, 10))
    assert for_month(obs, "Y-04", MAR).status == Status.MET


def test_Y04_letters_postcards_emails_texts_and_calls_never_count_even_if_answered():
    obs = evaluate(
        youth(),
        contact(D(2026, 3, 2), "Letter", successful=True),
        contact(D(2026, 3, 3), "Postcard", successful=True),
        contact(D(2026, 3, 4), "E-mail", successful=True),
        contact(D(2026, 3, 5), "Text", successful=True),
        contact(D(2026, 3, 6), "Phone", successful=True, meaningful=True),
        contact(D(2026, 3, 9), "In person", successful=False),
        as_of=D(2026, 3, 10),
    )
    o = for_month(obs, "Y-04", MAR)
    assert (o.status, o.found) == (Status.DUE, 0)
    assert text(o, HOUSTON) == (
        "Y-04 (Texas Workforce Solutions Youth Case Management Procedure): one in-person quality "
        "contact in March 2026; due Tue 2026-03-31. "
        "So far: 0 found."
    )


def test_Y04_due_soon_edge_and_not_in_the_referral_month():
    assert for_month(evaluate(youth(), as_of=D(2026, 3, 25)), "Y-04", MAR).status == Status.DUE
    six = for_month(evaluate(youth(), as_of=D(2026, 3, 26)), "Y-04", MAR)
    assert six.status == Status.DUE_SOON
    assert absent(evaluate(youth(), as_of=D(2026, 1, 20)), "Y-04")
    # Enrolled Jan 5: in February, January (the referral month) is not a missed month.
    assert periods_of(evaluate(youth(), as_of=D(2026, 2, 10)), "Y-04") == [FEB]


def test_Y04_a_missed_previous_month_is_OVERDUE_counted_from_its_month_end():
    obs = evaluate(
        youth(),
        contact(D(2026, 2, 10), "Phone", successful=True),  # a call never counts
        contact(D(2026, 3, 4), "In person"),
        as_of=D(2026, 3, 10),
    )
    assert periods_of(obs, "Y-04") == [FEB, MAR]
    feb = for_month(obs, "Y-04", FEB)
    assert (feb.trigger, feb.due, feb.status, feb.days_overdue, feb.found) == (
        FEB,
        D(2026, 2, 28),
        Status.OVERDUE,
        10,
        0,
    )
    assert text(feb, HOUSTON) == (
        "Y-04 (Texas Workforce Solutions Youth Case Management Procedure): one in-person quality "
        "contact in February 2026; due Sat 2026-02-28. "
        "So far: 0 found. Not done: 10 days overdue."
    )
    assert for_month(obs, "Y-04", MAR).status == Status.MET


def test_Y04_missed_months_shown_zero_lists_only_the_current_month():
    obs = evaluate(youth(), as_of=D(2026, 3, 10), settings={"Missed months shown": 0})
    assert periods_of(obs, "Y-04") == [MAR]
    one_month_ago = for_month(evaluate(youth(), as_of=D(2026, 3, 1)), "Y-04", FEB)
    assert (one_month_ago.status, one_month_ago.days_overdue) == (Status.OVERDUE, 1)
    assert text(one_month_ago, HOUSTON).endswith("Not done: 1 day overdue.")


def test_Y04_not_applicable_when_closed():
    o = one(evaluate(youth(closure_date=D(2026, 3, 2)), as_of=D(2026, 3, 10)), "Y-04")
    assert (o.status, o.reason) == (Status.NA, "case closed on 2026-03-02")


# ---------------------------------------------------------------- Y-05 activity within 30 days


def test_Y05_activity_within_thirty_days_of_the_last_contact():
    o = one(evaluate(youth(), contact(D(2026, 3, 2), "Phone"), as_of=D(2026, 3, 20)), "Y-05")
    assert (o.trigger, o.due, o.status) == (D(2026, 3, 2), D(2026, 4, 1), Status.DUE)
    assert text(o, HOUSTON) == (
        "Y-05 (Texas Workforce Solutions Youth Case Management Procedure): activity within 30 days "
        "of Mon 2026-03-02; after that the disengaged "
        "search starts; due Wed 2026-04-01."
    )


def test_Y05_a_qualifying_service_counts_but_a_non_qualifying_one_does_not():
    obs = evaluate(
        youth(),
        contact(D(2026, 3, 2), "Phone"),
        qualifying("Training", D(2026, 3, 10)),
        service("Supportive service", D(2026, 3, 15)),
        as_of=D(2026, 3, 20),
    )
    assert one(obs, "Y-05").due == D(2026, 4, 9)


def test_Y05_overdue_starts_the_disengaged_search_and_the_referral_is_the_fallback():
    o = one(evaluate(youth(), contact(D(2026, 3, 2), "Phone"), as_of=D(2026, 4, 3)), "Y-05")
    assert (o.status, o.days_overdue) == (Status.OVERDUE, 2)
    first = one(
        evaluate(youth(), contact(D(2026, 1, 10), "Phone", False), as_of=D(2026, 1, 20)), "Y-05"
    )
    assert (first.trigger, first.due) == (ENROLLED, D(2026, 2, 4))


def test_Y05_due_soon_edge_and_days_setting():
    rows = (contact(D(2026, 3, 2), "Phone"),)
    assert one(evaluate(youth(), *rows, as_of=D(2026, 3, 26)), "Y-05").status == Status.DUE
    assert one(evaluate(youth(), *rows, as_of=D(2026, 3, 27)), "Y-05").status == Status.DUE_SOON
    o = one(evaluate(youth(), *rows, as_of=D(2026, 3, 27), settings={"Y-05 days": 45}), "Y-05")
    assert o.due == D(2026, 4, 16)


def test_Y05_not_applicable_when_closed():
    o = one(evaluate(youth(closure_date=D(2026, 3, 2)), as_of=D(2026, 3, 10)), "Y-05")
    assert (o.status, o.reason) == (Status.NA, "case closed on 2026-03-02")


# ---------------------------------------------------------------- Y-08 exit after 90 days

LAST_SERVICE = D(2026, 3, 2)  # Mon; + 90 days = Sun 2026-05-31
AS_OF = D(2026, 6, 5)


def last_service():
    return qualifying("Training", LAST_SERVICE)


def test_Y08_exit_due_ninety_days_after_the_last_qualifying_service():
    o = one(evaluate(youth(), last_service(), as_of=AS_OF), "Y-08")
    assert (o.trigger, o.due, o.status, o.days_overdue) == (
        LAST_SERVICE,
        D(2026, 5, 31),
        Status.OVERDUE,
        5,
    )
    assert text(o, HOUSTON) == (
        "Y-08 (Texas Workforce Solutions Youth Case Management Procedure; 20 CFR 677.150(c)): exit "
        "recorded 90 days after the last qualifying "
        "service on Mon 2026-03-02 (exit date = Mon 2026-03-02); due Sun 2026-05-31. "
        "Not done: 5 days overdue."
    )


def test_Y08_not_applicable_while_a_valid_planned_gap_is_open():
    o = one(evaluate(youth(), last_service(), gap(D(2026, 3, 3), 120), as_of=AS_OF), "Y-08")
    assert (o.status, o.trigger, o.due) == (Status.NA, LAST_SERVICE, None)
    assert o.reason == "a valid planned gap is open (Y-07)"
    assert text(o, HOUSTON).endswith("Not applicable: a valid planned gap is open (Y-07).")


@pytest.mark.parametrize(
    ("days", "suspended"), [(90, False), (91, True), (179, True), (180, False), (200, False)]
)
def test_Y08_a_planned_gap_suspends_exit_only_if_longer_than_90_and_shorter_than_180_days(
    days, suspended
):
    o = one(evaluate(youth(), last_service(), gap(D(2026, 3, 10), days), as_of=AS_OF), "Y-08")
    assert o.status == (Status.NA if suspended else Status.OVERDUE)


@pytest.mark.parametrize("reason", [None, "Vacation", "Other"])
def test_Y08_a_planned_gap_with_a_reason_not_allowed_by_Y07_does_not_suspend_exit(reason):
    o = one(evaluate(youth(), last_service(), gap(D(2026, 3, 3), 120, reason), as_of=AS_OF), "Y-08")
    assert o.status == Status.OVERDUE


@pytest.mark.parametrize(
    "reason",
    [
        "Delay before training",
        "Own health or medical condition",
        "Caring for a family member",
        "Temporary move or military service",
    ],
)
def test_Y08_each_of_the_four_Y07_reasons_suspends_exit(reason):
    o = one(evaluate(youth(), last_service(), gap(D(2026, 3, 3), 120, reason), as_of=AS_OF), "Y-08")
    assert o.status == Status.NA


def test_Y08_a_planned_gap_that_ended_or_has_not_started_does_not_suspend_exit():
    ended = gap(D(2026, 1, 2), 120)  # ends May 2
    future = gap(D(2026, 6, 10), 120)
    assert (
        one(evaluate(youth(), last_service(), ended, as_of=AS_OF), "Y-08").status == Status.OVERDUE
    )
    assert (
        one(evaluate(youth(), last_service(), future, as_of=AS_OF), "Y-08").status == Status.OVERDUE
    )


def test_Y08_not_applicable_when_a_future_qualifying_service_is_scheduled():
    obs = evaluate(youth(), last_service(), qualifying("Training", D(2026, 6, 15)), as_of=AS_OF)
    o = one(obs, "Y-08")
    assert (o.status, o.reason, o.trigger) == (
        Status.NA,
        "a future service is scheduled",
        LAST_SERVICE,
    )


def test_Y08_a_future_service_that_is_not_qualifying_does_not_hold_the_exit():
    obs = evaluate(youth(), last_service(), service("Follow-up", D(2026, 6, 15)), as_of=AS_OF)
    assert one(obs, "Y-08").status == Status.OVERDUE


def test_Y08_met_when_an_exit_closure_date_is_recorded_even_though_the_case_is_closed():
    o = one(evaluate(youth(closure_date=D(2026, 6, 1)), last_service(), as_of=AS_OF), "Y-08")
    assert (o.status, o.due, o.days_overdue) == (Status.MET, D(2026, 5, 31), 0)
    assert text(o, HOUSTON).endswith("due Sun 2026-05-31. Met.")


def test_Y08_a_recorded_exit_wins_over_an_open_planned_gap():
    o = one(
        evaluate(
            youth(closure_date=D(2026, 6, 1)), last_service(), gap(D(2026, 3, 3), 120), as_of=AS_OF
        ),
        "Y-08",
    )
    assert o.status == Status.MET


def test_Y08_due_soon_edge_and_the_days_setting():
    assert one(evaluate(youth(), last_service(), as_of=D(2026, 5, 25)), "Y-08").status == Status.DUE
    assert (
        one(evaluate(youth(), last_service(), as_of=D(2026, 5, 26)), "Y-08").status
        == Status.DUE_SOON
    )
    o = one(evaluate(youth(), last_service(), as_of=AS_OF, settings={"Y-08 days": 120}), "Y-08")
    assert (o.due, o.status) == (D(2026, 6, 30), Status.DUE)


def test_Y08_not_applicable_before_any_qualifying_service_with_a_readable_reason():
    o = one(evaluate(youth(), service("Supportive service", D(2026, 2, 1)), as_of=AS_OF), "Y-08")
    assert o.status == Status.NA
    assert "qualifying service" in o.reason
    assert readable(o.reason), o.reason
    assert "(no date)" not in text(o, HOUSTON)


# ---------------------------------------------------------------- Y-09 follow-up after exit

EXIT = D(2026, 3, 15)  # Sun; + 12 months = Mon 2027-03-15


def test_Y09_follow_up_within_twelve_months_after_exit():
    o = one(evaluate(youth(closure_date=EXIT), as_of=D(2026, 4, 1)), "Y-09")
    assert (o.trigger, o.due, o.status) == (EXIT, D(2027, 3, 15), Status.DUE)
    met = one(
        evaluate(
            youth(closure_date=EXIT), service("Follow-up", D(2026, 6, 1)), as_of=D(2026, 7, 1)
        ),
        "Y-09",
    )
    assert (met.status, met.met_on) == (Status.MET, D(2026, 6, 1))
    assert text(met, HOUSTON) == (
        "Y-09 (Texas Workforce Solutions Youth Case Management Procedure; 20 CFR 681.460(a)(9)): "
        "follow-up services during the 12 months after "
        "exit; trigger Sun 2026-03-15; due Mon 2027-03-15. Met on Mon 2026-06-01."
    )


def test_Y09_follow_up_before_exit_does_not_count_and_it_goes_overdue():
    o = one(
        evaluate(
            youth(closure_date=EXIT), service("Follow-up", D(2026, 3, 1)), as_of=D(2027, 3, 20)
        ),
        "Y-09",
    )
    assert (o.status, o.days_overdue) == (Status.OVERDUE, 5)


def test_Y09_applies_to_the_exited_case_and_a_late_follow_up_is_met_late():
    o = one(
        evaluate(
            youth(closure_date=EXIT), service("Follow-up", D(2027, 3, 18)), as_of=D(2027, 3, 20)
        ),
        "Y-09",
    )
    assert (o.status, o.met_on) == (Status.MET, D(2027, 3, 18))
    assert text(o, HOUSTON).endswith("Met late on Thu 2027-03-18 (3 days late).")


def test_Y09_due_soon_edge_and_not_applicable_without_an_exit():
    assert one(evaluate(youth(closure_date=EXIT), as_of=D(2027, 3, 9)), "Y-09").status == Status.DUE
    assert (
        one(evaluate(youth(closure_date=EXIT), as_of=D(2027, 3, 10)), "Y-09").status
        == Status.DUE_SOON
    )
    o = one(evaluate(youth(), as_of=D(2026, 4, 1)), "Y-09")
    assert (o.status, o.reason) == (Status.NA, "no trigger date yet")


# ---------------------------------------------------------------- T-14 Selective Service

DOB = D(2008, 5, 10)  # 18 on Sun 2026-05-10; due Tue 2026-06-09


def test_T14_males_register_within_30_days_of_the_18th_birthday():
    o = one(evaluate(youth(sex="M", date_of_birth=DOB), as_of=D(2026, 6, 12)), "T-14")
    assert (o.trigger, o.due, o.status, o.days_overdue) == (
        D(2026, 5, 10),
        D(2026, 6, 9),
        Status.OVERDUE,
        3,
    )
    assert text(o, HOUSTON) == (
        "T-14 (Texas Workforce Solutions Program Tracking Specialist Job Description; WIOA "
        "§189(h), 20 CFR 683.225): Selective Service number recorded "
        "within 30 days of the 18th birthday or of enrolment, whichever is later; "
        "trigger Sun 2026-05-10; due Tue 2026-06-09. "
        "Not done: 3 days overdue."
    )


def test_T14_met_with_a_selective_service_number():
    c = youth(sex="M", date_of_birth=DOB, selective_service_no="12-345678-9")
    o = one(evaluate(c, as_of=D(2026, 6, 12)), "T-14")
    assert (o.status, o.days_overdue, o.met_on) == (Status.MET, 0, None)
    assert text(o, HOUSTON).endswith("due Tue 2026-06-09. Met.")


@pytest.mark.parametrize("sex", ["F", "X", None])
def test_T14_is_only_for_males(sex):
    assert absent(evaluate(youth(sex=sex, date_of_birth=DOB), as_of=D(2026, 6, 12)), "T-14")


def test_T14_due_soon_edge_and_a_leap_day_birthday():
    c = youth(sex="M", date_of_birth=DOB)
    assert one(evaluate(c, as_of=D(2026, 6, 3)), "T-14").status == Status.DUE
    assert one(evaluate(c, as_of=D(2026, 6, 4)), "T-14").status == Status.DUE_SOON
    leap = one(evaluate(youth(sex="M", date_of_birth=D(2008, 2, 29)), as_of=D(2026, 3, 1)), "T-14")
    assert (leap.trigger, leap.due) == (D(2026, 2, 28), D(2026, 3, 30))


def test_T14_not_applicable_without_a_date_of_birth_or_when_closed():
    o = one(evaluate(youth(sex="M"), as_of=D(2026, 6, 12)), "T-14")
    assert (o.status, o.reason) == (Status.NA, "no trigger date yet")
    closed = one(
        evaluate(
            youth(sex="M", date_of_birth=DOB, closure_date=D(2026, 6, 1)), as_of=D(2026, 6, 12)
        ),
        "T-14",
    )
    assert (closed.status, closed.reason) == (Status.NA, "case closed on 2026-06-01")


def test_T14_is_in_the_youth_pack_only():
    assert absent(
        evaluate(client(CHOICES, ENROLLED, sex="M", date_of_birth=DOB), as_of=D(2026, 6, 12)),
        "T-14",
    )


def test_T14_a_man_already_18_at_enrolment_is_due_30_days_from_enrolment_not_his_birthday():
    # WIOA §189(h): a man over 18 must be registered to receive services, so the clock starts
    # at enrolment; counting from a birthday years ago would flag him as years overdue.
    c = client(YOUTH, D(2026, 3, 2), sex="M", date_of_birth=D(2004, 7, 1))
    o = one(evaluate(c, as_of=D(2026, 3, 20)), "T-14")
    assert (o.trigger, o.due, o.status) == (D(2026, 3, 2), D(2026, 4, 1), Status.DUE)
