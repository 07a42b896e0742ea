"""Write the supervisor report workbook with XlsxWriter.

Layout follows the caseload workbook (title in A1, description in A2, headers
in row 3, one Excel table per sheet, the Overview a second beside it, filter
buttons, frozen headers) so a supervisor finds the same things in the same
places. Tables with counts get a total row of SUBTOTAL formulas, which follow
the filters. The charts on the Overview point at the ranges of the other
sheets' tables. Every sheet prints
landscape, one page wide, with the header row repeated and rows tall enough for
their wrapped text.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from pathlib import Path
from typing import Any

from xlsxwriter.chart import Chart
from xlsxwriter.format import Format
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from pyxl.adapters.workbook_builder import (
    GRID,
    HEADER_FILL,
    HEADER_FONT,
    NOTE_FONT,
    TITLE_FONT,
    XlsxWriterBook,
    clean_text,
    needs_quote_prefix,
    write_beside,
)
from pyxl.adapters.workbook_patch import cell_value
from pyxl.domain.report_model import ChartSpec, Report, ReportColumn, ReportTable

HEADER_ROW = 2  # 0-based: headers in row 3, as on the caseload workbook
NUMBER_FORMATS = {
    "date": "yyyy-mm-dd",
    "int": "0",
    "number": "0.0#",
    "percent": "0.0%",
    "text": "@",
}
CHART_HEIGHT = 260  # pixels
LINE_HEIGHT = 15.0  # points, Calibri 11
TOTAL_LABEL = "Total (shown rows)"
SUBTOTAL_CODES = {"sum": 109, "count": 103}  # 100+: rows hidden by a filter are left out


def write_report(report: Report, path: Path) -> Path:
    """Write the report to `path` (next to it first, then moved into place)."""
    return write_beside(Path(path), lambda tmp: _Writer(tmp, report).write())


def table_range(table: ReportTable) -> tuple[int, int]:
    """0-based first and last data row of a table as written (one blank row when empty)."""
    first = HEADER_ROW + 1
    return first, first + max(len(table.rows), 1) - 1


def chart_ranges(report: Report, chart: ChartSpec) -> tuple[str, list[tuple[str, str]]]:
    """The categories range and, per series, (name cell, values range) as absolute refs."""
    table = report.tables[chart.sheet]
    headers = [c.header for c in table.columns]
    first, last = table_range(table)
    if chart.rows is not None:
        first, last = HEADER_ROW + 1 + chart.rows[0], HEADER_ROW + chart.rows[1]
    sheet = quote_sheetname(chart.sheet)

    def span(col: int) -> str:
        top = xl_rowcol_to_cell(first, col, row_abs=True, col_abs=True)
        bottom = xl_rowcol_to_cell(last, col, row_abs=True, col_abs=True)
        return f"={sheet}!{top}:{bottom}"

    categories = span(headers.index(chart.categories))
    series = []
    for name in (*chart.values, *chart.lines):
        c = headers.index(name)
        series.append(
            (f"={sheet}!{xl_rowcol_to_cell(HEADER_ROW, c, row_abs=True, col_abs=True)}", span(c))
        )
    return categories, series


class _Writer(XlsxWriterBook):
    def __init__(self, path: Path, report: Report) -> None:
        super().__init__(path)
        self.report = report

    def write(self) -> None:
        self.wb.set_properties(
            {
                "title": f"pyxl supervisor report {self.report.as_of.isoformat()}",
                "subject": self.report.scope,
                "comments": "Written by pyxl report. Figures as of the report date.",
            }
        )
        sheets = {}
        for name, table in self.report.tables.items():
            ws = self.wb.add_worksheet(name)
            self.write_table(ws, table)
            beside = self.report.beside.get(name)
            if beside is not None:
                self.write_table(ws, beside, first_col=len(table.columns) + 1)
            self.page_setup(ws, table, beside)
            sheets[name] = ws
        if self.report.charts:
            self.write_charts(sheets["Overview"])
        next(iter(sheets.values())).activate()
        self.wb.close()

    @staticmethod
    def column_props(column: ReportColumn) -> dict[str, Any]:
        props: dict[str, Any] = {
            "num_format": NUMBER_FORMATS[column.kind],
            "border": 1,
            "border_color": GRID,
            "valign": "top",
        }
        if column.wrap:
            props["text_wrap"] = True
        if column.kind in ("date", "int", "percent"):
            props["align"] = "center"
        return props

    def write_table(self, ws: Worksheet, table: ReportTable, first_col: int = 0) -> None:
        first, last = table_range(table)
        columns = table.columns
        if first_col == 0:
            ws.write_string(
                0, 0, table.title, self.fmt(bold=True, font_size=16, font_color=TITLE_FONT)
            )
            ws.write_string(1, 0, table.description, self.fmt(italic=True, font_color=NOTE_FONT))
            ws.set_row(0, 24)
        else:  # a table beside the first: its title on the description's row
            ws.write_string(1, first_col, table.title, self.fmt(bold=True, font_color=TITLE_FONT))
        props = [self.column_props(c) for c in columns]
        formats = [self.fmt(**p) for p in props]
        bold = [self.fmt(**p, bold=True) for p in props]
        for c, width in enumerate(column_widths(table)):
            # Borders only on the table's cells, not down the whole column (they would print).
            kind = NUMBER_FORMATS[columns[c].kind]
            ws.set_column(first_col + c, first_col + c, width, self.fmt(num_format=kind))
        header = self.fmt(
            bold=True,
            text_wrap=True,
            valign="vcenter",
            bg_color=HEADER_FILL,
            font_color=HEADER_FONT,
        )
        spec: list[dict[str, Any]] = []
        for c, column in enumerate(columns):
            entry: dict[str, Any] = {"header": column.header, "header_format": header}
            if table.has_totals:
                if column.total:
                    # Spelled out with the table name (XlsxWriter's short "[Column]" form
                    # comes back empty from LibreOffice), cached with the value of all rows.
                    code = SUBTOTAL_CODES[column.total]
                    entry["total_function"] = f"SUBTOTAL({code},{table.table}[{column.header}])"
                    entry["total_value"] = _total(table.column(column.header), column.total)
                    entry["format"] = formats[c]
                elif c == 0:
                    entry["total_string"] = TOTAL_LABEL
            spec.append(entry)
        ws.add_table(
            HEADER_ROW,
            first_col,
            last + (1 if table.has_totals else 0),
            first_col + len(columns) - 1,
            {
                "name": table.table,
                "style": "Table Style Medium 2",
                "autofilter": True,
                "banded_rows": True,
                "total_row": table.has_totals,
                "columns": spec,
            },
        )
        quoted = [self.fmt(**p, quote_prefix=True) for p in props]
        for r, row in enumerate(table.rows):
            shown = bold if r in table.bold_rows else formats
            for c, value in enumerate(row):
                self.write_cell(ws, first + r, first_col + c, value, shown[c], quoted[c])
        if table.table == "Overview":
            self.overview_values(ws, table, props[1])

    def page_setup(self, ws: Worksheet, table: ReportTable, beside: ReportTable | None) -> None:
        """Heights that fit the wrapped text, then: landscape, one page wide, header rows
        repeated on each page, frozen headers."""
        tables = [t for t in (table, beside) if t is not None]
        header_lines = max(
            _lines(c.header, w)
            for t in tables
            for c, w in zip(t.columns, column_widths(t), strict=True)
        )
        ws.set_row(HEADER_ROW, max(2, header_lines) * LINE_HEIGHT + 2)
        for r, height in row_heights(tables).items():
            ws.set_row(HEADER_ROW + 1 + r, height)
        ws.freeze_panes(HEADER_ROW + 1, 0)
        ws.set_zoom(90)
        ws.set_paper(1)  # US Letter
        ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.7)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(HEADER_ROW)
        as_of = self.report.as_of.isoformat()
        ws.set_header(f'&L&"-,Bold"&A&Rpyxl supervisor report {as_of}')
        ws.set_footer("&L" + self.report.scope.replace("&", "&&")[:200] + "&RPage &P of &N")

    @staticmethod
    def write_cell(ws: Worksheet, r: int, c: int, value: object, f: Format, quoted: Format) -> None:
        value = cell_value(value)  # numpy scalars, Decimal; NaN refused
        if value is None or value == "":
            ws.write_blank(r, c, None, f)
        elif isinstance(value, bool):
            ws.write_string(r, c, "Yes" if value else "No", f)
        elif isinstance(value, dt.date):
            ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), f)
        elif isinstance(value, int | float):
            ws.write_number(r, c, value, f)
        else:
            text = clean_text(str(value))[:32_767]
            # Client text never becomes a formula: a leading = + - @ is shown as typed.
            ws.write_string(r, c, text, quoted if needs_quote_prefix(text) else f)

    def overview_values(self, ws: Worksheet, table: ReportTable, base: dict[str, Any]) -> None:
        """The Overview's Value column mixes a date, counts and rates: one format each."""
        for r, row in enumerate(table.rows):
            value = row[1]
            if isinstance(value, dt.date):
                shown = NUMBER_FORMATS["date"]
            elif isinstance(value, float):
                shown = NUMBER_FORMATS["percent"]
            elif isinstance(value, int):
                shown = "#,##0"
            else:
                continue
            f = self.fmt(**{**base, "num_format": shown, "align": "right"})
            self.write_cell(ws, HEADER_ROW + 1 + r, 1, value, f, f)

    def write_charts(self, ws: Worksheet) -> None:
        """The charts one under the other below the key figures (the table beside them
        runs down on the right): the first, participation against its targets, on page one."""
        overview = self.report.tables["Overview"]
        row = HEADER_ROW + len(overview.rows) + 3  # below the table and its blank row
        width = sum(column_widths(overview)) * 7 + 5  # pixels, about 7 per character
        breaks = []
        for k, chart in enumerate(self.report.charts):
            c, height = self.chart(chart, width)
            if k:  # each further chart starts a page: none is cut in two
                breaks.append(row)
            ws.insert_chart(row, 0, c, {"x_offset": 2, "y_offset": 5})
            row += math.ceil((height + 15) / 20)  # default rows are 20 pixels
        ws.set_h_pagebreaks(breaks)

    def chart(self, chart: ChartSpec, width: int) -> tuple[Chart, int]:
        categories, series = chart_ranges(self.report, chart)
        c = self.wb.add_chart({"type": chart.kind})
        one = len(series) == 1 and chart.kind == "column"
        for name, values in series[: len(chart.values)]:
            line: dict[str, Any] = {"name": name, "categories": categories, "values": values}
            if one:  # a single series of counts reads best with its numbers on the bars
                line["data_labels"] = {"value": True}
            if chart.kind == "line":  # a single month still shows as a point
                line["marker"] = {"type": "circle", "size": 6}
            c.add_series(line)
        if chart.lines:  # targets: dashed lines over the columns
            targets = self.wb.add_chart({"type": "line"})
            for (name, values), dash in zip(
                series[len(chart.values) :], ("dash", "round_dot"), strict=False
            ):
                targets.add_series(
                    {"name": name, "categories": categories, "values": values,
                     "line": {"width": 2.25, "dash_type": dash, "color": "#C00000"},
                     "marker": {"type": "none"}}
                )  # fmt: skip
            c.combine(targets)
        c.set_title({"name": chart.title, "name_font": {"size": 12}})
        c.set_legend({"position": "bottom" if len(series) > 1 else "none"})
        if chart.percent:
            c.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
        # Every category labelled (an axis left to itself skips every other one).
        axis: dict[str, Any] = {"interval_unit": 1, "num_font": {"size": 9}}
        if chart.kind == "bar":  # XlsxWriter: a bar chart's categories are its y axis
            c.set_y_axis({**axis, "reverse": True})  # top-down, in table order
        else:
            c.set_x_axis(axis)
        n = _category_count(self.report, chart)
        height = max(CHART_HEIGHT, 60 + 18 * n) if chart.kind == "bar" else CHART_HEIGHT
        c.set_size({"width": width, "height": height})
        return c, height


