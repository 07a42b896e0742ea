"""The supervisor report as data: tables of columns and rows, and the charts drawn over them.

Pure values, no I/O: the report service builds a `Report`, the report workbook adapter writes
it (and the Excel add-in offers it), so both sides depend on this module, not on each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "int", "number", "date", "percent"]
SUMMED = Literal["sum", "count"]
Rows = list[list[object]]


@dataclass(frozen=True)
class ReportColumn:
    header: str
    kind: Kind = "text"
    width: float = 14
    total: SUMMED | None = None  # the table's total row (SUBTOTAL: follows filters)
    wrap: bool = False


@dataclass
class ReportTable:
    """One Excel table of the report: title in A1, description in A2, headers in row 3."""

    sheet: str
    table: str
    title: str
    description: str
    columns: tuple[ReportColumn, ...]
    rows: Rows = field(default_factory=list)
    bold_rows: frozenset[int] = frozenset()  # row positions printed bold (group rows)

    def column(self, header: str) -> list[object]:
        at = [c.header for c in self.columns].index(header)
        return [r[at] for r in self.rows]

    @property
    def has_totals(self) -> bool:
        return any(c.total for c in self.columns)


@dataclass(frozen=True)
class ChartSpec:
    """A chart on the Overview over a range of one table: categories and value columns;
    `lines` are drawn as lines over the columns (targets)."""

    title: str
    kind: Literal["column", "bar", "line", "pie"]
    sheet: str  # the table's sheet
    categories: str  # header
    values: tuple[str, ...]  # headers, one series each
    rows: tuple[int, int] | None = None  # 0-based [start, end) of the table rows; None = all
    percent: bool = False
    lines: tuple[str, ...] = ()


@dataclass
class Report:
    as_of: dt.date
    tables: dict[str, ReportTable]
    charts: list[ChartSpec]
    snapshot: dict[str, object]
    scope: str
    beside: dict[str, ReportTable] = field(default_factory=dict)  # a second table per sheet


def C(
    header: str, kind: Kind = "text", width: float = 14, total: SUMMED | None = None
) -> ReportColumn:
    return ReportColumn(header, kind, width, total)


def S(header: str, width: float = 10) -> ReportColumn:
    """A count column with a SUBTOTAL total."""
    return ReportColumn(header, "int", width, "sum")


def W(header: str, width: float) -> ReportColumn:
    """A wrapped text column."""
    return ReportColumn(header, "text", width, None, True)
