"""Excel functions: one vectorised PYXL.WORKDAY call for a column against one call per cell.

Both go through xlwings Server's HTTP interface (FastAPI TestClient, the JSON body
Office.js posts, authentication included), so the per-call cost Excel pays for a
formula copied down a column is in the baseline. Both must give the same dates.
"""

from __future__ import annotations

import datetime as dt
import random

from bench_common import Result, fmt_s, median, repeat, say, timed

from pyxl.excel.server import app, configure  # before xlwings: it sets the license key


def _body(name: str, *args: object) -> dict:
    from pyxl.excel.udfs import call_body

    return call_body(name, list(args), caller="Due!A1")


def run(n_rows: int, repeats: int) -> Result:
    from fastapi.testclient import TestClient

    res = Result("excel_functions")
    say(f"== Excel functions: PYXL.WORKDAY for {n_rows:,} rows, one call vs {n_rows:,} calls")
    code = configure("bench-code")
    client = TestClient(app())
    headers = {"Authorization": code, "Auth-Provider": "pyxl"}
    rng = random.Random(6)
    first = dt.date(2021, 1, 1).toordinal() - dt.date(1899, 12, 30).toordinal()
    starts = [float(rng.randint(first, first + 5 * 365)) for _ in range(n_rows)]
    days = [rng.choice((1, 5, 10, 30, -5)) for _ in range(n_rows)]

    def call(body: dict) -> list:
        response = client.post("/xlwings/custom-functions-call", json=body, headers=headers)
        response.raise_for_status()
        return response.json()["result"]

    column = _body("workday", [[s] for s in starts], [[d] for d in days], [["TX"]])
    call(column)  # warm-up: builds the calendar once, as Excel's first recalculation does
    runs, _, spilled = repeat(lambda: call(column), repeats * 2 + 1)
    vector_s = median(runs)

    def one_by_one() -> list:
        return [
            call(_body("workday", [[s]], [[d]], [["TX"]]))[0]
            for s, d in zip(starts, days, strict=True)
        ]

    cells_s, _, by_cell = timed(one_by_one)
    same = [r[0]["basicValue"] for r in spilled] == [r[0]["basicValue"] for r in by_cell]
    res.check(f"one call == {n_rows:,} single-cell calls on every date", same)
    ratio = cells_s / vector_s
    say(f"  one vectorised call: {fmt_s(vector_s)} ({n_rows / vector_s:,.0f} rows/s)")
    say(
        f"  {n_rows:,} single-cell calls: {fmt_s(cells_s)} "
        f"({cells_s / n_rows * 1000:.2f} ms per call)"
    )
    say(f"  ratio: the vectorised call is {ratio:,.0f}x faster")
    res.row(f"PYXL.WORKDAY, {n_rows:,} rows, one call", fmt_s(vector_s), f"{ratio:,.0f}x")
    res.row(f"PYXL.WORKDAY, {n_rows:,} single-cell calls", fmt_s(cells_s), "(naive)")
    res.data.update(
        rows=n_rows,
        vectorised_s=vector_s,
        single_cell_total_s=cells_s,
        single_cell_ms_per_call=cells_s / n_rows * 1000,
        ratio=ratio,
    )
    return res
