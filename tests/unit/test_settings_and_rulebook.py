"""The policy data itself: settings.toml parses and refuses bad values; rules.toml is a
consistent rule book (every rule sourced, in a pack, with known evidence, settings and fields)."""

from __future__ import annotations

import copy
import datetime as dt
import string
import tomllib
from dataclasses import fields
from importlib import resources
from pathlib import Path

import pytest

from pyxl.domain import engine, model, reference, sanctions
from pyxl.domain.rules import PolicyError, RuleBook, Settings
from pyxl.policy import default_settings, flowbook, rulebook

RULES = tomllib.loads(resources.files("pyxl.policy").joinpath("rules.toml").read_text("utf-8"))
SETTINGS = tomllib.loads(
    resources.files("pyxl.policy").joinpath("settings.toml").read_text("utf-8")
)["settings"]
BOOK = rulebook()
DEFAULTS = default_settings()
ROW_TYPES = {
    "contacts": model.Contact,
    "appointments": model.Appointment,
    "hours": model.HoursEntry,
    "services": model.Service,
    "plans": model.Plan,
}
CLIENT_FIELDS = {f.name for f in fields(model.Client)}
# The settings the evaluators read themselves for a whole kind of rule (not referred to with
# "@"): every rule, every per-event rule, every monthly rule checked by calendar month.
GLOBAL_SETTINGS = {
    "Due soon days",
    "Per-event lookback days",
    "Missed months shown",
    "Due List shows met",
    "Date order",  # read by the validation of typed dates
}


def rule_dict(rule_id: str) -> dict:
    return copy.deepcopy(next(r for r in RULES["rule"] if r["id"] == rule_id))


def book_with(rule: dict, packs: dict | None = None) -> RuleBook:
    """The real evidence with one rule (and by default one pack holding it)."""
    return RuleBook.from_dict(
        {
            "evidence": RULES["evidence"],
            "rule": [rule],
            "packs": packs if packs is not None else {"ATAP Work First": [rule["id"]]},
        }
    )


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_setting_parses_its_default_and_the_default_as_typed_in_the_sheet(name):
    spec = DEFAULTS.specs[name]
    assert DEFAULTS[name] == spec.parse(spec.default)
    assert spec.parse(str(spec.default)) == DEFAULTS[name]
    assert spec.parse(spec.show(DEFAULTS[name])) == DEFAULTS[name]
    assert spec.parse(f"  {spec.default}  ") == DEFAULTS[name]
    assert spec.kind in {"int", "ints", "choice", "bool"}
    assert spec.meaning, f"{name} explains what it steers"
    if spec.kind == "choice":
        assert spec.default in spec.choices


def test_default_values_are_the_ones_domain_md_suggests():
    assert DEFAULTS.values == {
        "Due soon days": 5,
        "Date order": "month first",
        "A-03 days": 30,
        "A-07 attempts": 2,
        "A-07 methods": 2,
        "A-12 mode": "rolling",
        "A-15 days": 10,
        "A-23 day": 20,
        "A-23 roll": "previous",
        "T-03 days": 10,
        "T-04 business day": 3,
        "T-15 mode": "calendar month",
        "Y-02 days": 30,
        "Y-03 mode": "rolling",
        "Y-05 days": 30,
        "Y-08 days": 90,
        "O-07 missed count": 2,
        "O-07 window days": 30,
        "Per-event lookback days": 60,
        "Missed months shown": 1,
        "Due List shows met": False,
        **FLOW_DEFAULTS,
        # domain.md 4 and 6.1 (45 CFR 261): the supervisor report's participation rates
        "Participation programs": "TANF work programs",
        "Participation all-families target": 50,
        "Participation two-parent target": 75,
        "Participation hours": 30,
        "Participation core hours": 20,
        "Participation child under 6 hours": 20,
        "Participation two-parent hours": 35,
        "Participation two-parent core hours": 30,
        "Participation child care hours": 55,
        "Participation child care core hours": 50,
        "Participation weeks per month": "4.33",
        "Participation week in month": "week start",
        "Participation verified only": True,
        "Participation child under 1 excluded": True,
        "Participation sanction months limit": 3,
        "Participation months": 3,
        "Report work list days": 7,
    }


