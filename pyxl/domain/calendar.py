"""Excel-exact business-day and month arithmetic over an office calendar.

Semantics are Excel's WORKDAY, NETWORKDAYS, EDATE and EOMONTH (Saturday/Sunday
weekend), checked against LibreOffice as an independent oracle
(performance.md 1a):

* WORKDAY with days = 0 returns the start unchanged, even on a weekend or a
  holiday; otherwise a start that is not a business day counts from where it
  is, so WORKDAY(Sat, 1) = Mon and WORKDAY(Sat, -1) = Fri.
* Fractional days and months are truncated toward zero; dates with a time of
  day count as their date.
* NETWORKDAYS counts both ends and is negative when end < start.
* EDATE/EOMONTH clamp to the end of the target month (leap years included).
* Holidays on weekends and duplicate holidays change nothing.

The module-level scalar functions use `numpy.busday_offset`/`busday_count`;
`BusinessCalendar` uses a precomputed business-day index (performance.md 4).
Two independent implementations let the tests cross-check each other.

Vectorised functions take numpy int64 arrays of proleptic ordinals
(`date.toordinal()`); ordinal 0 means "no date" and stays 0.
"""

from __future__ import annotations

import bisect
import calendar as _stdcal
import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from pyxl.domain.model import Holiday

__all__ = [
    "NO_DATE",
    "BusinessCalendar",
    "edate",
    "edate_array",
    "eomonth",
    "eomonth_array",
    "networkdays",
    "workday",
]

Ordinals = npt.NDArray[np.int64]

NO_DATE = 0
# date.toordinal() of 1970-01-01, numpy's datetime64 epoch.
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_MIN_ORDINAL = dt.date.min.toordinal()
_MAX_ORDINAL = dt.date.max.toordinal()
_SATURDAY = 5


def _truncate(value: float) -> int:
    """Excel truncates day and month counts toward zero (2.7 -> 2, -2.7 -> -2)."""
    return math.trunc(value)


def _truncate_array(values: npt.ArrayLike) -> npt.NDArray[np.int64]:
    array = np.asarray(values)
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise ValueError("day and month counts must be finite")
        array = np.trunc(array)
    return array.astype(np.int64)


def _to_datetime64(ordinal: int) -> np.datetime64:
    return np.datetime64(ordinal - _EPOCH_ORDINAL, "D")


def _from_datetime64(value: np.datetime64) -> dt.date:
    ordinal = int(value.astype(np.int64)) + _EPOCH_ORDINAL
    if not _MIN_ORDINAL <= ordinal <= _MAX_ORDINAL:
        raise OverflowError("result is outside 0001-01-01 .. 9999-12-31")
    return dt.date.fromordinal(ordinal)


def _busday_calendar(holidays: Iterable[dt.date | None]) -> np.busdaycalendar:
    # Blank cells in an Excel holiday range are ignored, so None is too.
    days = [_to_datetime64(h.toordinal()) for h in holidays if h is not None]
    return np.busdaycalendar(holidays=np.array(days, dtype="datetime64[D]"))


def workday(start: dt.date, days: int | float, holidays: Iterable[dt.date | None] = ()) -> dt.date:
    """Excel WORKDAY(start, days, holidays)."""
    n = _truncate(days)
    if n == 0:
        return dt.date.fromordinal(start.toordinal())
    # Rolling *against* the direction of travel first means a non-business
    # start counts from where it is (Sat + 1 = Mon, Sat - 1 = Fri).
    roll = "backward" if n > 0 else "forward"
    result = np.busday_offset(
        _to_datetime64(start.toordinal()), n, roll=roll, busdaycal=_busday_calendar(holidays)
    )
    return _from_datetime64(result)


def networkdays(start: dt.date, end: dt.date, holidays: Iterable[dt.date | None] = ()) -> int:
    """Excel NETWORKDAYS(start, end, holidays): both ends count; negative if end < start."""
    first, last = start.toordinal(), end.toordinal()
    sign = 1
    if last < first:
        first, last, sign = last, first, -1
    count = np.busday_count(
        _to_datetime64(first), _to_datetime64(last + 1), busdaycal=_busday_calendar(holidays)
    )
    return sign * int(count)


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    target_year, month_index = divmod(month - 1 + months, 12)
    target_year += year
    if not dt.MINYEAR <= target_year <= dt.MAXYEAR:
        raise OverflowError("result is outside 0001-01-01 .. 9999-12-31")
    return target_year, month_index + 1


def edate(start: dt.date, months: int | float) -> dt.date:
    """Excel EDATE: same day `months` later, clamped to the end of a shorter month."""
    year, month = _add_months(start.year, start.month, _truncate(months))
    return dt.date(year, month, min(start.day, _stdcal.monthrange(year, month)[1]))


