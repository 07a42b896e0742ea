"""Turn typed-by-people cells into domain values, reporting every problem by sheet, row and column.

Two layers. A lenient reader per cell kind converts what can be read safely
(stray spaces, "yes", ISO dates typed as text, numbers typed as case ids) with
a warning, and rejects what cannot (two-digit years, impossible or ambiguous
dates, numbers in date columns, Excel error values) with an error. Then each
sheet's pydantic row schema, derived from the workbook contract, validates the
rows in one call; rows with an error are left out and everything else goes on.
Nothing here changes the workbook.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import operator
import re
import unicodedata
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from dateutil import parser as date_parser
from pydantic import Field, Strict, StrictBool, StringConstraints, TypeAdapter, ValidationError

from pyxl.adapters import schema
from pyxl.adapters.schema import Column, Sheet
from pyxl.adapters.workbook_reader import RawSheet, RawWorkbook, Unsettled, column_letter
from pyxl.domain import model
from pyxl.domain.columns import CaseloadColumns, TableColumns
from pyxl.domain.letters import read_office_days
from pyxl.domain.rules import Settings

Severity = Literal["error", "warning"]
LATEST_YEAR = 2100
MAX_HEADER_SCAN = 12  # headers must be in the first rows


@dataclass(frozen=True, order=True)
class Problem:
    sheet: str
    row: int  # 1-based sheet row (0 = the sheet as a whole)
    column: str  # header
    cell: str  # A1 address, "" for sheet-level problems
    severity: Severity
    value: str
    message: str

    def __str__(self) -> str:
        where = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        column = f" [{self.column}]" if self.column else ""
        return f"{where}{column} {self.severity}: {self.message}"


class CellProblem(ValueError):
    """A value that cannot be read; the row is left out."""


# ---------------------------------------------------------------- cell readers

_ISO = re.compile(r"^(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})$")
_MONTH_NAME = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?(?![a-z])", re.IGNORECASE
)
_FULL_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
_TWO_DIGIT_YEAR = re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2}$")
_SLASHED = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DEFAULTS = (dt.datetime(2000, 1, 1), dt.datetime(2001, 2, 2))
# How a text date that could mean two days (03/04/2026) is read: the Settings value, set
# for the length of a validate_workbook call.
DATE_ORDER_SETTING = "Date order"
_DAY_FIRST: ContextVar[bool] = ContextVar("day_first", default=False)
_AMBIGUOUS_DATE = "could be month-first or day-first"
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


def _show(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores every number as a float: 123, not 123.0
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_text(value: object, warn: Callable[[str], None]) -> str | None:
    if isinstance(value, bool):
        raise CellProblem(
            f"{str(value).upper()} (a TRUE/FALSE value) where text belongs: type the text"
        )
    if isinstance(value, float):
        if value.is_integer():
            warn(f"number {_show(value)} typed where text belongs; read as '{int(value)}'")
            return str(int(value))
        raise CellProblem(f"number {_show(value)} where text belongs")
    if isinstance(value, dt.date | dt.time):
        raise CellProblem(f"a date or time ({_show(value)}) where text belongs")
    text = str(value)
    if _CONTROL.search(text):
        warn("control characters removed (pasted from another system?)")
        text = _CONTROL.sub("", text)
    text = unicodedata.normalize("NFC", text)
    if not text.isascii():
        visible = _without_invisible(text)
        if visible != text:
            found = sorted({ch for ch in text if ch not in visible})
            named = ", ".join(
                f"U+{ord(ch):04X} ({unicodedata.name(ch, 'format').lower()})" for ch in found
            )
            warn(f"invisible character {named} removed (pasted from another system?)")
            text = visible
    stripped = " ".join(text.split()) if "\n" not in text else text.strip()
    if stripped != text:
        warn(f"stray spaces removed from {text!r}")
    return stripped or None


def _without_invisible(text: str) -> str:
    """Text without format characters (zero-width spaces, joiners, BOM, bidi marks): they
    make two values that look the same differ (a Case ID no row can match)."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def read_date(value: object, warn: Callable[[str], None], earliest: int) -> dt.date | None:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time():
            warn(f"time of day {value:%H:%M} ignored")
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, bool | int | float):
        raise CellProblem(
            f"the number {_show(value)} is in a date column: type a date (YYYY-MM-DD) "
            "or format the cell as a date"
        )
    elif isinstance(value, dt.time):
        if value == dt.time():  # Excel's day 0: the serial was 0 or less (before 1900)
            raise CellProblem(
                "the cell holds 0 or a negative number, which is no date (Excel's dates start "
                "on 1900-01-01): type the real date (YYYY-MM-DD)"
            )
        raise CellProblem(f"a time of day ({value:%H:%M}) with no date, where a date belongs")
    else:
        day = _parse_date_text(str(value).strip(), warn)
    if not earliest <= day.year <= LATEST_YEAR:
        raise CellProblem(f"{day.isoformat()} is outside {earliest}-{LATEST_YEAR}: check the year")
    return day


def _parse_date_text(text: str, warn: Callable[[str], None]) -> dt.date:
    """A date typed as text, read as people type it: the forms that can mean only one day
    (11/23/2026, 2026-11-23, Nov 23 2026, 23-Nov-2026) with a warning; 03/04/2026 in the
    office's Date order, reported; two-digit years and incomplete dates refused."""
    if _TWO_DIGIT_YEAR.match(text):
        raise CellProblem(f"two-digit year in {text!r}: type the full year (YYYY-MM-DD)")
    if not _FULL_YEAR.search(text):
        raise CellProblem(f"no four-digit year in {text!r}: type the full year (YYYY-MM-DD)")
    day_first = _DAY_FIRST.get()
    ambiguous = False
    if m := _SLASHED.match(text):
        a, b, _year = map(int, m.groups())
        if a > 31 or b > 31 or (a > 12 and b > 12):
            raise CellProblem(f"{text!r} is not a real date")
        ambiguous = a <= 12 and b <= 12 and a != b
        day_first = (a > 12) if not ambiguous else day_first
    elif not _ISO.match(text) and not _MONTH_NAME.search(text):
        raise CellProblem(f"{text!r} is not a date: type it as YYYY-MM-DD")
    try:
        # Two different defaults: a part missing from the text shows as a difference.
        read = [
            date_parser.parse(
                text, default=fill, dayfirst=day_first, yearfirst=bool(_ISO.match(text))
            )
            for fill in _DEFAULTS
        ]
    except (ValueError, OverflowError) as exc:
        if _SLASHED.match(text) or _ISO.match(text) or "out of range" in str(exc):
            raise CellProblem(f"{text!r} is not a real date") from None
        raise CellProblem(f"{text!r} is not a date: type it as YYYY-MM-DD") from None
    if read[0].date() != read[1].date():
        raise CellProblem(
            f"{text!r} is not a whole date (day, month and year): type it as YYYY-MM-DD"
        )
    day = read[0].date()
    if read[0].time() != dt.time():
        warn(f"time of day {read[0]:%H:%M} ignored")
    if ambiguous:
        order = "day first" if day_first else "month first"
        warn(
            f"{text!r} {_AMBIGUOUS_DATE}; read as {day.isoformat()} "
            f"({order}, the {DATE_ORDER_SETTING} setting): type YYYY-MM-DD to be sure"
        )
    else:
        warn(f"date typed as text; read as {day.isoformat()}")
    return day


