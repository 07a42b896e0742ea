"""The `pyxl` command end to end, as staff and CI run it: in a subprocess, through
`python -m pyxl.cli` and through the installed console script. Exit codes: 0 done,
1 data problems, 2 nothing done: unusable input or writing refused (argparse errors too).

Set PYXL_SCREENSHOT_DIR to keep the rendered Due List / Clients pages.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import python_calamine
from ooxml import strict_copy

from pyxl.adapters import libreoffice, schema
from pyxl.adapters.speed import compressed_member
from pyxl.adapters.workbook_reader import sheet_parts
from pyxl.domain.model import STATUS_ORDER
from pyxl.services import demo_data
from pyxl.services.demo import DEMO_FILE

FIRST = schema.HEADER_ROW + 1
DEMO_AS_OF = "2026-11-23"  # the CLI's default for demo
OPEN = ("OVERDUE", "DUE SOON", "DUE")


def console_script() -> str:
    script = Path(sys.executable).with_name("pyxl")
    found = str(script) if script.exists() else shutil.which("pyxl")
    assert found, "the pyxl console script is not installed (pip install -e .)"
    return found


def run(
    *args: object, module: bool = False, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    prefix = [sys.executable, "-m", "pyxl.cli"] if module else [console_script()]
    return subprocess.run([*prefix, *map(str, args)], capture_output=True, text=True, timeout=600)


def rows(path: Path, sheet: str) -> list[list[object]]:
    """Data rows (below the header) of a sheet, read with calamine."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    values = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    return [r for r in values[schema.HEADER_ROW :] if any(v != "" for v in r)]