def eomonth(start: dt.date, months: int | float) -> dt.date:
    """Excel EOMONTH: the last day of the month `months` after start's month."""
    year, month = _add_months(start.year, start.month, _truncate(months))
    return dt.date(year, month, _stdcal.monthrange(year, month)[1])


def _month_parts(
    ords: npt.ArrayLike, months: npt.ArrayLike
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.datetime64], npt.NDArray[np.int64]]:
    """For each ordinal: has-a-date mask, target month (datetime64[M]), day-of-month - 1."""
    ordinals = np.asarray(ords, dtype=np.int64)
    present = ordinals != NO_DATE
    _check_ordinals(ordinals[present])
    # Any valid date stands in for "no date" so the arithmetic stays in range.
    days = np.where(present, ordinals, _EPOCH_ORDINAL) - _EPOCH_ORDINAL
    as_days = days.astype("datetime64[D]")
    month_start = as_days.astype("datetime64[M]")
    day_index = (as_days - month_start.astype("datetime64[D]")).astype(np.int64)
    target = month_start + np.where(present, _truncate_array(months), 0)
    first = np.datetime64(dt.date.min, "M")
    last = np.datetime64(dt.date.max, "M")
    if ((target < first) | (target > last)).any():
        raise OverflowError("result is outside 0001-01-01 .. 9999-12-31")
    return present, target, day_index


def _ordinals_from(days: npt.NDArray[np.datetime64], present: npt.NDArray[np.bool_]) -> Ordinals:
    return np.where(present, days.astype(np.int64) + _EPOCH_ORDINAL, NO_DATE)


def edate_array(ords: npt.ArrayLike, months: npt.ArrayLike) -> Ordinals:
    """Vectorised EDATE over proleptic ordinals; months scalar or array; 0 stays 0."""
    present, target, day_index = _month_parts(ords, months)
    target_start = target.astype("datetime64[D]")
    month_length = ((target + 1).astype("datetime64[D]") - target_start).astype(np.int64)
    return _ordinals_from(target_start + np.minimum(day_index, month_length - 1), present)


def eomonth_array(ords: npt.ArrayLike, months: npt.ArrayLike) -> Ordinals:
    """Vectorised EOMONTH over proleptic ordinals; months scalar or array; 0 stays 0."""
    present, target, _ = _month_parts(ords, months)
    return _ordinals_from((target + 1).astype("datetime64[D]") - 1, present)


@dataclass(frozen=True, slots=True)
class _Index:
    """Business days over [first, last] (ordinals, inclusive).

    `count[i]` is the number of business days from `first` to `first + i`
    inclusive; `days` lists the business-day ordinals in order. WORKDAY and
    NETWORKDAYS then become lookups.
    """

    first: int
    last: int
    is_business: npt.NDArray[np.bool_]
    count: npt.NDArray[np.int64]
    days: Ordinals

    @classmethod
    def build(cls, first: int, last: int, closed: npt.NDArray[np.int64]) -> _Index:
        span = np.arange(first, last + 1, dtype=np.int64)
        # (ordinal - 1) % 7 is date.weekday(): Monday 0 .. Sunday 6.
        weekday = (span - 1) % 7
        is_business = weekday < _SATURDAY
        inside = closed[(closed >= first) & (closed <= last)]
        is_business[inside - first] = False
        return cls(
            first, last, is_business, np.cumsum(is_business, dtype=np.int64), span[is_business]
        )


