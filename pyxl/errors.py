"""Problems the person running pyxl can fix, and the exit codes the command line gives.

Raise `UserError` (or `Refused`, when pyxl stopped before doing harm) anywhere with a message
that names the file and says what to do: the command line prints it as one line
(`pyxl: MESSAGE`, no traceback) and exits with its code; the Excel add-in shows it as it is.
"""

from __future__ import annotations

import errno

OK = 0  # done
DATA_PROBLEMS = 1  # done, but the data has problems to fix (rows left out, letters not made)
REFUSED = 2  # nothing done: the input is unusable, or writing was refused


class UserError(Exception):
    """A problem the user can fix. The message is one or two sentences: what happened to
    which file, and what to do."""

    def __init__(self, message: str, exit_code: int = REFUSED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Refused(UserError):
    """pyxl stopped before doing harm: the message says what, where, and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message, REFUSED)


_WHAT_TO_DO = {
    errno.ENOSPC: "the disk is full. Free some space there (or ask IT) and run the command again.",
    errno.EDQUOT: "your disk quota is used up. Free some space (or ask IT) and run it again.",
    errno.EROFS: "the folder is read-only. Use a folder you can write to, or ask IT to make "
    "this one writable.",
    errno.EACCES: "you are not allowed to change it. Use a folder you can write to, or ask "
    "whoever manages the folder.",
    errno.EPERM: "you are not allowed to change it. Use a folder you can write to, or ask "
    "whoever manages the folder.",
    errno.ENAMETOOLONG: "the name is too long for this disk. Use a shorter file or folder name.",
    errno.EEXIST: "it already exists. Choose another name, or move the existing one away.",
    errno.ENOENT: "there is no such file or folder (No such file or directory). Check the name "
    "and the folder.",
    errno.EISDIR: "it is a folder, not a file. Give a file name.",
    errno.ENOTDIR: "part of the path is a file, not a folder. Check the path.",
}


def os_advice(exc: OSError) -> str:
    """What happened and what to do, for an error of the operating system."""
    advice = _WHAT_TO_DO.get(exc.errno or 0)
    if advice is None:
        reason = exc.strerror or type(exc).__name__
        advice = f"{reason[:1].lower()}{reason[1:]}. Check the disk and the folder, then try again."
    return advice


def describe_os_error(exc: OSError, where: object = None) -> str:
    """One line for an error of the operating system: the path (the error's own, else
    `where`), what happened, what to do; never "[Errno N]"."""
    if exc.errno is None:  # raised by pyxl with its own message
        return str(exc)
    path = exc.filename if exc.filename is not None else where
    if path is not None and exc.filename2 is not None:
        path = f"{path} -> {exc.filename2}"
    return f"{path if path is not None else 'a file'}: {os_advice(exc)}"
