"""State-office calendars (pyxl.policy.calendars) against domain.md 6.7.

Expected dates are domain.md 6.7's "Recommended TX/AK/OR closure days for
2026" and its lists of open (skeleton-crew/optional) days, which cite
Tex. Gov't Code §662.003-.004, AS 44.12.010/.020, ORS 187.010 and Oregon
State HR Policy 60.010.01.
"""

from __future__ import annotations

import datetime as dt

import pytest

from pyxl.domain.calendar import BusinessCalendar
from pyxl.policy import calendars
from pyxl.policy.calendars import default_years, office_holidays

D = dt.date


def closed_days(state: str, year: int) -> list[dt.date]:
    return [row.date for row in office_holidays(state, [year]) if row.closed]


def rows_by_date(state: str, year: int):
    return {row.date: row for row in office_holidays(state, [year])}


def test_texas_2026_closed_days_are_domain_md_recommended_closure_days():
    assert closed_days("TX", 2026) == [
        D(2026, 1, 1),
        D(2026, 1, 19),
        D(2026, 2, 16),
        D(2026, 5, 25),
        D(2026, 9, 7),
        D(2026, 11, 11),
        D(2026, 11, 26),
        D(2026, 11, 27),
        D(2026, 12, 24),
        D(2026, 12, 25),
    ]


def test_alaska_2026_closed_days_are_domain_md_recommended_closure_days():
    assert closed_days("AK", 2026) == [
        D(2026, 1, 1),
        D(2026, 1, 19),
        D(2026, 2, 16),
        D(2026, 3, 30),
        D(2026, 5, 25),
        D(2026, 6, 19),
        D(2026, 7, 3),
        D(2026, 9, 7),
        D(2026, 10, 19),
        D(2026, 11, 11),
        D(2026, 11, 26),
        D(2026, 12, 25),
    ]


def test_oregon_2026_closed_days_are_domain_md_recommended_closure_days():
    assert closed_days("OR", 2026) == [
        D(2026, 1, 1),
        D(2026, 1, 19),
        D(2026, 2, 16),
        D(2026, 5, 25),
        D(2026, 6, 19),
        D(2026, 7, 3),
        D(2026, 9, 7),
        D(2026, 11, 11),
        D(2026, 11, 26),
        D(2026, 11, 27),
        D(2026, 12, 25),
    ]


def test_texas_skeleton_crew_and_optional_days_are_open_rows_supervisors_can_flip():
    rows = rows_by_date("TX", 2026)
    open_days = {day: row for day, row in rows.items() if not row.closed}
    assert sorted(open_days) == [
        D(2026, 3, 2),  # Texas Independence Day, skeleton crew
        D(2026, 3, 31),  # Cesar Chavez Day, optional
        D(2026, 4, 3),  # Good Friday, optional
        D(2026, 4, 21),  # San Jacinto Day, skeleton crew
        D(2026, 6, 19),  # Emancipation Day, skeleton crew
        D(2026, 7, 3),  # Independence Day is on Saturday: no substitute (§662.005(a)(1))
        D(2026, 8, 27),  # LBJ Day, skeleton crew
        D(2026, 9, 21),  # Yom Kippur, optional (Rosh Hashanah is on Sat/Sun in 2026)
    ]
    assert open_days[D(2026, 3, 2)].source == (
        "Tex. Gov't Code §662.003(b); skeleton crew, office open (§662.004)"
    )
    assert "§662.003(c)" in open_days[D(2026, 4, 3)].source
    assert open_days[D(2026, 9, 21)].name == "Yom Kippur"


def test_texas_gives_no_weekday_substitute_for_a_weekend_holiday_and_says_so_on_the_sheet():
    # Sat 2026-07-04: Fri Jul 3 is a working day, listed open with the statute. In 2027 the
    # package's "observed" Dec 23 is no row at all; Fri Dec 24 is Christmas Eve (closed) even
    # though Christmas (Sat) does not move there; Mon Dec 27 (Day After Christmas on Sunday)
    # and Fri Dec 31 (New Year's Day 2028 on Saturday) are open rows.
    july_3 = rows_by_date("TX", 2026)[D(2026, 7, 3)]
    assert (july_3.name, july_3.closed) == ("Independence Day on Saturday: not moved", False)
    assert "§662.005(a)(1)" in july_3.source
    tx_2027 = rows_by_date("TX", 2027)
    assert D(2027, 12, 23) not in tx_2027
    assert (tx_2027[D(2027, 12, 24)].name, tx_2027[D(2027, 12, 24)].closed) == (
        "Christmas Eve",
        True,
    )
    assert not tx_2027[D(2027, 12, 27)].closed
    assert not tx_2027[D(2027, 12, 31)].closed
    assert tx_2027[D(2027, 12, 31)].name == "New Year's Day on Saturday: not moved"


def test_new_year_2028_on_a_saturday_closes_friday_only_where_the_state_moves_it():
    # ORS 187.010(2): the Friday before is the holiday. Alaska: AS 44.12.020 moves only a
    # Sunday, but the state's bargaining agreements observe the Friday (closed, its source
    # says so). Texas: §662.005(a)(1), no substitute: open, listed so the sheet says why.
    friday = D(2027, 12, 31)
    rows = {state: rows_by_date(state, 2027)[friday] for state in ("AK", "OR", "TX")}
    assert {state: row.closed for state, row in rows.items()} == {
        "AK": True,
        "OR": True,
        "TX": False,
    }
    assert "ORS 187.010(2)" in rows["OR"].source
    assert "AS 44.12.020" in rows["AK"].source and "bargaining" in rows["AK"].source
    assert "§662.005(a)(1)" in rows["TX"].source
    assert all(D(2028, 1, 1) not in rows_by_date(state, 2028) for state in rows)  # a Saturday


