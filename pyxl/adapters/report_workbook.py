"""Write the supervisor report workbook with XlsxWriter.

Layout follows the caseload workbook (title in A1, description in A2, headers
in row 3, one Excel table per sheet, filter buttons, frozen headers) so a
supervisor finds the same things in the same places. Tables with counts get a
total row of SUBTOTAL formulas, which follow the filters. The charts on the
Overview point at the ranges of the other sheets' tables. Every sheet prints
landscape, one page wide, with the header row repeated.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

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
from pyxl.services.report import ChartSpec, Report, ReportColumn, ReportTable

HEADER_ROW = 2  # 0-based: headers in row 3, as on the caseload workbook
NUMBER_FORMATS = {
    "date": "yyyy-mm-dd",
    "int": "0",
    "number": "0.0#",
    "percent": "0.0%",
    "text": "@",
}
CHART_WIDTH, CHART_HEIGHT = 560, 300  # pixels
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
    for name in chart.values:
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
            sheets[name] = ws
        self.write_charts(sheets["Overview"])
        sheets["Overview"].activate()
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

    def write_table(self, ws: Worksheet, table: ReportTable) -> None:
        first, last = table_range(table)
        columns = table.columns
        ws.write_string(0, 0, table.title, self.fmt(bold=True, font_size=16, font_color=TITLE_FONT))
        ws.write_string(1, 0, table.description, self.fmt(italic=True, font_color=NOTE_FONT))
        ws.set_row(0, 24)
        ws.set_row(HEADER_ROW, 32)
        props = [self.column_props(c) for c in columns]
        formats = [self.fmt(**p) for p in props]
        for c, column in enumerate(columns):
            # Borders only on the table's cells, not down the whole column (they would print).
            ws.set_column(c, c, column.width, self.fmt(num_format=NUMBER_FORMATS[column.kind]))
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
                    entry["total_string"] = "Total (shown rows)"
            spec.append(entry)
        ws.add_table(
            HEADER_ROW,
            0,
            last + (1 if table.has_totals else 0),
            len(columns) - 1,
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
            for c, value in enumerate(row):
                self.write_cell(ws, first + r, c, value, formats[c], quoted[c])
        if table.sheet == "Overview":
            self.overview_values(ws, table, props[1])
        ws.freeze_panes(HEADER_ROW + 1, 0)
        ws.set_zoom(90)
        ws.set_paper(1)  # US Letter
        ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.7)
        if table.sheet == "Overview":  # figures and charts on one portrait page
            ws.set_portrait()
            ws.fit_to_pages(1, 1)
        else:
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
        top = HEADER_ROW + len(self.report.tables["Overview"].rows) + 3  # below the table
        for k, chart in enumerate(self.report.charts):
            categories, series = chart_ranges(self.report, chart)
            options: dict[str, Any] = {"type": chart.kind}
            c = self.wb.add_chart(options)
            for name, values in series:
                line: dict[str, Any] = {
                    "name": name,
                    "categories": categories,
                    "values": values,
                    "data_labels": {"value": len(series) == 1 and chart.kind == "column"},
                }
                if chart.kind == "line":  # a single month still shows as a point
                    line["marker"] = {"type": "circle", "size": 6}
                c.add_series(line)
            c.set_title({"name": chart.title, "name_font": {"size": 12}})
            c.set_legend({"position": "bottom" if len(series) > 1 else "none"})
            if chart.percent:
                c.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
            if chart.kind == "bar":
                c.set_y_axis({"reverse": True})  # categories top-down, in table order
            c.set_size({"width": CHART_WIDTH, "height": CHART_HEIGHT})
            ws.insert_chart(top + (k // 2) * 16, (k % 2) * 4, c, {"x_offset": 5, "y_offset": 5})


def _total(values: list[object], kind: str) -> float:
    if kind == "count":
        return sum(v not in (None, "") for v in values)
    return sum(v for v in values if isinstance(v, int | float))
