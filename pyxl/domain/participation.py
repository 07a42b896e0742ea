"""TANF work participation rates (45 CFR 261), per family and month: pure, no I/O.

The supervisor report's all-families (A-36, target 50%) and two-parent (A-37,
target 75%) rates. For each family open in a month the hours logged on the
Hours sheet are turned into a weekly average, split into core hours (the nine
core activities of 261.2) and the other three, and compared with the family's
requirement (domain.md 6.1):

| family                                   | weekly hours | of which core |
|------------------------------------------|--------------|---------------|
| one work-eligible adult                  | 30           | 20            |
| single parent with a child under 6       | 20           | 20            |
| two-parent (combined)                    | 35           | 30            |
| two-parent with federally funded care    | 55           | 50            |

Non-core hours count only on top of the core minimum (261.31(b)). The monthly
rate is met / (eligible - excluded): a family penalised in the month leaves the
denominator unless it was penalised in more than 3 of the last 12 months
(261.22(b)); at state option a single parent of a child under 1 is left out
(261.22(c)). Child-only cases have no work-eligible adult and are in neither
rate. Every number above, and each ambiguous choice, is a setting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal, NamedTuple

from pyxl.domain.calendar import edate, eomonth
from pyxl.domain.model import CORE_ACTIVITIES, Client, HoursEntry, Program
from pyxl.domain.rules import Settings

RateKind = Literal["All families", "Two-parent"]
PROGRAMS: dict[str, frozenset[Program]] = {
    "Work First only": frozenset({Program.ATAP_WORK_FIRST}),
    "TANF work programs": frozenset({Program.ATAP_WORK_FIRST, Program.TX_CHOICES, Program.OR_JOBS}),
    "all TANF": frozenset(
        {Program.ATAP_WORK_FIRST, Program.ATAP_FAMILIES_FIRST, Program.TX_CHOICES, Program.OR_JOBS}
    ),
}
_EPSILON = 1e-9  # 129.9 h / 4.33 is 30 h, whatever the float says


@dataclass(frozen=True)
class ParticipationRules:
    """The settings of the computation, read once."""

    programs: frozenset[Program]
    hours: int
    core: int
    child_under_6_hours: int
    two_parent_hours: int
    two_parent_core: int
    child_care_hours: int
    child_care_core: int
    weeks_per_month: str  # "4.33" or "days/7"
    week_in_month: str  # "week start" or "weekdays"
    verified_only: bool
    child_under_1_excluded: bool
    sanction_months_limit: int
    all_families_target: int  # per cent
    two_parent_target: int

    @classmethod
    def from_settings(cls, s: Settings) -> ParticipationRules:
        return cls(
            programs=PROGRAMS[s["Participation programs"]],
            hours=s["Participation hours"],
            core=s["Participation core hours"],
            child_under_6_hours=s["Participation child under 6 hours"],
            two_parent_hours=s["Participation two-parent hours"],
            two_parent_core=s["Participation two-parent core hours"],
            child_care_hours=s["Participation child care hours"],
            child_care_core=s["Participation child care core hours"],
            weeks_per_month=s["Participation weeks per month"],
            week_in_month=s["Participation week in month"],
            verified_only=s["Participation verified only"],
            child_under_1_excluded=s["Participation child under 1 excluded"],
            sanction_months_limit=s["Participation sanction months limit"],
            all_families_target=s["Participation all-families target"],
            two_parent_target=s["Participation two-parent target"],
        )

    def target(self, kind: RateKind) -> int:
        return self.all_families_target if kind == "All families" else self.two_parent_target

    def weeks(self, month: dt.date) -> float:
        return 4.33 if self.weeks_per_month == "4.33" else eomonth(month, 0).day / 7


class FamilyMonth(NamedTuple):
    """One family in one month: its requirement, its weekly hours and where it counts (a
    named tuple, as the event rows are: a caseload makes tens of thousands)."""

    case_id: str
    branch: str
    case_manager: str
    program: str
    month: dt.date  # first day of the month
    family_type: str
    required_hours: int
    required_core: int
    core_hours: float  # weekly average
    other_hours: float  # weekly average, non-core activities
    meets: bool
    in_all_families: bool  # in the denominator of the all-families rate
    in_two_parent: bool
    excluded: str  # why the family is left out of the denominator ("" = not left out)

    @property
    def countable_hours(self) -> float:
        """Core hours, plus non-core hours once the core minimum is reached (261.31(b))."""
        if self.core_hours + _EPSILON < self.required_core:
            return self.core_hours
        return self.core_hours + self.other_hours


def months_before(as_of: dt.date, count: int) -> list[dt.date]:
    """The `count` complete months before as-of's month, oldest first (first days)."""
    this = as_of.replace(day=1)
    return [edate(this, -k) for k in range(count, 0, -1)]


def requirement(client: Client, month: dt.date, rules: ParticipationRules) -> tuple[int, int]:
    """(weekly hours, of which core) the family needs in the month."""
    if client.family_type == "Two-parent":
        if client.federal_child_care:
            return rules.child_care_hours, rules.child_care_core
        return rules.two_parent_hours, rules.two_parent_core
    if _child_under(client, month, 6):
        return rules.child_under_6_hours, rules.child_under_6_hours
    return rules.hours, rules.core


def _child_under(client: Client, month: dt.date, years: int) -> bool:
    """The youngest child is under `years` on the first day of the month."""
    dob = client.youngest_child_dob
    return dob is not None and dob <= month < _years_after(dob, years)


# Thousands of families share a few hundred dates: each month end, birthday and week is
# worked out once.
@cache
def _years_after(day: dt.date, years: int) -> dt.date:
    return edate(day, 12 * years)


