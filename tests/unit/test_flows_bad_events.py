"""Bad events are reported at the row and column that hold them, and nothing is lost: the
other rows and cases go on."""

from __future__ import annotations

from pyxl.domain.model import Program
from tests.unit.flowkit import D, client, evaluate, event, messages, penalty

CHOICES, SNAP = Program.TX_CHOICES, Program.TX_SNAP_ET
TANF = client(CHOICES)


def test_an_event_dated_after_the_as_of_date_is_flagged_and_does_not_count_yet():
    later = event(D(2026, 3, 20), "Missed activity")
    flows = evaluate(TANF, D(2026, 3, 10), events=[later])
    assert flows.states["C1"].state == "Active"
    (flag,) = flows.flags
    assert flag.origin == ("Noncompliance", 0, "Date")
    assert flag.message == "dated after 2026-03-10: it counts from then"


def test_a_reported_date_before_the_event_and_a_reply_by_before_it_are_flagged():
    odd = event(
        D(2026, 3, 5),
        "Missed activity",
        reported_date=D(2026, 3, 4),
        reply_by=D(2026, 3, 1),
    )
    flows = evaluate(TANF, D(2026, 3, 10), events=[odd])
    assert [f.origin.column for f in flows.flags] == ["Reported Date", "Reply By"]
    assert flows.states["C1"].state == "Non-cooperation"  # the event itself still counts


def test_a_second_imposition_of_the_same_penalty_is_reported_and_ignored():
    first = penalty(SNAP, requested_date=D(2026, 2, 17), imposed_date=D(2026, 2, 20))
    flows = evaluate(client(SNAP), D(2026, 3, 2), penalties=[first, first])
    (duplicate,) = [f for f in flows.flags if "the same penalty" in f.message]
    assert duplicate.message == (
        "the same penalty (imposed Fri 2026-02-20) is already recorded; this row is ignored"
    )
    assert duplicate.origin == ("Penalties", 1, "Imposed Date")
    assert flows.penalties[0].expected.startswith("1st disqualification")  # not the 2nd


def test_dates_out_of_order_on_a_penalty_row_are_reported_at_their_cells():
    backwards = penalty(
        CHOICES,
        requested_date=D(2026, 3, 20),
        imposed_date=D(2026, 3, 16),
        compliance_date=D(2026, 3, 1),
    )
    flows = evaluate(TANF, D(2026, 3, 25), penalties=[backwards])
    found = {(f.origin.column, f.message) for f in flows.flags}
    assert (
        "Imposed Date",
        "imposed on Mon 2026-03-16, before it was requested on Fri 2026-03-20",
    ) in found
    assert (
        "Compliance Date",
        "Compliance Date Sun 2026-03-01 is before the penalty began on Mon 2026-03-16",
    ) in found


def test_a_penalty_imposed_while_another_is_still_in_force_is_reported():
    old = penalty(SNAP, requested_date=D(2026, 1, 5), imposed_date=D(2026, 1, 7))
    new = penalty(SNAP, requested_date=D(2026, 3, 2), imposed_date=D(2026, 3, 4))
    flows = evaluate(client(SNAP), D(2026, 3, 5), penalties=[old, new])
    assert (
        "imposed on Wed 2026-03-04 while the penalty imposed Wed 2026-01-07 has no Ended Date"
        in messages(flows)
    )


def test_an_event_the_flow_does_not_expect_is_flagged_and_changes_nothing():
    odd = event(D(2026, 3, 5), "Cooperation trial passed")
    flows = evaluate(TANF, D(2026, 3, 10), events=[odd])
    assert flows.states["C1"].state == "Active"
    assert messages(flows) == [
        "Cooperation trial passed on Thu 2026-03-05 is not expected while the case is "
        "'Active'; the flow ignores it"
    ]


def test_one_cases_bad_row_does_not_stop_another_case():
    other = client(CHOICES, case_id="C2")
    bad = event(D(2026, 3, 20), "Missed activity")
    good = event(D(2026, 3, 3), "Missed activity", case_id="C2")
    flows = evaluate([TANF, other], D(2026, 3, 10), events=[bad, good])
    assert flows.states["C2"].state == "Non-cooperation"
