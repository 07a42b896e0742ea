"""Texas Choices (TANF) and Texas SNAP E&T non-compliance flows (domain.md 2.1, 2.2)."""

from __future__ import annotations

from pyxl.domain.model import Program, Status
from tests.unit.flowkit import (
    D,
    appointment,
    clock,
    contact,
    evaluate,
    event,
    messages,
    penalty,
    state,
    week,
)

CHOICES, SNAP = Program.TX_CHOICES, Program.TX_SNAP_ET
from tests.unit.flowkit import client  # noqa: E402

TANF = client(CHOICES)
MISSED = event(D(2026, 3, 3), "Missed activity", reported_date=D(2026, 3, 5))
LETTER = contact(D(2026, 3, 6), "Letter", purpose="Non-compliance", reply_by=D(2026, 3, 13))


# ---------------------------------------------------------------- Texas Choices


def test_t07_missed_activity_asks_for_the_non_compliance_letter_and_starts_the_7_day_clock():
    s = state(TANF, D(2026, 3, 9), events=[MISSED])
    assert s.state == "Non-cooperation"
    assert (s.next_action, s.letter) == ("Send non-compliance letter", "TX-NONCOMP")
    assert s.reply_by == D(2026, 3, 12)  # the letter asks for an answer inside the 7 days
    c = clock(s, "NC-TX-07")
    # B-801: the 7 days run from the later of the noncompliance and the discovery date.
    assert (c.trigger, c.due, c.status) == (D(2026, 3, 5), D(2026, 3, 12), Status.DUE_SOON)


def test_t08_a_sent_letter_waits_for_its_reply_by_date():
    s = state(TANF, D(2026, 3, 10), events=[MISSED], contacts=[LETTER])
    assert s.state == "Non-compliance letter sent"
    assert s.next_action == "Wait for the client's reply by Fri 2026-03-13"
    assert s.reply_by == D(2026, 3, 13) and s.letter is None


def test_t08_no_response_by_the_reply_by_date_asks_for_the_penalty_request():
    s = state(TANF, D(2026, 3, 16), events=[MISSED], contacts=[LETTER])
    assert s.state == "No response"
    assert s.next_action == (
        "Request penalty: no response by Fri 2026-03-13, no good cause recorded"
    )
    c = clock(s, "NC-TX-07")  # still the first clock: a no-response does not restart it
    assert (c.due, c.status, c.days_overdue) == (D(2026, 3, 12), Status.OVERDUE, 4)


def test_a_letter_without_a_reply_by_date_gives_the_reply_by_days_setting():
    plain = contact(D(2026, 3, 6), "Letter", purpose="Non-compliance")
    assert state(TANF, D(2026, 3, 10), events=[MISSED], contacts=[plain]).reply_by == D(2026, 3, 16)
    s = state(
        TANF, D(2026, 3, 10), events=[MISSED], contacts=[plain], settings={"Reply-by days": 3}
    )
    assert s.state == "No response"  # replied-by passed on the 9th


def test_t09_a_response_goes_to_the_psr_and_good_cause_yes_ends_the_episode():
    responded = event(D(2026, 3, 10), "Client responded")
    s = state(TANF, D(2026, 3, 11), events=[MISSED, responded], contacts=[LETTER])
    assert s.state == "Good cause review"
    assert s.next_action.startswith("PSR to decide good cause")
    yes = event(D(2026, 3, 11), "Good cause: yes", decided_by="PSR")
    s = state(TANF, D(2026, 3, 12), events=[MISSED, responded, yes], contacts=[LETTER])
    assert (s.state, s.next_action) == ("Active", "")
    assert clock(s, "NC-TX-07").met_on == D(2026, 3, 11)


def test_t09_no_good_cause_starts_the_7_day_penalty_request_clock():
    responded = event(D(2026, 3, 10), "Client responded")
    no = event(D(2026, 3, 11), "Good cause: no", decided_by="PSR")
    s = state(TANF, D(2026, 3, 12), events=[MISSED, responded, no], contacts=[LETTER])
    assert s.state == "Penalty due"
    assert s.next_action == "Request penalty: no good cause (PSR decision on Wed 2026-03-11)"
    c = clock(s, "NC-TX-09")
    assert (c.trigger, c.due) == (D(2026, 3, 11), D(2026, 3, 18))


