"""The day's letters as a clerk and a client meet them, on the demo as of 2026-11-23 and
2026-12-02 and on a hostile workbook: the preview is the print; no reply-by or appointment
on a closed day; no client gets two letters the same day; every due letter is made, held
or named with what to fill in where; proposed appointments are booked when printed."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import shutil
from pathlib import Path

import openpyxl
import pytest

from pyxl.adapters import schema
from pyxl.adapters.letter_docx import document_text
from pyxl.domain.model import APPOINTMENT_TYPES, Program, Status
from pyxl.policy import letter_book
from pyxl.services.demo import run_demo
from pyxl.services.letters import preview, run_letters
from pyxl.services.recompute import check, due_list_rows

DAYS = [dt.date(2026, 11, 23), dt.date(2026, 12, 2)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return run_demo(tmp_path_factory.mktemp("demo"), as_of=DAYS[0]).path


@pytest.fixture(scope="module")
def hostile(demo, tmp_path_factory) -> Path:
    """The demo with what people type: a branch without Spanish hours or opening times, a
    case manager who is never in, an address of four lines, a formula as a client name, an
    appointment time that is not a time, a meeting on a Saturday."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.xlsx"
    shutil.copy(demo, path)
    wb = openpyxl.load_workbook(path)
    first = schema.HEADER_ROW + 1
    branches = wb["Branches"]
    col = {h: i + 1 for i, h in enumerate(schema.BRANCHES.headers)}
    branches.cell(first + 2, col["Hours (Spanish)"]).value = None  # Portland East
    branches.cell(first + 2, col["Opens"]).value = "noon-ish"
    staff = wb["Staff"]
    staff.cell(first, len(schema.STAFF.headers)).value = "Sun"
    clients = wb["Clients"]
    ccol = {h: i + 1 for i, h in enumerate(schema.CLIENTS.headers)}
    for row in range(first, first + 400):
        case = clients.cell(row, 1).value
        if case == "TX-100032":
            clients.cell(row, ccol["Client Name"]).value = '=HYPERLINK("http://x","Ana")'
        if case == "TX-100144":
            clients.cell(row, ccol["Address"]).value = "1 A St\nApt 2\nRear\nBldg 4"
    appointments = wb["Appointments"]
    acol = {h: i + 1 for i, h in enumerate(schema.APPOINTMENTS.headers)}
    for row in range(first, appointments.max_row + 1):
        if appointments.cell(row, 1).value == "OR-100177":
            appointments.cell(row, acol["Time"]).value = "after lunch"
        if appointments.cell(row, 1).value == "OR-100012":
            appointments.cell(row, acol["Date"]).value = dt.datetime(2026, 12, 5)  # Saturday
    wb.save(path)
    return path


def closed(path: Path, as_of: dt.date):
    ev = check(path, as_of)
    return {b.name: ev.calendars[b.name] for b in ev.workbook.caseload.branches}


@pytest.mark.parametrize("as_of", DAYS, ids=[d.isoformat() for d in DAYS])
@pytest.mark.parametrize("which", ["demo", "hostile"])
def test_the_preview_is_the_print_and_every_letter_is_one_a_client_a_day_on_open_days(
    which, as_of, request, tmp_path
):
    workbook = tmp_path / "caseload.xlsx"
    shutil.copy(request.getfixturevalue(which), workbook)
    plan = preview(workbook, as_of)
    result = run_letters(workbook, as_of, out_dir=tmp_path / "out")

    def keys(items):
        return sorted((q.request.case_id, q.request.code) for q in items)

    assert keys(plan.printable) == sorted((m.case_id, m.code) for m in result.made)
    assert sorted(plan.errors) == sorted(result.errors)
    assert keys(plan.held) == keys(result.held)
    # Every letter due is made, held or named; reasons are words, never field names.
    assert len(plan.queue) == len(plan.printable) + len(plan.held) + len(plan.errors)
    assert all("_" not in e.why and "is blank" not in e.why for e in plan.errors)
    # One letter a client a day.
    cases = [m.case_id for m in result.made]
    assert len(cases) == len(set(cases))
    # Only open days: reply-by dates and the appointments the letters give.
    calendars = closed(workbook, as_of)
    for q in plan.printable:
        calendar = calendars[q.client.branch]
        assert calendar.is_business_day(q.request.reply_by), (q.request.case_id, q.request.code)
        if q.request.appointment is not None:
            assert calendar.is_business_day(q.request.appointment.date)
    if which == "demo":
        # Only the meetings set on a closed day are not made (named in the test below).
        assert all("when" in e.why and "is closed" in e.why for e in result.errors)
        assert len(result.made) >= 20


