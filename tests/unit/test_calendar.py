"""Excel-exact WORKDAY, NETWORKDAYS, EDATE and EOMONTH (pyxl.domain.calendar).

Known answers are the examples printed on Microsoft's function pages, which
LibreOffice also reproduces (performance.md 1a):
  WORKDAY     https://support.microsoft.com/office/workday-function-f764a5b7-05fc-4494-9486-60d494efbf33
  NETWORKDAYS https://support.microsoft.com/office/networkdays-function-48e717bf-a7a3-495f-969e-5005e3eb18e7
  EDATE       https://support.microsoft.com/office/edate-function-3c920eb2-6e66-44e7-a1f5-753ae47ee4f5
  EOMONTH     https://support.microsoft.com/office/eomonth-function-7314ffa1-2bc9-4005-9d66-f49db127d628
Edge-case answers come from the LibreOffice oracle runs in performance.md 1a
("Extra edge cases"). Every WORKDAY/NETWORKDAYS check runs three
implementations: the module functions (numpy busday), BusinessCalendar's
scalar methods and its vectorised index lookups.
"""

from __future__ import annotations

import datetime as dt
import math
import time

import numpy as np
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from pyxl.domain.calendar import (
    BusinessCalendar,
    edate,
    edate_array,
    eomonth,
    eomonth_array,
    networkdays,
    workday,
)
from pyxl.domain.model import Holiday

D = dt.date
MS_WORKDAY_HOLIDAYS = [D(2008, 11, 26), D(2008, 12, 4), D(2009, 1, 21)]
MS_NETWORKDAYS_HOLIDAYS = [D(2012, 11, 22), D(2012, 12, 4), D(2013, 1, 21)]

SAT, SUN, MON = D(2026, 1, 3), D(2026, 1, 4), D(2026, 1, 5)
# 2026-01-19 is a Monday holiday (MLK Day) in all three office calendars.
MLK_2026 = D(2026, 1, 19)


def calendar_of(holidays) -> BusinessCalendar:
    return BusinessCalendar("test", {day: f"holiday {day}" for day in holidays})


def workdays_by_every_implementation(start, days, holidays=()) -> set[dt.date]:
    calendar = calendar_of(holidays)
    array = calendar.workday_array(np.array([start.toordinal()]), days)
    return {
        workday(start, days, holidays),
        calendar.workday(start, days),
        D.fromordinal(int(array[0])),
    }


def networkdays_by_every_implementation(start, end, holidays=()) -> set[int]:
    calendar = calendar_of(holidays)
    array = calendar.networkdays_array(np.array([start.toordinal()]), np.array([end.toordinal()]))
    return {
        networkdays(start, end, holidays),
        calendar.networkdays(start, end),
        int(array[0]),
    }


def edates_by_every_implementation(start, months) -> set[dt.date]:
    return {edate(start, months), D.fromordinal(int(edate_array([start.toordinal()], months)[0]))}


def eomonths_by_every_implementation(start, months) -> set[dt.date]:
    return {
        eomonth(start, months),
        D.fromordinal(int(eomonth_array([start.toordinal()], months)[0])),
    }


# -- Known answers from Microsoft's pages ---------------------------------------


def test_workday_151_days_after_2008_10_01_is_2009_04_30_as_microsoft_documents():
    assert workdays_by_every_implementation(D(2008, 10, 1), 151) == {D(2009, 4, 30)}


def test_workday_151_days_after_2008_10_01_with_three_holidays_is_2009_05_05():
    assert workdays_by_every_implementation(D(2008, 10, 1), 151, MS_WORKDAY_HOLIDAYS) == {
        D(2009, 5, 5)
    }


@pytest.mark.parametrize(
    ("holidays", "expected"),
    [([], 110), (MS_NETWORKDAYS_HOLIDAYS[:1], 109), (MS_NETWORKDAYS_HOLIDAYS, 107)],
)
def test_networkdays_2012_10_01_to_2013_03_01_is_110_or_109_or_107_as_microsoft_documents(
    holidays, expected
):
    assert networkdays_by_every_implementation(D(2012, 10, 1), D(2013, 3, 1), holidays) == {
        expected
    }


@pytest.mark.parametrize(
    ("months", "expected"), [(1, D(2011, 2, 15)), (-1, D(2010, 12, 15)), (2, D(2011, 3, 15))]
)
def test_edate_of_2011_01_15_matches_microsofts_examples(months, expected):
    assert edates_by_every_implementation(D(2011, 1, 15), months) == {expected}