def read_bool(value: object, warn: Callable[[str], None]) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellProblem(f"{_show(value)!r} should be Yes or No")


def read_number(value: object, warn: Callable[[str], None]) -> float | None:
    if isinstance(value, bool):
        raise CellProblem(f"{value} where a number belongs")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.date | dt.time):
        raise CellProblem(f"a date ({_show(value)}) where a number belongs")
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        raise CellProblem(f"{text!r} is not a number") from None
    warn(f"number typed as text; read as {number:g}")
    return number


def check_number(column: Column, number: float) -> float:
    """The number if it can be true in its column (finite, within the column's bounds, whole
    for counts); CellProblem saying why not otherwise."""
    if not math.isfinite(number):
        raise CellProblem(f"{_show(number)} is not a number {column.header} can hold")
    if column.minimum is not None and number < column.minimum:
        raise CellProblem(
            f"{number:g} is below {column.minimum:g}, the least {column.header} can be"
        )
    if column.maximum is not None and number > column.maximum:
        raise CellProblem(
            f"{number:g} is above {column.maximum:g}, the most {column.header} can be"
        )
    if column.kind == "int" and not number.is_integer():
        raise CellProblem(f"{number:g} is not a whole number")
    return number


def fits(column: Column, number: float) -> bool:
    """Whether check_number takes the number as it is."""
    try:
        check_number(column, number)
    except CellProblem:
        return False
    return True


def _all_fit(column: Column, numbers: np.ndarray) -> bool:
    """fits() over a whole column at once."""
    ok = np.isfinite(numbers)
    if column.minimum is not None:
        ok &= numbers >= column.minimum
    if column.maximum is not None:
        ok &= numbers <= column.maximum
    if column.kind == "int":
        ok &= numbers == np.floor(numbers)
    return bool(ok.all())


def read_choice(value: object, warn: Callable[[str], None], choices: Sequence[str]) -> str | None:
    text = read_text(value, warn)
    if text is None or not choices:
        return text
    folded = {c.casefold(): c for c in choices}
    match = folded.get(text.casefold())
    if match is None:
        shown = ", ".join(choices) if len(choices) <= 12 else ", ".join(choices[:12]) + ", ..."
        raise CellProblem(f"{text!r} is not in the list ({shown})")
    return match


# ---------------------------------------------------------------- row schemas


def _pydantic_type(column: Column) -> Any:
    """The type pydantic checks a cleaned value against (the contract, strictly)."""
    choices = schema.LISTS.get(column.choices or "", ())
    base: Any = {
        "text": Annotated[str, StringConstraints(min_length=1)],
        "value": Annotated[str, StringConstraints(min_length=1)],
        "date": Annotated[dt.date, Strict()],
        "bool": StrictBool,
        "number": Annotated[
            float,
            Strict(),
            Field(ge=column.minimum, le=column.maximum, allow_inf_nan=False),
        ],
        "int": Annotated[
            float,
            Strict(),
            Field(ge=column.minimum, le=column.maximum, allow_inf_nan=False),
        ],
        "choice": Literal[tuple(choices)]
        if choices
        else Annotated[str, StringConstraints(min_length=1)],
    }[column.kind]
    if column.kind == "choice" and column.choices == "YesNo":
        base = StrictBool
    return base if column.required else base | None


def validated_columns(sheet: Sheet) -> tuple[Column, ...]:
    """Columns the rules read (or that are required); other columns are the staff's own."""
    return tuple(c for c in sheet.columns if (c.field or c.required) and not c.computed)


def column_adapter(column: Column) -> TypeAdapter:
    """The contract of one column, checked over all its values in one call."""
    return TypeAdapter(list[_pydantic_type(column)])  # type: ignore[misc]


_ADAPTERS: dict[tuple[str, str], TypeAdapter] = {}


def _adapter(sheet: Sheet, column: Column) -> TypeAdapter:
    key = (sheet.name, column.header)
    if key not in _ADAPTERS:
        _ADAPTERS[key] = column_adapter(column)
    return _ADAPTERS[key]


# ---------------------------------------------------------------- sheets


def _without(values: list[Any], drop: list[int], mask: list[bool]) -> list[Any]:
    """The values but those at `drop` (ascending; `mask` says the same): a few typos drop a few
    rows of many, which are deleted from a copy rather than the rest copied one by one."""
    if len(drop) * 64 > len(values):
        return list(itertools.compress(values, mask))
    out = list(values)
    for k in reversed(drop):
        del out[k]
    return out


@dataclass
class SheetRows:
    """The valid rows of one sheet, column by column (one list per validated column, keyed by
    its field name or header), with their 1-based sheet rows."""

    sheet: Sheet
    values: dict[str, list[Any]] = field(default_factory=dict)
    row_numbers: list[int] = field(default_factory=list)
    header_row: int = schema.HEADER_ROW
    present: bool = True
    positions: dict[str, int] = field(default_factory=dict)  # header -> 0-based column
    typed_keys: dict[str, int] = field(default_factory=dict)  # key as typed -> first row
    typed: list[tuple[int, str, object]] = field(default_factory=list)  # (row, key, as typed)
    # From the columnar reading: ready engine arrays (dates as ordinals, bools) and text codes.
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    codes: dict[str, tuple[np.ndarray, dict[object, int]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.row_numbers)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.values)

    @property
    def rows(self) -> list[tuple]:
        """The valid rows as tuples (one value per validated column, in `names` order)."""
        return list(zip(*self.values.values(), strict=True)) if self.values else []

    def column(self, name: str) -> list[Any]:
        """Every valid row's value of one field."""
        return self.values[name] if self.row_numbers else []

    def keep(self, mask: list[bool]) -> None:
        if all(mask):
            return
        drop = [k for k, m in enumerate(mask) if not m]
        kept = np.asarray(mask, dtype=bool)
        self.arrays = {k: a[kept] for k, a in self.arrays.items()}
        self.codes = {}  # made again from the values when needed
        self.values = {k: _without(col, drop, mask) for k, col in self.values.items()}
        self.row_numbers = _without(self.row_numbers, drop, mask)

    def cell(self, header: str, row: int) -> str:
        i = self.positions.get(header)
        return f"{column_letter(i)}{row}" if i is not None else ""

    def problem(
        self, row: int, header: str, severity: Severity, value: object, message: str
    ) -> Problem:
        return Problem(
            self.sheet.name, row, header, self.cell(header, row), severity, _show(value), message
        )


