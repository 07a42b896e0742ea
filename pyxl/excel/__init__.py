"""pyxl inside Excel: custom functions and buttons, thin wrappers over the services.

xlwings' server features need a license key in XLWINGS_LICENSE_KEY. Local use and
the tests default to the free `noncommercial` key (PolyForm Noncommercial: fine
for public agencies and nonprofits); an office that needs the commercial
license sets its own key in the environment before starting `pyxl serve`.
"""

from __future__ import annotations

import os

LICENSE_VARIABLE = "XLWINGS_LICENSE_KEY"
DEFAULT_LICENSE = "noncommercial"


def ensure_license() -> str:
    """The license key in force: the environment's, else the noncommercial one."""
    return os.environ.setdefault(LICENSE_VARIABLE, DEFAULT_LICENSE)


ensure_license()
