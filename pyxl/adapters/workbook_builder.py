"""Build the caseload workbook from scratch with XlsxWriter.

Layout only: the sheets, tables, columns, dropdown lists and computed columns
all come from `pyxl.adapters.schema`; the rows come from the caller. Nothing
here knows a rule, a due date or a status beyond the words printed on the
"How to use" sheet and the colours given to the Status text.

Facts a later step may rely on (checked by tests/integration/test_workbook_builder.py):

- Every data sheet: title in A1, description in A2, headers in row
  `schema.HEADER_ROW`, data from the next row, one Excel Table named
  `Sheet.table` over header + data (one blank data row when there are no rows).
- Each schema column has its own `<col min="n" max="n" style="s">` element, and
  `s` is the style index of an ordinary data cell of that column (number
  format, grey fill on computed columns). A written cell uses the same index,
  except text that starts with a formula trigger, which uses a style with
  `quotePrefix="1"` (find it in styles.xml `cellXfs`).
- Conditional formats on Due List, Clients and Errors cover one contiguous
  range each, `<first col>4:<last col><last data row>` (e.g. `A4:L33` on Due
  List), with formulas anchored on row 4 such as `$J4="OVERDUE"`.
- Dropdowns point at workbook names `List_<name>` (hidden Lists sheet, or the
  key column of Branches/Staff for `schema.TABLE_LISTS`).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import xlsxwriter
import xlsxwriter.exceptions
import xlsxwriter.xmlwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from pyxl import now
from pyxl.adapters import schema
from pyxl.adapters.workbook_patch import CellValueError, cell_value, storable

WORKBOOK_TITLE = "pyxl caseload workbook"
SHEET_ORDER: tuple[str, ...] = (
    schema.HOW_TO_SHEET,
    schema.DUE_LIST.name,
    schema.SUPERVISOR.name,
    schema.CLIENTS.name,
    schema.CONTACTS.name,
    schema.APPOINTMENTS.name,
    schema.HOURS.name,
    schema.SERVICES.name,
    schema.PLANS.name,
    schema.NONCOMPLIANCE.name,
    schema.PENALTIES.name,
    schema.ERRORS.name,
    schema.LETTERS.name,
    schema.BRANCHES.name,
    schema.STAFF.name,
    schema.HOLIDAYS.name,
    schema.SETTINGS.name,
    schema.LISTS_SHEET,
)

FIRST_DATA_ROW = schema.HEADER_ROW + 1  # 1-based
VALIDATION_LAST_ROW = 100_000  # 1-based; dropdowns and date checks reach this far
TABLE_LIST_LAST_ROW = 1_000  # 1-based; Branches / Staff key ranges for dropdowns
DATE_MAX = dt.date(2100, 12, 31)  # the earliest date comes from each column's earliest_year
EXCEL_DATES = (dt.date(1900, 1, 1), dt.date(9999, 12, 31))
EXCEL_MAX_CHARS = 32_767

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
NUM_FORMATS = {"date": DATE_FORMAT, "int": "0", "number": "0.0"}
TEXT_FORMAT = "@"  # text columns are Text-formatted, so a typed 00123 stays 00123

# Text starting with one of these is shown as typed, never parsed as a formula
# (OWASP ASVS 1.2.10 / CWE-1236): the cell gets Excel's quotePrefix flag.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")

# XlsxWriter 3.3 escapes text that looks like Excel's `_xHHHH_` escape one match at a time,
# so of two sharing an underscore ("_x0000_x0000_") the second is written bare and Excel
# reads it as a character. Its substitution (`_x005F` + group 1) with a lookahead escapes
# every one; tests/integration/test_literal_text.py holds text to what was typed.
xlsxwriter.xmlwriter.re_control_chars_1 = re.compile(r"(_)(?=x[0-9a-fA-F]{4}_)")

# Colours. Status words carry the meaning; colour only helps the eye.
HEADER_FILL = "#1F4E78"
HEADER_FONT = "#FFFFFF"
COMPUTED_HEADER_FILL = "#BFBFBF"
COMPUTED_HEADER_FONT = "#262626"
COMPUTED_FILL = "#EDEDED"
TITLE_FONT = "#1F4E78"
NOTE_FONT = "#595959"
RED_FILL, RED_FONT = "#FFC7CE", "#9C0006"
AMBER_FILL, AMBER_FONT = "#FFEB9C", "#7F4F00"
GREEN_FONT = "#006100"
ERROR_FILL = "#FDE2E4"
GRID = "#D0D7E5"  # thin cell borders: they print, unlike gridlines, and match them on screen

TABLE_STYLE = "Table Style Medium 2"
COMPUTED_TABLE_STYLE = "Table Style Medium 1"
TAB_COLOURS = {"guide": "#548235", "computed": "#7F7F7F", "reference": "#8EA9DB"}

Value = str | int | float | dt.date | dt.datetime | bool | None

# Typed text stays text: never read as a formula, a number or a link.
XLSXWRITER_OPTIONS = MappingProxyType(
    {
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
        "default_date_format": DATE_FORMAT,
        "remove_timezone": True,
    }
)
LINK_FONT = "#0563C1"
LINK_COLUMNS = frozenset(
    {(schema.SUPERVISOR.name, "Most Urgent"), (schema.SUPERVISOR.name, "First Client")}
)
FILTER_COUNT_COLUMN = 5  # 0-based: the Due List's counts start in F1 (label, count, ...)


def due_list_count_cells() -> list[str]:
    """Where the counts of `due_list_count_formulas` stand (row 1, after each label)."""
    return [
        xl_rowcol_to_cell(0, FILTER_COUNT_COLUMN + 1 + 2 * k)
        for k in range(len(due_list_count_formulas()))
    ]


def due_list_count_formulas() -> list[tuple[str, str]]:
    """(label, formula) for the Due List's filter-aware counts: rows shown, and rows shown
    per status. SUBTOTAL(103, ...) counts only rows a filter leaves visible; the OFFSET
    form applies it row by row so that the status test can be multiplied in."""
    table = schema.DUE_LIST.table
    status = f"{table}[Status]"
    head = f"{table}[[#Headers],[Status]]"
    visible = f"SUBTOTAL(103,OFFSET({head},ROW({status})-ROW({head}),0))"
    out = [("Shown:", f"=SUBTOTAL(103,{status})")]
    for word in ("OVERDUE", "DUE SOON"):
        out.append((f"{word.capitalize()}:", f'=SUMPRODUCT({visible}*({status}="{word}"))'))
    return out


def build_workbook(
    path: Path,
    rows: Mapping[str, Sequence[Sequence[Value]]] = MappingProxyType({}),
) -> Path:
    """Write a new caseload workbook to `path` and return the path.

    `rows[sheet]` holds data rows in `schema.SHEETS[sheet].headers` order.
    The file is written next to `path` first and moved into place, so an
    existing workbook is never left half-written.
    """
    path = Path(path)
    unknown = sorted(set(rows) - set(schema.SHEETS))
    if unknown:
        raise ValueError(f"no such data sheet in the schema: {', '.join(unknown)}")
    for name, sheet_rows in rows.items():
        width = len(schema.SHEETS[name].columns)
        for i, row in enumerate(sheet_rows):
            if len(row) != width:
                raise ValueError(
                    f"{name} data row {i + 1}: {len(row)} values, the sheet has {width} columns"
                )

    return write_beside(path, lambda tmp: _Builder(tmp, rows).build())


def write_beside(path: Path, write: Callable[[Path], None]) -> Path:
    """Have `write` make the file next to `path`, then move it into place: a reader never
    sees it half-written, and a failure leaves the old file as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, new_file_mode())  # mkstemp makes it 0600; like every file pyxl writes
        os.replace(tmp, path)
    except xlsxwriter.exceptions.FileCreateError as exc:  # XlsxWriter's wrap of a failed write
        if exc.args and isinstance(exc.args[0], OSError):
            raise exc.args[0] from exc  # a full disk is an OSError, as elsewhere
        raise
    finally:
        tmp.unlink(missing_ok=True)
    return path


