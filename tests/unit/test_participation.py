"""TANF work participation (45 CFR 261): each family's month, and the rates, by hand.

October 2026 has 31 days; with the default 4.33 weeks per month, 130 hours is a weekly
average of 30.02 and 86.6 hours is exactly 20.
"""

from __future__ import annotations

import datetime as dt

import pytest

from pyxl.domain import participation as p
from pyxl.domain.model import Client, HoursEntry, Program
from pyxl.policy import default_settings

D = dt.date
OCT, SEP, AUG = D(2026, 10, 1), D(2026, 9, 1), D(2026, 8, 1)
RULES = p.ParticipationRules.from_settings(default_settings())
JOB_SEARCH = "Job search and job readiness"  # core
JOB_SKILLS = "Job skills training"  # not core


def family(case_id: str = "C1", **fields: object) -> Client:
    base: dict[str, object] = {
        "case_id": case_id,
        "client_name": "Test Family",
        "program": Program.TX_CHOICES,
        "branch": "Austin",
        "case_manager": "Ana",
        "referral_date": D(2026, 1, 5),
    }
    base.update(fields)
    return Client(**base)  # type: ignore[arg-type]


def october(case_id: str, total: float, activity: str = JOB_SEARCH, verified: bool = True):
    """`total` hours spread over the four Mondays of October 2026 (5, 12, 19, 26)."""
    mondays = (D(2026, 10, 5), D(2026, 10, 12), D(2026, 10, 19), D(2026, 10, 26))
    return [
        HoursEntry(case_id, monday, activity, total / 4, D(2026, 11, 2), verified)
        for monday in mondays
    ]


def only(clients, hours, rules=RULES, penalised=None, months=(OCT,)) -> p.FamilyMonth:
    rows = p.family_months(clients, hours, list(months), rules, penalised)
    assert len(rows) == 1
    return rows[0]


def test_thirty_core_hours_a_week_meet_the_all_families_requirement():
    fm = only([family()], october("C1", 130))
    assert (fm.required_hours, fm.required_core) == (30, 20)
    assert fm.core_hours == 30.02 and fm.meets and fm.in_all_families


def test_non_core_hours_count_only_once_twenty_core_hours_are_reached():
    short = only([family()], october("C1", 80) + october("C1", 50, JOB_SKILLS))
    assert (short.core_hours, short.other_hours) == (18.48, 11.55)
    assert short.countable_hours == 18.48 and not short.meets
    enough = only([family()], october("C1", 90) + october("C1", 40, JOB_SKILLS))
    assert (enough.core_hours, enough.other_hours) == (20.79, 9.24)
    assert enough.countable_hours == pytest.approx(30.03) and enough.meets


def test_a_single_parent_of_a_child_under_six_needs_twenty_core_hours():
    young = family(youngest_child_dob=D(2022, 3, 1))
    fm = only([young], october("C1", 86.6))
    assert (fm.required_hours, fm.required_core) == (20, 20)
    assert fm.core_hours == 20.0 and fm.meets
    skills_only = only([young], october("C1", 200, JOB_SKILLS))
    assert not skills_only.meets


def test_two_parent_families_need_35_combined_or_55_with_federal_child_care():
    two = family(family_type="Two-parent")
    fm = only([two], october("C1", 152))  # 35.10 a week
    assert (fm.required_hours, fm.required_core) == (35, 30) and fm.meets and fm.in_two_parent
    cared = only([family(family_type="Two-parent", federal_child_care=True)], october("C1", 152))
    assert (cared.required_hours, cared.required_core) == (55, 50) and not cared.meets


def test_unverified_hours_do_not_count_unless_the_office_says_so():
    hours = october("C1", 130, verified=False)
    assert not only([family()], hours).meets
    counting_all = p.ParticipationRules.from_settings(
        default_settings().with_values({"Participation verified only": False})
    )
    assert only([family()], hours, counting_all).meets


