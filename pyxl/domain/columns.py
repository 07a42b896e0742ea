"""The caseload as columns: one array per field, the engine's native input.

Workbook validation already reads the sheets column by column, so it hands the
engine arrays (`CaseloadColumns`) instead of building a million row objects that
the engine would only take apart again. Row objects (`model.Caseload`) stay the
readable form, for the reference evaluator, the tests and small callers;
`CaseloadColumns.from_caseload` turns them into columns, and `TableColumns.rows`
goes back.

Column kinds come from the domain types' field hints, so a column that is blank
on every row still has the right kind: dates are proleptic ordinals
(`date.toordinal()`, 0 = blank), bools are bools, everything else is an object array.
"""

from __future__ import annotations

import copy
import datetime as dt
import enum
import operator
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import numpy as np

from pyxl.domain import model

ColumnKind = Literal["date", "bool", "object"]
TABLE_TYPES: dict[str, type] = {
    "contacts": model.Contact,
    "appointments": model.Appointment,
    "hours": model.HoursEntry,
    "services": model.Service,
    "plans": model.Plan,
    "noncompliance": model.NoncomplianceEvent,
}


@cache
def column_kind(kind: type, name: str) -> ColumnKind:
    """How a field of a domain type is held as an array."""
    hint = typing.get_type_hints(kind).get(name)
    if hint is not None and dt.date in (*typing.get_args(hint), hint):
        return "date"
    if hint is bool:
        return "bool"
    return "object"


@cache
def _enum_of(kind: type, name: str) -> type[enum.Enum] | None:
    hint = typing.get_type_hints(kind).get(name)
    return hint if isinstance(hint, type) and issubclass(hint, enum.Enum) else None


def ordinals(values: Sequence[dt.date | None]) -> np.ndarray:
    """Dates as ordinals (None -> 0). A caseload has a few thousand distinct dates in a
    million cells: each is converted once."""
    ordinal = {d: d.toordinal() if d else 0 for d in set(values)}
    return np.fromiter(map(ordinal.__getitem__, values), np.int64, len(values))


def as_array(values: Sequence[object], kind: ColumnKind) -> np.ndarray:
    if kind == "date":
        return ordinals(values)  # type: ignore[arg-type]
    if kind == "bool":
        return np.array(values, dtype=bool) if len(values) else np.zeros(0, bool)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def member_of(codes: np.ndarray, wanted: Iterable[int], size: int) -> np.ndarray:
    """Per element: is its code (0 <= code < size) one of `wanted`? One lookup per element."""
    table = np.zeros(size, bool)
    table[list(wanted)] = True
    return table[codes]