def new_file_mode() -> int:
    """The mode of a new file pyxl writes (workbooks, reports, letters, CSVs all alike):
    read/write for everyone the office's umask allows, as any program creates files. With
    umask 022 that is 0644; a shared folder with umask 007 gives the team 0660, and umask 077
    keeps files to their owner."""
    return 0o666 & ~_umask()


def _umask() -> int:
    try:  # Linux: read it without changing it (another thread may be creating a file)
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def clean_text(text: str) -> str:
    """Text as a cell holds it: what XML 1.0 cannot carry shown as "?" (the same rule as
    every pyxl writer). XlsxWriter escapes text that looks like Excel's `_xHHHH_`."""
    return storable(text)


def needs_quote_prefix(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def list_name(list_key: str) -> str:
    """Workbook defined name of a dropdown list, e.g. "Programs" -> "List_Programs"."""
    return f"List_{list_key}"


class XlsxWriterBook:
    """An XlsxWriter workbook with pyxl's options and one shared Format per set of properties."""

    def __init__(self, path: Path) -> None:
        self.wb = xlsxwriter.Workbook(str(path), dict(XLSXWRITER_OPTIONS))
        self._formats: dict[tuple[tuple[str, Any], ...], Format] = {}

    def fmt(self, **props: Any) -> Format:
        """A shared format for these properties (XlsxWriter also dedupes the xf)."""
        key = tuple(sorted(props.items()))
        if key not in self._formats:
            self._formats[key] = self.wb.add_format(props)
        return self._formats[key]


class _Builder(XlsxWriterBook):
    def __init__(self, path: Path, rows: Mapping[str, Sequence[Sequence[Value]]]) -> None:
        super().__init__(path)
        self.rows = rows

    @staticmethod
    def column_props(sheet: schema.Sheet, col: schema.Column) -> dict[str, Any]:
        props: dict[str, Any] = {
            "num_format": col.number_format or NUM_FORMATS.get(col.kind, TEXT_FORMAT),
            "border": 1,
            "border_color": GRID,
            "valign": "top",  # a wrapped neighbour makes a tall row: read it from the top
        }
        if col.wrap:
            props["text_wrap"] = True
        if col.kind in ("date", "int"):
            props["align"] = "center"
        if sheet.computed or col.computed:
            props["bg_color"] = COMPUTED_FILL
        if (sheet.name, col.header) in LINK_COLUMNS:
            props.update(font_color=LINK_FONT, underline=1)
        return props

    # -- build -------------------------------------------------------------------

    def build(self) -> None:
        self.wb.set_properties(
            {
                "title": WORKBOOK_TITLE,
                "subject": "Caseload: clients, contacts, due dates",
                "author": "",
                "manager": "",
                "company": "",
                "category": "",
                "keywords": "",
                "comments": "Built by pyxl. Refresh (pyxl recompute) to update.",
                "created": now(),
            }
        )
        self.title_fmt = self.fmt(bold=True, font_size=16, font_color=TITLE_FONT)
        self.note_fmt = self.fmt(italic=True, font_color=NOTE_FONT)
        self.plain_fmt = self.fmt(num_format="General")
        sheets = {name: self.wb.add_worksheet(name) for name in SHEET_ORDER}
        self.write_lists(sheets[schema.LISTS_SHEET])
        self.write_guide(sheets[schema.HOW_TO_SHEET])
        for name in SHEET_ORDER:
            if name in schema.SHEETS:
                self.write_data_sheet(sheets[name], schema.SHEETS[name])
        sheets[schema.HOW_TO_SHEET].activate()
        self.wb.close()

    def print_setup(self, ws: Worksheet, *, repeat_header: bool) -> None:
        ws.set_landscape()
        ws.set_paper(1)  # US Letter
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.7)
        if repeat_header:
            ws.repeat_rows(schema.HEADER_ROW - 1)
        ws.set_header('&L&"-,Bold"&A&R' + WORKBOOK_TITLE)
        ws.set_footer("&LPrinted &D&RPage &P of &N")

    # -- data sheets ---------------------------------------------------------------

    def write_data_sheet(self, ws: Worksheet, sheet: schema.Sheet) -> None:
        data = self.rows.get(sheet.name, ())
        header_row = schema.HEADER_ROW - 1  # 0-based
        last_row = header_row + max(len(data), 1)  # 0-based; a table needs a data row
        last_col = len(sheet.columns) - 1

        if sheet.computed:
            ws.set_tab_color(TAB_COLOURS["computed"])
        elif sheet in schema.REFERENCE_SHEETS:
            ws.set_tab_color(TAB_COLOURS["reference"])
        ws.write_string(0, 0, sheet.title, self.title_fmt)
        ws.write_string(1, 0, sheet.description, self.note_fmt)
        for c in range(1, len(sheet.columns)):  # a clean title area, not column borders
            ws.write_blank(0, c, None, self.plain_fmt)
            ws.write_blank(1, c, None, self.plain_fmt)
        ws.set_row(0, 24)
        ws.set_row(header_row, 32)

        col_formats: list[Format] = []
        for c, col in enumerate(sheet.columns):
            # A fresh Format object per column, so XlsxWriter never folds two
            # neighbouring columns into one <col min max> range.
            col_fmt = self.wb.add_format(self.column_props(sheet, col))
            ws.set_column(c, c, col.width, col_fmt)
            col_formats.append(col_fmt)

        columns = []
        for col in sheet.columns:
            computed = sheet.computed or col.computed
            columns.append({"header": col.header, "header_format": self.header_fmt(computed)})
        ws.add_table(
            header_row,
            0,
            last_row,
            last_col,
            {
                "name": sheet.table,
                "style": COMPUTED_TABLE_STYLE if sheet.computed else TABLE_STYLE,
                "header_row": True,
                "autofilter": True,
                "banded_rows": True,
                "columns": columns,
            },
        )
        for c, col in enumerate(sheet.columns):
            self.header_note(ws, sheet, c, col)

        for r, row in enumerate(data):
            for c, value in enumerate(row):
                col = sheet.columns[c]
                self.write_cell(ws, sheet, header_row + 1 + r, c, col, value, col_formats[c])
            height = schema.row_height(sheet, row)
            if height is not None:  # wrapped text (Settings' Meaning): readers do not autofit
                ws.set_row(header_row + 1 + r, height)

        if not sheet.computed:
            for c, col in enumerate(sheet.columns):
                if not col.computed:
                    self.validate_column(ws, c, col)
        self.conditional_formats(ws, sheet, last_row)

        if sheet is schema.DUE_LIST:
            self.filter_counts(ws)
        ws.freeze_panes(schema.HEADER_ROW, 1 if sheet is schema.CLIENTS else 0)
        ws.set_zoom(90)
        self.print_setup(ws, repeat_header=True)

    def filter_counts(self, ws: Worksheet) -> None:
        """Counts over the rows a filter leaves visible, beside the Due List title: filter by
        Case Manager and they become that worker's counts (SUBTOTAL skips hidden rows)."""
        label = self.fmt(bold=True, align="right", valign="vcenter", font_color=NOTE_FONT)
        number = self.fmt(bold=True, align="left", valign="vcenter", num_format="0")
        for c, (text, formula) in enumerate(due_list_count_formulas()):
            ws.write_string(0, FILTER_COUNT_COLUMN + 2 * c, text, label)
            ws.write_formula(0, FILTER_COUNT_COLUMN + 2 * c + 1, formula, number, 0)

    def header_fmt(self, computed: bool) -> Format:
        return self.fmt(
            bold=True,
            text_wrap=True,
            valign="vcenter",
            bg_color=COMPUTED_HEADER_FILL if computed else HEADER_FILL,
            font_color=COMPUTED_HEADER_FONT if computed else HEADER_FONT,
            border=1,
            border_color="#FFFFFF",
        )

    def header_note(self, ws: Worksheet, sheet: schema.Sheet, c: int, col: schema.Column) -> None:
        """Header comment: "(computed)" for computed columns, and help not shown elsewhere."""
        parts = []
        if sheet is schema.LETTERS:
            parts.append("(computed) Written by pyxl letters when letters are printed.")
        elif sheet.computed or col.computed:
            parts.append("(computed) Filled in by Refresh (pyxl recompute). Do not type here.")
        if col.help and (sheet.computed or col.computed or not self.has_validation(col)):
            parts.append(col.help)
        if parts:
            ws.write_comment(
                schema.HEADER_ROW - 1,
                c,
                "\n".join(parts),
                {"author": "pyxl", "x_scale": 1.6, "y_scale": 0.9},
            )

    def write_cell(
        self,
        ws: Worksheet,
        sheet: schema.Sheet,
        row: int,
        c: int,
        col: schema.Column,
        value: Value,
        col_fmt: Format,
    ) -> None:
        try:
            value = cell_value(value)  # numpy scalars, Decimal: as every pyxl writer does
        except CellValueError as exc:
            raise CellValueError(f"{sheet.name}!{xl_rowcol_to_cell(row, c)}: {exc}") from None
        if value is None:
            return  # blank; the <col> style keeps the look
        if isinstance(value, bool):
            value = "Yes" if value else "No"
        if isinstance(value, dt.datetime | dt.date) and not EXCEL_DATES[0] <= _day(value):
            value = value.isoformat()  # before 1900: no Excel date; shown as typed text
        if isinstance(value, str):
            text = clean_text(value)
            if len(text) > EXCEL_MAX_CHARS:
                raise ValueError(
                    f"{sheet.name}!{xl_rowcol_to_cell(row, c)}: {len(text)} characters; "
                    f"an Excel cell holds at most {EXCEL_MAX_CHARS}"
                )
            if needs_quote_prefix(text):
                props = self.column_props(sheet, col)
                ws.write_string(row, c, text, self.fmt(**props, quote_prefix=True))
            else:
                ws.write_string(row, c, text, col_fmt)
        elif isinstance(value, dt.datetime | dt.date):
            if col.kind == "date":
                ws.write_datetime(row, c, value, col_fmt)
            else:
                timed = isinstance(value, dt.datetime) and value.time() != dt.time()
                props = self.column_props(sheet, col)
                props["num_format"] = DATETIME_FORMAT if timed else DATE_FORMAT
                ws.write_datetime(row, c, value, self.fmt(**props))
        elif isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(
                    f"{sheet.name}!{xl_rowcol_to_cell(row, c)}: {value} is not a number"
                )
            ws.write_number(row, c, value, col_fmt)
        else:
            raise TypeError(
                f"{sheet.name}!{xl_rowcol_to_cell(row, c)}: cannot write {type(value).__name__}"
            )

    # -- dropdowns and validation ----------------------------------------------------

    @staticmethod
    def list_key(col: schema.Column) -> str | None:
        if col.kind in ("choice", "bool"):
            return col.choices or ("YesNo" if col.kind == "bool" else None)
        return None

    def has_validation(self, col: schema.Column) -> bool:
        bounded = col.kind in ("number", "int") and None not in (col.minimum, col.maximum)
        return (
            col.kind == "date" or bounded or self.list_key(col) is not None or bool(col.suggestions)
        )

    def validate_column(self, ws: Worksheet, c: int, col: schema.Column) -> None:
        first, last = schema.HEADER_ROW, VALIDATION_LAST_ROW - 1  # 0-based rows
        title = col.header[:32]
        key = self.list_key(col)
        if key is not None:
            if col.kind == "bool":
                message, error = "Choose Yes or No.", "Choose Yes or No from the list."
            elif key in schema.TABLE_LISTS:
                source_sheet, _ = schema.TABLE_LISTS[key]
                message = f"Choose from the list. It comes from the {source_sheet} sheet."
                error = (
                    f"Choose a value from the list. A new one must be added "
                    f"to the {source_sheet} sheet first."
                )
            else:
                message = "Choose from the list."
                error = "Choose a value from the list; other values are not accepted."
            ws.data_validation(
                first,
                c,
                last,
                c,
                {
                    "validate": "list",
                    "source": f"={list_name(key)}",
                    "input_title": title,
                    "input_message": _join(col.help, message)[:255],
                    "error_title": "Not on the list",
                    "error_message": error[:255],
                },
            )
        elif col.suggestions:
            ws.data_validation(
                first,
                c,
                last,
                c,
                {
                    "validate": "list",
                    "source": f"={list_name(col.suggestions)}",
                    "input_title": title,
                    "input_message": _join(col.help, "Choose from the list or type your own.")[
                        :255
                    ],
                    "error_type": "information",
                    "error_title": "Not on the list",
                    "error_message": "This value is not on the list. Keep it if it is meant.",
                },
            )
        elif col.kind in ("number", "int") and None not in (col.minimum, col.maximum):
            whole = col.kind == "int"
            least, most = f"{col.minimum:g}", f"{col.maximum:g}"
            ws.data_validation(
                first,
                c,
                last,
                c,
                {
                    "validate": "integer" if whole else "decimal",
                    "criteria": "between",
                    "minimum": col.minimum,
                    "maximum": col.maximum,
                    "input_title": title,
                    "input_message": _join(
                        col.help, f"A {'whole ' if whole else ''}number from {least} to {most}."
                    )[:255],
                    "error_title": "Not possible",
                    "error_message": (
                        f"{col.header} is a {'whole ' if whole else ''}number "
                        f"from {least} to {most}."
                    ),
                },
            )
        elif col.kind == "date":
            ws.data_validation(
                first,
                c,
                last,
                c,
                {
                    "validate": "date",
                    "criteria": "between",
                    "minimum": dt.date(col.earliest_year, 1, 1),
                    "maximum": DATE_MAX,
                    "input_title": title,
                    "input_message": _join(
                        col.help, "Type the date as year-month-day, e.g. 2025-03-14."
                    )[:255],
                    "error_title": "Not a date",
                    "error_message": (
                        "Type a date as year-month-day (for example 2025-03-14), "
                        f"between {dt.date(col.earliest_year, 1, 1).isoformat()} "
                        f"and {DATE_MAX.isoformat()}."
                    ),
                },
            )

    def write_lists(self, ws: Worksheet) -> None:
        """Hidden Lists sheet: one column per dropdown list, each a defined name."""
        ws.write_string(0, 0, "Lists", self.title_fmt)
        ws.write_string(
            1,
            0,
            "Dropdown values used by the other sheets. Hidden; change with care.",
            self.note_fmt,
        )
        header = self.header_fmt(False)
        text = self.fmt(num_format=TEXT_FORMAT)
        first = schema.HEADER_ROW  # 0-based first value row
        for c, (key, values) in enumerate(schema.LISTS.items()):
            width = max([len(key), *(len(v) for v in values)]) + 2
            ws.set_column(c, c, min(width, 40), self.wb.add_format({"num_format": TEXT_FORMAT}))
            ws.write_string(schema.HEADER_ROW - 1, c, key, header)
            for r, value in enumerate(values):
                ws.write_string(first + r, c, clean_text(value), text)
            end = first + max(len(values), 1) - 1
            col = xl_col_to_name(c)
            self.wb.define_name(
                list_name(key), f"='{schema.LISTS_SHEET}'!${col}${first + 1}:${col}${end + 1}"
            )
        for key, (sheet_name, header_name) in schema.TABLE_LISTS.items():
            col = xl_col_to_name(schema.SHEETS[sheet_name].headers.index(header_name))
            self.wb.define_name(
                list_name(key),
                f"='{sheet_name}'!${col}${FIRST_DATA_ROW}:${col}${TABLE_LIST_LAST_ROW}",
            )
        ws.hide()

    # -- conditional formats -------------------------------------------------------------

    def conditional_formats(self, ws: Worksheet, sheet: schema.Sheet, last_row: int) -> None:
        first = schema.HEADER_ROW  # 0-based
        top = FIRST_DATA_ROW  # 1-based, for relative formulas
        red = self.wb.add_format({"bg_color": RED_FILL, "font_color": RED_FONT})
        amber = self.wb.add_format({"bg_color": AMBER_FILL, "font_color": AMBER_FONT})
        last_col = len(sheet.columns) - 1

        def ref(header: str) -> tuple[int, str]:
            c = sheet.headers.index(header)
            return c, f"${xl_col_to_name(c)}{top}"

        if sheet is schema.DUE_LIST:
            _, status = ref("Status")
            green = self.wb.add_format({"font_color": GREEN_FONT})
            for word, fmt in (("OVERDUE", red), ("DUE SOON", amber), ("MET", green)):
                ws.conditional_format(
                    first,
                    0,
                    last_row,
                    last_col,
                    {"type": "formula", "criteria": f'={status}="{word}"', "format": fmt},
                )
        elif sheet is schema.CLIENTS:
            c, _ = ref("Overdue Count")
            ws.conditional_format(
                first, c, last_row, c, {"type": "cell", "criteria": ">", "value": 0, "format": red}
            )
            c, due = ref("Next Due Date")
            ws.conditional_format(
                first,
                c,
                last_row,
                c,
                {
                    "type": "formula",
                    "criteria": f"=AND(ISNUMBER({due}),{due}<TODAY())",
                    "format": red,
                    "stop_if_true": True,
                },
            )
            ws.conditional_format(
                first,
                c,
                last_row,
                c,
                {
                    "type": "formula",
                    "criteria": f"=AND(ISNUMBER({due}),{due}-TODAY()<=5)",
                    "format": amber,
                },
            )
        elif sheet is schema.ERRORS:
            _, severity = ref("Severity")
            light_red = self.wb.add_format({"bg_color": ERROR_FILL})
            ws.conditional_format(
                first,
                0,
                last_row,
                last_col,
                {"type": "formula", "criteria": f'={severity}="error"', "format": light_red},
            )

    # -- the guide -------------------------------------------------------------------------

    def write_guide(self, ws: Worksheet) -> None:
        ws.set_tab_color(TAB_COLOURS["guide"])
        ws.hide_gridlines(2)
        ws.set_zoom(110)
        ws.set_column(0, 0, 2)
        ws.set_column(1, 1, 26)
        ws.set_column(2, 2, 96)
        title = self.fmt(bold=True, font_size=20, font_color=TITLE_FONT)
        intro = self.fmt(font_size=12)
        heading = self.fmt(bold=True, font_size=14, font_color=TITLE_FONT, bottom=1)
        heading_line = self.fmt(bottom=1)
        term = self.fmt(bold=True, text_wrap=True, valign="top")
        link = self.fmt(bold=True, font_color="#0563C1", underline=1, valign="top")
        body = self.fmt(text_wrap=True, valign="top")
        status_look = {  # the same colours as the Due List rows, next to the words
            "OVERDUE": {"bg_color": RED_FILL, "font_color": RED_FONT},
            "DUE SOON": {"bg_color": AMBER_FILL, "font_color": AMBER_FONT},
            "MET": {"font_color": GREEN_FONT},
        }

        ws.write_string(0, 0, "How to use this workbook", title)
        ws.set_row(0, 30)
        for row, line in enumerate(GUIDE_INTRO, start=1):
            ws.write_string(row, 0, line, intro)
        row = len(GUIDE_INTRO) + 2
        for section, entries in guide_sections():
            ws.set_row(row, 22)
            ws.write_string(row, 0, section, heading)
            ws.write_blank(row, 1, None, heading_line)
            ws.write_blank(row, 2, None, heading_line)
            ws.set_row(row + 1, 5)  # a little space under the heading's line
            row += 2
            for name, text in entries:
                if name in SHEET_ORDER and name not in (schema.LISTS_SHEET, schema.HOW_TO_SHEET):
                    ws.write_url(row, 1, f"internal:'{name}'!A1", link, name, f"Go to {name}")
                elif name in status_look:
                    look = self.fmt(**status_look[name], bold=True, valign="top")
                    ws.write_string(row, 1, name, look)
                else:
                    ws.write_string(row, 1, name, term)
                ws.write_string(row, 2, text, body)
                ws.set_row(row, schema.text_height(text, 96))
                row += 1
            row += 1
        ws.set_portrait()
        ws.set_paper(1)
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
        ws.set_header('&L&"-,Bold"&A&R' + WORKBOOK_TITLE)
        ws.set_footer("&RPage &P of &N")