@cache
def _month_end(month: dt.date) -> dt.date:
    return eomonth(month, 0)


def _open_in(client: Client, month: dt.date) -> bool:
    return client.referral_date <= _month_end(month) and (
        client.closure_date is None or client.closure_date >= month
    )


def monthly_hours(
    hours: Iterable[HoursEntry], months: Sequence[dt.date], rules: ParticipationRules
) -> dict[tuple[str, dt.date], tuple[float, float]]:
    """(case, month) -> (core hours, other hours) logged in the month (totals, not averages)."""
    wanted = set(months)
    out: dict[tuple[str, dt.date], list[float]] = {}
    for row in hours:
        if rules.verified_only and not row.verified:
            continue
        core = row.activity in CORE_ACTIVITIES
        for month, share in _week_shares(row.week_start, rules.week_in_month):
            if month in wanted:
                totals = out.setdefault((row.case_id, month), [0.0, 0.0])
                totals[0 if core else 1] += row.hours * share
    return {k: (v[0], v[1]) for k, v in out.items()}


@cache
def _week_shares(monday: dt.date, mode: str) -> tuple[tuple[dt.date, float], ...]:
    """The months a week's hours belong to, with the share of its hours each gets."""
    if mode == "week start":
        return ((monday.replace(day=1), 1.0),)
    days = [monday + dt.timedelta(days=k) for k in range(5)]
    months = sorted({d.replace(day=1) for d in days})
    return tuple((m, sum(d.replace(day=1) == m for d in days) / 5) for m in months)


def family_months(
    clients: Iterable[Client],
    hours: Iterable[HoursEntry],
    months: Sequence[dt.date],
    rules: ParticipationRules,
    penalised: Mapping[str, Collection[dt.date]] | None = None,
) -> list[FamilyMonth]:
    """Every TANF family open in each month, with its hours and place in the two rates.

    `penalised` maps a case id to the months (first days) its family was penalised for
    refusing to work (from the non-compliance flows); missing cases were never penalised.
    """
    penalised = penalised or {}
    logged = monthly_hours(hours, months, rules)
    out = []
    for client in clients:
        if client.program not in rules.programs:
            continue
        for month in months:
            if not _open_in(client, month):
                continue
            weeks = rules.weeks(month)
            core, other = logged.get((client.case_id, month), (0.0, 0.0))
            need, need_core = requirement(client, month, rules)
            core_avg, other_avg = round(core / weeks, 2), round(other / weeks, 2)
            countable = core_avg + (other_avg if core_avg + _EPSILON >= need_core else 0.0)
            meets = core_avg + _EPSILON >= need_core and countable + _EPSILON >= need
            excluded = _exclusion(client, month, rules, penalised.get(client.case_id, ()))
            adult = client.family_type != "Child-only"
            out.append(
                FamilyMonth(
                    case_id=client.case_id,
                    branch=client.branch,
                    case_manager=client.case_manager,
                    program=str(client.program),
                    month=month,
                    family_type=client.family_type,
                    required_hours=need,
                    required_core=need_core,
                    core_hours=core_avg,
                    other_hours=other_avg,
                    meets=meets and adult,
                    in_all_families=adult and not excluded,
                    in_two_parent=adult and not excluded and client.family_type == "Two-parent",
                    excluded=excluded,
                )
            )
    return out


def _exclusion(
    client: Client, month: dt.date, rules: ParticipationRules, penalised: Collection[dt.date]
) -> str:
    if client.family_type == "Child-only":
        return "no work-eligible adult"
    if month in penalised:
        last_year = sum(edate(month, -k) in penalised for k in range(12))
        if last_year <= rules.sanction_months_limit:
            return "penalised this month"
    if (
        rules.child_under_1_excluded
        and client.family_type == "Single parent"
        and _child_under(client, month, 1)
    ):
        return "single parent, child under 1"
    return ""


@dataclass(frozen=True)
class Rate:
    """One rate for one group and month."""

    group: tuple[Hashable, ...]
    month: dt.date
    kind: RateKind
    families: int  # families of this kind open in the month (before exclusions)
    excluded: int
    met: int
    target: int  # per cent

    @property
    def denominator(self) -> int:
        return self.families - self.excluded

    @property
    def rate(self) -> float | None:
        """Met / denominator as a fraction; None when nobody counts."""
        return self.met / self.denominator if self.denominator else None

    @property
    def meets_target(self) -> bool | None:
        rate = self.rate
        return None if rate is None else rate * 100 + _EPSILON >= self.target


def rates(
    rows: Iterable[FamilyMonth],
    rules: ParticipationRules,
    group: Callable[[FamilyMonth], tuple[Hashable, ...]] = lambda _: (),
) -> list[Rate]:
    """Both rates for each group and month, sorted by group, month, kind."""
    counts: dict[tuple[tuple[Hashable, ...], dt.date, RateKind], list[int]] = {}
    for fm in rows:
        if fm.family_type == "Child-only":
            continue
        kinds: list[RateKind] = ["All families"]
        if fm.family_type == "Two-parent":
            kinds.append("Two-parent")
        for kind in kinds:
            c = counts.setdefault((group(fm), fm.month, kind), [0, 0, 0])
            c[0] += 1
            counted = fm.in_all_families if kind == "All families" else fm.in_two_parent
            c[1] += not counted
            c[2] += counted and fm.meets
    return [
        Rate(g, month, kind, n, excluded, met, rules.target(kind))
        for (g, month, kind), (n, excluded, met) in sorted(
            counts.items(), key=lambda kv: (tuple(map(str, kv[0][0])), kv[0][1], kv[0][2])
        )
    ]
