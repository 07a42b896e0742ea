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

import csv
import datetime as dt
import getpass
import hashlib
import io
import json
import multiprocessing
import os
import re
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import python_calamine
from jinja2 import TemplateError
from lxml import etree

from pyxl.adapters import letter_docx, safe_save, schema
from pyxl.adapters.validation import find_header, read_text
from pyxl.adapters.workbook_patch import append_rows
from pyxl.adapters.workbook_reader import RawSheet, WorkbookUnreadable, read_raw
from pyxl.domain.letters import (
    CaseStateLike,
    LetterBook,
    LetterInputError,
    LetterRequest,
    SentKey,
    letter_queue,
    next_appointment,
)
from pyxl.domain.model import Appointment, Branch, Client
from pyxl.domain.reference import WEEKENDS_ONLY
from pyxl.policy import letter_book
from pyxl.services.recompute import Evaluation, check_writable, evaluate_bytes, needs_refresh

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "letter_templates"
EXTRA_SHEETS = {"Clients", "Appointments", "Staff", "Letters", "Noncompliance", "Penalties"}
Progress = Callable[[str], None]

MONTHS = {
    "en": "January February March April May June July August September October November December",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
}
WEEKDAYS = {
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    "es": "lunes martes miércoles jueves viernes sábado domingo",
}
VIOLATIONS = {  # Noncompliance events that a non-compliance letter names, per language
    "Missed activity": ("You missed a scheduled activity.", "Faltó a una actividad programada."),
    "Hours short": (
        "You did not complete the required participation hours.",
        "No completó las horas de participación requeridas.",
    ),
    "Pattern of non-cooperation": (
        "You have missed several required activities.",
        "Ha faltado a varias actividades requeridas.",
    ),
    "No response": (
        "You did not respond to our letter.",
        "No respondió a nuestra carta.",
    ),
}


def long_date(day: dt.date, lang: str, weekday: bool = False) -> str:
    """'Monday, November 30, 2026' / 'lunes, 30 de noviembre de 2026' (no locale needed)."""
    month = MONTHS[lang].split()[day.month - 1]
    if lang == "es":
        text = f"{day.day} de {month} de {day.year}"
    else:
        text = f"{month} {day.day}, {day.year}"
    if weekday:
        text = f"{WEEKDAYS[lang].split()[day.weekday()]}, {text}"
    return text


