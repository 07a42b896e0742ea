"""The task pane in headless Chromium, served by a real pyxl server on 127.0.0.1.

Excel itself cannot run here, so office.js is replaced by a stand-in host
(fake_office.js) that records what the add-in registers; everything else on the
page is the real task pane: xlwings' JavaScript, pyxl.js, the ribbon commands
and the custom functions' code, talking HTTP to the server.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyxl.excel.server import app, configure  # before xlwings: it sets the license key

configure("test-code")

import uvicorn  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

from pyxl.excel import downloads  # noqa: E402

CHROMIUM_HINT = "headless Chromium is missing: ./dev test installs it (apt-get install chromium)"
FAKE_OFFICE = (Path(__file__).with_name("fake_office.js")).read_text()
# Records runPython calls instead of reading a workbook (there is none in a browser test).
RECORD_RUNS = """
globalThis.runs = [];
globalThis.xlwings.runPython = async (options) => { globalThis.runs.push(options); };
true;  // not the function: Playwright would call a function it is handed back
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-data")  # the server's downloads and uploads


@pytest.fixture(scope="module")
def server_url(data_dir: Path) -> Iterator[str]:
    data = data_dir
    patch = pytest.MonkeyPatch()
    patch.setenv(downloads.DATA_VARIABLE, str(data))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app(), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the pyxl server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    patch.undo()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail(CHROMIUM_HINT, pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium,
            args=["--headless", "--no-sandbox", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@pytest.fixture
def pane(browser: Any, server_url: str) -> Iterator[tuple[Page, list[str]]]:
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.route(
        "**/office.js",
        lambda route: route.fulfill(body=FAKE_OFFICE, content_type="text/javascript"),
    )
    page.add_init_script("localStorage.setItem('pyxl-access-code', 'test-code')")
    page.goto(f"{server_url}/taskpane.html")
    page.wait_for_load_state("networkidle")
    page.wait_for_function("globalThis.pyxl && Object.keys(globalThis.office.functions).length")
    yield page, problems
    page.close()


def test_the_task_pane_loads_without_console_errors(pane: tuple[Page, list[str]]) -> None:
    page, problems = pane
    assert page.locator("#pyxl-refresh-all").is_visible()
    assert problems == []


def test_the_pane_registers_every_function_ribbon_command_and_the_sheet_button(
    pane: tuple[Page, list[str]],
) -> None:
    page, _ = pane
    assert sorted(page.evaluate("Object.keys(office.functions)")) == [
        "DUE_DATE", "NETWORKDAYS", "NEXT_ACTION", "NEXT_DUE", "OVERDUE_COUNT", "STATUS", "WORKDAY",
    ]  # fmt: skip
    assert page.evaluate("Object.keys(office.ribbon)") == [
        "pyxl-refresh-all", "pyxl-refresh-selected", "pyxl-log-contact",
        "pyxl-letters-all", "pyxl-letters-selected", "pyxl-report",
    ]  # fmt: skip
    assert page.evaluate("office.selectionHandlers.length") == 1  # the Due List!N1 button


def test_a_function_runs_through_the_server_and_a_bad_row_becomes_an_error_with_its_message(
    pane: tuple[Page, list[str]],
) -> None:
    page, problems = pane
    result = page.evaluate(
        "office.functions.WORKDAY([[46000], ['x']], [[1]], [['TX']], {address: 'Sheet1!A1'})"
    )
    assert result[0][0]["basicValue"] == 46001 and result[0][0]["numberFormat"] == "ddd yyyy-mm-dd"
    assert result[1][0] == {
        "code": "#VALUE!",
        "message": "start date: 'x' is not a date (type it as YYYY-MM-DD)",
    }
    assert problems == []


def test_the_refresh_button_runs_refresh_due_list_with_the_users_date(
    pane: tuple[Page, list[str]], data_dir: Path
) -> None:
    page, _ = pane
    page.evaluate(RECORD_RUNS)
    page.click("#pyxl-refresh-all")
    page.wait_for_function("globalThis.runs.length === 1")
    run = page.evaluate("globalThis.runs[0]")
    today = page.evaluate("new Date().toLocaleDateString('sv')")  # the browser's local date
    assert run["scriptName"] == "refresh_due_list"
    assert run["args"][:2] == ["all", today]
    assert run["auth"] == "test-code" and run["headers"] == {"Auth-Provider": "pyxl"}
    # The declared sheets went first, as an upload the script is told about; the book
    # itself is sent lazily (names and tables, no values).
    assert run["lazy"] is True
    upload = data_dir / "uploads" / run["args"][2]
    assert upload.is_dir() and list(upload.iterdir())
    assert "done in" in page.inner_text("#pyxl-result")


def test_the_selected_refresh_and_the_ribbon_command_run_the_same_script(
    pane: tuple[Page, list[str]],
) -> None:
    page, _ = pane
    page.evaluate(RECORD_RUNS)
    page.click("#pyxl-refresh-selected")
    page.evaluate("office.ribbon['pyxl-refresh-all']({completed() {}})")
    page.wait_for_function("globalThis.runs.length === 2")
    runs = page.evaluate("globalThis.runs.map(r => [r.scriptName, r.args[0]])")
    # Each reads what it needs first (the selected refresh reads more), so either may arrive
    # first: what matters is one script, each with its own scope.
    assert sorted(runs) == [["refresh_due_list", "all"], ["refresh_due_list", "selected"]]


def test_the_log_contact_form_sends_its_fields_in_the_scripts_order(
    pane: tuple[Page, list[str]],
) -> None:
    page, problems = pane
    page.evaluate(RECORD_RUNS)
    page.click("#pyxl-log-contact")
    assert page.locator("#pyxl-form-contact").is_visible()
    page.fill("#pyxl-contact-day", "2026-11-20")
    page.select_option("#pyxl-contact-method", "Home visit")
    page.select_option("#pyxl-contact-successful", "No")
    page.select_option("#pyxl-contact-purpose", "Engagement")
    page.fill("#pyxl-contact-notes", "=HYPERLINK(1) left a card")
    page.fill("#pyxl-contact-staff", "R. Ahgeak")
    page.click("#pyxl-contact-submit")
    page.wait_for_function("globalThis.runs.length === 1")
    run = page.evaluate("globalThis.runs[0]")
    assert run["scriptName"] == "log_contact"
    assert run["args"][:-1] == [
        "2026-11-20", "Home visit", "No", "", "Engagement",
        "=HYPERLINK(1) left a card", "R. Ahgeak",
    ]  # fmt: skip
    assert run["lazy"] is True  # the form, the selected Case ID and a header: not the book
    assert not page.locator("#pyxl-form-contact").is_visible()  # closed after success
    assert problems == []


def test_the_contact_form_starts_on_todays_date(pane: tuple[Page, list[str]]) -> None:
    page, _ = pane
    page.click("#pyxl-log-contact")
    value = page.input_value("#pyxl-contact-day")
    assert dt.date.fromisoformat(value) == dt.date.fromisoformat(
        page.evaluate("new Date().toLocaleDateString('sv')")
    )


PREVIEW = {
    "title": "Letters for today's queue as of 2026-11-23: 2 letters",
    "headers": ["Case ID", "Letter", "Why"],
    "rows": [["AK-1", "APPT", "<b>not bold</b>"], ["AK-2", "NOSHOW", "missed"]],
    "problems": ["case AK-3, letter APPT: appointment_time is blank (Appointments: Time)"],
    "confirm": {
        "label": "Print 2 letters and log them",
        "script": "generate_letters",
        "args": ["2026-11-23", "abcdef0123456789", "[]"],
        "working": "rendering the letters",
    },
}


def test_generate_letters_previews_the_queue_then_the_confirm_button_prints_it(
    pane: tuple[Page, list[str]],
) -> None:
    page, problems = pane
    page.evaluate(RECORD_RUNS)
    page.click("#pyxl-letters-all")
    page.evaluate("office.ribbon['pyxl-letters-selected']({completed() {}})")
    page.wait_for_function("globalThis.runs.length === 2")
    runs = page.evaluate("globalThis.runs.map(r => [r.scriptName, r.args[0]])")
    assert runs == [["preview_letters", "all"], ["preview_letters", "selected"]]
    page.evaluate("payload => globalThis.callbacks.pyxlPreview(null, payload)", json.dumps(PREVIEW))
    assert page.locator("#pyxl-preview").is_visible()
    assert page.inner_text("#pyxl-preview-title") == PREVIEW["title"]
    assert page.locator("#pyxl-preview-rows tr").count() == 2
    assert page.inner_text("#pyxl-preview-rows tr:first-child td:last-child") == "<b>not bold</b>"
    assert "appointment_time is blank" in page.inner_text("#pyxl-preview-problems")
    page.click("#pyxl-preview-confirm")
    page.wait_for_function("globalThis.runs.length === 3")
    run = page.evaluate("globalThis.runs[2]")
    assert run["scriptName"] == "generate_letters"
    assert run["args"] == PREVIEW["confirm"]["args"]
    assert run["auth"] == "test-code"
    assert not page.locator("#pyxl-preview").is_visible()
    assert problems == []


def test_the_report_button_runs_build_report_with_the_users_date(
    pane: tuple[Page, list[str]],
) -> None:
    page, problems = pane
    page.evaluate(RECORD_RUNS)
    page.click("#pyxl-report")
    page.evaluate("office.ribbon['pyxl-report']({completed() {}})")
    page.wait_for_function("globalThis.runs.length === 2")
    today = page.evaluate("new Date().toLocaleDateString('sv')")
    runs = page.evaluate("globalThis.runs.map(r => [r.scriptName, r.args, r.lazy])")
    # The sheets it reads went first as an upload; the script gets its id, not the book.
    assert [(name, args[:1], lazy) for name, args, lazy in runs] == [
        ("build_report", [today], True)
    ] * 2
    assert all(len(args) == 2 and args[1] for _, args, _ in runs)
    assert "ready below" in page.inner_text("#pyxl-result")
    assert problems == []


def test_the_offered_pdf_downloads_once_through_the_signed_in_route(
    pane: tuple[Page, list[str]], tmp_path: Path
) -> None:
    page, problems = pane
    made = tmp_path / "print.pdf"
    made.write_bytes(b"%PDF-1.4 letters")
    offered = downloads.offer(made, "print-20261123-0000.pdf", "application/pdf")
    offer = {"id": offered.id, "filename": offered.filename, "summary": "2 letters printed"}
    page.evaluate(
        "payload => globalThis.callbacks.pyxlOffer(null, payload)",
        json.dumps({**offer, "problems": []}),
    )
    assert page.inner_text("#pyxl-download-summary") == "2 letters printed"
    with page.expect_download() as caught:
        page.click("#pyxl-download")
    saved = tmp_path / "saved.pdf"
    caught.value.save_as(saved)
    assert caught.value.suggested_filename == "print-20261123-0000.pdf"
    assert saved.read_bytes() == b"%PDF-1.4 letters"
    assert page.locator("#pyxl-download").is_disabled()  # served once
    assert downloads.take(offered.id) is None
    assert problems == []


# Like RECORD_RUNS, but the first script answers that one more page of writes is waiting.
RECORD_RUNS_WITH_A_PAGE_MORE = """
globalThis.runs = [];
globalThis.steps = [];
new MutationObserver(() => globalThis.steps.push(
  document.getElementById("pyxl-progress-text").textContent.replace(/[.]{3} \\d+ s$/, "")
)).observe(document.getElementById("pyxl-progress-text"), {childList: true});
globalThis.xlwings.runPython = async (options) => {
  globalThis.runs.push(options);
  if (globalThis.runs.length === 1) {
    globalThis.callbacks.pyxlMore(null, JSON.stringify({key: "page-key", pages: 1}));
  }
};
true;
"""


def test_writes_that_did_not_fit_are_fetched_page_by_page_and_each_step_is_shown(
    pane: tuple[Page, list[str]],
) -> None:
    page, problems = pane
    page.evaluate(RECORD_RUNS_WITH_A_PAGE_MORE)
    page.click("#pyxl-refresh-all")
    page.wait_for_function("globalThis.runs.length === 2")
    page.wait_for_function("!document.getElementById('pyxl-progress').offsetParent")
    runs = page.evaluate("globalThis.runs.map(r => [r.scriptName, r.args, r.lazy])")
    assert runs[1] == ["more_writes", ["page-key"], True]
    steps = page.evaluate("globalThis.steps")
    shown = [s.split(": ", 1)[1] for s in dict.fromkeys(steps)]
    assert any(s.startswith("sending piece 1") for s in shown)
    assert "computing on the server, then writing" in shown
    assert "writing page 2 of 2" in shown
    assert problems == []


# The script call waits until the test releases it, as a long Refresh keeps the pane waiting.
RECORD_A_LONG_RUN = """
globalThis.runs = [];
globalThis.release = false;
globalThis.xlwings.runPython = async (options) => {
  globalThis.runs.push(options);
  while (!globalThis.release) await new Promise((done) => setTimeout(done, 50));
};
true;
"""


def test_while_the_script_runs_the_pane_shows_the_step_the_server_is_at(
    pane: tuple[Page, list[str]],
) -> None:
    from pyxl.excel import uploads

    page, problems = pane
    page.evaluate(FAKE_BOOK, {"grids": {}, "active": "Clients", "rows": []})
    page.evaluate(RECORD_A_LONG_RUN)
    page.click("#pyxl-refresh-all")
    page.wait_for_function("globalThis.runs.length === 1")
    text = "document.getElementById('pyxl-progress-text').textContent"
    page.wait_for_function(f"{text}.includes('computing on the server')")
    note = uploads.progress(page.evaluate("globalThis.runs[0].args[2]"))  # the upload's id
    for step in ("checking the sheets", "evaluating"):
        note(step)  # as the script notes it on the server
        page.wait_for_function(f"{text}.includes('on the server: {step}')", timeout=5000)
    page.evaluate("globalThis.release = true")
    page.wait_for_function("!document.getElementById('pyxl-progress').offsetParent")
    assert "Refresh Due List: done in" in page.text_content("#pyxl-result")
    assert problems == []


# A workbook for pyxl.js to read: the sheets' cells as Office.js gives them (raw_grid), the
# active sheet and the selected rows. Only what the pane's upload calls is stood in for.
FAKE_BOOK = """
({grids, active, rows}) => {
  const sheet = (name) => {
    const grid = grids[name];
    const width = grid ? Math.max(...grid.map((r) => r.length)) : 0;
    return {
      isNullObject: grid === undefined,
      getUsedRangeOrNullObject: () => ({
        isNullObject: false, rowIndex: 0, rowCount: grid.length, columnIndex: 0,
        columnCount: width, load() { return this; },
      }),
      getRangeByIndexes: (r, c, n, w) => ({
        values: Array.from({length: Math.min(n, Math.max(grid.length - r, 0))}, (_, i) =>
          Array.from({length: w}, (_, j) => grid[r + i][c + j] ?? "")),
        load() { return this; },
      }),
    };
  };
  const context = {
    sync: async () => undefined,
    workbook: {
      worksheets: { getItemOrNullObject: sheet, getActiveWorksheet: () => sheet(active) },
      getSelectedRanges: () => ({
        areas: { items: rows.map((r) => ({ rowIndex: r - 1, rowCount: 1 })), load() {} },
      }),
    },
  };
  globalThis.Excel.run = async (fn) => fn(context);
  return true;
}
"""


def test_the_pane_sends_only_the_selected_clients_rows_as_the_python_model_of_it_does(
    pane: tuple[Page, list[str]], data_dir: Path, tmp_path: Path
) -> None:
    """pyxl.js's upload for Refresh selected, on a real caseload's cells: the same pieces
    as tests/integration/officejs.py (which the request tests use) builds."""
    import dataclasses

    from pyxl.excel import uploads
    from pyxl.excel.buttons import BUTTONS
    from pyxl.services import demo_data
    from pyxl.services.new_workbook import create_workbook
    from tests.integration.officejs import raw_grid, selected_cases, upload_bodies

    as_of = dt.date(2026, 11, 23)
    path = tmp_path / "caseload.xlsx"
    create_workbook(path, as_of=as_of, rows=demo_data.generate(300, as_of=as_of, messy=True))
    button = next(b for b in BUTTONS if b.id == "pyxl-refresh-selected")
    reads = [dataclasses.asdict(r) for r in button.reads]
    rows = [5, 9, 10, 40]
    grids = {r["sheet"]: raw_grid(path, r["sheet"]) for r in reads}
    page, problems = pane
    page.evaluate(FAKE_BOOK, {"grids": grids, "active": "Clients", "rows": rows})
    page.evaluate(RECORD_RUNS)
    page.click("#pyxl-refresh-selected")
    page.wait_for_function("globalThis.runs.length === 1")
    upload = data_dir / "uploads" / page.evaluate("globalThis.runs[0]").get("args")[2]
    posted = [json.loads(p.read_bytes()) for p in sorted(upload.iterdir())]
    selected = selected_cases(path, "Clients", rows)
    assert [p["selected"] for p in posted if "selected" in p] == [selected]
    modelled = [
        json.loads(b) for b in upload_bodies(path, reads, uploads.request_limit(), selected)
    ]
    pieces = [p for body in posted for p in body.get("pieces", [])]
    assert pieces == [p for body in modelled for p in body["pieces"]]
    clients = [p for p in pieces if p["sheet"] == "Clients"]
    assert {len(p["rows"][0]) for p in clients} == {1, len(grids["Clients"][2])}  # IDs, rows
    assert problems == []