def find_header(raw: RawSheet, sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    """0-based header row and header -> column index (first row holding the required headers)."""
    wanted = {c.header.casefold() for c in sheet.columns if c.required}
    for r, values in enumerate(raw.cells()[:MAX_HEADER_SCAN]):
        names = {str(v).strip().casefold(): i for i, v in enumerate(values) if isinstance(v, str)}
        if wanted <= names.keys():
            return r, {
                c.header: names[c.header.casefold()]
                for c in sheet.columns
                if c.header.casefold() in names
            }
    return None


def read_sheet(raw: RawSheet | None, sheet: Sheet, problems: list[Problem]) -> SheetRows:
    """Clean and validate every row; append problems; return the good rows."""
    out = SheetRows(sheet)
    if raw is None:
        out.present = False
        if sheet.added_later:
            message = (
                f"the sheet {sheet.name!r} is missing (this workbook predates it): nothing is "
                "read from it; copy the sheet from a workbook made by `pyxl new` to use it"
            )
            problems.append(Problem(sheet.name, 0, "", "", "warning", "", message))
        else:
            message = (
                f"the sheet {sheet.name!r} is missing: the deadlines that need it are not "
                "checked (N/A) until it is back"
            )
            problems.append(Problem(sheet.name, 0, "", "", "error", "", message))
        return out
    if raw.table is not None and not raw.errors and not raw.merged:
        columnar = read_columnar(raw, sheet, problems)
        if columnar is not None:
            return columnar
    found = find_header(raw, sheet)
    if found is None:
        required = ", ".join(c.header for c in sheet.columns if c.required)
        problems.append(
            Problem(
                sheet.name, 0, "", "", "error", "", f"no header row with the columns {required}"
            )
        )
        out.present = False
        return out
    header_row, positions = found
    out.header_row = header_row + 1
    out.positions = positions
    columns = validated_columns(sheet)
    for c in sheet.columns:
        if c.header not in positions and (c.required or c.field):
            severity: Severity = "error" if c.required else "warning"
            problems.append(
                Problem(
                    sheet.name,
                    out.header_row,
                    c.header,
                    "",
                    severity,
                    "",
                    f"column {c.header!r} is missing"
                    + ("" if c.required else "; treated as blank"),
                )
            )
    if any(c.required and c.header not in positions for c in sheet.columns):
        return out
    covered = {(r, c): address for r, c, address in raw.merged_cells()}
    special = set(raw.errors) | set(covered)
    special_rows = {r for r, _ in special}

    # Column by column: the kind of check is chosen once per column, not once per cell.
    body = raw.cells()[header_row + 1 :]
    kept = [
        k
        for k, row in enumerate(body)
        if row.count("") != len(row) or header_row + 1 + k in special_rows
    ]
    rows = [body[k] for k in kept]
    sheet_rows = [header_row + 1 + k for k in kept]  # 0-based sheet rows
    ok = [True] * len(rows)
    converted_columns = []
    for column in columns:
        i = positions.get(column.header)
        values = list(map(operator.itemgetter(i), rows)) if i is not None else [""] * len(rows)
        converted_columns.append(
            _read_column(sheet, column, i, values, sheet_rows, raw, covered, special, ok, problems)
        )
    good = [k for k, g in enumerate(ok) if g]
    if len(good) < len(ok):
        converted_columns = [[col[k] for k in good] for col in converted_columns]
    numbers = [sheet_rows[k] + 1 for k in good]
    # The pydantic contract of each column; a row with a value that fails is left out.
    bad = _contract_failures(sheet, columns, positions, converted_columns, numbers, problems)
    if bad:
        keep = [k for k in range(len(numbers)) if k not in bad]
        converted_columns = [[col[k] for k in keep] for col in converted_columns]
        numbers = [numbers[k] for k in keep]
    out.values = {c.field or c.header: v for c, v in zip(columns, converted_columns, strict=True)}
    out.row_numbers = numbers
    if sheet.key:
        # Every key typed, valid row or not: duplicates count rejected rows too, and child
        # rows of a rejected row wait for its fix.
        k = positions[sheet.key]
        for r in range(header_row + 1, len(raw.values)):
            values = raw.values[r]  # loaded by cells() above
            if k < len(values) and values[k] != "" and _key(values[k]):
                out.typed.append((r + 1, _key(values[k]), values[k]))
                out.typed_keys.setdefault(_key(values[k]), r + 1)
    return out


def _read_column(
    sheet: Sheet,
    column: Column,
    i: int | None,
    values: list[object],
    sheet_rows: list[int],
    raw: RawSheet,
    covered: dict[tuple[int, int], str],
    special: set[tuple[int, int]],
    ok: list[bool],
    problems: list[Problem],
) -> list[object]:
    """One column's cells (as python-calamine reads them) checked: the clean and common ones
    at once, the others carefully; rows that cannot be used are marked in `ok`."""
    memo = _memo(column)
    converted, outcomes = _fast_column(column, values, memo)
    careful = [k for k, v in enumerate(converted) if v is _MISS] if _MISS in outcomes else []
    if i is not None and special:
        careful += [k for k, r in enumerate(sheet_rows) if (r, i) in special]
    for k in sorted(set(careful)):
        converted[k], good = _careful(
            sheet, column, i, sheet_rows[k], values[k], raw, covered, problems, memo
        )
        ok[k] = ok[k] and good
    if column.required and (None in outcomes or careful):
        for k, v in enumerate(converted):
            if v is None:
                ok[k] = False
                blank = values[k] == "" or (isinstance(values[k], str) and not values[k].strip())
                if blank and (sheet_rows[k], i) not in raw.errors:
                    problems.append(
                        _problem(
                            sheet,
                            column,
                            i,
                            sheet_rows[k],
                            "error",
                            "",
                            f"{column.header} is required but blank; "
                            "the row is left out until fixed",
                        )
                    )
    default = _blank_default(sheet, column)
    if default is not None and (None in outcomes or careful):
        converted = [default if v is None else v for v in converted]
    return converted


# ---------------------------------------------------------------- the columnar reading

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_MS_PER_DAY = 86_400_000


class _Declined(Exception):
    """The columnar reading does not take this sheet: it is read cell by cell instead."""


def read_columnar(raw: RawSheet, sheet: Sheet, problems: list[Problem]) -> SheetRows | None:
    """Read a sheet from its typed columns (fastexcel), whole columns at a time.

    A clean column (every cell of the right type and clean: dates without a time, in range;
    text without stray spaces; list values as listed; no required blank) is taken whole. A
    column with anything to report (a cell of another kind, a stray space, a value not on
    the list, a required blank) is read as the careful reading reads it, with the same
    messages, from the same values. The sheet is left to the careful reading (None, nothing
    reported) when its headers are not exactly where the contract puts them, or when a cell
    cannot be given exactly as python-calamine reads it; tests hold both readings equal.
    """
    found: list[Problem] = []
    try:
        rows = _read_columnar(raw, sheet, found)
    except (_Declined, Unsettled):
        return None
    problems += found
    return rows


def _read_columnar(raw: RawSheet, sheet: Sheet, problems: list[Problem]) -> SheetRows:
    assert raw.table is not None
    table = raw.table
    headers = {h: i for i, (h, _) in enumerate(raw.table_columns)}
    columns = validated_columns(sheet)
    if any(c.header not in headers for c in columns) or len(headers) != len(raw.table_columns):
        raise _Declined
    known = {c.header.casefold(): c.header for c in sheet.columns}
    if any(known.get(h.strip().casefold(), h) != h for h in headers):
        raise _Declined  # a header typed differently: the careful reading matches it loosely
    # Blank rows are skipped, as the cell-by-cell reading does (an odd cell is not blank).
    blank = np.ones(table.num_rows, bool)
    for col in table.columns:
        empty = pc.is_null(col)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            empty = pc.or_(empty, pc.equal(col, ""))
        blank &= _filled(empty, True)
    for odd in raw.odd.values():
        blank[list(odd)] = False
    kept = np.flatnonzero(~blank)
    out = SheetRows(sheet, header_row=raw.header_row + 1)
    out.positions = {
        c.header: raw.table_columns[headers[c.header]][1]
        for c in sheet.columns
        if c.header in headers
    }
    sheet_rows = (kept + raw.header_row + 1).tolist()  # 0-based sheet rows
    out.row_numbers = (kept + raw.header_row + 2).tolist()
    ok = [True] * len(kept)
    careful: dict[str, list[Any]] = {}  # columns read cell by cell: their cells as typed
    checked: list[tuple[Column, np.ndarray]] = []  # (column, rows) read cell by cell
    for column in columns:
        j = headers[column.header]
        name = column.field or column.header
        i = out.positions[column.header]
        odd = np.searchsorted(kept, sorted(raw.odd.get(j, {})))  # positions among kept rows
        odd_mask = np.zeros(len(kept), bool)
        odd_mask[odd] = True
        try:
            values, array, codes = _typed_column(sheet, column, table.column(j), kept, odd_mask)
        except _Declined:  # something to report: the whole column is read cell by cell
            careful[name] = raw.column_cells(j, kept)
            out.values[name] = _read_column(
                sheet, column, i, careful[name], sheet_rows, raw, {}, set(), ok, problems
            )
            checked.append((column, np.arange(len(kept))))
            continue
        if len(odd):  # cells of another kind: read one by one, as the careful reading does
            cells = [raw.odd[j][int(r)] for r in kept[odd].tolist()]
            fine = [True] * len(odd)
            read = _read_column(
                sheet,
                column,
                i,
                cells,
                [sheet_rows[k] for k in odd],
                raw,
                {},
                set(),
                fine,
                problems,
            )
            for k, value, good in zip(odd.tolist(), read, fine, strict=True):
                values[k] = value
                ok[k] = ok[k] and good
            array, codes = None, None  # made again from the values
            checked.append((column, odd))
            if column.header == sheet.key:
                careful[name] = raw.column_cells(j, kept)
        out.values[name] = values
        if array is not None:
            out.arrays[name] = array
        if codes is not None:
            out.codes[name] = codes
    # The contract of what was read cell by cell, after every column is read (as the
    # careful reading checks it), on the rows still in use.
    usable = list(ok)
    for column, rows in checked:
        name = column.field or column.header
        good = [k for k in rows.tolist() if usable[k]]
        for b in _contract_failures(
            sheet,
            [column],
            out.positions,
            [[out.values[name][k] for k in good]],
            [out.row_numbers[k] for k in good],
            problems,
        ):
            ok[good[b]] = False
    if sheet.key:
        # Every key typed, valid row or not: duplicates count rejected rows too, and child
        # rows of a rejected row wait for its fix.
        name = _field(sheet, sheet.key)
        typed = careful.get(name, out.values[name])
        for number, value in zip(out.row_numbers, typed, strict=True):
            k = _key(value) if value != "" and value is not None else ""
            if k:
                out.typed.append((number, k, value))
                out.typed_keys.setdefault(k, number)
    out.keep(ok)
    return out


def _field(sheet: Sheet, header: str) -> str:
    column = sheet.column(header)
    return column.field or column.header


def _filled(mask: pa.ChunkedArray | pa.Array, null_as: bool) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, null_as).to_numpy(zero_copy_only=False), dtype=bool)


