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
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Strict, StrictBool, StringConstraints, TypeAdapter, ValidationError

from pyxl.adapters import schema
from pyxl.adapters.schema import Column, Sheet
from pyxl.adapters.workbook_reader import RawSheet, RawWorkbook, column_letter
from pyxl.domain import model
from pyxl.domain.rules import Settings

Severity = Literal["error", "warning"]
EARLIEST_YEAR = {"date_of_birth": 1900}  # other dates: 2000 onwards
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
        return f"{where} [{self.column}] {self.severity}: {self.message}"


class CellProblem(ValueError):
    """A value that cannot be read; the row is left out."""


# ---------------------------------------------------------------- cell readers

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TWO_DIGIT_YEAR = re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2}$")
_SLASHED = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


def _show(value: object) -> str:
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_text(value: object, warn: Callable[[str], None]) -> str | None:
    if isinstance(value, bool):
        return "Yes" if value else "No"
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
    stripped = " ".join(text.split()) if "\n" not in text else text.strip()
    if stripped != text:
        warn(f"stray spaces removed from {text!r}")
    return stripped or None


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
        raise CellProblem(f"a time ({value}) where a date belongs")
    else:
        day = _parse_date_text(str(value).strip(), warn)
    if not earliest <= day.year <= LATEST_YEAR:
        raise CellProblem(f"{day.isoformat()} is outside {earliest}-{LATEST_YEAR}: check the year")
    return day


def _parse_date_text(text: str, warn: Callable[[str], None]) -> dt.date:
    if _TWO_DIGIT_YEAR.match(text):
        raise CellProblem(f"two-digit year in {text!r}: type the full year (YYYY-MM-DD)")
    if m := _ISO.match(text):
        try:
            day = dt.date(*map(int, m.groups()))
        except ValueError:
            raise CellProblem(f"{text!r} is not a real date") from None
        warn(f"date typed as text; read as {day.isoformat()}")
        return day
    if m := _SLASHED.match(text):
        a, b, _year = map(int, m.groups())
        if (a > 12 and b > 12) or (a > 31 or b > 31):
            raise CellProblem(f"{text!r} is not a real date")
        raise CellProblem(f"{text!r} could be read month-first or day-first: type it as YYYY-MM-DD")
    raise CellProblem(f"{text!r} is not a date: type it as YYYY-MM-DD")


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
        "number": Annotated[float, Strict()],
        "int": Annotated[float, Strict()],
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


def row_adapter(sheet: Sheet) -> TypeAdapter:
    types = tuple(_pydantic_type(c) for c in validated_columns(sheet))
    return TypeAdapter(list[tuple[types]])  # type: ignore[valid-type]


_ADAPTERS: dict[str, TypeAdapter] = {}


def _adapter(sheet: Sheet) -> TypeAdapter:
    if sheet.name not in _ADAPTERS:
        _ADAPTERS[sheet.name] = row_adapter(sheet)
    return _ADAPTERS[sheet.name]


# ---------------------------------------------------------------- sheets


@dataclass
class SheetRows:
    """The valid rows of one sheet, as dicts by field name, with their 1-based sheet rows."""

    sheet: Sheet
    rows: list[dict[str, Any]] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    header_row: int = schema.HEADER_ROW
    present: bool = True
    positions: dict[str, int] = field(default_factory=dict)  # header -> 0-based column
    typed_keys: dict[str, int] = field(default_factory=dict)  # key as typed -> first row

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
    for r, values in enumerate(raw.values[:MAX_HEADER_SCAN]):
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
        problems.append(
            Problem(sheet.name, 0, "", "", "error", "", f"the sheet {sheet.name!r} is missing")
        )
        return out
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
    special_rows = {r for r, _ in raw.errors} | {r for r, _ in covered}
    cells = [(c, positions.get(c.header)) for c in columns]
    kinds = [c.kind for c in columns]
    earliest = [EARLIEST_YEAR.get(c.field or "", 2000) for c in columns]
    # Values of dropdown columns repeat: remember how each clean one reads.
    memo: list[dict[object, object]] = [{} for _ in columns]

    cleaned: list[tuple] = []
    numbers: list[int] = []
    for r in range(header_row + 1, len(raw.values)):
        values = raw.values[r]
        width = len(values)
        row_values = [values[i] if i is not None and i < width else "" for _, i in cells]
        if r not in special_rows and all(v == "" for v in row_values):
            continue  # blank row
        row_ok = True
        converted = []
        careful_row = r in special_rows
        for j, value in enumerate(row_values):
            kind = kinds[j]
            # Fast paths for the common, clean cases; anything else goes the careful way.
            if careful_row:
                result = _MISS
            elif value == "":
                result = None
            elif kind == "date" and type(value) is dt.date and earliest[j] <= value.year <= 2100:
                result = value
            elif kind == "text" and type(value) is str and _clean_text(value):
                result = value
            else:
                result = memo[j].get(value, _MISS)
            if result is _MISS:
                result, ok = _careful(
                    sheet,
                    columns[j],
                    cells[j][1],
                    r,
                    value,
                    raw,
                    covered,
                    problems,
                    memo[j] if kind in _MEMO_KINDS else None,
                )
                row_ok &= ok
            if result is None and columns[j].required:
                if value == "" and (r, cells[j][1]) not in raw.errors:
                    problems.append(
                        _problem(
                            sheet,
                            columns[j],
                            cells[j][1],
                            r,
                            "error",
                            value,
                            f"{columns[j].header} is required but blank; the row is left out until fixed",
                        )
                    )
                row_ok = False
            converted.append(result)
        if row_ok:
            cleaned.append(tuple(converted))
            numbers.append(r + 1)
    good = _validate_rows(sheet, columns, positions, cleaned, numbers, problems)
    if sheet.key:
        # Every key typed, valid row or not: child rows of a rejected row wait for its fix.
        k = positions[sheet.key]
        for r in range(len(raw.values) - 1, header_row, -1):
            values = raw.values[r]
            if k < len(values) and values[k] != "":
                out.typed_keys[_key(values[k])] = r + 1
    names = [c.field or c.header for c in columns]
    for tup, number in good:
        out.rows.append(dict(zip(names, tup, strict=True)))
        out.row_numbers.append(number)
    return out


