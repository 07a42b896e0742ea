"""The buttons' scripts, as xlwings Server looks them up (see pyxl.excel.buttons)."""

from pyxl.excel.buttons import log_contact, refresh_due_list

__all__ = ["log_contact", "refresh_due_list"]
