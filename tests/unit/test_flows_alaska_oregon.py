"""Alaska ATAP, Oregon JOBS and WIOA Youth flows (domain.md 2.3, 2.4, 2.7)."""

from __future__ import annotations

from pyxl.domain.model import Caseload, Program, Service, Status
from pyxl.domain.obligations import explain
from pyxl.domain.sanctions import engagement_by_flow
from pyxl.policy import default_settings, flowbook
from tests.unit.flowkit import (
    CALENDARS,
    D,
    appointment,
    client,
    clock,
    contact,
    evaluate,
    event,
    messages,
    penalty,
    state,
)

WORK_FIRST, JOBS, YOUTH = Program.ATAP_WORK_FIRST, Program.OR_JOBS, Program.TX_WIOA_YOUTH

# ---------------------------------------------------------------- Alaska ATAP

AK = client(WORK_FIRST)
NOT_ENGAGED = client(WORK_FIRST, engaged=False)


def test_a07_a_client_not_engaged_needs_two_attempts_by_two_methods_this_month():
    s = state(NOT_ENGAGED, D(2026, 3, 10), contacts=[contact(D(2026, 3, 3), "Phone")])
    assert s.state == "Not engaged"
    assert s.next_action == (
        "Contact attempt needed: 1 of 2 this month, by 2 methods (phone, letter, home visit)"
    )
    assert s.letter == "APPT"
    tried = [
        contact(D(2026, 3, 3), "Phone"),
        contact(D(2026, 3, 5), "Letter", purpose="Engagement"),
    ]
    s = state(NOT_ENGAGED, D(2026, 3, 10), contacts=tried)
    assert s.next_action.startswith("Decide good cause") and s.letter is None


def test_a08_no_good_cause_asks_for_the_penalty_within_one_business_day_skipping_alaska_day():
    no = event(D(2026, 10, 16), "Good cause: no", decided_by="Case manager")
    s = state(NOT_ENGAGED, D(2026, 10, 19), events=[no])
    assert s.state == "Penalty due"
    c = clock(s, "NC-AK-08")
    assert c.due == D(2026, 10, 20)
    text = explain(c, flowbook().rules["NC-AK-08"], default_settings(), CALENDARS["Anchorage"])
    assert "Mon 2026-10-19 is Alaska Day (observed)" in text


def test_a08_a_penalty_request_without_a_good_cause_decision_is_flagged():
    early = penalty(WORK_FIRST, requested_date=D(2026, 3, 4))
    flows = evaluate(NOT_ENGAGED, D(2026, 3, 10), penalties=[early])
    assert any("needs a good-cause decision first" in m for m in messages(flows))


def test_a_penalty_starts_at_40_percent_the_month_after_notice_and_rises_to_75_then_100():
    no = event(D(2026, 3, 2), "Good cause: no")
    p = penalty(WORK_FIRST, requested_date=D(2026, 3, 3), imposed_date=D(2026, 3, 20))
    kit = {"events": [no], "penalties": [p]}
    s = state(NOT_ENGAGED, D(2026, 4, 2), **kit)
    assert s.state == "Penalty 40%"
    assert s.next_action == (
        "Penalty 40%: home visit and CANO decision before it rises to 75% on Sat 2026-08-01"
    )
    assert state(NOT_ENGAGED, D(2026, 8, 3), **kit).state == "Penalty 75%"
    assert state(NOT_ENGAGED, D(2026, 12, 2), **kit).state == "Penalty 100% (full family)"
    flows = evaluate(NOT_ENGAGED, D(2026, 9, 1), **kit)
    assert flows.penalties[0].expected.startswith(
        "40% from Wed 2026-04-01; 75% from Sat 2026-08-01; 100% from Tue 2026-12-01"
    )
    assert flows.penalties[0].expected.endswith("75% as of Tue 2026-09-01")


def test_a_home_visit_before_the_75_percent_step_meets_its_clock():
    no = event(D(2026, 3, 2), "Good cause: no")
    p = penalty(WORK_FIRST, requested_date=D(2026, 3, 3), imposed_date=D(2026, 3, 20))
    late = state(NOT_ENGAGED, D(2026, 8, 3), events=[no], penalties=[p])
    assert clock(late, "NC-AK-75").status == Status.OVERDUE
    visit = contact(D(2026, 7, 20), "Home visit")
    s = state(NOT_ENGAGED, D(2026, 7, 21), events=[no], penalties=[p], contacts=[visit])
    assert clock(s, "NC-AK-75").met_on == D(2026, 7, 20)
    assert s.next_action == "Penalty 40%: rises to 75% on Sat 2026-08-01 unless the client complies"