_MISS = object()
_MEMO_KINDS = {"choice", "bool"}


def _clean_text(value: str) -> bool:
    return value.isprintable() and value == value.strip() and "  " not in value


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
                f"the cell holds the Excel error {raw.errors[(r, i)]}",
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


def _read(column: Column, value: object, warn: Callable[[str], None]) -> Any:
    if value == "" or value is None:
        return None
    match column.kind:
        case "text":
            return read_text(value, warn)
        case "value":  # a setting's value: numbers are as welcome as text
            return _show(int(value) if isinstance(value, float) and value.is_integer() else value)
        case "date":
            return read_date(value, warn, EARLIEST_YEAR.get(column.field or "", 2000))
        case "bool":
            return read_bool(value, warn)
        case "number" | "int":
            return read_number(value, warn)
        case "choice":
            if column.choices == "YesNo":
                return read_bool(value, warn)
            return read_choice(value, warn, schema.LISTS.get(column.choices or "", ()))
    raise AssertionError(column.kind)


def _validate_rows(
    sheet: Sheet,
    columns: Sequence[Column],
    positions: dict[str, int],
    rows: list[tuple],
    numbers: list[int],
    problems: list[Problem],
) -> list[tuple[tuple, int]]:
    """Check the cleaned rows against the sheet's pydantic schema in one call."""
    try:
        valid = _adapter(sheet).validate_python(rows)
        return list(zip(valid, numbers, strict=True))
    except ValidationError as exc:
        bad: set[int] = set()
        for err in exc.errors():
            index, col = err["loc"][0], err["loc"][1] if len(err["loc"]) > 1 else 0
            bad.add(int(index))
            column = columns[int(col)]
            i = positions.get(column.header)
            problems.append(
                Problem(
                    sheet.name,
                    numbers[int(index)],
                    column.header,
                    f"{column_letter(i)}{numbers[int(index)]}" if i is not None else "",
                    "error",
                    _show(err.get("input", "")),
                    err["msg"],
                )
            )
        keep = [(t, n) for k, (t, n) in enumerate(zip(rows, numbers, strict=True)) if k not in bad]
        valid = _adapter(sheet).validate_python([t for t, _ in keep])
        return list(zip(valid, (n for _, n in keep), strict=True))


# ---------------------------------------------------------------- the whole workbook


@dataclass
class ValidatedWorkbook:
    caseload: model.Caseload
    settings: Settings
    problems: list[Problem]
    client_rows: dict[str, int]  # case id -> 1-based row on the Clients sheet
    sheets: dict[str, SheetRows]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


DOMAIN_TYPES: dict[str, type] = {
    "Clients": model.Client,
    "Contacts": model.Contact,
    "Appointments": model.Appointment,
    "Hours": model.HoursEntry,
    "Services": model.Service,
    "Plans": model.Plan,
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
    "Branches": "branches",
    "Holidays": "holidays",
}


def validate_workbook(raw: RawWorkbook, defaults: Settings, as_of: dt.date) -> ValidatedWorkbook:
    problems: list[Problem] = []
    sheets = {
        s.name: read_sheet(raw.sheets.get(s.name), s, problems)
        for s in (*schema.INPUT_SHEETS, *schema.REFERENCE_SHEETS)
    }
    client_rows = _check_keys(sheets, problems)
    objects: dict[str, tuple] = {}
    for name, kind in DOMAIN_TYPES.items():
        rows = []
        for row in sheets[name].rows:
            # Blanks are left out so that the domain's defaults apply (Engaged blank = engaged).
            values = {k: v for k, v in row.items() if v is not None and k in _FIELDS[kind]}
            if name == "Clients":
                values["program"] = model.Program(values["program"])
            rows.append(kind(**values))
        objects[CASELOAD_FIELDS[name]] = tuple(rows)
    caseload = model.Caseload(**objects)
    _check_references(sheets, problems, as_of)
    settings = _read_settings(sheets["Settings"], defaults, problems)
    problems.sort(key=lambda p: (_SHEET_ORDER.get(p.sheet, 99), p.row, p.cell))
    return ValidatedWorkbook(caseload, settings, problems, client_rows, sheets)


