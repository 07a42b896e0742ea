"""The Generate letters and Build supervisor report buttons through xlwings Server's HTTP
interface, with the book Office.js sends: the letters' preview in the task pane, the batch
logged through Excel (never by writing the file), the PDF and the report offered once for
download, and the same answers as `pyxl letters` and `pyxl report`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pyxl.excel.server import app, configure  # before xlwings: it sets the license key

configure("test-code")

from fastapi.testclient import TestClient  # noqa: E402

from pyxl.adapters import schema  # noqa: E402
from pyxl.excel import downloads  # noqa: E402
from pyxl.excel.cells import date_to_serial  # noqa: E402
from pyxl.services.demo import run_demo  # noqa: E402
from pyxl.services.letters import preview, run_letters  # noqa: E402
from pyxl.services.report import run_report  # noqa: E402
from tests.integration.officejs import HEADERS, book_payload  # noqa: E402

AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(scope="module", autouse=True)
def server_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The server's own folder (downloads, audit) in the test's temporary directory."""
    folder = tmp_path_factory.mktemp("server-data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(downloads.DATA_VARIABLE, str(folder))
        yield folder


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(app())


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("demo"), as_of=AS_OF).path


def script(client: TestClient, name: str, book: dict[str, Any], *args: object) -> list[dict]:
    body = {**book, "args": list(args)}
    response = client.post(f"/xlwings/custom-scripts-call/{name}", json=body, headers=HEADERS)
    assert response.status_code == 200, response.text
    return response.json()["actions"]


def callback(actions: list[dict], name: str) -> dict[str, Any]:
    """The payload of the task-pane callback a script ends with."""
    last = actions[-1]
    assert last["func"] == "runMacro" and last["args"][0] == name
    return json.loads(last["args"][1])


def sheet_index(path: Path, name: str) -> int:
    return openpyxl.load_workbook(path, read_only=True).sheetnames.index(name)


def appended(actions: list[dict], position: int) -> list[list[Any]]:
    """Rows a script adds to a sheet's table: the placeholder row filled, then added rows."""
    rows = []
    for a in actions:
        if a["sheet_position"] != position:
            continue
        assert a["func"] in ("setValues", "addTableRow"), a["func"]
        rows += a["values"] if a["func"] == "setValues" else [a["args"][2]]
    return rows


@pytest.fixture(scope="module")
def previewed(client: TestClient, workbook: Path) -> dict[str, Any]:
    actions = script(
        client, "preview_letters", book_payload(workbook, "Clients"), "all", "2026-11-23"
    )
    assert [a["func"] for a in actions] == ["runMacro"]  # a preview writes nothing
    return callback(actions, "pyxlPreview")


@pytest.fixture(scope="module")
def generated(
    client: TestClient, workbook: Path, previewed: dict[str, Any]
) -> tuple[list[dict], dict[str, Any], bytes]:
    before = workbook.read_bytes()
    confirm = previewed["confirm"]
    actions = script(client, confirm["script"], book_payload(workbook, "Clients"), *confirm["args"])
    assert workbook.read_bytes() == before  # the open workbook is written through Excel only
    return actions, callback(actions, "pyxlOffer"), before


def test_the_preview_lists_the_same_queue_as_pyxl_letters_preview(
    previewed: dict[str, Any], workbook: Path
) -> None:
    plan = preview(workbook, AS_OF)
    queue = plan.queue
    assert previewed["headers"][:2] == ["Case ID", "Letter"]
    assert [r[:2] for r in previewed["rows"]] == [
        [q.request.case_id, q.request.code] for q in queue
    ]
    assert previewed["title"].startswith(
        f"Letters for today's queue as of 2026-11-23: {len(queue)}"
    )
    assert previewed["confirm"]["script"] == "generate_letters"
    made = len(plan.printable)
    assert previewed["confirm"]["label"] == f"Print {made} letters and log them"
    assert previewed["problems"] == [str(e) for e in plan.errors]


def test_the_preview_names_each_letter_that_cannot_be_made_and_the_field_to_fill_in(
    previewed: dict[str, Any],
) -> None:
    assert previewed["problems"]
    sheets = "Clients|Staff|Branches|Appointments|Noncompliance|Penalties"
    for problem in previewed["problems"]:  # the case, the letter's title, the sheet to fix
        assert re.match(rf"[A-Z]{{2}}-\d+, [A-Z][^:]+: ({sheets}): ", problem), problem
        assert "_" not in problem.split(": ", 1)[1]  # words, never field names


