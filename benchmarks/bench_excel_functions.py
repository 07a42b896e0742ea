"""Excel inside Office's limits: the buttons and PYXL functions through the add-in's HTTP interface.

Everything goes through xlwings Server's HTTP interface (FastAPI TestClient, the
bodies Office.js and pyxl.js post, authentication included):

- PYXL.WORKDAY for a column: one vectorised call against one call per cell.
- The buttons at branch sizes, pressed as the task pane presses them (the declared
  sheets uploaded in pieces under the request limit, a lazy book, writes in pages),
  against the whole book in one request (xlwings' default request shape): largest
  request, server wall and CPU, and the same Due List from both.
- PYXL.STATUS over Clients[Case ID] with the tables: the first call, and a
  recalculation with the tables unchanged (answered from the evaluation cache).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gc
import json
import random
import sys
import tempfile
from pathlib import Path

from bench_common import REPO, Result, Target, fmt_s, median, repeat, say, timed

from pyxl.excel.server import app, configure  # before xlwings: it sets the license key

TARGETS = {  # (button, clients): seconds of server wall time
    ("Refresh all", 5_000): 1.5,
    ("Refresh selected", 5_000): 0.3,
    ("Log contact", 5_000): 0.3,
    ("PYXL.STATUS column", 5_000): 1.0,
    ("Refresh all", 20_000): 5.0,
}
OFFICE_LIMIT = 5_000_000
SINGLE_CALL_SAMPLE = 1_000  # single-cell calls timed; the naive total is per call x rows


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

    sample = min(n_rows, SINGLE_CALL_SAMPLE)

    def one_by_one() -> list:
        return [
            call(_body("workday", [[s]], [[d]], [["TX"]]))[0]
            for s, d in zip(starts[:sample], days[:sample], strict=True)
        ]

    sample_s, _, by_cell = timed(one_by_one)
    cells_s = sample_s / sample * n_rows  # every row one call: the sample's cost per call
    same = [r[0]["basicValue"] for r in spilled[:sample]] == [r[0]["basicValue"] for r in by_cell]
    res.check(f"one call == single-cell calls on every date of the {sample:,} sampled", same)
    ratio = cells_s / vector_s
    say(f"  one vectorised call: {fmt_s(vector_s)} ({n_rows / vector_s:,.0f} rows/s)")
    say(
        f"  {n_rows:,} single-cell calls: {fmt_s(cells_s)} "
        f"({cells_s / n_rows * 1000:.2f} ms per call, from {sample:,} calls)"
    )
    say(f"  ratio: the vectorised call is {ratio:,.0f}x faster")
    res.row(f"PYXL.WORKDAY, {n_rows:,} rows, one call", fmt_s(vector_s), f"{ratio:,.0f}x")
    res.row(
        f"PYXL.WORKDAY, {n_rows:,} single-cell calls ({sample:,} timed)", fmt_s(cells_s), "(naive)"
    )
    res.data.update(
        rows=n_rows,
        vectorised_s=vector_s,
        single_cell_total_s=cells_s,
        single_cell_ms_per_call=cells_s / n_rows * 1000,
        ratio=ratio,
    )
    return res


# ---------------------------------------------------------------- buttons at branch sizes


def _officejs():
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.integration import officejs

    return officejs


def run_buttons(sizes: tuple[int, ...], repeats: int, res: Result) -> None:
    from fastapi.testclient import TestClient

    from pyxl.excel import uploads
    from pyxl.excel.buttons import BUTTONS
    from pyxl.services import demo_data
    from pyxl.services.new_workbook import create_workbook

    ojs = _officejs()
    code = configure("bench-code")
    client = TestClient(app())
    headers = {"Authorization": code, "Auth-Provider": "pyxl", "Content-Type": "application/json"}
    as_of = dt.date(2026, 11, 23)
    form = ("2026-11-20", "Phone", "Yes", "Yes", "", "", "")
    presses = {
        "Refresh all": ("pyxl-refresh-all", (), range(0)),
        "Refresh selected": ("pyxl-refresh-selected", (), range(10, 13)),
        "Log contact": ("pyxl-log-contact", form, range(10, 11)),
    }
    for n in sizes:
        folder = Path(tempfile.mkdtemp(prefix="bench-excel-"))
        path = folder / "caseload.xlsx"
        say(f"== Excel buttons at {n:,} clients (the demo's typos included)")
        create_workbook(path, as_of=as_of, rows=demo_data.generate(n, as_of=as_of, messy=True))
        for label, (button_id, extra, rows) in presses.items():
            button = next(b for b in BUTTONS if b.id == button_id)
            reads = [dataclasses.asdict(r) for r in button.reads]
            picked = ojs.selected_cases(path, "Clients", rows) if button.selection else None
            pieces = [json.dumps({"selected": picked}).encode()] if picked is not None else []
            # As pyxl.js: the selected rows first, then only their rows where a read says so.
            pieces += ojs.upload_bodies(path, reads, uploads.request_limit(), picked)
            args = [a.replace("{today}", as_of.isoformat()) for a in button.args] + list(extra)
            selection = f"A{rows.start}:A{rows.stop - 1}" if rows else "A1"
            lazy = ojs.lazy_book(path, "Clients", selection)
            whole = json.dumps(
                {**ojs.book_payload(path, "Clients", selection), "args": args}
            ).encode()

            post = functools.partial(_post, client, headers)
            press = functools.partial(_press, post, button.script, pieces, lazy, args)
            in_one = functools.partial(_in_one, post, button.script, whole, lazy)
            # This process plays Excel too: the workbook read for the payloads (openpyxl's
            # cells, the grids) is millions of objects no server holds. Frozen, so a full
            # collection during a press (a second or more at 20,000) does not rescan them.
            gc.collect()
            gc.freeze()
            press()  # warm-up: imports, calendars
            walls, cpus, (actions, largest) = repeat(_cold(press), repeats)
            warm_walls, _, _ = repeat(press, repeats)  # tables unchanged: the cache answers
            one_walls, one_cpus, whole_actions = repeat(_cold(in_one), 1)
            wall, cpu = median(walls), median(cpus)
            call = json.dumps({**lazy, "args": args}).encode()
            request = max([*pieces, call], key=len)
            sent = sum(map(len, pieces)) + len(call)
            if label.startswith("Refresh"):
                same = _due_list(actions) == _due_list(whole_actions)
                res.check(f"{label} at {n:,}: same Due List by pieces and in one request", same)
            ratio = median(one_walls) / wall
            cpu_ratio = median(one_cpus) / cpu
            say(
                f"  {label}: {len(pieces) + 1} requests of {sent / 1e6:.2f} MB in all, largest "
                f"{len(request) / 1e6:.2f} MB (whole book {len(whole) / 1e6:.1f} MB), largest "
                f"response {largest / 1e6:.2f} MB; "
                f"server wall {fmt_s(wall)}, CPU {fmt_s(cpu)}; again with the tables unchanged "
                f"{fmt_s(median(warm_walls))}; whole book in one request "
                f"{fmt_s(median(one_walls))} ({ratio:.1f}x), CPU {fmt_s(median(one_cpus))} "
                f"({cpu_ratio:.1f}x)"
            )
            res.row(
                f"{label}, {n:,} clients (largest request {len(request) / 1e6:.2f} MB)",
                f"{fmt_s(wall)} (CPU {fmt_s(cpu)})",
                f"{ratio:.1f}x wall, {cpu_ratio:.1f}x CPU vs the whole book "
                f"({len(whole) / 1e6:.1f} MB)",
            )
            res.check(
                f"{label} at {n:,}: every request and response under 5 MB",
                len(request) < OFFICE_LIMIT and largest < OFFICE_LIMIT,
            )
            res.data.setdefault("buttons", []).append(
                {
                    "button": label,
                    "clients": n,
                    "largest_request_bytes": len(request),
                    "request_bytes": sent,
                    "requests": len(pieces) + 2,
                    "largest_response_bytes": largest,
                    "whole_book_bytes": len(whole),
                    "server_wall_s": wall,
                    "server_cpu_s": cpu,
                    "unchanged_again_wall_s": median(warm_walls),
                    "whole_book_wall_s": median(one_walls),
                    "whole_book_cpu_s": median(one_cpus),
                    "ratio": ratio,
                    "cpu_ratio": cpu_ratio,
                }
            )
            _judge(res, label, n, wall)
        _status_column(client, headers, path, n, as_of, res)
        gc.unfreeze()


def _post(client, headers: dict, url: str, body: bytes) -> dict:
    response = client.post(url, content=body, headers=headers)
    response.raise_for_status()
    return {**response.json(), BYTES: len(response.content)}


BYTES = "(bytes of the response)"  # as sent, not as json.dumps would write it again


def _press(post, script: str, pieces: list, lazy: dict, args: list) -> tuple[list, int]:
    """A button as pyxl.js presses it: the pieces, the script call, the pages of writes."""
    upload = post("/pyxl/upload", b"{}")["upload"]
    for body in pieces:
        post(f"/pyxl/upload/{upload}", body)
    answer = post(
        f"/xlwings/custom-scripts-call/{script}",
        json.dumps({**lazy, "args": [*args, upload]}).encode(),
    )
    actions, largest = list(answer["actions"]), answer[BYTES]
    while more := [a for a in actions if a["args"] and a["args"][0] == "pyxlMore"]:
        actions.remove(more[0])
        key = json.loads(more[0]["args"][1])["key"]
        answer = post(
            "/xlwings/custom-scripts-call/more_writes",
            json.dumps({**lazy, "args": [key]}).encode(),
        )
        actions += answer["actions"]
        largest = max(largest, answer[BYTES])
    return actions, largest


def _in_one(post, script: str, whole: bytes, lazy: dict) -> list:
    """The whole book in one request (the writes that do not fit still come in pages)."""
    actions = post(f"/xlwings/custom-scripts-call/{script}", whole)["actions"]
    while more := [a for a in actions if a["args"] and a["args"][0] == "pyxlMore"]:
        actions.remove(more[0])
        key = json.loads(more[0]["args"][1])["key"]
        body = json.dumps({**lazy, "args": [key]}).encode()
        actions += post("/xlwings/custom-scripts-call/more_writes", body)["actions"]
    return actions


def _cold(fn):
    """fn with the evaluation cache emptied first: the figure of a first press."""
    from pyxl.excel import scripts

    def cold():
        scripts.forget_evaluations()
        return fn()

    return cold


def _due_list(actions: list) -> list:
    return [a["values"] for a in actions if a["func"] == "setValues" and a["start_row"] >= 3]


def _status_column(client, headers, path: Path, n: int, as_of: dt.date, res: Result) -> None:
    from pyxl.adapters import schema
    from pyxl.excel.cells import date_to_serial

    ojs = _officejs()
    names = [s.name for s in (*schema.INPUT_SHEETS, *schema.REFERENCE_SHEETS)]
    tables = [ojs.table_range(path, name) for name in names if name in ojs.sheet_grids(path)]
    cases = [[row[0]] for row in ojs.table_range(path, "Clients")[1:]]
    body = json.dumps(
        ojs.function_call("status", cases, float(date_to_serial(as_of)), repeating=tables)
    ).encode()

    def call() -> list:
        response = client.post("/xlwings/custom-functions-call", content=body, headers=headers)
        response.raise_for_status()
        return response.json()["result"]

    first_wall, first_cpu, first = timed(call)
    walls, cpus, again = repeat(call, 3)
    res.check(f"PYXL.STATUS at {n:,}: the recalculation gives the same column", first == again)
    wall = median(walls)
    say(
        f"  PYXL.STATUS over {len(cases):,} Case IDs with the tables ({len(body) / 1e6:.1f} MB): "
        f"first call {fmt_s(first_wall)} (CPU {fmt_s(first_cpu)}), recalculation "
        f"{fmt_s(wall)} (CPU {fmt_s(median(cpus))})"
    )
    res.row(
        f"PYXL.STATUS column, {n:,} clients ({len(body) / 1e6:.1f} MB request)",
        f"{fmt_s(wall)} recalculation (first {fmt_s(first_wall)})",
        f"{first_wall / wall:.1f}x vs first call",
    )
    res.data.setdefault("functions", []).append(
        {
            "function": "PYXL.STATUS",
            "clients": n,
            "request_bytes": len(body),
            "first_wall_s": first_wall,
            "first_cpu_s": first_cpu,
            "recalc_wall_s": wall,
            "recalc_cpu_s": median(cpus),
        }
    )
    _judge(res, "PYXL.STATUS column", n, wall)


def _judge(res: Result, label: str, n: int, wall: float) -> None:
    wanted = TARGETS.get((label, n))
    if wanted is not None:
        res.targets.append(
            Target(f"{label} at {n:,} clients", f"< {wanted} s", fmt_s(wall), wall < wanted)
        )
