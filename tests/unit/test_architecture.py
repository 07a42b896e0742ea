"""The house plan holds: imports go one way (import-linter's contracts in pyproject.toml),
and README's "How it is built" names every module and folder, so the map stays true."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_imports_go_one_way() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def _map() -> dict[str, str]:
    """README's map: each entry (a path at the line's start) with the words that follow."""
    section = (ROOT / "README.md").read_text().split("## How it is built\n```\n", 1)[1]
    entries: dict[str, str] = {}
    current = ""
    for line in section.split("```", 1)[0].splitlines():
        if line[:1].strip():
            current, _, words = line.partition(" ")
            entries[current] = words
        else:
            entries[current] += " " + line.strip()
    return entries


def test_every_top_level_folder_and_module_has_a_line() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    folders = {f"{path.split('/')[0]}/" for path in tracked if "/" in path[1:]}
    packages = {f"pyxl/{p.parent.name}/" for p in (ROOT / "pyxl").glob("*/__init__.py")}
    modules = {f"pyxl/{p.name}" for p in (ROOT / "pyxl").glob("*.py")}
    shown = {f for f in folders if not f.startswith(".")} - {"pyxl/"} | packages | modules
    assert sorted(shown - set(_map())) == []


def test_every_module_of_a_package_is_named_in_its_line() -> None:
    entries = _map()
    for package in ("domain", "adapters", "services", "excel"):
        words = set(re.findall(r"[a-z_]+", entries[f"pyxl/{package}/"]))
        modules = {p.stem for p in (ROOT / "pyxl" / package).glob("*.py")} - {"__init__"}
        assert sorted(modules - words) == [], package
