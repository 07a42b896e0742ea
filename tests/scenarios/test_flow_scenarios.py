"""Whole case histories walked through the non-compliance flows, as data a policy lead can
review: each TOML file in flows/ is a caseload with its dated history and, on one or more
as-of dates, where each case must stand.

File layout (see any flows/*.toml):

    description = "what the scenario shows, in words"
    [settings]                           # optional overrides
    [[clients]]                          # as in the rule scenarios (program, branch, ...)
    [[noncompliance]] [[penalties]]      # NoncomplianceEvent / Penalty fields
    [[contacts]] [[appointments]] [[hours]] [[services]] [[plans]]
    [[check]]
    as_of = 2026-04-02
    expected = [
      { case_id = "OR-1", state = "Cooperation trial", letter = "OR-CONCIL",
        next_action = "Cooperation trial to Wed 2026-04-15: ...",   # exact, or
        action_contains = "two consecutive weeks",                   # a part of it
        clocks = [{ rule = "NC-OR-04", status = "DUE", due = 2026-04-15 }] },
    ]
    flags = ["text each flag must contain", ...]   # the complete list; [] = none
    penalties = [{ index = 0, expected_contains = "step 2", minimum_end = 2026-06-01 }]
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pyxl.domain import engine
from pyxl.domain.model import Caseload, NoncomplianceEvent, Penalty, Program
from pyxl.domain.sanctions import YOUTH_RULES, evaluate_flows
from pyxl.policy import default_settings, flowbook, rulebook
from tests.scenarios.test_scenarios import CALENDARS, ROW_TABLES, _client

HERE = Path(__file__).parent / "flows"
SCENARIOS = sorted(HERE.glob("*.toml"))
TABLES = {**ROW_TABLES, "noncompliance": NoncomplianceEvent, "penalties": Penalty}


def load(path: Path) -> dict[str, Any]:
    data = tomllib.loads(path.read_text("utf-8"))
    unknown = set(data) - {"description", "settings", "clients", "check", *TABLES}
    assert not unknown, f"unknown keys {unknown}"
    assert data.get("description", "").strip(), "a scenario says what it shows"
    clients = tuple(_client(row) for row in data["clients"])
    single = clients[0].case_id if len(clients) == 1 else None
    tables = {}
    for name, kind in TABLES.items():
        rows = []
        for values in data.get(name, []):
            values = {"case_id": single, **values}
            if name == "penalties":
                values["program"] = Program(values["program"])
            rows.append(kind(**values))
        tables[name] = tuple(rows)
    caseload = Caseload(clients=clients, **tables)
    settings = default_settings().with_values(
        {k: tuple(v) if isinstance(v, list) else v for k, v in data.get("settings", {}).items()}
    )
    return {"caseload": caseload, "settings": settings, "checks": data["check"], "single": single}


def run_check(s: dict[str, Any], check: dict[str, Any]) -> list[str]:
    as_of, caseload, settings = check["as_of"], s["caseload"], s["settings"]
    # The history as it stood that day: later events have not been typed yet.
    caseload = replace(
        caseload, noncompliance=tuple(e for e in caseload.noncompliance if e.date <= as_of)
    )
    rules = engine.evaluate(caseload, rulebook(), settings, CALENDARS, as_of).by_case(YOUTH_RULES)
    flows = evaluate_flows(caseload, flowbook(), settings, CALENDARS, as_of, rules)
    problems = []
    for entry in check["expected"]:
        case = entry.get("case_id", s["single"])
        got = flows.states[case]
        where = f"as of {as_of}, {case}"
        if got.state != entry["state"]:
            problems.append(f"{where}: state {got.state!r}, expected {entry['state']!r}")
        if "next_action" in entry and got.next_action != entry["next_action"]:
            problems.append(f"{where}: next action {got.next_action!r}")
        if entry.get("action_contains", "") not in got.next_action:
            problems.append(f"{where}: {entry['action_contains']!r} not in {got.next_action!r}")
        if got.letter != entry.get("letter"):
            problems.append(f"{where}: letter {got.letter!r}, expected {entry.get('letter')!r}")
        for want in entry.get("clocks", []):
            found = [o for o in got.obligations if o.rule_id == want["rule"]]
            if not found:
                problems.append(f"{where}: no {want['rule']} clock in {got.obligations}")
                continue
            o = found[0]
            actual = {"status": str(o.status), "due": o.due, "met_on": o.met_on}
            for key in ("status", "due", "met_on"):
                if key in want and actual[key] != want[key]:
                    problems.append(f"{where}: {want['rule']} {key} {actual[key]}, not {want[key]}")
    wanted = list(check.get("flags", []))
    for flag in flows.flags:
        match = next((w for w in wanted if w in flag.message), None)
        if match is None:
            problems.append(f"as of {as_of}: unexpected flag {flag.message!r}")
        else:
            wanted.remove(match)
    problems += [f"as of {as_of}: no flag contains {w!r}" for w in wanted]
    for want in check.get("penalties", []):
        view = flows.penalties[want["index"]]
        if want.get("expected_contains", "") not in view.expected:
            problems.append(f"as of {as_of}: penalty {want['index']}: {view.expected!r}")
        for key in ("minimum_end", "end_effective"):
            if key in want and getattr(view, key) != want[key]:
                problems.append(
                    f"as of {as_of}: penalty {want['index']} {key} {getattr(view, key)}"
                )
    return problems


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_flow_scenario(path: Path) -> None:
    scenario = load(path)
    problems = [p for check in scenario["checks"] for p in run_check(scenario, check)]
    assert not problems, "\n".join(problems)


def test_every_flow_has_a_scenario() -> None:
    flows = {
        flowbook().machine_for(c.program).name
        for path in SCENARIOS
        for c in load(path)["caseload"].clients
    }
    assert flows == set(flowbook().machines)
