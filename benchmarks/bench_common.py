"""Shared helpers for the benchmarks: timing, demo caseloads, the results record."""

from __future__ import annotations

import gc
import hashlib
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- timing


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds and CPU seconds of one call (after a full garbage collection), and its result.

    The CPU time is there because the machine may be shared: when other processes compete,
    wall time grows while CPU time stays close to what the work costs.
    """
    gc.collect()
    cpu, start = time.process_time(), time.perf_counter()
    result = fn()
    return time.perf_counter() - start, time.process_time() - cpu, result


def repeat(fn: Callable[[], Any], times: int) -> tuple[list[float], list[float], Any]:
    """Every run's wall and CPU seconds (the caller takes medians) and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(max(1, times)):
        result = None  # let the previous result go before the next run
        wall, cpu, result = timed(fn)
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus, result


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def say(text: str = "") -> None:
    print(text, flush=True)


def fmt_s(seconds: float) -> str:
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_rate(per_second: float) -> str:
    return f"{per_second:,.0f} clients/s"


# ---------------------------------------------------------------- results


@dataclass
class Target:
    name: str
    wanted: str
    measured: str
    met: bool | None  # None: not judged (not measured at the target's scale)


@dataclass
class Result:
    """One benchmark's figures: `rows` for the final table, `data` for the JSON file."""

    name: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # what, measured, vs naive
    data: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)  # correctness checks (must all pass)

    def row(self, what: str, measured: str, ratio: str = "") -> None:
        self.rows.append((what, measured, ratio))

    def check(self, name: str, ok: bool) -> None:
        self.checks[name] = bool(ok)
        if not ok:
            say(f"  !! check failed: {name}")


# ---------------------------------------------------------------- demo caseloads


def source_digest(paths: Iterable[Path]) -> str:
    """A short hash of source files, so a cached artefact is rebuilt when they change."""
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.relative_to(REPO).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def caseload_from_rows(rows: dict[str, list[list[object]]], holidays: Sequence[object]):
    """Domain objects straight from demo rows (in schema header order), as validation makes them.

    Blank cells are left out so the dataclass defaults apply, exactly as
    `pyxl.adapters.validation` does; `check_against_validation` proves the two agree.
    """
    from pyxl.adapters import schema
    from pyxl.domain import model

    kinds = {
        "Clients": ("clients", model.Client),
        "Contacts": ("contacts", model.Contact),
        "Appointments": ("appointments", model.Appointment),
        "Hours": ("hours", model.HoursEntry),
        "Services": ("services", model.Service),
        "Plans": ("plans", model.Plan),
        "Noncompliance": ("noncompliance", model.NoncomplianceEvent),
        "Penalties": ("penalties", model.Penalty),
        "Branches": ("branches", model.Branch),
    }
    collecting = gc.isenabled()
    gc.disable()  # millions of small objects, no cycles
    try:
        objects: dict[str, tuple] = {}
        for sheet, (attr, kind) in kinds.items():
            fields = [
                (i, c.field)
                for i, c in enumerate(schema.SHEETS[sheet].columns)
                if c.field and not c.computed
            ]
            made = []
            for row in rows.get(sheet, ()):
                values = {f: row[i] for i, f in fields if row[i] is not None}
                if "program" in values:
                    values["program"] = model.Program(values["program"])
                made.append(kind(**values))
            objects[attr] = tuple(made)
        return model.Caseload(**objects, holidays=tuple(holidays))
    finally:
        if collecting:
            gc.enable()


def office_holiday_rows(as_of):
    """The Holidays sheet `pyxl new` writes, as rows and as domain objects."""
    from pyxl.domain import model
    from pyxl.services.new_workbook import holiday_rows

    rows = holiday_rows(as_of)
    return rows, [model.Holiday(*r) for r in rows]


def calendars_for(caseload):
    """Branch name -> BusinessCalendar, as recompute builds them (closed Holidays rows)."""
    from pyxl.domain.calendar import BusinessCalendar

    by_calendar = {
        name: BusinessCalendar.from_holidays(name, caseload.holidays)
        for name in {b.calendar for b in caseload.branches}
    }
    return {b.name: by_calendar[b.calendar] for b in caseload.branches}


def check_against_validation(n_clients: int = 300) -> bool:
    """The direct builder gives the same caseload as the workbook validation path."""
    from pyxl.adapters import schema
    from pyxl.adapters.validation import validate_workbook
    from pyxl.adapters.workbook_reader import RawSheet, RawWorkbook
    from pyxl.policy import default_settings
    from pyxl.services import demo_data
    from pyxl.services.new_workbook import settings_rows

    as_of = demo_data.AS_OF
    rows = dict(demo_data.generate(n_clients, contacts_per_client=10))
    holiday_rows, holidays = office_holiday_rows(as_of)
    content = {**rows, "Settings": settings_rows(), "Holidays": holiday_rows}

    def raw(name: str, body: list[list[object]]) -> RawSheet:
        # As calamine shows a sheet: title, description, headers, then rows; blanks are "".
        sheet = schema.SHEETS[name]
        values = [[sheet.title], [sheet.description], list(sheet.headers)]
        values += [["" if v is None else v for v in r] for r in body]
        return RawSheet(name, values)

    workbook = RawWorkbook({k: raw(k, v) for k, v in content.items()}, False, {})
    validated = validate_workbook(workbook, default_settings(), as_of)
    direct = caseload_from_rows(rows, holidays)
    return not validated.errors and validated.caseload == direct
