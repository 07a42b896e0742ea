"""The add-in's own routes: the upload of the sheets a button reads (pyxl.excel.uploads),
the download of a file a button made (pyxl.excel.downloads), fetched once by its id, and
xlwings Server's script call with its answer made JSON off the event loop.

Signed in like every call (the access code, or Entra ID for an office): without it,
or for an unknown or already fetched id, nothing is kept or served. An upload's body
is stored as it came, in a worker thread: it is read when the button's script runs.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response
from xlwings_server import dependencies as dep
from xlwings_server.config import settings
from xlwings_server.routers import xlwings as xlwings_routes

from pyxl.excel import downloads, uploads, writes
from pyxl.excel.guard import OWN_SCRIPTS_PATH

router = APIRouter()


@router.get("/pyxl/download/{file_id}")
async def download(file_id: str, current_user: dep.User) -> Response:
    taken = downloads.take(file_id)
    if taken is None:
        raise HTTPException(
            status_code=status.HTTP_404_NOT_FOUND,
            detail="pyxl: no such file, or it was already downloaded (each file is served "
            "once, within an hour of being made): run the button again.",
        )
    data, meta = taken
    return Response(
        data,
        media_type=meta.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(meta.filename)}",
            "Cache-Control": "no-store",
        },
    )


@router.post("/pyxl/upload")
async def upload_start(current_user: dep.User) -> dict[str, str]:
    return {"upload": await asyncio.to_thread(uploads.start)}


@router.post("/pyxl/upload/{upload_id}")
async def upload_piece(upload_id: str, request: Request, current_user: dep.User) -> dict[str, int]:
    body = await request.body()
    if len(body) > uploads.request_limit():
        raise HTTPException(
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            detail=f"pyxl: a piece of the upload is larger than {uploads.request_limit():,} "
            "bytes: reload the task pane (its pieces are made smaller than that)",
        )
    if not await asyncio.to_thread(uploads.add, upload_id, body):
        raise HTTPException(
            status_code=status.HTTP_404_NOT_FOUND,
            detail="pyxl: no such upload (it was used or is over an hour old): press the "
            "button again.",
        )
    return {"bytes": len(body)}


@router.post("/pyxl/progress/{upload_id}")
async def progress(upload_id: str, current_user: dep.User) -> dict[str, str | None]:
    """The step the button's script working on this upload is at (the task pane asks while
    it waits): reading the sheets sent, checking them, evaluating, writing."""
    return {"step": await asyncio.to_thread(uploads.step_of, upload_id)}


@router.post(f"{settings.app_path}{OWN_SCRIPTS_PATH}{{script_name}}")
async def custom_scripts_call(
    script_name: str, args: dep.ScriptArgs, book: dep.Book, current_user: dep.User
) -> Response:
    """xlwings Server's script call (pyxl.excel.guard sends script calls here), its answer
    turned into JSON in a worker thread: FastAPI's encoder would walk every cell of a
    Refresh's writes on the event loop, 0.8 s of a 5,000-client Refresh."""
    answer = await xlwings_routes.custom_scripts_call(script_name, args, book, current_user)
    body = await asyncio.to_thread(writes.answer_json, answer)
    return Response(body, media_type="application/json")