def no_traceback(done: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    assert "Traceback" not in done.stdout, done.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    folder = tmp_path_factory.mktemp("demo")
    done = run("demo", folder, module=True)
    assert done.returncode == 0, done.stderr
    return folder / DEMO_FILE, done


@pytest.fixture(scope="module")
def injected() -> list[demo_data.InjectedProblem]:
    """What `pyxl demo` put in on purpose (it runs generate(600, messy=True))."""
    as_of = dt.date.fromisoformat(DEMO_AS_OF)
    return demo_data.generate(600, as_of=as_of, messy=True).problems


# ---------------------------------------------------------------- pyxl demo


def test_demo_prints_obligations_by_status_and_by_branch(
    demo: tuple[Path, subprocess.CompletedProcess],
) -> None:
    path, done = demo
    no_traceback(done)
    out = done.stdout
    assert re.search(r"As of 2026-11-23: \d+ clients, \d+ obligations", out), out
    for status in STATUS_ORDER:
        assert re.search(rf"\b{re.escape(str(status))}: \d+", out), status
    branches = out.split("By branch:")[1].split("Data problems")[0]
    for name in ("Anchorage", "Houston Northeast", "Portland East"):
        assert re.search(rf"^\s+{name}\s+OVERDUE: \d+", branches, re.M), name
    assert "Data problems:" in out and "(see the Errors sheet)" in out
    assert f"Workbook: {path}" in out or f"Workbook: {path.relative_to(path.parent.parent)}" in out


def test_demo_workbook_has_600_clients_and_a_due_list_by_urgency(
    demo: tuple[Path, subprocess.CompletedProcess],
) -> None:
    path, _ = demo
    assert path.exists()
    clients = rows(path, schema.CLIENTS.name)
    assert len(clients) >= 600
    due = rows(path, schema.DUE_LIST.name)
    statuses = [r[9] for r in due]
    assert set(OPEN) <= set(statuses), Counter(statuses)
    rank = {s: i for i, s in enumerate(str(s) for s in STATUS_ORDER)}
    assert [rank[s] for s in statuses] == sorted(rank[s] for s in statuses)
    overdue = [r for r in due if r[9] == "OVERDUE"]
    assert all(isinstance(r[10], int | float) and r[10] > 0 for r in overdue)
    assert all(r[11] for r in due)  # every row explains itself


def test_demo_errors_sheet_lists_the_injected_problems(
    demo: tuple[Path, subprocess.CompletedProcess], injected: list[demo_data.InjectedProblem]
) -> None:
    path, done = demo
    listed = {(r[0], int(r[1]), r[2]) for r in rows(path, schema.ERRORS.name)}
    assert injected
    for p in injected:
        assert (p.sheet, p.row, p.column) in listed, p
    severities = {r[4] for r in rows(path, schema.ERRORS.name)}
    assert severities == {"error", "warning"}
    assert "Problems put in on purpose" in done.stdout


def test_console_script_demo_gives_the_same_result(
    demo: tuple[Path, subprocess.CompletedProcess], tmp_path: Path
) -> None:
    path, by_module = demo
    done = run("demo", tmp_path)
    assert done.returncode == 0, done.stderr
    no_traceback(done)
    strip = re.compile(r"Workbook: .*")
    assert strip.sub("", done.stdout) == strip.sub("", by_module.stdout)
    assert rows(tmp_path / DEMO_FILE, schema.DUE_LIST.name) == rows(path, schema.DUE_LIST.name)


def test_met_rows_appear_when_the_setting_asks_for_them(
    demo: tuple[Path, subprocess.CompletedProcess], tmp_path: Path
) -> None:
    """By default the Due List shows open obligations only; "Due List shows met" = Yes
    adds the MET ones (staff change it on the Settings sheet, then Refresh)."""
    source, _ = demo
    assert "MET" not in {r[9] for r in rows(source, schema.DUE_LIST.name)}
    path = tmp_path / "caseload.xlsx"
    wb = openpyxl.load_workbook(source)
    settings = wb[schema.SETTINGS.name]
    (row,) = [r for r in settings.iter_rows(min_row=FIRST) if r[0].value == "Due List shows met"]
    row[1].value = "Yes"
    wb.save(path)
    done = run("recompute", path, "--as-of", DEMO_AS_OF)
    assert done.returncode == 0, done.stderr
    statuses = Counter(r[9] for r in rows(path, schema.DUE_LIST.name))
    assert {*OPEN, "MET"} <= set(statuses), statuses


# ---------------------------------------------------------------- pyxl new / check


def test_new_creates_a_workbook_and_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "office" / "caseload.xlsx"
    done = run("new", path, "--as-of", "2026-01-05")
    assert done.returncode == 0, done.stderr
    assert f"Created {path}" in done.stdout
    wb = openpyxl.load_workbook(path)
    assert {s.name for s in schema.ALL_SHEETS} <= set(wb.sheetnames)
    assert rows(path, schema.HOLIDAYS.name) and rows(path, schema.SETTINGS.name)
    before = path.read_bytes()
    again = run("new", path)
    assert again.returncode == 2  # refused to write
    assert "already exists" in again.stderr and "never overwrites" in again.stderr
    no_traceback(again)
    assert path.read_bytes() == before


def test_new_workbook_settings_read_back_as_their_defaults(tmp_path: Path) -> None:
    """Every Value and Default on a new workbook's Settings sheet means the default.

    settings_rows() shows bools as Yes/No with {True: "Yes", False: "No"}.get(default);
    since 1 == True in Python, an int setting whose default is 1 (or 0) is written as
    "Yes" ("No"), and the next check reports it as an error.
    """
    from pyxl.policy import default_settings

    path = tmp_path / "new.xlsx"
    assert run("new", path).returncode == 0
    specs = default_settings().specs
    listed = {r[0]: r for r in rows(path, schema.SETTINGS.name)}
    assert set(listed) == set(specs)
    for name, spec in specs.items():
        value, default = listed[name][1], listed[name][2]
        meant = spec.parse(spec.default)
        for shown in (value, default):
            try:
                read = spec.parse(shown)
            except ValueError as exc:
                raise AssertionError(f"{name}: {shown!r} is not a valid value ({exc})") from None
            assert read == meant, (name, shown, spec.default)


def test_check_exit_codes(tmp_path: Path, demo: tuple[Path, subprocess.CompletedProcess]) -> None:
    clean = tmp_path / "clean.xlsx"
    assert run("new", clean).returncode == 0
    done = run("check", clean)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "Data problems: 0 errors, 0 warnings" in done.stdout

    messy, _ = demo
    before = messy.read_bytes()
    done = run("check", messy, "--as-of", DEMO_AS_OF)
    assert done.returncode == 1
    no_traceback(done)
    assert "Clients!J6 [Date of Birth] error: two-digit year" in done.stdout
    assert messy.read_bytes() == before  # check never writes


def test_check_of_clean_demo_data_exits_0(tmp_path: Path) -> None:
    from pyxl.services.new_workbook import create_workbook

    as_of = dt.date.fromisoformat(DEMO_AS_OF)
    path = create_workbook(
        tmp_path / "clean-demo.xlsx", as_of=as_of, rows=demo_data.generate(60, as_of=as_of)
    )
    done = run("check", path, "--as-of", DEMO_AS_OF)
    assert done.returncode == 0, done.stdout[-2000:]


# ---------------------------------------------------------------- bad input


def test_impossible_as_of_date_is_a_clear_argparse_error(tmp_path: Path) -> None:
    done = run("recompute", tmp_path / "x.xlsx", "--as-of", "2026-02-30")
    assert done.returncode == 2
    assert "usage: pyxl recompute" in done.stderr
    assert "argument --as-of: '2026-02-30' is not a date: use YYYY-MM-DD" in done.stderr
    no_traceback(done)
    assert not (tmp_path / "x.xlsx").exists()


UNREADABLE = "not a readable .xlsx/.xlsm workbook"


@pytest.mark.parametrize("command", ["recompute", "check"])
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"Case ID,Name\nC1,Ana\n", UNREADABLE),
        ("export.csv", b"Case ID,Name\nC1,Ana\n", UNREADABLE),
        ("renamed.xlsx", b"Case ID,Name\nC1,Ana\n", UNREADABLE),
        ("empty.xlsx", b"", UNREADABLE),
        (
            "old.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504,
            "it is an Excel 97-2003 workbook (.xls), which pyxl does not read",
        ),
        ("damaged.xlsx", "damaged", UNREADABLE),  # a zip whose xl/workbook.xml is cut off
    ],
)
def test_a_file_that_is_not_a_workbook_gives_exit_2_and_a_message(
    tmp_path: Path, command: str, name: str, content: bytes | str, message: str
) -> None:
    path = tmp_path / name
    if content == "damaged":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr("xl/workbook.xml", "<workbook")
            z.writestr("xl/_rels/workbook.xml.rels", "<Relationships/>")
    else:
        path.write_bytes(content)
    refused_untouched(command, path, message)


