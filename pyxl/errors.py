"""The one error type whose message is for the user as it is.

Raised by any layer for what the user can fix or must know (a file pyxl will not read or
overwrite, a full disk, a read-only folder): one line naming the file and what to do. The
command prints it and exits with 2; the Excel add-in shows it as it is.
"""

from __future__ import annotations

import errno


class Refused(Exception):
    """pyxl stopped before doing harm: the message says what, where, and what to do."""


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
    `where`), what happened, what to do."""
    if exc.errno is None:  # raised by pyxl with its own message
        return str(exc)
    path = exc.filename if exc.filename is not None else where
    return f"{path if path is not None else 'a file'}: {os_advice(exc)}"
