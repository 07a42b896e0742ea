"""The caseload workbook's contract: sheets, their tables and columns.

Sheet names and column headers are a public contract (staff formulas, the
Excel functions and other tools refer to them); change them only with a
migration. Every sheet holds one Excel Table: title in A1, a one-line
description in A2, headers in row HEADER_ROW, data below.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pyxl.domain import model

HEADER_ROW = 3  # 1-based row of the table headers; data starts on the next row

Kind = Literal["text", "date", "bool", "number", "int", "choice", "value"]


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = "text"
    field: str | None = None  # domain attribute; None = kept in the sheet only
    required: bool = False
    choices: str | None = None  # name of a list on the hidden Lists sheet
    width: float = 14
    computed: bool = False  # written by pyxl recompute; never typed by staff
    help: str = ""
    earliest_year: int = 2000  # dates before this year are typing mistakes (not for births)
    wrap: bool = False  # long text wraps in the cell instead of running on
    number_format: str | None = None  # overrides the kind's format (e.g. weekday + date)
    # What a number can be (both ends included); int columns also hold whole numbers only.
    minimum: float | None = None
    maximum: float | None = None
    past_only: bool = False  # a date that cannot be after the as-of date (a birth)
    suggestions: str | None = None  # a list offered as a dropdown; other values are allowed


@dataclass(frozen=True)
class Sheet:
    name: str
    table: str  # Excel Table name (no spaces)
    title: str
    description: str
    columns: tuple[Column, ...]
    computed: bool = False  # the whole sheet is written by pyxl recompute
    key: str | None = None  # header of a column whose values must be unique
    added_later: bool = False  # older workbooks may lack it: missing is a warning, not an error

    def column(self, header: str) -> Column:
        return next(c for c in self.columns if c.header == header)

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)


# Dropdown lists, written to the hidden Lists sheet and referenced by name.
LISTS: dict[str, tuple[str, ...]] = {
    "Programs": tuple(p.value for p in model.Program),
    "YesNo": ("Yes", "No"),
    "Methods": model.CONTACT_METHODS,
    "Purposes": model.CONTACT_PURPOSES,
    "AppointmentTypes": model.APPOINTMENT_TYPES,
    "AppointmentStatuses": model.APPOINTMENT_STATUSES,
    "ServiceTypes": model.SERVICE_TYPES,
    "GapReasons": model.PLANNED_GAP_REASONS,
    "PlanTypes": model.PLAN_TYPES,
    "Activities": model.ACTIVITIES,
    "Languages": model.LANGUAGES,
    "Sexes": model.SEXES,
    "States": model.STATES,
    "FamilyTypes": model.FAMILY_TYPES,
    "Statuses": tuple(s.value for s in model.STATUS_ORDER),
    "NoncomplianceEvents": model.NONCOMPLIANCE_EVENTS,
    "Deciders": model.GOOD_CAUSE_DECIDERS,
}
# Lists whose values come from another table's key column (live ranges).
TABLE_LISTS = {"Branches": ("Branches", "Branch"), "CaseManagers": ("Staff", "Case Manager")}

C = Column

CLIENTS = Sheet(
    "Clients",
    "Clients",
    "Clients",
    "One row per case. Type here; the grey columns on the right are filled by Refresh.",
    (
        C("Case ID", field="case_id", required=True, width=12, help="Unique case number, as text"),
        C("Person ID", field="person_id", width=12, help="Same person across branches"),
        C("Client Name", field="client_name", required=True, width=24),
        C("Program", "choice", "program", True, "Programs", 20),
        C("Branch", "choice", "branch", True, "Branches", 16),
        C("Case Manager", "choice", "case_manager", True, "CaseManagers", 18),
        C("Referral Date", "date", "referral_date", True, width=13),
        C("Language", "choice", "language", choices="Languages", width=10),
        C("Sex", "choice", "sex", choices="Sexes", width=6),
        C(
            "Date of Birth",
            "date",
            "date_of_birth",
            width=13,
            earliest_year=1900,
            past_only=True,
        ),
        C("Selective Service No", field="selective_service_no", width=14),
        C("Engaged", "bool", "engaged", choices="YesNo", width=9, help="No = not engaged (A-07)"),
        C("CM Change Date", "date", "cm_change_date", width=13),
        C("Track Change Date", "date", "track_change_date", width=13),
        C("Closure Date", "date", "closure_date", width=13, help="TA closure or WIOA exit"),
        C(
            "Family Type",
            "choice",
            "family_type",
            choices="FamilyTypes",
            width=14,
            help="TANF participation rate (45 CFR 261): blank = Single parent",
        ),
        C(
            "Youngest Child DOB",
            "date",
            "youngest_child_dob",
            width=13,
            help="Child under 6: 20 h/week; under 1: may be left out of the rate",
            past_only=True,
        ),
        C(
            "Federal Child Care",
            "bool",
            "federal_child_care",
            choices="YesNo",
            width=10,
            help="Two-parent families with federally funded child care need 55 h (50 core)",
        ),
        C("Address", width=24),
        C("City", width=14),
        C("State", "choice", choices="States", width=7),
        C("Postal Code", width=10),
        C("Phone", width=14),
        C("E-mail", width=22),
        C("Next Due Date", "date", computed=True, width=13),
        C("Next Due Rule", computed=True, width=11),
        C("Overdue Count", "int", computed=True, width=10),
        C(
            "Flow State",
            computed=True,
            width=24,
            help="Where the case is in its non-compliance flow",
        ),
        C("Next Action", computed=True, width=48, wrap=True),
    ),
    key="Case ID",
)

CONTACTS = Sheet(
    "Contacts",
    "Contacts",
    "Contacts and contact attempts",
    "Every contact and every attempt, successful or not. Letters count as written attempts.",
    (
        C("Case ID", field="case_id", required=True, width=12),
        C("Date", "date", "date", True, width=12),
        C("Method", "choice", "method", True, "Methods", 12),
        C("Successful", "bool", "successful", True, "YesNo", 10, help="Yes = two-way contact"),
        C("Meaningful", "bool", "meaningful", choices="YesNo", width=11),
        C("Plan Reviewed", "bool", "plan_reviewed", choices="YesNo", width=12),
        C("Purpose", "choice", "purpose", choices="Purposes", width=16),
        C("Note Entered", "date", "note_entered", width=12),
        C("Reply By", "date", "reply_by", width=12, help="Letters: the date to answer by"),
        C("Staff", width=16),
        C("Notes", width=40),
    ),
)

APPOINTMENTS = Sheet(
    "Appointments",
    "Appointments",
    "Appointments",
    "Scheduled appointments and what happened. No-show without a call ahead starts O-06.",
    (
        C("Case ID", field="case_id", required=True, width=12),
        C("Type", "choice", "type", True, "AppointmentTypes", 22),
        C("Date", "date", "date", True, width=12),
        C("Time", width=8),
        C("Location", width=22),
        C("Status", "choice", "status", True, "AppointmentStatuses", 12),
        C("Called Ahead", "bool", "called_ahead", choices="YesNo", width=11),
        C("Notes", width=36),
    ),
)

HOURS = Sheet(
    "Hours",
    "Hours",
    "Participation hours",
    "Actual hours per activity per week (week starting Monday). Scheduled hours do not count.",
    (
        C("Case ID", field="case_id", required=True, width=12),
        C("Week Start", "date", "week_start", True, width=12),
        C("Activity", "choice", "activity", True, "Activities", 30),
        C("Hours", "number", "hours", True, width=8, minimum=0, maximum=168),  # a week has 168
        C("Verified", "bool", "verified", choices="YesNo", width=9),
        C("Entered Date", "date", "entered_date", width=12),
    ),
)

SERVICES = Sheet(
    "Services",
    "Services",
    "Services and milestones",
    "Assessments, services and milestones (EA, COA, ISS, planned gaps, exit summary, ...).",
    (
        C("Case ID", field="case_id", required=True, width=12),
        C("Service", "choice", "service", True, "ServiceTypes", 26),
        C("Start Date", "date", "start_date", True, width=12),
        C("End Date", "date", "end_date", width=12),
        C("Qualifying", "bool", "qualifying", choices="YesNo", width=10, help="WIOA qualifying"),
        C("Gap Reason", "choice", "gap_reason", choices="GapReasons", width=28),
        C("Notes", width=36),
    ),
)

PLANS = Sheet(
    "Plans",
    "Plans",
    "Plans (FSSP, ISS, employment plans)",
    "One row per plan version. Signed, mailed and review dates drive A-12, A-13, A-15, Y-03.",
    (
        C("Case ID", field="case_id", required=True, width=12),
        C("Plan Type", "choice", "plan_type", True, "PlanTypes", 14),
        C("Plan Date", "date", "plan_date", True, width=12),
        C("Signed Date", "date", "signed_date", width=12),
        C("Mailed Date", "date", "mailed_date", width=12),
        C("Due Back Date", "date", "due_back_date", width=13),
        C("Last Review Date", "date", "last_review_date", width=14),
        C("Expiry Date", "date", "expiry_date", width=12),
    ),
)

NONCOMPLIANCE = Sheet(
    "Noncompliance",
    "Noncompliance",
    "Non-compliance events",
    "Every non-compliance event and decision, dated. History imported from other branches "
    "keeps its branch and case manager.",
    (
        C("Case ID", field="case_id", required=True, width=12),
        C("Person ID", field="person_id", width=12),
        C("Date", "date", "date", True, width=12),
        C("Event", "choice", "event", True, "NoncomplianceEvents", 28),
        C("Reported Date", "date", "reported_date", width=13, help="When staff learned of it"),
        C("Reply By", "date", "reply_by", width=12),
        C("Decided By", "choice", "decided_by", choices="Deciders", width=16),
        C("Branch", field="branch", width=16),
        C("Case Manager", field="case_manager", width=18),
        C(
            "Called Ahead",
            "bool",
            "called_ahead",
            choices="YesNo",
            width=11,
            help="Missed activity: the client called in advance (no O-06 contact needed)",
        ),
        C("Notes", width=40),
    ),
    added_later=True,
)

PENALTIES = Sheet(
    "Penalties",
    "Penalties",
    "Penalties and disqualifications",
    "One row per sanction, penalty or disqualification: the person's history across branches. "
    "The grey columns are filled by Refresh.",
    (
        C("Case ID", field="case_id", required=True, width=12),
        C("Person ID", field="person_id", width=12),
        C("Program", "choice", "program", True, "Programs", 20),
        C("Requested Date", "date", "requested_date", width=13),
        C("Imposed Date", "date", "imposed_date", width=13),
        C(
            "Step",
            "int",
            "step",
            width=7,
            help="Oregon ladder step; SNAP occurrence",
            minimum=1,
            maximum=99,
        ),
        C("Level", "int", "level", width=7, minimum=1, maximum=99),
        C("Percent", "number", "percent", width=9, minimum=0, maximum=100),
        C("Intent to Comply Date", "date", "intent_date", width=14),
        C("Compliance Date", "date", "compliance_date", width=13),
        C("Ended Date", "date", "ended_date", width=12),
        C("Branch", field="branch", width=16),
        C("Case Manager", field="case_manager", width=18),
        C("Notes", width=36),
        C("Minimum End Date", "date", computed=True, width=13),
        C("End Effective Date", "date", computed=True, width=13, help="Alaska A-19"),
        C("Expected", computed=True, width=40, wrap=True),
    ),
    added_later=True,
)

# A branch's holiday calendar, named alike on Branches and Holidays: the states' calendars are
# offered, and an office may add its own.
CALENDAR = C(
    "Calendar",
    field="calendar",
    required=True,
    width=10,
    suggestions="States",
    help="The holiday calendar on Holidays: AK, TX, OR or one you added there",
)

BRANCHES = Sheet(
    "Branches",
    "Branches",
    "Branches and offices",
    "Each branch's state, holiday calendar and letterhead.",
    (
        C("Branch", field="name", required=True, width=16),
        C("State", "choice", "state", True, "States", 7),
        CALENDAR,
        C("Office Name", field="office_name", width=34),
        C("Address", field="address", width=26),
        C("City", field="city", width=14),
        C("Postal Code", field="postal_code", width=11),
        C("Phone", field="phone", width=14),
        C("Hours", field="hours", width=22),
        C("Supervisor", field="supervisor", width=18),
        # Office hours for letters and appointment slots (pyxl letters reads these).
        C("Hours (Spanish)", width=26, help="Hours as Spanish letters print them"),
        C("Opens", width=9, help="First appointment time, e.g. 8:00 AM"),
        C("Closes", width=9, help="Appointments end by this time, e.g. 4:30 PM"),
        C("Appointment Minutes", "int", width=12, help="Length of one appointment slot"),
    ),
    key="Branch",
)

STAFF = Sheet(
    "Staff",
    "Staff",
    "Case managers",
    "Case managers, their branch and supervisor.",
    (
        C("Case Manager", required=True, width=20),
        C("Branch", "choice", required=True, choices="Branches", width=16),
        C("Phone", width=14),
        C("E-mail", width=26),
        C("Supervisor", field="supervisor", width=20),
        C(
            "Office Days",
            field="office_days",
            width=18,
            help="Days in the office for appointments (Mon Tue Thu)",
        ),
    ),
    key="Case Manager",
)

HOLIDAYS = Sheet(
    "Holidays",
    "Holidays",
    "Office holiday calendars",
    "Days the office is closed, and the weekday next to each weekend holiday, closed or open by "
    "the state's rule (see Source). Business-day rules skip rows with Closed = Yes.",
    (
        CALENDAR,
        C("Date", "date", "date", True, width=12),
        C("Holiday", field="name", required=True, width=34),
        C("Closed", "bool", "closed", True, "YesNo", 8),
        C("Source", field="source", width=50),
    ),
)

SETTINGS = Sheet(
    "Settings",
    "Settings",
    "Settings",
    "Office choices where the procedures are silent or ambiguous. Change Value only.",
    (
        C("Setting", required=True, width=26),
        C("Value", "value", required=True, width=12),
        C("Default", width=12),
        C("Rule", width=8),
        C("Meaning", width=90, wrap=True),
    ),
    key="Setting",
)

DUE_LIST = Sheet(
    "Due List",
    "DueList",
    "Due List",
    "Open obligations, most urgent first. Filled by Refresh; do not type here.",
    (
        C("Case ID", width=12),
        C("Client Name", width=22),
        C("Program", width=18),
        C("Branch", width=18),
        C("Case Manager", width=18),
        C("Rule", width=11),  # fits the flows' ids, e.g. NC-SNAP-10
        C("Obligation", width=30, wrap=True),
        C("Trigger Date", "date", width=15, number_format="ddd yyyy-mm-dd"),
        C("Due Date", "date", width=15, number_format="ddd yyyy-mm-dd"),
        C("Status", width=10),
        C("Days Overdue", "int", width=9),
        C("Explanation", width=60, wrap=True),
    ),
    computed=True,
)

ERRORS = Sheet(
    "Errors",
    "Errors",
    "Errors and warnings",
    "Problems found in the data at the last Refresh. Fix them at the cell shown.",
    (
        C("Sheet", width=14),
        C("Row", "int", width=7),
        C("Column", width=18),
        C("Cell", width=8),
        C("Severity", width=9),
        C("Value", width=24),
        C("Problem", width=70, wrap=True),
    ),
    computed=True,
)

LETTERS = Sheet(
    "Letters",
    "Letters",
    "Letters log",
    "Every letter pyxl printed, one row per letter. Written by pyxl letters; do not type here.",
    (
        C("Date", "date", width=12),
        C("Case ID", width=12),
        C("Letter", width=14),
        C("Language", width=9),
        C("Reason", width=44, wrap=True),
        C("Trigger Date", "date", width=12),
        C("Reply By", "date", width=12),
        C("Branch", width=16),
        C("Case Manager", width=18),
        C("Batch", width=20),
        C("File", width=26),
        C("Output SHA-256", width=20),
        C("Generated By", width=14),
    ),
    computed=True,
)

SUPERVISOR = Sheet(
    "Supervisor",
    "Supervisor",
    "Supervisor view",
    "Counts per case manager at the last Refresh. The links jump to each worker's rows; "
    "filter Case Manager on the Due List to see only theirs.",
    (
        C("Branch", width=16),
        C("Supervisor", width=18),
        C("Case Manager", width=20),
        C("Clients", "int", width=9),
        C("Open", "int", width=8),
        C("Overdue", "int", width=9),
        C("Due Soon", "int", width=9),
        C("Oldest Overdue Days", "int", width=10),
        C("Data Errors", "int", width=8),
        C("Most Urgent", width=20),
        C("First Client", width=20),
    ),
    computed=True,
)

INPUT_SHEETS = (CLIENTS, CONTACTS, APPOINTMENTS, HOURS, SERVICES, PLANS, NONCOMPLIANCE, PENALTIES)
REFERENCE_SHEETS = (BRANCHES, STAFF, HOLIDAYS, SETTINGS)
COMPUTED_SHEETS = (DUE_LIST, ERRORS, LETTERS, SUPERVISOR)
ALL_SHEETS = (*INPUT_SHEETS, *COMPUTED_SHEETS, *REFERENCE_SHEETS)
SHEETS = {s.name: s for s in ALL_SHEETS}

LINE_HEIGHT = 15.0  # points, Calibri 11


def text_height(text: str, width_chars: float) -> float:
    """Rough row height for wrapped text: neither Excel nor LibreOffice autofit on open."""
    per_line = width_chars * 1.15  # Calibri 11 prose: about 1.2 characters per width unit
    lines = sum(max(1, math.ceil(len(p) / per_line)) for p in text.split("\n"))
    return lines * LINE_HEIGHT + 3


def row_height(sheet: Sheet, values: Sequence[object]) -> float | None:
    """The height a row of `sheet` needs for its wrapped columns; None for the default."""
    needed = [
        text_height(str(v), c.width)
        for c, v in zip(sheet.columns, values, strict=False)
        if c.wrap and isinstance(v, str) and v
    ]
    height = max(needed, default=0.0)
    return min(height, 409.0) if height > LINE_HEIGHT + 3 else None


HOW_TO_SHEET = "How to use"
LISTS_SHEET = "Lists"
