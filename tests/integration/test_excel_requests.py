"""The buttons as the task pane presses them: declared sheets uploaded in pieces, writes in pages.

Each press goes through the add-in's HTTP interface exactly as pyxl.js makes it
(tests/integration/officejs.py builds the same bodies): the upload of the sheets and
columns the button declares, the script call with a lazy book (names, used ranges and
tables, no values) and the pages of writes that did not fit in the first response.
The answers must be `pyxl recompute`'s, cell for cell, and at 20,000 clients no request
or response may pass Excel on the web's 5 MB.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pyxl.excel.server import app, configure  # before xlwings: it sets the license key

configure("test-code")

from fastapi.testclient import TestClient  # noqa: E402

from pyxl.adapters import schema  # noqa: E402
from pyxl.excel import downloads, scripts, uploads  # noqa: E402
from pyxl.excel.buttons import BUTTONS  # noqa: E402
from pyxl.excel.scripts import report_summary  # noqa: E402
from pyxl.excel.writes import cell_value  # noqa: E402
from pyxl.services import demo_data  # noqa: E402
from pyxl.services.letters import preview, run_letters  # noqa: E402
from pyxl.services.new_workbook import create_workbook  # noqa: E402
from pyxl.services.recompute import build_patch, check, recompute, refresh_stamp  # noqa: E402
from pyxl.services.report import run_report  # noqa: E402
from tests.integration.officejs import (  # noqa: E402
    HEADERS,
    lazy_book,
    selected_cases,
    upload_bodies,
)

AS_OF = dt.date(2026, 11, 23)
OFFICE_LIMIT = 5_000_000  # bytes: Excel on the web, each request and response
JSON = {**HEADERS, "Content-Type": "application/json"}
CONTACT_FORM = ("2026-11-20", "Phone", "Yes", "Yes", "", "", "")


@dataclasses.dataclass
class Press:
    actions: list[dict[str, Any]]
    sent: list[int]  # bytes of each request body
    received: list[int]  # bytes of each response body


def press(
    client: TestClient,
    path: Path,
    button_id: str,
    extra: tuple[str, ...] = (),
    active: str = "Clients",
    rows: Sequence[int] = range(0),
) -> Press:
    button = next(b for b in BUTTONS if b.id == button_id)
    reads = [dataclasses.asdict(r) for r in button.reads]
    args = [a.replace("{today}", AS_OF.isoformat()) for a in button.args] + [*extra]
    return run(client, path, button.script, args, reads, button.selection, active, rows)


def run(
    client: TestClient,
    path: Path,
    script: str,
    args: list[str],
    reads: list[dict[str, Any]],
    selection: bool = False,
    active: str = "Clients",
    rows: Sequence[int] = range(0),
) -> Press:
    """A script run as pyxl.js runs it: the declared reads uploaded, then the call."""
    upload = client.post("/pyxl/upload", headers=HEADERS).json()["upload"]
    sent: list[int] = []
    bodies = []
    selected = selected_cases(path, active, rows) if selection else None
    if selected is not None:  # read first: the pane then sends only their rows
        bodies.append(json.dumps({"selected": selected}).encode())
    bodies += upload_bodies(path, reads, uploads.request_limit(), selected)
    for body in bodies:
        response = client.post(f"/pyxl/upload/{upload}", content=body, headers=JSON)
        assert response.status_code == 200, response.text
        sent.append(len(body))
    args = [*args, upload]
    received: list[int] = []
    actions: list[dict[str, Any]] = []
    while True:
        book = lazy_book(path, active, f"A{rows[0]}" if rows else "A1")
        body = json.dumps({**book, "args": args}).encode()
        response = client.post(f"/xlwings/custom-scripts-call/{script}", content=body, headers=JSON)
        assert response.status_code == 200, response.text
        sent.append(len(body))
        received.append(len(response.content))
        page = response.json()["actions"]
        more = [a for a in page if a["func"] == "runMacro" and a["args"][0] == "pyxlMore"]
        actions += [a for a in page if a not in more]
        if not more:
            return Press(actions, sent, received)
        script, args = "more_writes", [json.loads(more[0]["args"][1])["key"]]


def excel_ready(rows: Any) -> list[list[Any]]:
    return [["" if (v := cell_value(x)) is None else v for x in row] for row in rows]


def written_rows(actions: list[dict[str, Any]], position: int, first: int) -> dict[int, list]:
    """1-based sheet row -> the values written there from `first` (0-based) down."""
    out: dict[int, list] = {}
    for a in actions:
        if a["func"] == "setValues" and a["sheet_position"] == position and a["start_row"] >= first:
            for i, row in enumerate(a["values"]):
                out.setdefault(a["start_row"] + i + 1, []).extend(row)
    return out


def sheet_position(path: Path, name: str) -> int:
    import openpyxl

    return openpyxl.load_workbook(path, read_only=True).sheetnames.index(name)


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(app())


def caseload(tmp_path_factory: pytest.TempPathFactory, clients: int) -> Path:
    path = tmp_path_factory.mktemp(f"requests{clients}") / "caseload.xlsx"
    rows = demo_data.generate(clients, as_of=AS_OF, messy=True)  # with the demo's typos
    create_workbook(path, as_of=AS_OF, rows=rows)
    return path


@pytest.mark.parametrize("clients", [600, 5000])
def test_refresh_through_the_pane_writes_exactly_what_pyxl_recompute_computes(
    client: TestClient, tmp_path_factory: pytest.TempPathFactory, clients: int
) -> None:
    path = caseload(tmp_path_factory, clients)
    assert_same_as_recompute(press(client, path, "pyxl-refresh-all"), path)


@pytest.mark.parametrize("clients", [600, 5000])
def test_refresh_selected_writes_for_them_what_pyxl_recompute_computes(
    client: TestClient, tmp_path_factory: pytest.TempPathFactory, clients: int
) -> None:
    """Only the selected clients are evaluated (their own rows, the office-wide sheets
    whole); their Due List rows and summary columns are a full recompute's, cell for cell,
    and the Due List keeps everyone else's rows in a full recompute's order."""
    path = caseload(tmp_path_factory, clients)
    recompute(path, AS_OF)  # everyone's Due List rows as a full Refresh leaves them
    ev = check(path, AS_OF)
    wanted: list[str] = []
    for sheet in ("Noncompliance", "Penalties", "Appointments", "Contacts", "Hours", "Plans"):
        cases = list(dict.fromkeys(ev.workbook.table(sheet).values("case_id")))
        wanted += cases[:2] + cases[-2:]
    wanted += [c for c, s in ev.flows.states.items() if s.obligations][:3]
    wanted += [c for c in ev.problem_cases.values() if c in ev.workbook.client_rows][:3]
    wanted += random.Random(16).sample(sorted(ev.workbook.client_rows), 5)
    chosen = sorted({ev.workbook.client_rows[c] for c in wanted})
    assert len(chosen) >= 12
    done = press(client, path, "pyxl-refresh-selected", rows=chosen)
    patch = build_patch(ev, stamp=refresh_stamp(AS_OF, who="Excel"))
    due = written_rows(done.actions, sheet_position(path, "Due List"), schema.HEADER_ROW)
    want = excel_ready(patch.tables[schema.DUE_LIST.name].rows)
    assert [due[r] for r in sorted(due)][: len(want)] == want
    columns = patch.columns[schema.CLIENTS.name]
    rows = written_rows(done.actions, sheet_position(path, "Clients"), schema.HEADER_ROW)
    assert set(rows) == set(chosen)
    for r in chosen:
        assert rows[r] == excel_ready([columns.values[r]])[0], r
    # Far less than the whole book went up: the selected clients' rows, the others' Case IDs.
    whole = sum(map(len, upload_bodies(path, [dataclasses.asdict(r) for r in REFRESH], 10**9)))
    assert sum(done.sent) < whole / 2


REFRESH = next(b for b in BUTTONS if b.id == "pyxl-refresh-all").reads


def test_a_small_request_limit_sends_more_pieces_and_pages_with_the_same_answers(
    client: TestClient, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(uploads.LIMIT_VARIABLE, "100000")  # a proxy's small body limit
    path = caseload(tmp_path_factory, 600)
    done = press(client, path, "pyxl-refresh-all")
    assert len(done.received) > 2  # the writes came back in pages
    assert max(done.sent) < 100_000 and max(done.received) < 100_000 * 1.1
    assert_same_as_recompute(done, path)


def assert_same_as_recompute(done: Press, path: Path) -> None:
    patch = build_patch(check(path, AS_OF), stamp=refresh_stamp(AS_OF, who="Excel"))
    for spec in (schema.DUE_LIST, schema.ERRORS, schema.SUPERVISOR):
        rows = written_rows(done.actions, sheet_position(path, spec.name), schema.HEADER_ROW)
        want = excel_ready(patch.tables[spec.name].rows)
        assert [rows[r] for r in sorted(rows)][: len(want)] == want, spec.name
    # The Supervisor's links go where `pyxl recompute`'s go, on the cells showing them.
    supervisor = patch.tables[schema.SUPERVISOR.name]
    position = sheet_position(path, schema.SUPERVISOR.name)
    links = {
        (a["start_row"] + 1, a["start_column"]): a["args"][:2]
        for a in done.actions
        if a["func"] == "addHyperlink" and a["sheet_position"] == position
    }
    assert links == {
        (schema.HEADER_ROW + 1 + k, col): [f"#{location}", supervisor.rows[k][col]]
        for k, row_links in enumerate(supervisor.links or [])
        for col, location in row_links
    }
    assert len(links) >= len(supervisor.rows) > 0  # every worker's row links to Clients
    # Both sheets carry the refresh line `pyxl recompute` writes (who: "Excel").
    for spec in (schema.DUE_LIST, schema.SUPERVISOR):
        line = written_rows(done.actions, sheet_position(path, spec.name), 1)[2][0]
        want = patch.texts[spec.name]["A2"]
        assert line.startswith(f"Computed as of {AS_OF.isoformat()} (refreshed "), spec.name
        assert minute_blanked(line).startswith(minute_blanked(want)), spec.name
    columns = patch.columns[schema.CLIENTS.name]
    rows = written_rows(done.actions, sheet_position(path, "Clients"), schema.HEADER_ROW)
    blank = [""] * len(columns.columns)
    assert set(columns.values) <= set(rows)
    for r in rows:  # every client's summary, and blanks on the rows left out (errors)
        assert rows[r] == excel_ready([columns.values.get(r, blank)])[0], r


def minute_blanked(text: str) -> str:
    """A refresh line without its time: the minute may turn between two refreshes."""
    return re.sub(r"refreshed \d{4}-\d\d-\d\d \d\d:\d\d", "refreshed (time)", text)


def callback(actions: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (found,) = [a for a in actions if a["func"] == "runMacro" and a["args"][0] == name]
    return json.loads(found["args"][1])


def test_letters_and_report_through_the_pane_send_their_sheets_only_and_answer_as_the_cli(
    client: TestClient,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(downloads.DATA_VARIABLE, str(tmp_path / "server"))
    path = caseload(tmp_path_factory, 600)
    before = path.read_bytes()
    shown = callback(press(client, path, "pyxl-letters-all").actions, "pyxlPreview")
    queue = preview(path, AS_OF).queue
    assert [r[:2] for r in shown["rows"]] == [[q.request.case_id, q.request.code] for q in queue]
    confirm = shown["confirm"]
    assert {r["sheet"] for r in confirm["reads"]} == {r.sheet for r in REFRESH} | {"Letters"}
    done = run(client, path, confirm["script"], confirm["args"], confirm["reads"])
    offer = callback(done.actions, "pyxlOffer")
    copy = tmp_path / "cli" / path.name
    copy.parent.mkdir()
    copy.write_bytes(before)
    cli = run_letters(copy, AS_OF, out_dir=tmp_path / "out")
    assert offer["summary"].startswith(f"{len(cli.made)} letters printed in batch {cli.batch}")
    letters = sheet_position(path, "Letters")
    logged = [a for a in done.actions if a["sheet_position"] == letters]
    assert sum(len(a["values"]) if a["func"] == "setValues" else 1 for a in logged) == cli.logged
    # The report from the sheets it reads is `pyxl report`'s.
    offer = callback(press(client, path, "pyxl-report").actions, "pyxlOffer")
    got = tmp_path / "from-excel.xlsx"
    got.write_bytes(client.get(f"/pyxl/download/{offer['id']}", headers=HEADERS).content)
    other = tmp_path / "report" / path.name  # the same name: the report lists its workbooks
    other.parent.mkdir()
    other.write_bytes(before)
    made = run_report([other], AS_OF, tmp_path / "report" / "report.xlsx")
    assert offer["summary"] == report_summary(made.report)
    assert sheet_cells(got) == sheet_cells(made.path)
    assert path.read_bytes() == before  # everything went through Excel


def sheet_cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
    import openpyxl

    book = openpyxl.load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


@pytest.fixture(scope="module")
def branch_of_20000(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return caseload(tmp_path_factory, 20_000)


@pytest.mark.parametrize(
    ("button", "extra", "active", "rows"),
    [
        ("pyxl-refresh-all", (), "Clients", range(0)),
        ("pyxl-refresh-selected", (), "Clients", range(10, 13)),
        ("pyxl-log-contact", CONTACT_FORM, "Clients", range(10, 11)),
        ("pyxl-letters-all", (), "Clients", range(0)),
        ("pyxl-letters-selected", (), "Clients", range(10, 40)),
        ("pyxl-report", (), "Clients", range(0)),
    ],
)  # fmt: skip
def test_no_request_or_response_of_a_20000_client_branch_passes_5_mb(
    client: TestClient,
    branch_of_20000: Path,
    button: str,
    extra: tuple[str, ...],
    active: str,
    rows: range,
) -> None:
    done = press(client, branch_of_20000, button, extra, active, rows)
    assert max(done.sent) < OFFICE_LIMIT and max(done.received) < OFFICE_LIMIT
    assert done.actions  # it wrote something
    if button == "pyxl-log-contact":
        assert [a["func"] for a in done.actions] == ["addTableRow"]
        assert sum(done.sent) < 1_000_000  # a Case ID column and a header, not the book


def test_a_refresh_records_each_step_as_it_happens_for_the_pane_to_show(
    client: TestClient, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The script notes its steps under its upload while it runs (the pane asks for the
    latest with /pyxl/progress/ID); a step is there before the work it names is done."""
    path = caseload(tmp_path_factory, 600)
    seen: list[tuple[str, bool]] = []  # (step, evaluated yet?)
    recorded = uploads.progress
    evaluated: list[bool] = []
    ids: list[str] = []

    def watched(upload_id: str) -> Any:
        note = recorded(upload_id)

        def noted(step: str) -> None:
            note(step)
            seen.append((uploads.step_of(upload_id) or "", bool(evaluated)))
            ids.append(upload_id)

        return noted

    evaluate_raw = scripts.evaluate_raw

    def evaluating(*args: Any, **kwargs: Any) -> Any:
        done = evaluate_raw(*args, **kwargs)
        evaluated.append(True)
        return done

    monkeypatch.setattr(uploads, "progress", watched)
    monkeypatch.setattr(scripts, "evaluate_raw", evaluating)
    scripts.forget_evaluations()
    press(client, path, "pyxl-refresh-all")
    assert seen == [
        ("reading the sheets sent", False),
        ("checking the sheets", False),
        ("evaluating", False),
        ("making the writes", True),
    ]
    latest = client.post(f"/pyxl/progress/{ids[-1]}", headers=JSON, content=b"{}")
    assert latest.json() == {"step": "making the writes"}
    unknown = client.post("/pyxl/progress/" + "x" * 32, headers=JSON, content=b"{}")
    assert unknown.json() == {"step": None}
    refused = client.post("/pyxl/progress/" + "x" * 32, content=b"{}")
    assert refused.status_code == 401


