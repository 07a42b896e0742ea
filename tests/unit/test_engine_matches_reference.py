"""The numpy engine must produce exactly the reference evaluator's obligations: same rows,
same statuses, dates, counts, periods and reasons, on any caseload, as-of date and settings,
whether it is given row objects or columns (the form workbook validation hands it).

Generated caseloads mix every program and branch (the AK, TX and OR calendars plus a branch
with no calendar), contacts with every method and flag, no-shows with and without a call
ahead, hours with and without entered dates, services including planned gaps and future
(scheduled) rows, plans with mailed / due-back / signed dates, closures, rows of unknown cases,
as-of dates around month ends, and random settings (both modes of every choice setting).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyxl.adapters import schema
from pyxl.domain import engine, model, reference
from pyxl.domain.calendar import BusinessCalendar
from pyxl.domain.columns import TABLE_TYPES, CaseloadColumns, TableColumns
from pyxl.domain.model import (
    Appointment,
    Caseload,
    Client,
    Contact,
    HoursEntry,
    Plan,
    Program,
    Service,
    Status,
)
from pyxl.domain.obligations import Obligation
from pyxl.domain.rules import Settings
from pyxl.policy import default_settings, rulebook
from pyxl.policy.calendars import office_holidays
from pyxl.services import demo_data

BOOK = rulebook()
DEFAULTS = default_settings()
YEARS = range(2024, 2030)
CALENDARS = {
    branch: BusinessCalendar.from_holidays(state, office_holidays(state, YEARS))
    for branch, state in (("Anchorage", "AK"), ("Houston", "TX"), ("Portland", "OR"))
}
BRANCHES = ("Anchorage", "Houston", "Portland", "Unknown branch")
D = dt.date


def key(o: Obligation) -> tuple:
    return (
        o.case_id,
        o.rule_id,
        o.trigger or D.min,
        o.due or D.min,
        str(o.status),
        o.days_overdue,
        o.met_on or D.min,
        o.found,
        o.methods_found,
        o.period_start or D.min,
        o.period_end or D.min,
        o.reason,
    )


def as_validated_columns(caseload: Caseload) -> CaseloadColumns:
    """The caseload as workbook validation hands it to the engine: one list per field,
    programs as plain text."""

    def table(kind: type, rows: tuple) -> TableColumns:
        values = {
            name: [
                str(v) if isinstance(v, Program) else v for v in (getattr(r, name) for r in rows)
            ]
            for name in model.field_names(kind)
        }
        return TableColumns(kind, len(rows), values)

    return CaseloadColumns(
        table(Client, caseload.clients),
        {t: table(kind, getattr(caseload, t)) for t, kind in TABLE_TYPES.items()},
    )


def assert_same(caseload: Caseload, chosen: Settings, as_of: dt.date, calendars=CALENDARS):
    expected = reference.evaluate(caseload, BOOK, chosen, calendars, as_of)
    from_objects = engine.evaluate(caseload, BOOK, chosen, calendars, as_of).records()
    from_columns = engine.evaluate(
        as_validated_columns(caseload), BOOK, chosen, calendars, as_of
    ).records()
    assert sorted(from_columns, key=key) == sorted(from_objects, key=key)
    actual = from_objects
    if sorted(expected, key=key) != sorted(actual, key=key):
        only_ref = Counter(expected) - Counter(actual)
        only_eng = Counter(actual) - Counter(expected)
        raise AssertionError(
            f"as of {as_of}: engine and reference disagree\n reference only:\n  "
            + "\n  ".join(map(repr, only_ref.elements()))
            + "\n engine only:\n  "
            + "\n  ".join(map(repr, only_eng.elements()))
        )
    return expected


# ---------------------------------------------------------------- strategies

SETTING_VALUES = {
    "Due soon days": st.integers(0, 10),
    "A-03 days": st.integers(1, 60),
    "A-07 attempts": st.integers(0, 4),
    "A-07 methods": st.integers(0, 3),
    "A-12 mode": st.sampled_from(["rolling", "calendar quarter"]),
    "A-15 days": st.integers(0, 20),
    "A-23 day": st.integers(1, 31),
    "A-23 roll": st.sampled_from(["previous", "next", "none"]),
    "T-03 days": st.integers(0, 20),
    "T-04 business day": st.integers(1, 10),
    "T-15 mode": st.sampled_from(["calendar month", "30 days"]),
    "Y-02 days": st.integers(0, 45),
    "Y-03 mode": st.sampled_from(["rolling", "calendar quarter"]),
    "Y-05 days": st.integers(1, 45),
    "Y-05 stops in a planned gap": st.booleans(),
    "Y-09 follow-ups": st.integers(1, 5),
    "Y-08 days": st.integers(30, 120),
    "O-07 missed count": st.integers(0, 4),
    "O-07 window days": st.integers(0, 60),
    "Per-event lookback days": st.integers(0, 120),
    "Missed months shown": st.integers(0, 3),
    "Missed weeks shown": st.integers(0, 6),
    "Due List shows met": st.booleans(),
}


FLOWS = ("NC-", "flows", "Texas SNAP", "Oregon JOBS")  # settings only the flows read
# Settings of the supervisor report (participation rates, work list): no rule reads them.
REPORT_ONLY = ("Participation ", "Report ")
READING_ONLY = ("Date order", "Dates years ahead")  # how typed text is read, before any rule


def test_the_generated_settings_cover_every_setting_the_rules_read():
    others = {
        name
        for name, spec in DEFAULTS.specs.items()
        if spec.rule.startswith(FLOWS)
        or name.startswith(REPORT_ONLY + READING_ONLY)
        or spec.rule == "letters"
    }
    assert set(SETTING_VALUES) == set(DEFAULTS.specs) - others


@st.composite
def random_settings(draw) -> Settings:
    chosen = {name: draw(values) for name, values in SETTING_VALUES.items() if draw(st.booleans())}
    return DEFAULTS.with_values(chosen)


@st.composite
def as_of_dates(draw) -> dt.date:
    """Often a month end, the first of a month or a day either side of one."""
    month_start = D(draw(st.integers(2025, 2027)), draw(st.integers(1, 12)), 1)
    near_edge = month_start + dt.timedelta(days=draw(st.sampled_from([-2, -1, 0, 1, 2])))
    anywhere = month_start + dt.timedelta(days=draw(st.integers(0, 30)))
    return draw(st.sampled_from([near_edge, anywhere]))


@st.composite
def caseloads(draw, as_of: dt.date) -> Caseload:
    def day(lo: int = -240, hi: int = 45) -> dt.date:
        return as_of + dt.timedelta(days=draw(st.integers(lo, hi)))

    def maybe_day(lo: int = -240, hi: int = 45) -> dt.date | None:
        return day(lo, hi) if draw(st.booleans()) else None

    n = draw(st.integers(1, 6))
    ids = [f"C{i}" for i in range(n)]
    clients = []
    for case_id in ids:
        referral = day(-400, 10)
        clients.append(
            Client(
                case_id=case_id,
                client_name=case_id,
                program=draw(st.sampled_from(list(Program))),
                branch=draw(st.sampled_from(BRANCHES)),
                case_manager="CM",
                referral_date=referral,
                sex=draw(st.sampled_from(["M", "F", "X", None])),
                date_of_birth=draw(st.one_of(st.none(), st.dates(D(2006, 1, 1), D(2009, 12, 31)))),
                selective_service_no=draw(st.sampled_from([None, "", "12-3456789-0"])),
                engaged=draw(st.booleans()),
                cm_change_date=maybe_day(-120, 10),
                track_change_date=maybe_day(-120, 10),
                closure_date=draw(st.one_of(st.none(), st.none(), st.just(day(-120, 20)))),
            )
        )
    case = st.sampled_from([*ids, "ZZ-unknown"])
    contacts = [
        Contact(
            case_id=draw(case),
            date=day(-120, 15),
            method=draw(st.sampled_from(model.CONTACT_METHODS)),
            successful=draw(st.booleans()),
            meaningful=draw(st.booleans()),
            plan_reviewed=draw(st.booleans()),
            purpose=draw(st.sampled_from([None, *model.CONTACT_PURPOSES])),
        )
        for _ in range(draw(st.integers(0, 18)))
    ]
    appointments = [
        Appointment(
            case_id=draw(case),
            type=draw(st.sampled_from(model.APPOINTMENT_TYPES)),
            date=day(-100, 15),
            status=draw(st.sampled_from(["No-show", "No-show", *model.APPOINTMENT_STATUSES])),
            called_ahead=draw(st.booleans()),
        )
        for _ in range(draw(st.integers(0, 8)))
    ]
    # Non-compliance records, often the same missed day as a no-show (one event, two records).
    noncompliance = []
    for _ in range(draw(st.integers(0, 5))):
        same_day = [a.date for a in appointments]
        happened = draw(st.sampled_from(same_day)) if same_day and draw(st.booleans()) else day()
        reported = draw(st.sampled_from([None, happened, happened + dt.timedelta(days=3)]))
        noncompliance.append(
            model.NoncomplianceEvent(
                case_id=draw(case),
                date=happened,
                event=draw(st.sampled_from(model.NONCOMPLIANCE_EVENTS[2:5])),
                reported_date=reported,
                called_ahead=draw(st.booleans()),
            )
        )
    hours = []
    for _ in range(draw(st.integers(0, 10))):
        start = day(-70, 10)
        start -= dt.timedelta(days=start.weekday())
        entered = draw(st.one_of(st.none(), st.integers(0, 40)))
        hours.append(
            HoursEntry(
                case_id=draw(case),
                week_start=start,
                activity=draw(st.sampled_from(model.ACTIVITIES)),
                hours=float(draw(st.integers(0, 40))),
                entered_date=None if entered is None else start + dt.timedelta(days=entered),
            )
        )
    services = []
    for _ in range(draw(st.integers(0, 12))):
        start = day(-200, 40)
        length = draw(
            st.one_of(st.none(), st.integers(0, 250), st.sampled_from([90, 91, 179, 180]))
        )
        services.append(
            Service(
                case_id=draw(case),
                service=draw(st.sampled_from(["Planned gap (11)", *model.SERVICE_TYPES])),
                start_date=start,
                end_date=None if length is None else start + dt.timedelta(days=length),
                qualifying=draw(st.booleans()),
                gap_reason=draw(st.sampled_from([None, "Other", *model.PLANNED_GAP_REASONS])),
            )
        )
    plans = []
    for _ in range(draw(st.integers(0, 5))):
        plan_date = day(-200, 10)
        mailed = draw(st.booleans())
        plans.append(
            Plan(
                case_id=draw(case),
                plan_type=draw(st.sampled_from(["FSSP", "FSSP", *model.PLAN_TYPES])),
                plan_date=plan_date,
                signed_date=draw(st.sampled_from([None, plan_date, day(-150, 30)])),
                mailed_date=plan_date if mailed else None,
                due_back_date=draw(st.sampled_from([None, plan_date + dt.timedelta(days=14)]))
                if mailed
                else None,
            )
        )
    return Caseload(
        clients=tuple(clients),
        contacts=tuple(contacts),
        appointments=tuple(appointments),
        hours=tuple(hours),
        services=tuple(services),
        plans=tuple(plans),
        noncompliance=tuple(noncompliance),
    )


@st.composite
def situations(draw):
    as_of = draw(as_of_dates())
    return draw(caseloads(as_of)), draw(random_settings()), as_of


# ---------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(situations())
def test_engine_and_reference_produce_the_same_obligations(situation):
    caseload, chosen, as_of = situation
    assert_same(caseload, chosen, as_of)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(situations())
def test_each_case_evaluated_alone_gives_its_share_of_the_whole_caseload(situation):
    caseload, chosen, as_of = situation
    whole = assert_same(caseload, chosen, as_of)
    for client in caseload.clients:
        alone = Caseload(
            clients=(client,),
            **{
                t: tuple(r for r in getattr(caseload, t) if r.case_id == client.case_id)
                for t in TABLE_TYPES
            },
        )
        assert Counter(assert_same(alone, chosen, as_of)) == Counter(
            o for o in whole if o.case_id == client.case_id
        )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(situations())
def test_obligations_are_well_formed(situation):
    caseload, chosen, as_of = situation
    soon = chosen["Due soon days"]
    for o in assert_same(caseload, chosen, as_of):
        if o.status == Status.NA:
            assert o.due is None and o.reason and o.days_overdue == 0
            continue
        assert o.due is not None and not o.reason
        if o.status == Status.OVERDUE:
            assert o.days_overdue == (as_of - o.due).days > 0
        elif o.status == Status.DUE_SOON:
            assert 0 <= (o.due - as_of).days <= soon and o.days_overdue == 0
        elif o.status == Status.DUE:
            assert (o.due - as_of).days > soon
        if o.met_on is not None:
            assert o.status == Status.MET and o.met_on <= as_of
        rule = BOOK.rules[o.rule_id]
        if rule.kind == "monthly":
            assert o.period_start and o.period_end and o.period_start <= o.period_end
            assert o.trigger == o.period_start


# ---------------------------------------------------------------- blank columns (regressions)

ALASKA = Client("A1", "n", Program.ATAP_WORK_FIRST, "Anchorage", "cm", D(2026, 1, 5))
YOUTH = Client("Y1", "n", Program.TX_WIOA_YOUTH, "Houston", "cm", D(2026, 1, 5), sex="M")


@pytest.mark.parametrize(
    "caseload",
    [
        Caseload(
            clients=(ALASKA,), plans=(Plan("A1", "FSSP", D(2026, 2, 2), mailed_date=D(2026, 2, 2)),)
        ),
        Caseload(
            clients=(ALASKA,), hours=(HoursEntry("A1", D(2026, 2, 2), "Work experience", 10.0),)
        ),
        Caseload(clients=(YOUTH,)),
        Caseload(
            clients=(YOUTH,), services=(Service("Y1", "COA (08)", D(2026, 1, 6), qualifying=True),)
        ),
        Caseload(clients=(ALASKA, YOUTH)),
    ],
    ids=[
        "no plan has a signed or due-back date",
        "no hours row has an entered date",
        "no client has a date of birth",
        "no service has an end date",
        "no client has any optional date",
    ],
)
def test_a_date_column_blank_on_every_row_does_not_break_the_engine(caseload):
    obligations = assert_same(caseload, DEFAULTS, D(2026, 3, 10))
    assert obligations


@pytest.mark.parametrize("day", [0, 1, 28, 29, 30, 31, 40])
def test_every_A23_day_the_settings_sheet_accepts_gives_the_same_answer_in_both_evaluators(day):
    # Either the Settings sheet refuses the value with a readable message, or both
    # evaluators accept it and agree (today 0 passes the parser and breaks the reference).
    try:
        value = DEFAULTS.specs["A-23 day"].parse(day)
    except ValueError as refused:
        assert "A-23 day" in str(refused)
        return
    chosen = DEFAULTS.with_values({"A-23 day": value})
    obligations = assert_same(Caseload(clients=(ALASKA,)), chosen, D(2026, 3, 10))
    a23 = next(o for o in obligations if o.rule_id == "A-23")
    assert D(2026, 2, 20) <= a23.due <= D(2026, 3, 31)


def test_an_empty_caseload_has_no_obligations():
    assert assert_same(Caseload(), DEFAULTS, D(2026, 3, 10)) == []


# ---------------------------------------------------------------- the demo caseload


def _rows_to_domain(data: dict) -> Caseload:
    """Demo rows (lists in schema order) to domain objects; blanks take the domain defaults."""
    kinds = {
        "Clients": ("clients", Client),
        "Contacts": ("contacts", Contact),
        "Appointments": ("appointments", Appointment),
        "Hours": ("hours", HoursEntry),
        "Services": ("services", Service),
        "Plans": ("plans", Plan),
        "Branches": ("branches", model.Branch),
    }
    tables = {}
    for sheet, (attr, kind) in kinds.items():
        columns = [(i, c.field) for i, c in enumerate(schema.SHEETS[sheet].columns) if c.field]
        rows = []
        for row in data[sheet]:
            values = {f: row[i] for i, f in columns if row[i] is not None}
            if sheet == "Clients":
                values["program"] = Program(values["program"])
            rows.append(kind(**values))
        tables[attr] = tuple(rows)
    return Caseload(**tables)


@pytest.fixture(scope="module")
def demo() -> tuple[Caseload, dict[str, BusinessCalendar]]:
    caseload = _rows_to_domain(demo_data.generate(600))
    calendars = {
        b.name: BusinessCalendar.from_holidays(b.calendar, office_holidays(b.state, YEARS))
        for b in caseload.branches
    }
    return caseload, calendars


@pytest.mark.parametrize(
    "as_of",
    [
        demo_data.AS_OF,
        D(2026, 10, 31),
        D(2026, 11, 1),
        D(2026, 11, 20),
        D(2026, 11, 30),
        D(2026, 12, 1),
        D(2026, 12, 21),
        D(2027, 1, 4),
    ],
)
def test_engine_matches_reference_on_the_600_client_demo_caseload(demo, as_of):
    caseload, calendars = demo
    obligations = assert_same(caseload, DEFAULTS, as_of, calendars)
    assert {o.status for o in obligations} == set(Status)
    assert {o.rule_id for o in obligations} == set(BOOK.rules)


@pytest.mark.parametrize(
    "overrides",
    [
        {"A-12 mode": "calendar quarter", "Y-03 mode": "calendar quarter", "T-15 mode": "30 days"},
        {"A-23 roll": "next", "A-07 methods": 1, "O-07 missed count": 3, "O-07 window days": 60},
        {"A-23 roll": "none", "T-04 business day": 1, "Per-event lookback days": 120},
    ],
    ids=["other modes", "next roll and looser counts", "no roll and longer look-back"],
)
def test_engine_matches_reference_on_the_demo_caseload_with_other_settings(demo, overrides):
    caseload, calendars = demo
    assert_same(caseload, DEFAULTS.with_values(overrides), demo_data.AS_OF, calendars)
