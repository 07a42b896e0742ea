"""Problems the person running pyxl can fix, and the exit codes the command line gives.

Raise `UserError` anywhere with a message that names the file and says what to do; the
command line prints it as one line (`pyxl: MESSAGE`, no traceback) and exits with its code.
"""

from __future__ import annotations

import errno
import os

OK = 0  # done
DATA_PROBLEMS = 1  # done, but the data has problems to fix (rows left out, letters not made)
REFUSED = 2  # nothing done: the input is unusable, or writing was refused


class UserError(Exception):
    """A problem the user can fix. The message is one or two sentences: what happened to
    which file, and what to do."""

    def __init__(self, message: str, exit_code: int = REFUSED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


_WHAT_TO_DO = {
    errno.ENOENT: "check the name and the folder",
    errno.ENOTDIR: "check the name and the folder",
    errno.EISDIR: "give the workbook file, not a folder",
    errno.EACCES: "ask whoever manages the folder for access",
    errno.EPERM: "ask whoever manages the folder for access",
}


def describe_os_error(exc: OSError) -> str:
    """An OSError in words, naming its file and what to do, without "[Errno N]"."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    todo = _WHAT_TO_DO.get(exc.errno or 0)
    reason += f": {todo}" if todo else ""
    if exc.filename is None:
        return f"{reason}."
    name = os.fsdecode(exc.filename)
    if exc.filename2 is not None:
        return f"{name} -> {os.fsdecode(exc.filename2)}: {reason}."
    return f"{name}: {reason}."
