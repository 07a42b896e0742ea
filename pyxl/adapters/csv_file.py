"""Every CSV pyxl writes, written so that Excel cannot run it.

A Case ID, a case manager's name or a postal code typed as `=HYPERLINK(...)`, `+1+cmd|...`,
`-2+3` or `@SUM(...)` becomes a live formula when a clerk opens the CSV in Excel. OWASP's
rule (CSV Injection): a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return gets a leading apostrophe, which Excel shows and never runs; the value stays readable
and `unescape` gives it back. Numbers are written as numbers (a negative number is no
formula).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def escape(value: object) -> object:
    """A cell as it is safe to write: text that Excel would read as a formula, quoted."""
    if isinstance(value, str) and value.lstrip(ESCAPE).startswith(FORMULA_STARTS):
        return ESCAPE + value  # also "'=..." as typed, so that unescape gives it back whole
    return value


def unescape(text: str) -> str:
    """A cell read back from a pyxl CSV, as it was before `escape`."""
    if text.startswith(ESCAPE) and text.lstrip(ESCAPE).startswith(FORMULA_STARTS):
        return text[1:]
    return text


class _SafeWriter:
    def __init__(self, f: Any) -> None:
        self._writer = csv.writer(f)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow([escape(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(f: Any) -> _SafeWriter:
    """A csv.writer whose text cells cannot become formulas."""
    return _SafeWriter(f)


def write_csv(target: Path, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """Write a CSV file (UTF-8, Excel's line ends) with formula-safe cells."""
    with open(target, "w", newline="", encoding="utf-8") as f:
        w = writer(f)
        w.writerow(headers)
        w.writerows(rows)
    return target
