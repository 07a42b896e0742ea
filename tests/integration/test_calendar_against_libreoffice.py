"""pyxl.domain.calendar against LibreOffice Calc as an independent oracle.

performance.md 1a found LibreOffice's WORKDAY, NETWORKDAYS, EDATE and
EOMONTH equal to Excel's documented behaviour (all of Microsoft's examples,
20,000 generated rows), so every formula cell LibreOffice computes here must
equal what pyxl computes, scalar and vectorised alike.

One workbook, one soffice call. Each calendar gets its own cases sheet whose
formulas say `Holidays`: a defined name scoped to that sheet, pointing at the
calendar's holiday sheet. TX, AK and OR are the office calendars' closed days
for 2024-2028; RAW is the `holidays` package's unedited US list (weekend
dates, observed days) plus a duplicate, to show those are harmless.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass
from pathlib import Path

import holidays as holidays_package
import numpy as np
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils.datetime import from_excel
from openpyxl.workbook.defined_name import DefinedName

from pyxl.adapters.libreoffice import recalculate
from pyxl.domain.calendar import (
    BusinessCalendar,
    edate,
    edate_array,
    eomonth,
    eomonth_array,
    networkdays,
    workday,
)
from pyxl.policy.calendars import office_holidays

pytestmark = pytest.mark.libreoffice

YEARS = range(2024, 2029)
ROWS_PER_CALENDAR = 750
SEED = 20260704
DATE_FORMAT = "yyyy-mm-dd"
HEADERS = (
    "Start",
    "Days",
    "End",
    "Months",
    "WORKDAY",
    "NETWORKDAYS",
    "EDATE",
    "EOMONTH",
    "WORKDAY no holidays",
    "NETWORKDAYS no holidays",
    "Case",
)
FORMULAS = {
    "WORKDAY": "=WORKDAY(A{r},B{r},Holidays)",
    "NETWORKDAYS": "=NETWORKDAYS(A{r},C{r},Holidays)",
    "EDATE": "=EDATE(A{r},D{r})",
    "EOMONTH": "=EOMONTH(A{r},D{r})",
    "WORKDAY no holidays": "=WORKDAY(A{r},B{r})",
    "NETWORKDAYS no holidays": "=NETWORKDAYS(A{r},C{r})",
}
DATE_COLUMNS = {"WORKDAY", "EDATE", "EOMONTH", "WORKDAY no holidays"}
MONTH_ENDS = [dt.date(year, month, 31) for year in (2024, 2025, 2027, 2028) for month in (1, 3)]
LEAP_DAYS = [dt.date(2024, 2, 29), dt.date(2028, 2, 29)]
MONTH_END_OFFSETS = [1, -1, 12, -12, 13, -13, 24, -25]
SMALL_DAYS = [0, 1, -1, 2, -2]
FRACTIONS = [0.5, -0.5, 2.7, -2.7, 1.9, -1.9]


@dataclass(frozen=True)
class Case:
    start: dt.date | dt.datetime
    days: int | float
    end: dt.date | dt.datetime
    months: int | float
    kind: str

    def describe(self) -> str:
        return (
            f"{self.kind}: start={self.start:%Y-%m-%d %a %H:%M} days={self.days} "
            f"end={self.end:%Y-%m-%d %a} months={self.months}"
        )


def holiday_lists() -> dict[str, list[dt.date]]:
    lists = {
        state: [row.date for row in office_holidays(state, YEARS) if row.closed]
        for state in ("TX", "AK", "OR")
    }
    raw = sorted(holidays_package.country_holidays("US", years=YEARS))
    lists["RAW"] = [*raw, raw[3]]
    return lists


def generate_cases(rng: random.Random, holidays: list[dt.date], count: int) -> list[Case]:
    first, last = dt.date(2023, 10, 1).toordinal(), dt.date(2029, 3, 31).toordinal()

    def any_day() -> dt.date:
        return dt.date.fromordinal(rng.randint(first, last))

    def weekend_day() -> dt.date:
        day = any_day()
        return day + dt.timedelta(days=(5 - day.weekday()) % 7 + rng.choice([0, 1]))

    def days() -> int | float:
        roll = rng.random()
        if roll < 0.35:
            return rng.choice(SMALL_DAYS)
        if roll < 0.5:
            return rng.choice(FRACTIONS)
        if roll < 0.6:
            return round(rng.uniform(-80, 80), 1)
        return rng.randint(-300, 300)

    def months() -> int | float:
        return rng.choice(
            [rng.randint(-30, 30), rng.choice(MONTH_END_OFFSETS), round(rng.uniform(-26, 26), 1)]
        )

    def near(day: dt.date) -> dt.date:
        return day + dt.timedelta(days=rng.randint(-120, 120))

    def near_holiday() -> dt.date:
        return rng.choice(holidays) + dt.timedelta(days=rng.randint(-3, 3))

    def with_time(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(rng.choice([6, 12, 18])))

    makers = [
        ("random", lambda: (any_day(), days(), None, months())),
        ("weekend start", lambda: (weekend_day(), days(), None, months())),
        ("holiday start", lambda: (rng.choice(holidays), days(), None, months())),
        ("small n around a holiday", lambda: (near_holiday(), rng.choice(SMALL_DAYS), None, 1)),
        ("end before start", lambda: (any_day(), days(), "before", months())),
        ("end = start on a weekend", lambda: (weekend_day(), days(), "same", months())),
        (
            "month end",
            lambda: (
                rng.choice(MONTH_ENDS + LEAP_DAYS),
                days(),
                None,
                rng.choice(MONTH_END_OFFSETS),
            ),
        ),
        ("leap day", lambda: (rng.choice(LEAP_DAYS), days(), None, months())),
        ("time of day", lambda: (with_time(any_day()), days(), None, months())),
    ]

    cases = []
    for i in range(count):
        kind, make = makers[i % len(makers)]
        start, n, end_rule, m = make()
        if end_rule == "same":
            end = start
        elif end_rule == "before":
            end = start - dt.timedelta(days=rng.randint(1, 200))
        else:
            end = near(start)  # keeps a time of day, so fractional ends are covered
        cases.append(Case(start, n, end, m, kind))
    return cases


def write_workbook(path: Path, sheets: dict[str, tuple[list[dt.date], list[Case]]]) -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, (holidays, cases) in sheets.items():
        holiday_sheet = workbook.create_sheet(f"Holidays_{name}")
        holiday_sheet.append(["Date"])
        for day in holidays:
            holiday_sheet.append([day])
            holiday_sheet.cell(holiday_sheet.max_row, 1).number_format = DATE_FORMAT
        cases_sheet = workbook.create_sheet(f"Cases_{name}")
        cases_sheet.append(list(HEADERS))
        for r, case in enumerate(cases, start=2):
            formulas = [formula.format(r=r) for formula in FORMULAS.values()]
            cases_sheet.append([case.start, case.days, case.end, case.months, *formulas, case.kind])
            for column, header in enumerate(HEADERS, start=1):
                if header in DATE_COLUMNS or header in ("Start", "End"):
                    cases_sheet.cell(r, column).number_format = DATE_FORMAT
        # Scoped to the sheet, so every cases sheet's formulas say just `Holidays`.
        cases_sheet.defined_names["Holidays"] = DefinedName(
            "Holidays", attr_text=f"'Holidays_{name}'!$A$2:$A${len(holidays) + 1}"
        )
    workbook.save(path)


def as_date(value) -> dt.date | str:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, int | float):
        return from_excel(value).date()
    return str(value)  # an error such as #VALUE! is reported as a mismatch


def as_int(value) -> int | str:
    return int(value) if isinstance(value, int | float) else str(value)


def python_results(cases: list[Case], holidays: list[dt.date]) -> dict[str, dict[str, list]]:
    """Each formula column as computed by the scalar functions, the calendar's
    scalar methods and its vectorised functions."""
    office = BusinessCalendar("office", {day: "holiday" for day in holidays})
    no_holidays = BusinessCalendar("none", {})
    starts = np.array([case.start.toordinal() for case in cases], dtype=np.int64)
    ends = np.array([case.end.toordinal() for case in cases], dtype=np.int64)
    days = np.array([case.days for case in cases], dtype=np.float64)
    months = np.array([case.months for case in cases], dtype=np.float64)

    def dates(ordinals) -> list[dt.date]:
        return [dt.date.fromordinal(int(o)) for o in ordinals]

    return {
        "WORKDAY": {
            "scalar": [workday(c.start, c.days, holidays) for c in cases],
            "calendar": [office.workday(c.start, c.days) for c in cases],
            "array": dates(office.workday_array(starts, days)),
        },
        "NETWORKDAYS": {
            "scalar": [networkdays(c.start, c.end, holidays) for c in cases],
            "calendar": [office.networkdays(c.start, c.end) for c in cases],
            "array": office.networkdays_array(starts, ends).tolist(),
        },
        "EDATE": {
            "scalar": [edate(c.start, c.months) for c in cases],
            "array": dates(edate_array(starts, months)),
        },
        "EOMONTH": {
            "scalar": [eomonth(c.start, c.months) for c in cases],
            "array": dates(eomonth_array(starts, months)),
        },
        "WORKDAY no holidays": {
            "scalar": [workday(c.start, c.days) for c in cases],
            "calendar": [no_holidays.workday(c.start, c.days) for c in cases],
            "array": dates(no_holidays.workday_array(starts, days)),
        },
        "NETWORKDAYS no holidays": {
            "scalar": [networkdays(c.start, c.end) for c in cases],
            "calendar": [no_holidays.networkdays(c.start, c.end) for c in cases],
            "array": no_holidays.networkdays_array(starts, ends).tolist(),
        },
    }


def test_every_workday_networkdays_edate_and_eomonth_cell_matches_libreoffice(
    soffice, tmp_path, record_property
):
    rng = random.Random(SEED)
    sheets = {
        name: (holidays, generate_cases(rng, holidays, ROWS_PER_CALENDAR))
        for name, holidays in holiday_lists().items()
    }
    source = tmp_path / "calendar_oracle.xlsx"
    write_workbook(source, sheets)

    started = time.perf_counter()
    recalculated = recalculate(source, tmp_path / "out")
    record_property("libreoffice_seconds", round(time.perf_counter() - started, 2))

    workbook = load_workbook(recalculated, data_only=True, read_only=True)
    mismatches: list[str] = []
    compared = 0
    holidays_mattered: dict[str, int] = {}
    for name, (holidays, cases) in sheets.items():
        rows = list(workbook[f"Cases_{name}"].iter_rows(min_row=2, values_only=True))
        assert len(rows) == len(cases), f"Cases_{name}: {len(rows)} rows back, {len(cases)} sent"
        ours = python_results(cases, holidays)
        for i, (case, row) in enumerate(zip(cases, rows, strict=True)):
            by_header = dict(zip(HEADERS, row, strict=False))
            for column, implementations in ours.items():
                convert = as_date if column in DATE_COLUMNS else as_int
                theirs = convert(by_header[column])
                compared += 1
                for implementation, values in implementations.items():
                    if values[i] != theirs:
                        mismatches.append(
                            f"Cases_{name} row {i + 2} ({case.describe()}): {column} "
                            f"LibreOffice={theirs} pyxl {implementation}={values[i]}"
                        )
        holidays_mattered[name] = sum(
            a != b
            for a, b in zip(
                ours["WORKDAY"]["scalar"], ours["WORKDAY no holidays"]["scalar"], strict=True
            )
        )

    assert not mismatches, f"{len(mismatches)} mismatches, first 25:\n" + "\n".join(mismatches[:25])
    assert compared == len(FORMULAS) * sum(len(cases) for _, cases in sheets.values())
    # Guards the oracle itself: each calendar's holidays must have moved some deadlines,
    # or a sheet-scoped `Holidays` that silently resolved to nothing would pass.
    assert all(count > 50 for count in holidays_mattered.values()), holidays_mattered
