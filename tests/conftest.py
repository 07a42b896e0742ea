"""Shared fixtures. Tests that need a real component fail (never skip) when it is missing:
.ci/run installs LibreOffice, so a missing one is a broken set-up, not a reason to pass."""

from __future__ import annotations

import pytest

from pyxl.adapters import libreoffice


@pytest.fixture(scope="session")
def soffice() -> str:
    path = libreoffice.soffice_path()
    if path is None:
        pytest.fail(libreoffice.INSTALL_HINT, pytrace=False)
    return path