def _typed_column(
    sheet: Sheet,
    column: Column,
    col: pa.ChunkedArray,
    kept: np.ndarray,
    odd: np.ndarray | None = None,
) -> tuple[list[Any], np.ndarray | None, tuple[np.ndarray, dict[object, int]] | None]:
    """(values, array for the engine or None, text codes or None) of one validated column.
    The `odd` rows (a mask; null in `col`) are no blanks: the caller reads them itself."""
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    col = col.take(pa.array(kept)) if len(kept) != len(col) else col
    missing = _filled(pc.is_null(col), True)
    blank = missing & ~odd if odd is not None else missing  # blank cells, the odd ones apart
    default = _blank_default(sheet, column)
    kind = "bool" if column.choices == "YesNo" else column.kind
    if pa.types.is_null(col.type) or col.null_count == len(col):  # typed as text if blank
        if column.required and blank.any():
            raise _Declined
        filled = [default] * len(col)
        return filled, None, None
    if kind == "date":
        if not pa.types.is_timestamp(col.type):
            raise _Declined
        ms = pc.fill_null(col.cast(pa.timestamp("ms")).cast(pa.int64()), 0).to_numpy()
        if (ms[~missing] % _MS_PER_DAY).any():
            raise _Declined  # a time of day: the careful reading warns about it
        ordinals = np.where(missing, 0, ms // _MS_PER_DAY + _EPOCH_ORDINAL)
        present = ordinals[~missing]
        lo = dt.date(column.earliest_year, 1, 1).toordinal()
        if present.size and (
            present.min() < lo or present.max() > dt.date(LATEST_YEAR, 12, 31).toordinal()
        ):
            raise _Declined
        encoded = pc.dictionary_encode(pa.array(ordinals))  # hashed: no sort
        distinct, positions = encoded.dictionary.to_numpy(), encoded.indices.to_numpy()
        days = np.empty(len(distinct), dtype=object)
        days[:] = [dt.date.fromordinal(int(o)) if o else None for o in distinct]
        _contract(sheet, column, [d for d in days.tolist() if d is not None], blank.any())
        return days[positions].tolist(), ordinals, None
    if kind in {"number", "int"}:
        if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type)):
            raise _Declined
        numbers = pc.fill_null(col.cast(pa.float64()), 0.0).to_numpy()
        if not _all_fit(column, numbers[~missing]):
            raise _Declined  # an impossible number: the careful reading reports it
        values = _blanked(numbers.tolist(), missing)
        _contract(
            sheet, column, [] if missing.all() else [float(numbers[~missing][0])], blank.any()
        )
        return values, None, None
    if kind == "bool" and pa.types.is_boolean(col.type):
        flags = _filled(col, False)
        values = _blanked(flags.tolist(), missing)
        _contract(sheet, column, [True, False], blank.any())
        if default is not None:
            values = [default if v is None else v for v in values]
        return values, None if missing.any() else flags, None
    if not pa.types.is_string(col.type):
        raise _Declined
    encoded = pc.dictionary_encode(col)
    dictionary = encoded.dictionary
    words = dictionary.to_pylist()
    meaning: list[object]
    if kind == "text" or (kind == "choice" and column.choices in schema.TABLE_LISTS):
        # Any clean text: a regex over all the words spares most of them the Python check.
        unsure = pc.match_substring_regex(dictionary, _MAYBE_UNCLEAN)
        if pc.any(unsure).as_py():
            doubtful = itertools.compress(words, unsure.to_numpy(zero_copy_only=False))
            if not all(w == "" or _clean_text(w) for w in doubtful):
                raise _Declined
        meaning = list(words)
        if "" in words:
            meaning[words.index("")] = None
    else:
        meaning = []
        for word in words:
            if word == "":
                meaning.append(None)
            elif kind == "bool":
                if word not in ("Yes", "No"):
                    raise _Declined
                meaning.append(word == "Yes")
            elif kind == "choice":
                if word not in schema.LISTS.get(column.choices or "", ()):
                    raise _Declined
                meaning.append(word)
            else:  # "value" (settings) and anything else: read cell by cell
                raise _Declined
    blank_seen = blank.any() or None in meaning
    if column.required and blank_seen:
        raise _Declined
    _contract(sheet, column, [m for m in meaning if m is not None], blank_seen)
    if default is not None:
        meaning = [default if m is None else m for m in meaning]
    # One code per distinct value (a blank cell and an empty string are the same blank).
    index: dict[object, int] = {}
    code_of_word = [index.setdefault(m, len(index)) for m in meaning]
    blank_value = default
    code_of_word.append(index.setdefault(blank_value, len(index)))
    indices = pc.fill_null(encoded.indices, len(words)).to_numpy()
    codes = np.asarray(code_of_word, dtype=np.int64)[indices]
    by_code = np.empty(len(index), dtype=object)
    by_code[:] = list(index)
    values = by_code[codes].tolist()
    if kind == "bool":
        return values, np.asarray(values, dtype=bool) if None not in index else None, None
    return values, None, (codes, index)


