"""Letters: the queue of letters due, the batch that prints them, and their log.

`pyxl letters PATH` = read and evaluate the workbook, decide which letters are due
(pyxl.domain.letters), fill in each letter's fields (only those its definition allows),
render each to its own .docx, merge them into one print file sorted for mailing (branch,
case manager, postal code), optionally convert it to one PDF, and log every letter: a row
on the Letters sheet and a written contact attempt on Contacts (through the same
safeguards as recompute), plus a line in the append-only audit file beside the workbook.

Running the same batch again the same day prints the same letters and logs nothing twice.

The non-compliance flows hand their wishes in through `case_states` (objects with
case_id, flow, state, since, letter, reply_by: pyxl.domain.sanctions.CaseState).
"""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import hashlib
import json
import multiprocessing
import os
import re
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_time
from jinja2 import TemplateError

from pyxl.adapters import caseload_file, csv_file, letter_docx, outputs, schema
from pyxl.adapters.caseload_file import CaseloadFile
from pyxl.adapters.validation import find_header, read_text
from pyxl.adapters.workbook_reader import RawSheet, column_letter
from pyxl.domain.letters import (
    CaseStateLike,
    LetterBook,
    LetterInputError,
    LetterRequest,
    LetterTiming,
    OfficeHours,
    SentKey,
    SlotFinder,
    letter_queue,
    next_appointment,
    one_voice,
    read_office_days,
)
from pyxl.domain.model import Appointment, Branch, Client
from pyxl.domain.obligations import fmt
from pyxl.domain.reference import WEEKENDS_ONLY
from pyxl.policy import letter_book
from pyxl.services.recompute import Evaluation, evaluate_file, needs_refresh

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "letter_templates"
# Where letters are logged: a workbook made before letters existed has no such sheets.
LETTER_SHEETS = {
    sheet: f"this workbook has no {sheet!r} sheet, where letters are logged (it was made "
    "before letters existed): create a new workbook with `pyxl new` and copy the data over, "
    "or add the sheet with the same columns"
    for sheet in (schema.LETTERS.name, schema.CONTACTS.name)
}
EXTRA_SHEETS = {
    "Clients",
    "Appointments",
    "Staff",
    "Branches",
    "Letters",
    "Noncompliance",
    "Penalties",
}
Progress = Callable[[str], None]

LOCALES = {"en": "en_US", "es": "es_US"}


@functools.lru_cache(maxsize=4096)
def long_date(day: dt.date, lang: str, weekday: bool = False) -> str:
    """'Monday, November 30, 2026' / 'lunes, 30 de noviembre de 2026' (Babel, CLDR)."""
    return format_date(day, "full" if weekday else "long", locale=LOCALES[lang])


def clock_time(value: object, lang: str) -> str:
    """A time cell (a time, a day fraction or typed text) as printed: '10:00 AM' /
    '10:00 a.m.' (Babel, CLDR); text that is not a time is printed as typed."""
    parsed = parse_clock(value) if value not in (None, "") else None
    if parsed is not None:
        return _clock(parsed, lang)
    return str(value).strip() if value not in (None, "") else ""


@functools.lru_cache(maxsize=1024)
def _clock(value: dt.time, lang: str) -> str:
    return format_time(value, "short", locale=LOCALES[lang])


