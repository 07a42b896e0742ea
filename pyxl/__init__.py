"""pyxl: a shared Excel caseload workbook backed by Python."""

from __future__ import annotations

import datetime as dt
import os


def version() -> str:
    """The installed version ("unknown" when run from a source tree never installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("pyxl-caseload")
    except PackageNotFoundError:
        return "unknown"


def now() -> dt.datetime:
    """Local time, or SOURCE_DATE_EPOCH (UTC) when set: the reproducible-builds convention, so
    the same command gives the same bytes (the tests, the committed example workbook)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).replace(tzinfo=None)
    return dt.datetime.now()