def test_a19_a_penalty_ends_back_to_the_earlier_of_intent_and_compliance():
    no = event(D(2026, 3, 2), "Good cause: no")
    p = penalty(
        WORK_FIRST,
        requested_date=D(2026, 3, 3),
        imposed_date=D(2026, 3, 20),
        intent_date=D(2026, 5, 11),
        compliance_date=D(2026, 5, 4),
    )
    flows = evaluate(NOT_ENGAGED, D(2026, 5, 12), events=[no], penalties=[p])
    assert flows.penalties[0].end_effective == D(2026, 5, 4)
    s = flows.states["C1"]
    assert s.state == "Penalty to end"
    assert s.next_action == "Request to end the penalty effective Mon 2026-05-04 (A-19)"
    ended = p._replace(ended_date=D(2026, 5, 13))
    assert state(AK, D(2026, 5, 14), events=[no], penalties=[ended]).state == "Engaged"


# ---------------------------------------------------------------- Oregon JOBS

OR = client(JOBS)
NO_SHOW = appointment(D(2026, 3, 2), "Activity", "No-show")
WRITTEN = contact(D(2026, 3, 3), "Postcard", purpose="Engagement")
PHONE = contact(D(2026, 3, 4), "Phone", purpose="Engagement")


def test_o06_a_missed_activity_starts_non_participation_and_the_10_day_conciliation_clock():
    s = state(OR, D(2026, 3, 3), appointments=[NO_SHOW])
    assert s.state == "Non-participation"
    assert (s.next_action, s.letter) == (
        "First contact attempt needed: one must be in writing",
        "OR-ENGAGE",
    )
    assert clock(s, "NC-OR-01").due == D(2026, 3, 16)  # 10 working days


def test_a_no_show_after_calling_ahead_starts_nothing():
    called = appointment(D(2026, 3, 2), "Activity", "No-show", called_ahead=True)
    assert state(OR, D(2026, 3, 3), appointments=[called]).state == "Engaged"


def test_o05_two_phone_attempts_are_not_enough_one_must_be_in_writing():
    phones = [PHONE, contact(D(2026, 3, 5), "Home visit")]
    s = state(OR, D(2026, 3, 6), appointments=[NO_SHOW], contacts=phones)
    assert s.state == "Non-participation"
    assert s.next_action == "Third contact attempt needed: one must be in writing"


def test_o08_two_unsuccessful_attempts_one_written_open_re_engagement():
    s = state(OR, D(2026, 3, 5), appointments=[NO_SHOW], contacts=[WRITTEN, PHONE])
    assert s.state == "Re-engagement"
    assert (s.next_action, s.letter) == ("Hold the conciliation by Mon 2026-03-16", "OR-CONCIL")
    assert s.reply_by == D(2026, 3, 16)  # the conciliation letter's reply-by is the O-01 date


def test_a_successful_contact_before_re_engagement_ends_the_episode():
    reached = contact(D(2026, 3, 3), "Phone", successful=True)
    s = state(OR, D(2026, 3, 5), appointments=[NO_SHOW], contacts=[reached])
    assert s.state == "Engaged"


def test_o05_re_engagement_without_the_two_attempts_is_flagged():
    decided = event(D(2026, 3, 4), "Good cause: no", decided_by="Re-engagement team")
    flows = evaluate(
        OR, D(2026, 3, 5), appointments=[NO_SHOW], contacts=[WRITTEN], events=[decided]
    )
    assert flows.states["C1"].state == "Disqualification due"
    (flag,) = flows.flags
    assert flag.origin == ("Noncompliance", 0, "Event")
    assert "two contact attempts, one in writing" in flag.message


def test_o01_good_cause_found_at_conciliation_returns_to_engaged_and_meets_the_clock():
    yes = event(D(2026, 3, 12), "Good cause: yes", decided_by="Case manager")
    s = state(OR, D(2026, 3, 13), appointments=[NO_SHOW], contacts=[WRITTEN, PHONE], events=[yes])
    assert s.state == "Engaged"
    c = clock(s, "NC-OR-01")
    assert (c.status, c.met_on) == (Status.MET, D(2026, 3, 12))