def column_widths(table: ReportTable) -> list[float]:
    """Each column's width: wide enough for each word of its header (headers wrap between
    words), the first also for the total row's label."""
    widths = [max(c.width, max(map(len, c.header.split())) + 2) for c in table.columns]
    if table.has_totals and widths:
        widths[0] = max(widths[0], len(TOTAL_LABEL) + 2)
    return widths


def row_heights(tables: list[ReportTable]) -> dict[int, float]:
    """Per 0-based data row (of tables that share the rows): the height its wrapped text
    needs, where that is more than one line. Neither Excel nor LibreOffice autofit rows
    on open, so text would run over the next row."""
    out: dict[int, float] = {}
    for table in tables:
        widths = column_widths(table)
        wrapped = [(c, widths[c]) for c, col in enumerate(table.columns) if col.wrap]
        if not wrapped:
            continue
        for r, row in enumerate(table.rows):
            lines = max(
                (_lines(row[c], w) for c, w in wrapped if isinstance(row[c], str) and row[c]),
                default=1,
            )
            if lines > 1:
                out[r] = max(out.get(r, 0), min(409.0, lines * LINE_HEIGHT + 3))
    return out


def _lines(text: str, width: float) -> int:
    """Lines a text wraps to in a column `width` characters wide (Calibri 11 prose: about
    1.15 characters per width unit, as for the caseload workbook's wrapped columns)."""
    per_line = max(1, int(width * 1.15))
    return sum(max(1, len(textwrap.wrap(p, per_line))) for p in text.split("\n"))


def _category_count(report: Report, chart: ChartSpec) -> int:
    if chart.rows is not None:
        return chart.rows[1] - chart.rows[0]
    return max(1, len(report.tables[chart.sheet].rows))


def _total(values: list[object], kind: str) -> float:
    if kind == "count":
        return sum(v not in (None, "") for v in values)
    return sum(v for v in values if isinstance(v, int | float))