@pytest.mark.parametrize(("months", "expected"), [(1, D(2011, 2, 28)), (-3, D(2010, 10, 31))])
def test_eomonth_of_2011_01_01_matches_microsofts_examples(months, expected):
    assert eomonths_by_every_implementation(D(2011, 1, 1), months) == {expected}


# -- WORKDAY edge cases ------------------------------------------------------------


@pytest.mark.parametrize("start", [SAT, SUN, MLK_2026, MON])
def test_workday_with_zero_days_returns_the_start_unchanged_even_on_a_weekend_or_holiday(start):
    assert workdays_by_every_implementation(start, 0, [MLK_2026]) == {start}


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (SAT, 1, MON),
        (SUN, 1, MON),
        (SAT, 2, D(2026, 1, 6)),
        (SAT, -1, D(2026, 1, 2)),
        (SUN, -1, D(2026, 1, 2)),
        (SUN, -2, D(2026, 1, 1)),
    ],
)
def test_workday_from_a_weekend_counts_from_where_it_is(start, days, expected):
    # LibreOffice: WORKDAY(Sat,1) = Monday, WORKDAY(Sat,-1) = Friday (performance.md 1a).
    assert workdays_by_every_implementation(start, days) == {expected}


@pytest.mark.parametrize(
    ("days", "expected"), [(1, D(2026, 1, 20)), (-1, D(2026, 1, 16)), (5, D(2026, 1, 26))]
)
def test_workday_from_a_holiday_counts_from_the_holiday(days, expected):
    assert workdays_by_every_implementation(MLK_2026, days, [MLK_2026]) == {expected}


def test_negative_days_go_backwards_and_skip_holidays():
    # Tue 2026-01-20 back 1 skips Mon Jan 19 (holiday) and the weekend: Fri Jan 16.
    assert workdays_by_every_implementation(D(2026, 1, 20), -1, [MLK_2026]) == {D(2026, 1, 16)}
    assert workdays_by_every_implementation(D(2026, 1, 20), -6, [MLK_2026]) == {D(2026, 1, 9)}


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (MON, 2.7, D(2026, 1, 7)),
        (MON, -2.7, D(2026, 1, 1)),
        (SAT, 0.5, SAT),
        (SAT, -0.5, SAT),
        (SAT, 1.9, MON),
    ],
)
def test_fractional_days_truncate_toward_zero(start, days, expected):
    assert workdays_by_every_implementation(start, days) == {expected}


def test_a_start_with_a_time_of_day_counts_as_its_date():
    # LibreOffice: WORKDAY(d + 0.75, 1) behaves like WORKDAY(d, 1) (performance.md 1a).
    evening = dt.datetime(2026, 1, 2, 18, 0)
    assert workdays_by_every_implementation(evening, 1) == {MON}
    assert workdays_by_every_implementation(evening, 0) == {D(2026, 1, 2)}
    assert networkdays_by_every_implementation(evening, dt.datetime(2026, 1, 5, 6)) == {2}


def test_holidays_on_weekends_and_duplicate_holidays_change_nothing():
    plain = workdays_by_every_implementation(D(2026, 1, 1), 20, [MLK_2026])
    noisy = [MLK_2026, MLK_2026, SAT, SUN, D(2026, 1, 10), None]
    assert workday(D(2026, 1, 1), 20, noisy) == plain.pop()
    assert networkdays(D(2026, 1, 1), D(2026, 2, 1), noisy) == networkdays(
        D(2026, 1, 1), D(2026, 2, 1), [MLK_2026]
    )


def test_blank_holiday_cells_are_ignored_like_libreoffice_does():
    assert workday(D(2026, 1, 16), 1, [None, MLK_2026, None]) == D(2026, 1, 20)


def test_workday_beyond_9999_12_31_is_an_error_as_in_excel():
    with pytest.raises(OverflowError):
        workday(D(9999, 12, 30), 5)
    with pytest.raises(OverflowError):
        calendar_of([]).workday(D(9999, 12, 30), 5)


