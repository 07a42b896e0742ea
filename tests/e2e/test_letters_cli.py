"""`pyxl letters` and `pyxl templates check` as staff run them (a subprocess, exit codes)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from pyxl.services.demo import run_demo
from pyxl.services.letters import TEMPLATES_DIR

AS_OF = dt.date(2026, 11, 23)


def pyxl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyxl.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_templates_check_passes_on_the_shipped_templates_and_fails_on_a_broken_folder(tmp_path):
    done = pyxl("templates", "check", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Checked 14 templates" in done.stdout and "0 problems" in done.stdout
    done = pyxl("templates", "check", "--dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 1 and "APPT.en.docx: missing" in done.stdout


def test_the_preview_lists_the_queue_and_the_batch_prints_logs_and_names_what_it_could_not_make(
    tmp_path,
):
    book = run_demo(tmp_path / "demo", as_of=AS_OF, n_clients=200).path
    done = pyxl(
        "letters", str(book), "--as-of", str(AS_OF), "--preview", "--out", "q", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "Letters due as of 2026-11-23" in done.stdout and "reply by" in done.stdout
    assert (tmp_path / "q" / "queue-2026-11-23.csv").is_file()
    done = pyxl("letters", str(book), "--as-of", str(AS_OF), "--out", "out", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    assert "Logged" in done.stdout and list((tmp_path / "out").glob("print-*.docx"))
    if done.returncode == 1:
        assert "not made: " in done.stdout
    done = pyxl("letters", str(book), "--kind", "NOPE", cwd=tmp_path)
    assert done.returncode == 2 and "unknown letter kind NOPE" in done.stderr


def test_templates_check_names_a_template_word_would_repair(tmp_path):
    """What staff saved is checked against the ISO/IEC 29500 schemas: here a table whose
    properties come after its rows (a hand edit, or a tool that appends XML)."""
    for template in TEMPLATES_DIR.glob("*.docx"):
        shutil.copy(template, tmp_path / template.name)
    broken = tmp_path / "APPT.es.docx"
    with zipfile.ZipFile(TEMPLATES_DIR / broken.name) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    body = parts["word/document.xml"].decode()
    assert "<w:sectPr" in body
    at = body.index("<w:sectPr")
    parts["word/document.xml"] = (body[:at] + "<w:p><w:pPr/><w:pPr/></w:p>" + body[at:]).encode()
    with zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    done = pyxl("templates", "check", "--dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 1
    problems = [line for line in done.stdout.splitlines() if "not valid Word XML" in line]
    assert len(problems) == 1 and problems[0].startswith("  APPT.es.docx: ")
    assert "word/document.xml:" in problems[0] and "pPr" in problems[0]
    assert "1 problems" in done.stdout