FLOW_DEFAULTS = {
    "Reply-by days": 10,
    "TX resolve days": 7,
    "TX cure months": 1,
    "TX conditional days": 40,
    "TX cooperation weeks": 4,
    "TX weekly hours": 30,
    "SNAP penalty request days": 7,
    "SNAP disqualification months": (1, 3, 6),
    "A-08 days": 1,
    "A-19 days": 1,
    "AK 75% after months": 4,
    "AK 100% after months": 8,
    "O-01 days": 10,
    "O-05 attempts": 2,
    "Oregon DQ levels by step": (1, 1, 2, 2, 3, 3),
    "Oregon DQ lapse months": 0,
    "Oregon cooperation days": 14,
    "Y-06 letter days": 5,
}


def test_a_list_setting_reads_numbers_separated_by_commas_and_refuses_anything_else():
    spec = DEFAULTS.specs["Oregon DQ levels by step"]
    assert spec.parse("1,2; 3") == (1, 2, 3)
    assert spec.parse(4) == (4,)
    for bad in ("", "1, two", "1, 0", "1,,2"):
        with pytest.raises(ValueError, match="whole numbers of 1 or more separated by commas"):
            spec.parse(bad)


@pytest.mark.parametrize("typed", [7, 7.0, "7", " 7 ", "7.0"])
def test_an_int_setting_reads_whole_numbers_typed_in_any_form(typed):
    assert DEFAULTS.specs["A-03 days"].parse(typed) == 7


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("thirty", "A-03 days must be a whole number, not 'thirty'"),
        ("", "A-03 days must be a whole number, not ''"),
        (None, "A-03 days must be a whole number, not ''"),
        ("7.5", "A-03 days must be a whole number of 0 or more, not '7.5'"),
        (-1, "A-03 days must be a whole number of 0 or more, not '-1'"),
    ],
)
def test_a_bad_int_setting_raises_a_readable_value_error(typed, message):
    with pytest.raises(ValueError) as caught:
        DEFAULTS.specs["A-03 days"].parse(typed)
    assert str(caught.value) == message
    assert not isinstance(caught.value, PolicyError)  # a user's typing, not a policy bug


@pytest.mark.parametrize(
    ("name", "typed", "message"),
    [
        ("A-23 day", 0, "A-23 day must be a whole number of 1 or more and at most 31, not '0'"),
        ("A-23 day", 32, "A-23 day must be a whole number of 1 or more and at most 31, not '32'"),
        (
            "T-04 business day",
            "0",
            "T-04 business day must be a whole number of 1 or more and at most 15, not '0'",
        ),
        (
            "T-04 business day",
            16,
            "T-04 business day must be a whole number of 1 or more and at most 15, not '16'",
        ),
        (
            "Missed months shown",
            13,
            "Missed months shown must be a whole number of 0 or more and at most 12, not '13'",
        ),
        (
            "Missed months shown",
            -1,
            "Missed months shown must be a whole number of 0 or more and at most 12, not '-1'",
        ),
    ],
)
def test_a_bounded_int_setting_refuses_values_outside_its_range(name, typed, message):
    with pytest.raises(ValueError) as caught:
        DEFAULTS.specs[name].parse(typed)
    assert str(caught.value) == message
    assert not isinstance(caught.value, PolicyError)