# -- NETWORKDAYS edge cases ----------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (MON, D(2026, 1, 9), 5),
        (MON, MON, 1),
        (SAT, SAT, 0),
        (SUN, SAT, 0),
        (SAT, MON, 1),
        (D(2026, 1, 9), MON, -5),
        (MON, D(2025, 12, 29), -6),
        (D(2026, 1, 16), D(2026, 1, 20), 2),
        (D(2026, 1, 20), D(2026, 1, 16), -2),
        (MLK_2026, MLK_2026, 0),
    ],
)
def test_networkdays_counts_both_ends_and_is_negative_when_end_is_before_start(
    start, end, expected
):
    assert networkdays_by_every_implementation(start, end, [MLK_2026]) == {expected}


# -- EDATE / EOMONTH edge cases ---------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2023, 1, 31), 1, D(2023, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2024, 3, 31), -1, D(2024, 2, 29)),
        (D(2024, 3, 31), 1, D(2024, 4, 30)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(2024, 2, 29), -13, D(2023, 1, 29)),
        (D(2024, 1, 31), 13, D(2025, 2, 28)),
        (D(2024, 1, 31), -25, D(2021, 12, 31)),
        (D(2096, 2, 29), 48, D(2100, 2, 28)),  # 2100 is not a leap year
        (D(1996, 2, 29), 48, D(2000, 2, 29)),  # 2000 is
        (D(2024, 1, 31), 1.9, D(2024, 2, 29)),  # LibreOffice: truncated toward 0
        (D(2024, 3, 31), -1.9, D(2024, 2, 29)),
        (D(2024, 5, 15), 0.5, D(2024, 5, 15)),
    ],
)
def test_edate_clamps_to_the_end_of_shorter_months_and_knows_leap_years(start, months, expected):
    assert edates_by_every_implementation(start, months) == {expected}


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2023, 1, 15), 1, D(2023, 2, 28)),
        (D(2100, 1, 15), 1, D(2100, 2, 28)),
        (D(2000, 1, 1), 1, D(2000, 2, 29)),
        (D(2024, 2, 29), 0, D(2024, 2, 29)),
        (D(2024, 3, 31), -13, D(2023, 2, 28)),
        (D(2024, 3, 31), 24, D(2026, 3, 31)),
        (D(2024, 3, 31), -1.9, D(2024, 2, 29)),
        (D(2024, 3, 31), 1.9, D(2024, 4, 30)),
    ],
)
def test_eomonth_is_the_last_day_of_the_target_month(start, months, expected):
    assert eomonths_by_every_implementation(start, months) == {expected}


def test_edate_beyond_9999_is_an_error_as_in_excel():
    with pytest.raises(OverflowError):
        edate(D(9999, 12, 1), 1)
    with pytest.raises(OverflowError):
        eomonth_array([D(9999, 12, 1).toordinal()], 1)


# -- BusinessCalendar ------------------------------------------------------------------


def test_business_calendar_knows_business_days_and_the_nearest_ones():
    calendar = calendar_of([MLK_2026])
    assert not calendar.is_business_day(MLK_2026)
    assert not calendar.is_business_day(SAT)
    assert calendar.is_business_day(D(2026, 1, 20))
    assert calendar.is_business_day(dt.datetime(2026, 1, 20, 9))
    assert calendar.previous_business_day(MLK_2026) == D(2026, 1, 16)
    assert calendar.next_business_day(D(2026, 1, 17)) == D(2026, 1, 20)
    assert calendar.previous_business_day(D(2026, 1, 20)) == D(2026, 1, 20)
    assert calendar.next_business_day(D(2026, 1, 20)) == D(2026, 1, 20)


def test_holidays_between_names_closed_weekdays_after_start_up_to_and_including_end():
    calendar = BusinessCalendar(
        "AK",
        {
            D(2026, 10, 18): "Alaska Day",
            D(2026, 10, 19): "Alaska Day (observed)",
            D(2026, 11, 11): "Veterans Day",
        },
    )
    assert calendar.holidays_between(D(2026, 10, 16), D(2026, 10, 20)) == [
        (D(2026, 10, 19), "Alaska Day (observed)")
    ]
    assert calendar.holidays_between(D(2026, 10, 19), D(2026, 11, 11)) == [
        (D(2026, 11, 11), "Veterans Day")
    ]
    assert calendar.holidays_between(D(2026, 10, 20), D(2026, 10, 16)) == []


