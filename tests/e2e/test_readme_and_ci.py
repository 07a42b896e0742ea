"""The README's two set-up commands are the ones CI runs, so the README cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    """The first two fenced commands of the README, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```\n(.*?)```", text, flags=re.S)
    return [b.strip() for b in blocks[:2]]


def ci_commands() -> list[str]:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [
        ln.strip()
        for ln in lines
        if ln.strip() and not ln.lstrip().startswith(("#", "set ", "cd "))
    ]


def test_readme_opens_with_the_demo_and_the_test_command():
    assert readme_commands() == ["./dev demo", "./dev test"]


def test_ci_runs_exactly_the_readme_test_command():
    assert ci_commands() == [readme_commands()[1]]


def test_the_dev_script_installs_libreoffice_before_the_tests():
    script = (ROOT / "dev").read_text(encoding="utf-8")
    test_branch = next(ln for ln in script.splitlines() if ln.strip().startswith("test)"))
    assert "need_libreoffice" in test_branch
    assert "libreoffice-calc-nogui" in script and "libreoffice-writer-nogui" in script