@pytest.mark.parametrize("command", ["recompute", "check", "letters"])
def test_a_workbook_protected_with_a_password_is_refused_with_what_to_do(
    tmp_path: Path, demo: tuple[Path, subprocess.CompletedProcess], command: str
) -> None:
    """Excel's File > Info > Protect Workbook > Encrypt with Password (here by
    msoffcrypto-tool, as Excel does it): before, "not a readable workbook (File is not a
    zip file)" for what is the caseload workbook."""
    from msoffcrypto.format.ooxml import OOXMLFile

    path = tmp_path / "protected.xlsx"
    with demo[0].open("rb") as plain, path.open("wb") as protected:
        OOXMLFile(plain).encrypt("a password", protected)
    line = refused_untouched(command, path, "it is protected with a password")
    assert "check that it is the caseload workbook" not in line  # it says what to do already


@pytest.mark.parametrize("command", ["recompute", "check", "letters"])
def test_a_strict_open_xml_workbook_is_refused_with_what_to_do(
    tmp_path: Path, demo: tuple[Path, subprocess.CompletedProcess], command: str
) -> None:
    """Excel's Save As offers "Strict Open XML Spreadsheet (*.xlsx)": pyxl found none of its
    sheets and said they were missing, or that it was no caseload workbook."""
    path = strict_copy(demo[0], tmp_path / "strict.xlsx")
    line = refused_untouched(command, path, "saved as a Strict Open XML Spreadsheet")
    assert "check that it is the caseload workbook" not in line  # it says what to do already


def refused_untouched(command: str, path: Path, message: str) -> str:
    """The command exits 2 with the message in one line naming the file, and leaves the file
    and its folder as they were (no lock, temp or backup). Returns the line."""
    before = path.read_bytes()
    done = run(command, path, "--as-of", DEMO_AS_OF)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if not line.startswith("... ")]
    assert path.name in done.stderr and len(lines) == 1  # progress lines aside
    no_traceback(done)
    assert message in done.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    return lines[0]


