"""The add-in server refuses before it works (an ASGI middleware around xlwings Server).

xlwings Server reads and parses a request's whole body, and builds the book from it, before
its sign-in dependency runs: a malformed or 50 MB body without the access code got a 500,
and a 500 MB one was read into memory. Here, before any of that:

1. every request with a body is signed in first (the same providers xlwings Server uses,
   from the headers only): without the code, 401 and the body is never read;
2. a body larger than MAX_BODY_BYTES is refused with 413, by its declared length or, for
   a body sent in chunks, as soon as it passes the limit;
3. a script is dispatched only if a button (or a preview's confirm) names it: any other
   name (`os`, `settings`, `__class__`) gets 404 without a lookup on the scripts module;
4. the manifest takes its URLs from the configuration (XLWINGS_HOSTNAME) or the address
   the server listens on, never from the request's Host header.

A script call then goes to the add-in's own route for it (OWN_SCRIPTS_PATH, in
addin/routers/custom.py), which runs it as xlwings Server does but makes its answer JSON
in a worker thread.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY_LIMIT_VARIABLE = "PYXL_MAX_BODY_MB"
# The whole book Office.js sends for a 5,000-client branch (the Excel speed target) is about
# 23 MB of JSON; 100 MB leaves room for four times that. A bigger caseload raises it with
# PYXL_MAX_BODY_MB, or uses `pyxl recompute`.
DEFAULT_MAX_BODY_MB = 100
SCRIPTS_PATH = "/xlwings/custom-scripts-call/"
OWN_SCRIPTS_PATH = "/pyxl/custom-scripts-call/"
MANIFEST_PATHS = ("/manifest", "/manifest.xml", "/manifest/download")
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def max_body_bytes() -> int:
    try:
        megabytes = float(os.environ.get(BODY_LIMIT_VARIABLE, DEFAULT_MAX_BODY_MB))
    except ValueError:
        megabytes = DEFAULT_MAX_BODY_MB
    return int(megabytes * 1024 * 1024)


class Guard:
    """The checks above, in that order, around the xlwings Server app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = _local_path(scope)
        if path in MANIFEST_PATHS:
            await self.app(_own_host(scope), receive, send)
            return
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        refused = await _sign_in(scope)
        if refused is not None:
            await _answer(send, *refused)
            return
        for prefix in (SCRIPTS_PATH, OWN_SCRIPTS_PATH):  # the own route too, if called as such
            if path.startswith(prefix) and path[len(prefix) :] not in button_scripts():
                await _answer(send, 404, "pyxl: no button runs this script.")
                return
        if path.startswith(SCRIPTS_PATH):
            scope = _own_script_call(scope)
        limit = max_body_bytes()
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _answer(send, 413, _too_large(limit))
            return
        await self._bounded(scope, receive, send, limit)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """A body of declared length (the server holds it to that length) goes on as it is;
        one sent in chunks is read here up to the limit, then handed on, or refused."""
        if _header(scope, b"content-length") is not None:
            await self.app(scope, receive, send)
            return
        pieces: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay(pieces, message, receive), send)
                return
            pieces.append(message.get("body", b""))
            seen += len(pieces[-1])
            if seen > limit:
                await _answer(send, 413, _too_large(limit))
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(pieces, None, receive), send)


def _replay(pieces: list[bytes], last: Message | None, receive: Receive | None = None) -> Receive:
    """A receive that gives the body read so far in one message, then goes on as before."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if last is not None:  # the client went away while sending
                return last
            return {"type": "http.request", "body": b"".join(pieces), "more_body": False}
        assert receive is not None
        return await receive()

    return replay


def button_scripts() -> set[str]:
    from pyxl.excel.buttons import BUTTONS, CONFIRM_SCRIPTS

    return {b.script for b in BUTTONS} | set(CONFIRM_SCRIPTS)


async def _sign_in(scope: Scope) -> tuple[int, str] | None:
    """None if the request's headers sign a user in; else the status and message."""
    from fastapi import HTTPException
    from xlwings_server.dependencies import authenticate

    try:
        await authenticate(
            token_string=_header(scope, b"authorization") or "",
            auth_provider=_header(scope, b"auth-provider"),
        )
    except HTTPException as exc:
        return exc.status_code, str(exc.detail)
    return None


def _own_script_call(scope: Scope) -> Scope:
    """The scope of a script call sent to the add-in's own route for it."""
    path = scope["path"]
    at = path.rindex(SCRIPTS_PATH)
    own = path[:at] + OWN_SCRIPTS_PATH + path[at + len(SCRIPTS_PATH) :]
    return {**scope, "path": own, "raw_path": own.encode()}


def _own_host(scope: Scope) -> Scope:
    """The scope with its Host header set to the server's own address (xlwings Server builds
    the manifest's URLs from it when XLWINGS_HOSTNAME is not set)."""
    server = scope.get("server")
    if not server:
        return scope
    host, port = server[0], server[1]
    default = {"http": 80, "https": 443}.get(scope.get("scheme", "http"))
    name = f"[{host}]" if ":" in str(host) else str(host)
    value = name if port in (None, default) else f"{name}:{port}"
    headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"host"]
    return {**scope, "headers": [*headers, (b"host", value.encode("latin-1"))]}


def _local_path(scope: Scope) -> str:
    """The path below the app's own prefix (XLWINGS_APP_PATH, and any ASGI root path)."""
    from xlwings_server.config import settings

    path: str = scope.get("path", "")
    for prefix in (scope.get("root_path", ""), settings.app_path or ""):
        if prefix and path.startswith(prefix):
            path = path[len(prefix) :]
    return path


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _too_large(limit: int) -> str:
    return (
        f"pyxl: the request is larger than the server accepts ({limit // (1024 * 1024)} MB). "
        f"For a caseload this big use `pyxl recompute`, or raise {BODY_LIMIT_VARIABLE}."
    )


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
