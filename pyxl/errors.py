"""The one error type whose message is for the user as it is.

Raised by any layer for what the user can fix or must know (a file pyxl will not read or
overwrite, a full disk, a read-only folder): one line naming the file and what to do. The
command prints it and exits with 2; the Excel add-in shows it as it is.
"""

from __future__ import annotations


class Refused(Exception):
    """pyxl stopped before doing harm: the message says what, where, and what to do."""
