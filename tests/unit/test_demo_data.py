"""The demo caseload generator: shape, determinism, vocabularies and scale."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from pyxl.adapters import schema
from pyxl.domain import model
from pyxl.services import demo_data
from pyxl.services.demo_data import AS_OF, SHEET_NAMES, generate

CHILD_SHEETS = ("Contacts", "Appointments", "Hours", "Services", "Plans")
# Columns allowed to hold a date after as_of: booked appointments and services, a
# service's planned end, and a plan's forward-looking dates.
FUTURE_OK = {
    ("Services", "Start Date"),
    ("Services", "End Date"),
    ("Plans", "Due Back Date"),
    ("Plans", "Expiry Date"),
}


@pytest.fixture(scope="module")
def data() -> demo_data.DemoData:
    return generate()


def column(data: dict, sheet: str, header: str) -> list[object]:
    i = schema.SHEETS[sheet].headers.index(header)
    return [row[i] for row in data[sheet]]


def test_same_seed_same_rows_and_other_seed_other_rows(data):
    assert generate() == data
    assert generate(seed=7)["Clients"] != data["Clients"]


def test_returns_every_sheet_with_rows_shaped_like_the_schema(data):
    assert tuple(data) == SHEET_NAMES
    for name in SHEET_NAMES:
        width = len(schema.SHEETS[name].headers)
        assert data[name], name
        assert all(isinstance(row, list) and len(row) == width for row in data[name]), name


def test_computed_columns_are_left_empty(data):
    for name in SHEET_NAMES:
        for i, col in enumerate(schema.SHEETS[name].columns):
            if col.computed:
                assert all(row[i] is None for row in data[name]), (name, col.header)


def test_three_branches_twelve_case_managers_and_every_program(data):
    branches = {row[0]: row for row in data["Branches"]}
    assert {b: (r[1], r[2]) for b, r in branches.items()} == {
        "Anchorage": ("AK", "AK"),
        "Houston Northeast": ("TX", "TX"),
        "Portland East": ("OR", "OR"),
    }
    assert all(all(v not in (None, "") for v in row) for row in data["Branches"])
    staff = Counter(row[1] for row in data["Staff"])
    assert staff == {"Anchorage": 4, "Houston Northeast": 4, "Portland East": 4}
    assert len({row[0] for row in data["Staff"]}) == 12
    assert set(column(data, "Clients", "Program")) == {p.value for p in model.Program}
    assert set(column(data, "Clients", "Branch")) == set(branches)


def test_programs_live_in_their_own_state_and_case_manager_in_their_branch(data):
    state_of_program = {
        "ATAP Work First": "AK",
        "ATAP Families First": "AK",
        "Texas Choices": "TX",
        "Texas SNAP E&T": "TX",
        "Texas WIOA Youth": "TX",
        "Oregon JOBS": "OR",
    }
    branch_state = {row[0]: row[1] for row in data["Branches"]}
    staff_branch = {row[0]: row[1] for row in data["Staff"]}
    h = schema.CLIENTS.headers
    for row in data["Clients"]:
        program, branch, cm = (
            row[h.index("Program")],
            row[h.index("Branch")],
            row[h.index("Case Manager")],
        )
        state = state_of_program[program]
        assert branch_state[branch] == state == row[h.index("State")]
        assert row[h.index("Case ID")].startswith(f"{state}-")
        assert staff_branch[cm] == branch


def test_at_least_600_clients_with_unique_text_case_ids(data):
    ids = column(data, "Clients", "Case ID")
    assert len(ids) >= 600
    assert len(set(ids)) == len(ids)
    assert all(isinstance(i, str) and i == i.strip() for i in ids)


def test_every_child_row_belongs_to_a_client(data):
    ids = set(column(data, "Clients", "Case ID"))
    for sheet in CHILD_SHEETS:
        assert set(column(data, sheet, "Case ID")) <= ids, sheet


def test_no_date_after_as_of_except_scheduled_work(data):
    for name in SHEET_NAMES:
        sheet = schema.SHEETS[name]
        for i, col in enumerate(sheet.columns):
            if col.kind != "date" or (name, col.header) in FUTURE_OK:
                continue
            for row in data[name]:
                if row[i] is not None and row[i] > AS_OF:
                    assert name == "Appointments" and row[5] == "Scheduled", (name, col.header, row)
    # ...and what is booked after as_of is Scheduled, never already Kept or missed.
    for row in data["Appointments"]:
        if row[2] > AS_OF:
            assert row[5] == "Scheduled", row
    # A service starting after as_of is booked work (Y-08: it keeps a youth from exiting).
    future = [row for row in data["Services"] if row[2] > AS_OF]
    assert future and all(row[6] == "Scheduled" for row in future)


def test_child_rows_fall_between_referral_and_closure(data):
    """Only follow-up (Y-09, A-26) and the exit summary (A-24) come after a closure."""
    clients = {r[0]: (r[6], r[14]) for r in data["Clients"]}
    first_date = {"Contacts": 1, "Appointments": 2, "Hours": 1, "Services": 2, "Plans": 2}
    after_closure_ok = {"Follow-up", "Exit summary"}
    for sheet, i in first_date.items():
        for row in data[sheet]:
            referral, closure = clients[row[0]]
            slack = dt.timedelta(days=6 if sheet == "Hours" else 0)  # the week of the referral
            assert row[i] >= referral - slack, (sheet, row)
            if closure is not None and row[i] > closure:
                what = row[6] if sheet == "Contacts" else row[1]
                assert what in after_closure_ok, (sheet, row)


def test_referrals_span_a_year_with_a_handful_in_the_last_five_days(data):
    referrals = column(data, "Clients", "Referral Date")
    assert min(referrals) >= AS_OF - dt.timedelta(days=370)
    recent = [d for d in referrals if d >= AS_OF - dt.timedelta(days=5)]
    assert 5 <= len(recent) <= 60


def test_week_start_is_always_a_monday(data):
    assert all(d.weekday() == 0 for d in column(data, "Hours", "Week Start"))


def test_hours_are_realistic_and_entered_after_the_week_starts(data):
    h = schema.HOURS.headers
    for row in data["Hours"]:
        assert 0 <= row[h.index("Hours")] <= 40
        assert row[h.index("Entered Date")] > row[h.index("Week Start")]


def test_values_have_the_type_of_their_column(data):
    lists = {name: set(values) for name, values in schema.LISTS.items()}
    lists["Branches"] = {row[0] for row in data["Branches"]}
    lists["CaseManagers"] = {row[0] for row in data["Staff"]}
    for name in SHEET_NAMES:
        for i, col in enumerate(schema.SHEETS[name].columns):
            values = [row[i] for row in data[name]]
            if col.required and not col.computed:
                assert all(v not in (None, "") for v in values), (name, col.header)
            present = [v for v in values if v is not None]
            if col.kind == "date":
                assert all(type(v) is dt.date for v in present), (name, col.header)
            elif col.kind == "bool":
                assert all(type(v) is bool for v in present), (name, col.header)
            elif col.kind in ("number", "int"):
                assert all(type(v) in (int, float) for v in present), (name, col.header)
            elif col.kind == "choice":
                allowed = lists[col.choices]
                assert set(present) <= allowed, (name, col.header, set(present) - allowed)
            else:
                assert all(type(v) is str for v in present), (name, col.header)


def test_values_are_from_the_domain_vocabularies(data):
    assert set(column(data, "Contacts", "Method")) == set(model.CONTACT_METHODS)
    assert set(column(data, "Appointments", "Status")) == set(model.APPOINTMENT_STATUSES)
    assert set(column(data, "Services", "Gap Reason")) - {None} == set(model.PLANNED_GAP_REASONS)
    assert set(column(data, "Plans", "Plan Type")) == set(model.PLAN_TYPES)


def test_one_way_contacts_are_never_successful(data):
    h = schema.CONTACTS.headers
    for row in data["Contacts"]:
        method, successful = row[h.index("Method")], row[h.index("Successful")]
        if method in ("Voicemail", "Letter", "Postcard"):
            assert successful is False, row
        if not successful:
            assert row[h.index("Meaningful")] is False and row[h.index("Plan Reviewed")] is False
        if row[h.index("Note Entered")] is not None:
            assert row[h.index("Note Entered")] >= row[h.index("Date")]


def test_client_mix_looks_like_a_real_caseload(data):
    h = schema.CLIENTS.headers
    rows = data["Clients"]
    spanish = sum(r[h.index("Language")] == "Spanish" for r in rows) / len(rows)
    assert 0.08 <= spanish <= 0.25
    alaska = [r for r in rows if r[h.index("State")] == "AK"]
    not_engaged = sum(r[h.index("Engaged")] is False for r in alaska) / len(alaska)
    assert 0.05 <= not_engaged <= 0.2
    closed = sum(r[h.index("Closure Date")] is not None for r in rows) / len(rows)
    assert 0.05 <= closed <= 0.18
    names = column(data, "Clients", "Client Name")
    assert sum("&" in n for n in names) == 1
    assert any("'" in n for n in names) and any("-" in n for n in names)
    assert any(not n.isascii() for n in names)
    # A few persons have cases in two branches.
    branches_of = {}
    for r in rows:
        branches_of.setdefault(r[h.index("Person ID")], set()).add(r[h.index("Branch")])
    assert sum(len(b) > 1 for b in branches_of.values()) >= 2


def test_ages_fit_the_programs(data):
    h = schema.CLIENTS.headers
    youth_males_without_ss = 0
    for r in data["Clients"]:
        age = (AS_OF - r[h.index("Date of Birth")]).days / 365.25
        if r[h.index("Program")] == "Texas WIOA Youth":
            assert 16 <= age < 25, r
            if (
                r[h.index("Sex")] == "M"
                and 17.5 <= age <= 19
                and not r[h.index("Selective Service No")]
            ):
                youth_males_without_ss += 1
        else:
            assert 18 <= age <= 56, r
    assert youth_males_without_ss >= 1  # T-14


def test_wioa_planned_gaps_include_valid_and_one_invalid(data):
    h = schema.SERVICES.headers
    gaps = [r for r in data["Services"] if r[h.index("Service")] == "Planned gap (11)"]
    lengths = [(r[h.index("End Date")] - r[h.index("Start Date")]).days for r in gaps]
    assert any(90 < n < 180 for n in lengths)  # Y-07 valid
    assert any(n >= 180 for n in lengths)  # Y-07 invalid


def test_oregon_has_no_shows_without_a_call_ahead_and_a_pattern(data):
    h = schema.APPOINTMENTS.headers
    clients = {r[0]: r[3] for r in data["Clients"]}
    missed: dict[str, list[dt.date]] = {}
    for r in data["Appointments"]:
        no_call = r[h.index("Status")] == "No-show" and r[h.index("Called Ahead")] is False
        if no_call and clients[r[0]] == "Oregon JOBS":
            missed.setdefault(r[0], []).append(r[h.index("Date")])
    assert missed  # O-06
    patterns = [
        d
        for d in missed.values()
        if any((b - a).days <= 30 for a, b in zip(sorted(d), sorted(d)[1:], strict=False))
    ]
    assert patterns  # O-07


def test_about_80_percent_meet_the_alaska_monthly_contact_this_month(data):
    """A-06: a meaningful contact with an FSSP review; the rest are the gaps."""
    h = schema.CLIENTS.headers
    engaged_open = {
        r[0]
        for r in data["Clients"]
        if r[h.index("State")] == "AK"
        and r[h.index("Engaged")]
        and r[h.index("Closure Date")] is None
        and r[h.index("Referral Date")] < AS_OF.replace(day=1)
    }
    met = {
        r[0]
        for r in data["Contacts"]
        if r[0] in engaged_open and r[1] >= AS_OF.replace(day=1) and r[3] and r[4] and r[5]
    }
    share = len(met) / len(engaged_open)
    assert 0.6 <= share <= 0.95


def test_tiny_demo_still_has_every_program():
    small = generate(6)
    assert len(small["Clients"]) == 6
    assert set(column(small, "Clients", "Program")) == {p.value for p in model.Program}


def test_contacts_per_client_scales_the_contacts_only():
    base = generate(300, contacts_per_client=None)
    scaled = generate(300, contacts_per_client=3)
    assert scaled["Clients"] == base["Clients"]
    assert scaled["Services"] == base["Services"]
    assert abs(len(scaled["Contacts"]) - 900) < 60


def test_scale_twenty_thousand_clients_with_ten_contacts_each():
    # Generation speed is measured by benchmarks/, not asserted here.
    big = generate(20_000, contacts_per_client=10)
    assert len(big["Clients"]) == 20_000
    assert abs(len(big["Contacts"]) - 200_000) <= 2_000


def test_messy_injects_exactly_the_documented_problems():
    clean = generate(100)
    messy = generate(100, messy=True)
    assert clean.problems == []
    found = {(p.sheet, p.column, str(p.value)) for p in messy.problems}
    assert len(messy.problems) == 6
    second_alaska = [r[0] for r in clean["Clients"] if r[0].startswith("AK-")][1]
    assert found == {
        ("Contacts", "Date", "13/45/2026"),
        ("Clients", "Date of Birth", "1/2/45"),
        ("Clients", "Case Manager", "None"),
        ("Clients", "Case ID", clean["Clients"][4][0]),
        ("Contacts", "Case ID", f"  {second_alaska} "),
        ("Contacts", "Case ID", "AK-999999"),
    }
    for p in messy.problems:
        value = messy[p.sheet][p.index][schema.SHEETS[p.sheet].headers.index(p.column)]
        assert value == p.value
        assert p.row == schema.HEADER_ROW + 1 + p.index
    ids = column(messy, "Clients", "Case ID")
    assert len(ids) == len(set(ids)) + 1
    assert len(messy["Clients"]) == len(clean["Clients"]) + 1
    assert len(messy["Contacts"]) == len(clean["Contacts"]) + 1
    assert messy["Hours"] == clean["Hours"]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        generate(0)
    with pytest.raises(ValueError):
        generate(10, contacts_per_client=-1)
