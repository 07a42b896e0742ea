"""State-office calendars: the `holidays` package as a seed, corrected per state law.

The package lists *public* holidays; a welfare-to-work office needs the days
the *office is closed*. domain.md 6.7 gives the corrections, each cited in
the `source` of the row it produces:

* TX (Tex. Gov't Code ch. 662): no substitute day for a weekend holiday
  (§662.005(a)(1): no paid day off for a holiday on a Saturday or Sunday); state
  and optional holidays keep offices open with a skeleton crew (§662.004),
  except the Friday after Thanksgiving, Dec 24 and Dec 26. Open days are kept
  as rows with closed=False so supervisors see them and can flip them (local
  boards run their own offices). Rosh Hashanah and Yom Kippur, optional
  holidays the package lacks, come from `holidays.IL`.
* AK (AS 44.12.010/.020): Indigenous Peoples' Day and Columbus Day are not
  state holidays; a Sunday holiday makes the following Monday a holiday too
  (AS 44.12.020). The statute moves no Saturday holiday, but the state
  employees' bargaining agreements observe it on the Friday before and state
  offices close (domain.md 6.7): closed by default, its source saying so, for
  an office that opens to flip; Juneteenth from 2025.
* OR (ORS 187.010(2)): Saturday -> preceding Friday, Sunday -> following Monday;
  Juneteenth from 2022; plus the day after Thanksgiving (State HR Policy
  60.010.01); days the Governor appoints (ORS 187.020) are added by hand.

Each weekend holiday of a closing kind gets a row on the weekday it could move to
(the Friday before a Saturday, the Monday after a Sunday), closed or open by the
state's rule, with the rule in its source: the sheet says which days it lists and
why, and a supervisor whose office does otherwise flips Closed. The weekend dates
themselves are left out: they are never business days. Rows are sorted by
date with one row per date (names merged with "; "); an unknown name from a
newer `holidays` release raises rather than silently choosing open or closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import holidays as holidays_package

from pyxl.domain.model import Holiday

__all__ = ["SUPPORTED_STATES", "SUPPORTED_YEARS", "default_years", "office_holidays"]

SUPPORTED_STATES = ("AK", "OR", "TX")
# The corrections encode current law; before 1990 the package also lists
# holidays since abolished (Lincoln's Birthday in AK, Armistice Day, ...).
SUPPORTED_YEARS = range(1990, 2101)

_SATURDAY, _SUNDAY = 5, 6


@dataclass(frozen=True, slots=True)
class _Rule:
    closed: bool
    source: str


# -- Texas ------------------------------------------------------------------

_TX_NATIONAL = _Rule(True, "Tex. Gov't Code §662.003(a); national holiday, office closed")
_TX_STATE_CLOSED = _Rule(
    True, "Tex. Gov't Code §662.003(b); office closed (no skeleton crew, §662.004)"
)
_TX_SKELETON = _Rule(False, "Tex. Gov't Code §662.003(b); skeleton crew, office open (§662.004)")
_TX_OPTIONAL = _Rule(False, "Tex. Gov't Code §662.003(c); optional holiday, office open")

TX_RULES: dict[str, _Rule] = {
    "New Year's Day": _TX_NATIONAL,
    "Martin Luther King Jr. Day": _TX_NATIONAL,
    "Presidents' Day": _TX_NATIONAL,
    "Memorial Day": _TX_NATIONAL,
    "Independence Day": _TX_NATIONAL,
    "Labor Day": _TX_NATIONAL,
    "Veterans Day": _TX_NATIONAL,
    "Thanksgiving Day": _TX_NATIONAL,
    "Christmas Day": _TX_NATIONAL,
    "Friday After Thanksgiving": _TX_STATE_CLOSED,
    "Christmas Eve": _TX_STATE_CLOSED,
    "Day After Christmas": _TX_STATE_CLOSED,
    "Confederate Memorial Day": _TX_SKELETON,
    "Texas Independence Day": _TX_SKELETON,
    "San Jacinto Day": _TX_SKELETON,
    "Emancipation Day In Texas": _TX_SKELETON,
    "Lyndon Baines Johnson Day": _TX_SKELETON,
    # Federal, but not in §662.003(a); the State Auditor lists Jun 19 as the
    # state (skeleton-crew) Emancipation Day.
    "Juneteenth National Independence Day": _Rule(
        False,
        "Tex. Gov't Code §662.003(b) (Emancipation Day; not a national holiday in "
        "§662.003(a)); skeleton crew, office open (§662.004)",
    ),
    "Good Friday": _TX_OPTIONAL,
    "Cesar Chavez Day": _Rule(
        False,
        "Tex. Gov't Code §662.013; optional holiday, office open "
        "(seen only in a secondary source; confirm)",
    ),
    "Rosh Hashanah": _TX_OPTIONAL,
    "Yom Kippur": _TX_OPTIONAL,
}
_TX_JEWISH_OPTIONAL = ("Rosh Hashanah", "Yom Kippur")

# -- Alaska -----------------------------------------------------------------

_AK_LEGAL = _Rule(True, "AS 44.12.010; office closed")
_AK_NOT_STATE = _Rule(False, "not a holiday in AS 44.12.010; office open unless DPA confirms")
_AK_JUNETEENTH_FIRST_YEAR = 2025

AK_RULES: dict[str, _Rule] = {
    "New Year's Day": _AK_LEGAL,
    "Martin Luther King Jr.'s Birthday": _AK_LEGAL,
    "Presidents' Day": _AK_LEGAL,
    "Seward's Day": _AK_LEGAL,
    "Memorial Day": _AK_LEGAL,
    "Independence Day": _AK_LEGAL,
    "Labor Day": _AK_LEGAL,
    "Alaska Day": _AK_LEGAL,
    "Veterans Day": _AK_LEGAL,
    "Thanksgiving Day": _AK_LEGAL,
    "Christmas Day": _AK_LEGAL,
    "Juneteenth National Independence Day": _Rule(
        True, "AS 44.12.010 as amended by SB 22 (signed 2024-06-27, first observed 2025)"
    ),
    "Indigenous Peoples' Day": _AK_NOT_STATE,
    "Columbus Day": _AK_NOT_STATE,
}
_AK_JUNETEENTH_BEFORE_SB22 = _Rule(
    False,
    "federal holiday only; not in AS 44.12.010 until SB 22 (first observed 2025); office open",
)
_AK_SUNDAY = "AS 44.12.020 ({name} falls on Sunday: the following Monday is a legal holiday)"
_AK_SATURDAY = (
    "{name} falls on Saturday: AS 44.12.020 moves only a Sunday holiday; state offices "
    "observe the Friday before under the state employees' bargaining agreements (set Closed "
    "to No if this office opens)"
)

# -- Oregon -----------------------------------------------------------------

_OR_LEGAL = _Rule(True, "ORS 187.010; office closed")
_OR_JUNETEENTH_FIRST_YEAR = 2022

OR_RULES: dict[str, _Rule] = {
    "New Year's Day": _OR_LEGAL,
    "Martin Luther King Jr. Day": _OR_LEGAL,
    "Presidents Day": _OR_LEGAL,
    "Memorial Day": _OR_LEGAL,
    "Juneteenth National Independence Day": _Rule(
        True, "ORS 187.010 (Juneteenth a legal holiday since 2022); office closed"
    ),
    "Independence Day": _OR_LEGAL,
    "Labor Day": _OR_LEGAL,
    "Veterans Day": _OR_LEGAL,
    "Thanksgiving Day": _OR_LEGAL,
    "Christmas Day": _OR_LEGAL,
}
_OR_JUNETEENTH_BEFORE_2022 = _Rule(
    False, "federal holiday only; ORS 187.010 adds Juneteenth from 2022; office open"
)
_OR_DAY_AFTER_THANKSGIVING = _Rule(
    True, "State HR Policy 60.010.01 (under ORS 240.551); state offices closed"
)
_OR_SATURDAY = "ORS 187.010(2) ({name} falls on Saturday: the preceding Friday is the holiday)"
_OR_SUNDAY = "ORS 187.010(2) ({name} falls on Sunday: the following Monday is the holiday)"
_TX_WEEKEND = (
    "{name} falls on a {weekday}: Tex. Gov't Code §662.005(a)(1) gives no day off for a "
    "weekend holiday, so this day stays a working day"
)


@dataclass(frozen=True, slots=True)
class _Row:
    date: dt.date
    name: str
    closed: bool
    source: str
    not_moved: bool = False  # says only why a weekday stays open; dropped if the day has others


def default_years(as_of: dt.date) -> range:
    """Two years either side of `as_of`: enough for look-backs and the next deadlines."""
    return range(as_of.year - 2, as_of.year + 3)


def office_holidays(state: str, years: Iterable[int]) -> list[Holiday]:
    """The office calendar for `state` ("TX", "AK" or "OR") over `years`, as Holidays rows."""
    wanted = sorted(set(years))
    if state not in SUPPORTED_STATES:
        raise ValueError(f"no office calendar for {state!r}; expected one of {SUPPORTED_STATES}")
    if not wanted:
        return []
    if wanted[0] not in SUPPORTED_YEARS or wanted[-1] not in SUPPORTED_YEARS:
        raise ValueError(
            f"office calendars cover {SUPPORTED_YEARS.start}-{SUPPORTED_YEARS.stop - 1}, "
            f"not {wanted[0]}-{wanted[-1]}"
        )
    # The next year too: Sat Jan 1 is observed on Fri Dec 31 of the year before.
    fetch = range(wanted[0], wanted[-1] + 2)
    build = {"TX": _texas, "AK": _alaska, "OR": _oregon}[state]
    rows = [row for row in build(fetch) if row.date.year in wanted]
    return _merge(state, rows)


def _public_holidays(state: str, years: Iterable[int]) -> list[tuple[dt.date, str]]:
    """The package's holidays, one (date, name) per name, without observed shifts."""
    seed = holidays_package.country_holidays("US", subdiv=state, years=years, observed=False)
    return [(day, name) for day, names in sorted(seed.items()) for name in names.split("; ")]