def _blanked(values: list[Any], missing: np.ndarray) -> list[Any]:
    """The values with None where the cell was blank."""
    for i in np.flatnonzero(missing).tolist():
        values[i] = None
    return values


def _contract(sheet: Sheet, column: Column, distinct: list[object], has_blank: bool) -> None:
    """The pydantic contract of the column, checked on its distinct values."""
    try:
        _adapter(sheet, column).validate_python(distinct + ([None] if has_blank else []))
    except ValidationError:
        raise _Declined from None


def _blank_default(sheet: Sheet, column: Column) -> object:
    """What a blank optional cell means, from the domain's defaults (Engaged blank = engaged)."""
    kind = DOMAIN_TYPES.get(sheet.name)
    if kind is None or column.required or column.field is None:
        return None
    default = model.field_defaults(kind).get(column.field)
    return None if default in (None, "") else default


def _memo(column: Column) -> dict[object, object] | None:
    """Dropdown values repeat: the clean readings, seeded with the list itself."""
    if column.kind == "bool" or column.choices == "YesNo":
        return {"Yes": True, "No": False, True: True, False: False}
    if column.kind == "choice":
        return {c: c for c in schema.LISTS.get(column.choices or "", ())}
    return None


def _fast_column(
    column: Column, values: list[object], memo: dict | None
) -> tuple[list[object], list[object]]:
    """Read the clean, common cells of a column; _MISS marks the cells to read carefully.
    Also returns the distinct outcomes (to tell at once whether any cell is blank or _MISS).

    A column holds few distinct values (dates, list choices, names): each is judged once
    and the cells are looked up, unless bools share the column with numbers (True == 1 would
    fold them together in the lookup)."""
    kinds = set(map(type, values))
    if bool in kinds and kinds & {int, float}:
        converted = [_fast_cell(column, v, memo) for v in values]
        return converted, converted
    judged = {v: _fast_cell(column, v, memo) for v in set(values)}
    return list(map(judged.__getitem__, values)), list(judged.values())


def _fast_cell(column: Column, v: object, memo: dict | None) -> object:
    if v == "":
        return None
    if memo is not None:
        if column.kind == "choice" and column.choices in schema.TABLE_LISTS:
            return v if type(v) is str and _clean_text(v) else _MISS
        return memo.get(v, _MISS)
    if column.kind == "date":
        ok = type(v) is dt.date and column.earliest_year <= v.year <= LATEST_YEAR  # type: ignore[attr-defined]
        return v if ok else _MISS
    if column.kind == "text":
        return v if type(v) is str and _clean_text(v) else _MISS
    if column.kind in {"number", "int"}:
        return v if type(v) is float and fits(column, v) else _MISS
    return _MISS


