"""Import a person's non-compliance history from another branch's workbook.

"As participants move around the State, their disqualification history will be readily
accessible" (seed S2): the Noncompliance and Penalties rows of every person who is also a
client here are copied into this workbook, matched on Person ID, under this workbook's Case
ID and with the branch and case manager where they happened. A row already here is never
copied twice; a penalty recorded in both workbooks with different details is a conflict,
reported and left for staff to settle. The target is written like every pyxl write: locked,
checked for changes since it was read, replaced atomically with a backup.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from pyxl.adapters import caseload_file, schema
from pyxl.adapters.caseload_file import CaseloadFile
from pyxl.adapters.validation import ValidatedWorkbook, validate_workbook
from pyxl.adapters.workbook_reader import WorkbookUnreadable
from pyxl.domain.model import Client, NoncomplianceEvent, Penalty
from pyxl.policy import default_settings
from pyxl.services.recompute import needs_refresh

HISTORY_SHEETS = {"Clients", "Noncompliance", "Penalties", "Settings"}
PENALTY_DETAILS = (
    "requested_date",
    "step",
    "level",
    "percent",
    "intent_date",
    "compliance_date",
    "ended_date",
)


@dataclass
class ImportResult:
    events: list[dict[str, object]] = field(default_factory=list)  # rows added (by header)
    penalties: list[dict[str, object]] = field(default_factory=list)
    already_there: int = 0
    conflicts: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # source rows with no Person ID
    people: int = 0  # people found in both workbooks
    backup: Path | None = None

    @property
    def added(self) -> int:
        return len(self.events) + len(self.penalties)


def _validated(book: CaseloadFile, as_of: dt.date) -> ValidatedWorkbook:
    return validate_workbook(book.read(HISTORY_SHEETS, columnar=False), default_settings(), as_of)


def _person(row: NoncomplianceEvent | Penalty, clients: dict[str, Client]) -> str | None:
    client = clients.get(row.case_id)
    return row.person_id or (client.person_id if client else None)


def _where(row: NoncomplianceEvent | Penalty, clients: dict[str, Client]) -> tuple[str, str]:
    """Branch and case manager where it happened: the row's own, else its case's."""
    client = clients.get(row.case_id)
    branch = row.branch or (client.branch if client else "")
    manager = row.case_manager or (client.case_manager if client else "")
    return branch, manager


def _event_key(e: NoncomplianceEvent, person: str, branch: str) -> tuple:
    return (person, e.date, e.event, branch)


def _penalty_key(p: Penalty, person: str) -> tuple:
    return (person, str(p.program), p.imposed_date or p.requested_date)


def plan_import(source: ValidatedWorkbook, target: ValidatedWorkbook) -> ImportResult:
    """Which source rows to add to the target, and what cannot be."""
    result = ImportResult()
    src_clients = {c.case_id: c for c in source.caseload.clients}
    dst_clients = {c.case_id: c for c in target.caseload.clients}
    case_of = {c.person_id: c.case_id for c in target.caseload.clients if c.person_id}
    seen_people: set[str] = set()

    have_events = {
        _event_key(e, p, _where(e, dst_clients)[0])
        for e in target.caseload.noncompliance
        if (p := _person(e, dst_clients))
    }
    have_penalties = {
        _penalty_key(p, person): p
        for p in target.caseload.penalties
        if (person := _person(p, dst_clients))
    }

    def matched(row: NoncomplianceEvent | Penalty, sheet: str, index: int) -> str | None:
        person = _person(row, src_clients)
        if person is None:
            number = source.sheets[sheet].row_numbers[index]
            result.unmatched.append(f"{sheet} row {number} (case {row.case_id}): no Person ID")
            return None
        if person in case_of:
            seen_people.add(person)
            return person
        return None

    for i, e in enumerate(source.caseload.noncompliance):
        person = matched(e, "Noncompliance", i)
        if person is None:
            continue
        branch, manager = _where(e, src_clients)
        key = _event_key(e, person, branch)
        if key in have_events:
            result.already_there += 1
            continue
        have_events.add(key)
        result.events.append(
            {
                "Case ID": case_of[person],
                "Person ID": person,
                "Date": e.date,
                "Event": e.event,
                "Reported Date": e.reported_date,
                "Reply By": e.reply_by,
                "Decided By": e.decided_by,
                "Branch": branch,
                "Case Manager": manager,
                "Called Ahead": e.called_ahead,
                "Notes": f"imported from case {e.case_id}",
            }
        )
    for i, p in enumerate(source.caseload.penalties):
        person = matched(p, "Penalties", i)
        if person is None:
            continue
        branch, manager = _where(p, src_clients)
        key = _penalty_key(p, person)
        held = have_penalties.get(key)
        if held is not None:
            differ = [f for f in PENALTY_DETAILS if getattr(held, f) != getattr(p, f)]
            if differ:
                number = source.sheets["Penalties"].row_numbers[i]
                result.conflicts.append(
                    f"Penalties row {number} (person {person}, {p.program}, "
                    f"{key[2]}): already here with a different "
                    + ", ".join(f.replace("_", " ") for f in differ)
                    + "; not imported, settle it by hand"
                )
            else:
                result.already_there += 1
            continue
        have_penalties[key] = p
        result.penalties.append(
            {
                "Case ID": case_of[person],
                "Person ID": person,
                "Program": str(p.program),
                "Requested Date": p.requested_date,
                "Imposed Date": p.imposed_date,
                "Step": p.step,
                "Level": p.level,
                "Percent": p.percent,
                "Intent to Comply Date": p.intent_date,
                "Compliance Date": p.compliance_date,
                "Ended Date": p.ended_date,
                "Branch": branch,
                "Case Manager": manager,
                "Notes": f"imported from case {p.case_id}",
            }
        )
    result.people = len(seen_people)
    return result


def import_history(source: Path, target: Path, as_of: dt.date) -> ImportResult:
    """Copy the matching history from `source` into `target` (see the module docstring)."""
    history = caseload_file.reading(source)
    # Refuse before reading: whatever is typed there now would be lost.
    with caseload_file.changing(target, "Nothing was imported.", sheets=()) as book:
        here = _validated(book, as_of)
        for sheet in (schema.NONCOMPLIANCE.name, schema.PENALTIES.name):
            if not here.sheets[sheet].present:
                raise WorkbookUnreadable(
                    f"{target.name} has no usable {sheet} sheet to import into: copy the sheet "
                    "from a workbook made by `pyxl new`, then run again",
                    advised=True,
                )
        plan = plan_import(_validated(history, as_of), here)
        if plan.added:
            rows = {
                schema.NONCOMPLIANCE.name: plan.events,
                schema.PENALTIES.name: plan.penalties,
            }
            plan.backup = book.append(rows, above=needs_refresh("pyxl import-history", rows))
    return plan