def test_a_penalty_request_without_a_good_cause_decision_or_no_response_is_flagged():
    early = penalty(CHOICES, requested_date=D(2026, 3, 7))
    flows = evaluate(TANF, D(2026, 3, 9), events=[MISSED], contacts=[LETTER], penalties=[early])
    s = flows.states["C1"]
    assert s.state == "Penalty requested"  # the record stands ...
    (flag,) = flows.flags  # ... but is never silently accepted
    assert flag.origin == ("Penalties", 0, "Requested Date")
    assert "needs a no-response record or the PSR's good-cause decision" in flag.message
    assert s.next_action.startswith("Check: Penalty requested on Sat 2026-03-07")


def test_a_sanction_cured_by_a_month_of_cooperation_asks_for_form_2583():
    p = penalty(
        CHOICES,
        requested_date=D(2026, 3, 16),
        imposed_date=D(2026, 3, 20),
        intent_date=D(2026, 4, 2),
    )
    history = {"events": [MISSED], "contacts": [LETTER], "penalties": [p]}
    s = state(TANF, D(2026, 4, 10), **history)
    assert s.state == "Curing"
    assert s.next_action == (
        "Cooperation month runs to Sat 2026-05-02; then send Form 2583 to rescind the sanction"
    )
    assert clock(s, "NC-TX-07").met_on == D(2026, 3, 16)
    s = state(TANF, D(2026, 5, 4), **history)
    assert s.state == "Cured"
    assert s.next_action == "Send Form 2583: sanction cured on Sat 2026-05-02"
    assert clock(s, "NC-TX-13").status == Status.OVERDUE
    sent = event(D(2026, 5, 4), "Form 2583 sent")
    history["events"] = [MISSED, sent]
    s = state(TANF, D(2026, 5, 5), **history)
    assert s.state == "Active" and clock(s, "NC-TX-13").met_on == D(2026, 5, 4)


def test_the_minimum_sanction_is_one_month_or_until_cooperation():
    p = penalty(CHOICES, requested_date=D(2026, 3, 16), imposed_date=D(2026, 3, 20))
    flows = evaluate(TANF, D(2026, 3, 25), events=[MISSED], contacts=[LETTER], penalties=[p])
    view = flows.penalties[0]
    assert view.minimum_end == D(2026, 4, 20)
    assert "or until the family cooperates, whichever is longer" in view.expected
    assert flows.states["C1"].state == "Sanctioned"


def test_t19_a_conditional_applicant_needs_four_consecutive_weeks_then_form_2588():
    start = event(D(2026, 3, 2), "Conditional applicant")
    attended = appointment(D(2026, 3, 3), "Orientation", "Kept")
    weeks = [week(D(2026, 3, 2), 30), week(D(2026, 3, 9), 12), week(D(2026, 3, 16), 31)]
    weeks += [week(D(2026, 3, 23), 30), week(D(2026, 3, 30), 35), week(D(2026, 4, 6), 30)]
    s = state(TANF, D(2026, 4, 1), events=[start], appointments=[attended], hours=weeks)
    assert s.state == "Conditional applicant"  # the short week broke the first run
    assert clock(s, "NC-TX-19").due == D(2026, 4, 11)  # 40 days from the referral as conditional
    s = state(TANF, D(2026, 4, 13), events=[start], appointments=[attended], hours=weeks)
    assert s.state == "Conditional: four weeks done"
    assert s.next_action == (
        "Send Form 2588: four consecutive weeks of cooperation finished Sun 2026-04-12"
    )


def test_an_exempt_participant_is_not_penalised_services_end_instead():
    exempt = event(D(2026, 3, 1), "Exemption started")
    s = state(TANF, D(2026, 3, 9), events=[exempt, MISSED])
    assert s.state == "Exempt: services to end"
    assert "no penalty (40 TAC 811.14(b)(2))" in s.next_action
    assert s.obligations == ()


def test_t07_notification_without_orientation_reaches_no_response_after_the_reply_by_date():
    outreach = event(D(2026, 3, 2), "Outreach started", reply_by=D(2026, 3, 9))
    s = state(TANF, D(2026, 3, 4), events=[outreach])
    assert (s.state, s.letter) == ("Notified", "APPT")
    s = state(TANF, D(2026, 3, 12), events=[outreach])
    assert s.state == "No response"
    assert (clock(s, "NC-TX-07").trigger, clock(s, "NC-TX-07").due) == (
        D(2026, 3, 10),
        D(2026, 3, 17),
    )
    came = appointment(D(2026, 3, 11), "Orientation", "Kept")
    assert state(TANF, D(2026, 3, 12), events=[outreach], appointments=[came]).state == "Active"


# ---------------------------------------------------------------- Texas SNAP E&T