def test_from_holidays_keeps_only_that_calendars_closed_rows_and_merges_duplicate_dates():
    rows = [
        Holiday("AK", D(2026, 10, 12), "Indigenous Peoples' Day", closed=False),
        Holiday("AK", D(2026, 10, 19), "Alaska Day (observed)"),
        Holiday("AK", D(2026, 10, 19), "Office move"),
        Holiday("AK", D(2026, 10, 19), "Office move"),
        Holiday("OR", D(2026, 11, 27), "Day after Thanksgiving"),
    ]
    calendar = BusinessCalendar.from_holidays("AK", rows)
    assert calendar.holidays == {D(2026, 10, 19): "Alaska Day (observed); Office move"}
    assert calendar.is_business_day(D(2026, 10, 12))
    assert calendar.is_business_day(D(2026, 11, 27))


def test_building_a_calendar_and_its_index_takes_well_under_50_ms():
    # It is rebuilt several times per recompute, so it must stay cheap.
    holidays = {D(1990, 1, 1) + dt.timedelta(days=30 * i): "h" for i in range(1350)}
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        calendar = BusinessCalendar("timing", holidays)
        calendar.workday(D(2026, 1, 1), 10)
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.050


def test_dates_beyond_the_calendar_year_range_still_compute_with_weekends_only():
    calendar = BusinessCalendar(
        "short", {D(2020, 1, 1): "New Year"}, first_year=2020, last_year=2020
    )
    for start, days in [(D(2150, 6, 6), 10), (D(1900, 3, 5), -10), (D(2020, 12, 30), 400)]:
        assert calendar.workday(start, days) == workday(start, days, [D(2020, 1, 1)])
    assert calendar.networkdays(D(1950, 1, 1), D(2150, 1, 1)) == networkdays(
        D(1950, 1, 1), D(2150, 1, 1), [D(2020, 1, 1)]
    )


def test_array_functions_leave_missing_dates_as_zero_and_broadcast_days():
    calendar = calendar_of([MLK_2026])
    starts = np.array([0, D(2026, 1, 16).toordinal(), 0, SAT.toordinal()], dtype=np.int64)
    expected = [0, D(2026, 1, 20).toordinal(), 0, MON.toordinal()]
    assert calendar.workday_array(starts, 1).tolist() == expected
    assert calendar.workday_array(starts, np.array([5, 1, -3, 1])).tolist() == expected
    assert calendar.networkdays_array(starts, np.array([1, 0, 0, MON.toordinal()])).tolist() == [
        0,
        0,
        0,
        1,
    ]
    assert calendar.previous_business_day_array(starts).tolist() == [
        0,
        D(2026, 1, 16).toordinal(),
        0,
        D(2026, 1, 2).toordinal(),
    ]
    assert calendar.next_business_day_array(starts).tolist() == [0, starts[1], 0, MON.toordinal()]
    assert edate_array(starts, 1).tolist() == [
        0,
        D(2026, 2, 16).toordinal(),
        0,
        D(2026, 2, 3).toordinal(),
    ]
    assert eomonth_array(starts, [0, 0, 0, -1]).tolist() == [
        0,
        D(2026, 1, 31).toordinal(),
        0,
        D(2025, 12, 31).toordinal(),
    ]


def test_array_functions_reject_an_ordinal_that_is_not_a_date():
    with pytest.raises(ValueError):
        calendar_of([]).workday_array(np.array([-5]), 1)


# -- Properties: three implementations against a plain day-stepping reference ---------------


def reference_workday(start: dt.date, days: float, holidays) -> dt.date:
    """Excel WORKDAY by walking one day at a time."""
    closed = set(holidays)
    start = D.fromordinal(start.toordinal())
    remaining = math.trunc(days)
    step = dt.timedelta(days=1 if remaining > 0 else -1)
    day = start
    while remaining:
        day += step
        if day.weekday() < 5 and day not in closed:
            remaining -= 1 if remaining > 0 else -1
    return day