@pytest.mark.parametrize(
    ("name", "typed"),
    [
        ("A-23 day", 1),
        ("A-23 day", 31),
        ("T-04 business day", 1),
        ("T-04 business day", 15),
        ("Missed months shown", 0),
        ("Missed months shown", 12),
    ],
)
def test_a_bounded_int_setting_accepts_both_ends_of_its_range(name, typed):
    assert DEFAULTS.specs[name].parse(typed) == typed
    assert DEFAULTS.specs[name].parse(f"{typed}.0") == typed


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_int_setting_default_lies_within_its_own_bounds(name):
    spec = DEFAULTS.specs[name]
    if spec.kind == "int":
        assert spec.minimum <= spec.default
        assert spec.maximum is None or spec.default <= spec.maximum


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("Yes", True),
        ("y", True),
        ("TRUE", True),
        ("1", True),
        (True, True),
        ("no", False),
        (0, False),
    ],
)
def test_a_bool_setting_reads_yes_and_no_in_any_case(typed, value):
    assert DEFAULTS.specs["Due List shows met"].parse(typed) is value


def test_a_bad_bool_setting_raises_a_readable_value_error():
    with pytest.raises(ValueError, match=r"^Due List shows met must be Yes or No, not 'maybe'$"):
        DEFAULTS.specs["Due List shows met"].parse("maybe")


@pytest.mark.parametrize(
    ("name", "typed", "value"),
    [
        ("A-12 mode", "Calendar Quarter", "calendar quarter"),
        ("A-23 roll", " NEXT ", "next"),
        ("T-15 mode", "30 Days", "30 days"),
        ("Y-03 mode", "ROLLING", "rolling"),
    ],
)
def test_a_choice_setting_reads_its_choices_in_any_case(name, typed, value):
    assert DEFAULTS.specs[name].parse(typed) == value


def test_a_bad_choice_setting_lists_the_choices():
    with pytest.raises(ValueError) as caught:
        DEFAULTS.specs["A-23 roll"].parse("later")
    assert str(caught.value) == "A-23 roll must be one of previous, next, none; not 'later'"


def test_overrides_change_one_value_and_leave_the_defaults_alone():
    changed = DEFAULTS.with_values({"A-03 days": 45})
    assert changed["A-03 days"] == 45
    assert DEFAULTS["A-03 days"] == 30
    assert {k: v for k, v in changed.values.items() if k != "A-03 days"} == {
        k: v for k, v in DEFAULTS.values.items() if k != "A-03 days"
    }


def test_an_unknown_setting_is_refused():
    with pytest.raises(PolicyError, match="unknown settings: A-99 days"):
        DEFAULTS.with_values({"A-99 days": 3})
    with pytest.raises(PolicyError, match="unknown setting 'A-99 days'"):
        DEFAULTS["A-99 days"]
    with pytest.raises(PolicyError, match="unknown setting 'A-99 days'"):
        DEFAULTS.resolve("@A-99 days")


def test_resolve_reads_a_setting_with_an_at_sign_and_passes_literals_through():
    assert DEFAULTS.resolve("@A-03 days") == 30
    assert DEFAULTS.resolve(5) == 5
    assert DEFAULTS.resolve("previous") == "previous"


def test_a_settings_table_with_a_bad_default_is_refused_when_loaded():
    with pytest.raises(ValueError, match="Due soon days must be a whole number"):
        Settings.from_dict({"Due soon days": {"default": "soon", "kind": "int"}})


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_setting_names_the_rules_it_steers(name):
    steers = SETTINGS[name]["rule"]
    known = {*BOOK.rules, *flowbook().rules, *flowbook().machines, "flows"}
    assert steers in {"all", "report"} or all(r.strip() in known for r in steers.split(","))


REPORT_CODE = ("domain/participation.py", "services/report.py")


def test_every_report_setting_is_read_by_the_supervisor_report():
    code = "".join(
        resources.files("pyxl").joinpath(path).read_text("utf-8") for path in REPORT_CODE
    )
    report = {name for name, spec in SETTINGS.items() if spec["rule"] == "report"}
    assert report
    assert {name for name in report if f'"{name}"' in code} == report