def parse_clock(value: object) -> dt.time | None:
    """A time cell as typed: a time, a day fraction, or text such as '8:30 AM' / '13:00'."""
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value
    if isinstance(value, float) and 0 <= value < 1:
        minutes = round(value * 24 * 60)
        return dt.time(minutes // 60 % 24, minutes % 60)
    m = re.fullmatch(r"\s*(\d{1,2})(?::(\d{2}))?\s*([ap])?\.?\s*m?\.?\s*", str(value), re.I)
    if not m:
        return None
    hour, minute, half = int(m[1]), int(m[2] or 0), (m[3] or "").lower()
    if half:
        hour = hour % 12 + (12 if half == "p" else 0)
    return dt.time(hour, minute) if hour < 24 and minute < 60 else None


# ---------------------------------------------------------------- workbook extras


def _text(value: object) -> str:
    if value in (None, ""):
        return ""
    return read_text(value, lambda _: None) or ""


@dataclass
class _Table:
    """A sheet's rows as dicts by header (the columns letters need that rules do not read)."""

    rows: list[dict[str, object]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)  # 1-based sheet rows
    columns: dict[str, int] = field(default_factory=dict)  # header -> 0-based column

    def row_cells(self, number: int) -> dict[str, str]:
        """Header -> cell reference ("C5") on one sheet row, to name where to type."""
        return {h: f"{column_letter(i)}{number}" for h, i in self.columns.items()}

    def cells(self, key: str) -> dict[str, dict[str, str]]:
        """Key column value -> header -> cell reference (the first row of each key)."""
        out: dict[str, dict[str, str]] = {}
        for row, n in zip(self.rows, self.numbers, strict=True):
            out.setdefault(_text(row.get(key)), self.row_cells(n))
        return out

    @classmethod
    def read(cls, raw: RawSheet | None, headers: Sequence[str]) -> _Table:
        out = cls()
        if raw is None:
            return out
        wanted = {h.casefold() for h in headers}
        for r, values in enumerate(raw.values[:12]):
            names = {str(v).strip().casefold(): i for i, v in enumerate(values) if v != ""}
            if {headers[0].casefold()} <= names.keys() and len(wanted & names.keys()) > 1:
                at = {h: names[h.casefold()] for h in headers if h.casefold() in names}
                out.columns = at
                for k, row in enumerate(raw.values[r + 1 :], start=r + 2):
                    if any(v != "" for v in row):
                        out.rows.append({h: row[i] if i < len(row) else "" for h, i in at.items()})
                        out.numbers.append(k)
                return out
        return out


def _sheet(raw: Mapping[str, RawSheet], sheet: schema.Sheet) -> _Table:
    table = _Table.read(raw.get(sheet.name), sheet.headers)
    if raw.get(sheet.name) is not None and find_header(raw[sheet.name], sheet) is None:
        return _Table()
    return table


def _day(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def appointment_key(case_id: str, kind: str, day: dt.date) -> str:
    return f"{case_id}\t{kind}\t{day.isoformat()}"


@dataclass
class WorkbookExtras:
    """What letters need beyond the rules' data: addresses, staff phones, appointment times,
    the Letters log, and (when the flows' sheets exist) violations and penalties."""

    addresses: dict[str, tuple[str, str, str, str]]  # case -> address, city, state, postal
    staff: dict[str, tuple[str, str]]  # case manager -> phone, e-mail
    appointment_details: dict[tuple[str, str, dt.date], tuple[object, str]]  # time, place
    logged: list[dict[str, object]]  # Letters rows
    violations: dict[str, tuple[str, dt.date]]  # case -> latest event, its date
    penalties: dict[str, dict[str, object]]  # case -> latest Penalties row
    # sheet -> key (case id, case manager, branch, ...) -> header -> cell ("C5")
    cells: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    office_hours: dict[str, OfficeHours] = field(default_factory=dict)  # by branch
    hours_es: dict[str, str] = field(default_factory=dict)  # branch -> Spanish office hours
    office_days: dict[str, frozenset[int]] = field(default_factory=dict)  # case manager

    def cell(self, sheet: str, key: str, header: str) -> str:
        """Where to type a value: 'cell C5', or '' when the row is not on the sheet."""
        at = self.cells.get(sheet, {}).get(key, {}).get(header)
        return f"cell {at}" if at else ""

    @classmethod
    def read(cls, book: CaseloadFile) -> WorkbookExtras:
        return cls.from_sheets(book.read(EXTRA_SHEETS, columnar=False).sheets)

    @classmethod
    def from_sheets(cls, raw: Mapping[str, RawSheet]) -> WorkbookExtras:
        """From the sheets' cells, as the workbook reader gives them (a file, or the book
        Excel sends to a button)."""
        clients = _sheet(raw, schema.CLIENTS)
        addresses = {
            _text(r["Case ID"]): tuple(
                _text(r.get(h, "")) for h in ("Address", "City", "State", "Postal Code")
            )
            for r in clients.rows
        }
        staff_table = _sheet(raw, schema.STAFF)
        staff = {
            _text(r["Case Manager"]): (_text(r.get("Phone", "")), _text(r.get("E-mail", "")))
            for r in staff_table.rows
        }
        office_days = {
            _text(r["Case Manager"]): read_office_days(_text(r.get("Office Days")))[0]
            for r in staff_table.rows
        }
        branch_table = _sheet(raw, schema.BRANCHES)
        office_hours, hours_es = {}, {}
        for r in branch_table.rows:
            name = _text(r["Branch"])
            hours_es[name] = _text(r.get("Hours (Spanish)"))
            opens, closes = parse_clock(r.get("Opens")), parse_clock(r.get("Closes"))
            minutes = r.get("Appointment Minutes")
            if opens and closes and isinstance(minutes, int | float) and minutes > 0:
                office_hours[name] = OfficeHours(opens, closes, int(minutes))
        details = {}
        appointments = _sheet(raw, schema.APPOINTMENTS)
        cells = {
            schema.CLIENTS.name: clients.cells("Case ID"),
            schema.STAFF.name: staff_table.cells("Case Manager"),
            schema.BRANCHES.name: branch_table.cells("Branch"),
            schema.APPOINTMENTS.name: {},
        }
        for r, n in zip(appointments.rows, appointments.numbers, strict=True):
            day = _day(r.get("Date"))
            if day is not None:
                key = (_text(r["Case ID"]), _text(r.get("Type")), day)
                details[key] = (r.get("Time", ""), _text(r.get("Location", "")))
                cells[schema.APPOINTMENTS.name][appointment_key(*key)] = appointments.row_cells(n)
        violations: dict[str, tuple[str, dt.date]] = {}
        for r in _Table.read(raw.get("Noncompliance"), ("Case ID", "Date", "Event")).rows:
            day, event = _day(r.get("Date")), _text(r.get("Event"))
            case = _text(r["Case ID"])
            if (
                day
                and event in letter_book().violations
                and (case not in violations or violations[case][1] <= day)
            ):
                violations[case] = (event, day)
        penalties: dict[str, dict[str, object]] = {}
        penalty_headers = ("Case ID", "Imposed Date", "Step", "Level", "Percent")
        penalty_table = _Table.read(raw.get("Penalties"), penalty_headers)
        cells["Penalties"] = {}
        for r, n in zip(penalty_table.rows, penalty_table.numbers, strict=True):
            case, day = _text(r["Case ID"]), _day(r.get("Imposed Date"))
            held = penalties.get(case)
            if day and (held is None or held["Imposed Date"] <= day):  # type: ignore[operator]
                penalties[case] = {**r, "Imposed Date": day}
                cells["Penalties"][case] = penalty_table.row_cells(n)
        logged = _sheet(raw, schema.LETTERS).rows
        return cls(
            addresses,
            staff,
            details,
            logged,
            violations,
            penalties,
            cells,
            office_hours,
            hours_es,
            office_days,
        )

    def sent_keys(self, before: dt.date) -> list[SentKey]:
        """Letters logged before a date: not asked for again for the same trigger."""
        out = []
        for r in self.logged:
            day = _day(r.get("Date"))
            if day is not None and day < before:
                out.append((_text(r["Case ID"]), _text(r["Letter"]), _day(r.get("Trigger Date"))))
        return out

    def logged_on(self, day: dt.date) -> list[dict[str, object]]:
        return [r for r in self.logged if _day(r.get("Date")) == day]


# ---------------------------------------------------------------- the queue


@dataclass
class QueuedLetter:
    request: LetterRequest
    client: Client
    logged_today: bool = False


def build_queue(
    ev: Evaluation,
    extras: WorkbookExtras,
    book: LetterBook,
    kinds: Iterable[str] = (),
    cases: Iterable[str] = (),
    case_states: Iterable[CaseStateLike] = (),
) -> list[QueuedLetter]:
    """Letters due as of the evaluation date, plus those already logged that day (a re-run
    of the same batch prints them again), filtered by kind and case."""
    caseload = ev.workbook.caseload
    clients = {c.case_id: c for c in caseload.clients}
    appointments: dict[str, list[Appointment]] = {}
    for a in caseload.appointments:
        appointments.setdefault(a.case_id, []).append(a)
    open_rules = {t.rule for t in book.from_rules}
    ob = ev.obligations
    wanted = [i for i in range(len(ob)) if ob.rule_ids[ob.rule[i]] in open_rules]
    calendars = {b.name: ev.calendars.get(b.name, WEEKENDS_ONLY) for b in caseload.branches}
    settings = ev.workbook.settings
    timing = LetterTiming(
        settings["Letter mail days"],
        settings["Minimum reply window"],
        settings["Reply-by on a closed day moves the flow"],
    )
    manager_of = {c.case_id: c.case_manager for c in caseload.clients}
    booked: dict[str, list[dt.datetime]] = {}
    for a in caseload.appointments:
        start = parse_clock(extras.appointment_details.get((a.case_id, a.type, a.date), ("",))[0])
        if a.status == "Scheduled" and a.case_id in manager_of and start is not None:
            booked.setdefault(manager_of[a.case_id], []).append(dt.datetime.combine(a.date, start))
    slots = SlotFinder(calendars, extras.office_hours, extras.office_days, booked, timing.needed)
    requests = letter_queue(
        book,
        clients,
        ob.records(wanted),
        appointments,
        calendars,
        ev.as_of,
        sent=extras.sent_keys(ev.as_of),
        case_states=list(case_states) or ev.flows.states.values(),  # the flows' wishes
        rule_titles={rid: ev.book.rules[rid].title for rid in ev.book.rules},
        timing=timing,
        slots=slots,
    )
    queued = {(r.case_id, r.code): QueuedLetter(r, clients[r.case_id]) for r in requests}
    for row in extras.logged_on(ev.as_of):
        case, code = _text(row["Case ID"]), _text(row["Letter"])
        if case not in clients or code not in book.letters:
            continue
        client = clients[case]
        definition_lang = _text(row.get("Language")) or "en"
        appointment = None
        if book.letters[code].appointment_types:
            appointment = next_appointment(
                appointments.get(case, ()), book.letters[code].appointment_types, ev.as_of
            )
        request = LetterRequest(
            case,
            code,
            _text(row.get("Reason")),
            _day(row.get("Trigger Date")),
            _day(row.get("Reply By")) or ev.as_of,
            definition_lang,
            appointment,
        )
        queued[(case, code)] = QueuedLetter(request, client, logged_today=True)
    printed_today = {f"{k[0]}\t{k[1]}" for k, q in queued.items() if q.logged_today}
    voiced = one_voice([q.request for q in queued.values()], book, printed_today)
    queued = {(r.case_id, r.code): replace(queued[(r.case_id, r.code)], request=r) for r in voiced}
    kinds, cases = set(kinds), set(cases)
    unknown = kinds - set(book.letters)
    if unknown:
        raise LetterInputError(
            f"unknown letter kind {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(book.letters))}"
        )
    strangers = cases - set(clients)
    if strangers:
        raise LetterInputError(
            f"no client with Case ID {', '.join(sorted(strangers))} on the Clients sheet "
            "(or the row has an error: `pyxl check` lists it); check the Case ID"
        )
    out = [
        q
        for q in queued.values()
        if (not kinds or q.request.code in kinds) and (not cases or q.request.case_id in cases)
    ]
    return sorted(out, key=lambda q: (q.request.case_id, q.request.code))


# ---------------------------------------------------------------- letter fields


class MissingField(Exception):
    """A letter cannot be made until something is typed in; the message says what and where,
    in plain words (sheet, what to fill in, for whom, the cell)."""

    def __init__(self, needs: Sequence[str]) -> None:
        unique = list(dict.fromkeys(needs))
        super().__init__("; ".join(unique))
        self.needs = unique


def proposed_place(branch: Branch) -> str:
    """Where a proposed appointment takes place: the branch office."""
    return branch.office_name or branch.name


def _centers(
    branches: Sequence[Branch], state: str, lang: str, hours_es: Mapping[str, str]
) -> list[dict[str, str]]:
    return [
        {
            "name": b.office_name or b.name,
            "address": b.address,
            "city_line": f"{b.city}, {b.state} {b.postal_code}".strip(", "),
            "phone": b.phone,
            "hours": hours_es.get(b.name, "") if lang == "es" else b.hours,
        }
        for b in branches
        if b.state == state
    ]


def letter_fields(
    q: QueuedLetter, ev: Evaluation, extras: WorkbookExtras, book: LetterBook
) -> dict[str, Any]:
    """Every field this letter may use, and nothing else; raises MissingField naming it."""
    r, client = q.request, q.client
    lang = r.language
    definition = book.letters[r.code]
    branches = {b.name: b for b in ev.workbook.caseload.branches}
    branch = branches.get(client.branch) or Branch(client.branch, "", "")
    address, city, state, postal = extras.addresses.get(client.case_id, ("", "", "", ""))
    phone, email = extras.staff.get(client.case_manager, ("", ""))
    city_line = " ".join(p for p in (f"{city}," if city else "", state, postal) if p)
    street = [line.strip() for line in address.split("\n") if line.strip()]
    untranslated: list[str] = []

    def said(kind: str, value: str) -> str:
        words = book.words(kind, value, lang)
        if words is None:
            untranslated.append(
                f"letters.toml: add the Spanish for {value!r} under [spanish.{kind}]"
            )
        return words or value

    if r.problem:
        a = r.appointment
        key = appointment_key(a.case_id, a.type, a.date) if a else ""
        where = extras.cell("Appointments", key, "Date")
        raise MissingField([r.problem + (f" ({where})" if where else "")])
    values: dict[str, Any] = {
        "letter_code": r.code,
        "letter_version": str(definition.version),
        "letter_date": long_date(ev.as_of, lang),
        "office_name": branch.office_name or branch.name,
        "office_address": branch.address,
        "office_city_line": " ".join(
            p
            for p in (f"{branch.city}," if branch.city else "", branch.state, branch.postal_code)
            if p
        ),
        "office_phone": branch.phone,
        "office_hours": extras.hours_es.get(branch.name, "") if lang == "es" else branch.hours,
        "case_id": client.case_id,
        "client_name": client.client_name,
        "mailing_address": "\n".join([*street, city_line]) if street and city_line else "",
        "program": said("programs", str(client.program)),
        "reply_by": long_date(r.reply_by, lang, weekday=True),
        "case_manager": client.case_manager,
        "case_manager_phone": phone,
        "case_manager_email": email,
        "pool_date": long_date(client.referral_date, lang),
        "centers": _centers(ev.workbook.caseload.branches, branch.state, lang, extras.hours_es),
    }
    if len(street) > 2:
        where = extras.cell("Clients", client.case_id, "Address")
        raise MissingField(
            [
                f"Clients: shorten the Address of {client.case_id} to 2 lines, so it shows "
                f"in the envelope window ({where})"
            ]
        )
    if r.appointment is not None:
        a = r.appointment
        time, place = extras.appointment_details.get((a.case_id, a.type, a.date), ("", ""))
        if r.proposed_time is not None:
            time, place = r.proposed_time, proposed_place(branch)
        values |= {
            "appointment_type": said("appointment_types", a.type),
            "appointment_date": long_date(a.date, lang, weekday=True),
            "appointment_time": clock_time(time, lang),
            "appointment_place": place,
        }
    if r.trigger is not None:
        values["missed_date"] = long_date(r.trigger, lang, weekday=True)
        values["last_activity_date"] = long_date(r.trigger, lang)
    upcoming = [
        a
        for a in ev.workbook.caseload.appointments
        if a.case_id == client.case_id and a.status == "Scheduled" and a.date > ev.as_of
    ]
    soonest = min(upcoming, key=lambda a: a.date, default=None)
    values["next_activity_date"] = long_date(soonest.date, lang, weekday=True) if soonest else ""
    if client.case_id in extras.violations:
        event, day = extras.violations[client.case_id]
        values["violation"] = book.violations[event][lang]
        values["violation_date"] = long_date(day, lang)
    if client.case_id in extras.penalties:
        p = extras.penalties[client.case_id]
        values["penalty_level"] = _text(p.get("Level"))
        values["effective_date"] = long_date(p["Imposed Date"], lang)  # type: ignore[arg-type]
        values["penalty_step"] = _text(p.get("Step"))
        percent = p.get("Percent")
        values["penalty_percent"] = (
            f"{percent:g}%" if isinstance(percent, int | float) else _text(percent)
        )
    values |= dict(r.extra)

    allowed = book.allowed_fields(r.code)
    optional = book.optional_fields(r.code)
    context: dict[str, Any] = {}
    missing = []
    for name in sorted(allowed):
        value = values.get(name)
        if value in (None, "", []) and name not in optional:
            missing.append(fill_in(name, q, extras, book))
        context[name] = "" if value is None else value
    if missing or untranslated:
        raise MissingField([*untranslated, *missing])
    context["client_name"] = letter_docx.clean_value(context["client_name"], one_line=True)
    return letter_docx.clean_value(context)  # type: ignore[return-value]


_BRANCH_HEADERS = {
    "office_name": "Office Name",
    "office_address": "Address",
    "office_city_line": "City",
    "office_phone": "Phone",
    "office_hours": "Hours",
}


def _a(words: str) -> str:
    return f"{'an' if words[:1].lower() in 'aeiou' else 'a'} {words}"


def fill_in(name: str, q: QueuedLetter, extras: WorkbookExtras, book: LetterBook) -> str:
    """Where to type the value a letter needs, in plain words: the sheet, what to fill in,
    for whom and the cell ("Staff: fill in Phone for Sam Lee (cell C5)")."""
    r, client = q.request, q.client
    case = client.case_id

    def at(sheet: str, key: str, header: str, whom: str) -> str:
        where = extras.cell(sheet, key, header)
        return f"{sheet}: fill in {header} for {whom}" + (f" ({where})" if where else "")

    if name == "office_hours" and r.language == "es":
        return at("Branches", client.branch, "Hours (Spanish)", f"branch {client.branch}")
    if name in _BRANCH_HEADERS:
        return at("Branches", client.branch, _BRANCH_HEADERS[name], f"branch {client.branch}")
    if name in ("case_manager_phone", "case_manager_email"):
        if client.case_manager not in extras.staff:
            return f"Staff: add {client.case_manager} (the case manager of {case}) with a Phone"
        return at("Staff", client.case_manager, "Phone", client.case_manager)
    if name == "mailing_address":
        return at("Clients", case, "Address", f"{case} (with City, State and Postal Code)")
    if name.startswith("appointment_") and r.appointment is None:
        definition = book.letters[r.code]
        kinds = definition.propose or " or ".join(definition.appointment_types)
        text = f"Appointments: schedule {_a(kinds)} for {case} (no appointment on file"
        if definition.propose and client.branch not in extras.office_hours:
            where = extras.cell("Branches", client.branch, "Opens")
            text += (
                f", and no free slot to propose: fill in Opens, Closes and Appointment "
                f"Minutes for branch {client.branch}" + (f" ({where})" if where else "")
            )
        elif definition.propose:
            text += f"; {client.case_manager} has no free slot in the next 90 days"
        return text + ")"
    if name in ("appointment_time", "appointment_place") and r.appointment is not None:
        a = r.appointment
        header = "Time" if name == "appointment_time" else "Location"
        key = appointment_key(a.case_id, a.type, a.date)
        return at("Appointments", key, header, f"the {a.type} of {case} on {fmt(a.date)}")
    if name in ("violation", "violation_date"):
        return f"Noncompliance: record the missed activity or hours short of {case}"
    if name in ("penalty_level", "effective_date"):
        header = "Level" if name == "penalty_level" else "Imposed Date"
        if case not in extras.penalties:
            return f"Penalties: record the penalty of {case} (none on file)"
        return at("Penalties", case, header, case)
    if name == "centers":
        return f"Branches: fill in the offices of {client.branch}'s state"
    labels = {
        "client_name": ("Clients", "Client Name"),
        "program": ("Clients", "Program"),
        "case_manager": ("Clients", "Case Manager"),
        "pool_date": ("Clients", "Referral Date"),
    }
    if name in labels:
        sheet, header = labels[name]
        return at(sheet, case, header, case)
    return f"the date this letter answers is not known for {case} (the {r.reason})"


# ---------------------------------------------------------------- rendering


def safe_file_stem(case_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", case_id).strip("._") or "case"


@dataclass
class Job:
    index: int
    case_id: str
    code: str
    language: str
    context: dict[str, Any]


_WORKER_TEMPLATES: dict[tuple[str, str], letter_docx.CompiledTemplate] = {}


def _render_chunk(jobs: Sequence[Job]) -> list[tuple[int, bytes | None, str]]:
    out: list[tuple[int, bytes | None, str]] = []
    for job in jobs:
        try:
            data = _WORKER_TEMPLATES[(job.code, job.language)].render(job.context)
            out.append((job.index, data, ""))
        except (TemplateError, ValueError) as exc:
            out.append((job.index, None, f"{type(exc).__name__}: {exc}"))
    return out


def load_templates(
    keys: Iterable[tuple[str, str]], directory: Path = TEMPLATES_DIR
) -> dict[tuple[str, str], letter_docx.CompiledTemplate]:
    env = letter_docx.letter_environment()
    out = {}
    for code, lang in sorted(set(keys)):
        path = directory / f"{code}.{lang}.docx"
        if not path.exists():
            raise FileNotFoundError(f"no template {path.name} in {directory}")
        out[(code, lang)] = letter_docx.CompiledTemplate.load(path, env)
    return out


def render_all(
    jobs: Sequence[Job],
    templates: Mapping[tuple[str, str], letter_docx.CompiledTemplate],
    processes: int | None = None,
) -> list[tuple[int, bytes | None, str]]:
    """Render every job; the templates are compiled once and shared with the workers."""
    _WORKER_TEMPLATES.clear()
    _WORKER_TEMPLATES.update(templates)
    workers = processes if processes is not None else min(2, os.cpu_count() or 1)
    methods = multiprocessing.get_all_start_methods()
    if workers <= 1 or len(jobs) < 40 or "fork" not in methods:
        return _render_chunk(jobs)
    size = -(-len(jobs) // workers)
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = pool.map(_render_chunk, chunks)
    return [item for chunk in results for item in chunk]


# ---------------------------------------------------------------- the batch


@dataclass
class LetterMade:
    case_id: str
    code: str
    language: str
    file: Path
    sha256: str
    reply_by: dt.date
    reason: str
    trigger: dt.date | None
    branch: str
    case_manager: str
    postal_code: str
    logged_today: bool
    pages: int | None = None
    first_page: int | None = None
    flow_reply_by: dt.date | None = None  # what the flows wait for (Contacts: Reply By)
    warnings: tuple[str, ...] = ()
    booked: tuple[str, dt.date, str, str] | None = None  # proposed: type, date, time, place


@dataclass
class LettersResult:
    queue: list[QueuedLetter]
    made: list[LetterMade]
    errors: list[NotMade]
    out_dir: Path | None
    batch: str = ""
    print_file: Path | None = None
    pdf: Path | None = None
    manifest: Path | None = None
    logged: int = 0
    backup: Path | None = None
    audit: list[dict[str, object]] = field(default_factory=list)  # the audit file's lines

    @property
    def held(self) -> list[QueuedLetter]:
        """Letters held today: this client gets another letter (one letter a day)."""
        return [q for q in self.queue if q.request.held]


def audit_path(workbook: Path) -> Path:
    return workbook.with_name(f"{workbook.name}.letters-audit.jsonl")


def user_name() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return os.environ.get("USERNAME") or os.environ.get("USER") or "unknown"


def append_audit(path: Path, lines: Sequence[dict[str, object]]) -> None:
    """Append-only: opened for appending, written in one go and fsynced."""
    if not lines:
        return
    text = "".join(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n" for line in lines)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def preview(
    path: Path,
    as_of: dt.date,
    kinds: Iterable[str] = (),
    cases: Iterable[str] = (),
    case_states: Iterable[CaseStateLike] = (),
    templates_dir: Path = TEMPLATES_DIR,
) -> BatchPlan:
    """The batch as a clerk checks it before printing: what printing will make, hold and not
    make (with what to fill in where); writes nothing."""
    workbook = caseload_file.reading(path)
    ev = evaluate_file(workbook, as_of)
    extras = WorkbookExtras.read(workbook)
    book = letter_book()
    queue = build_queue(ev, extras, book, kinds, cases, case_states)
    return plan_batch(queue, ev, extras, book, templates_dir)


QUEUE_HEADERS = (
    "Case ID",
    "Letter",
    "Language",
    "Why",
    "Reply By",
    "Branch",
    "Case Manager",
    "Print",
    "Clerk Note",
)


def queue_rows(queue: Sequence[QueuedLetter], errors: Sequence[NotMade] = ()) -> list[list[str]]:
    """The queue as a clerk checks it (QUEUE_HEADERS), in the CSV and in Excel's task pane:
    whether each letter prints, is held or cannot be made, and what to do about it."""
    problems = {(e.case_id, e.code): e.why if isinstance(e, NotMade) else str(e) for e in errors}
    rows = []
    for q in queue:
        r = q.request
        why = r.reason + (" (already printed today)" if q.logged_today else "")
        problem = problems.get((r.case_id, r.code))
        if r.held:
            status, note = "Held", r.held
        elif problem:
            status, note = "Not made", problem
        else:
            status, note = "Yes", "; ".join((*_proposal_words(q), *r.warnings))
        rows.append(
            [
                r.case_id,
                r.code,
                r.language,
                why,
                r.reply_by.isoformat(),
                q.client.branch,
                q.client.case_manager,
                status,
                note,
            ]
        )
    return rows


def _proposal_words(q: QueuedLetter) -> list[str]:
    r = q.request
    if r.proposed_time is None or r.appointment is None:
        return []
    return [
        f"proposes {_a(r.appointment.type)} on {fmt(r.appointment.date)} at "
        f"{clock_time(r.proposed_time, 'en')} with {q.client.case_manager}, booked on "
        "Appointments when printed"
    ]


def write_queue_csv(plan: BatchPlan, folder: Path, as_of: dt.date) -> Path:
    """The preview as a CSV (`queue-DATE.csv`) in `folder`, made if missing."""
    outputs.claim_folder(folder, "letters")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"queue-{as_of.isoformat()}.csv"
    return csv_file.write_csv(target, QUEUE_HEADERS, queue_rows(plan.queue, plan.errors))


def run_letters(
    path: Path,
    as_of: dt.date,
    *,
    out_dir: Path | None = None,
    kinds: Iterable[str] = (),
    cases: Iterable[str] = (),
    pdf: bool = False,
    case_states: Iterable[CaseStateLike] = (),
    templates_dir: Path = TEMPLATES_DIR,
    processes: int | None = None,
    progress: Progress | None = None,
) -> LettersResult:
    """Print the letters due and log them in the workbook (see the module docstring)."""
    note = progress or (lambda _: None)
    path = Path(path)
    book = letter_book()
    out_dir = out_dir or path.parent / "letters" / as_of.isoformat()
    outputs.claim_folder(out_dir, "letters")
    unlogged = outputs.removed_unless_done(out_dir, "letter", "they could not be logged")
    # Refused before printing: letters made but not logged would be sent twice.
    with (
        caseload_file.changing(path, "Nothing was printed or logged.") as workbook,
        unlogged,
    ):
        workbook.require(LETTER_SHEETS)
        ev = evaluate_file(workbook, as_of, progress)
        extras = WorkbookExtras.read(workbook)
        note("choosing letters")
        queue = build_queue(ev, extras, book, kinds, cases, case_states)
        user = user_name()
        result = make_letters(
            ev,
            extras,
            book,
            queue,
            out_dir,
            pdf=pdf,
            user=user,
            templates_dir=templates_dir,
            processes=processes,
            progress=progress,
        )
        if not result.made:
            return result
        note("logging")
        log = log_rows(result, as_of, book, user)
        if result.logged:
            stale = needs_refresh("pyxl letters", [name for name, rows in log.items() if rows])
            result.backup = workbook.append(log, above=stale)
        append_audit(audit_path(path), result.audit)
    return result


def letter_jobs(
    queue: Sequence[QueuedLetter], ev: Evaluation, extras: WorkbookExtras, book: LetterBook
) -> tuple[list[Job], list[QueuedLetter], list[NotMade]]:
    """Each letter's fields: the jobs to render, their letters, and the letters that cannot
    be made (what to fill in and where, in words). Held letters are neither."""
    jobs: list[Job] = []
    kept: list[QueuedLetter] = []
    errors: list[NotMade] = []
    for q in queue:
        if q.request.held:
            continue
        try:
            context = letter_fields(q, ev, extras, book)
        except MissingField as exc:
            errors.append(not_made(q, book, str(exc)))
            continue
        jobs.append(Job(len(jobs), q.request.case_id, q.request.code, q.request.language, context))
        kept.append(q)
    return jobs, kept, errors


class NotMade(str):
    """A letter that cannot be made, as printed ("AK-100005, Appointment notice: ..."), with
    its case, letter code and the reason in words."""

    case_id: str
    code: str
    why: str

    def __new__(cls, case_id: str, code: str, title: str, why: str) -> NotMade:
        made = super().__new__(cls, f"{case_id}, {title}: {why}")
        made.case_id, made.code, made.why = case_id, code, why
        return made


def not_made(q: QueuedLetter, book: LetterBook, why: str) -> NotMade:
    r = q.request
    return NotMade(r.case_id, r.code, book.letters[r.code].title, why)


@dataclass
class BatchPlan:
    """What printing will do, decided before anything is printed: the letters it makes, the
    ones held for today (one letter a client a day) and those it cannot make, with why."""

    queue: list[QueuedLetter]
    printable: list[QueuedLetter]
    held: list[QueuedLetter]
    errors: list[NotMade]


def plan_batch(
    queue: list[QueuedLetter],
    ev: Evaluation,
    extras: WorkbookExtras,
    book: LetterBook,
    templates_dir: Path = TEMPLATES_DIR,
) -> BatchPlan:
    """The batch as printing will make it: every letter's fields and a trial render (in
    memory), so a preview lists exactly what a print makes and what it cannot."""
    jobs, kept, errors = letter_jobs(queue, ev, extras, book)
    printable = []
    if jobs:
        templates = load_templates({(j.code, j.language) for j in jobs}, templates_dir)
        rendered = render_all(jobs, templates)
        for (_, docx, error), q in zip(sorted(rendered, key=lambda t: t[0]), kept, strict=True):
            if docx is None:
                errors.append(not_made(q, book, f"the template could not be filled in ({error})"))
            else:
                printable.append(q)
    held = [q for q in queue if q.request.held]
    return BatchPlan(queue, printable, held, errors)


def make_letters(
    ev: Evaluation,
    extras: WorkbookExtras,
    book: LetterBook,
    queue: list[QueuedLetter],
    out_dir: Path,
    *,
    pdf: bool = False,
    user: str = "",
    templates_dir: Path = TEMPLATES_DIR,
    processes: int | None = None,
    progress: Progress | None = None,
) -> LettersResult:
    """Render the queue's letters into out_dir, with the print file (and PDF) and the audit
    lines; writes nothing to the workbook (see log_rows)."""
    note = progress or (lambda _: None)
    as_of = ev.as_of
    jobs, kept, errors = letter_jobs(queue, ev, extras, book)
    result = LettersResult(queue, [], errors, out_dir)
    if not jobs:
        return result
    note("rendering letters")
    templates = load_templates({(j.code, j.language) for j in jobs}, templates_dir)
    rendered = render_all(jobs, templates, processes)
    out_dir.mkdir(parents=True, exist_ok=True)
    stems: dict[str, str] = {}
    made_bytes: list[bytes] = []
    keys = sorted(f"{q.request.case_id}\t{q.request.code}" for q in kept)
    result.batch = f"{as_of:%Y%m%d}-" + hashlib.sha256("\n".join(keys).encode()).hexdigest()[:8]
    when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    user, host = user or user_name(), socket.gethostname()
    for (_, docx, error), q in zip(sorted(rendered, key=lambda t: t[0]), kept, strict=True):
        r = q.request
        if docx is None:
            result.errors.append(
                not_made(q, book, f"the template could not be filled in ({error})")
            )
            continue
        stem = safe_file_stem(r.case_id)
        if stems.setdefault(stem, r.case_id) != r.case_id:  # two ids, one safe name
            stem += "-" + hashlib.sha256(r.case_id.encode()).hexdigest()[:6]
        target = out_dir / f"{stem}_{r.code}.docx"
        target.write_bytes(docx)
        digest = hashlib.sha256(docx).hexdigest()
        postal = extras.addresses.get(r.case_id, ("", "", "", ""))[3]
        result.made.append(
            LetterMade(
                r.case_id,
                r.code,
                r.language,
                target,
                digest,
                r.reply_by,
                r.reason,
                r.trigger,
                q.client.branch,
                q.client.case_manager,
                postal,
                q.logged_today,
                flow_reply_by=r.logged_reply_by,
                warnings=r.warnings,
                booked=_booking(r, q, ev),
            )
        )
        made_bytes.append(docx)
        template = templates[(r.code, r.language)]
        result.audit.append(
            {
                "time": when,
                "user": user,
                "host": host,
                "batch": result.batch,
                "as_of": as_of.isoformat(),
                "case_id": r.case_id,
                "letter": r.code,
                "language": r.language,
                "template": template.path.name,
                "template_sha256": template.sha256,
                "file": target.name,
                "sha256": digest,
                "action": "reprinted" if q.logged_today else "printed",
            }
        )
        booked = result.made[-1].booked
        if booked and not q.logged_today:
            result.audit[-1]["booked"] = f"{booked[0]} {booked[1].isoformat()} {booked[2]}"
    if result.made:
        note("print file")
        _print_file(result, made_bytes, out_dir, pdf)
    result.logged = sum(not m.logged_today for m in result.made)
    return result


def _booking(
    r: LetterRequest, q: QueuedLetter, ev: Evaluation
) -> tuple[str, dt.date, str, str] | None:
    """The appointment a letter proposed (booked when it is printed), or None."""
    if r.proposed_time is None or r.appointment is None:
        return None
    branch = next((b for b in ev.workbook.caseload.branches if b.name == q.client.branch), None)
    place = proposed_place(branch or Branch(q.client.branch, "", ""))
    return (r.appointment.type, r.appointment.date, clock_time(r.proposed_time, "en"), place)


def log_rows(
    result: LettersResult, as_of: dt.date, book: LetterBook, user: str
) -> dict[str, list[list[object]]]:
    """The rows that log the batch's new letters (not those already logged today): one on
    Letters and one written contact attempt on Contacts each, and on Appointments the
    appointments the letters proposed, in the sheets' column order."""
    new = [m for m in result.made if not m.logged_today]
    log = {
        schema.LETTERS.name: [_letters_row(m, as_of, result.batch, user) for m in new],
        schema.CONTACTS.name: [_contact_row(m, as_of, book, result.batch) for m in new],
    }
    booked = [_appointment_row(m, result.batch) for m in new if m.booked]
    if booked:
        log[schema.APPOINTMENTS.name] = booked
    return log


def _appointment_row(m: LetterMade, batch: str) -> list[object]:
    assert m.booked is not None
    kind, day, time, place = m.booked
    values = {
        "Case ID": m.case_id,
        "Type": kind,
        "Date": day,
        "Time": time,
        "Location": place,
        "Status": "Scheduled",
        "Notes": f"Booked by pyxl letters with letter {m.code} (batch {batch})",
    }
    return [values.get(h) for h in schema.APPOINTMENTS.headers]


def _letters_row(m: LetterMade, as_of: dt.date, batch: str, user: str) -> list[object]:
    return [
        as_of,
        m.case_id,
        m.code,
        m.language,
        m.reason,
        m.trigger,
        m.reply_by,
        m.branch,
        m.case_manager,
        batch,
        m.file.name,
        m.sha256,
        user,
    ]


def _contact_row(m: LetterMade, as_of: dt.date, book: LetterBook, batch: str) -> list[object]:
    definition = book.letters[m.code]
    note = "; ".join(
        (
            f"Letter {m.code} ({definition.title}) printed in batch {batch}",
            f"reply by {m.reply_by.isoformat()}",
            *m.warnings,
        )
    )
    values = {
        "Case ID": m.case_id,
        "Date": as_of,
        "Method": "Letter",
        "Successful": False,
        "Purpose": definition.purpose,
        "Note Entered": as_of,
        "Reply By": m.flow_reply_by or m.reply_by,
        "Staff": m.case_manager,
        "Notes": note,
    }
    return [values.get(h) for h in schema.CONTACTS.headers]


def mailing_order(made: Sequence[LetterMade]) -> list[LetterMade]:
    return sorted(made, key=lambda m: (m.branch, m.case_manager, m.postal_code, m.case_id, m.code))


def _print_file(
    result: LettersResult, made_bytes: Sequence[bytes], out_dir: Path, pdf: bool
) -> None:
    by_file = {m.file: b for m, b in zip(result.made, made_bytes, strict=True)}
    ordered = mailing_order(result.made)
    merged = letter_docx.merge_letters([by_file[m.file] for m in ordered])
    result.print_file = out_dir / f"print-{result.batch}.docx"
    result.print_file.write_bytes(merged)
    if pdf:
        result.pdf = out_dir / f"print-{result.batch}.pdf"
        ranges = letter_docx.batch_pdf([by_file[m.file] for m in ordered], result.pdf)
        for m, (first, last) in zip(ordered, ranges, strict=True):
            m.first_page, m.pages = first, last - first + 1
    result.manifest = out_dir / f"manifest-{result.batch}.csv"
    rows = []
    for n, m in enumerate(ordered, start=1):
        last = m.first_page + m.pages - 1 if m.first_page and m.pages else None
        rows.append(
            [
                n,
                m.case_id,
                m.code,
                m.language,
                m.branch,
                m.case_manager,
                m.postal_code,
                m.file.name,
                m.pages or "",
                m.first_page or "",
                last or "",
                m.reply_by.isoformat(),
            ]
        )
    csv_file.write_csv(result.manifest, MANIFEST_HEADERS, rows)


MANIFEST_HEADERS = (
    "Order",
    "Case ID",
    "Letter",
    "Language",
    "Branch",
    "Case Manager",
    "Postal Code",
    "File",
    "Pages",
    "First Page",
    "Last Page",
    "Reply By",
)