_MISS = object()


def _clean_text(value: str) -> bool:
    return value != "" and value.isprintable() and value == value.strip() and "  " not in value


# Every word that might not be clean text: a space at either end or two together, or anything
# but printable ASCII (Python's checks then judge those words one at a time).
_MAYBE_UNCLEAN = r"^ | $|  |[^\x20-\x7e]"


def _problem(
    sheet: Sheet, column: Column, i: int | None, r: int, severity: Severity, value: object, msg: str
) -> Problem:
    cell = f"{column_letter(i)}{r + 1}" if i is not None else ""
    return Problem(sheet.name, r + 1, column.header, cell, severity, _show(value), msg)


def _careful(
    sheet: Sheet,
    column: Column,
    i: int | None,
    r: int,
    value: object,
    raw: RawSheet,
    covered: dict[tuple[int, int], str],
    problems: list[Problem],
    memo: dict[object, object] | None,
) -> tuple[Any, bool]:
    """Read one cell the careful way: (value, row still usable), reporting every problem."""
    ok = True
    found: list[Problem] = []
    if i is not None and (r, i) in raw.errors:
        found.append(
            _problem(
                sheet,
                column,
                i,
                r,
                "error",
                value,
                _error_cell_message(raw.errors[(r, i)]),
            )
        )
        value = ""
    if i is not None and (r, i) in covered:
        found.append(
            _problem(
                sheet,
                column,
                i,
                r,
                "error",
                value,
                f"the cell is inside the merged range {covered[(r, i)]}: unmerge it",
            )
        )
        ok = not column.required
    warnings: list[str] = []
    try:
        result = _read(column, value, warnings.append)
    except CellProblem as exc:
        # A bad optional value is read as blank and the row goes on; a bad required one stops it.
        tail = (
            "; the row is left out until fixed"
            if column.required
            else "; read as blank until fixed"
        )
        found.append(_problem(sheet, column, i, r, "error", value, f"{exc}{tail}"))
        problems += found
        return None, not column.required
    found += [_problem(sheet, column, i, r, "warning", value, w) for w in warnings]
    if memo is not None and not found:
        memo[value] = result
    problems += found
    return result, ok


def _error_cell_message(error: str) -> str:
    if error.startswith("="):  # a formula with no saved value (see workbook_reader)
        return (
            f"the formula {error} has no saved value (the file was saved without calculating "
            "it): open and save the workbook in Excel or LibreOffice, or type the value"
        )
    return f"the cell holds the Excel error {error}"


def _read(column: Column, value: object, warn: Callable[[str], None]) -> Any:
    if value == "" or value is None:
        return None
    match column.kind:
        case "text":
            return read_text(value, warn)
        case "value":  # a setting's value: numbers are as welcome as text
            return _show(int(value) if isinstance(value, float) and value.is_integer() else value)
        case "date":
            return read_date(value, warn, column.earliest_year)
        case "bool":
            return read_bool(value, warn)
        case "number" | "int":
            return check_number(column, read_number(value, warn))
        case "choice":
            if column.choices == "YesNo":
                return read_bool(value, warn)
            return read_choice(value, warn, schema.LISTS.get(column.choices or "", ()))
    raise AssertionError(column.kind)


def _contract_failures(
    sheet: Sheet,
    columns: Sequence[Column],
    positions: dict[str, int],
    values: list[list[Any]],
    numbers: list[int],
    problems: list[Problem],
) -> set[int]:
    """The rows (indexes into `values`) with a value that fails the sheet's pydantic contract,
    each failure reported at its cell."""
    bad: set[int] = set()
    for column, column_values in zip(columns, values, strict=True):
        try:
            _adapter(sheet, column).validate_python(column_values)
        except ValidationError as exc:
            i = positions.get(column.header)
            for err in exc.errors():
                index = int(err["loc"][0])
                bad.add(index)
                problems.append(
                    Problem(
                        sheet.name,
                        numbers[index],
                        column.header,
                        f"{column_letter(i)}{numbers[index]}" if i is not None else "",
                        "error",
                        _show(err.get("input", "")),
                        err["msg"],
                    )
                )
    return bad


# ---------------------------------------------------------------- the whole workbook


DOMAIN_TYPES: dict[str, type] = {
    "Clients": model.Client,
    "Contacts": model.Contact,
    "Appointments": model.Appointment,
    "Hours": model.HoursEntry,
    "Services": model.Service,
    "Plans": model.Plan,
    "Noncompliance": model.NoncomplianceEvent,
    "Penalties": model.Penalty,
    "Branches": model.Branch,
    "Holidays": model.Holiday,
}
CASELOAD_FIELDS = {
    "Clients": "clients",
    "Contacts": "contacts",
    "Appointments": "appointments",
    "Hours": "hours",
    "Services": "services",
    "Plans": "plans",
    "Noncompliance": "noncompliance",
    "Penalties": "penalties",
    "Branches": "branches",
    "Holidays": "holidays",
}


@dataclass
class ValidatedWorkbook:
    """The valid rows of every sheet, their problems and the settings.

    Rows stay in columns (`sheets`; `table` and `columns` give them as domain columns, what
    the engine reads); domain objects (`domain_rows`, `caseload`) are made only when asked.
    """

    settings: Settings
    problems: list[Problem]
    client_rows: dict[str, int]  # case id -> 1-based row on the Clients sheet
    sheets: dict[str, SheetRows]
    _tables: dict[str, TableColumns] = field(default_factory=dict, repr=False)
    _objects: dict[str, tuple] = field(default_factory=dict, repr=False)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @cached_property
    def client_index(self) -> dict[str, int]:
        """Case id -> position among the valid Clients rows."""
        return {case: i for i, case in enumerate(self.table("Clients").values("case_id"))}

    def table(self, sheet: str) -> TableColumns:
        """A domain sheet's valid rows as columns (blank cells hold the domain defaults)."""
        if sheet not in self._tables:
            self._tables[sheet] = _to_columns(self.sheets[sheet], DOMAIN_TYPES[sheet])
        return self._tables[sheet]

    def domain_rows(self, sheet: str) -> tuple:
        """A domain sheet's valid rows as domain objects."""
        if sheet not in self._objects:
            self._objects[sheet] = self.table(sheet).rows()
        return self._objects[sheet]

    @property
    def columns(self) -> CaseloadColumns:
        """What the rules read, as columns: the engine's input."""
        tables = {CASELOAD_FIELDS[s]: self.table(s) for s in DOMAIN_TYPES if s != "Clients"}
        return CaseloadColumns(self.table("Clients"), tables)

    @cached_property
    def caseload(self) -> model.Caseload:
        """Every domain sheet as objects (readable; the engine reads `columns`)."""
        return model.Caseload(**{CASELOAD_FIELDS[s]: self.domain_rows(s) for s in DOMAIN_TYPES})


