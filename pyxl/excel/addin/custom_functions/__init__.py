"""The PYXL.* custom functions, as xlwings Server looks them up (see pyxl.excel.udfs)."""

from pyxl.excel.udfs import (
    due_date,
    networkdays,
    next_action,
    next_due,
    overdue_count,
    status,
    workday,
)

__all__ = [
    "due_date",
    "networkdays",
    "next_action",
    "next_due",
    "overdue_count",
    "status",
    "workday",
]
