"""The caseload as domain values: immutable, validated upstream, no I/O.

Entities (Client, Branch) are frozen dataclasses. The rows of the event tables
(contacts, appointments, hours, services, plans) are NamedTuples: just as
immutable, and about ten times cheaper to make, which counts at a million rows.

Vocabularies (programs, contact methods, ...) live here because rules and
the workbook's dropdowns must agree on them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple


class Program(StrEnum):
    ATAP_WORK_FIRST = "ATAP Work First"
    ATAP_FAMILIES_FIRST = "ATAP Families First"
    TX_CHOICES = "Texas Choices"
    TX_SNAP_ET = "Texas SNAP E&T"
    TX_WIOA_YOUTH = "Texas WIOA Youth"
    OR_JOBS = "Oregon JOBS"


class Status(StrEnum):
    MET = "MET"
    DUE = "DUE"
    DUE_SOON = "DUE SOON"
    OVERDUE = "OVERDUE"
    NA = "N/A"


# Order used when sorting obligations by urgency (most urgent first).
STATUS_ORDER = (Status.OVERDUE, Status.DUE_SOON, Status.DUE, Status.MET, Status.NA)

CONTACT_METHODS = (
    "In person",
    "Phone",
    "Home visit",
    "School visit",
    "Letter",
    "Postcard",
    "E-mail",
    "Text",
    "Voicemail",
)
# S4 (O-05): "one in writing and one in another format (example: one contact by
# phone call, home visit or e-mail)" -- so e-mail is *not* the written contact.
WRITTEN_METHODS = frozenset({"Letter", "Postcard"})

CONTACT_PURPOSES = (
    "Engagement",
    "Appointment notice",
    "Monthly review",
    "Re-engagement",
    "Disengaged search",
    "Outreach",
    "Follow-up",
    "Work verification",
    "Other",
    "Non-compliance",
)

APPOINTMENT_TYPES = (
    "Orientation",
    "Employability Assessment",
    "Plan update",
    "Case review",
    "Conciliation",
    "Re-engagement staffing",
    "Home visit",
    "Activity",
)
APPOINTMENT_STATUSES = ("Scheduled", "Kept", "No-show", "Rescheduled", "Cancelled")

SERVICE_TYPES = (
    "Employability Assessment",
    "EPI",
    "COA (08)",
    "ISS (68)",
    "ISS review",
    "Planned gap (11)",
    "Orientation",
    "Job search",
    "Training",
    "Work experience",
    "Supportive service",
    "Track review",
    "Eligibility check",
    "ALEXsys registration",
    "Resume",
    "General application",
    "Budget",
    "Family Network",
    "Family Support Team",
    "Weekly Calendar of Routines",
    "Exit summary",
    "Follow-up",
)
# S3 Y-07: the four reasons a planned gap in service may be given.
PLANNED_GAP_REASONS = (
    "Delay before training",
    "Own health or medical condition",
    "Caring for a family member",
    "Temporary move or military service",
)

# Dated events of the non-compliance flows that only staff can record (sanctions.py reads the
# rest -- letters, attempts, appointments, penalties -- from the other sheets).
NONCOMPLIANCE_EVENTS = (
    "Outreach started",
    "Orientation attended",
    "Missed activity",
    "Hours short",
    "Pattern of non-cooperation",
    "No response",
    "Client responded",
    "Good cause: yes",
    "Good cause: no",
    "Decision not to disqualify",
    "Re-engagement requested",
    "Cooperation trial passed",
    "Cooperation trial failed",
    "Exemption started",
    "Exemption ended",
    "Re-engagement page completed",
    "Re-engagement page finalized",
    "Conditional applicant",
    "Form 2583 sent",
    "Form 2588 sent",
)
GOOD_CAUSE_DECIDERS = ("PSR", "Case manager", "Re-engagement team", "HHSC", "Eligibility")

PLAN_TYPES = ("FSSP", "ISS", "Employment plan", "Case plan")

# 45 CFR 261.2 / 261.31: the nine core activities; the rest count only above 20 h.
ACTIVITIES = (
    "Unsubsidized employment",
    "Subsidized private employment",
    "Subsidized public employment",
    "Work experience",
    "On-the-job training",
    "Job search and job readiness",
    "Community service",
    "Vocational educational training",
    "Child care for community service",
    "Job skills training",
    "Education related to employment",
    "Secondary school or GED",
)
CORE_ACTIVITIES = frozenset(ACTIVITIES[:9])

# 45 CFR 261.22-.35: who counts in which participation rate, and the hours each needs.
FAMILY_TYPES = ("Single parent", "Two-parent", "Child-only")

LANGUAGES = ("English", "Spanish")
SEXES = ("F", "M", "X")
STATES = ("AK", "OR", "TX")


@dataclass(frozen=True, slots=True)
class Branch:
    name: str
    state: str
    calendar: str
    office_name: str = ""
    address: str = ""
    city: str = ""
    postal_code: str = ""
    phone: str = ""
    hours: str = ""
    supervisor: str = ""


@dataclass(frozen=True, slots=True)
class Client:
    case_id: str
    client_name: str
    program: Program
    branch: str
    case_manager: str
    referral_date: dt.date
    person_id: str | None = None
    language: str = "English"
    sex: str | None = None
    date_of_birth: dt.date | None = None
    selective_service_no: str | None = None
    engaged: bool = True
    cm_change_date: dt.date | None = None
    track_change_date: dt.date | None = None
    closure_date: dt.date | None = None
    family_type: str = "Single parent"
    youngest_child_dob: dt.date | None = None
    federal_child_care: bool = False


class Contact(NamedTuple):
    case_id: str
    date: dt.date
    method: str
    successful: bool
    meaningful: bool = False
    plan_reviewed: bool = False
    purpose: str | None = None
    note_entered: dt.date | None = None
    reply_by: dt.date | None = None  # letters: the date the client must answer by


class Appointment(NamedTuple):
    case_id: str
    type: str
    date: dt.date
    status: str = "Scheduled"
    called_ahead: bool = False


class HoursEntry(NamedTuple):
    case_id: str
    week_start: dt.date
    activity: str
    hours: float
    entered_date: dt.date | None = None
    verified: bool = False


class Service(NamedTuple):
    case_id: str
    service: str
    start_date: dt.date
    end_date: dt.date | None = None
    qualifying: bool = False
    gap_reason: str | None = None


class Plan(NamedTuple):
    case_id: str
    plan_type: str
    plan_date: dt.date
    signed_date: dt.date | None = None
    mailed_date: dt.date | None = None
    due_back_date: dt.date | None = None
    last_review_date: dt.date | None = None
    expiry_date: dt.date | None = None


class NoncomplianceEvent(NamedTuple):
    case_id: str
    date: dt.date
    event: str
    person_id: str | None = None
    reported_date: dt.date | None = None  # when staff learned of it (clocks start here)
    reply_by: dt.date | None = None
    decided_by: str | None = None
    branch: str | None = None  # where it happened (history follows the person)
    case_manager: str | None = None
    called_ahead: bool = False  # a missed activity the client called about in advance (O-06)


class Penalty(NamedTuple):
    """A sanction, penalty or disqualification, from request to end."""

    case_id: str
    program: Program
    requested_date: dt.date | None = None
    imposed_date: dt.date | None = None
    step: int | None = None  # Oregon ladder step; SNAP occurrence
    level: int | None = None
    percent: float | None = None
    intent_date: dt.date | None = None  # client stated intent to comply
    compliance_date: dt.date | None = None
    ended_date: dt.date | None = None
    person_id: str | None = None
    branch: str | None = None
    case_manager: str | None = None


@dataclass(frozen=True, slots=True)
class Holiday:
    calendar: str
    date: dt.date
    name: str
    closed: bool = True
    source: str = ""


@dataclass(frozen=True)
class Caseload:
    """Everything the rules read, keyed by case id through each row's `case_id`."""

    clients: tuple[Client, ...] = ()
    contacts: tuple[Contact, ...] = ()
    appointments: tuple[Appointment, ...] = ()
    hours: tuple[HoursEntry, ...] = ()
    services: tuple[Service, ...] = ()
    plans: tuple[Plan, ...] = ()
    branches: tuple[Branch, ...] = ()
    holidays: tuple[Holiday, ...] = field(default=())
    noncompliance: tuple[NoncomplianceEvent, ...] = ()
    penalties: tuple[Penalty, ...] = ()


def field_names(kind: type) -> tuple[str, ...]:
    """The fields of a domain type, in order (dataclass or NamedTuple)."""
    if hasattr(kind, "_fields"):
        return kind._fields  # type: ignore[attr-defined, no-any-return]
    return tuple(f.name for f in dataclasses.fields(kind))


def field_defaults(kind: type) -> dict[str, Any]:
    """The default of each field that has one (dataclass or NamedTuple)."""
    if hasattr(kind, "_field_defaults"):
        return dict(kind._field_defaults)  # type: ignore[attr-defined]
    return {
        f.name: f.default for f in dataclasses.fields(kind) if f.default is not dataclasses.MISSING
    }
