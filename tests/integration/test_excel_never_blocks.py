"""The add-in's server never blocks: a long button leaves every other call answered at once.

A real server (uvicorn on 127.0.0.1) gets a Refresh that is held in the middle of its
evaluation until the test lets it go; a one-cell PYXL.WORKDAY sent meanwhile must be
answered while the Refresh is still held. On a server that ran scripts on its event
loop the function call would wait for the Refresh (and the test would fail, not hang:
the hold gives up after a minute).
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyxl.excel.server import app, configure  # before xlwings: it sets the license key

configure("test-code")

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from pyxl.excel import scripts  # noqa: E402
from pyxl.excel.cells import date_to_serial  # noqa: E402
from pyxl.services import demo_data  # noqa: E402
from pyxl.services.new_workbook import create_workbook  # noqa: E402
from tests.integration.officejs import HEADERS, book_payload, function_call  # noqa: E402

AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
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


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("blocks") / "caseload.xlsx"
    create_workbook(path, as_of=AS_OF, rows=demo_data.generate(30, as_of=AS_OF))
    return path


def test_a_function_call_is_answered_while_a_refresh_is_still_running(
    server_url: str, workbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    evaluate = scripts.evaluate_raw

    def held(*args: object, **kwargs: object) -> object:
        entered.set()
        release.wait(60)
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(scripts, "evaluate_raw", held)
    answered: list[str] = []
    body = {**book_payload(workbook, "Clients"), "args": ["all", AS_OF.isoformat()]}

    def refresh() -> None:
        url = f"{server_url}/xlwings/custom-scripts-call/refresh_due_list"
        response = httpx.post(url, json=body, headers=HEADERS, timeout=120)
        answered.append(f"refresh {response.status_code}")

    long_call = threading.Thread(target=refresh)
    long_call.start()
    try:
        assert entered.wait(60), "the refresh never reached its evaluation"
        start = float(date_to_serial(dt.date(2026, 10, 16)))
        response = httpx.post(
            f"{server_url}/xlwings/custom-functions-call",
            json=function_call("workday", start, 1, "AK"),
            headers=HEADERS,
            timeout=120,
        )
        answered.append(f"workday {response.status_code}")
    finally:
        release.set()
        long_call.join(120)
    assert answered == ["workday 200", "refresh 200"]