_FIELDS = {k: set(k.__dataclass_fields__) for k in DOMAIN_TYPES.values()}  # type: ignore[attr-defined]
_SHEET_ORDER = {s.name: i for i, s in enumerate(schema.ALL_SHEETS)}


def _key(value: object) -> str:
    return " ".join(str(value).split()).casefold()


def _check_keys(sheets: dict[str, SheetRows], problems: list[Problem]) -> dict[str, int]:
    """Unique keys; child rows must name a known case. Returns case id -> Clients row."""
    for name in ("Clients", "Branches", "Staff", "Settings"):
        rows = sheets[name]
        key_col = rows.sheet.key
        if key_col is None:
            continue
        field_name = rows.sheet.column(key_col).field or key_col
        first: dict[str, int] = {}
        keep = []
        for row, number in zip(rows.rows, rows.row_numbers, strict=True):
            k = _key(row[field_name])
            if k in first:
                problems.append(
                    rows.problem(
                        number,
                        key_col,
                        "error",
                        row[field_name],
                        f"duplicate {key_col} {row[field_name]!r} (first on row {first[k]}); "
                        "this row is ignored until one of them is changed",
                    )
                )
                continue
            first[k] = number
            keep.append((row, number))
        rows.rows = [r for r, _ in keep]
        rows.row_numbers = [n for _, n in keep]
    clients = sheets["Clients"]
    case_rows = {
        row["case_id"]: n for row, n in zip(clients.rows, clients.row_numbers, strict=True)
    }
    for sheet in schema.INPUT_SHEETS[1:]:
        rows = sheets[sheet.name]
        keep = []
        waiting: dict[str, list[int]] = {}
        for row, number in zip(rows.rows, rows.row_numbers, strict=True):
            if row["case_id"] not in case_rows and _key(row["case_id"]) in clients.typed_keys:
                waiting.setdefault(row["case_id"], []).append(number)
                continue
            if row["case_id"] not in case_rows:
                problems.append(
                    rows.problem(
                        number,
                        "Case ID",
                        "error",
                        row["case_id"],
                        f"Case ID {row['case_id']!r} is not on the Clients sheet; row ignored",
                    )
                )
                continue
            keep.append((row, number))
        for case_id, numbers in waiting.items():
            first = clients.typed_keys[_key(case_id)]
            problems.append(
                rows.problem(
                    numbers[0],
                    "Case ID",
                    "warning",
                    case_id,
                    f"{len(numbers)} {sheet.name} row(s) of case {case_id!r} (rows "
                    f"{_ranges(numbers)}) are left out until its Clients row {first} is fixed",
                )
            )
        rows.rows = [r for r, _ in keep]
        rows.row_numbers = [n for _, n in keep]
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
    branches = {r["name"] for r in sheets["Branches"].rows}
    calendars = {r["calendar"] for r in sheets["Holidays"].rows}
    staff = {r["Case Manager"] for r in sheets["Staff"].rows}
    branch_rows = sheets["Branches"]
    for row, number in zip(branch_rows.rows, branch_rows.row_numbers, strict=True):
        if row["calendar"] not in calendars:
            problems.append(
                branch_rows.problem(
                    number,
                    "Calendar",
                    "warning",
                    row["calendar"],
                    f"no holidays for calendar {row['calendar']!r} on the Holidays sheet: "
                    "business days skip weekends only",
                )
            )
    clients = sheets["Clients"]
    for row, number in zip(clients.rows, clients.row_numbers, strict=True):
        if row["branch"] not in branches:
            problems.append(
                clients.problem(
                    number,
                    "Branch",
                    "warning",
                    row["branch"],
                    f"branch {row['branch']!r} is not on the Branches sheet: "
                    "business days skip weekends only",
                )
            )
        if staff and row["case_manager"] not in staff:
            problems.append(
                clients.problem(
                    number,
                    "Case Manager",
                    "warning",
                    row["case_manager"],
                    f"{row['case_manager']!r} is not on the Staff sheet",
                )
            )
    contacts = sheets["Contacts"]
    for row, number in zip(contacts.rows, contacts.row_numbers, strict=True):
        if row["date"] > as_of:
            problems.append(
                contacts.problem(
                    number,
                    "Date",
                    "warning",
                    row["date"],
                    f"contact dated after {as_of.isoformat()}: it will count only from then",
                )
            )


def _read_settings(rows: SheetRows, defaults: Settings, problems: list[Problem]) -> Settings:
    overrides = {}
    for row, number in zip(rows.rows, rows.row_numbers, strict=True):
        name, value = row["Setting"], row["Value"]
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
