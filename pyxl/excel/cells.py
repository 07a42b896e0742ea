"""Excel cell values in and out of the Excel layer: dates, errors with messages, shapes.

Custom functions receive what Office.js sends: date cells as serial numbers (the
1900 date system), text, numbers, booleans, blanks as None and error cells as
None (xlwings' default). Results go back as 2-D lists; a date goes back as a
date (xlwings writes it as a serial with a date number format), an error as an
Excel error value that carries a message (shown on the cell's error flag), so
a missing deadline is never a blank.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from pyxl.domain.calendar import NO_DATE

Grid = list[list[Any]]
ErrorCode = Literal["#VALUE!", "#N/A", "#NUM!"]

# Serial 61 is 1900-03-01; below it Excel's phantom 1900-02-29 shifts every day by one.
_EXCEL_EPOCH_ORDINAL = dt.date(1899, 12, 30).toordinal()
_FIRST_SERIAL, _LAST_SERIAL = 61, 2_958_465  # 1900-03-01 .. 9999-12-31
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_ERROR_TYPES = {"#VALUE!": "Value", "#N/A": "NotAvailable", "#NUM!": "Num"}
# The date format of dates returned by the functions: the Due List's, ISO with the weekday.
DATE_FORMAT = "ddd yyyy-mm-dd"


class CellError(ValueError):
    """One cell's value cannot be used; its result becomes an Excel error with this message."""

    def __init__(self, message: str, code: ErrorCode = "#VALUE!") -> None:
        super().__init__(message)
        self.code = code


def excel_error(message: str, code: ErrorCode = "#VALUE!") -> dict[str, str]:
    """An Excel error cell value carrying a message.

    `type`/`errorType` is Office.js' error cell value; the task pane's function
    runtime (pyxl.js) turns `message` into a CustomFunctions.Error so the text
    shows on the cell's error flag. #VALUE! and #N/A are the codes Excel lets
    carry a message.
    """
    return {"type": "Error", "errorType": _ERROR_TYPES[code], "message": message[:255]}


def is_excel_error(value: object) -> bool:
    return isinstance(value, dict) and value.get("type") == "Error"


# ---------------------------------------------------------------- shapes


def as_grid(value: object) -> Grid:
    """Any argument as a 2-D list: a scalar becomes [[value]], a row [row]."""
    if isinstance(value, list):
        if not value:
            return [[None]]
        if isinstance(value[0], list):
            return value
        return [value]
    return [[value]]


def flat(value: object) -> list[Any]:
    """Cells of a range row by row; a one-column or one-row range is a plain column."""
    return [cell for row in as_grid(value) for cell in row]


def shape_of(value: object) -> tuple[int, int]:
    grid = as_grid(value)
    return len(grid), len(grid[0])


def broadcast(*arguments: object) -> tuple[tuple[int, int], list[list[Any]]]:
    """The common result shape of range arguments, and each argument's cells in it.

    A single cell repeats for every row, like Excel's own array arithmetic;
    ranges of different sizes are an error for the whole call.
    """
    shapes = [shape_of(a) for a in arguments]
    big = [s for s in shapes if s != (1, 1)]
    shape = big[0] if big else (1, 1)
    for s in big:
        if s != shape:
            sizes = " and ".join(f"{r}x{c}" for r, c in dict.fromkeys(big))
            raise ValueError(f"the ranges must be the same size (got {sizes})")
    size = shape[0] * shape[1]
    cells = [
        flat(a) * size if s == (1, 1) else flat(a) for a, s in zip(arguments, shapes, strict=True)
    ]
    return shape, [c[:size] for c in cells]


def reshape(values: Sequence[Any], shape: tuple[int, int]) -> Grid:
    rows, cols = shape
    return [list(values[r * cols : (r + 1) * cols]) for r in range(rows)]


# ---------------------------------------------------------------- dates


def serial_to_date(serial: float) -> dt.date:
    if not _FIRST_SERIAL <= serial <= _LAST_SERIAL + 0.999999:
        raise CellError(f"{_number(serial)} is not a date Excel can hold (from 1900-03-01)")
    return dt.date.fromordinal(int(serial) + _EXCEL_EPOCH_ORDINAL)


def date_to_serial(day: dt.date) -> int:
    return day.toordinal() - _EXCEL_EPOCH_ORDINAL


def read_date(value: object, what: str = "date") -> dt.date | None:
    """A date cell as Office.js or xlwings hands it over; None for a blank cell."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CellError(f"{what}: TRUE/FALSE is not a date")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise CellError(f"{what}: not a number")
        return serial_to_date(float(value))
    text = str(value).strip()
    if _ISO_DATE.match(text):
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            raise CellError(f"{what}: {text!r} is not a real date") from None
    raise CellError(f"{what}: {text[:40]!r} is not a date (type it as YYYY-MM-DD)")


def read_number(value: object, what: str) -> float:
    if isinstance(value, bool) or value is None or value == "":
        raise CellError(f"{what} is blank" if value in (None, "") else f"{what} must be a number")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise CellError(f"{what} must be a finite number")
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        raise CellError(f"{what} must be a number, not {str(value)[:40]!r}") from None


def read_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def ordinals(
    values: Sequence[object], what: str
) -> tuple[npt.NDArray[np.int64], dict[int, CellError]]:
    """Dates as proleptic ordinals for the vectorised calendar (0 = blank), and bad cells."""
    out = np.zeros(len(values), dtype=np.int64)
    bad: dict[int, CellError] = {}
    # Office.js sends dates as numbers: convert them all at once, the rest one by one.
    numbers = [
        i for i, v in enumerate(values) if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    if numbers:
        serials = np.array([values[i] for i in numbers], dtype=np.float64)
        ok = np.isfinite(serials) & (serials >= _FIRST_SERIAL) & (serials < _LAST_SERIAL + 1)
        idx = np.array(numbers)
        out[idx[ok]] = np.floor(serials[ok]).astype(np.int64) + _EXCEL_EPOCH_ORDINAL
        for i in idx[~ok]:
            bad[int(i)] = CellError(f"{what}: {_number(values[i])} is not a date")
    for i, v in enumerate(values):
        if v is None or (isinstance(v, int | float) and not isinstance(v, bool)):
            continue
        try:
            day = read_date(v, what)
        except CellError as exc:
            bad[i] = exc
            continue
        out[i] = day.toordinal() if day else NO_DATE
    return out, bad


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------- results


def per_cell(
    cells: Sequence[Any], compute: Callable[[Any], Any], blank: Callable[[Any], bool]
) -> list[Any]:
    """compute(cell) for each cell; blank inputs stay blank and a CellError becomes an error."""
    out: list[Any] = []
    for cell in cells:
        if blank(cell):
            out.append(None)
            continue
        try:
            out.append(compute(cell))
        except CellError as exc:
            out.append(excel_error(str(exc), exc.code))
    return out
