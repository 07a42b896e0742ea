"""One-user sign-in: the access code `pyxl serve` prints, sent by the add-in on every call.

An office signs in with Microsoft Entra ID instead (XLWINGS_AUTH_PROVIDERS=["entraid"]);
see the README.
"""

from __future__ import annotations

import os
import secrets

from fastapi import HTTPException, status
from xlwings_server.models import User

TOKEN_VARIABLE = "PYXL_ACCESS_CODE"


async def validate_token(token_string: str) -> User:
    expected = os.environ.get(TOKEN_VARIABLE, "")
    if expected and secrets.compare_digest(token_string.encode(), expected.encode()):
        return User(id="pyxl-local", name="pyxl user")
    raise HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="pyxl: wrong or missing access code. Enter the code `pyxl serve` printed "
        "in the task pane.",
    )
