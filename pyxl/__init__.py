"""pyxl: a shared Excel caseload workbook backed by Python."""

from __future__ import annotations


def version() -> str:
    """The installed version ("unknown" when run from a source tree never installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("pyxl-caseload")
    except PackageNotFoundError:
        return "unknown"