def reference_networkdays(start: dt.date, end: dt.date, holidays) -> int:
    if end < start:
        return -reference_networkdays(end, start, holidays)
    closed = set(holidays)
    days = (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    return sum(1 for day in days if day.weekday() < 5 and day not in closed)


def reference_edate(start: dt.date, months: float) -> dt.date:
    return start + relativedelta(months=math.trunc(months))


def reference_eomonth(start: dt.date, months: float) -> dt.date:
    return start + relativedelta(months=math.trunc(months), day=31)


dates = st.dates(min_value=D(2018, 1, 1), max_value=D(2032, 12, 31))
holiday_lists = st.lists(dates, max_size=40)  # weekend dates and duplicates included
day_counts = st.one_of(
    st.integers(-400, 400),
    st.sampled_from([0, 1, -1, 2, -2]),
    st.floats(-60, 60, allow_nan=False).map(lambda x: round(x, 1)),
)
month_counts = st.one_of(
    st.integers(-30, 30), st.floats(-30, 30, allow_nan=False).map(lambda x: round(x, 1))
)
# A narrow index range makes the lazy widening run too.
year_ranges = st.sampled_from([(1990, 2100), (2024, 2024), (2030, 2031)])


@settings(max_examples=300, deadline=None)
@given(start=dates, days=day_counts, holidays=holiday_lists, years=year_ranges)
def test_workday_scalar_array_and_reference_agree(start, days, holidays, years):
    calendar = BusinessCalendar("prop", {h: "h" for h in holidays}, *years)
    expected = reference_workday(start, days, holidays)
    assert workday(start, days, holidays) == expected
    assert calendar.workday(start, days) == expected
    assert calendar.workday_array([start.toordinal()], days).tolist() == [expected.toordinal()]


@settings(max_examples=300, deadline=None)
@given(start=dates, end=dates, holidays=holiday_lists, years=year_ranges)
def test_networkdays_scalar_array_and_reference_agree(start, end, holidays, years):
    calendar = BusinessCalendar("prop", {h: "h" for h in holidays}, *years)
    expected = reference_networkdays(start, end, holidays)
    assert networkdays(start, end, holidays) == expected
    assert calendar.networkdays(start, end) == expected
    assert calendar.networkdays_array([start.toordinal()], [end.toordinal()]).tolist() == [expected]


@settings(max_examples=300, deadline=None)
@given(start=dates, months=month_counts)
def test_edate_and_eomonth_scalar_array_and_reference_agree(start, months):
    assert edate(start, months) == reference_edate(start, months)
    assert eomonth(start, months) == reference_eomonth(start, months)
    assert edate_array([start.toordinal()], months).tolist() == [
        reference_edate(start, months).toordinal()
    ]
    assert eomonth_array([start.toordinal()], months).tolist() == [
        reference_eomonth(start, months).toordinal()
    ]


@settings(max_examples=150, deadline=None)
@given(
    cases=st.lists(st.tuples(st.one_of(st.none(), dates), day_counts, dates), max_size=30),
    holidays=holiday_lists,
    years=year_ranges,
)
def test_vectorised_functions_agree_with_the_reference_row_by_row_and_keep_zeros(
    cases, holidays, years
):
    calendar = BusinessCalendar("prop", {h: "h" for h in holidays}, *years)
    starts = np.array([s.toordinal() if s else 0 for s, _, _ in cases], dtype=np.int64)
    days = np.array([n for _, n, _ in cases], dtype=np.float64)
    ends = np.array([e.toordinal() for _, _, e in cases], dtype=np.int64)

    def expected(function):
        return [function(s, n, e) if s else 0 for s, n, e in cases]

    assert calendar.workday_array(starts, days).tolist() == expected(
        lambda s, n, _: reference_workday(s, n, holidays).toordinal()
    )
    assert calendar.networkdays_array(starts, ends).tolist() == expected(
        lambda s, _, e: reference_networkdays(s, e, holidays)
    )
    assert calendar.previous_business_day_array(starts).tolist() == expected(
        lambda s, _, __: max(
            d.toordinal()
            for d in (s - dt.timedelta(days=i) for i in range(60))
            if d.weekday() < 5 and d not in holidays
        )
    )
    assert calendar.next_business_day_array(starts).tolist() == expected(
        lambda s, _, __: min(
            d.toordinal()
            for d in (s + dt.timedelta(days=i) for i in range(60))
            if d.weekday() < 5 and d not in holidays
        )
    )
    months = np.trunc(days / 2)
    assert edate_array(starts, months).tolist() == [
        reference_edate(s, m).toordinal() if s else 0
        for (s, _, _), m in zip(cases, months, strict=True)
    ]
    assert eomonth_array(starts, months).tolist() == [
        reference_eomonth(s, m).toordinal() if s else 0
        for (s, _, _), m in zip(cases, months, strict=True)
    ]