@pytest.mark.parametrize(
    ("button_id", "steps"),
    [
        (
            "pyxl-report",
            [
                "reading the sheets sent",
                "checking the sheets",
                "evaluating",
                "building the report",
                "writing the report file",
            ],
        ),
        (
            "pyxl-letters-all",
            [
                "reading the sheets sent",
                "checking the sheets",
                "evaluating",
                "making the letter queue",
            ],
        ),
    ],
)
def test_the_report_and_letters_buttons_record_their_steps_too(
    client: TestClient,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    button_id: str,
    steps: list[str],
) -> None:
    path = caseload(tmp_path_factory, 600)
    recorded = uploads.progress
    seen: list[str] = []

    def watched(upload_id: str) -> Any:
        note = recorded(upload_id)

        def noted(step: str) -> None:
            note(step)
            seen.append(uploads.step_of(upload_id) or "")

        return noted

    monkeypatch.setattr(uploads, "progress", watched)
    press(client, path, button_id)
    assert seen == steps


def test_a_typo_keeps_a_sent_sheet_in_typed_columns_with_the_careful_readings_answers(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The demo's typos (a two-digit year on Clients, 13/45/2026 on Contacts) are set apart
    as odd cells; the sheet stays typed, and its rows and problems are the cell-by-cell
    reading's."""
    from pyxl.excel.tables import grid_sheet, raw_sheet_of
    from pyxl.services.sheets import check_rows, schema
    from tests.integration.officejs import raw_grid

    path = caseload(tmp_path_factory, 600)
    for name in ("Clients", "Contacts"):
        grid, spec = raw_grid(path, name), schema.SHEETS[name]
        typed = grid_sheet(name, grid, serial_dates=True)
        assert typed.table is not None and typed.odd, name
        rows, problems = check_rows(typed, spec)
        careful = raw_sheet_of(name, grid, spec, True, None)  # the cell-by-cell form
        careful_rows, careful_problems = check_rows(careful, spec)
        assert careful_problems and problems == careful_problems, name
        assert (rows.row_numbers, rows.rows) == (careful_rows.row_numbers, careful_rows.rows)
