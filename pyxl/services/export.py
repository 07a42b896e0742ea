"""`pyxl export`: what pyxl computes from many caseload workbooks, as Parquet tables for the
state's own tools (DuckDB, pandas, Power BI, Spark).

One file per table in the output folder, each with the fixed schema below (column names
and Arrow types never change meaning; new columns are only ever added at the end). Each
workbook is read, evaluated and written as one row group, then dropped: memory follows
the largest workbook, not the number of workbooks. The workbooks are only read.

The files are written together or not at all (adapters/parquet_files.py): a full disk or
Ctrl+C leaves the folder as it was, never a half-written file. Each file's metadata holds
`pyxl:export` (outputs.PARQUET_MARK), so a later export knows it may replace it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from pyxl.adapters import caseload_file, outputs, parquet_files
from pyxl.adapters.outputs import PARQUET_MARK
from pyxl.domain.model import STATUS_ORDER
from pyxl.services.recompute import Evaluation, due_list_rows, evaluate_file, supervisors

TEXT, DATE, INT, FLOAT = pa.string(), pa.date32(), pa.int32(), pa.float64()
WHO = [("workbook", TEXT), ("case_id", TEXT), ("branch", TEXT), ("case_manager", TEXT),
       ("supervisor", TEXT)]  # fmt: skip
SCHEMAS = {
    # The Due List rows, as recompute writes them (open obligations, rules and flows' clocks).
    "due_list": pa.schema(
        [
            *WHO,
            ("client_name", TEXT),
            ("program", TEXT),
            ("rule", TEXT),
            ("obligation", TEXT),
            ("trigger_date", DATE),
            ("due_date", DATE),
            ("status", TEXT),
            ("days_overdue", INT),
            ("explanation", TEXT),
        ]
    ),
    # Every obligation, whatever its status (MET and N/A included).
    "obligations": pa.schema(
        [
            *WHO,
            ("rule", TEXT),
            ("status", TEXT),
            ("trigger_date", DATE),
            ("due_date", DATE),
            ("met_on", DATE),
            ("days_overdue", INT),
            ("period_start", DATE),
            ("period_end", DATE),
        ]
    ),
    # Where each case stands in its non-compliance flow.
    "flow_states": pa.schema(
        [
            *WHO,
            ("flow", TEXT),
            ("state", TEXT),
            ("since", DATE),
            ("next_action", TEXT),
            ("letter", TEXT),
            ("reply_by", DATE),
        ]
    ),
    # Each Penalties row with what pyxl computes for it.
    "penalties": pa.schema(
        [
            *WHO,
            ("person_id", TEXT),
            ("program", TEXT),
            ("requested_date", DATE),
            ("imposed_date", DATE),
            ("step", INT),
            ("level", INT),
            ("percent", FLOAT),
            ("intent_date", DATE),
            ("compliance_date", DATE),
            ("ended_date", DATE),
            ("minimum_end", DATE),
            ("end_effective", DATE),
            ("expected", TEXT),
        ]
    ),
}

SCHEMAS = {t: s.with_metadata({PARQUET_MARK: f"export:{t}".encode()}) for t, s in SCHEMAS.items()}
FILES = {t: f"{t}.parquet" for t in SCHEMAS}


def _dates(ordinals: np.ndarray) -> list[dt.date | None]:
    made: dict[int, dt.date | None] = {}
    out = []
    for o in ordinals.tolist():
        if o not in made:
            made[o] = dt.date.fromordinal(o) if o else None
        out.append(made[o])
    return out


def tables_of(name: str, ev: Evaluation) -> dict[str, pa.Table]:
    """One workbook's four tables."""
    clients = ev.clients
    case_ids = [str(v) for v in clients.values("case_id")]
    branch = [str(v) for v in clients.values("branch")]
    manager = [str(v) for v in clients.values("case_manager")]
    boss = supervisors(ev)
    index = ev.workbook.client_index

    def who(positions: Sequence[int]) -> dict[str, list[object]]:
        return {
            "workbook": [name] * len(positions),
            "case_id": [case_ids[c] for c in positions],
            "branch": [branch[c] for c in positions],
            "case_manager": [manager[c] for c in positions],
            "supervisor": [boss.get(manager[c], "") for c in positions],
        }

    due = due_list_rows(ev)
    at_case = [index[str(r[0])] for r in due]
    columns = list(zip(*due, strict=True)) if due else [[]] * 12
    due_list = {
        **who(at_case),
        "client_name": list(columns[1]),
        "program": list(columns[2]),
        "rule": list(columns[5]),
        "obligation": list(columns[6]),
        "trigger_date": list(columns[7]),
        "due_date": list(columns[8]),
        "status": list(columns[9]),
        "days_overdue": list(columns[10]),
        "explanation": list(columns[11]),
    }
    ob = ev.obligations
    flows = ev.flow_obligations()
    status = [str(s) for s in STATUS_ORDER]
    obligations = {
        **who(ob.case.tolist() + [index[o.case_id] for o in flows]),
        "rule": [ob.rule_ids[r] for r in ob.rule.tolist()] + [o.rule_id for o in flows],
        "status": [status[s] for s in ob.status.tolist()] + [str(o.status) for o in flows],
        "trigger_date": _dates(ob.trigger) + [o.trigger for o in flows],
        "due_date": _dates(ob.due) + [o.due for o in flows],
        "met_on": _dates(ob.met_on) + [o.met_on for o in flows],
        "days_overdue": ob.days_overdue.tolist() + [o.days_overdue for o in flows],
        "period_start": _dates(ob.period_start) + [o.period_start for o in flows],
        "period_end": _dates(ob.period_end) + [o.period_end for o in flows],
    }
    states = [s for s in ev.flows.states.values() if s.flow]
    flow_states = {
        **who([index[s.case_id] for s in states]),
        "flow": [s.flow for s in states],
        "state": [s.state for s in states],
        "since": [s.since for s in states],
        "next_action": [s.next_action or None for s in states],
        "letter": [s.letter for s in states],
        "reply_by": [s.reply_by for s in states],
    }
    rows = ev.workbook.domain_rows("Penalties")
    views = ev.flows.penalties
    penalties = {
        "workbook": [name] * len(rows),
        "case_id": [p.case_id for p in rows],
        "branch": [p.branch or _at(branch, index, p.case_id) for p in rows],
        "case_manager": [p.case_manager or _at(manager, index, p.case_id) for p in rows],
        "supervisor": [
            boss.get(p.case_manager or _at(manager, index, p.case_id), "") for p in rows
        ],
        "person_id": [p.person_id for p in rows],
        "program": [str(p.program) for p in rows],
        **{
            f: [getattr(p, f) for p in rows]
            for f in (
                "requested_date",
                "imposed_date",
                "step",
                "level",
                "percent",
                "intent_date",
                "compliance_date",
                "ended_date",
            )
        },
        "minimum_end": [v.minimum_end for v in views],
        "end_effective": [v.end_effective for v in views],
        "expected": [v.expected or None for v in views],
    }
    data = {"due_list": due_list, "obligations": obligations, "flow_states": flow_states,
            "penalties": penalties}  # fmt: skip
    return {t: pa.Table.from_pydict(d, schema=SCHEMAS[t]) for t, d in data.items()}