def test_every_setting_is_read_by_a_rule_or_is_global():
    referred = set(GLOBAL_SETTINGS) | {n for n, s in SETTINGS.items() if s["rule"] == "report"}
    for rule in RULES["rule"]:
        referred |= {v[1:] for v in _values(rule) if isinstance(v, str) and v.startswith("@")}
        if "mode_setting" in rule:
            referred.add(rule["mode_setting"])
    for c in flowbook().clocks:
        referred |= {c.rule.clock.n[1:]} if str(c.rule.clock.n).startswith("@") else set()
    code = Path(sanctions.__file__).read_text("utf-8")  # the flows read some directly
    referred |= {name for name in SETTINGS if f'["{name}"]' in code}
    assert referred == set(SETTINGS)


def _values(data):
    if isinstance(data, dict):
        for v in data.values():
            yield from _values(v)
    elif isinstance(data, list):
        for v in data:
            yield from _values(v)
    else:
        yield data


# ---------------------------------------------------------------- the real rule book


def test_the_rule_book_loads_with_every_rule_of_rules_toml():
    assert list(BOOK.rules) == [r["id"] for r in RULES["rule"]]
    assert len(BOOK.rules) == 24


@pytest.mark.parametrize("rule_id", [r["id"] for r in RULES["rule"]])
def test_every_rule_cites_a_seed_source_and_a_reference(rule_id):
    rule = BOOK.rules[rule_id]
    assert rule.source.startswith(("S0", "S1", "S2", "S3", "S4")), rule.source
    assert rule.reference.strip()
    assert rule.title.strip() and rule.phrase.strip()


@pytest.mark.parametrize("rule_id", [r["id"] for r in RULES["rule"]])
def test_every_rule_has_rule_tests_named_after_it(rule_id):
    here = Path(__file__).parent
    names = "".join(p.read_text("utf-8") for p in here.glob("test_rules_*.py"))
    assert f"def test_{rule_id.replace('-', '')}_" in names


@pytest.mark.parametrize("rule_id", [r["id"] for r in RULES["rule"]])
def test_every_rule_is_in_at_least_one_pack(rule_id):
    assert any(rule_id in ids for ids in BOOK.packs.values())


def test_every_pack_names_existing_rules_and_every_program_has_a_pack():
    assert set(BOOK.packs) == {p.value for p in model.Program}
    for program, ids in BOOK.packs.items():
        assert ids, program
        assert len(set(ids)) == len(ids), program
        assert all(i in BOOK.rules for i in ids), program


def test_packs_hold_their_own_states_rules():
    prefixes = {
        "ATAP Work First": ("A-",),
        "ATAP Families First": ("A-",),
        "Texas Choices": ("T-",),
        "Texas SNAP E&T": ("T-",),
        "Texas WIOA Youth": ("Y-", "T-14"),
        "Oregon JOBS": ("O-",),
    }
    for program, ids in BOOK.packs.items():
        assert all(i.startswith(prefixes[program]) for i in ids), program


@pytest.mark.parametrize("rule_id", [r["id"] for r in RULES["rule"]])
def test_every_setting_a_rule_refers_to_exists(rule_id):
    raw = rule_dict(rule_id)
    for value in _values(raw):
        if isinstance(value, str) and value.startswith("@"):
            assert value[1:] in SETTINGS, value
    if "mode_setting" in raw:
        assert raw["mode_setting"] in SETTINGS
        assert SETTINGS[raw["mode_setting"]]["kind"] == "choice"


@pytest.mark.parametrize("rule_id", [r["id"] for r in RULES["rule"]])
def test_every_rule_phrase_uses_only_placeholders_explain_fills(rule_id):
    known = {"n", "day", "period", "last", "trigger", "min", "methods", "count", "window"}
    names = {f for _, f, _, _ in string.Formatter().parse(BOOK.rules[rule_id].phrase) if f}
    assert names <= known