def _join(*parts: str) -> str:
    return " ".join(p.strip().rstrip(".") + "." for p in parts if p.strip())


# -- words on the "How to use" sheet ----------------------------------------------------

GUIDE_INTRO = (  # short lines, so each fits on one row without wrapping
    "This is the office's shared caseload. You type what happened: clients, contacts, "
    "appointments, hours, services and plans.",
    "Refresh works out what is due, by when and why, and lists it on the Due List. "
    "Read this page once: it takes five minutes.",
)

S = schema


def guide_sections() -> list[tuple[str, list[tuple[str, str]]]]:
    computed_cols = ", ".join(c.header for c in S.CLIENTS.columns if c.computed)
    return [
        (
            "In short",
            [
                (
                    "Type on the white sheets",
                    f"{S.CLIENTS.name}, {S.CONTACTS.name}, {S.APPOINTMENTS.name}, {S.HOURS.name}, "
                    f"{S.SERVICES.name}, {S.PLANS.name}, {S.NONCOMPLIANCE.name} and "
                    f"{S.PENALTIES.name} are yours to fill in. Each sheet is one "
                    "table: type in the first empty row under it and the table grows by itself.",
                ),
                (
                    "Refresh",
                    "Refresh reads every sheet, applies the office rules and fills in the "
                    f"{S.DUE_LIST.name}, the {S.SUPERVISOR.name} and {S.ERRORS.name} sheets and "
                    f"the grey columns on {S.CLIENTS.name} ({computed_cols}). Refresh at the "
                    "start of the day and after a batch of entries. It never changes what you "
                    "typed. The line under the Due List title says as of which day it was "
                    "computed, when and by whom.",
                ),
                (
                    "How to Refresh",
                    "Use the first way your office has set up. 1. The pyxl add-in: the Refresh "
                    "button on the pyxl tab of the ribbon or in its task pane. 2. Desktop "
                    "macros: the Refresh button the office added (see macros/README.md). "
                    "3. Without either: "
                    "save and close the workbook, run  pyxl recompute caseload.xlsx  in a "
                    "command window in its folder, and open it again. workbook/README.md "
                    "explains each.",
                ),
                (
                    "Examples",
                    "A new workbook has rows marked (example) on Branches, Staff and Clients to "
                    "show how each sheet is filled in. Replace the branches and staff with your "
                    "own and delete the example clients.",
                ),
                (
                    "Grey means computed",
                    "Grey headers and grey cells are written by Refresh. Do not type there: the "
                    "next Refresh replaces them. Hover over a grey header to see its note.",
                ),
                (
                    "Work from the Due List",
                    f"The {S.DUE_LIST.name} shows every open obligation, most urgent first. Filter "
                    "it by Case Manager or Branch with the arrow in the header.",
                ),
            ],
        ),
        (
            "The sheets",
            [
                (
                    S.DUE_LIST.name,
                    "Everything open, most urgent first: which case, which rule, the trigger and "
                    "due dates, the status, and in Explanation what would satisfy the rule. "
                    "Filled in by Refresh.",
                ),
                (
                    S.SUPERVISOR.name,
                    "For supervisors: per case manager, their clients and how many items are "
                    "open, overdue and due soon, with links to the worker's most urgent Due List "
                    "row and first client. Filled in by Refresh.",
                ),
                (
                    S.CLIENTS.name,
                    "One row per case. Case ID is the key every other sheet uses: keep it exactly "
                    "as in the state system (leading zeros are kept). The grey columns on the "
                    "right show the next due date, the rule behind it, how many items are "
                    "overdue, the case's Flow State in its non-compliance flow and the Next "
                    "Action in words.",
                ),
                (
                    S.CONTACTS.name,
                    "Every contact and every attempt, successful or not. Successful = Yes only "
                    "for a two-way contact. Letters and postcards count as written attempts.",
                ),
                (
                    S.APPOINTMENTS.name,
                    "Scheduled appointments and what happened (Kept, No-show, ...). For a no-show, "
                    "fill in Called Ahead.",
                ),
                (
                    S.HOURS.name,
                    "Actual participation hours, one row per activity per week. Week Start is the "
                    "Monday. Scheduled hours do not count.",
                ),
                (
                    S.SERVICES.name,
                    "Assessments, services and milestones: EA, COA, ISS, planned gaps (with a "
                    "reason), exit summary, follow-up.",
                ),
                (
                    S.PLANS.name,
                    "One row per plan version, with its signed, mailed, due-back, review and "
                    "expiry dates.",
                ),
                (
                    S.NONCOMPLIANCE.name,
                    "Non-compliance events and decisions, dated: missed activity, hours short, "
                    "no response, good cause yes or no (and who decided), re-engagement, "
                    "cooperation trial, exemption. Letters and attempts go on Contacts; the flow "
                    "reads them from there. Rows imported from another branch keep their branch.",
                ),
                (
                    S.PENALTIES.name,
                    "Each sanction, penalty or disqualification: requested, imposed, intent to "
                    "comply, compliance and end dates. It is the person's history across "
                    "branches: the next step or occurrence is counted from it. The grey columns "
                    "give the minimum end, the end effective date (Alaska) and what the rules "
                    "expect.",
                ),
                (
                    S.ERRORS.name,
                    "Problems Refresh found in the data, each with the sheet, row and cell to fix. "
                    "Severity error: must be fixed. Severity warning: check it. Filled in by "
                    "Refresh.",
                ),
                (
                    S.LETTERS.name,
                    "Every letter printed with pyxl letters: date, case, letter, why, reply-by "
                    "date and batch. Each letter is also a written attempt on Contacts.",
                ),
                (
                    S.BRANCHES.name,
                    "Each branch's state, holiday calendar and letterhead details. The Branch "
                    "dropdowns come from here.",
                ),
                (
                    S.STAFF.name,
                    "Case managers with their branch and supervisor. The Case Manager dropdown "
                    "comes from here: add a new colleague here first.",
                ),
                (
                    S.HOLIDAYS.name,
                    "Days each office is closed, by calendar. Business-day deadlines skip the "
                    "rows with Closed = Yes. Editable policy.",
                ),
                (
                    S.SETTINGS.name,
                    "The office's choices where the procedures are silent or unclear, such as the "
                    "warning window for DUE SOON. Change the Value column only; Default shows the "
                    "original value and Rule the rule it affects. Editable policy.",
                ),
            ],
        ),
        (
            "Typing data",
            [
                (
                    "Dates",
                    "Type dates as you are used to: 11/23/2026, Nov 23 2026 and 2026-11-23 all "
                    "work. A date that could mean two days, such as 03/04/2026, is read in the "
                    "Date order on Settings (month first unless the office changed it) and "
                    "listed on Errors so you can check it; year-month-day never can. Type the "
                    "year in full (2026, not 26). Dates must be between 2000 and 2100 (a Date "
                    "of Birth from 1900).",
                ),
                (
                    "Dropdowns",
                    "Program, Branch, Case Manager, Method, the Yes/No columns and others have a "
                    "dropdown: pick from it. Values that are not on the list are refused.",
                ),
                (
                    "Case ID",
                    "Type it exactly as on Clients, on every sheet. It is text, so 00123 stays "
                    "00123.",
                ),
                (
                    "Keep the shape",
                    "Do not rename sheets or column headers, merge cells, or leave empty rows in "
                    "the middle of a table: Refresh finds columns by their header names. Sorting "
                    "and filtering are always safe.",
                ),
                (
                    "Hints",
                    "Select a cell to see a short hint for its column. Headers with a small red "
                    "corner have a note: hover over them.",
                ),
                (
                    "Colour",
                    "Colour is only a help for the eye. pyxl never reads the colour of a cell, "
                    "and every colour it shows is also said in words (the Status column). If "
                    "something matters, write it in a column such as Notes.",
                ),
            ],
        ),
        (
            "Statuses on the Due List",
            [
                (
                    "OVERDUE",
                    "The due date has passed and the obligation is not met. Red row. Act today.",
                ),
                (
                    "DUE SOON",
                    "Not met yet and due within the next few days (the Due soon days setting "
                    "on Settings). Amber row.",
                ),
                ("DUE", "Open, with time left."),
                (
                    "MET",
                    "Done: the workbook holds the entry that satisfies the rule. Green text.",
                ),
                (
                    "N/A",
                    "The rule does not apply to this case now (for example another program, or "
                    "the case is closed).",
                ),
            ],
        ),
        (
            "If you are a case manager",
            [
                (
                    "Every morning",
                    "Refresh, then filter the Due List by your name in Case Manager. Work the "
                    "OVERDUE and DUE SOON rows first; Explanation says what would satisfy each "
                    "rule.",
                ),
                (
                    "During the day",
                    "Enter each contact, attempt, appointment, service and plan on the day it "
                    "happens. Refresh again and the row turns MET or drops off the list.",
                ),
                (
                    "Errors",
                    "Look at the Errors sheet for your cases: the Cell column says exactly where "
                    "to fix.",
                ),
            ],
        ),
        (
            "If you are a supervisor",
            [
                (
                    "Oversight",
                    "Filter the Due List by Branch or Case Manager to see who has OVERDUE items. "
                    "Clients shows the Overdue Count per case. Print a filtered Due List for a "
                    "case review: the Status column reads correctly in black and white.",
                ),
                (
                    "Staff and branches",
                    "Keep Staff and Branches up to date (new staff, moves between branches, "
                    "caseload transfers: also fill in CM Change Date on Clients).",
                ),
                (
                    "Policy",
                    "Settings and Holidays are office policy. Change them on purpose, tell the "
                    "team, and Refresh afterwards.",
                ),
            ],
        ),
        (
            "If you are a clerk",
            [
                (
                    "Data entry",
                    "Enter appointments, hours, returned plans and mailed letters from the paper "
                    "trail. A letter or postcard goes on Contacts with Method = Letter or "
                    "Postcard, on the day it was mailed.",
                ),
                (
                    "Holidays",
                    "Add next year's office closures to Holidays before the year starts.",
                ),
                (
                    "Errors",
                    "Work through the Errors sheet after each Refresh; most rows are a typo in a "
                    "date or a Case ID that is not on Clients.",
                ),
            ],
        ),
        (
            "Where the rules come from",
            [
                (
                    "Rule ids",
                    "Each Due List row names a rule, such as A-01. The letter is the program's "
                    "procedures: A = Alaska ATAP (DPA Work Services), O = Oregon JOBS, T = Texas "
                    "Choices and SNAP E&T, Y = Texas WIOA Youth. The number points at the rule in "
                    "the office procedures, so any due date can be checked against the source.",
                ),
                (
                    "Business days",
                    "Business-day deadlines skip weekends and the Holidays of the branch's "
                    "calendar (the Calendar column on Branches).",
                ),
            ],
        ),
        (
            "Privacy",
            [
                (
                    "Personal data",
                    "This workbook holds personal data about clients. Keep it on the office "
                    "share; do not e-mail it or copy it to a personal drive. Print only the pages "
                    "you need and collect them from the printer straight away.",
                ),
            ],
        ),
    ]
