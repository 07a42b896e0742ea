"""The buttons' scripts, as xlwings Server looks them up (see pyxl.excel.buttons)."""

from pyxl.excel.buttons import (
    build_report,
    generate_letters,
    log_contact,
    more_writes,
    preview_letters,
    refresh_due_list,
)

__all__ = [
    "build_report",
    "generate_letters",
    "log_contact",
    "more_writes",
    "preview_letters",
    "refresh_due_list",
]
