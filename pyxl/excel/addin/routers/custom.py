"""The download route: a file a button made (pyxl.excel.downloads), fetched once by its id.

Signed in like every call (the access code, or Entra ID for an office): without it,
or for an unknown or already fetched id, nothing is served.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import Response
from xlwings_server import dependencies as dep

from pyxl.excel import downloads

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
