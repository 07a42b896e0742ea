"""Create a caseload workbook: the empty tables plus the reference data an office starts from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from pyxl.adapters import schema
from pyxl.adapters.workbook_builder import build_workbook
from pyxl.domain.model import STATES, Program
from pyxl.errors import UserError
from pyxl.policy import default_settings
from pyxl.policy.calendars import default_years, office_holidays
from pyxl.services import demo_data


def settings_rows() -> list[list[object]]:
    """One row per setting: name, value (= default), default, rule, meaning."""
    settings = default_settings()
    rows = []
    for name, spec in settings.specs.items():
        value = settings[name]
        shown = spec.show(value)
        if spec.choices:
            meaning = f"{spec.meaning} Choices: {', '.join(spec.choices)}."
        else:
            meaning = spec.meaning
        rows.append([name, shown, shown, spec.rule, meaning])
    return rows


def holiday_rows(as_of: dt.date, states: Sequence[str] = STATES) -> list[list[object]]:
    rows = []
    for state in states:
        for h in office_holidays(state, default_years(as_of)):
            rows.append([h.calendar, h.date, h.name, h.closed, h.source])
    return rows


def create_workbook(
    path: Path,
    *,
    as_of: dt.date,
    rows: Mapping[str, Sequence[Sequence[object]]] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a new workbook at `path`; never replaces an existing file unless asked."""
    if path.exists() and not overwrite:
        raise UserError(
            f"{path} already exists; pyxl new never overwrites a workbook: choose another name"
        )
    content: dict[str, Sequence[Sequence[object]]] = {
        "Settings": settings_rows(),
        "Holidays": holiday_rows(as_of),
    }
    content.update(rows or {})
    return build_workbook(path, content)


# ---------------------------------------------------------------- example rows

EXAMPLE = "(example)"


def example_rows(as_of: dt.date) -> dict[str, list[list[object]]]:
    """What `pyxl new` puts in a new workbook so the office sees how each sheet is filled in:
    one branch per state, two case managers each, one client per program, all marked
    "(example)". The office replaces the branches and staff with its own and deletes the
    example clients. Dates are counted back from `as_of`, so a Refresh shows a few items."""
    demo = demo_data.generate(len(Program), as_of=as_of)
    branch_of = {row[0]: f"{row[0]} {EXAMPLE}" for row in demo["Branches"]}
    branches = [[branch_of[row[0]], *row[1:]] for row in demo["Branches"]]
    clients = demo["Clients"]
    names = {row[5] for row in clients}
    staff: list[list[object]] = []
    for branch in branch_of:
        here = [row for row in demo["Staff"] if row[1] == branch]
        # the case managers of the example clients first, then one more
        here.sort(key=lambda row: row[0] not in names)
        staff += [[f"{row[0]} {EXAMPLE}", branch_of[branch], *row[2:]] for row in here[:2]]
    headers = schema.CLIENTS.headers
    at = {h: headers.index(h) for h in headers}
    examples = []
    for number, row in enumerate(clients, start=1):
        row = list(row)
        state = row[at["State"]]
        row[at["Case ID"]] = f"{state}-EX{number}"
        row[at["Person ID"]] = f"EXAMPLE-{number}"
        row[at["Client Name"]] = f"{row[at['Client Name']]} {EXAMPLE}"
        row[at["Branch"]] = branch_of[row[at["Branch"]]]
        row[at["Case Manager"]] = f"{row[at['Case Manager']]} {EXAMPLE}"
        row[at["Referral Date"]] = as_of - dt.timedelta(days=7 * number)
        row[at["Closure Date"]] = None
        row[at["Track Change Date"]] = None
        row[at["CM Change Date"]] = None
        examples.append(row)
    return {"Branches": branches, "Staff": staff, "Clients": examples}