@pytest.mark.parametrize("command", ["recompute", "check"])
def test_a_workbook_with_a_damaged_sheet_gives_exit_2_naming_the_sheet(
    tmp_path: Path, demo: tuple[Path, subprocess.CompletedProcess], command: str
) -> None:
    """A sheet whose compressed bytes were damaged (a bad disk, a broken copy) fails its
    CRC-32 while the sheets are read: a clear message, and nothing is written."""
    path = tmp_path / "damaged.xlsx"
    data = bytearray(demo[0].read_bytes())
    with zipfile.ZipFile(demo[0]) as z:
        stored = compressed_member(z, z.getinfo(sheet_parts(z)[0]["Contacts"]))
    data[data.find(stored) + len(stored) // 2] ^= 0xFF
    path.write_bytes(data)
    refused_untouched(command, path, "not a readable .xlsx/.xlsm workbook (sheet 'Contacts'")


def test_a_missing_file_gives_exit_2_naming_it(tmp_path: Path) -> None:
    done = run("recompute", tmp_path / "nowhere.xlsx", "--as-of", DEMO_AS_OF)
    assert done.returncode == 2
    no_traceback(done)
    assert done.stderr == (
        f"pyxl: {tmp_path / 'nowhere.xlsx'}: No such file or directory: "
        "check the name and the folder.\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_an_xlsx_that_is_not_a_caseload_gives_exit_2_and_a_message(tmp_path: Path) -> None:
    """A real workbook without the pyxl sheets (someone's own spreadsheet).

    `pyxl check` lists the missing sheets; `pyxl recompute` must say the same and write
    nothing, not crash with KeyError: 'Due List'.
    """
    path = tmp_path / "budget.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["Item", "Amount"])
    wb.save(path)
    before = path.read_bytes()
    checked = run("check", path, "--as-of", DEMO_AS_OF)
    assert checked.returncode == 1
    assert "the sheet 'Clients' is missing" in checked.stdout
    done = run("recompute", path, "--as-of", DEMO_AS_OF)
    no_traceback(done)
    assert done.returncode == 2, done.stderr
    assert "Due List" in done.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["budget.xlsx"]


# ---------------------------------------------------------------- what it looks like


def _text(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def only_sheets(source: Path, target: Path, keep: set[str]) -> Path:
    """A copy in which every sheet but `keep` is hidden (a print of just those)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/workbook.xml":
                text = data.decode()

                def hide(m: re.Match[str]) -> str:
                    tag = m.group(0)
                    name = re.search(r'name="([^"]*)"', tag).group(1)  # type: ignore[union-attr]
                    if name in keep or "state=" in tag:
                        return tag
                    return tag.replace("<sheet ", '<sheet state="hidden" ', 1)

                text = re.sub(r"<sheet [^>]*/>", hide, text)
                data = re.sub(r'activeTab="\d+"', 'activeTab="1"', text).encode()
            z.writestr(info, data)
    return target


def test_due_list_and_clients_render_to_pdf_and_png(
    soffice: str,
    demo: tuple[Path, subprocess.CompletedProcess],
    tmp_path: Path,
    png_pixels: Callable[[Path], np.ndarray],
) -> None:
    source, _ = demo
    copy = only_sheets(source, tmp_path / "print.xlsx", {schema.DUE_LIST.name, schema.CLIENTS.name})
    pdf = libreoffice.to_pdf(copy, tmp_path / "pdf")
    pages = int(re.search(r"Pages:\s+(\d+)", _text("pdfinfo", str(pdf))).group(1))  # type: ignore[union-attr]
    titles = [
        _text("pdftotext", "-f", str(p), "-l", str(p), str(pdf), "-").strip().split("\n")[0]
        for p in range(1, pages + 1)
    ]
    found = Counter(titles)
    assert found[schema.DUE_LIST.name] >= 2, found
    assert found[schema.CLIENTS.name] >= 2, found
    due_text = _text("pdftotext", "-layout", str(pdf), "-")
    for status in OPEN:
        assert status in due_text
    assert "###" not in due_text  # no date too wide for its column
    shots = {}
    for name in (schema.DUE_LIST.name, schema.CLIENTS.name):
        page = titles.index(name) + 1
        (png,) = libreoffice.pdf_to_png(
            pdf, tmp_path / name.replace(" ", "-"), dpi=75, first=page, last=page
        )
        pixels = png_pixels(png)
        assert pixels.shape[0] > 600 and pixels.shape[1] > 800, pixels.shape
        ink = (pixels[..., :3].min(axis=2) < 200).mean()
        assert ink > 0.03, f"{name}: the page looks blank ({ink:.1%} ink)"
        colours = {tuple(p) for p in pixels[::5, ::5, :3].reshape(-1, 3)}
        assert len(colours) > 20, f"{name}: {len(colours)} colours"
        shots[name] = png
    keep = os.environ.get("PYXL_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for name, png in shots.items():
            shutil.copy(png, Path(keep) / f"demo-{name.replace(' ', '-').lower()}.png")
        shutil.copy(pdf, Path(keep) / "demo.pdf")


def test_recompute_names_the_notes_a_refresh_removes(
    tmp_path: Path, demo: tuple[Path, subprocess.CompletedProcess]
) -> None:
    """A note typed beside the Due List goes with the Refresh that rebuilds it: the command
    says so, naming the cell, and where the copy is."""
    path = tmp_path / "noted.xlsx"
    note = b'<c r="P5" t="inlineStr"><is><t>called back Tue</t></is></c></row>'
    row_5 = re.compile(rb'(<row r="5"[^>]*>.*?)</row>', re.S)
    with zipfile.ZipFile(demo[0]) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        due_list = sheet_parts(zin)[0]["Due List"]
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == due_list:
                data = row_5.sub(lambda m: m[1] + note, data, count=1)
            z.writestr(info, data)
    done = run("recompute", path, "--as-of", DEMO_AS_OF)
    assert done.returncode == 0, done.stderr
    assert "removed: what was typed on the Due List sheet outside its table (P5)" in done.stderr
    assert "backup: " in done.stdout
