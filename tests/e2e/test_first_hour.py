"""A new office from its first hour: the committed workbook/ folder, the refresh stamp, and a
command line with manners (one-line errors naming the file, exit codes, --version, quiet on a
closed pipe, help for every argument, file permissions, the lock checked before reading)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
from lxml import etree

from pyxl import cli, version
from pyxl.adapters import schema
from pyxl.domain.model import Program
from pyxl.services import recompute as recompute_service

ROOT = Path(__file__).parents[2]
WORKBOOK = ROOT / "workbook"
AS_OF = "2026-12-01"  # the date workbook/make.py builds the committed workbook for


def pyxl(*args: object, cwd: Path | None = None, **kw) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("pyxl")
    return subprocess.run(
        [str(script), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600, **kw
    )


def one_line_error(done: subprocess.CompletedProcess, code: int = 2) -> str:
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "Errno" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


# ---------------------------------------------------------------- workbook/


def test_the_committed_workbook_is_exactly_what_pyxl_new_writes(tmp_path: Path) -> None:
    fresh = tmp_path / "caseload.xlsx"
    assert pyxl("new", fresh, "--as-of", AS_OF).returncode == 0
    with zipfile.ZipFile(WORKBOOK / "caseload.xlsx") as old, zipfile.ZipFile(fresh) as new:
        assert old.namelist() == new.namelist()
        parts = {n for n in new.namelist() if n != "docProps/core.xml"}  # holds its creation time
        differ = sorted(n for n in parts if old.read(n) != new.read(n))
    sheets = openpyxl.load_workbook(fresh).sheetnames
    assert not differ, (
        f"workbook/caseload.xlsx differs from `pyxl new --as-of {AS_OF}` in {differ} "
        f"(sheets {sheets}): run .venv/bin/python workbook/make.py --screenshots"
    )


def test_the_new_workbook_has_examples_dropdowns_and_checks_clean(tmp_path: Path) -> None:
    path = WORKBOOK / "caseload.xlsx"
    wb = openpyxl.load_workbook(path)
    first = schema.HEADER_ROW + 1
    branches = [r for r in wb["Branches"].iter_rows(min_row=first, values_only=True) if r[0]]
    assert sorted(r[1] for r in branches) == ["AK", "OR", "TX"]
    staff = [r for r in wb["Staff"].iter_rows(min_row=first, values_only=True) if r[0]]
    assert len(staff) >= 3 and all("(example)" in r[0] for r in staff)
    clients = [r for r in wb["Clients"].iter_rows(min_row=first, values_only=True) if r[0]]
    assert sorted(r[3] for r in clients) == sorted(p.value for p in Program)
    assert all("(example)" in r[2] for r in clients)
    calendar = schema.BRANCHES.headers.index("Calendar")
    letter = openpyxl.utils.get_column_letter(calendar + 1)
    lists = [dv for dv in wb["Branches"].data_validations.dataValidation if dv.type == "list"]
    assert any(str(dv.sqref).startswith(f"{letter}{first}") for dv in lists), lists
    done = pyxl("check", path, "--as-of", AS_OF)
    assert done.returncode == 0, done.stdout
    assert "6 clients" in done.stdout and "Data problems: 0 errors, 0 warnings" in done.stdout
    assert pyxl("new", tmp_path / "empty.xlsx", "--empty").returncode == 0
    empty = openpyxl.load_workbook(tmp_path / "empty.xlsx")
    assert empty["Clients"].cell(first, 1).value is None


def test_the_folder_has_its_readme_screenshots_and_manifest_template() -> None:
    readme = (WORKBOOK / "README.md").read_text("utf-8")
    for png in sorted((WORKBOOK / "screenshots").glob("*.png")):
        assert f"screenshots/{png.name}" in readme
        assert png.stat().st_size > 10_000
    assert len(list((WORKBOOK / "screenshots").glob("*.png"))) >= 4
    for way in ("pyxl recompute caseload.xlsx", "macros/README.md", "pyxl-manifest.xml"):
        assert way in readme
    manifest = etree.parse(str(WORKBOOK / "pyxl-manifest.xml")).getroot()
    assert manifest.tag.endswith("OfficeApp")
    assert "https://pyxl.your-office.example" in (WORKBOOK / "pyxl-manifest.xml").read_text()


# ---------------------------------------------------------------- as of


def test_every_refresh_says_as_of_when_and_who_and_letters_mark_it_stale(tmp_path: Path) -> None:
    path = tmp_path / "caseload.xlsx"
    path.write_bytes((WORKBOOK / "caseload.xlsx").read_bytes())
    done = pyxl("recompute", path, "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress off a terminal
    stamp = f"Computed as of {AS_OF} (refreshed 2026-11-23 12:00 by "  # SOURCE_DATE_EPOCH
    wb = openpyxl.load_workbook(path)
    for sheet in (schema.DUE_LIST.name, schema.SUPERVISOR.name):
        assert wb[sheet]["A2"].value.startswith(stamp), wb[sheet]["A2"].value
        assert f", pyxl {version()})." in wb[sheet]["A2"].value
        assert wb[sheet].oddFooter.left.text.startswith(stamp)
        assert wb[sheet].oddFooter.left.text.endswith("; printed &D")
    done = pyxl("letters", path, "--as-of", AS_OF, "--out", tmp_path / "letters")
    assert done.returncode in (0, 1), done.stderr
    assert "Logged" in done.stdout
    if "Logged 0 " not in done.stdout:
        assert "need a Refresh" in done.stdout
        wb = openpyxl.load_workbook(path)
        assert wb[schema.DUE_LIST.name]["A2"].value.startswith("Needs a Refresh: pyxl letters")


# ---------------------------------------------------------------- manners


def test_version() -> None:
    done = pyxl("--version")
    assert done.returncode == 0 and done.stdout.strip().startswith(f"pyxl {version()}, ")
    assert "path (" in done.stdout  # which speed path runs, and why


def test_a_new_workbook_must_be_named_xlsx(tmp_path: Path) -> None:
    done = pyxl("new", tmp_path / "y.csv")
    assert done.returncode == 2 and "end it in .xlsx" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_csv_or_a_folder_is_refused_in_one_line_naming_it(tmp_path: Path) -> None:
    csv = tmp_path / "export.csv"
    csv.write_text("Case ID,Name\nC1,Ana\n")
    line = one_line_error(pyxl("check", csv))
    assert line.startswith("pyxl: ") and str(csv) in line and "saved as .xlsx" in line
    line = one_line_error(pyxl("recompute", tmp_path))
    assert str(tmp_path) in line and "not a folder" in line


def test_unknown_case_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "caseload.xlsx"
    path.write_bytes((WORKBOOK / "caseload.xlsx").read_bytes())
    line = one_line_error(pyxl("letters", path, "--preview", "--case", "XX-1", "--as-of", AS_OF))
    assert "XX-1" in line and "Clients sheet" in line


def test_no_internal_names_and_help_for_every_argument() -> None:
    done = pyxl("templates")
    assert (
        done.returncode == 2 and "ACTION" in done.stderr and "templates_command" not in done.stderr
    )
    parser = cli.build_parser()
    assert "exit codes:" in parser.format_help()
    missing = []
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    todo = [(name, p) for s in subparsers for name, p in s.choices.items()]
    while todo:
        name, sub = todo.pop()
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo += [(f"{name} {n}", p) for n, p in action.choices.items()]
            elif not action.help:
                missing.append(f"{name} {action.dest}")
    assert not missing


def test_quiet_on_a_closed_pipe(tmp_path: Path) -> None:
    """`pyxl check x.xlsx | head -1`: the reader goes away; no BrokenPipe traceback."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before pyxl writes a line
    script = Path(sys.executable).with_name("pyxl")
    done = subprocess.run(
        [str(script), "check", str(WORKBOOK / "caseload.xlsx"), "--as-of", AS_OF],
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
        timeout=600,
    )
    os.close(write)
    assert done.stderr == "", done.stderr
    assert done.returncode == cli.CLOSED_PIPE


