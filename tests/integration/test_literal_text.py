"""Text is stored exactly as typed, and the cell writers cannot write invalid XML (issue 15,
items 2 and 3).

Excel reads `_xHHHH_` in a file as the character HHHH, so a client named `Ana _x0041_ Ruiz`
would come back as `Ana A Ruiz` unless the writer escapes the look-alike (`_x005F_`). Random
Unicode (control characters, lone surrogates, `_x0041_`, leading = + - @, 32,767 characters)
goes through every writer pyxl has: the patch writer (recompute's tables, and the rows the
letters log and import-history append), XlsxWriter (new workbooks, the supervisor report),
and the add-in's values for Excel. Each is read back with python-calamine (pyxl's reader,
which unescapes as Excel does) and equals what was typed, or what a cell can hold of it:
characters XML 1.0 cannot carry (C0 controls other than tab, line feed and carriage
return; lone surrogates; U+FFFE, U+FFFF) are shown as "?", and past 32,767 characters the
patch writer ends the text with "…" while a new workbook refuses it. A sample is also read
back by LibreOffice. All data is made up.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
import subprocess
import tempfile
import zipfile
from decimal import Decimal
from enum import IntEnum
from pathlib import Path

import numpy as np
import pytest
import python_calamine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from pyxl.adapters import schema
from pyxl.adapters.report_workbook import write_report
from pyxl.adapters.workbook_patch import (
    CellValueError,
    Patch,
    TableRows,
    _CellWriter,
    _Styles,
    append_rows,
    apply_patch,
    storable,
)
from pyxl.domain.model import Program
from pyxl.domain.report_model import C, Report, ReportTable
from pyxl.excel.writes import cell_value as excel_value
from pyxl.services.new_workbook import create_workbook
from pyxl.services.recompute import recompute

AS_OF = dt.date(2026, 3, 16)
FIRST = schema.HEADER_ROW + 1
LIMIT = 32_767

# Text that looks like Excel's escape, formulas, and the characters XML cannot hold.
TRICKY = [
    "Ana _x0041_ Ruiz",
    "_x005F_x0041_",
    "_x0041__x0042_",
    "_x0000_x0000_",  # two look-alikes sharing an underscore
    "_xD83D_",
    "_X0041_ stays",
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "bell\x07 and \x00nul",
    "carriage\rreturn",
    "tab\tand\nline",
    " spaces at both ends ",
    "lone \ud800 surrogate",
    "nonchar \ufffe\uffff",
    "emoji 👩🏽‍💼 ß ñ 中文",
]
TEXT = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=30),
    st.lists(
        st.sampled_from(["_x0041_", "_x005F_", "_x", "=", "+", "-", "@", "\x01", "\r", " ", "a"]),
        max_size=8,
    ).map("".join),
    st.sampled_from(TRICKY),
)


def kept(text: str) -> str:
    """What a cell holds of the text (the patch writer's length rule)."""
    text = storable(text)
    return text if len(text) <= LIMIT else text[: LIMIT - 1] + "…"


def sheet_values(data: bytes, sheet: str, first: int, n: int) -> list[list[object]]:
    """n rows from 0-based row `first`, blank rows at the end included."""
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    rows = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)[first : first + n]
    width = max(map(len, rows), default=len(schema.CLIENTS.columns))
    return [r + [""] * (width - len(r)) for r in rows] + [[""] * width] * (n - len(rows))


@functools.cache
def empty_book() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return create_workbook(Path(folder) / "empty.xlsx", as_of=AS_OF).read_bytes()


def assert_valid_xml(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.endswith((".xml", ".rels")):
                etree.fromstring(z.read(name))


# ---------------------------------------------------------------- round trips


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(texts=st.lists(TEXT, min_size=1, max_size=12))
def test_appended_rows_keep_text_as_typed(texts: list[str]) -> None:
    """The writer of the Letters log (pyxl letters) and of imported history rows."""
    data = append_rows(empty_book(), {"Letters": [[None, t, t] for t in texts]})
    assert_valid_xml(data)
    rows = sheet_values(data, "Letters", schema.HEADER_ROW, len(texts))
    assert [r[1] for r in rows] == [kept(t) for t in texts]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(texts=st.lists(TEXT, min_size=1, max_size=12))
def test_recomputed_tables_keep_text_as_typed(texts: list[str]) -> None:
    """The writer of recompute's Due List and Errors tables."""
    width = len(schema.ERRORS.columns)
    rows = [["Clients", FIRST, "Client Name", "B4", "error", t, t] for t in texts]
    assert len(rows[0]) == width
    data = apply_patch(empty_book(), Patch(tables={"Errors": TableRows(rows)}))
    assert_valid_xml(data)
    got = sheet_values(data, "Errors", schema.HEADER_ROW, len(texts))
    assert [r[5] for r in got] == [kept(t) for t in texts]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(TEXT, min_size=1, max_size=10))
def test_new_workbooks_keep_text_as_typed(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str]
) -> None:
    path = tmp_path_factory.mktemp("new") / "book.xlsx"
    notes = schema.CONTACTS.headers.index("Notes")
    rows = [["C1", AS_OF, "Phone", "Yes"] + [None] * (notes - 4) + [t] for t in texts]
    create_workbook(path, as_of=AS_OF, rows={"Contacts": rows})
    got = sheet_values(path.read_bytes(), "Contacts", schema.HEADER_ROW, len(texts))
    assert [r[notes] for r in got] == [storable(t) for t in texts]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(TEXT, min_size=1, max_size=10))