def test_texas_mlk_day_on_confederate_heroes_day_is_one_closed_row_naming_both():
    row = rows_by_date("TX", 2026)[D(2026, 1, 19)]
    assert row.closed
    assert row.name == "Martin Luther King Jr. Day; Confederate Memorial Day"
    assert "§662.003(a)" in row.source
    assert "§662.003(b)" in row.source


def test_texas_rosh_hashanah_comes_from_the_israeli_calendar_as_open_weekday_rows():
    rows = rows_by_date("TX", 2027)
    assert [(day, row.name, row.closed) for day, row in rows.items() if "Rosh" in row.name] == []
    rows_2024 = rows_by_date("TX", 2024)
    assert [day for day, row in rows_2024.items() if row.name == "Rosh Hashanah"] == [
        D(2024, 10, 3),
        D(2024, 10, 4),
    ]
    assert all(not rows_2024[day].closed for day in (D(2024, 10, 3), D(2024, 10, 4)))


def test_alaska_indigenous_peoples_day_is_an_open_row_because_as_44_12_010_omits_it():
    row = rows_by_date("AK", 2026)[D(2026, 10, 12)]
    assert row.name == "Indigenous Peoples' Day"
    assert not row.closed
    assert "AS 44.12.010" in row.source


def test_alaska_sunday_holiday_closes_the_following_monday_under_as_44_12_020():
    row = rows_by_date("AK", 2026)[D(2026, 10, 19)]
    assert (row.name, row.closed) == ("Alaska Day (observed)", True)
    assert "AS 44.12.020" in row.source


def test_alaska_saturday_july_4_closes_friday_july_3_by_bargaining_agreement_not_statute():
    row = rows_by_date("AK", 2026)[D(2026, 7, 3)]
    assert (row.name, row.closed) == ("Independence Day (observed)", True)
    assert "moves only a Sunday holiday" in row.source
    assert "set Closed to No if this office opens" in row.source


def test_alaska_juneteenth_is_closed_from_2025_when_sb_22_took_effect():
    assert not rows_by_date("AK", 2024)[D(2024, 6, 19)].closed
    assert rows_by_date("AK", 2025)[D(2025, 6, 19)].closed


def test_alaska_referral_on_fri_2026_10_16_plus_one_business_day_is_tue_because_of_alaska_day():
    referral = D(2026, 10, 16)
    calendar = BusinessCalendar.from_holidays("AK", office_holidays("AK", default_years(referral)))
    due = calendar.workday(referral, 1)
    assert due == D(2026, 10, 20)
    assert calendar.holidays_between(referral, due) == [(D(2026, 10, 19), "Alaska Day (observed)")]


def test_oregon_adds_the_day_after_thanksgiving_citing_state_hr_policy():
    row = rows_by_date("OR", 2026)[D(2026, 11, 27)]
    assert row.closed
    assert "State HR Policy 60.010.01" in row.source


def test_oregon_moves_saturday_holidays_to_friday_and_sunday_holidays_to_monday():
    rows = rows_by_date("OR", 2027)
    assert {day: rows[day].name for day in (D(2027, 6, 18), D(2027, 7, 5), D(2027, 12, 24))} == {
        D(2027, 6, 18): "Juneteenth National Independence Day (observed)",
        D(2027, 7, 5): "Independence Day (observed)",
        D(2027, 12, 24): "Christmas Day (observed)",
    }
    # Sat 2028-01-01 is observed on Fri 2027-12-31, inside 2027's calendar.
    assert rows[D(2027, 12, 31)].name == "New Year's Day (observed)"
    assert all("ORS 187.010" in rows[day].source for day in rows if "observed" in rows[day].name)


@pytest.mark.parametrize("state", ["TX", "AK", "OR"])
def test_rows_are_sorted_weekdays_with_one_row_per_date_each_citing_its_law(state):
    rows = office_holidays(state, range(1990, 2101))
    days = [row.date for row in rows]
    assert days == sorted(set(days))
    assert all(day.weekday() < 5 for day in days)
    assert {row.calendar for row in rows} == {state}
    citations = ("Tex. Gov't Code §662", "AS 44.12", "ORS 187.010", "State HR Policy 60.010.01")
    assert all(any(cite in row.source for cite in citations) for row in rows)


def test_default_years_are_two_either_side_of_the_as_of_date():
    assert list(default_years(D(2026, 10, 16))) == [2024, 2025, 2026, 2027, 2028]


def test_an_unknown_state_or_a_year_outside_the_law_encoded_is_refused():
    with pytest.raises(ValueError, match="no office calendar"):
        office_holidays("CA", [2026])
    with pytest.raises(ValueError, match="1990-2100"):
        office_holidays("AK", [1985])


def test_a_holiday_the_package_adds_in_a_new_release_is_refused_not_guessed(monkeypatch):
    monkeypatch.setattr(
        calendars, "_public_holidays", lambda state, years: [(D(2026, 5, 1), "Workers' Day")]
    )
    with pytest.raises(ValueError, match="Workers' Day"):
        office_holidays("OR", [2026])
