"""`pyxl serve` starts the add-in server for one user: manifest, access code, refusal."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from lxml import etree


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_pyxl_serve_prints_the_access_code_and_serves_the_manifest_for_its_address(
    tmp_path: Path,
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XLWINGS_", "PYXL_"))}
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "pyxl.cli", "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                manifest = urllib.request.urlopen(f"{base}/manifest.xml", timeout=5).read()
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "pyxl serve did not answer in 60 s"
                time.sleep(0.3)
        root = etree.fromstring(manifest)
        assert root.find(".//{*}SourceLocation").get("DefaultValue") == f"{base}/taskpane.html"
        code = re.search(r"access code: (\S+)", log.read_text()).group(1)
        assert len(code) >= 12

        request = urllib.request.Request(
            f"{base}/xlwings/custom-functions-call",
            data=b'{"func_name": "workday", "args": []}',
            headers={"Content-Type": "application/json", "Auth-Provider": "pyxl"},
        )
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("a call without the access code was answered")
        except urllib.error.HTTPError as refused:
            assert refused.code == 401
    finally:
        server.terminate()
        server.wait(timeout=20)