class TableColumns:
    """One table's fields as arrays of equal length.

    Made from per-field value lists (validation's columns: blanks already replaced by the
    domain defaults) or from row objects; either way each array is made on first use, so
    fields no rule reads cost nothing.
    """

    def __init__(
        self,
        kind: type,
        length: int,
        values: Mapping[str, Sequence[object]] | None = None,
        rows: Sequence[object] | None = None,
        arrays: Mapping[str, np.ndarray] | None = None,
        codes: Mapping[str, tuple[np.ndarray, dict[object, int]]] | None = None,
    ):
        """`arrays` and `codes`, when given, must say what `values` says (a reader that typed
        whole columns hands them over so they are not made again)."""
        self.kind = kind
        self.length = length
        self._values = dict(values or {})
        self._rows = rows
        self._arrays: dict[str, np.ndarray] = dict(arrays or {})
        self._codes: dict[str, tuple[np.ndarray, dict[object, int]]] = dict(codes or {})
        for name, column in self._values.items():
            if len(column) != length:
                raise ValueError(f"{kind.__name__}.{name}: {len(column)} values, expected {length}")

    @classmethod
    def from_rows(cls, kind: type, rows: Sequence[object]) -> TableColumns:
        return cls(kind, len(rows), rows=rows)

    def __len__(self) -> int:
        return self.length

    @property
    def fields(self) -> tuple[str, ...]:
        return model.field_names(self.kind)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            self._arrays[name] = as_array(self.values(name), column_kind(self.kind, name))
        return self._arrays[name]

    def kind_of(self, name: str) -> ColumnKind:
        return column_kind(self.kind, name)

    def codes(self, name: str) -> tuple[np.ndarray, dict[object, int]]:
        """A field as category codes and the code of each distinct value (in order of first
        appearance): "is the method one of these" becomes an integer test, not a million
        string comparisons."""
        if name not in self._codes:
            values = self.values(name)
            index = {v: i for i, v in enumerate(dict.fromkeys(values))}
            codes = np.fromiter(map(index.__getitem__, values), np.int64, len(values))
            self._codes[name] = codes, index
        return self._codes[name]

    def isin(self, name: str, allowed: Iterable[object]) -> np.ndarray:
        """Per row: is the field's value one of `allowed`?"""
        codes, index = self.codes(name)
        return member_of(codes, [index[a] for a in allowed if a in index], len(index))

    def replaced(self, name: str, values: Sequence[object]) -> TableColumns:
        """A copy with one field's values replaced; the other fields are shared."""
        if len(values) != self.length:
            raise ValueError(
                f"{self.kind.__name__}.{name}: {len(values)} values, expected {self.length}"
            )
        out = copy.copy(self)
        out._values = {**self._values, name: values}
        out._arrays = {k: v for k, v in self._arrays.items() if k != name}
        out._codes = {k: v for k, v in self._codes.items() if k != name}
        return out

    def load(self) -> TableColumns:
        """Make every field's array (and codes, for text fields) now: for callers that time
        the engine alone, as validation hands it columns ready to use."""
        for name in model.field_names(self.kind):
            if column_kind(self.kind, name) == "object":
                self.codes(name)
            else:
                self[name]
        return self

    def values(self, name: str) -> Sequence[object]:
        """One field of every row, as Python values."""
        if name in self._values:
            return self._values[name]
        if self._rows is not None:
            fields = model.field_names(self.kind)
            get: Callable[[object], object] = (
                operator.itemgetter(fields.index(name))
                if hasattr(self.kind, "_fields")
                else operator.attrgetter(name)
            )
            return list(map(get, self._rows))
        if name not in model.field_names(self.kind):
            raise KeyError(f"{self.kind.__name__} has no field {name!r}")
        # A field the sheet does not have: every row takes the domain default.
        return [model.field_defaults(self.kind).get(name)] * self.length

    def rows_at(self, positions: Sequence[int]) -> list:
        """The rows at these positions as domain objects, their fields as stored: for the
        few rows a step walks one by one (picked in C, not one index at a time)."""
        if not positions:
            return []
        pick = operator.itemgetter(*positions)
        columns = [pick(self.values(name)) for name in self.fields]
        if len(positions) == 1:
            columns = [(value,) for value in columns]
        return list(map(self.kind, *columns))

    def rows(self) -> tuple:
        """The table as domain objects (enum fields as their enum)."""
        if self._rows is not None:
            return tuple(self._rows)
        columns = []
        for name in model.field_names(self.kind):
            enum_type = _enum_of(self.kind, name)
            column = self.values(name)
            if enum_type:  # each distinct value converted once
                member = {v: enum_type(v) for v in set(column)}
                column = list(map(member.__getitem__, column))
            columns.append(column)
        return tuple(self.kind(*fields) for fields in zip(*columns, strict=True))


@dataclass(frozen=True)
class CaseloadColumns:
    """The clients and the event tables the rules read, as columns."""

    clients: TableColumns
    tables: Mapping[str, TableColumns]  # "contacts", "appointments", ... (TABLE_TYPES)
    _case_positions: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def case_positions(self, table: str) -> np.ndarray:
        """Per row of a table: the position of its case among the clients (-1: unknown case).
        The join between the tables, made once per caseload."""
        if table not in self._case_positions:
            position = {case_id: i for i, case_id in enumerate(self.clients.values("case_id"))}
            codes, ids = self.tables[table].codes("case_id")
            client_of_id = np.fromiter((position.get(i, -1) for i in ids), np.int64, len(ids))
            self._case_positions[table] = client_of_id[codes]
        return self._case_positions[table]

    def load(self) -> CaseloadColumns:
        """Make every array and join now."""
        for table in (self.clients, *self.tables.values()):
            table.load()
        for name in self.tables:
            self.case_positions(name)
        return self

    @classmethod
    def from_caseload(cls, caseload: model.Caseload) -> CaseloadColumns:
        return cls(
            TableColumns.from_rows(model.Client, caseload.clients),
            {
                t: TableColumns.from_rows(kind, getattr(caseload, t))
                for t, kind in TABLE_TYPES.items()
            },
        )