FOOD = client(SNAP)
OUTREACH = contact(D(2026, 2, 2), "Letter", purpose="Outreach", reply_by=D(2026, 2, 12))


def test_t03_a_client_in_the_outreach_pool_needs_the_outreach_letter():
    s = state(FOOD, D(2026, 1, 7))
    assert (s.state, s.letter) == ("Outreach pool", "SNAP-OUTREACH")


def test_orientation_after_the_outreach_letter_makes_the_client_active():
    came = appointment(D(2026, 2, 10), "Orientation", "Kept")
    s = state(FOOD, D(2026, 2, 20), contacts=[OUTREACH], appointments=[came])
    assert (s.state, s.next_action) == ("Active", "")


def test_t10_no_response_to_outreach_starts_the_penalty_request_clock():
    s = state(FOOD, D(2026, 2, 16), contacts=[OUTREACH])
    assert s.state == "No response"
    assert s.next_action == (
        "Request penalty: no response to outreach by Thu 2026-02-12 (Form H1816)"
    )
    c = clock(s, "NC-SNAP-10")
    assert (c.trigger, c.due) == (D(2026, 2, 13), D(2026, 2, 20))


def test_t11_hours_short_asks_for_a_penalty_request_or_good_cause():
    came = appointment(D(2026, 2, 10), "Orientation", "Kept")
    short = event(D(2026, 3, 9), "Hours short")
    s = state(FOOD, D(2026, 3, 10), contacts=[OUTREACH], appointments=[came], events=[short])
    assert s.state == "Non-cooperation"
    assert clock(s, "NC-SNAP-11").due == D(2026, 3, 16)


def snap_history(*imposed: tuple[int, int, int]) -> list:
    return [
        penalty(SNAP, requested_date=D(*day), imposed_date=D(*day), ended_date=None)
        for day in imposed
    ]


def test_disqualifications_last_1_3_then_6_months_counted_over_the_persons_history():
    rows = [
        penalty(
            SNAP, requested_date=D(2024, 5, 1), imposed_date=D(2024, 5, 3), ended_date=D(2024, 6, 3)
        ),
        penalty(
            SNAP, requested_date=D(2025, 1, 6), imposed_date=D(2025, 1, 8), ended_date=D(2025, 4, 8)
        ),
        penalty(SNAP, requested_date=D(2026, 2, 17), imposed_date=D(2026, 2, 20)),
        penalty(SNAP, requested_date=D(2026, 9, 1), imposed_date=D(2026, 9, 2), step=3),
    ]
    flows = evaluate(FOOD, D(2026, 3, 2), contacts=[OUTREACH], penalties=rows[:3])
    assert [v.minimum_end for v in flows.penalties] == [
        D(2024, 6, 3),
        D(2025, 4, 8),
        D(2026, 8, 20),
    ]
    assert flows.penalties[2].expected.startswith("3rd disqualification: at least 6 months")
    flows = evaluate(FOOD, D(2026, 9, 3), contacts=[OUTREACH], penalties=rows)
    assert flows.penalties[3].minimum_end == D(2027, 3, 2)  # a 4th is still 6 months
    assert "this is the person's 4th SNAP disqualification, not the 3rd" in messages(flows)


def test_the_snap_schedule_is_a_setting():
    rows = [penalty(SNAP, requested_date=D(2026, 2, 17), imposed_date=D(2026, 2, 20))]
    flows = evaluate(
        FOOD,
        D(2026, 3, 2),
        contacts=[OUTREACH],
        penalties=rows,
        settings={"SNAP disqualification months": (3, 6, 6)},
    )
    assert flows.penalties[0].minimum_end == D(2026, 5, 20)


def test_a_disqualification_lasts_until_compliance_when_that_is_later_than_the_minimum():
    rows = [penalty(SNAP, requested_date=D(2026, 2, 17), imposed_date=D(2026, 2, 20))]
    kit = {"contacts": [OUTREACH], "penalties": rows}
    s = state(FOOD, D(2026, 3, 25), **kit)
    assert s.state == "Disqualified: minimum served"
    assert s.next_action.startswith("Minimum period served: the disqualification ends when")
    complied = rows[0]._replace(compliance_date=D(2026, 3, 10))
    s = state(FOOD, D(2026, 3, 12), contacts=[OUTREACH], penalties=[complied])
    assert s.state == "Disqualified: complied"
    assert s.next_action == "Complied; the disqualification runs to Fri 2026-03-20"
    assert state(FOOD, D(2026, 3, 21), contacts=[OUTREACH], penalties=[complied]).state == (
        "Active"
    )