def test_letters_for_the_selected_rows_are_only_those_clients_letters(
    client: TestClient, workbook: Path, previewed: dict[str, Any]
) -> None:
    cannot = {p.split(",")[0] for p in previewed["problems"]}
    case = next(r[0] for r in previewed["rows"] if r[0] not in cannot)
    row = next(
        r
        for r, values in enumerate(openpyxl.load_workbook(workbook)["Clients"].values, start=1)
        if values[0] == case
    )
    book = book_payload(workbook, "Clients", selection=f"C{row}")
    actions = script(client, "preview_letters", book, "selected", "2026-11-23")
    shown = callback(actions, "pyxlPreview")
    assert {r[0] for r in shown["rows"]} == {case}
    assert case in shown["title"]
    assert json.loads(shown["confirm"]["args"][2]) == [case]


def test_the_batch_logs_through_excel_the_same_rows_as_pyxl_letters(
    generated: tuple[list[dict], dict[str, Any], bytes], workbook: Path, tmp_path: Path
) -> None:
    actions, offer, before = generated
    letters_rows = appended(actions, sheet_index(workbook, "Letters"))
    contacts_rows = appended(actions, sheet_index(workbook, "Contacts"))
    copy = tmp_path / "caseload.xlsx"
    copy.write_bytes(before)
    cli = run_letters(copy, AS_OF, out_dir=tmp_path / "out")
    assert offer["summary"].startswith(f"{len(cli.made)} letters printed in batch {cli.batch}")
    assert len(letters_rows) == len(contacts_rows) == cli.logged > 0
    logged = openpyxl.load_workbook(copy)["Letters"]
    headers = schema.LETTERS.headers
    cli_rows = [list(r) for r in logged.iter_rows(min_row=schema.HEADER_ROW + 1, values_only=True)]
    compare = [headers.index(h) for h in ("Case ID", "Letter", "Reason", "Batch", "File")]
    assert sorted([r[i] for i in compare] for r in letters_rows) == sorted(
        [r[i] for i in compare] for r in cli_rows
    )
    day = date_to_serial(AS_OF)
    assert {r[headers.index("Date")] for r in letters_rows} == {day}
    contact = dict(zip(schema.CONTACTS.headers, contacts_rows[0], strict=True))
    assert contact["Method"] == "Letter" and contact["Successful"] == "No"
    assert contact["Date"] == day and f"batch {cli.batch}" in contact["Notes"]


def test_the_batch_writes_only_rows_appended_to_letters_and_contacts_in_one_go(
    generated: tuple[list[dict], dict[str, Any], bytes], workbook: Path
) -> None:
    actions, _, _ = generated
    allowed = {sheet_index(workbook, s) for s in ("Letters", "Contacts", "Appointments")}
    writes = actions[:-1]  # all computed first; the download offer comes last
    assert writes and {a["sheet_position"] for a in writes} <= allowed
    assert {a["func"] for a in writes} <= {"setValues", "addTableRow"}


def test_the_pdf_is_served_once_with_every_letter_printed(
    client: TestClient, generated: tuple[list[dict], dict[str, Any], bytes], tmp_path: Path
) -> None:
    _, offer, _ = generated
    response = client.get(f"/pyxl/download/{offer['id']}", headers=HEADERS)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert offer["filename"] in response.headers["content-disposition"]
    pdf = tmp_path / "letters.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout
    pages = text.decode().split("\f")[:-1]
    printed = int(offer["summary"].split()[0])
    assert len(pages) >= printed
    again = client.get(f"/pyxl/download/{offer['id']}", headers=HEADERS)
    assert again.status_code == 404 and "already downloaded" in again.json()["detail"]


def test_a_download_without_the_access_code_is_refused_and_the_file_kept(
    client: TestClient, tmp_path: Path
) -> None:
    made = tmp_path / "report.pdf"
    made.write_bytes(b"%PDF-1.4 test")
    offered = downloads.offer(made, "report.pdf", "application/pdf")
    for headers in ({}, {"Authorization": "wrong", "Auth-Provider": "pyxl"}):
        response = client.get(f"/pyxl/download/{offered.id}", headers=headers)
        assert response.status_code == 401 and "access code" in response.json()["detail"]
    response = client.get(f"/pyxl/download/{offered.id}", headers=HEADERS)
    assert response.status_code == 200 and response.content == b"%PDF-1.4 test"