def oregon_dq(day: int, *prior: tuple) -> dict:
    """A decision to disqualify on 2026-03-`day`, with the Re-Engagement page done."""
    events = [
        event(D(2026, 3, day), "Good cause: no", decided_by="Re-engagement team"),
        event(D(2026, 3, day), "Re-engagement page completed"),
        event(D(2026, 3, day + 1), "Re-engagement page finalized"),
    ]
    return {
        "appointments": [NO_SHOW],
        "contacts": [WRITTEN, PHONE],
        "events": events,
        "penalties": list(prior),
    }


def test_o02_the_next_step_of_the_ladder_comes_from_the_persons_history_in_other_branches():
    earlier = penalty(
        JOBS,
        imposed_date=D(2025, 6, 2),
        ended_date=D(2025, 7, 1),
        step=1,
        level=1,
        branch="Salem",
        case_manager="A. Former",
    )
    s = state(OR, D(2026, 3, 13), **oregon_dq(12, earlier))
    assert s.state == "Re-engagement page finalized"
    assert s.next_action == ("Record the disqualification (step 2, level 1) on the Penalties sheet")
    dq = penalty(JOBS, imposed_date=D(2026, 3, 16), step=2, level=1)
    flows = evaluate(OR, D(2026, 3, 17), **{**oregon_dq(12, earlier, dq)})
    assert flows.states["C1"].state == "Disqualified"
    assert flows.states["C1"].letter == "DQ-NOTICE"
    assert flows.penalties[1].expected.startswith("step 2, level 1")
    assert flows.flags == ()


def test_the_ladder_and_the_lapse_are_settings():
    earlier = penalty(JOBS, imposed_date=D(2024, 6, 2), ended_date=D(2024, 7, 1))
    dq = penalty(JOBS, imposed_date=D(2026, 3, 16), step=2, level=1)
    kit = oregon_dq(12, earlier, dq)
    flows = evaluate(OR, D(2026, 3, 17), settings={"Oregon DQ levels by step": (1, 2, 3)}, **kit)
    assert flows.penalties[1].expected.startswith("step 2, level 2")
    assert "step 2 is level 2 on the ladder, not 1" in messages(flows)
    flows = evaluate(OR, D(2026, 3, 17), settings={"Oregon DQ lapse months": 12}, **kit)
    assert "the person's history puts this disqualification at step 1, not 2" in messages(flows)


def test_o09_finalizing_the_re_engagement_page_before_completing_it_is_flagged():
    kit = oregon_dq(12)
    kit["events"] = [kit["events"][0], kit["events"][2]]
    flows = evaluate(OR, D(2026, 3, 14), **kit)
    assert any("must be completed before it is finalized (O-09)" in m for m in messages(flows))


def test_o04_re_engagement_request_starts_a_two_week_cooperation_trial():
    dq = penalty(JOBS, imposed_date=D(2026, 3, 16), step=1, level=1)
    kit = oregon_dq(12, dq)
    kit["events"].append(event(D(2026, 4, 1), "Re-engagement requested"))
    s = state(OR, D(2026, 4, 2), **kit)
    assert s.state == "Cooperation trial"
    assert clock(s, "NC-OR-04").due == D(2026, 4, 15)
    assert s.letter == "OR-CONCIL"
    s = state(OR, D(2026, 4, 16), **kit)
    assert s.state == "Cooperation trial: result due"
    kit["events"].append(event(D(2026, 4, 16), "Cooperation trial passed"))
    assert state(OR, D(2026, 4, 17), **kit).state == "Engaged"


def test_o04_non_cooperation_in_the_trial_restarts_conciliation_at_the_next_step():
    dq = penalty(JOBS, imposed_date=D(2026, 3, 16), step=1, level=1)
    kit = oregon_dq(12, dq)
    kit["events"].append(event(D(2026, 4, 1), "Re-engagement requested"))
    kit["events"].append(
        event(D(2026, 4, 8), "Cooperation trial failed", reported_date=D(2026, 4, 9))
    )
    s = state(OR, D(2026, 4, 9), **kit)
    assert s.state == "Non-participation"
    assert clock(s, "NC-OR-01").trigger == D(2026, 4, 9)
    more = [
        contact(D(2026, 4, 10), "Letter", purpose="Re-engagement"),
        contact(D(2026, 4, 13), "Phone"),
    ]
    kit["contacts"] = kit["contacts"] + more
    kit["events"].append(event(D(2026, 4, 20), "Good cause: no"))
    s = state(OR, D(2026, 4, 21), **kit)
    assert s.state == "Disqualification due"
    assert s.next_action.startswith("Disqualify at step 2 (level 1)")


