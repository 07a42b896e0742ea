"""The add-in server refuses before it works: sign-in before the body is read, a body size
limit, scripts only from the buttons, the manifest's host from the configuration."""

from __future__ import annotations

import pytest
from lxml import etree

from pyxl.excel.server import app, configure  # before xlwings: it sets the license key

configure("test-code")

from fastapi.testclient import TestClient  # noqa: E402

from pyxl.excel import guard  # noqa: E402
from pyxl.excel.buttons import BUTTONS  # noqa: E402
from tests.integration.officejs import HEADERS  # noqa: E402

SCRIPT = "/xlwings/custom-scripts-call/refresh_due_list"
FUNCTION = "/xlwings/custom-functions-call"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(app(), raise_server_exceptions=False)


@pytest.mark.parametrize("path", [SCRIPT, FUNCTION])
@pytest.mark.parametrize(
    "body", [b"{not json", b"[" * 100_000, b'{"book": "' + b"x" * (50 << 20) + b'"}']
)
def test_without_the_code_malformed_and_huge_bodies_get_401(
    client: TestClient, path: str, body: bytes
) -> None:
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 401
    assert "access code" in response.json()["detail"]


def test_a_wrong_code_gets_401_before_the_body_is_read(client: TestClient) -> None:
    headers = {"Authorization": "wrong", "Auth-Provider": "pyxl"}
    response = client.post(SCRIPT, content=b"{not json", headers=headers)
    assert response.status_code == 401


def test_a_body_over_the_limit_gets_413(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(guard.BODY_LIMIT_VARIABLE, "1")
    big = b'{"x": "' + b"y" * (2 << 20) + b'"}'
    response = client.post(SCRIPT, content=big, headers=HEADERS)
    assert response.status_code == 413
    assert "1 MB" in response.json()["detail"] and "pyxl recompute" in response.json()["detail"]


def test_a_body_sent_in_chunks_is_cut_off_at_the_limit(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(guard.BODY_LIMIT_VARIABLE, "1")

    def chunks():
        for _ in range(64):
            yield b"y" * (64 << 10)

    response = client.post(FUNCTION, content=chunks(), headers=HEADERS)
    assert response.status_code == 413


def test_the_limit_is_documented_and_fits_the_excel_speed_target() -> None:
    assert guard.max_body_bytes() == guard.DEFAULT_MAX_BODY_MB << 20
    assert guard.DEFAULT_MAX_BODY_MB * 1024 * 1024 > 4 * 23_000_000  # a 5,000-client book


@pytest.mark.parametrize("route", [guard.SCRIPTS_PATH, guard.OWN_SCRIPTS_PATH])
@pytest.mark.parametrize("name", ["os", "np", "settings", "__class__", "json", "scripts"])
def test_only_the_buttons_scripts_are_dispatched(client: TestClient, name: str, route: str) -> None:
    response = client.post(f"{route}{name}", json={}, headers=HEADERS)
    assert response.status_code == 404
    assert "no button runs this script" in response.json()["detail"]
    assert "Traceback" not in response.text


def test_every_button_script_is_dispatched() -> None:
    assert {b.script for b in BUTTONS} <= guard.button_scripts()


def manifest_urls(client: TestClient, **headers: str) -> set[str]:
    text = client.get("/manifest.xml", headers=headers).text
    root = etree.fromstring(text.encode())
    ns = {"bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0"}
    return {u.get("DefaultValue") for u in root.iterfind(".//bt:Url", ns)}


def test_the_manifest_never_takes_its_host_from_the_request(client: TestClient) -> None:
    urls = manifest_urls(client, Host="evil.example")
    assert urls and all(u.startswith("http://testserver/") for u in urls), urls


def test_the_manifest_takes_its_host_from_the_configuration(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xlwings_server.config import settings

    monkeypatch.setattr(settings, "hostname", "pyxl.office.example")
    urls = manifest_urls(client, Host="evil.example")
    assert urls and all(u.startswith("https://pyxl.office.example/") for u in urls), urls
