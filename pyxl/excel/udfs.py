"""The PYXL.* custom functions as xlwings Server registers them (Office.js add-in).

Thin wrappers: each names its parameters for Excel's formula help and hands the
cells to pyxl.excel.functions. Parameters carry no type hints on purpose:
xlwings reads a hint as a converter, and these take raw ranges. The namespace
PYXL comes from the add-in manifest (XLWINGS_FUNCTIONS_NAMESPACE).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import xlwings as xw
from xlwings.server import arg, func, ret

from pyxl.excel import functions
from pyxl.excel.cells import DATE_FORMAT, Grid

_HOLIDAYS = "Optional: the Holidays table with headers (Holidays[#All]); else the built-in calendar"
_TABLES = (
    "The workbook's tables with headers, any order: Clients[#All], Contacts[#All], "
    "Appointments[#All], Hours[#All], Services[#All], Plans[#All], Branches[#All], "
    "Staff[#All], Holidays[#All], Settings[#All]"
)
_AS_OF = "The date to evaluate on, usually TODAY()"
_CASE_IDS = "Case IDs: a cell or a column, e.g. Clients[Case ID]"


def _call(compute: Callable[..., Grid], *args: Any) -> Grid:
    """Whole-call problems become #VALUE! with the message (xlwings answers HTTP 400)."""
    try:
        return compute(*args)
    except functions.FunctionError as exc:
        raise xw.XlwingsError(str(exc)) from None


@func
@arg("start", ndim=2, doc="Start dates: a cell or a column")
@arg("days", ndim=2, doc="Business days to add (negative to go back): a number or a column")
@arg("calendar", ndim=2, doc='Calendar name, e.g. "TX" (a branch\'s Calendar); or a column')
@arg("holidays", ndim=2, doc=_HOLIDAYS)
@ret(date_format=DATE_FORMAT)
def workday(start, days, calendar, holidays=None):
    """Excel WORKDAY on an office calendar: skips weekends and the office's closed days."""
    return _call(functions.workday, start, days, calendar, holidays)


@func
@arg("start", ndim=2, doc="Start dates: a cell or a column")
@arg("end", ndim=2, doc="End dates: a cell or a column")
@arg("calendar", ndim=2, doc='Calendar name, e.g. "TX"; or a column of them')
@arg("holidays", ndim=2, doc=_HOLIDAYS)
def networkdays(start, end, calendar, holidays=None):
    """Excel NETWORKDAYS on an office calendar: business days from start to end, both counted."""
    return _call(functions.networkdays, start, end, calendar, holidays)


@func
@arg("rule", ndim=2, doc='Rule ID, e.g. "A-01"; or a column of them')
@arg("trigger", ndim=2, doc="The date the rule's clock starts from (referral, last contact, ...)")
@arg("calendar", ndim=2, doc='Calendar name, e.g. "AK"; or a column of them')
@arg("holidays", ndim=2, doc=_HOLIDAYS)
@arg("settings", ndim=2, doc="Optional: the Settings table with headers (Settings[#All])")
@ret(date_format=DATE_FORMAT)
def due_date(rule, trigger, calendar, holidays=None, settings=None):
    """The due date a rule gives for a trigger date, on the office calendar and settings."""
    return _call(functions.due_date, rule, trigger, calendar, holidays, settings)


@func
@arg("case_ids", ndim=2, doc=_CASE_IDS)
@arg("as_of", ndim=2, doc=_AS_OF)
@arg("tables", ndim=2, doc=_TABLES)
def status(case_ids, as_of, *tables):
    """Each client's most urgent status: OVERDUE, DUE SOON, DUE, MET or N/A."""
    return _call(functions.status, case_ids, as_of, *tables)


@func
@arg("case_ids", ndim=2, doc=_CASE_IDS)
@arg("as_of", ndim=2, doc=_AS_OF)
@arg("tables", ndim=2, doc=_TABLES)
def next_action(case_ids, as_of, *tables):
    """Each client's next action: the non-compliance flow's, else the most urgent obligation."""
    return _call(functions.next_action, case_ids, as_of, *tables)


@func
@arg("case_ids", ndim=2, doc=_CASE_IDS)
@arg("as_of", ndim=2, doc=_AS_OF)
@arg("tables", ndim=2, doc=_TABLES)
@ret(date_format=DATE_FORMAT)
def next_due(case_ids, as_of, *tables):
    """Each client's next due date among open obligations (blank when nothing is open)."""
    return _call(functions.next_due, case_ids, as_of, *tables)


@func
@arg("keys", ndim=2, doc="Case IDs, branch names or case manager names: a cell or a column")
@arg("as_of", ndim=2, doc=_AS_OF)
@arg("tables", ndim=2, doc=_TABLES)
def overdue_count(keys, as_of, *tables):
    """Overdue obligations per case, or per branch or case manager for those names."""
    return _call(functions.overdue_count, keys, as_of, *tables)


def call_body(name: str, args: list[Any], caller: str = "Sheet1!A1") -> dict[str, Any]:
    """The JSON that Office.js posts for one call (xlwings' custom-functions-code.js), with
    Excel's en-US culture: for tests, benchmarks and trying a function with curl."""
    return {
        "func_name": name,
        "args": args,
        "caller_address": caller,
        "content_language": "en-US",
        "culture_info_name": "en-US",
        "date_format": "M/d/yyyy",
        "version": xw.__version__,
        "runtime": "1.4",
        "client": "Office.js",
    }


FUNCTIONS = (workday, networkdays, due_date, status, next_action, next_due, overdue_count)