@pytest.mark.parametrize("file_id", ["x" * 32, "../downloads", "a" * 31 + "."])
def test_an_unknown_or_malformed_download_id_is_not_found(client: TestClient, file_id: str) -> None:
    response = client.get(f"/pyxl/download/{file_id}", headers=HEADERS)
    assert response.status_code == 404


def test_a_rerun_the_same_day_prints_again_but_logs_nothing_twice(
    client: TestClient, workbook: Path, tmp_path: Path
) -> None:
    logged = tmp_path / "caseload.xlsx"  # the book as Excel holds it after the first batch
    shutil.copy(workbook, logged)
    first = run_letters(logged, AS_OF, out_dir=tmp_path / "out")
    book = book_payload(logged, "Clients")
    shown = callback(script(client, "preview_letters", book, "all", "2026-11-23"), "pyxlPreview")
    assert f"({len(first.made)} already printed today" in shown["title"]
    actions = script(client, "generate_letters", book, *shown["confirm"]["args"])
    offer = callback(actions, "pyxlOffer")
    assert actions[:-1] == []  # nothing logged again
    assert offer["summary"].startswith(f"{len(first.made)} letters printed")
    assert "0 logged" in offer["summary"] and offer["id"]


def test_printing_refuses_when_the_queue_changed_since_the_preview(
    client: TestClient, workbook: Path, previewed: dict[str, Any]
) -> None:
    as_of, _, cases = previewed["confirm"]["args"]
    body = {**book_payload(workbook, "Clients"), "args": [as_of, "0" * 16, cases]}
    response = client.post(
        "/xlwings/custom-scripts-call/generate_letters", json=body, headers=HEADERS
    )
    assert response.status_code == 400
    assert "changed since the preview" in response.text and "actions" not in response.text


def test_a_workbook_without_a_letters_sheet_is_refused_with_the_sheet_named(
    client: TestClient, workbook: Path
) -> None:
    book = book_payload(workbook, "Clients")
    book["sheets"] = [s for s in book["sheets"] if s["name"] != "Letters"]
    book["book"]["active_sheet_index"] = 0
    body = {**book, "args": ["all", "2026-11-23"]}
    response = client.post(
        "/xlwings/custom-scripts-call/preview_letters", json=body, headers=HEADERS
    )
    assert response.status_code == 400 and "no Letters sheet" in response.text


def sheet_cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
    book = openpyxl.load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_the_report_button_offers_the_same_report_as_pyxl_report_and_writes_nothing(
    client: TestClient, workbook: Path, tmp_path: Path
) -> None:
    before = workbook.read_bytes()
    actions = script(client, "build_report", book_payload(workbook, "Clients"), "2026-11-23")
    assert [a["func"] for a in actions] == ["runMacro"]  # nothing written to the book
    assert workbook.read_bytes() == before
    offer = callback(actions, "pyxlOffer")
    assert offer["filename"] == "report-2026-11-23.xlsx" and offer["problems"] == []
    response = client.get(f"/pyxl/download/{offer['id']}", headers=HEADERS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    got = tmp_path / "from-excel.xlsx"
    got.write_bytes(response.content)
    copy = tmp_path / workbook.name  # the same name: the report lists its workbooks
    copy.write_bytes(before)
    cli = run_report([copy], AS_OF, tmp_path / "cli" / "report.xlsx")
    assert offer["summary"].startswith(f"Supervisor report for {cli.report.scope} as of 2026-11-23")
    assert f"{cli.report.snapshot['overdue']} overdue" in offer["summary"]
    assert sheet_cells(got) == sheet_cells(cli.path)


def test_the_report_workbook_opens_in_libreoffice(
    client: TestClient, workbook: Path, tmp_path: Path, soffice: str
) -> None:
    from pyxl.adapters import libreoffice

    actions = script(client, "build_report", book_payload(workbook, "Clients"), "2026-11-23")
    offer = callback(actions, "pyxlOffer")
    got = tmp_path / offer["filename"]
    got.write_bytes(client.get(f"/pyxl/download/{offer['id']}", headers=HEADERS).content)
    pdf = libreoffice.to_pdf(got, tmp_path)
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