def clock_time(value: object, lang: str) -> str:
    """A time cell (dt.time or typed text) as printed: '10:00 AM' / '10:00 a. m.'."""
    if isinstance(value, dt.datetime):
        value = value.time()
    if isinstance(value, dt.time):
        hour = value.hour % 12 or 12
        half = ("AM", "PM") if lang == "en" else ("a. m.", "p. m.")
        return f"{hour}:{value.minute:02d} {half[value.hour >= 12]}"
    if isinstance(value, float) and 0 <= value < 1:  # a time typed as a day fraction
        minutes = round(value * 24 * 60)
        return clock_time(dt.time(minutes // 60 % 24, minutes % 60), lang)
    return str(value).strip() if value not in (None, "") else ""


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

    @classmethod
    def read(cls, data: bytes) -> WorkbookExtras:
        return cls.from_sheets(read_raw(data, EXTRA_SHEETS).sheets)

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
        staff = {
            _text(r["Case Manager"]): (_text(r.get("Phone", "")), _text(r.get("E-mail", "")))
            for r in _sheet(raw, schema.STAFF).rows
        }
        details = {}
        for r in _sheet(raw, schema.APPOINTMENTS).rows:
            day = _day(r.get("Date"))
            if day is not None:
                key = (_text(r["Case ID"]), _text(r.get("Type")), day)
                details[key] = (r.get("Time", ""), _text(r.get("Location", "")))
        violations: dict[str, tuple[str, dt.date]] = {}
        for r in _Table.read(raw.get("Noncompliance"), ("Case ID", "Date", "Event")).rows:
            day, event = _day(r.get("Date")), _text(r.get("Event"))
            case = _text(r["Case ID"])
            if (
                day
                and event in VIOLATIONS
                and (case not in violations or violations[case][1] <= day)
            ):
                violations[case] = (event, day)
        penalties: dict[str, dict[str, object]] = {}
        penalty_headers = ("Case ID", "Imposed Date", "Step", "Level", "Percent")
        for r in _Table.read(raw.get("Penalties"), penalty_headers).rows:
            case, day = _text(r["Case ID"]), _day(r.get("Imposed Date"))
            held = penalties.get(case)
            if day and (held is None or held["Imposed Date"] <= day):  # type: ignore[operator]
                penalties[case] = {**r, "Imposed Date": day}
        logged = _sheet(raw, schema.LETTERS).rows
        return cls(addresses, staff, details, logged, violations, penalties)

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
    """Fields a letter needs are blank; the message names each one and where to fill it in."""

    def __init__(self, fields: Sequence[tuple[str, str]]) -> None:
        text = "; ".join(f"{name} is blank ({where})" for name, where in fields)
        super().__init__(f"{text}; the letter was not made")
        self.fields = [name for name, _ in fields]


def _centers(branches: Sequence[Branch], state: str) -> list[dict[str, str]]:
    return [
        {
            "name": b.office_name or b.name,
            "address": b.address,
            "city_line": f"{b.city}, {b.state} {b.postal_code}".strip(", "),
            "phone": b.phone,
            "hours": b.hours,
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
        "office_hours": branch.hours,
        "case_id": client.case_id,
        "client_name": client.client_name,
        "mailing_address": "\n".join([*street, city_line]) if street and city_line else "",
        "program": str(client.program),
        "reply_by": long_date(r.reply_by, lang, weekday=True),
        "case_manager": client.case_manager,
        "case_manager_phone": phone,
        "case_manager_email": email,
        "pool_date": long_date(client.referral_date, lang),
        "centers": _centers(ev.workbook.caseload.branches, branch.state),
    }
    if len(street) > 2:
        raise MissingField(
            [("mailing_address", "Clients: Address has more than 2 lines for the window")]
        )
    if r.appointment is not None:
        a = r.appointment
        time, place = extras.appointment_details.get((a.case_id, a.type, a.date), ("", ""))
        values |= {
            "appointment_type": a.type,
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
        values["violation"] = VIOLATIONS[event][lang == "es"]
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
            missing.append((name, _where(name)))
        context[name] = "" if value is None else value
    if missing:
        raise MissingField(missing)
    context["client_name"] = letter_docx.clean_value(context["client_name"], one_line=True)
    return letter_docx.clean_value(context)  # type: ignore[return-value]


def _where(name: str) -> str:
    return {
        "mailing_address": "Clients: Address, City, State, Postal Code",
        "case_manager_phone": "Staff: Phone",
        "office_name": "Branches: Office Name",
        "office_address": "Branches: Address",
        "office_city_line": "Branches: City, State, Postal Code",
        "office_phone": "Branches: Phone",
        "office_hours": "Branches: Hours",
        "appointment_date": "Appointments: no Scheduled appointment of the right type",
        "appointment_time": "Appointments: Time",
        "appointment_place": "Appointments: Location",
        "violation": "Noncompliance: no missed activity or hours short recorded",
        "penalty_level": "Penalties: Level",
        "effective_date": "Penalties: Imposed Date",
    }.get(name, "no value for it in the workbook")


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
        except (TemplateError, etree.XMLSyntaxError, ValueError) as exc:
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


@dataclass
class LettersResult:
    queue: list[QueuedLetter]
    made: list[LetterMade]
    errors: list[str]
    out_dir: Path | None
    batch: str = ""
    print_file: Path | None = None
    pdf: Path | None = None
    manifest: Path | None = None
    logged: int = 0
    backup: Path | None = None
    audit: list[dict[str, object]] = field(default_factory=list)  # the audit file's lines


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
) -> list[QueuedLetter]:
    """The queue as a clerk checks it before printing; writes nothing."""
    data, _ = safe_save.read_snapshot(path)
    ev = evaluate_bytes(data, as_of)
    return build_queue(ev, WorkbookExtras.read(data), letter_book(), kinds, cases, case_states)


QUEUE_HEADERS = ("Case ID", "Letter", "Language", "Why", "Reply By", "Branch", "Case Manager")


def queue_rows(queue: Sequence[QueuedLetter]) -> list[list[str]]:
    """The queue as a clerk checks it (QUEUE_HEADERS), in the CSV and in Excel's task pane."""
    rows = []
    for q in queue:
        r = q.request
        why = r.reason + (" (already printed today)" if q.logged_today else "")
        rows.append(
            [
                r.case_id,
                r.code,
                r.language,
                why,
                r.reply_by.isoformat(),
                q.client.branch,
                q.client.case_manager,
            ]
        )
    return rows


def write_queue_csv(queue: Sequence[QueuedLetter], target: Path) -> Path:
    with open(target, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(QUEUE_HEADERS)
        w.writerows(queue_rows(queue))
    return target


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
    safe_save.cleanup_stale_temp_files(path)
    with safe_save.writer_lock(path):
        # Refuse before printing: letters made but not logged would be sent twice.
        safe_save.refuse_if_open(path, "Nothing was printed or logged.")
        data, snapshot = safe_save.read_snapshot(path)
        check_writable(data)
        _check_letter_sheets(data)
        ev = evaluate_bytes(data, as_of, progress)
        extras = WorkbookExtras.read(data)
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
            patched = append_rows(data, log, above=stale)
            expected = len(extras.logged) + result.logged
            result.backup = safe_save.atomic_write(
                path, patched, expected=snapshot, verify=lambda p: _verify_logged(p, expected)
            )
        append_audit(audit_path(path), result.audit)
    return result


def letter_jobs(
    queue: Sequence[QueuedLetter], ev: Evaluation, extras: WorkbookExtras, book: LetterBook
) -> tuple[list[Job], list[QueuedLetter], list[str]]:
    """Each letter's fields: the jobs to render, their letters, and the letters that cannot
    be made (a blank field, named with where to fill it in)."""
    jobs: list[Job] = []
    kept: list[QueuedLetter] = []
    errors: list[str] = []
    for q in queue:
        try:
            context = letter_fields(q, ev, extras, book)
        except MissingField as exc:
            errors.append(f"case {q.request.case_id}, letter {q.request.code}: {exc}")
            continue
        jobs.append(Job(len(jobs), q.request.case_id, q.request.code, q.request.language, context))
        kept.append(q)
    return jobs, kept, errors


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
            result.errors.append(f"case {r.case_id}, letter {r.code}: {error}")
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
    if result.made:
        note("print file")
        _print_file(result, made_bytes, out_dir, pdf)
    result.logged = sum(not m.logged_today for m in result.made)
    return result


def log_rows(
    result: LettersResult, as_of: dt.date, book: LetterBook, user: str
) -> dict[str, list[list[object]]]:
    """The rows that log the batch's new letters (not those already logged today): one on
    Letters and one written contact attempt on Contacts each, in the sheets' column order."""
    new = [m for m in result.made if not m.logged_today]
    return {
        schema.LETTERS.name: [_letters_row(m, as_of, result.batch, user) for m in new],
        schema.CONTACTS.name: [_contact_row(m, as_of, book, result.batch) for m in new],
    }


def _check_letter_sheets(data: bytes) -> None:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    missing = [s.name for s in (schema.LETTERS, schema.CONTACTS) if s.name not in book.sheet_names]
    if missing:
        raise WorkbookUnreadable(
            f"this workbook has no {', '.join(repr(m) for m in missing)} sheet, where letters "
            "are logged (it was made before letters existed): create a new workbook with "
            "`pyxl new` and copy the data over, or add the sheet with the same columns"
        )


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
    note = (
        f"Letter {m.code} ({definition.title}) printed in batch {batch}; "
        f"reply by {m.reply_by.isoformat()}"
    )
    values = {
        "Case ID": m.case_id,
        "Date": as_of,
        "Method": "Letter",
        "Successful": False,
        "Purpose": definition.purpose,
        "Note Entered": as_of,
        "Reply By": m.reply_by,
        "Staff": m.case_manager,
        "Notes": note,
    }
    return [values.get(h) for h in schema.CONTACTS.headers]


def _verify_logged(path: Path, expected: int) -> None:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))
    rows = book.get_sheet_by_name(schema.LETTERS.name).to_python(skip_empty_area=False)
    body = [r for r in rows[schema.HEADER_ROW :] if any(v != "" for v in r)]
    if len(body) != expected:
        raise ValueError(f"the Letters sheet has {len(body)} rows, expected {expected}")


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
    with open(result.manifest, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
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
            ]
        )
        for n, m in enumerate(ordered, start=1):
            last = m.first_page + m.pages - 1 if m.first_page and m.pages else None
            w.writerow(
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
