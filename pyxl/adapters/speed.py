"""One door for speed: the fast parts a big workbook needs, and the plain path beside them.

A state's 50,000-client workbook is read and written with parts a branch never notices:
fastexcel's typed columns (no Python object per cell), ISA-L's inflate and deflate (two to four
times zlib), zip members copied as their compressed bytes (zipfile has no public call for it),
glibc's allocator told to keep freed memory, and no cycle collector during a command. Every one
of them lives here, beside a plain counterpart (python-calamine's cells and the standard
library) that writes the same workbook. The plain path runs where a fast part is missing
(another OS, another Python) or when the environment says PYXL_SPEED=plain; `pyxl --version`
says which path runs and why.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import io
import itertools
import logging
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import python_calamine

try:
    import fastexcel
    from isal import isal_zlib
except ImportError:  # a platform without their wheels: the plain path
    fastexcel = None  # type: ignore[assignment]
    isal_zlib = None  # type: ignore[assignment]

# fastexcel logs a warning for every column it types as text for want of values: that is
# expected here (blank optional columns), and not for the user's terminal.
logging.getLogger("fastexcel").setLevel(logging.ERROR)

# The zipfile internals the raw member copy relies on (CPython 3.11 to 3.14 have them).
_ZIP_INTERNALS = hasattr(zipfile, "sizeFileHeader") and hasattr(zipfile.ZipInfo, "FileHeader")

ZLIB_ERRORS: tuple[type[Exception], ...] = (zlib.error, EOFError) + (
    (isal_zlib.error,) if isal_zlib is not None else ()
)

# Compressed bytes inflated at a time: a piece (about ten times that) stays in the cache
# while the scan searches it several times.
_STEP = 1 << 17


@dataclass(frozen=True)
class Choice:
    fast: bool
    why: str  # the fast parts' versions, or what made the path plain

    def __str__(self) -> str:
        return f"{'fast' if self.fast else 'plain'} path ({self.why})"


def _choose() -> Choice:
    if os.environ.get("PYXL_SPEED", "").strip().lower() == "plain":
        return Choice(False, "PYXL_SPEED=plain")
    missing = [
        name
        for name, present in (
            ("fastexcel", fastexcel is not None),
            ("isal", isal_zlib is not None),
            ("zipfile internals of this Python", _ZIP_INTERNALS),
        )
        if not present
    ]
    if missing:
        return Choice(False, f"{', '.join(missing)} unavailable")
    from isal import __version__ as isal_version

    return Choice(True, f"fastexcel {fastexcel.__version__}, ISA-L {isal_version}")


_choice = _choose()


def choice() -> Choice:
    """The path this process runs, and why."""
    return _choice


def fast() -> bool:
    return _choice.fast


@contextlib.contextmanager
def plain() -> Iterator[None]:
    """Run a block on the plain path (for tests that compare both paths; not thread-safe)."""
    global _choice
    was, _choice = _choice, Choice(False, "asked for")
    try:
        yield
    finally:
        _choice = was


# ---------------------------------------------------------------- zip members


def compressed_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes as stored (compressed), read past its local header."""
    fp = archive.fp
    assert fp is not None
    fp.seek(info.header_offset)
    header = fp.read(zipfile.sizeFileHeader)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    fp.seek(info.header_offset + zipfile.sizeFileHeader + name_length + extra_length)
    return fp.read(info.compress_size)


def _deflated(info: zipfile.ZipInfo) -> bool:
    return info.compress_type == zipfile.ZIP_DEFLATED and not info.flag_bits & 0x1


def read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """A member's content, CRC-checked, like ZipFile.read (on the fast path inflated with
    ISA-L: twice as fast on the hundreds of megabytes of a big workbook's sheets)."""
    info = archive.getinfo(name)
    if not (fast() and _deflated(info)):
        return archive.read(name)
    data = isal_zlib.decompress(compressed_member(archive, info), -15)
    if isal_zlib.crc32(data) != info.CRC or len(data) != info.file_size:
        raise zipfile.BadZipFile(f"bad CRC-32 for file {name!r}")
    return data