def test_days_per_week_divides_by_the_months_days_over_seven():
    by_days = p.ParticipationRules.from_settings(
        default_settings().with_values({"Participation weeks per month": "days/7"})
    )
    fm = only([family()], october("C1", 130), by_days)
    assert fm.core_hours == round(130 / (31 / 7), 2) == 29.35 and not fm.meets


def test_a_week_across_two_months_is_shared_by_weekdays_when_set():
    week = [HoursEntry("C1", D(2026, 9, 28), JOB_SEARCH, 50.0, None, True)]  # Mon 28 Sep
    shared = p.ParticipationRules.from_settings(
        default_settings().with_values({"Participation week in month": "weekdays"})
    )
    # Mon-Wed in September (3/5), Thu-Fri in October (2/5)
    assert p.monthly_hours(week, [SEP, OCT], shared) == {
        ("C1", SEP): (30.0, 0.0),
        ("C1", OCT): (20.0, 0.0),
    }
    assert p.monthly_hours(week, [SEP, OCT], RULES) == {("C1", SEP): (50.0, 0.0)}


def test_exclusions_child_only_child_under_one_and_penalised_months():
    assert only([family(family_type="Child-only")], []).excluded == "no work-eligible adult"
    baby = only([family(youngest_child_dob=D(2026, 2, 1))], [])
    assert baby.excluded == "single parent, child under 1" and not baby.in_all_families
    penalised = only([family()], [], penalised={"C1": {OCT}})
    assert penalised.excluded == "penalised this month"
    # penalised in 4 of the last 12 months: stays in the denominator (261.22(b))
    often = {D(2026, m, 1) for m in (7, 8, 9, 10)}
    assert only([family()], [], penalised={"C1": often}).in_all_families


def test_only_the_programs_chosen_and_the_months_a_case_is_open_count():
    clients = [
        family("OPEN"),
        family("YOUTH", program=Program.TX_WIOA_YOUTH),
        family("LATE", referral_date=D(2026, 9, 15)),
        family("CLOSED", closure_date=D(2026, 8, 31)),
    ]
    rows = p.family_months(clients, [], [AUG, SEP, OCT], RULES)
    assert sorted((r.case_id, r.month.month) for r in rows) == [
        ("CLOSED", 8),
        ("LATE", 9),
        ("LATE", 10),
        ("OPEN", 8),
        ("OPEN", 9),
        ("OPEN", 10),
    ]


def test_the_rate_is_met_over_families_less_exclusions_by_group():
    clients = [
        family("A", case_manager="Ana"),
        family("B", case_manager="Ana"),
        family("C", case_manager="Ana", youngest_child_dob=D(2026, 5, 1)),  # excluded
        family("D", case_manager="Ben", family_type="Two-parent"),
        family("E", case_manager="Ben", family_type="Child-only"),  # in neither rate
    ]
    hours = october("A", 130) + october("D", 152)
    rows = p.family_months(clients, hours, [OCT], RULES)
    rates = {(r.group, r.kind): r for r in p.rates(rows, RULES, lambda fm: (fm.case_manager,))}
    ana = rates[(("Ana",), "All families")]
    assert (ana.families, ana.excluded, ana.denominator, ana.met) == (3, 1, 2, 1)
    assert ana.rate == 0.5 and ana.meets_target and ana.target == 50
    ben = rates[(("Ben",), "Two-parent")]
    assert (ben.families, ben.met, ben.rate, ben.target) == (1, 1, 1.0, 75)
    assert set(rates) == {
        (("Ana",), "All families"),
        (("Ben",), "All families"),
        (("Ben",), "Two-parent"),
    }


def test_the_months_shown_are_the_complete_ones_before_the_report_date():
    assert p.months_before(D(2026, 11, 23), 3) == [AUG, SEP, OCT]
    assert p.months_before(D(2026, 1, 1), 2) == [D(2025, 11, 1), D(2025, 12, 1)]