def _at(values: list[str], index: dict[str, int], case_id: str) -> str:
    c = index.get(case_id)
    return values[c] if c is not None else ""


def workbook_tables(path: Path, as_of: dt.date) -> dict[str, pa.Table]:
    return tables_of(str(path), evaluate_file(caseload_file.reading(Path(path)), as_of))


@dataclass
class ExportResult:
    files: dict[str, Path]
    rows: dict[str, int]
    skipped: list = field(default_factory=list)  # report.Unreadable
    kept: dict[Path, Path] = field(default_factory=dict)  # file replaced -> its copy (--force)


def export(
    paths: Sequence[Path],
    as_of: dt.date,
    out: Path,
    *,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ExportResult:
    """Write due_list / obligations / flow_states / penalties .parquet into `out`, one row
    group per workbook; a workbook that cannot be read is left out and named. `out` may hold
    only pyxl's own earlier export under those names (with `force`, a copy of anything else
    is kept first)."""
    from pyxl.services.rollup import each_workbook

    kept = outputs.claim_folder_files(out, FILES.values(), "export", force=force)
    note = progress or (lambda _: None)
    files = {t: out / name for t, name in FILES.items()}
    rows = dict.fromkeys(SCHEMAS, 0)
    skipped = []
    with parquet_files.writing(out, {t: (FILES[t], SCHEMAS[t]) for t in SCHEMAS}) as written:
        for path, tables, why in each_workbook(paths, workbook_tables, as_of):
            if tables is None:
                skipped.append(why)
                note(f"left out {Path(path).name}")
                continue
            note(f"exported {Path(path).name}")
            for t, table in tables.items():
                written.write(t, table)
                rows[t] += table.num_rows
    return ExportResult(files, rows, skipped, kept)
