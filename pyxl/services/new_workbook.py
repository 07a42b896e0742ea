"""Create a caseload workbook: the empty tables plus the reference data an office starts from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from pyxl.adapters.workbook_builder import build_workbook
from pyxl.domain.model import STATES
from pyxl.errors import UserError
from pyxl.policy import default_settings
from pyxl.policy.calendars import default_years, office_holidays


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