@pytest.mark.parametrize("rule_id", [r["id"] for r in RULES["rule"]])
def test_every_client_field_a_rule_reads_exists(rule_id):
    rule = BOOK.rules[rule_id]
    read = {*rule.trigger_fields, *rule.when}
    read |= {f for f in (rule.fallback, rule.met_when_field) if f}
    assert read <= CLIENT_FIELDS


@pytest.mark.parametrize("name", sorted(RULES["evidence"]))
def test_every_evidence_filters_real_fields_with_values_from_the_vocabularies(name):
    ev = BOOK.evidence[name]
    row_fields = set(model.field_names(ROW_TYPES[ev.table]))
    assert set(ev.where) <= row_fields
    assert set(ev.date_fields) <= row_fields and ev.period_field in row_fields
    vocab = {
        "method": model.CONTACT_METHODS,
        "purpose": model.CONTACT_PURPOSES,
        "service": model.SERVICE_TYPES,
        "plan_type": model.PLAN_TYPES,
        "status": model.APPOINTMENT_STATUSES,
    }
    for key, allowed in ev.where.items():
        if key in vocab:
            assert set(allowed) <= set(vocab[key]), (key, allowed)
        else:
            assert all(isinstance(v, bool) for v in allowed), (key, allowed)


def test_voicemail_never_counts_as_a_contact_attempt():
    for name in ("attempt", "engagement_attempt", "reached", "outreach", "in_person_quality"):
        assert "Voicemail" not in BOOK.evidence[name].where["method"], name


def test_letters_postcards_and_emails_never_count_as_a_youth_quality_contact():
    methods = set(BOOK.evidence["in_person_quality"].where["method"])
    assert not methods & {"Letter", "Postcard", "E-mail", "Text", "Phone"}


# ---------------------------------------------------------------- broken policy data


def test_a_rule_referring_to_unknown_evidence_raises_policy_error():
    rule = rule_dict("A-01")
    rule["any_of"] = ["reached", "telepathy"]
    with pytest.raises(PolicyError, match="rule A-01: unknown evidence telepathy"):
        book_with(rule)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("count", {"evidence": "telepathy", "min": 1}),
        ("trigger", {"first": "telepathy"}),
        ("last", "telepathy"),
    ],
)
def test_unknown_evidence_anywhere_in_a_rule_raises_policy_error(key, value):
    rule = rule_dict({"count": "A-06", "trigger": "Y-02", "last": "A-12"}[key])
    rule[key] = value
    with pytest.raises(PolicyError, match="unknown evidence telepathy"):
        book_with(rule)


def test_a_rule_without_a_clock_raises_policy_error():
    rule = rule_dict("A-03")
    del rule["clock"]
    with pytest.raises(PolicyError, match="rule A-03: no clock"):
        book_with(rule)


def test_a_monthly_rule_without_a_due_clock_raises_policy_error():
    rule = rule_dict("A-06")
    del rule["due"]
    with pytest.raises(PolicyError, match="rule A-06: no clock"):
        book_with(rule)


def test_an_unknown_clock_unit_raises_policy_error():
    rule = rule_dict("A-03")
    rule["clock"] = {"unit": "fortnights", "n": 2}
    with pytest.raises(PolicyError, match="unknown clock unit 'fortnights'"):
        book_with(rule)


@pytest.mark.parametrize(
    ("rule_id", "drop", "problem"),
    [
        ("A-01", "trigger", "a deadline needs a trigger"),
        ("A-01", "any_of", "a deadline needs evidence"),
        ("A-12", "last", "a rolling rule needs `last`"),
        ("A-06", "count", "a monthly rule needs a period and a count"),
        ("A-06", "period", "a monthly rule needs a period and a count"),
        ("O-06", "each", "a per_event rule needs `each` and `any_of`"),
        ("O-06", "any_of", "a per_event rule needs `each` and `any_of`"),
    ],
)
def test_a_rule_missing_what_its_kind_needs_raises_policy_error(rule_id, drop, problem):
    rule = rule_dict(rule_id)
    del rule[drop]
    with pytest.raises(PolicyError, match=f"rule {rule_id}: .*{problem}"):
        book_with(rule)


