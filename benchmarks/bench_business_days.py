"""Business days: clients x 10 WORKDAY computations on the Texas office calendar.

Three ways to the same answers (performance.md section 4):
* `BusinessCalendar.workday_array` over the whole (clients, 10) array;
* the scalar `BusinessCalendar.workday` called in a Python loop;
* dateutil `rruleset` (weekday rrule + holiday exdates) per computation, the naive
  way, timed on a sample and extrapolated per computation.
All three must agree before a ratio is printed.
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
from bench_common import Result, fmt_s, median, repeat, say, timed

OFFSETS = (10, 30, 45, 60, -5, 0, 90, 5, 15, 20)  # business days, as in performance.md 4


def anchors(n_clients: int, holidays: list[dt.date], seed: int = 4) -> np.ndarray:
    """(n_clients, 10) ordinals over 2021-2025: weekends and holidays included on purpose."""
    rng = random.Random(seed)
    first, last = dt.date(2021, 1, 1).toordinal(), dt.date(2025, 12, 31).toordinal()
    in_range = [h.toordinal() for h in holidays if first <= h.toordinal() <= last]
    out = np.empty((n_clients, len(OFFSETS)), dtype=np.int64)
    for i in range(n_clients):
        for j in range(len(OFFSETS)):
            # One anchor in 20 is an office holiday; the rest are uniform (2 in 7 on a weekend).
            out[i, j] = rng.choice(in_range) if rng.random() < 0.05 else rng.randint(first, last)
    return out


def rrule_workday(start: dt.date, n: int, exdates: list[dt.datetime]) -> dt.date:
    """Excel WORKDAY the dateutil way: a weekday rule minus the holidays, walked day by day."""
    from dateutil.rrule import DAILY, FR, MO, TH, TU, WE, rrule, rruleset

    if n == 0:
        return start
    s = dt.datetime(start.year, start.month, start.day)
    rules = rruleset()
    weekdays = (MO, TU, WE, TH, FR)
    if n > 0:
        rules.rrule(rrule(DAILY, byweekday=weekdays, dtstart=s + dt.timedelta(days=1)))
    else:
        # Far enough back: 2 calendar days per business day plus a month of closures.
        back = dt.timedelta(days=2 * -n + 31)
        rules.rrule(
            rrule(DAILY, byweekday=weekdays, dtstart=s - back, until=s - dt.timedelta(days=1))
        )
    for day in exdates:
        rules.exdate(day)
    if n > 0:
        for count, day in enumerate(rules, start=1):
            if count == n:
                return day.date()
    return list(rules)[n].date()


def run(n_clients: int, sample: int, repeats: int) -> Result:
    from pyxl.domain.calendar import BusinessCalendar
    from pyxl.policy.calendars import office_holidays

    res = Result("business_days")
    n = n_clients * len(OFFSETS)
    say(f"== business days: {n_clients:,} clients x {len(OFFSETS)} WORKDAY = {n:,} computations")
    rows = office_holidays("TX", range(2019, 2031))
    holidays = sorted({h.date for h in rows if h.closed})
    starts = anchors(n_clients, holidays)
    steps = np.array(OFFSETS, dtype=np.int64)

    build_s, _, calendar = timed(lambda: BusinessCalendar.from_holidays("TX", rows))
    # The first call builds the business-day index.
    first_call_s, _, _ = timed(lambda: calendar.workday_array(starts[:1], steps))
    array_runs, _, by_array = repeat(lambda: calendar.workday_array(starts, steps), repeats * 2 + 1)
    array_s = median(array_runs)

    start_dates = [[dt.date.fromordinal(int(o)) for o in row] for row in starts]

    def scalar_loop() -> list[list[dt.date]]:
        workday = calendar.workday
        return [[workday(d, k) for d, k in zip(row, OFFSETS, strict=True)] for row in start_dates]

    scalar_runs, _, by_scalar = repeat(scalar_loop, repeats)
    scalar_s = median(scalar_runs)
    scalar_same = np.array_equal(
        by_array, np.array([[d.toordinal() for d in row] for row in by_scalar], dtype=np.int64)
    )
    res.check(f"scalar workday == workday_array on all {n:,}", scalar_same)

    # dateutil on a sample spread over the clients, extrapolated per computation.
    step = max(1, n // sample)
    picks = [(i // len(OFFSETS), i % len(OFFSETS)) for i in range(0, n, step)][:sample]
    exdates = [dt.datetime(h.year, h.month, h.day) for h in holidays]

    def rrule_sample() -> list[dt.date]:
        return [rrule_workday(start_dates[i][j], OFFSETS[j], exdates) for i, j in picks]

    rrule_s, _, by_rrule = timed(rrule_sample)
    rrule_same = all(
        d.toordinal() == by_array[i, j] for d, (i, j) in zip(by_rrule, picks, strict=True)
    )
    res.check(f"dateutil rrule == workday_array on the {len(picks):,} sample", rrule_same)
    per_rrule = rrule_s / len(picks)
    rrule_extrapolated = per_rrule * n

    say(
        f"  workday_array: median {fmt_s(array_s)} for {n:,} "
        f"({fmt_s(array_s / n)} each); calendar built in {fmt_s(build_s)}, "
        f"first call (builds the index) {fmt_s(first_call_s)}"
    )
    say(f"  scalar workday loop: median {fmt_s(scalar_s)} ({fmt_s(scalar_s / n)} each)")
    say(
        f"  dateutil rrule: {fmt_s(rrule_s)} for a {len(picks):,} sample "
        f"({fmt_s(per_rrule)} each) -> about {fmt_s(rrule_extrapolated)} for {n:,} (extrapolated)"
    )
    say(
        f"  workday_array is {scalar_s / array_s:.0f}x the scalar loop and "
        f"{rrule_extrapolated / array_s:,.0f}x dateutil rrule; identical answers: "
        f"{scalar_same and rrule_same}"
    )
    res.row(
        f"workday_array, {n:,} WORKDAY", fmt_s(array_s), f"{rrule_extrapolated / array_s:,.0f}x"
    )
    res.row(
        f"scalar workday loop, {n:,}",
        fmt_s(scalar_s),
        f"{rrule_extrapolated / scalar_s:,.0f}x (array {scalar_s / array_s:.0f}x faster)",
    )
    res.row(
        f"naive dateutil rrule ({len(picks):,} sample, extrapolated)",
        fmt_s(rrule_extrapolated),
        "1x",
    )
    res.data = {
        "computations": n,
        "calendar": "TX office calendar 2019-2030",
        "closed_days": len(holidays),
        "offsets": list(OFFSETS),
        "calendar_build_s": build_s,
        "index_first_call_s": first_call_s,
        "array_seconds": array_runs,
        "array_median_s": array_s,
        "scalar_seconds": scalar_runs,
        "scalar_median_s": scalar_s,
        "rrule_sample": len(picks),
        "rrule_sample_s": rrule_s,
        "rrule_per_computation_s": per_rrule,
        "rrule_extrapolated_s": rrule_extrapolated,
        "ratio_array_vs_scalar": scalar_s / array_s,
        "ratio_array_vs_rrule": rrule_extrapolated / array_s,
        "ratio_scalar_vs_rrule": rrule_extrapolated / scalar_s,
        "identical": scalar_same and rrule_same,
    }
    return res
