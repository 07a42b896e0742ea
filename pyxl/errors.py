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


_FREE_SPACE = "free some space there (or ask IT) and run the command again"
_ELSEWHERE = "use a folder you can write to, or ask whoever manages the folder for access"
_WHAT_TO_DO = {
    errno.ENOENT: "check the name and the folder",
    errno.ENOTDIR: "check the name and the folder",
    errno.EISDIR: "give the workbook file, not a folder",
    errno.EACCES: _ELSEWHERE,
    errno.EPERM: _ELSEWHERE,
    errno.EROFS: _ELSEWHERE,
    errno.ENOSPC: _FREE_SPACE,
    errno.EDQUOT: _FREE_SPACE,
    errno.ENAMETOOLONG: "use a shorter file or folder name",
    errno.EEXIST: "choose another name, or move the existing one away",
}
# The system's words, where they are not plain enough.
_WHAT_HAPPENED = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "your disk quota is used up",
    errno.EROFS: "the folder is read-only",
    errno.ENAMETOOLONG: "the name is too long for this disk",
    errno.EEXIST: "it already exists",
}


def os_advice(exc: OSError) -> str:
    """What happened and what to do, for an error of the operating system (no file name)."""
    reason = _WHAT_HAPPENED.get(exc.errno or 0) or exc.strerror or str(exc) or type(exc).__name__
    todo = _WHAT_TO_DO.get(exc.errno or 0)
    return f"{reason}: {todo}." if todo else f"{reason}."


def describe_os_error(exc: OSError, where: object = None) -> str:
    """An OSError in words, naming its file (else `where`, e.g. the folder written to, for a
    failed write that names none) and what to do, without "[Errno N]"."""
    if exc.errno is None and exc.filename is None:  # raised by pyxl with its own message
        return str(exc)
    name = os.fsdecode(exc.filename) if exc.filename is not None else where
    if name is None:
        return os_advice(exc)
    if exc.filename2 is not None:
        return f"{name} -> {os.fsdecode(exc.filename2)}: {os_advice(exc)}"
    return f"{name}: {os_advice(exc)}"