def inflated(archive: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    """A member's content a piece at a time, never past the size it declares (a member that
    inflates to more is damaged or forged), CRC-checked at the end."""
    info = archive.getinfo(name)
    if not (fast() and _deflated(info)):
        # zipfile stops at the declared size and checks the CRC-32 at the end.
        with archive.open(info) as member:
            while piece := member.read(_STEP * 8):
                yield piece
        return
    raw = compressed_member(archive, info)
    inflater = isal_zlib.decompressobj(-15)
    crc = size = 0
    chunks = (raw[at : at + _STEP] for at in range(0, len(raw), _STEP))
    for piece in itertools.chain(map(inflater.decompress, chunks), [None]):
        if piece is None:  # after the last chunk
            piece = inflater.flush()
        size += len(piece)
        if size > info.file_size:
            raise zipfile.BadZipFile(f"{name!r} inflates to more than its declared size")
        crc = isal_zlib.crc32(piece, crc)
        yield piece
    if crc != info.CRC or size != info.file_size:
        raise zipfile.BadZipFile(f"bad CRC-32 for file {name!r}")


def search(pattern: re.Pattern[bytes], data: bytes, start: int = 0) -> bool:
    """Whether `data` holds a match of `pattern` from `start` on (a regex RE2 reads as `re`
    does): RE2's automaton (pyarrow), over a sheet's XML twice as fast as `re` when the
    pattern's first bytes are everywhere (`r="` starts every cell); `re` on the plain path."""
    if not fast():
        return pattern.search(data, start) is not None
    offsets = pa.py_buffer(struct.pack("<qq", start, len(data)))
    text = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    return bool(pc.match_substring_regex(text, pattern.pattern.decode())[0].as_py())


@dataclass(frozen=True)
class Packed:
    """A member's new content, ready to be written: deflated already on the fast path (in a
    thread, without the GIL), by zipfile as it writes on the plain one."""

    body: bytes | None  # plain: the content
    crc: int = 0
    raw: bytes = b""  # fast: the raw deflate stream
    size: int = 0


def pack(body: bytes) -> Packed:
    """ISA-L level 1 is as small as zlib's level 1 and four times as fast."""
    if not fast():
        return Packed(body)
    packer = isal_zlib.compressobj(1, isal_zlib.DEFLATED, -15)
    return Packed(None, isal_zlib.crc32(body), packer.compress(body) + packer.flush(), len(body))


def write_member(target: zipfile.ZipFile, like: zipfile.ZipInfo, packed: Packed) -> None:
    """Add a member named and dated like `like`, deflated."""
    if packed.body is not None:
        entry = zipfile.ZipInfo(like.filename, date_time=like.date_time)
        entry.external_attr = like.external_attr
        target.writestr(entry, packed.body, zipfile.ZIP_DEFLATED, 1)
        return
    _write_raw(target, like, zipfile.ZIP_DEFLATED, packed.crc, packed.raw, packed.size)


def copy_member(source: zipfile.ZipFile, target: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Copy a member unchanged. On the fast path its compressed bytes are copied as they are
    (no inflate, no deflate): most of a big workbook is members pyxl leaves alone, and
    copying them raw keeps them bit-identical and saves seconds."""
    if not fast():
        entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
        entry.external_attr = info.external_attr
        target.writestr(entry, source.read(info), info.compress_type, 1)
        return
    raw = compressed_member(source, info)
    _write_raw(target, info, info.compress_type, info.CRC, raw, info.file_size)


def _write_raw(
    target: zipfile.ZipFile,
    like: zipfile.ZipInfo,
    compress_type: int,
    crc: int,
    raw: bytes,
    size: int,
) -> None:
    """Add a member whose compressed bytes are ready. zipfile has no public call for it, so
    this writes the local header itself and registers the entry for the central directory."""
    assert target.fp is not None
    entry = zipfile.ZipInfo(like.filename, date_time=like.date_time)
    entry.compress_type = compress_type
    entry.external_attr = like.external_attr
    entry.CRC, entry.compress_size, entry.file_size = crc, len(raw), size
    entry.flag_bits = like.flag_bits & ~0x08  # sizes go in the header, no data descriptor
    entry.header_offset = target.fp.tell()
    target.fp.write(entry.FileHeader(zip64=None))
    target.fp.write(raw)
    target.filelist.append(entry)
    target.NameToInfo[entry.filename] = entry
    target.start_dir = target.fp.tell()


# ---------------------------------------------------------------- typed columns


_UNNAMED = "__UNNAMED__"  # fastexcel's name for a column with a blank header


class TypedColumns:
    """A workbook's sheets as typed columns (fastexcel), for the reading thread that opened
    it: on the plain path there are none, and every sheet is read cell by cell."""

    def __init__(self, data: bytes):
        self.reader = fastexcel.read_excel(data)

    @staticmethod
    def open(data: bytes) -> TypedColumns | None:
        return TypedColumns(data) if fast() else None

    def table(
        self, name: str, header: int, header_columns: set[int] | None
    ) -> tuple[pa.Table, list[tuple[str, int]]] | None:
        """A sheet's columns below its header row (0-based), with each column's header and
        0-based position; None when fastexcel cannot type a column.

        The load is lenient: a column of mixed kinds comes as text (a number shown as "2", a
        date as "2026-01-05 00:00:00"), and TRUE/FALSE among numbers as 1 and 0; the reader
        tells the cells apart (a strict load would fail only after parsing the whole sheet).

        The eager load is a fifth faster but does not tell where its columns are in the
        sheet: it is taken when its named columns are exactly the header row's filled cells
        counted from column A (`header_columns`, from the sheet's XML), the lazy load
        otherwise."""
        options: dict[str, Any] = {
            "header_row": header,
            "dtype_coercion": "coerce",
            "schema_sample_rows": None,
        }
        try:
            batch = self.reader.load_sheet_eager(name, **options)
            named = {i for i, h in enumerate(batch.schema.names) if not h.startswith(_UNNAMED)}
            if named == header_columns:
                names = batch.schema.names
                return pa.Table.from_batches([batch]), list(
                    zip(names, range(len(names)), strict=True)
                )
            sheet = self.reader.load_sheet(name, **options)
            table = pa.Table.from_batches([sheet.to_arrow()])
        except Exception:  # durations among other kinds, or anything fastexcel cannot type
            return None
        return table, [(c.name, c.absolute_index) for c in sheet.selected_columns]


def first_column(data: bytes, sheet: str, skip_rows: int) -> list[object]:
    """Column A's values below `skip_rows` rows: reading one column parses the whole sheet
    but makes one column of values (fastexcel); the plain path reads every cell."""
    if fast():
        book = fastexcel.read_excel(data)
        column = book.load_sheet_eager(
            sheet, header_row=None, skip_rows=skip_rows, use_columns=[0]
        ).column(0)
        return column.to_pylist()
    cells = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    rows = cells.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    return [row[0] if row else None for row in rows[skip_rows:]]


# ---------------------------------------------------------------- memory


@contextlib.contextmanager
def without_cycle_collector() -> Iterator[None]:
    """Millions of small objects and no cycles: the cyclic collector would only rescan them
    (a second of a 50,000-client recompute). The plain path leaves it alone."""
    collecting = gc.isenabled()
    if fast():
        gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def keep_freed_memory() -> None:
    """Have glibc keep the memory a command frees for its next allocations instead of
    handing it back to the system at once: a big recompute takes and frees gigabytes, and
    every page handed back is a page fault when taken again (half the system time of a
    50,000-client recompute). For commands that end; not for the server. Elsewhere than
    glibc (macOS, Windows), and on the plain path, nothing changes."""
    if not fast():
        return
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    most = 2**31 - 1  # mallopt takes an int
    mallopt(_M_MMAP_THRESHOLD, most)  # big blocks from the heap, reused, not mapped anew
    mallopt(_M_TRIM_THRESHOLD, most)  # freed heap kept
    mallopt(_M_ARENA_MAX, max(os.cpu_count() or 1, 2))  # threads share heaps (never trimmed)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8  # glibc's malloc.h
