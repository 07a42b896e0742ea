"""Run the pyxl add-in on xlwings Server: configuration, the ASGI app and `pyxl serve`.

xlwings Server reads its settings from XLWINGS_* environment variables when it
is first imported, so `configure` sets them (keeping any the office already
set) before `app()` imports it. The project directory is pyxl/excel/addin.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from pyxl.excel import ensure_license, uploads
from pyxl.excel.guard import Guard
from pyxl.services.sheets import schema

ADDIN_DIR = Path(__file__).with_name("addin")
TOKEN_VARIABLE = "PYXL_ACCESS_CODE"  # read by addin/auth/pyxl

DEFAULTS = {
    "XLWINGS_FUNCTIONS_NAMESPACE": "PYXL",
    "XLWINGS_PROJECT_NAME": "pyxl",
    "XLWINGS_ENVIRONMENT": "prod",
    "XLWINGS_AUTH_PROVIDERS": '["pyxl"]',
    "XLWINGS_ENABLE_SOCKETIO": "false",
    "XLWINGS_ENABLE_HOTRELOAD": "false",
    "XLWINGS_ENABLE_EXAMPLES": "false",
    "XLWINGS_ENABLE_BOOTSTRAP": "true",
    "XLWINGS_ENABLE_HTMX": "false",
    "XLWINGS_ENABLE_ALPINEJS_CSP": "false",
}


def configure(access_code: str | None = None) -> str:
    """Set xlwings Server's settings (an office's own XLWINGS_* values win); return the code.

    The access code signs one user in (provider "pyxl"); with Entra ID configured
    instead (XLWINGS_AUTH_PROVIDERS=["entraid"]) it is not used.
    """
    ensure_license()
    if sys.platform != "emscripten":
        # xlwings asks for Pyodide's JsNull on every cell it converts; a failed import
        # searches sys.path each time (about 0.4 ms a cell). Off Pyodide, fail it at once.
        sys.modules.setdefault("pyodide", None)  # type: ignore[arg-type]
    os.environ["XLWINGS_PROJECT_DIR"] = str(ADDIN_DIR)
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    code = access_code or os.environ.get(TOKEN_VARIABLE) or secrets.token_urlsafe(12)
    os.environ[TOKEN_VARIABLE] = code
    return code


def app() -> Any:
    """The ASGI app (xlwings Server with the pyxl project), configured first if needed."""
    if "XLWINGS_PROJECT_DIR" not in os.environ:
        configure()
    import xlwings

    if not xlwings.__pro__:
        raise RuntimeError(
            "xlwings was imported before XLWINGS_LICENSE_KEY was set: import pyxl.excel first"
        )
    from xlwings_server.main import main_app
    from xlwings_server.templates import templates

    from pyxl.excel.buttons import BUTTONS

    templates.env.globals["pyxl_buttons"] = [dataclasses.asdict(b) for b in BUTTONS]
    templates.env.globals["pyxl_lists"] = schema.LISTS
    templates.env.globals["pyxl_request_limit"] = uploads.request_limit()
    return Guard(main_app)  # sign-in, body limit, button scripts, manifest host: first


def serve(host: str = "127.0.0.1", port: int = 8000, **ssl: str) -> None:
    """Start the server for one user (uvicorn, one worker) and print how to connect."""
    import uvicorn

    code = configure()
    scheme = "https" if ssl.get("ssl_certfile") else "http"
    print(f"pyxl add-in on {scheme}://{host}:{port}")
    print(f"  manifest:    {scheme}://{host}:{port}/manifest.xml (load it in Excel)")
    print(f"  access code: {code} (enter it once in the pyxl task pane)")
    uvicorn.run(app(), host=host, port=port, **{k: v for k, v in ssl.items() if v})
