"""A caseload workbook on disk, as the services use it: read it; change it safely.

The services tell their command's story with these calls (read, check, evaluate, write);
bytes, zips and XML stay here and in the modules behind it: `workbook_reader` reads cells,
`workbook_patch` writes them into the package, `safe_save` guards the file (locks, the
version read, atomic replace, backups).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from lxml import etree

from pyxl.adapters import safe_save, schema, speed
from pyxl.adapters.workbook_patch import (
    Patch,
    Value,
    append_rows,
    apply_patch,
    typed_outside_tables,
)
from pyxl.adapters.workbook_reader import (
    RawWorkbook,
    WorkbookUnreadable,
    not_a_workbook,
    parsable,
    read_raw,
    sheet_parts,
)

# The sheets pyxl fills in: a workbook without them is not one pyxl writes into.
CASELOAD_SHEETS = (schema.DUE_LIST.name, schema.ERRORS.name, schema.CLIENTS.name)


@dataclass
class CaseloadFile:
    """A workbook's bytes as read, and which version of the file they are."""

    path: Path
    data: bytes
    snapshot: safe_save.Snapshot

    @cached_property
    def sheet_names(self) -> set[str]:
        try:
            return set(sheet_parts(zipfile.ZipFile(io.BytesIO(self.data)))[0])
        except (zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as exc:
            raise not_a_workbook(self.data, exc) from exc

    def read(self, names: set[str], *, columnar: bool = True) -> RawWorkbook:
        """The named sheets' cells (those present); tables in the columnar form unless
        `columnar` is False (every cell, for sheets read row by row)."""
        return read_raw(self.data, names, columnar=schema.HEADER_ROW - 1 if columnar else 0)

    def require(self, sheets: Mapping[str, str] | tuple[str, ...] = CASELOAD_SHEETS) -> None:
        """WorkbookUnreadable unless every one of `sheets` is there (a mapping gives each
        sheet the advice for when it is missing)."""
        missing = sorted(set(sheets) - self.sheet_names)
        if not missing:
            return
        if isinstance(sheets, Mapping):
            raise WorkbookUnreadable(sheets[missing[0]], advised=True)
        raise WorkbookUnreadable(
            f"this is not a pyxl caseload workbook: no {', '.join(repr(m) for m in missing)} "
            "sheet. Create one with `pyxl new`, or run `pyxl check` to see what it holds.",
            advised=True,
        )

    def filled_rows(self, sheet: str) -> int:
        return filled_rows(self.data, sheet)

    def write(self, new: bytes, rows: Mapping[str, int]) -> Path | None:
        """Replace the file with `new` if it is still the version read, after checking the
        new version as a reader would: every sheet is still there, and each of `rows`'
        sheets holds that many table rows.
        Returns the backup of the replaced version."""

        def verify(written: Path) -> None:
            data = written.read_bytes()
            lost = self.sheet_names - set(sheet_parts(zipfile.ZipFile(io.BytesIO(data)))[0])
            if lost:
                raise ValueError(f"sheets missing after writing: {', '.join(sorted(lost))}")
            for sheet, count in rows.items():
                found = filled_rows(data, sheet)
                if found != count:
                    raise ValueError(f"the {sheet} sheet has {found} rows, expected {count}")

        return safe_save.atomic_write(self.path, new, expected=self.snapshot, verify=verify)

    def append(
        self,
        rows: Mapping[str, Sequence[Sequence[Value] | Mapping[str, Value]]],
        above: Mapping[str, Mapping[str, str]] | None = None,
    ) -> Path | None:
        """Append rows to the sheets' tables and write (see `write` and
        workbook_patch.append_rows); each table must then hold its rows and the new ones."""
        counts = {name: self.filled_rows(name) + len(new) for name, new in rows.items() if new}
        return self.write(append_rows(self.data, rows, above=above), counts)

    def typed_outside_tables(self, sheets: Iterable[str]) -> dict[str, list[str]]:
        """Per sheet, the cells outside its table that replacing its rows removes."""
        return typed_outside_tables(self.data, sheets)

    def write_patch(self, patch: Patch, counted: tuple[str, ...]) -> Path | None:
        """Apply the patch and write it (see `write`); the `counted` tables must then hold
        the patch's rows."""
        rows = {name: len(patch.tables[name].rows) for name in counted}
        return self.write(apply_patch(self.data, patch), rows)


def filled_rows(data: bytes, sheet: str) -> int:
    """The table rows of a sheet: every row below the headers with column A filled (each
    table's first column, a Case ID or a date, is required)."""
    column = speed.first_column(parsable(data, sheet), sheet, schema.HEADER_ROW)
    return sum(1 for value in column if value not in (None, ""))


def reading(path: Path) -> CaseloadFile:
    """The workbook as it is now, read once (for commands that write nothing)."""
    data, snapshot = safe_save.read_snapshot(path)
    return CaseloadFile(Path(path), data, snapshot)


@contextmanager
def changing(
    path: Path, nothing_done: str, sheets: Mapping[str, str] | tuple[str, ...] = CASELOAD_SHEETS
) -> Iterator[CaseloadFile]:
    """The workbook read for a command that will change it: pyxl's lock is held until the
    block ends, and the command is refused before any work while Excel or LibreOffice has
    the file open (`nothing_done` says what that left undone) or the file lacks `sheets`."""
    safe_save.cleanup_stale_temp_files(path)
    with safe_save.writer_lock(path):
        safe_save.refuse_if_open(path, nothing_done)
        book = reading(path)
        book.require(sheets)
        yield book
