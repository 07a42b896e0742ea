"""Parquet files written all together or not at all (`pyxl export`).

Each file is written under a hidden temporary name beside its final one and moved into place
only when every file is complete: a full disk or Ctrl+C leaves the folder as it was, never a
half-written file (and a folder made for the export is removed again).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pyxl.adapters.workbook_builder import new_file_mode
from pyxl.errors import UserError, os_advice


class ParquetTables:
    """Open writers, one per table; `write` adds a row group to a table's file."""

    def __init__(self, writers: Mapping[str, pq.ParquetWriter]):
        self.writers = writers

    def write(self, table: str, rows: pa.Table) -> None:
        self.writers[table].write_table(rows)


@contextmanager
def writing(out: Path, files: Mapping[str, tuple[str, pa.Schema]]) -> Iterator[ParquetTables]:
    """Write `files` (table -> file name in `out`, schema) during the block; in place when it
    ends, untouched if it fails (an OSError becomes a UserError naming the folder)."""
    made = not out.exists()
    temporary: dict[str, Path] = {}
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        out.mkdir(parents=True, exist_ok=True)
        for table, (_, schema) in files.items():
            fd, name = tempfile.mkstemp(prefix=f".{table}-", suffix=".parquet.tmp", dir=out)
            os.close(fd)
            temporary[table] = Path(name)
            os.chmod(name, new_file_mode())  # mkstemp makes it 0600; like every file pyxl writes
            writers[table] = pq.ParquetWriter(name, schema)
        yield ParquetTables(writers)
        for writer in writers.values():
            writer.close()
        for table, (name, _) in files.items():
            os.replace(temporary[table], out / name)
    except BaseException as exc:
        for writer in writers.values():
            with suppress(Exception):
                writer.close()
        for tmp in temporary.values():
            with suppress(OSError):
                tmp.unlink(missing_ok=True)
        if made:
            with suppress(OSError):
                out.rmdir()
        if isinstance(exc, OSError):
            raise UserError(
                f"the export could not be written to {out}: {os_advice(exc)} "
                f"Nothing was changed there."
            ) from exc
        raise
