"""`pyxl letters` on a real caseload workbook: the batch, its print file and PDF, the log in
the workbook (Letters and Contacts, through the safe-save path), idempotence on the same
day, the audit file, and letters that cannot be made."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest

from pyxl.adapters import libreoffice, schema
from pyxl.adapters.safe_save import WorkbookBusy
from pyxl.adapters.workbook_patch import AppendRefused, append_rows
from pyxl.policy import letter_book
from pyxl.services.demo import run_demo
from pyxl.services.letters import audit_path, preview, run_letters
from pyxl.services.recompute import check

AS_OF = dt.date(2026, 11, 23)
BOOK = letter_book()


@pytest.fixture(scope="module")
def demo_workbook(tmp_path_factory) -> Path:
    return run_demo(tmp_path_factory.mktemp("demo"), as_of=AS_OF).path


@pytest.fixture
def workbook(demo_workbook, tmp_path) -> Path:
    target = tmp_path / "caseload.xlsx"
    shutil.copy(demo_workbook, target)
    return target


def table_rows(path: Path, sheet: str) -> list[dict[str, object]]:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    [(_, ref)] = ws.tables.items()
    cells = ws[ref]
    headers = [c.value for c in cells[0]]
    return [dict(zip(headers, (c.value for c in row), strict=True)) for row in cells[1:]]


def pdf_page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True)
    return text.stdout.decode().split("\f")[:-1]


def test_a_batch_makes_each_letter_a_print_file_a_pdf_and_a_manifest_that_match(
    workbook, tmp_path, soffice
):
    result = run_letters(workbook, AS_OF, out_dir=tmp_path / "out", pdf=True)
    assert len(result.made) >= 10 and result.print_file and result.pdf and result.manifest
    names = {m.file.name for m in result.made}
    assert names == {f"{m.case_id}_{m.code}.docx" for m in result.made}  # never client names
    manifest = result.manifest.read_text().splitlines()[1:]
    pages = pdf_page_texts(result.pdf)
    assert len(manifest) == len(result.made)
    covered = 0
    previous = ("", "", "")
    for line in manifest:
        _, case, code, _, branch, cm, postal, _, count, first, last, _ = line.split(",")
        assert (branch, cm, postal) >= previous  # sorted for mailing
        previous = (branch, cm, postal)
        for page in range(int(first), int(last) + 1):
            footer = pages[page - 1].strip().splitlines()[-1]
            assert case in footer and code in footer, f"page {page}: {footer!r}"
        covered += int(count)
    assert covered == len(pages)


def test_every_letter_is_logged_once_on_letters_and_as_a_written_attempt_on_contacts(
    workbook, tmp_path
):
    before = len(table_rows(workbook, "Contacts"))
    result = run_letters(workbook, AS_OF, out_dir=tmp_path / "out")
    assert result.logged == len(result.made) > 0 and result.backup is not None
    letters = table_rows(workbook, "Letters")
    assert [(r["Case ID"], r["Letter"]) for r in letters] == [
        (m.case_id, m.code) for m in result.made
    ]
    contacts = table_rows(workbook, "Contacts")
    assert len(contacts) == before + len(result.made)
    for made, row in zip(result.made, contacts[before:], strict=True):
        assert row["Case ID"] == made.case_id and row["Method"] == "Letter"
        assert row["Successful"] == "No" and row["Purpose"] == BOOK.letters[made.code].purpose
        assert f"reply by {made.reply_by.isoformat()}" in row["Notes"]
    for made, row in zip(result.made, letters, strict=True):
        assert row["Reply By"].date() == made.reply_by and row["Output SHA-256"] == made.sha256
    # The same batch again the same day: same letters, nothing logged twice, workbook untouched.
    stamp = workbook.stat().st_mtime_ns
    again = run_letters(workbook, AS_OF, out_dir=tmp_path / "again")
    assert again.logged == 0 and again.backup is None and workbook.stat().st_mtime_ns == stamp
    assert [m.sha256 for m in again.made] == [m.sha256 for m in result.made]
    audit = [json.loads(x) for x in audit_path(workbook).read_text().splitlines()]
    assert len(audit) == 2 * len(result.made)
    assert {a["action"] for a in audit[len(result.made) :]} == {"reprinted"}
    for line in audit[: len(result.made)]:
        data = (tmp_path / "out" / line["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == line["sha256"] and line["user"]


def test_logged_letters_count_as_contact_attempts_and_are_not_queued_again_the_next_day(
    workbook, tmp_path
):
    result = run_letters(workbook, AS_OF, out_dir=tmp_path / "out")
    appointment_notices = {m.case_id for m in result.made if m.code == "APPT"}
    assert appointment_notices
    ev = check(workbook, AS_OF)
    ob = ev.obligations
    for i in range(len(ob)):
        if ob.rule_ids[ob.rule[i]] == "A-01" and ob.case_ids[ob.case[i]] in appointment_notices:
            assert ob.status[i] == 3, "a logged J016-style notice meets A-01"  # MET
    later = preview(workbook, AS_OF + dt.timedelta(days=1)).queue
    made = {(m.case_id, m.code) for m in result.made}
    assert not made & {(q.request.case_id, q.request.code) for q in later}


def test_the_workbook_with_logged_letters_keeps_its_tables_whole_and_opens_in_libreoffice(
    workbook, tmp_path, soffice
):
    run_letters(workbook, AS_OF, out_dir=tmp_path / "out")
    with zipfile.ZipFile(workbook) as z:
        assert z.testzip() is None
    wb = openpyxl.load_workbook(workbook)
    for name in ("Letters", "Contacts"):
        ws = wb[name]
        [(_, ref)] = ws.tables.items()
        last = int(ref.split(":")[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        assert ws.cell(last, 1).value and not ws.cell(last + 1, 1).value
        assert ws.tables[ws.tables.items()[0][0]].autoFilter.ref == ref
    converted = libreoffice.convert(workbook, "xlsx", tmp_path / "lo")[0]
    roundtrip = openpyxl.load_workbook(converted)
    assert roundtrip["Letters"].max_row >= 5


def test_a_letter_with_a_blank_field_is_named_and_the_rest_of_the_batch_goes_on(workbook, tmp_path):
    manager = preview(workbook, AS_OF).printable[0].client.case_manager
    wb = openpyxl.load_workbook(workbook)
    ws = wb["Staff"]
    [row] = [c.row for c in ws["A"] if c.value == manager]
    ws.cell(row, 3).value = None  # the case manager's phone
    wb.save(workbook)
    result = run_letters(workbook, AS_OF, out_dir=tmp_path / "out")
    blank = [e for e in result.errors if f"Staff: fill in Phone for {manager}" in e]
    assert blank and all(f"(cell C{row})" in e for e in blank)
    assert not any("_" in e.why for e in result.errors)  # words, never field names
    assert result.made and len(table_rows(workbook, "Letters")) == len(result.made)


def test_kind_and_case_filters_choose_the_letters(workbook, tmp_path):
    queue = preview(workbook, AS_OF, kinds=["OR-ENGAGE"]).printable
    assert queue and {q.request.code for q in queue} == {"OR-ENGAGE"}
    one = queue[0].request.case_id
    result = run_letters(workbook, AS_OF, out_dir=tmp_path / "out", cases=[one])
    assert {m.case_id for m in result.made} == {one}


def test_nothing_is_made_or_logged_while_excel_has_the_workbook_open(workbook, tmp_path):
    owner = workbook.with_name(f"~${workbook.name}")
    owner.write_bytes(b"\x05Ana Diaz" + b" " * 100)
    with pytest.raises(WorkbookBusy):
        run_letters(workbook, AS_OF, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists() and not audit_path(workbook).exists()


def test_a_flow_letter_without_its_data_stops_with_the_field_named(workbook, tmp_path):
    case = preview(workbook, AS_OF).printable[0].request.case_id
    flow = {"flow": "TX", "state": "PENALTY", "since": AS_OF, "reply_by": None}
    states = [SimpleNamespace(case_id=case, letter="DQ-NOTICE", **flow)]
    result = run_letters(workbook, AS_OF, out_dir=tmp_path / "o", case_states=states, cases=[case])
    [error] = [e for e in result.errors if e.case_id == case and e.code == "DQ-NOTICE"]
    assert error.startswith(f"{case}, Disqualification / penalty notice: ")
    assert f"Penalties: record the penalty of {case} (none on file)" in error


def test_appending_refuses_to_overwrite_data_typed_below_a_table(workbook):
    data = workbook.read_bytes()
    grown = append_rows(data, {"Letters": [[AS_OF, "C-1", "APPT"]]})
    wb_path = workbook.with_name("grown.xlsx")
    wb_path.write_bytes(grown)
    wb = openpyxl.load_workbook(wb_path)
    ws = wb["Letters"]
    first = schema.HEADER_ROW + 1
    assert ws.cell(first, 2).value == "C-1" and ws.tables["Letters"].ref.endswith(str(first))
    ws.cell(first + 3, 1).value = "typed below the table"
    wb.save(wb_path)
    with pytest.raises(AppendRefused, match=f"Letters!A{first + 3}"):
        append_rows(wb_path.read_bytes(), {"Letters": [[AS_OF, f"C-{n}"] for n in range(4)]})
