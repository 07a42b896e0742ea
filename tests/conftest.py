"""Shared fixtures. Tests that need a real component fail (never skip) when it is missing:
.ci/run installs LibreOffice, so a missing one is a broken set-up, not a reason to pass."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pyxl.adapters import libreoffice

# Reproducible outputs: every Refresh in the tests (and in the commands they start) says it
# was made at this moment, so two runs of the same recompute give the same bytes.
os.environ.setdefault("SOURCE_DATE_EPOCH", "1795435200")  # 2026-11-23 12:00 UTC


@pytest.fixture(scope="session")
def soffice() -> str:
    path = libreoffice.soffice_path()
    if path is None:
        pytest.fail(libreoffice.INSTALL_HINT, pytrace=False)
    return path


@pytest.fixture(scope="session")
def png_pixels():
    """Read a rendered page (PNG) as an RGB pixel array, to check it is not blank."""

    def read(png: Path) -> np.ndarray:
        with Image.open(png) as image:
            return np.asarray(image.convert("RGB"))

    return read