def test_o07_a_pattern_of_non_cooperation_uses_its_reported_date():
    pattern = event(D(2026, 3, 2), "Pattern of non-cooperation", reported_date=D(2026, 3, 6))
    s = state(OR, D(2026, 3, 9), events=[pattern])
    assert clock(s, "NC-OR-01").trigger == D(2026, 3, 6)


# ---------------------------------------------------------------- WIOA Youth


def youth(**fields) -> tuple:
    person = client(YOUTH, referral_date=D(2026, 1, 5), **fields)
    services = [
        Service("C1", "COA (08)", D(2026, 1, 5), qualifying=True),
        Service("C1", "ISS (68)", D(2026, 1, 20), qualifying=True),
    ]
    return person, services


def test_y05_a_youth_quiet_for_30_days_enters_the_disengaged_search_phone_first():
    person, services = youth()
    s = state(person, D(2026, 2, 25), services=services)
    assert s.state == "Disengaged search"
    assert s.next_action == "Disengaged search: phone the primary and any alternative numbers"


def test_y06_after_an_unanswered_phone_call_the_re_engagement_letter_is_due():
    person, services = youth()
    called = contact(D(2026, 2, 23), "Phone")
    s = state(person, D(2026, 2, 25), services=services, contacts=[called])
    assert (s.letter, s.next_action) == (
        "YOUTH-REENG",
        "Send the re-engagement letter to every address on file",
    )
    assert clock(s, "NC-Y-06").due == D(2026, 3, 2)
    sent = contact(D(2026, 2, 26), "Letter", purpose="Disengaged search")
    s = state(person, D(2026, 2, 27), services=services, contacts=[called, sent])
    assert s.next_action == "Disengaged search: home visit, if appropriate"
    assert clock(s, "NC-Y-06").met_on == D(2026, 2, 26)


def test_y08_a_youth_without_a_qualifying_service_for_90_days_is_ready_to_exit_at_the_last_one():
    person, services = youth()
    s = state(person, D(2026, 4, 21), services=services)
    assert s.state == "Ready to exit"
    assert s.next_action.startswith("Ready to exit on Tue 2026-01-20")


def test_y07_a_valid_planned_gap_holds_the_exit():
    person, services = youth()
    gap = Service(
        "C1",
        "Planned gap (11)",
        D(2026, 2, 1),
        D(2026, 6, 1),
        gap_reason="Caring for a family member",
    )
    s = state(person, D(2026, 4, 21), services=[*services, gap])
    assert s.state == "Planned gap"


def test_y09_an_exited_youth_has_twelve_months_of_follow_up():
    person, services = youth(closure_date=D(2026, 4, 30))
    s = state(person, D(2026, 6, 1), services=services)
    assert (s.state, s.next_action) == ("Follow-up", "Follow-up services to Fri 2027-04-30 (Y-09)")
    assert state(person, D(2027, 5, 3), services=services).state == "Closed"


def test_engagement_by_flow_names_only_the_alaska_cases_whose_engaged_column_it_contradicts():
    clients = (
        client(WORK_FIRST, "AK-YES"),  # Engaged = Yes, a missed activity recorded: not engaged
        client(WORK_FIRST, "AK-NO", engaged=False),  # No, and good cause found: engaged again
        client(WORK_FIRST, "AK-AGREE", engaged=False),  # No, a missed activity: they agree
        client(JOBS, "OR-1"),  # Oregon: no Engaged column to contradict
    )
    events = (
        event(D(2026, 3, 3), "Missed activity", case_id="AK-YES"),
        event(D(2026, 3, 4), "Good cause: yes", case_id="AK-NO"),
        event(D(2026, 3, 3), "Missed activity", case_id="AK-AGREE"),
        event(D(2026, 3, 3), "Missed activity", case_id="OR-1"),
    )
    found = engagement_by_flow(
        Caseload(clients=clients, noncompliance=events),
        flowbook(),
        default_settings(),
        CALENDARS,
        D(2026, 3, 10),
    )
    assert found == {"AK-YES": False, "AK-NO": True}