def test_files_with_client_data_are_made_alike_and_respect_the_umask(tmp_path: Path) -> None:
    def made(umask: int) -> dict[str, int]:
        folder = tmp_path / f"umask-{umask:03o}"
        folder.mkdir()
        book = folder / "caseload.xlsx"
        kw = {"preexec_fn": lambda: os.umask(umask)}
        assert pyxl("new", book, "--as-of", AS_OF, **kw).returncode == 0
        queue = pyxl("letters", book, "--preview", "--as-of", AS_OF, "--out", folder, **kw)
        assert queue.returncode == 0, queue.stderr
        report = pyxl("report", book, "--as-of", AS_OF, "--out", folder / "report.xlsx", **kw)
        assert report.returncode == 0, report.stderr
        return {
            p.name: p.stat().st_mode & 0o777
            for p in folder.iterdir()
            if p.is_file() and p.suffix in {".xlsx", ".csv"}
        }

    assert set(made(0o022).values()) == {0o644}
    assert set(made(0o007).values()) == {0o660}
    assert set(made(0o077).values()) == {0o600}


def test_the_lock_is_checked_before_reading(tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "caseload.xlsx"
    path.write_bytes((WORKBOOK / "caseload.xlsx").read_bytes())
    path.with_name(f".~lock.{path.name}#").write_text(
        ",Maria Lopez,ws12,23.11.2026 09:14,file:///home/maria/.config/libreoffice/4;"
    )

    def never(*_a, **_k):
        raise AssertionError("read and evaluated before refusing")

    monkeypatch.setattr(recompute_service, "evaluate_file", never)
    assert cli.main(["recompute", str(path), "--as-of", AS_OF]) == 2
    err = capsys.readouterr().err
    assert err.count("Nothing was written") == 1 and len(err.strip().splitlines()) == 1, err
    assert "Maria Lopez" in err


def test_the_as_of_line_is_the_same_for_the_same_moment() -> None:
    when = dt.datetime(2026, 12, 1, 8, 30)
    a = recompute_service.refresh_stamp(dt.date(2026, 12, 1), who="jdoe", when=when)
    assert a == f"Computed as of 2026-12-01 (refreshed 2026-12-01 08:30 by jdoe, pyxl {version()})."