def validate_workbook(raw: RawWorkbook, defaults: Settings, as_of: dt.date) -> ValidatedWorkbook:
    token = _DAY_FIRST.set(_day_first(defaults))
    try:
        return _validate_workbook(raw, defaults, as_of)
    finally:
        _DAY_FIRST.reset(token)


def _day_first(settings: Settings) -> bool:
    return settings[DATE_ORDER_SETTING] == "day first"


def _validate_workbook(raw: RawWorkbook, defaults: Settings, as_of: dt.date) -> ValidatedWorkbook:
    wanted = {s.name: s for s in (*schema.INPUT_SHEETS, *schema.REFERENCE_SHEETS)}
    found: dict[str, list[Problem]] = {name: [] for name in wanted}
    raws: dict[str, RawSheet] = {}
    # Each sheet is checked as soon as it is read, while the reader reads the others.
    arrived = {}
    for sheet in raw.arrivals():
        if sheet.name in wanted:
            raws[sheet.name] = sheet
            arrived[sheet.name] = read_sheet(sheet, wanted[sheet.name], found[sheet.name])
    sheets = {
        name: arrived[name] if name in arrived else read_sheet(None, sheet, found[name])
        for name, sheet in wanted.items()
    }
    settings = _read_settings(sheets["Settings"], defaults, found["Settings"])
    if _day_first(settings) != _DAY_FIRST.get():
        # The office reads 03/04/2026 the other way: read again the sheets that hold one.
        _DAY_FIRST.set(_day_first(settings))
        for name, listed in found.items():
            if name in raws and any(_AMBIGUOUS_DATE in p.message for p in listed):
                listed.clear()
                sheets[name] = read_sheet(raws[name], wanted[name], listed)
    problems = [p for listed in found.values() for p in listed]
    problems.extend(stray_problems(raw))
    _drop_duplicate_keys(sheets, problems)
    _check_date_window(sheets, settings, as_of, problems)
    client_rows = _check_case_ids(sheets, problems)
    _check_references(sheets, problems, as_of)
    problems.sort(key=problem_order)
    return ValidatedWorkbook(settings, problems, client_rows, sheets)


def stray_problems(raw: RawWorkbook) -> list[Problem]:
    """A warning at the first value typed far beyond the rest of its sheet (left unread)."""
    out = []
    for sheet in raw.arrived.values():
        stray = sheet.stray
        if stray is None:
            continue
        row = int(re.sub(r"[A-Z]", "", stray.first))
        others = f" (and {stray.count - 1} more like it)" if stray.count > 1 else ""
        ends = f" (its data ends at {stray.ends})" if stray.ends else ""
        out.append(
            Problem(
                sheet.name,
                row,
                "",
                stray.first,
                "warning",
                "",
                f"a value far beyond the rest of the sheet{ends}{others} was not read. Delete "
                "it (in Excel, Ctrl+End goes to it).",
            )
        )
    return out


def _to_columns(rows: SheetRows, kind: type) -> TableColumns:
    """A sheet's valid rows as domain columns; a field left blank takes the domain's default.
    (A field not on the sheet at all is filled with the default by TableColumns.)"""
    defaults = model.field_defaults(kind)
    values: dict[str, list[Any]] = {}
    ready: set[str] = set()  # fields whose reader-made arrays and codes still hold
    for name in model.field_names(kind):
        if name not in rows.values:
            continue
        column = rows.column(name)
        default = defaults.get(name)
        if default is not None and None in column:
            column = [default if v is None else v for v in column]
        else:
            ready.add(name)
        values[name] = column
    arrays = {k: a for k, a in rows.arrays.items() if k in ready}
    codes = {k: c for k, c in rows.codes.items() if k in ready}
    return TableColumns(kind, len(rows), values, arrays=arrays, codes=codes)


_SHEET_ORDER = {s.name: i for i, s in enumerate(schema.ALL_SHEETS)}


def problem_order(p: Problem) -> tuple[int, int, int, str]:
    """Errors sheet order: by sheet, row, then column (A before AA)."""
    return (_SHEET_ORDER.get(p.sheet, 99), p.row, len(p.cell), p.cell)