class BusinessCalendar:
    """An office calendar: Saturday/Sunday weekend plus closed holidays.

    The business-day index covers `first_year`..`last_year` (and every holiday
    given) and is built on first use; a request beyond it extends it, with no
    holidays outside the ones given.
    """

    __slots__ = ("_closed_ordinals", "_holidays", "_index", "_weekday_holiday_ordinals", "name")

    def __init__(
        self,
        name: str,
        holidays: Mapping[dt.date, str],
        first_year: int = 1990,
        last_year: int = 2100,
    ) -> None:
        if first_year > last_year:
            raise ValueError(f"first_year {first_year} is after last_year {last_year}")
        self.name = name
        by_date: dict[dt.date, str] = {}
        for day, label in holidays.items():
            day = _as_date(day)
            by_date[day] = f"{by_date[day]}; {label}" if day in by_date else label
        self._holidays = dict(sorted(by_date.items()))
        self._closed_ordinals = np.fromiter(
            (day.toordinal() for day in self._holidays), dtype=np.int64, count=len(self._holidays)
        )
        # Only weekday closures explain a deadline moving; weekends move it anyway.
        self._weekday_holiday_ordinals = [
            day.toordinal() for day in self._holidays if day.weekday() < _SATURDAY
        ]
        first = dt.date(first_year, 1, 1).toordinal()
        last = dt.date(last_year, 12, 31).toordinal()
        if len(self._closed_ordinals):
            first = min(first, int(self._closed_ordinals[0]))
            last = max(last, int(self._closed_ordinals[-1]))
        self._index: _Index | tuple[int, int] = (first, last)

    @classmethod
    def from_holidays(
        cls,
        name: str,
        rows: Iterable[Holiday],
        first_year: int = 1990,
        last_year: int = 2100,
    ) -> BusinessCalendar:
        """The calendar `name` from Holidays-sheet rows: only its own rows marked closed."""
        names: dict[dt.date, list[str]] = {}
        for row in rows:
            if row.calendar == name and row.closed:
                labels = names.setdefault(row.date, [])
                if row.name not in labels:
                    labels.append(row.name)
        return cls(
            name, {day: "; ".join(labels) for day, labels in names.items()}, first_year, last_year
        )

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.name!r}, {len(self._holidays)} closed days)"

    @property
    def holidays(self) -> Mapping[dt.date, str]:
        """Closed days (weekend ones included) and their names, in date order."""
        return dict(self._holidays)

    # -- the index ---------------------------------------------------------

    def _covering(self, first: int, last: int) -> _Index:
        """The index, rebuilt wider if it does not cover [first, last]."""
        index = self._index
        if isinstance(index, _Index) and index.first <= first and last <= index.last:
            return index
        current_first, current_last = (
            (index.first, index.last) if isinstance(index, _Index) else index
        )
        if first < _MIN_ORDINAL or last > _MAX_ORDINAL:
            raise OverflowError("date is outside 0001-01-01 .. 9999-12-31")
        built = _Index.build(
            min(first, current_first), max(last, current_last), self._closed_ordinals
        )
        self._index = built
        return built

    def _locate(self, ordinals: Ordinals) -> tuple[_Index, Ordinals, Ordinals]:
        """Index, business days on or before each date, business days strictly before it."""
        _check_ordinals(ordinals)
        index = self._covering(int(ordinals.min()), int(ordinals.max()))
        offset = ordinals - index.first
        up_to = index.count[offset]
        return index, up_to, up_to - index.is_business[offset]

    def _business_days_at(self, positions: Ordinals, index: _Index) -> Ordinals:
        """`index.days[positions]`, widening the index when a position runs off either end."""
        while True:
            missing_before = int(-positions.min())
            missing_after = int(positions.max()) - len(index.days) + 1
            if missing_before <= 0 and missing_after <= 0:
                return index.days[positions]
            # Five business days per seven calendar days, plus a week of slack.
            first = (
                index.first - (missing_before // 5 + 2) * 7 if missing_before > 0 else index.first
            )
            last = index.last + (missing_after // 5 + 2) * 7 if missing_after > 0 else index.last
            widened = self._covering(max(first, _MIN_ORDINAL), min(last, _MAX_ORDINAL))
            if (widened.first, widened.last) == (index.first, index.last):
                raise OverflowError("result is outside 0001-01-01 .. 9999-12-31")
            if widened.first < index.first:
                # Business days added in front shift every position.
                positions = positions + widened.count[index.first - widened.first - 1]
            index = widened

    # -- scalar API ----------------------------------------------------------

    def is_business_day(self, day: dt.date) -> bool:
        day = _as_date(day)
        return day.weekday() < _SATURDAY and day not in self._holidays

    def _scalar_counts(self, ordinal: int) -> tuple[_Index, int, int] | None:
        """Like `_locate` for one date already inside a built index, else None.

        Scalar calls skip numpy's per-call array overhead (about 30x faster).
        """
        index = self._index
        if not isinstance(index, _Index) or not index.first <= ordinal <= index.last:
            return None
        up_to = int(index.count[ordinal - index.first])
        return index, up_to, up_to - int(index.is_business[ordinal - index.first])

    def _scalar_day_at(self, index: _Index, position: int) -> dt.date | None:
        if 0 <= position < len(index.days):
            return dt.date.fromordinal(int(index.days[position]))
        return None

    def workday(self, start: dt.date, days: int | float) -> dt.date:
        """Excel WORKDAY(start, days, this calendar's holidays)."""
        ordinal, n = start.toordinal(), _truncate(days)
        if n == 0:
            return dt.date.fromordinal(ordinal)
        if (counts := self._scalar_counts(ordinal)) is not None:
            index, up_to, before = counts
            found = self._scalar_day_at(index, up_to - 1 + n if n > 0 else before + n)
            if found is not None:
                return found
        return _scalar(self.workday_array, ordinal, n)

    def networkdays(self, start: dt.date, end: dt.date) -> int:
        """Excel NETWORKDAYS(start, end, this calendar's holidays)."""
        first, last = start.toordinal(), end.toordinal()
        low, high = min(first, last), max(first, last)
        low_counts, high_counts = self._scalar_counts(low), self._scalar_counts(high)
        if low_counts is None or high_counts is None:
            return int(self.networkdays_array([first], [last])[0])
        count = high_counts[1] - low_counts[2]
        return -count if last < first else count

    def previous_business_day(self, day: dt.date) -> dt.date:
        """The business day on or before `day`."""
        ordinal = day.toordinal()
        if (counts := self._scalar_counts(ordinal)) is not None:
            found = self._scalar_day_at(counts[0], counts[1] - 1)
            if found is not None:
                return found
        return _scalar(self.previous_business_day_array, ordinal)

    def next_business_day(self, day: dt.date) -> dt.date:
        """The business day on or after `day`."""
        ordinal = day.toordinal()
        if (counts := self._scalar_counts(ordinal)) is not None:
            found = self._scalar_day_at(counts[0], counts[2])
            if found is not None:
                return found
        return _scalar(self.next_business_day_array, ordinal)

    def holidays_between(self, start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
        """Closed weekdays d with start < d <= end, for explaining why a deadline moved."""
        lo = bisect.bisect_right(self._weekday_holiday_ordinals, start.toordinal())
        hi = bisect.bisect_right(self._weekday_holiday_ordinals, end.toordinal())
        return [
            (dt.date.fromordinal(ordinal), self._holidays[dt.date.fromordinal(ordinal)])
            for ordinal in self._weekday_holiday_ordinals[lo:hi]
        ]

    # -- vectorised API (proleptic ordinals, 0 = no date) ---------------------

    def workday_array(self, start_ords: npt.ArrayLike, days: npt.ArrayLike) -> Ordinals:
        """Vectorised WORKDAY; `days` is a scalar or an array broadcastable to the starts."""
        starts, steps = np.broadcast_arrays(
            np.asarray(start_ords, dtype=np.int64), _truncate_array(days)
        )
        result = starts.copy()
        # days = 0 returns the start unchanged, even on a weekend.
        moving = (starts != NO_DATE) & (steps != 0)
        if moving.any():
            index, up_to, before = self._locate(starts[moving])
            n = steps[moving]
            # The n-th business day after s is days[up_to + n - 1] and the n-th
            # before it is days[before + n]. A non-business start has
            # up_to == before, which is "count from where it is".
            positions = np.where(n > 0, up_to - 1 + n, before + n)
            result[moving] = self._business_days_at(positions, index)
        return result

    def networkdays_array(self, start_ords: npt.ArrayLike, end_ords: npt.ArrayLike) -> Ordinals:
        """Vectorised NETWORKDAYS: both ends count, negative if end < start, 0 if either is 0."""
        starts, ends = np.broadcast_arrays(
            np.asarray(start_ords, dtype=np.int64), np.asarray(end_ords, dtype=np.int64)
        )
        present = (starts != NO_DATE) & (ends != NO_DATE)
        result = np.zeros(starts.shape, dtype=np.int64)
        if present.any():
            first = np.minimum(starts[present], ends[present])
            last = np.maximum(starts[present], ends[present])
            _, up_to, before = self._locate(np.concatenate([first, last]))
            count = up_to[first.size :] - before[: first.size]
            result[present] = np.where(ends[present] < starts[present], -count, count)
        return result

    def previous_business_day_array(self, ords: npt.ArrayLike) -> Ordinals:
        """Vectorised business day on or before each date; 0 stays 0."""
        ordinals = np.asarray(ords, dtype=np.int64)
        result = ordinals.copy()
        present = ordinals != NO_DATE
        if present.any():
            index, up_to, _ = self._locate(ordinals[present])
            result[present] = self._business_days_at(up_to - 1, index)
        return result

    def next_business_day_array(self, ords: npt.ArrayLike) -> Ordinals:
        """Vectorised business day on or after each date; 0 stays 0."""
        ordinals = np.asarray(ords, dtype=np.int64)
        result = ordinals.copy()
        present = ordinals != NO_DATE
        if present.any():
            index, _, before = self._locate(ordinals[present])
            result[present] = self._business_days_at(before, index)
        return result


def _as_date(day: dt.date) -> dt.date:
    """A datetime counts as its date, as in Excel (the time of day is truncated)."""
    return day.date() if isinstance(day, dt.datetime) else day


def _check_ordinals(ordinals: Ordinals) -> None:
    if (ordinals < _MIN_ORDINAL).any() or (ordinals > _MAX_ORDINAL).any():
        raise ValueError("ordinals must be 0 (no date) or a date.toordinal() value")


def _scalar(vectorised: Callable[..., Ordinals], ordinal: int, *args: int) -> dt.date:
    return dt.date.fromordinal(int(vectorised(np.array([ordinal], dtype=np.int64), *args)[0]))
