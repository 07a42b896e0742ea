"""45 CFR 261.22: the months a TANF family was penalised leave the participation rate; the
months come from the Penalties sheet."""

from __future__ import annotations

from pyxl.domain.model import Program
from pyxl.domain.sanctions import penalised_months
from tests.unit.flowkit import D, penalty


def test_a_tanf_penalty_counts_every_month_from_imposition_to_its_end():
    p = penalty(Program.TX_CHOICES, imposed_date=D(2026, 3, 20), ended_date=D(2026, 5, 4))
    assert penalised_months([p], D(2026, 11, 23)) == {
        "C1": {D(2026, 3, 1), D(2026, 4, 1), D(2026, 5, 1)}
    }


def test_an_alaska_penalty_starts_the_month_after_notice_and_an_open_one_runs_to_today():
    p = penalty(Program.ATAP_WORK_FIRST, imposed_date=D(2026, 9, 21))
    assert penalised_months([p], D(2026, 11, 23)) == {"C1": {D(2026, 10, 1), D(2026, 11, 1)}}


def test_snap_disqualifications_and_requests_not_imposed_are_not_tanf_penalties():
    rows = [
        penalty(Program.TX_SNAP_ET, imposed_date=D(2026, 3, 2)),
        penalty(Program.OR_JOBS, requested_date=D(2026, 3, 2)),
    ]
    assert penalised_months(rows, D(2026, 11, 23)) == {}