def _key(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    return " ".join((text if text.isascii() else _without_invisible(text)).split()).casefold()


def _drop_duplicate_keys(sheets: dict[str, SheetRows], problems: list[Problem]) -> None:
    """Unique keys: the first row typed with a key wins, the others are reported."""
    for name in ("Clients", "Branches", "Staff", "Settings"):
        rows = sheets[name]
        key_col = rows.sheet.key
        if key_col is None:
            continue
        duplicates = set()
        for number, k, value in rows.typed:
            owner = rows.typed_keys[k]  # the first row typed with this key wins
            if owner != number:
                duplicates.add(number)
                problems.append(
                    rows.problem(
                        number,
                        key_col,
                        "error",
                        value,
                        f"duplicate {key_col} {_show(value).strip()!r} (first on row {owner}); "
                        "this row is ignored until one of them is changed",
                    )
                )
        mask = [number not in duplicates for number in rows.row_numbers]
        rows.keep(mask)


def _check_date_window(
    sheets: dict[str, SheetRows], settings: Settings, as_of: dt.date, problems: list[Problem]
) -> None:
    """Dates after what can be true: a birth after the as-of date, any other date more than
    the setting's years after it. Reported at the cell; an optional date is read as blank,
    a required one leaves its row out (the same as any other unreadable cell)."""
    years = settings["Dates years ahead"]
    ahead = _years_after(as_of, years)
    for sheet in schema.INPUT_SHEETS:
        rows = sheets[sheet.name]
        if not len(rows):
            continue
        mask = [True] * len(rows)
        for column in validated_columns(sheet):
            if column.kind != "date":
                continue
            latest = as_of if column.past_only else ahead
            name = column.field or column.header
            ordinals = rows.arrays.get(name)  # from the columnar reading: 0 = blank
            if ordinals is not None and (not ordinals.size or ordinals.max() <= latest.toordinal()):
                continue  # the common case, at numpy speed
            values = rows.values[name]
            late = {d for d in set(values) if d is not None and d > latest}
            if not late:
                continue
            why = (
                f"after the as-of date {as_of.isoformat()}: a birth cannot be in the future"
                if column.past_only
                else f"more than {years} years after the as-of date {as_of.isoformat()} "
                "(setting 'Dates years ahead'): check the year"
            )
            tail = (
                "; the row is left out until fixed"
                if column.required
                else "; read as blank until fixed"
            )
            for k, day in enumerate(values):
                if day in late:
                    problems.append(
                        rows.problem(rows.row_numbers[k], column.header, "error", day, why + tail)
                    )
                    if column.required:
                        mask[k] = False
                    else:
                        values[k] = None
            rows.arrays.pop(name, None)  # made again from the values
            rows.codes.pop(name, None)
        rows.keep(mask)


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _check_case_ids(sheets: dict[str, SheetRows], problems: list[Problem]) -> dict[str, int]:
    """Child rows must name a known case. Returns case id -> Clients row."""
    clients = sheets["Clients"]
    case_rows = (
        dict(zip(clients.column("case_id"), clients.row_numbers, strict=True))
        if len(clients)
        else {}
    )
    for sheet in schema.INPUT_SHEETS[1:]:
        rows = sheets[sheet.name]
        if not len(rows):
            continue
        mask = list(map(case_rows.__contains__, rows.column("case_id")))
        if all(mask):
            continue
        waiting: dict[str, list[int]] = {}
        ids = rows.column("case_id")
        for k in itertools.compress(range(len(mask)), map(operator.not_, mask)):
            case_id, number = ids[k], rows.row_numbers[k]
            if _key(case_id) in clients.typed_keys:
                waiting.setdefault(case_id, []).append(number)
                continue
            problems.append(
                rows.problem(
                    number,
                    "Case ID",
                    "error",
                    case_id,
                    f"Case ID {case_id!r} is not on the Clients sheet; row ignored",
                )
            )
        for case_id, numbers in waiting.items():
            first_row = clients.typed_keys[_key(case_id)]
            problems.append(
                rows.problem(
                    numbers[0],
                    "Case ID",
                    "warning",
                    case_id,
                    (
                        f"{len(numbers)} {sheet.name} rows of case {case_id!r} (rows "
                        f"{_ranges(numbers)}) are left out"
                        if len(numbers) > 1
                        else f"1 {sheet.name} row of case {case_id!r} is left out"
                    )
                    + f" until its Clients row {first_row} is fixed",
                )
            )
        rows.keep(mask)
    return case_rows


def _ranges(numbers: list[int]) -> str:
    """[4, 5, 6, 9] -> '4-6, 9'."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in spans)


def _check_references(
    sheets: dict[str, SheetRows], problems: list[Problem], as_of: dt.date
) -> None:
    def values(sheet: str, name: str) -> list[Any]:
        rows = sheets[sheet]
        return rows.column(name)

    branches = set(values("Branches", "name"))
    calendars = set(values("Holidays", "calendar"))
    staff = set(values("Staff", "Case Manager"))
    branch_rows = sheets["Branches"]
    for calendar, number in zip(
        values("Branches", "calendar"), branch_rows.row_numbers, strict=True
    ):
        if calendar not in calendars:
            problems.append(
                branch_rows.problem(
                    number,
                    "Calendar",
                    "warning",
                    calendar,
                    f"no holidays for calendar {calendar!r} on the Holidays sheet: "
                    "business days skip weekends only",
                )
            )
    clients = sheets["Clients"]
    for branch, manager, number in zip(
        values("Clients", "branch"),
        values("Clients", "case_manager"),
        clients.row_numbers,
        strict=True,
    ):
        if branch not in branches:
            problems.append(
                clients.problem(
                    number,
                    "Branch",
                    "warning",
                    branch,
                    f"branch {branch!r} is not on the Branches sheet: "
                    "business days skip weekends only",
                )
            )
        if staff and manager not in staff:
            problems.append(
                clients.problem(
                    number,
                    "Case Manager",
                    "warning",
                    manager,
                    f"{manager!r} is not on the Staff sheet",
                )
            )
    staff_rows = sheets["Staff"]
    for text, number in zip(values("Staff", "office_days"), staff_rows.row_numbers, strict=True):
        unread = read_office_days(text)[1] if isinstance(text, str) else ()
        if unread:
            problems.append(
                staff_rows.problem(
                    number,
                    "Office Days",
                    "warning",
                    text,
                    f"{', '.join(repr(w) for w in unread)} names no day; write days as "
                    "Mon Tue Thu or Mon-Fri. Appointments are proposed on the days it "
                    "names (every open day when none)",
                )
            )
    # A closure before the referral is an error like any other at its cell: the closure is
    # read as blank until fixed, so the case's deadlines stay in sight meanwhile.
    closures = values("Clients", "closure_date")  # the rows' own list: blanked in place
    for k, (referral, closure, number) in enumerate(
        zip(values("Clients", "referral_date"), closures, clients.row_numbers, strict=True)
    ):
        if closure is not None and referral is not None and closure < referral:
            problems.append(
                clients.problem(
                    number,
                    "Closure Date",
                    "error",
                    closure,
                    f"closed on {closure.isoformat()}, before the referral on "
                    f"{referral.isoformat()}: check both dates; read as blank until fixed",
                )
            )
            closures[k] = None
            clients.arrays.pop("closure_date", None)  # made again from the values
            clients.codes.pop("closure_date", None)
    contacts = sheets["Contacts"]
    for day, number in zip(values("Contacts", "date"), contacts.row_numbers, strict=True):
        if day > as_of:
            problems.append(
                contacts.problem(
                    number,
                    "Date",
                    "warning",
                    day,
                    f"contact dated after {as_of.isoformat()}: it will count only from then",
                )
            )


def _read_settings(rows: SheetRows, defaults: Settings, problems: list[Problem]) -> Settings:
    overrides = {}
    names, values = rows.column("Setting"), rows.column("Value")
    for name, value, number in zip(names, values, rows.row_numbers, strict=True):
        spec = defaults.specs.get(name)
        if spec is None:
            problems.append(
                rows.problem(
                    number, "Setting", "warning", name, f"unknown setting {name!r} is ignored"
                )
            )
            continue
        try:
            overrides[name] = spec.parse(value)
        except ValueError as exc:
            problems.append(
                rows.problem(
                    number, "Value", "error", value, f"{exc}; the default {spec.default!r} is used"
                )
            )
    return defaults.with_values(overrides)