def _rule(rules: dict[str, _Rule], state: str, day: dt.date, name: str) -> _Rule:
    try:
        return rules[name]
    except KeyError:
        raise ValueError(
            f"holidays {holidays_package.__version__} lists {name!r} on {day} for {state}, "
            "which pyxl/policy/calendars.py does not classify as open or closed"
        ) from None


def _texas(years: range) -> list[_Row]:
    rows = []
    for day, name in _public_holidays("TX", years):
        rule = _rule(TX_RULES, "TX", day, name)
        rows.append(_Row(day, name, rule.closed, rule.source))
    jewish = holidays_package.country_holidays("IL", years=years, observed=False, language="en_US")
    for day, name in sorted(jewish.items()):
        if name in _TX_JEWISH_OPTIONAL:
            rule = TX_RULES[name]
            rows.append(_Row(day, name, rule.closed, f"{rule.source}; date from holidays.IL"))
    # §662.005(a)(1) and the SAO schedules: a weekend holiday gets no weekday substitute;
    # the day it would move to is listed open, so the sheet shows the rule.
    for day, name in _public_holidays("TX", years):
        if TX_RULES[name].closed:
            rows.extend(_observed(day, name, saturday=_TX_WEEKEND, sunday=_TX_WEEKEND, moves=()))
    return rows