def test_evidence_on_an_unknown_table_raises_policy_error():
    data = {"evidence": {"x": {"table": "letters"}}, "rule": [], "packs": {}}
    with pytest.raises(PolicyError, match="evidence x: unknown table 'letters'"):
        RuleBook.from_dict(data)


def test_a_rule_defined_twice_raises_policy_error():
    data = {"evidence": RULES["evidence"], "rule": [rule_dict("A-01"), rule_dict("A-01")]}
    with pytest.raises(PolicyError, match="rule A-01 is defined twice"):
        RuleBook.from_dict(data)


def test_a_pack_naming_an_unknown_rule_raises_policy_error():
    with pytest.raises(PolicyError, match="pack ATAP Work First: unknown rules A-99"):
        book_with(rule_dict("A-01"), packs={"ATAP Work First": ["A-01", "A-99"]})


@pytest.mark.parametrize(
    "evaluator", [reference.evaluate, engine.evaluate], ids=["reference", "engine"]
)
def test_a_rule_referring_to_an_unknown_setting_raises_policy_error_when_evaluated(evaluator):
    rule = rule_dict("A-03")
    rule["clock"] = {"unit": "calendar_days", "n": "@A-03 dayz"}
    book = book_with(rule)
    client = model.Client("C1", "n", model.Program.ATAP_WORK_FIRST, "X", "cm", dt.date(2026, 3, 2))
    with pytest.raises(PolicyError, match="unknown setting 'A-03 dayz'"):
        evaluator(model.Caseload(clients=(client,)), book, DEFAULTS, {}, dt.date(2026, 3, 5))


@pytest.mark.parametrize(
    "evaluator", [reference.evaluate, engine.evaluate], ids=["reference", "engine"]
)
def test_a_rule_whose_mode_setting_is_unknown_raises_policy_error_when_evaluated(evaluator):
    rule = rule_dict("A-12")
    rule["mode_setting"] = "A-12 mood"
    book = book_with(rule)
    client = model.Client("C1", "n", model.Program.ATAP_WORK_FIRST, "X", "cm", dt.date(2026, 3, 2))
    with pytest.raises(PolicyError, match="unknown setting 'A-12 mood'"):
        evaluator(model.Caseload(clients=(client,)), book, DEFAULTS, {}, dt.date(2026, 3, 5))


@pytest.mark.parametrize(
    ("rule_id", "key", "value"),
    [
        ("A-01", "kind", "weekly"),
        ("A-06", "period", "quarter"),
        ("A-03", "trigger", ["referral_date", "cm_chnage_date"]),
        ("A-12", "fallback", "referal_date"),
        ("T-14", "met_when_field", "selective_service_number"),
        ("A-07", "when", {"engagd": False}),
    ],
    ids=[
        "unknown kind",
        "unknown period",
        "unknown trigger field",
        "unknown fallback field",
        "unknown met-when field",
        "unknown when field",
    ],
)
def test_a_typo_in_a_rule_is_refused_when_the_rule_book_loads(rule_id, key, value):
    # These typos load today and fail (or silently do nothing) only when a case is evaluated.
    rule = rule_dict(rule_id)
    rule[key] = value
    with pytest.raises(PolicyError, match=rule_id):
        book_with(rule)


def test_an_evidence_filter_on_an_unknown_field_is_refused_when_the_rule_book_loads():
    data = copy.deepcopy(RULES)
    data["evidence"]["reached"]["where"] = {"methd": ["Phone"], "successful": True}
    with pytest.raises(PolicyError, match="reached"):
        RuleBook.from_dict(data)
