"""Messages that say what happened, each at its cell: cells as a hostile or unlucky file
holds them (written into the sheet XML, as another program would write them)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pyxl.adapters import schema
from pyxl.adapters.workbook_reader import sheet_parts
from pyxl.services.new_workbook import create_workbook
from pyxl.services.recompute import check

AS_OF = dt.date(2026, 3, 16)
CONTACT = ["C1", dt.date(2026, 3, 2), "Phone", "Yes", "No", "No", "Monthly review"]


@pytest.fixture(scope="module")
def one_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One client (row 4 of Clients) with two contacts (rows 4 and 5 of Contacts)."""
    client = ["C1", None, "Ann", "Texas Choices", "Houston", "Lee", dt.date(2026, 1, 5)]
    return create_workbook(
        tmp_path_factory.mktemp("one") / "caseload.xlsx",
        as_of=AS_OF,
        rows={
            "Clients": [client + [None] * (len(schema.CLIENTS.columns) - len(client))],
            "Contacts": [CONTACT + [None] * (len(schema.CONTACTS.columns) - len(CONTACT))] * 2,
        },
    )


def with_cell(source: Path, target: Path, sheet: str, address: str, xml: str) -> Path:
    """A copy of `source` whose cell `address` of `sheet` is the cell XML `xml` (STYLE
    stands for the cell's own style, kept so that a date cell stays a date cell)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        part = sheet_parts(zin)[0][sheet]
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                old = re.search(rb'<c r="%s"[^>]*?(?:/>|>.*?</c>)' % address.encode(), data, re.S)
                assert old, address
                style = re.search(rb' s="\d+"', old[0])
                cell = xml.replace("STYLE", style[0].decode() if style else "")
                data = data.replace(old[0], cell.encode())
            z.writestr(info, data)
    return target


def problems_at(path: Path, cell: str) -> list[str]:
    return [p.message for p in check(path, AS_OF).problems if f"{p.sheet}!{p.cell}" == cell]


@pytest.mark.parametrize("serial", ["-5", "0", "-693594"])
def test_a_date_cell_holding_zero_or_a_negative_serial_says_so(
    one_client: Path, tmp_path: Path, serial: str
) -> None:
    path = with_cell(
        one_client, tmp_path / "x.xlsx", "Contacts", "B4", f'<c r="B4"STYLE><v>{serial}</v></c>'
    )
    (message,) = problems_at(path, "Contacts!B4")
    assert "0 or a negative number" in message and "1900-01-01" in message
    assert "a time" not in message


def test_a_time_of_day_in_a_date_column_says_so(one_client: Path, tmp_path: Path) -> None:
    path = with_cell(
        one_client, tmp_path / "x.xlsx", "Contacts", "B4", '<c r="B4"STYLE><v>0.5</v></c>'
    )
    (message,) = problems_at(path, "Contacts!B4")
    assert "a time of day (12:00) with no date" in message


def test_a_formula_without_a_saved_value_is_named_not_called_blank(
    one_client: Path, tmp_path: Path
) -> None:
    path = with_cell(
        one_client, tmp_path / "x.xlsx", "Contacts", "B4", '<c r="B4"STYLE><f>TODAY()</f></c>'
    )
    (message,) = problems_at(path, "Contacts!B4")
    assert "=TODAY()" in message and "no saved value" in message
    assert "blank" not in message


def test_a_zero_width_space_in_a_case_id_is_reported_at_its_cell_and_removed(
    one_client: Path, tmp_path: Path
) -> None:
    path = with_cell(
        one_client,
        tmp_path / "x.xlsx",
        "Clients",
        "A4",
        '<c r="A4" t="inlineStr"><is><t>C1\u200b</t></is></c>',
    )
    (message,) = problems_at(path, "Clients!A4")
    assert "U+200B" in message and "zero width space" in message
    ev = check(path, AS_OF)
    assert not [p for p in ev.problems if p.sheet == "Contacts"], ev.problems
    assert list(ev.workbook.client_index) == ["C1"]


def test_true_in_a_name_column_is_an_error_not_yes(one_client: Path, tmp_path: Path) -> None:
    path = with_cell(
        one_client, tmp_path / "x.xlsx", "Clients", "C4", '<c r="C4" t="b"><v>1</v></c>'
    )
    (message,) = problems_at(path, "Clients!C4")
    assert message.startswith("TRUE (a TRUE/FALSE value) where text belongs")


def test_a_closure_before_the_referral_is_an_error_at_the_closure_date(tmp_path: Path) -> None:
    client = dict.fromkeys(schema.CLIENTS.headers) | {
        "Case ID": "C1",
        "Client Name": "Ann",
        "Program": "Texas Choices",
        "Branch": "Houston",
        "Case Manager": "Lee",
        "Referral Date": dt.date(2026, 1, 5),
        "Closure Date": dt.date(2026, 1, 2),
    }
    path = create_workbook(
        tmp_path / "x.xlsx", as_of=AS_OF, rows={"Clients": [list(client.values())]}
    )
    letter = chr(ord("A") + schema.CLIENTS.headers.index("Closure Date"))
    (message,) = problems_at(path, f"Clients!{letter}4")
    assert "closed on 2026-01-02, before the referral on 2026-01-05" in message


def test_office_days_that_name_no_day_are_a_warning_at_the_cell(tmp_path: Path) -> None:
    """A typo in Staff Office Days is said at its cell, not silently read as every day."""
    staff = {"Case Manager": "Lee", "Branch": "Houston", "Office Days": "Mnday Tue-Thu"}
    row = [staff.get(h) for h in schema.STAFF.headers]
    path = create_workbook(tmp_path / "x.xlsx", as_of=AS_OF, rows={"Staff": [row]})
    letter = chr(ord("A") + schema.STAFF.headers.index("Office Days"))
    (message,) = problems_at(path, f"Staff!{letter}4")
    assert "'mnday' names no day" in message and "Mon-Fri" in message
    assert problems_at(path, "Staff!A4") == []


XXE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n'
)


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "Contacts"])
def test_xml_entities_are_refused_naming_the_part_that_declares_them(
    one_client: Path, tmp_path: Path, part: str
) -> None:
    target = tmp_path / "xxe.xlsx"
    with zipfile.ZipFile(one_client) as zin, zipfile.ZipFile(target, "w") as zout:
        name = part if "/" in part else sheet_parts(zin)[0][part]
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == name:
                data = re.sub(rb"^<\?xml[^>]*\?>\s*", XXE.encode(), data)
                data = data.replace(b"<t>Ann</t>", b"<t>&xxe;</t>")
            zout.writestr(info, data)
    done = subprocess.run(
        [sys.executable, "-m", "pyxl.cli", "check", str(target), "--as-of", str(AS_OF)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    (line,) = [x for x in done.stderr.splitlines() if not x.startswith("...")]
    assert name in line and "DOCTYPE" in line
    if part == "Contacts":
        assert "'Contacts'" in line


def test_a_missing_contacts_sheet_makes_its_rules_not_applicable_not_overdue(
    tmp_path: Path,
) -> None:
    import openpyxl

    from pyxl.domain.model import Status
    from pyxl.policy import rulebook
    from pyxl.services import demo_data

    full = create_workbook(
        tmp_path / "full.xlsx", as_of=AS_OF, rows=demo_data.generate(40, as_of=AS_OF)
    )
    wb = openpyxl.load_workbook(full)
    del wb["Contacts"]
    wb.save(tmp_path / "no-contacts.xlsx")
    ev = check(tmp_path / "no-contacts.xlsx", AS_OF)
    (sheet_problem,) = [p for p in ev.problems if p.sheet == "Contacts" and p.row == 0]
    assert "not checked (N/A)" in sheet_problem.message
    book = rulebook()
    needs_contacts = {
        rule.id
        for rule in book.rules.values()
        if any(book.evidence[n].table == "contacts" for n in rule.evidence_names)
    }
    judged = [o for o in ev.obligations.records() if o.rule_id in needs_contacts]
    assert judged
    assert all(o.status == Status.NA for o in judged)
    assert all("Contacts sheet is missing" in o.reason for o in judged)
    others = check(full, AS_OF).obligations.records()
    kept = [o for o in others if o.rule_id not in needs_contacts]
    assert kept == [o for o in ev.obligations.records() if o.rule_id not in needs_contacts]