def test_reports_keep_text_as_typed(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str]
) -> None:
    columns = (C("Measure", width=20), C("Value", width=20))
    overview = ReportTable("Overview", "Overview", "Overview", "Text as typed", columns)
    overview.rows = [[t, t] for t in texts]
    path = tmp_path_factory.mktemp("report") / "report.xlsx"
    write_report(Report(AS_OF, {"Overview": overview}, [], {}, "test"), path)
    got = sheet_values(path.read_bytes(), "Overview", 3, len(texts))
    assert [r[:2] for r in got] == [[storable(t)[:LIMIT]] * 2 for t in texts]


def test_the_longest_text_a_cell_holds_is_kept_whole_and_longer_is_ended_or_refused(
    tmp_path: Path,
) -> None:
    longest, longer = "_x0041_" + "x" * (LIMIT - 7), "y" * (LIMIT + 1)
    data = append_rows(empty_book(), {"Letters": [[None, longest], [None, longer]]})
    got = sheet_values(data, "Letters", schema.HEADER_ROW, 2)
    assert [r[1] for r in got] == [longest, "y" * (LIMIT - 1) + "…"]
    notes = schema.CONTACTS.headers.index("Notes")
    row = ["C1", AS_OF, "Phone", "Yes"] + [None] * (notes - 4) + [longer]
    with pytest.raises(ValueError, match="32767"):
        create_workbook(tmp_path / "long.xlsx", as_of=AS_OF, rows={"Contacts": [row]})


def test_the_add_in_hands_excel_the_text_itself() -> None:
    """Through Excel's API a value is set, not parsed from a file: no escape is added."""
    assert excel_value("Ana _x0041_ Ruiz") == "Ana _x0041_ Ruiz"
    assert excel_value("=1+1") == "=1+1"  # the range is formatted as Text first


def test_a_recompute_keeps_a_look_alike_name_on_the_due_list_in_libreoffice_too(
    tmp_path: Path, soffice: str
) -> None:
    name = "Ana _x0041_ Ruiz"
    client = dict.fromkeys(schema.CLIENTS.headers)
    client.update(
        {
            "Case ID": "X1",
            "Client Name": name,
            "Program": "Texas Choices",
            "Branch": "Houston",
            "Case Manager": "Lee",
            "Referral Date": dt.date(2026, 3, 2),
        }
    )
    path = create_workbook(
        tmp_path / "x.xlsx", as_of=AS_OF, rows={"Clients": [list(client.values())]}
    )
    recompute(path, AS_OF)
    due = sheet_values(path.read_bytes(), "Due List", schema.HEADER_ROW, 10)
    assert {r[1] for r in due if r[0] == "X1"} == {name}
    assert sheet_values(path.read_bytes(), "Clients", schema.HEADER_ROW, 1)[0][2] == name
    every_sheet = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    profile = f"-env:UserInstallation=file://{tmp_path}/profile"
    out = tmp_path / "csv"
    command = [soffice, "--headless", "--norestore", profile, "--convert-to", every_sheet]
    subprocess.run([*command, "--outdir", str(out), str(path)], check=True, timeout=300)
    text = next(out.glob("*Due List*.csv")).read_text("utf-8")
    assert {r[1] for r in csv.reader(io.StringIO(text)) if r and r[0] == "X1"} == {name}


# ---------------------------------------------------------------- one conversion point


class Step(IntEnum):
    THIRD = 3


def tail(value: object, date1904: bool = False) -> str:
    styles = _Styles(
        b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<cellXfs count="1"><xf/></cellXfs></styleSheet>'
    )
    xml = _CellWriter(styles, {}, date1904).xml("A1", 0, value)  # type: ignore[arg-type]
    if xml:
        etree.fromstring(xml)  # well-formed
    return xml


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (np.float64(1.5), '<c r="A1"><v>1.5</v></c>'),
        (np.float32(0.5), '<c r="A1"><v>0.5</v></c>'),
        (np.int64(7), '<c r="A1"><v>7</v></c>'),
        (np.bool_(True), '<c r="A1" t="inlineStr"><is><t>Yes</t></is></c>'),
        (Decimal("12.25"), '<c r="A1"><v>12.25</v></c>'),
        (True, '<c r="A1" t="inlineStr"><is><t>Yes</t></is></c>'),
        (False, '<c r="A1" t="inlineStr"><is><t>No</t></is></c>'),
        (dt.date(2026, 3, 16), '<c r="A1"><v>46097</v></c>'),
        (dt.datetime(2026, 3, 16, 12), '<c r="A1"><v>46097.5</v></c>'),
        (Program.OR_JOBS, '<c r="A1" t="inlineStr"><is><t>Oregon JOBS</t></is></c>'),
        (Step.THIRD, '<c r="A1"><v>3</v></c>'),
        (None, ""),
        ("", ""),
        (-0.0, '<c r="A1"><v>-0.0</v></c>'),
        (1e308, '<c r="A1"><v>1e+308</v></c>'),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) or not v.startswith("<") else "",
)
def test_every_kind_of_value_becomes_valid_cell_xml(value: object, cell: str) -> None:
    assert tail(value) == cell


def test_dates_count_from_the_workbooks_own_epoch() -> None:
    assert tail(dt.date(2026, 3, 16), date1904=True) == '<c r="A1"><v>44635</v></c>'


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        -math.inf,
        np.float64("nan"),
        np.float32("inf"),
        Decimal("NaN"),
        object(),
        b"bytes",
        dt.time(9),
    ],
    ids=repr,
)
def test_what_no_cell_can_hold_is_refused_never_written(value: object) -> None:
    with pytest.raises(CellValueError):
        tail(value)


def test_a_new_workbook_names_the_cell_of_a_value_it_refuses(tmp_path: Path) -> None:
    hours = [["C1", AS_OF, "Job search and job readiness", math.nan, None, None]]
    with pytest.raises(CellValueError, match=r"Hours!D4"):
        create_workbook(tmp_path / "nan.xlsx", as_of=AS_OF, rows={"Hours": hours})
