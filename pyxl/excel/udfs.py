"""The PYXL.* custom functions as xlwings Server registers them (Office.js add-in).

Thin wrappers: each names its parameters for Excel's formula help and hands the
cells to pyxl.excel.functions. Parameters carry no type hints on purpose:
xlwings reads a hint as a converter, and these take raw ranges ("raw": the
arrays as Office.js sent them, converted by pyxl a column at a time rather than
by xlwings cell by cell). The namespace
PYXL comes from the add-in manifest (XLWINGS_FUNCTIONS_NAMESPACE).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import xlwings as xw
from xlwings.server import arg, func, ret

from pyxl.excel import functions
from pyxl.excel.cells import DATE_FORMAT, Grid
from pyxl.excel.workers import off_loop

_HOLIDAYS = "Optional: the Holidays table with headers (Holidays[#All]); else the built-in calendar"
_TABLES = (
    "The workbook's tables with headers, any order: Clients[#All], Contacts[#All], "
    "Appointments[#All], Hours[#All], Services[#All], Plans[#All], Branches[#All], "
    "Staff[#All], Holidays[#All], Settings[#All]"
)
_AS_OF = "The date to evaluate on, usually TODAY()"
_CASE_IDS = "Case IDs: a cell or a column, e.g. Clients[Case ID]"


@off_loop
def _call(compute: Callable[..., Grid], *args: Any) -> Grid:
    """Whole-call problems become #VALUE! with the message (xlwings answers HTTP 400).
    Computed in a worker thread (pyxl.excel.workers): no call waits for another."""
    try:
        return compute(*args)
    except functions.FunctionError as exc:
        raise xw.XlwingsError(str(exc)) from None


@func
@arg("start", "raw", doc="Start dates: a cell or a column")
@arg("days", "raw", doc="Business days to add (negative to go back): a number or a column")
@arg("calendar", "raw", doc='Calendar name, e.g. "TX" (a branch\'s Calendar); or a column')
@arg("holidays", "raw", doc=_HOLIDAYS)
@ret(date_format=DATE_FORMAT)
async def workday(start, days, calendar, holidays=None):
    """Excel WORKDAY on an office calendar: skips weekends and the office's closed days."""
    return await _call(functions.workday, start, days, calendar, holidays)


@func
@arg("start", "raw", doc="Start dates: a cell or a column")
@arg("end", "raw", doc="End dates: a cell or a column")
@arg("calendar", "raw", doc='Calendar name, e.g. "TX"; or a column of them')
@arg("holidays", "raw", doc=_HOLIDAYS)
async def networkdays(start, end, calendar, holidays=None):
    """Excel NETWORKDAYS on an office calendar: business days from start to end, both counted."""
    return await _call(functions.networkdays, start, end, calendar, holidays)


@func
@arg("rule", "raw", doc='Rule ID, e.g. "A-01"; or a column of them')
@arg("trigger", "raw", doc="The date the rule's clock starts from (referral, last contact, ...)")
@arg("calendar", "raw", doc='Calendar name, e.g. "AK"; or a column of them')
@arg("holidays", "raw", doc=_HOLIDAYS)
@arg("settings", "raw", doc="Optional: the Settings table with headers (Settings[#All])")
@ret(date_format=DATE_FORMAT)
async def due_date(rule, trigger, calendar, holidays=None, settings=None):
    """The due date a rule gives for a trigger date, on the office calendar and settings."""
    return await _call(functions.due_date, rule, trigger, calendar, holidays, settings)


@func
@arg("case_ids", "raw", doc=_CASE_IDS)
@arg("as_of", "raw", doc=_AS_OF)
@arg("tables", "raw", doc=_TABLES)
async def status(case_ids, as_of, *tables):
    """Each client's most urgent status: OVERDUE, DUE SOON, DUE, MET or N/A."""
    return await _call(functions.status, case_ids, as_of, *tables)


@func
@arg("case_ids", "raw", doc=_CASE_IDS)
@arg("as_of", "raw", doc=_AS_OF)
@arg("tables", "raw", doc=_TABLES)
async def next_action(case_ids, as_of, *tables):
    """Each client's next action: the non-compliance flow's, else the most urgent obligation."""
    return await _call(functions.next_action, case_ids, as_of, *tables)


@func
@arg("case_ids", "raw", doc=_CASE_IDS)
@arg("as_of", "raw", doc=_AS_OF)
@arg("tables", "raw", doc=_TABLES)
@ret(date_format=DATE_FORMAT)
async def next_due(case_ids, as_of, *tables):
    """Each client's next due date among open obligations (blank when nothing is open)."""
    return await _call(functions.next_due, case_ids, as_of, *tables)


@func
@arg("keys", "raw", doc="Case IDs, branch names or case manager names: a cell or a column")
@arg("as_of", "raw", doc=_AS_OF)
@arg("tables", "raw", doc=_TABLES)
async def overdue_count(keys, as_of, *tables):
    """Overdue obligations per case, or per branch or case manager for those names."""
    return await _call(functions.overdue_count, keys, as_of, *tables)


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