def test_thanksgiving_meetings_are_named_and_their_clients_get_no_contradicting_note(demo):
    plan = preview(demo, DAYS[0])
    named = {e.case_id: e.why for e in plan.errors}
    for case in ("OR-100038", "OR-100120"):
        assert "Thu 2026-11-26 (Thanksgiving Day)" in named[case] and "(cell C" in named[case]
        [held] = [q for q in plan.held if q.request.case_id == case]
        assert held.request.code == "OR-ENGAGE"
        assert case not in {q.request.case_id for q in plan.printable}


def test_a_proposed_appointment_is_printed_booked_on_appointments_and_not_proposed_twice(
    demo, tmp_path
):
    workbook = tmp_path / "caseload.xlsx"
    shutil.copy(demo, workbook)
    result = run_letters(workbook, DAYS[0], out_dir=tmp_path / "out")
    booked = [m for m in result.made if m.booked]
    assert booked
    wb = openpyxl.load_workbook(workbook)
    rows = list(wb["Appointments"].iter_rows(min_row=schema.HEADER_ROW + 1, values_only=True))
    for m in booked:
        kind, day, time, _ = m.booked
        [row] = [r for r in rows if r[0] == m.case_id and r[1] == kind and r[2].date() == day]
        assert row[3] == time and row[5] == "Scheduled" and m.code in row[7]
        text = document_text(m.file.read_bytes())
        assert time in text or m.language == "es"
    slots = [(m.booked[1], m.booked[2], m.case_manager) for m in booked]
    assert len(slots) == len(set(slots))  # never two clients in one slot
    again = preview(workbook, DAYS[0] + dt.timedelta(days=1))
    assert not {m.case_id for m in booked} & {
        q.request.case_id for q in again.printable if q.request.proposed_time
    }


ENGLISH_WORDS = [
    *APPOINTMENT_TYPES,
    *(p.value for p in Program),
    *(v["en"] for v in letter_book().violations.values()),
    *calendar.month_name[1:],
    *calendar.day_name,
    "AM",
    "PM",
    "Mon",
    "Fri",
]


@pytest.mark.parametrize("as_of", DAYS, ids=[d.isoformat() for d in DAYS])
def test_spanish_letters_hold_no_english_value_list_word(demo, as_of, tmp_path):
    workbook = tmp_path / "caseload.xlsx"
    shutil.copy(demo, workbook)
    result = run_letters(workbook, as_of, out_dir=tmp_path / "out", kinds=(), cases=())
    spanish = [m for m in result.made if m.language == "es"]
    assert spanish
    for m in spanish:
        text = document_text(m.file.read_bytes())
        found = [w for w in ENGLISH_WORDS if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)]
        assert found == [], (m.case_id, m.code, found)


def test_letters_mail_cannot_carry_say_so_in_the_preview_and_on_the_due_list(demo, tmp_path):
    workbook = tmp_path / "caseload.xlsx"
    shutil.copy(demo, workbook)
    plan = preview(workbook, DAYS[0])
    short = {
        q.request.case_id
        for q in plan.printable
        if any("phone or see the client" in w for w in q.request.warnings)
    }
    assert short
    run_letters(workbook, DAYS[0], out_dir=tmp_path / "out")
    ev = check(workbook, DAYS[0])
    rows = [r for r in due_list_rows(ev) if r[5] == "LTR-CALL"]
    assert {r[0] for r in rows} == short
    assert all(r[8] == DAYS[0] and r[9] == "DUE" for r in rows)
    assert ev.status_counts()[Status.DUE] >= len(rows)  # counted where the Due List is
