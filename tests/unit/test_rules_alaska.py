"""Alaska ATAP rules (domain.md 1B; S1), on the real Alaska office calendar.

Every test runs both evaluators (reference and engine) through `rulekit.evaluate`, which
also checks that they agree. Dates: Alaska closes on Mon 2026-10-19 (Alaska Day observed),
Fri 2026-07-03 (Independence Day observed) and Mon 2025-01-20 (MLK); Indigenous Peoples'
Day (Mon 2026-10-12) is an open day.
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
    fssp,
    hours,
    of_rule,
    one,
    periods_of,
    service,
    text,
)

WF = Program.ATAP_WORK_FIRST
FF = Program.ATAP_FAMILIES_FIRST
ANCHORAGE = "Anchorage"


def meaningful(day, **kw):
    return contact(day, "In person", meaningful=True, plan_reviewed=True, **kw)


FEB, MAR = D(2026, 2, 1), D(2026, 3, 1)  # monthly rules list March and the missed February


# ---------------------------------------------------------------- A-01 first contact


def test_A01_contact_within_one_business_day_skips_alaska_day_observed():
    obs = evaluate(client(WF, D(2026, 10, 16)), as_of=D(2026, 10, 16))
    o = one(obs, "A-01")
    assert (o.trigger, o.due, o.status) == (D(2026, 10, 16), D(2026, 10, 20), Status.DUE_SOON)
    explanation = text(o, ANCHORAGE)
    assert "Mon 2026-10-19 is Alaska Day (observed)" in explanation
    assert "due Tue 2026-10-20" in explanation
    assert explanation == (
        "A-01 (Alaska DPAWS Case Management Expectations §2): contact within 1 business day of "
        "referral; trigger Fri 2026-10-16; "
        "Mon 2026-10-19 is Alaska Day (observed); due Tue 2026-10-20."
    )


def test_A01_indigenous_peoples_day_is_an_open_day_for_alaska_offices():
    o = one(evaluate(client(WF, D(2026, 10, 9)), as_of=D(2026, 10, 9)), "A-01")
    assert o.due == D(2026, 10, 12)
    assert "Indigenous" not in text(o, ANCHORAGE)


def test_A01_referral_before_independence_day_observed_is_due_the_next_monday():
    o = one(evaluate(client(WF, D(2026, 7, 2)), as_of=D(2026, 7, 2)), "A-01")
    assert o.due == D(2026, 7, 6)
    assert "Fri 2026-07-03 is Independence Day (observed)" in text(o, ANCHORAGE)


def test_A01_a_branch_without_a_calendar_skips_weekends_only():
    o = one(evaluate(client(WF, D(2026, 10, 16), branch="Nome"), as_of=D(2026, 10, 16)), "A-01")
    assert o.due == D(2026, 10, 19)


def test_A01_met_on_time_by_a_successful_phone_call_on_the_due_date():
    obs = evaluate(
        client(WF, D(2026, 10, 16)), contact(D(2026, 10, 20), "Phone"), as_of=D(2026, 10, 21)
    )
    o = one(obs, "A-01")
    assert (o.status, o.met_on, o.days_overdue) == (Status.MET, D(2026, 10, 20), 0)
    assert text(o, ANCHORAGE).endswith("due Tue 2026-10-20. Met on Tue 2026-10-20.")


@pytest.mark.parametrize("method", ["In person", "Phone", "Home visit", "School visit"])
def test_A01_any_successful_two_way_contact_meets_it(method):
    obs = evaluate(
        client(WF, D(2026, 10, 16)), contact(D(2026, 10, 16), method), as_of=D(2026, 10, 21)
    )
    assert one(obs, "A-01").status == Status.MET


def test_A01_met_by_a_J016_appointment_notice_when_the_client_cannot_be_reached_A02():
    obs = evaluate(
        client(WF, D(2026, 10, 16)),
        contact(D(2026, 10, 16), "Phone", successful=False),
        contact(D(2026, 10, 20), "Letter", successful=False, purpose="Appointment notice"),
        as_of=D(2026, 10, 21),
    )
    o = one(obs, "A-01")
    assert (o.status, o.met_on) == (Status.MET, D(2026, 10, 20))


def test_A01_failed_calls_voicemails_and_other_letters_do_not_count_and_it_goes_overdue():
    obs = evaluate(
        client(WF, D(2026, 10, 16)),
        contact(D(2026, 10, 16), "Phone", successful=False),
        contact(D(2026, 10, 16), "Voicemail", successful=True),
        contact(D(2026, 10, 20), "Letter", successful=False, purpose="Other"),
        contact(D(2026, 10, 20), "E-mail", successful=True, purpose="Appointment notice"),
        as_of=D(2026, 10, 23),
    )
    o = one(obs, "A-01")
    assert (o.status, o.due, o.days_overdue, o.met_on) == (
        Status.OVERDUE,
        D(2026, 10, 20),
        3,
        None,
    )
    assert text(o, ANCHORAGE).endswith("due Tue 2026-10-20. Not done: 3 days overdue.")


def test_A01_met_late_says_how_many_days_late():
    obs = evaluate(
        client(WF, D(2026, 10, 16)), contact(D(2026, 10, 22), "Phone"), as_of=D(2026, 10, 23)
    )
    o = one(obs, "A-01")
    assert (o.status, o.met_on, o.days_overdue) == (Status.MET, D(2026, 10, 22), 0)
    assert text(o, ANCHORAGE).endswith("Met late on Thu 2026-10-22 (2 days late).")


def test_A01_one_day_late_and_one_day_overdue_are_singular():
    late = one(
        evaluate(
            client(WF, D(2026, 10, 16)), contact(D(2026, 10, 21), "Phone"), as_of=D(2026, 10, 21)
        ),
        "A-01",
    )
    assert text(late, ANCHORAGE).endswith("Met late on Wed 2026-10-21 (1 day late).")
    overdue = one(evaluate(client(WF, D(2026, 10, 16)), as_of=D(2026, 10, 21)), "A-01")
    assert (overdue.status, overdue.days_overdue) == (Status.OVERDUE, 1)
    assert text(overdue, ANCHORAGE).endswith("due Tue 2026-10-20. Not done: 1 day overdue.")


def test_A01_a_contact_before_the_referral_does_not_count():
    obs = evaluate(
        client(WF, D(2026, 10, 16)), contact(D(2026, 10, 15), "Phone"), as_of=D(2026, 10, 21)
    )
    assert one(obs, "A-01").status == Status.OVERDUE


def test_A01_a_contact_dated_after_as_of_does_not_count_yet():
    obs = evaluate(
        client(WF, D(2026, 10, 16)), contact(D(2026, 10, 20), "Phone"), as_of=D(2026, 10, 19)
    )
    o = one(obs, "A-01")
    assert (o.status, o.met_on) == (Status.DUE_SOON, None)


def test_A01_due_six_days_ahead_is_DUE_and_five_days_ahead_is_DUE_SOON():
    # A referral typed in ahead of time (Fri 2026-10-16, due Tue 2026-10-20).
    six = one(evaluate(client(WF, D(2026, 10, 16)), as_of=D(2026, 10, 14)), "A-01")
    five = one(evaluate(client(WF, D(2026, 10, 16)), as_of=D(2026, 10, 15)), "A-01")
    assert (six.status, five.status) == (Status.DUE, Status.DUE_SOON)


def test_A01_not_applicable_when_the_case_is_closed():
    obs = evaluate(client(WF, D(2026, 10, 16), closure_date=D(2026, 10, 18)), as_of=D(2026, 10, 21))
    o = one(obs, "A-01")
    assert (o.status, o.due, o.reason) == (Status.NA, None, "case closed on 2026-10-18")
    assert text(o, ANCHORAGE).endswith("Not applicable: case closed on 2026-10-18.")


def test_A01_a_closure_date_after_as_of_does_not_close_the_case_yet():
    obs = evaluate(client(WF, D(2026, 10, 16), closure_date=D(2026, 10, 30)), as_of=D(2026, 10, 21))
    assert one(obs, "A-01").status == Status.OVERDUE


# ---------------------------------------------------------------- A-03 EA, FSSP, EPI

REF = D(2026, 3, 2)  # Mon; + 30 calendar days = Wed 2026-04-01


EA, EPI, SIGNED = D(2026, 3, 5), D(2026, 3, 12), D(2026, 3, 20)


def a03_items(ea=EA, epi=EPI, signed=SIGNED):
    rows = []
    if ea:
        rows.append(service("Employability Assessment", ea))
    if epi:
        rows.append(service("EPI", epi))
    if signed:
        rows.append(fssp(signed, signed_date=signed))
    return rows


def test_A03_all_of_is_met_on_the_latest_of_EA_signed_FSSP_and_EPI():
    obs = evaluate(client(WF, REF), *a03_items(), as_of=D(2026, 3, 25))
    o = one(obs, "A-03")
    assert (o.trigger, o.due, o.status, o.met_on) == (
        REF,
        D(2026, 4, 1),
        Status.MET,
        D(2026, 3, 20),
    )
    assert text(o, ANCHORAGE) == (
        "A-03 (Alaska DPAWS Case Management Expectations §2, §4): EA, signed FSSP and EPI within "
        "30 days of the latest referral, "
        "CM change or track change; trigger Mon 2026-03-02; due Wed 2026-04-01. "
        "Met on Fri 2026-03-20."
    )


def test_A03_met_late_when_the_last_item_comes_after_day_30():
    obs = evaluate(client(WF, REF), *a03_items(epi=D(2026, 4, 6)), as_of=D(2026, 4, 10))
    o = one(obs, "A-03")
    assert (o.status, o.met_on) == (Status.MET, D(2026, 4, 6))
    assert text(o, ANCHORAGE).endswith("Met late on Mon 2026-04-06 (5 days late).")


def test_A03_overdue_when_one_of_the_three_is_missing():
    obs = evaluate(client(WF, REF), *a03_items(epi=None), as_of=D(2026, 4, 10))
    o = one(obs, "A-03")
    assert (o.status, o.days_overdue, o.met_on) == (Status.OVERDUE, 9, None)
    assert text(o, ANCHORAGE).endswith("Not done: 9 days overdue.")


def test_A03_an_FSSP_mailed_but_not_yet_signed_does_not_count():
    obs = evaluate(
        client(WF, REF),
        service("Employability Assessment", D(2026, 3, 5)),
        service("EPI", D(2026, 3, 12)),
        fssp(D(2026, 3, 10), mailed_date=D(2026, 3, 10)),
        as_of=D(2026, 3, 20),
    )
    o = one(obs, "A-03")
    assert (o.status, o.due) == (Status.DUE, D(2026, 4, 1))


def test_A03_due_six_days_ahead_is_DUE_and_five_days_ahead_is_DUE_SOON():
    assert one(evaluate(client(WF, REF), as_of=D(2026, 3, 26)), "A-03").status == Status.DUE
    assert one(evaluate(client(WF, REF), as_of=D(2026, 3, 27)), "A-03").status == Status.DUE_SOON
    assert one(evaluate(client(WF, REF), as_of=D(2026, 4, 1)), "A-03").status == Status.DUE_SOON
    late = one(evaluate(client(WF, REF), as_of=D(2026, 4, 2)), "A-03")
    assert (late.status, late.days_overdue) == (Status.OVERDUE, 1)


def test_A03_clock_restarts_on_a_case_manager_change_and_earlier_items_no_longer_count():
    changed = client(WF, REF, cm_change_date=D(2026, 3, 25))
    o = one(evaluate(changed, *a03_items(), as_of=D(2026, 4, 10)), "A-03")
    assert (o.trigger, o.due, o.status) == (D(2026, 3, 25), D(2026, 4, 24), Status.DUE)
    redone = a03_items(ea=D(2026, 3, 30), epi=D(2026, 4, 2), signed=D(2026, 4, 8))
    o = one(evaluate(changed, *a03_items(), *redone, as_of=D(2026, 4, 10)), "A-03")
    assert (o.status, o.met_on) == (Status.MET, D(2026, 4, 8))


def test_A03_clock_restarts_on_a_track_change():
    o = one(
        evaluate(
            client(WF, REF, track_change_date=D(2026, 4, 15)), *a03_items(), as_of=D(2026, 4, 20)
        ),
        "A-03",
    )
    assert (o.trigger, o.due, o.status) == (D(2026, 4, 15), D(2026, 5, 15), Status.DUE)


def test_A03_the_latest_of_referral_CM_change_and_track_change_is_the_trigger():
    c = client(WF, REF, cm_change_date=D(2026, 4, 20), track_change_date=D(2026, 4, 15))
    o = one(evaluate(c, as_of=D(2026, 4, 21)), "A-03")
    assert (o.trigger, o.due) == (D(2026, 4, 20), D(2026, 5, 20))


def test_A03_days_setting_changes_the_clock_and_the_explanation():
    settings = {"A-03 days": 45}
    o = one(evaluate(client(WF, REF), as_of=D(2026, 3, 5), settings=settings), "A-03")
    assert o.due == D(2026, 4, 16)
    assert "within 45 days of the latest referral" in text(o, ANCHORAGE, settings)


def test_A03_not_applicable_when_the_case_is_closed():
    o = one(evaluate(client(WF, REF, closure_date=D(2026, 3, 20)), as_of=D(2026, 3, 25)), "A-03")
    assert (o.status, o.reason) == (Status.NA, "case closed on 2026-03-20")


# ---------------------------------------------------------------- A-06 monthly FSSP review

OLD = D(2026, 1, 5)  # referred long before the months under test


def test_A06_met_by_a_meaningful_contact_with_an_FSSP_review_in_the_month():
    obs = evaluate(client(WF, OLD), meaningful(D(2026, 3, 4)), as_of=D(2026, 3, 10))
    o = for_month(obs, "A-06", MAR)
    assert (o.status, o.met_on, o.due, o.found) == (Status.MET, D(2026, 3, 4), D(2026, 3, 31), 1)
    assert (o.period_start, o.period_end, o.trigger) == (
        D(2026, 3, 1),
        D(2026, 3, 31),
        D(2026, 3, 1),
    )
    assert text(o, ANCHORAGE) == (
        "A-06 (Alaska DPAWS Case Management Expectations §3, §7): one meaningful contact with an "
        "FSSP review in March 2026; "
        "due Tue 2026-03-31. Met on Wed 2026-03-04."
    )


def test_A06_contacts_without_meaning_review_or_success_and_last_months_do_not_count():
    obs = evaluate(
        client(WF, OLD),
        contact(D(2026, 3, 2), "In person", meaningful=True),
        contact(D(2026, 3, 3), "Phone", plan_reviewed=True),
        contact(D(2026, 3, 4), "Home visit", False, meaningful=True, plan_reviewed=True),
        meaningful(D(2026, 2, 27)),
        meaningful(D(2026, 3, 20)),  # after as-of
        as_of=D(2026, 3, 10),
    )
    o = for_month(obs, "A-06", MAR)
    assert (o.status, o.found, o.met_on) == (Status.DUE, 0, None)
    assert text(o, ANCHORAGE).endswith("due Tue 2026-03-31. So far: 0 found.")
    february = for_month(obs, "A-06", FEB)  # last month's contact counts for last month
    assert (february.status, february.met_on, february.found) == (Status.MET, D(2026, 2, 27), 1)


def test_A06_due_six_days_before_month_end_is_DUE_and_five_is_DUE_SOON():
    six = for_month(evaluate(client(WF, OLD), as_of=D(2026, 3, 25)), "A-06", MAR)
    five = for_month(evaluate(client(WF, OLD), as_of=D(2026, 3, 26)), "A-06", MAR)
    assert (six.status, five.status) == (Status.DUE, Status.DUE_SOON)
    last_day = for_month(evaluate(client(WF, OLD), as_of=D(2026, 3, 31)), "A-06", MAR)
    assert (last_day.status, last_day.due) == (Status.DUE_SOON, D(2026, 3, 31))


def test_A06_a_missed_previous_month_is_OVERDUE_counted_from_its_own_month_end():
    obs = evaluate(client(WF, OLD), meaningful(D(2026, 3, 4)), as_of=D(2026, 3, 10))
    assert periods_of(obs, "A-06") == [FEB, MAR]
    feb = for_month(obs, "A-06", FEB)
    assert (feb.trigger, feb.period_end, feb.due, feb.status, feb.days_overdue, feb.found) == (
        FEB,
        D(2026, 2, 28),
        D(2026, 2, 28),
        Status.OVERDUE,
        10,
        0,
    )
    assert text(feb, ANCHORAGE) == (
        "A-06 (Alaska DPAWS Case Management Expectations §3, §7): one meaningful contact with an "
        "FSSP review in February 2026; "
        "due Sat 2026-02-28. So far: 0 found. Not done: 10 days overdue."
    )
    assert for_month(obs, "A-06", MAR).status == Status.MET  # March's contact is March's only


def test_A06_each_missed_month_is_its_own_obligation_but_never_a_month_of_referral():
    rows = (meaningful(D(2026, 1, 20)),)
    three = {"Missed months shown": 3}
    obs = evaluate(client(WF, D(2025, 12, 1)), *rows, as_of=D(2026, 4, 2), settings=three)
    listed = [(o.trigger, o.due, o.status, o.days_overdue, o.met_on) for o in of_rule(obs, "A-06")]
    assert listed == [
        (D(2026, 1, 1), D(2026, 1, 31), Status.MET, 0, D(2026, 1, 20)),
        (FEB, D(2026, 2, 28), Status.OVERDUE, 33, None),
        (MAR, D(2026, 3, 31), Status.OVERDUE, 2, None),
        (D(2026, 4, 1), D(2026, 4, 30), Status.DUE, 0, None),
    ]
    # Referred Jan 5: January is the referral month and is skipped, even as a missed month.
    obs = evaluate(client(WF, OLD), *rows, as_of=D(2026, 4, 2), settings=three)
    assert periods_of(obs, "A-06") == [FEB, MAR, D(2026, 4, 1)]
    # Referred on the first of a month: that month is the referral month too.
    obs = evaluate(client(WF, FEB), as_of=D(2026, 4, 2), settings=three)
    assert periods_of(obs, "A-06") == [MAR, D(2026, 4, 1)]


def test_A06_is_not_listed_in_the_month_of_referral():
    assert absent(evaluate(client(WF, D(2026, 3, 2)), as_of=D(2026, 3, 20)), "A-06")
    assert absent(evaluate(client(WF, D(2026, 3, 1)), as_of=D(2026, 3, 20)), "A-06")
    assert one(evaluate(client(WF, D(2026, 2, 28)), as_of=D(2026, 3, 20)), "A-06")


def test_A06_not_applicable_when_the_case_is_closed():
    o = one(evaluate(client(WF, OLD, closure_date=D(2026, 3, 1)), as_of=D(2026, 3, 10)), "A-06")
    assert (o.status, o.reason) == (Status.NA, "case closed on 2026-03-01")


# ---------------------------------------------------------------- A-07 not engaged


def not_engaged():
    return client(WF, OLD, engaged=False)


def test_A07_two_phone_calls_are_not_enough_two_methods_are_needed():
    obs = evaluate(
        not_engaged(),
        contact(D(2026, 3, 2), "Phone", successful=False),
        contact(D(2026, 3, 9), "Phone", successful=False),
        as_of=D(2026, 3, 20),
    )
    o = for_month(obs, "A-07", MAR)
    assert (o.status, o.found, o.methods_found, o.due) == (Status.DUE, 2, 1, D(2026, 3, 31))
    assert text(o, ANCHORAGE) == (
        "A-07 (Alaska DPAWS Case Management Expectations §3): 2 contact attempts by 2 different "
        "methods in March 2026 "
        "(client not engaged); due Tue 2026-03-31. So far: 2 found, 1 method."
    )


def test_A07_a_phone_call_and_a_letter_meet_it_on_the_second_method():
    obs = evaluate(
        not_engaged(),
        contact(D(2026, 3, 2), "Phone", successful=False),
        contact(D(2026, 3, 5), "Phone", successful=False),
        contact(D(2026, 3, 12), "Letter", successful=False),
        as_of=D(2026, 3, 20),
    )
    o = for_month(obs, "A-07", MAR)
    assert (o.status, o.met_on, o.found, o.methods_found) == (Status.MET, D(2026, 3, 12), 3, 2)


def test_A07_voicemail_never_counts_as_an_attempt():
    obs = evaluate(
        not_engaged(),
        contact(D(2026, 3, 2), "Phone", successful=False),
        contact(D(2026, 3, 3), "Voicemail", successful=False),
        contact(D(2026, 3, 4), "Voicemail", successful=True),
        as_of=D(2026, 3, 20),
    )
    o = for_month(obs, "A-07", MAR)
    assert (o.status, o.found, o.methods_found) == (Status.DUE, 1, 1)
    assert text(o, ANCHORAGE).endswith("So far: 1 found, 1 method.")


def test_A07_is_not_listed_for_an_engaged_client():
    assert absent(evaluate(client(WF, OLD), as_of=D(2026, 3, 20)), "A-07")


def test_A07_attempts_setting_three_needs_a_third_attempt():
    rows = (
        contact(D(2026, 3, 2), "Phone", successful=False),
        contact(D(2026, 3, 5), "Letter", successful=False),
    )
    o = for_month(
        evaluate(not_engaged(), *rows, as_of=D(2026, 3, 20), settings={"A-07 attempts": 3}),
        "A-07",
        MAR,
    )
    assert (o.status, o.found, o.methods_found) == (Status.DUE, 2, 2)
    assert "3 contact attempts by 2 different methods" in text(o, ANCHORAGE, {"A-07 attempts": 3})
    visit = contact(D(2026, 3, 16), "Home visit", successful=False)
    o = for_month(
        evaluate(not_engaged(), *rows, visit, as_of=D(2026, 3, 20), settings={"A-07 attempts": 3}),
        "A-07",
        MAR,
    )
    assert (o.status, o.met_on) == (Status.MET, D(2026, 3, 16))


def test_A07_methods_setting_one_lets_two_phone_calls_meet_it():
    obs = evaluate(
        not_engaged(),
        contact(D(2026, 3, 2), "Phone", successful=False),
        contact(D(2026, 3, 9), "Phone", successful=False),
        as_of=D(2026, 3, 20),
        settings={"A-07 methods": 1},
    )
    o = for_month(obs, "A-07", MAR)
    assert (o.status, o.met_on) == (Status.MET, D(2026, 3, 9))


def test_A07_a_previous_month_short_of_two_methods_is_OVERDUE_and_its_attempts_stay_there():
    obs = evaluate(
        not_engaged(),
        contact(D(2026, 2, 3), "Phone", successful=False),
        contact(D(2026, 2, 17), "Phone", successful=False),
        contact(D(2026, 3, 2), "Letter", successful=False),
        as_of=D(2026, 3, 20),
    )
    feb = for_month(obs, "A-07", FEB)
    assert (feb.trigger, feb.due, feb.status, feb.days_overdue) == (
        FEB,
        D(2026, 2, 28),
        Status.OVERDUE,
        20,
    )
    assert (feb.found, feb.methods_found) == (2, 1)
    assert text(feb, ANCHORAGE).endswith("So far: 2 found, 1 method. Not done: 20 days overdue.")
    mar = for_month(obs, "A-07", MAR)  # February's calls do not help March
    assert (mar.status, mar.found, mar.methods_found) == (Status.DUE, 1, 1)


def test_A07_due_soon_on_the_last_day_of_the_month_and_not_in_the_referral_month():
    o = for_month(evaluate(not_engaged(), as_of=D(2026, 3, 26)), "A-07", MAR)
    assert o.status == Status.DUE_SOON
    six = for_month(evaluate(not_engaged(), as_of=D(2026, 3, 25)), "A-07", MAR)
    assert six.status == Status.DUE
    assert absent(evaluate(client(WF, D(2026, 3, 3), engaged=False), as_of=D(2026, 3, 25)), "A-07")


def test_A07_not_applicable_when_the_case_is_closed():
    c = client(WF, OLD, engaged=False, closure_date=D(2026, 2, 27))
    o = one(evaluate(c, as_of=D(2026, 3, 20)), "A-07")
    assert (o.status, o.reason) == (Status.NA, "case closed on 2026-02-27")


# ---------------------------------------------------------------- A-12 FSSP every 3 months


def test_A12_rolling_three_months_from_the_last_signed_FSSP():
    obs = evaluate(
        client(WF, D(2025, 12, 1)),
        fssp(D(2026, 1, 12), signed_date=D(2026, 1, 15)),
        as_of=D(2026, 4, 20),
    )
    o = one(obs, "A-12")
    assert (o.trigger, o.due, o.status, o.days_overdue) == (
        D(2026, 1, 15),
        D(2026, 4, 15),
        Status.OVERDUE,
        5,
    )
    assert text(o, ANCHORAGE) == (
        "A-12 (Alaska DPAWS Case Management Expectations §7): FSSP update within 3 months of Thu "
        "2026-01-15; due Wed 2026-04-15. "
        "Not done: 5 days overdue."
    )


def test_A12_a_newer_signed_FSSP_restarts_the_clock():
    obs = evaluate(
        client(WF, D(2025, 12, 1)),
        fssp(D(2026, 1, 12), signed_date=D(2026, 1, 15)),
        fssp(D(2026, 4, 8), signed_date=D(2026, 4, 10)),
        as_of=D(2026, 4, 20),
    )
    o = one(obs, "A-12")
    assert (o.trigger, o.due, o.status) == (D(2026, 4, 10), D(2026, 7, 10), Status.DUE)


def test_A12_without_a_signed_FSSP_the_clock_runs_from_the_referral():
    o = one(evaluate(client(WF, D(2026, 1, 5)), as_of=D(2026, 3, 1)), "A-12")
    assert (o.trigger, o.due, o.status) == (D(2026, 1, 5), D(2026, 4, 5), Status.DUE)


def test_A12_a_signature_dated_after_as_of_does_not_count():
    obs = evaluate(
        client(WF, D(2026, 1, 5)),
        fssp(D(2026, 3, 1), signed_date=D(2026, 3, 20)),
        as_of=D(2026, 3, 10),
    )
    assert one(obs, "A-12").trigger == D(2026, 1, 5)


def test_A12_three_months_from_november_30_is_february_28():
    obs = evaluate(
        client(WF, D(2025, 10, 1)),
        fssp(D(2025, 11, 30), signed_date=D(2025, 11, 30)),
        as_of=D(2026, 1, 5),
    )
    assert one(obs, "A-12").due == D(2026, 2, 28)


@pytest.mark.parametrize(
    ("signed", "due"),
    [
        (D(2026, 1, 15), D(2026, 6, 30)),
        (D(2026, 3, 31), D(2026, 6, 30)),
        (D(2026, 4, 1), D(2026, 9, 30)),
        (D(2026, 11, 2), D(2027, 3, 31)),
    ],
)
def test_A12_calendar_quarter_setting_makes_it_due_by_the_end_of_the_next_quarter(signed, due):
    rows = (fssp(signed, signed_date=signed),)
    o = one(
        evaluate(
            client(WF, D(2025, 12, 1)),
            *rows,
            as_of=signed,
            settings={"A-12 mode": "calendar quarter"},
        ),
        "A-12",
    )
    assert (o.trigger, o.due) == (signed, due)


def test_A12_due_six_days_ahead_is_DUE_and_five_days_ahead_is_DUE_SOON():
    rows = (fssp(D(2026, 1, 15), signed_date=D(2026, 1, 15)),)
    c = client(WF, D(2025, 12, 1))
    assert one(evaluate(c, *rows, as_of=D(2026, 4, 9)), "A-12").status == Status.DUE
    assert one(evaluate(c, *rows, as_of=D(2026, 4, 10)), "A-12").status == Status.DUE_SOON


def test_A12_not_applicable_when_the_case_is_closed():
    o = one(evaluate(client(WF, OLD, closure_date=D(2026, 3, 1)), as_of=D(2026, 3, 10)), "A-12")
    assert (o.status, o.reason) == (Status.NA, "case closed on 2026-03-01")


# ---------------------------------------------------------------- A-15 mailed FSSP back signed

MAILED = D(2026, 3, 2)


def test_A15_uses_the_due_back_date_when_the_case_manager_set_one():
    rows = (fssp(MAILED, mailed_date=MAILED, due_back_date=D(2026, 3, 20)),)
    o = one(evaluate(client(WF, OLD), *rows, as_of=D(2026, 3, 10)), "A-15")
    assert (o.trigger, o.due, o.status) == (MAILED, D(2026, 3, 20), Status.DUE)
    assert text(o, ANCHORAGE) == (
        "A-15 (Alaska DPAWS Case Management Expectations §7): signed FSSP back by the due-back "
        "date after mailing on Mon 2026-03-02; "
        "due Fri 2026-03-20."
    )


def test_A15_without_a_due_back_date_it_is_mail_date_plus_ten_days():
    rows = (fssp(MAILED, mailed_date=MAILED),)
    o = one(evaluate(client(WF, OLD), *rows, as_of=D(2026, 3, 10)), "A-15")
    assert (o.due, o.status) == (D(2026, 3, 12), Status.DUE_SOON)
    o = one(
        evaluate(client(WF, OLD), *rows, as_of=D(2026, 3, 10), settings={"A-15 days": 14}), "A-15"
    )
    assert o.due == D(2026, 3, 16)


def test_A15_met_when_the_mailed_FSSP_comes_back_signed():
    rows = (
        fssp(MAILED, mailed_date=MAILED, due_back_date=D(2026, 3, 20), signed_date=D(2026, 3, 16)),
    )
    o = one(evaluate(client(WF, OLD), *rows, as_of=D(2026, 3, 25)), "A-15")
    assert (o.status, o.met_on) == (Status.MET, D(2026, 3, 16))


def test_A15_met_late_when_signed_after_the_due_back_date():
    rows = (
        fssp(MAILED, mailed_date=MAILED, due_back_date=D(2026, 3, 20), signed_date=D(2026, 3, 23)),
    )
    o = one(evaluate(client(WF, OLD), *rows, as_of=D(2026, 3, 25)), "A-15")
    assert (o.status, o.met_on) == (Status.MET, D(2026, 3, 23))
    assert text(o, ANCHORAGE).endswith("Met late on Mon 2026-03-23 (3 days late).")


def test_A15_overdue_and_an_older_signature_does_not_count():
    rows = (
        fssp(D(2026, 1, 10), signed_date=D(2026, 1, 12)),
        fssp(MAILED, mailed_date=MAILED, due_back_date=D(2026, 3, 20)),
    )
    o = one(evaluate(client(WF, OLD), *rows, as_of=D(2026, 3, 25)), "A-15")
    assert (o.status, o.days_overdue) == (Status.OVERDUE, 5)
    assert text(o, ANCHORAGE).endswith("Not done: 5 days overdue.")


def test_A15_each_mailing_is_its_own_obligation():
    rows = (
        fssp(MAILED, mailed_date=MAILED, signed_date=D(2026, 3, 6)),
        fssp(D(2026, 4, 1), mailed_date=D(2026, 4, 1)),
    )
    found = of_rule(evaluate(client(WF, OLD), *rows, as_of=D(2026, 4, 3)), "A-15")
    assert [(o.trigger, o.status, o.due) for o in found] == [
        (MAILED, Status.MET, D(2026, 3, 12)),
        (D(2026, 4, 1), Status.DUE, D(2026, 4, 11)),
    ]


def test_A15_a_signed_mailing_older_than_the_per_event_lookback_is_not_listed():
    rows = (fssp(MAILED, mailed_date=MAILED, signed_date=D(2026, 3, 10)),)
    sixty = one(evaluate(client(WF, OLD), *rows, as_of=D(2026, 5, 1)), "A-15")
    assert (sixty.trigger, sixty.status) == (MAILED, Status.MET)
    assert absent(evaluate(client(WF, OLD), *rows, as_of=D(2026, 5, 2)), "A-15")


def test_A15_an_unsigned_mailing_stays_listed_past_the_per_event_lookback():
    rows = (fssp(MAILED, mailed_date=MAILED),)
    assert one(evaluate(client(WF, OLD), *rows, as_of=D(2026, 5, 1)), "A-15").days_overdue == 50
    o = one(evaluate(client(WF, OLD), *rows, as_of=D(2026, 7, 1)), "A-15")  # 121 days later
    assert (o.trigger, o.due, o.status, o.days_overdue) == (
        MAILED,
        D(2026, 3, 12),
        Status.OVERDUE,
        111,
    )


def test_A15_not_applicable_when_the_case_is_closed():
    rows = (fssp(MAILED, mailed_date=MAILED),)
    o = one(
        evaluate(client(WF, OLD, closure_date=D(2026, 3, 5)), *rows, as_of=D(2026, 3, 10)), "A-15"
    )
    assert (o.status, o.reason) == (Status.NA, "case closed on 2026-03-05")


# ---------------------------------------------------------------- A-23 work verification


def test_A23_hours_for_last_month_entered_by_the_20th():
    obs = evaluate(client(WF, OLD), hours(D(2026, 10, 5), D(2026, 10, 9)), as_of=D(2026, 11, 10))
    o = one(obs, "A-23")
    assert (o.status, o.met_on, o.due) == (Status.MET, D(2026, 10, 9), D(2026, 11, 20))
    assert (o.period_start, o.period_end) == (D(2026, 10, 1), D(2026, 10, 31))
    assert text(o, ANCHORAGE).startswith(
        "A-23 (Alaska DPAWS Case Management Expectations §16): hours for October 2026 entered by "
        "the 20th;"
    )


def test_A23_met_late_when_entered_after_the_20th():
    obs = evaluate(client(WF, OLD), hours(D(2026, 10, 26), D(2026, 11, 23)), as_of=D(2026, 11, 25))
    o = one(obs, "A-23")
    assert (o.status, o.met_on) == (Status.MET, D(2026, 11, 23))
    assert text(o, ANCHORAGE).endswith("Met late on Mon 2026-11-23 (3 days late).")


def test_A23_overdue_when_no_hours_for_last_month_and_other_months_do_not_count():
    obs = evaluate(
        client(WF, OLD),
        hours(D(2026, 9, 28), D(2026, 10, 2)),  # a September week
        hours(D(2026, 11, 2), D(2026, 11, 6)),  # a November week
        hours(D(2026, 10, 19), D(2026, 11, 30)),  # entered after as-of
        as_of=D(2026, 11, 24),
    )
    o = one(obs, "A-23")
    assert (o.status, o.days_overdue, o.found) == (Status.OVERDUE, 4, 0)
    assert text(o, ANCHORAGE).endswith("So far: 0 found. Not done: 4 days overdue.")


def test_A23_a_week_is_placed_in_the_month_it_starts_in_even_if_entered_later():
    obs = evaluate(client(WF, OLD), hours(D(2026, 10, 26), D(2026, 11, 2)), as_of=D(2026, 11, 10))
    o = one(obs, "A-23")
    assert (o.status, o.met_on) == (Status.MET, D(2026, 11, 2))


def test_A23_hours_without_an_entered_date_count_from_their_week_start():
    obs = evaluate(client(WF, OLD), hours(D(2026, 10, 12), None), as_of=D(2026, 11, 10))
    o = one(obs, "A-23")
    assert (o.status, o.met_on) == (Status.MET, D(2026, 10, 12))


def test_A23_due_six_days_ahead_is_DUE_and_five_days_ahead_is_DUE_SOON():
    assert one(evaluate(client(WF, OLD), as_of=D(2026, 11, 14)), "A-23").status == Status.DUE
    assert one(evaluate(client(WF, OLD), as_of=D(2026, 11, 15)), "A-23").status == Status.DUE_SOON


@pytest.mark.parametrize(
    ("roll", "due"),
    [("previous", D(2026, 9, 18)), ("next", D(2026, 9, 21)), ("none", D(2026, 9, 20))],
)
def test_A23_day_20_on_a_sunday_rolls_per_the_A23_roll_setting(roll, due):
    settings = {"A-23 roll": roll}
    o = one(evaluate(client(WF, OLD), as_of=D(2026, 9, 10), settings=settings), "A-23")
    assert (o.period_start, o.due) == (D(2026, 8, 1), due)


@pytest.mark.parametrize(
    ("roll", "due"),
    [("previous", D(2025, 1, 17)), ("next", D(2025, 1, 21)), ("none", D(2025, 1, 20))],
)
def test_A23_day_20_on_martin_luther_king_day_2025_rolls_per_the_A23_roll_setting(roll, due):
    settings = {"A-23 roll": roll}
    o = one(evaluate(client(WF, D(2024, 6, 3)), as_of=D(2025, 1, 10), settings=settings), "A-23")
    assert (o.period_start, o.due) == (D(2024, 12, 1), due)


def test_A23_explanation_names_the_holiday_the_deadline_was_rolled_off_and_no_other():
    # Mon 2025-01-20 (the 20th) is MLK Day in Alaska, so the default roll moves the deadline
    # to Fri 2025-01-17. The explanation should say why; New Year's Day moved nothing.
    o = one(evaluate(client(WF, D(2024, 6, 3)), as_of=D(2025, 1, 10)), "A-23")
    explanation = text(o, ANCHORAGE)
    assert "Mon 2025-01-20 is Martin Luther King Jr.'s Birthday" in explanation
    assert "New Year" not in explanation
    assert "due Fri 2025-01-17" in explanation


def test_A23_day_setting_moves_the_deadline_and_the_explanation():
    settings = {"A-23 day": 15}
    o = one(evaluate(client(WF, OLD), as_of=D(2026, 11, 3), settings=settings), "A-23")
    assert o.due == D(2026, 11, 13)  # Sun 15th -> Fri 13th
    assert "entered by the 15th" in text(o, ANCHORAGE, settings)


def test_A23_is_not_listed_while_the_referral_month_is_the_month_reported_on():
    assert absent(evaluate(client(WF, D(2026, 10, 20)), as_of=D(2026, 11, 10)), "A-23")
    assert absent(evaluate(client(WF, D(2026, 11, 2)), as_of=D(2026, 11, 10)), "A-23")
    assert one(evaluate(client(WF, D(2026, 9, 30)), as_of=D(2026, 11, 10)), "A-23")


def test_A23_not_applicable_when_the_case_is_closed():
    o = one(evaluate(client(WF, OLD, closure_date=D(2026, 10, 30)), as_of=D(2026, 11, 10)), "A-23")
    assert (o.status, o.reason) == (Status.NA, "case closed on 2026-10-30")


# ---------------------------------------------------------------- A-24 exit summary

CLOSED_JUNE_30 = client(WF, OLD, closure_date=D(2026, 6, 30))


def test_A24_closure_on_june_30_is_due_by_july_31_as_in_the_seed():
    obs = evaluate(CLOSED_JUNE_30, as_of=D(2026, 7, 10))
    o = one(obs, "A-24")
    assert (o.trigger, o.due, o.status) == (D(2026, 6, 30), D(2026, 7, 31), Status.DUE)
    assert text(o, ANCHORAGE) == (
        "A-24 (Alaska DPAWS Case Management Expectations §19): exit summary by the end of the "
        "month after TA closure; "
        "trigger Tue 2026-06-30; due Fri 2026-07-31."
    )


def test_A24_applies_to_closed_cases_while_the_open_case_rules_are_not_applicable():
    obs = evaluate(CLOSED_JUNE_30, as_of=D(2026, 7, 10))
    assert one(obs, "A-24").status == Status.DUE
    for rule in ("A-01", "A-03", "A-06", "A-12", "A-23", "A-33"):
        assert one(obs, rule).status == Status.NA, rule


def test_A24_met_by_an_exit_summary_after_closure():
    obs = evaluate(CLOSED_JUNE_30, service("Exit summary", D(2026, 7, 15)), as_of=D(2026, 7, 20))
    o = one(obs, "A-24")
    assert (o.status, o.met_on) == (Status.MET, D(2026, 7, 15))


def test_A24_met_late_and_overdue():
    late = one(
        evaluate(CLOSED_JUNE_30, service("Exit summary", D(2026, 8, 3)), as_of=D(2026, 8, 5)),
        "A-24",
    )
    assert (late.status, late.met_on) == (Status.MET, D(2026, 8, 3))
    assert text(late, ANCHORAGE).endswith("Met late on Mon 2026-08-03 (3 days late).")
    missing = one(evaluate(CLOSED_JUNE_30, as_of=D(2026, 8, 5)), "A-24")
    assert (missing.status, missing.days_overdue) == (Status.OVERDUE, 5)


def test_A24_met_by_an_exit_summary_written_earlier_in_the_closure_month():
    # "the month of or month following TA closure": June 12 is in the month of a June 30 closure.
    obs = evaluate(CLOSED_JUNE_30, service("Exit summary", D(2026, 6, 12)), as_of=D(2026, 7, 10))
    o = one(obs, "A-24")
    assert (o.trigger, o.due, o.status, o.met_on) == (
        D(2026, 6, 30),
        D(2026, 7, 31),
        Status.MET,
        D(2026, 6, 12),
    )
    assert text(o, ANCHORAGE).endswith("due Fri 2026-07-31. Met on Fri 2026-06-12.")
    on_the_first = one(
        evaluate(CLOSED_JUNE_30, service("Exit summary", D(2026, 6, 1)), as_of=D(2026, 7, 10)),
        "A-24",
    )
    assert (on_the_first.status, on_the_first.met_on) == (Status.MET, D(2026, 6, 1))


def test_A24_an_exit_summary_from_before_the_closure_month_does_not_count():
    closed_july_1 = client(WF, OLD, closure_date=D(2026, 7, 1))
    obs = evaluate(closed_july_1, service("Exit summary", D(2026, 6, 30)), as_of=D(2026, 7, 10))
    o = one(obs, "A-24")
    assert (o.due, o.status, o.met_on) == (D(2026, 8, 31), Status.DUE, None)
    earlier = one(
        evaluate(CLOSED_JUNE_30, service("Exit summary", D(2026, 5, 31)), as_of=D(2026, 8, 5)),
        "A-24",
    )
    assert (earlier.status, earlier.days_overdue) == (Status.OVERDUE, 5)


def test_A24_due_six_days_ahead_is_DUE_and_five_days_ahead_is_DUE_SOON():
    assert one(evaluate(CLOSED_JUNE_30, as_of=D(2026, 7, 25)), "A-24").status == Status.DUE
    assert one(evaluate(CLOSED_JUNE_30, as_of=D(2026, 7, 26)), "A-24").status == Status.DUE_SOON


@pytest.mark.parametrize(
    ("closed", "due"),
    [
        (D(2026, 7, 1), D(2026, 8, 31)),
        (D(2026, 1, 15), D(2026, 2, 28)),
        (D(2026, 12, 31), D(2027, 1, 31)),
    ],
)
def test_A24_is_due_at_the_end_of_the_month_after_the_closure_month(closed, due):
    o = one(evaluate(client(WF, OLD, closure_date=closed), as_of=closed), "A-24")
    assert o.due == due


def test_A24_not_applicable_without_a_closure_date():
    o = one(evaluate(client(WF, OLD), as_of=D(2026, 7, 10)), "A-24")
    assert (o.status, o.reason) == (Status.NA, "no trigger date yet")
    assert text(o, ANCHORAGE).endswith("Not applicable: no trigger date yet.")


# ---------------------------------------------------------------- A-33 Work First checklist

A33_REF = D(2026, 1, 31)  # EDATE(Jan 31, 1) = Feb 28


A33_LAST = D(2026, 2, 20)


def a33_items(last=A33_LAST, skip=None):
    names = ["ALEXsys registration", "Resume", "General application", "Budget"]
    days = [D(2026, 2, 2), D(2026, 2, 5), D(2026, 2, 9), last]
    return [service(n, d) for n, d in zip(names, days, strict=True) if n != skip]


def test_A33_all_four_items_within_one_month_met_on_the_last_of_them():
    o = one(evaluate(client(WF, A33_REF), *a33_items(), as_of=D(2026, 2, 25)), "A-33")
    assert (o.due, o.status, o.met_on) == (D(2026, 2, 28), Status.MET, D(2026, 2, 20))


def test_A33_met_late_and_overdue_when_an_item_is_missing():
    late = one(
        evaluate(client(WF, A33_REF), *a33_items(last=D(2026, 3, 4)), as_of=D(2026, 3, 5)), "A-33"
    )
    assert (late.status, late.met_on) == (Status.MET, D(2026, 3, 4))
    assert text(late, ANCHORAGE).endswith("(4 days late).")
    o = one(evaluate(client(WF, A33_REF), *a33_items(skip="Budget"), as_of=D(2026, 3, 3)), "A-33")
    assert (o.status, o.days_overdue) == (Status.OVERDUE, 3)


def test_A33_due_six_days_ahead_is_DUE_and_five_days_ahead_is_DUE_SOON():
    assert one(evaluate(client(WF, A33_REF), as_of=D(2026, 2, 22)), "A-33").status == Status.DUE
    assert (
        one(evaluate(client(WF, A33_REF), as_of=D(2026, 2, 23)), "A-33").status == Status.DUE_SOON
    )


def test_A33_is_work_first_only_and_not_applicable_when_closed():
    assert absent(evaluate(client(FF, A33_REF), as_of=D(2026, 2, 22)), "A-33")
    o = one(
        evaluate(client(WF, A33_REF, closure_date=D(2026, 2, 10)), as_of=D(2026, 2, 22)), "A-33"
    )
    assert (o.status, o.reason) == (Status.NA, "case closed on 2026-02-10")


# ---------------------------------------------------------------- A-38 Families First review


def test_A38_monthly_track_review_for_families_first():
    o = for_month(
        evaluate(client(FF, OLD), service("Track review", D(2026, 3, 3)), as_of=D(2026, 3, 10)),
        "A-38",
        MAR,
    )
    assert (o.status, o.met_on, o.due) == (Status.MET, D(2026, 3, 3), D(2026, 3, 31))
    o = for_month(
        evaluate(client(FF, OLD), service("Track review", D(2026, 2, 27)), as_of=D(2026, 3, 10)),
        "A-38",
        MAR,
    )
    assert (o.status, o.found) == (Status.DUE, 0)
    assert text(o, ANCHORAGE) == (
        "A-38 (Alaska DPAWS Case Management Expectations, Families First §4): a track review in "
        "March 2026; due Tue 2026-03-31. So far: 0 found."
    )


def test_A38_a_previous_month_without_a_track_review_is_OVERDUE():
    obs = evaluate(client(FF, OLD), service("Track review", D(2026, 3, 3)), as_of=D(2026, 3, 10))
    feb = for_month(obs, "A-38", FEB)
    assert (feb.trigger, feb.due, feb.status, feb.days_overdue, feb.found) == (
        FEB,
        D(2026, 2, 28),
        Status.OVERDUE,
        10,
        0,
    )
    assert text(feb, ANCHORAGE) == (
        "A-38 (Alaska DPAWS Case Management Expectations, Families First §4): a track review in "
        "February 2026; due Sat 2026-02-28. "
        "So far: 0 found. Not done: 10 days overdue."
    )
    assert for_month(obs, "A-38", MAR).status == Status.MET


@pytest.mark.parametrize("rule_id", ["A-06", "A-07", "A-38"])
def test_A38_and_the_other_alaska_monthly_rules_show_one_missed_month_by_default_and_none_at_0(
    rule_id,
):
    ff = client(FF, OLD, engaged=False)
    assert periods_of(evaluate(ff, as_of=D(2026, 3, 10)), rule_id) == [FEB, MAR]
    current_only = evaluate(ff, as_of=D(2026, 3, 10), settings={"Missed months shown": 0})
    assert periods_of(current_only, rule_id) == [MAR]
    # A-23 reports on last month by nature: the setting does not add months to it.
    assert periods_of(current_only, "A-23") == [FEB]
    assert periods_of(evaluate(ff, as_of=D(2026, 3, 10)), "A-23") == [FEB]


def test_A38_due_soon_edge_and_not_in_the_referral_month():
    six = for_month(evaluate(client(FF, OLD), as_of=D(2026, 3, 25)), "A-38", MAR)
    five = for_month(evaluate(client(FF, OLD), as_of=D(2026, 3, 26)), "A-38", MAR)
    assert (six.status, five.status) == (Status.DUE, Status.DUE_SOON)
    assert absent(evaluate(client(FF, D(2026, 3, 2)), as_of=D(2026, 3, 26)), "A-38")


def test_A38_is_families_first_only_and_not_applicable_when_closed():
    assert absent(evaluate(client(WF, OLD), as_of=D(2026, 3, 10)), "A-38")
    o = one(evaluate(client(FF, OLD, closure_date=D(2026, 3, 1)), as_of=D(2026, 3, 10)), "A-38")
    assert (o.status, o.reason) == (Status.NA, "case closed on 2026-03-01")


# ---------------------------------------------------------------- A-39 Families First 60 days

A39_REF = D(2026, 3, 2)  # + 60 calendar days = Fri 2026-05-01


A39_LAST = D(2026, 4, 20)


def a39_items(last=A39_LAST, skip=None):
    names = ["Family Network", "Family Support Team", "Weekly Calendar of Routines"]
    days = [D(2026, 3, 10), D(2026, 3, 30), last]
    return [service(n, d) for n, d in zip(names, days, strict=True) if n != skip]


def test_A39_network_team_and_calendar_within_60_days():
    o = one(evaluate(client(FF, A39_REF), *a39_items(), as_of=D(2026, 4, 25)), "A-39")
    assert (o.due, o.status, o.met_on) == (D(2026, 5, 1), Status.MET, D(2026, 4, 20))
    late = one(
        evaluate(client(FF, A39_REF), *a39_items(last=D(2026, 5, 4)), as_of=D(2026, 5, 5)), "A-39"
    )
    assert text(late, ANCHORAGE).endswith("Met late on Mon 2026-05-04 (3 days late).")


def test_A39_overdue_when_one_is_missing_and_window_edges():
    o = one(
        evaluate(client(FF, A39_REF), *a39_items(skip="Family Support Team"), as_of=D(2026, 5, 11)),
        "A-39",
    )
    assert (o.status, o.days_overdue) == (Status.OVERDUE, 10)
    assert one(evaluate(client(FF, A39_REF), as_of=D(2026, 4, 25)), "A-39").status == Status.DUE
    assert (
        one(evaluate(client(FF, A39_REF), as_of=D(2026, 4, 26)), "A-39").status == Status.DUE_SOON
    )


def test_A39_is_families_first_only_and_not_applicable_when_closed():
    assert absent(evaluate(client(WF, A39_REF), as_of=D(2026, 4, 25)), "A-39")
    o = one(evaluate(client(FF, A39_REF, closure_date=D(2026, 4, 1)), as_of=D(2026, 4, 25)), "A-39")
    assert (o.status, o.reason) == (Status.NA, "case closed on 2026-04-01")
