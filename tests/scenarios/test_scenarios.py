"""Case histories a policy lead can review: each TOML file beside this one is a caseload, one or
more as-of dates, and the obligations expected on each date. Both evaluators (the readable
reference and the numpy engine) must produce exactly the expected obligations.

File layout (see any *.toml here):

    description = "what the scenario shows, in words"
    [settings]                    # optional overrides, e.g. "A-23 roll" = "next"
    [[clients]]                   # Client fields; program by name, branch by name
    [[contacts]] [[appointments]] [[hours]] [[services]] [[plans]] [[noncompliance]]
                                  # rows; case_id may be left out when there is one client
    [[check]]
    as_of = 2026-10-16
    update = [{ case_id = "AK-1", closure_date = 2026-11-30 }]   # optional: Clients-sheet
                                  # edits made by this date (kept for later checks)
    expected = [
      { rule = "A-01", status = "DUE SOON", due = 2026-10-20 },
      { rule = "A-24", status = "N/A", reason = "no trigger date yet" },
      ...
    ]

Each expected entry: rule, status, due (blank only for N/A), days_overdue (default 0),
and optionally case_id, trigger, met_on, reason and explains (text the explanation must
contain). The list is complete: every obligation of the scenario's clients must be in it.
Branches: Anchorage (AK calendar), Houston (TX), Portland (OR); any other branch name has
weekends only.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pyxl.domain import engine, reference
from pyxl.domain.calendar import BusinessCalendar
from pyxl.domain.model import (
    Appointment,
    Caseload,
    Client,
    Contact,
    HoursEntry,
    NoncomplianceEvent,
    Plan,
    Program,
    Service,
    Status,
)
from pyxl.domain.obligations import Obligation, explain
from pyxl.policy import default_settings, rulebook
from pyxl.policy.calendars import office_holidays

HERE = Path(__file__).parent
SCENARIOS = sorted(HERE.glob("*.toml"))
BOOK = rulebook()
YEARS = range(2023, 2030)
CALENDARS = {
    branch: BusinessCalendar.from_holidays(state, office_holidays(state, YEARS))
    for branch, state in (("Anchorage", "AK"), ("Houston", "TX"), ("Portland", "OR"))
}
ROW_TABLES = {
    "contacts": Contact,
    "appointments": Appointment,
    "hours": HoursEntry,
    "services": Service,
    "plans": Plan,
    "noncompliance": NoncomplianceEvent,
}
ENTRY_KEYS = {
    "case_id",
    "rule",
    "status",
    "due",
    "days_overdue",
    "trigger",
    "met_on",
    "reason",
    "explains",
}


# ---------------------------------------------------------------- loading


def _client(row: dict[str, Any]) -> Client:
    values = {"client_name": row["case_id"], "case_manager": "Case Manager", **row}
    values["program"] = Program(values["program"])
    return Client(**values)


def _rows(data: dict[str, Any], default_case: str | None) -> dict[str, tuple]:
    tables = {}
    for name, kind in ROW_TABLES.items():
        rows = []
        for row in data.get(name, []):
            values = dict(row)
            if "case_id" not in values:
                assert default_case, f"{name} rows need a case_id when there are several clients"
                values["case_id"] = default_case
            rows.append(kind(**values))
        tables[name] = tuple(rows)
    return tables


def load(path: Path) -> dict[str, Any]:
    data = tomllib.loads(path.read_text("utf-8"))
    unknown = set(data) - {"description", "settings", "clients", "check", *ROW_TABLES}
    assert not unknown, f"unknown keys {unknown}"
    assert data.get("description", "").strip(), "a scenario says what it shows"
    assert data.get("clients") and data.get("check")
    clients = [_client(row) for row in data["clients"]]
    default_case = clients[0].case_id if len(clients) == 1 else None
    for check in data["check"]:
        for entry in check["expected"]:
            assert set(entry) <= ENTRY_KEYS, f"unknown keys {set(entry) - ENTRY_KEYS}"
            entry.setdefault("case_id", default_case)
            assert entry["case_id"], "expected entries need a case_id when there are several"
            Status(entry["status"])  # a known status
            assert ("due" in entry) == (entry["status"] != "N/A"), entry
    return {
        "clients": clients,
        "rows": _rows(data, default_case),
        "settings": default_settings().with_values(data.get("settings", {})),
        "checks": data["check"],
    }


# ---------------------------------------------------------------- checking


def _entry(o: Obligation) -> str:
    """An obligation written the way the scenario files write expectations."""
    parts = [f'case_id = "{o.case_id}"', f'rule = "{o.rule_id}"', f'status = "{o.status}"']
    if o.due:
        parts.append(f"due = {o.due}")
    if o.days_overdue:
        parts.append(f"days_overdue = {o.days_overdue}")
    if o.trigger:
        parts.append(f"trigger = {o.trigger}")
    if o.met_on:
        parts.append(f"met_on = {o.met_on}")
    if o.reason:
        parts.append(f'reason = "{o.reason}"')
    return "{ " + ", ".join(parts) + " }"


def _matches(o: Obligation, entry: dict[str, Any]) -> bool:
    if (o.case_id, o.rule_id, str(o.status)) != (entry["case_id"], entry["rule"], entry["status"]):
        return False
    if o.due != entry.get("due") or o.days_overdue != entry.get("days_overdue", 0):
        return False
    return all(
        getattr(o, key) == entry[key] for key in ("trigger", "met_on", "reason") if key in entry
    )


def run_check(scenario: dict[str, Any], clients: list[Client], check: dict[str, Any]) -> list[str]:
    as_of = check["as_of"]
    caseload = Caseload(clients=tuple(clients), **scenario["rows"])
    settings = scenario["settings"]
    expected = reference.evaluate(caseload, BOOK, settings, CALENDARS, as_of)
    actual = engine.evaluate(caseload, BOOK, settings, CALENDARS, as_of).records()
    problems = []
    if Counter(expected) != Counter(actual):
        problems.append(
            f"as of {as_of}: the engine and the reference disagree\n  reference only: "
            + "\n    ".join(map(_entry, (Counter(expected) - Counter(actual)).elements()))
            + "\n  engine only: "
            + "\n    ".join(map(_entry, (Counter(actual) - Counter(expected)).elements()))
        )
    branch_of = {c.case_id: c.branch for c in clients}
    for label, obligations in (("reference", expected), ("engine", actual)):
        left = list(obligations)
        for entry in check["expected"]:
            found = [o for o in left if _matches(o, entry)]
            if len(found) != 1:
                problems.append(f"as of {as_of} ({label}): no obligation matches {entry}")
                continue
            left.remove(found[0])
            wanted = entry.get("explains", [])
            for words in [wanted] if isinstance(wanted, str) else wanted:
                o = found[0]
                text = explain(
                    o, BOOK.rules[o.rule_id], settings, CALENDARS.get(branch_of[o.case_id])
                )
                if words not in text:
                    problems.append(f"as of {as_of}: {words!r} is not in {text!r}")
        if left:
            problems.append(
                f"as of {as_of} ({label}): not expected:\n    " + "\n    ".join(map(_entry, left))
            )
    return problems


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path):
    scenario = load(path)
    clients = list(scenario["clients"])
    problems = []
    for check in scenario["checks"]:
        for update in check.get("update", []):
            i = next(i for i, c in enumerate(clients) if c.case_id == update["case_id"])
            clients[i] = dataclasses.replace(clients[i], **update)
        problems += run_check(scenario, clients, check)
    assert not problems, "\n".join(problems)


def test_there_are_at_least_twelve_scenarios_covering_every_program():
    assert len(SCENARIOS) >= 12
    programs = {c.program for path in SCENARIOS for c in load(path)["clients"]}
    assert programs == set(Program)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_file_names_are_sentences(path):
    assert re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+){4,}", path.stem), path.name


def test_every_rule_is_expected_somewhere_in_the_scenarios():
    seen = {
        entry["rule"]
        for path in SCENARIOS
        for check in load(path)["checks"]
        for entry in check["expected"]
        if entry["status"] != "N/A"
    }
    assert seen == set(BOOK.rules)