def _alaska(years: range) -> list[_Row]:
    rows = []
    for day, name in _public_holidays("AK", years):
        rule = _rule(AK_RULES, "AK", day, name)
        if name.startswith("Juneteenth") and day.year < _AK_JUNETEENTH_FIRST_YEAR:
            rule = _AK_JUNETEENTH_BEFORE_SB22
        rows.append(_Row(day, name, rule.closed, rule.source))
        if rule.closed:
            rows.extend(_observed(day, name, saturday=_AK_SATURDAY, sunday=_AK_SUNDAY))
    return rows


def _oregon(years: range) -> list[_Row]:
    rows = []
    for day, name in _public_holidays("OR", years):
        rule = _rule(OR_RULES, "OR", day, name)
        if name.startswith("Juneteenth") and day.year < _OR_JUNETEENTH_FIRST_YEAR:
            rule = _OR_JUNETEENTH_BEFORE_2022
        rows.append(_Row(day, name, rule.closed, rule.source))
        if rule.closed:
            rows.extend(_observed(day, name, saturday=_OR_SATURDAY, sunday=_OR_SUNDAY))
        if name == "Thanksgiving Day":
            rule = _OR_DAY_AFTER_THANKSGIVING
            rows.append(
                _Row(day + dt.timedelta(days=1), "Day after Thanksgiving", rule.closed, rule.source)
            )
    return rows


def _observed(
    day: dt.date,
    name: str,
    *,
    saturday: str,
    sunday: str,
    moves: tuple[int, ...] = (_SATURDAY, _SUNDAY),
) -> list[_Row]:
    """The weekday a weekend holiday could move to (Friday before a Saturday, Monday after a
    Sunday): closed when the state moves it (`moves`: the weekdays it moves from), else
    listed open, so the sheet says why the office works that day."""
    weekday = day.weekday()
    if weekday not in (_SATURDAY, _SUNDAY):
        return []
    to = day + dt.timedelta(days=-1 if weekday == _SATURDAY else 1)
    source = (saturday if weekday == _SATURDAY else sunday).format(
        name=name, weekday="Saturday" if weekday == _SATURDAY else "Sunday"
    )
    if weekday in moves:
        return [_Row(to, f"{name} (observed)", True, source)]
    when = "Saturday" if weekday == _SATURDAY else "Sunday"
    return [_Row(to, f"{name} on {when}: not moved", False, source, not_moved=True)]


def _merge(calendar: str, rows: list[_Row]) -> list[Holiday]:
    """One Holiday per weekday date; closed if any holiday on it closes the office."""
    by_date: dict[dt.date, list[_Row]] = {}
    for row in rows:
        if row.date.weekday() < _SATURDAY:
            by_date.setdefault(row.date, []).append(row)
    merged = []
    for day in sorted(by_date):
        # Closing rows first, so the name and source read in order of effect.
        group = sorted(by_date[day], key=lambda row: not row.closed)
        group = [row for row in group if not row.not_moved] or group
        names = list(dict.fromkeys(row.name for row in group))
        if len(names) == 1:
            source = "; ".join(dict.fromkeys(row.source for row in group))
        else:
            source = " | ".join(dict.fromkeys(f"{row.name}: {row.source}" for row in group))
        merged.append(
            Holiday(
                calendar=calendar,
                date=day,
                name="; ".join(names),
                closed=any(row.closed for row in group),
                source=source,
            )
        )
    return merged
