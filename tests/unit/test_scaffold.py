"""The template generator only starts a template that is missing: the .docx files staff
edit are the one source, and no run of it replaces one."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from pyxl.services.letters import TEMPLATES_DIR

spec = importlib.util.spec_from_file_location("scaffold", TEMPLATES_DIR / "scaffold.py")
assert spec is not None and spec.loader is not None
scaffold = importlib.util.module_from_spec(spec)
sys.modules["scaffold"] = scaffold  # its dataclasses look their module up
spec.loader.exec_module(scaffold)


def test_it_creates_a_missing_template_and_leaves_an_edited_one_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(scaffold, "HERE", tmp_path)
    edited = tmp_path / "APPT.en.docx"
    edited.write_bytes(b"the office's own wording")
    assert scaffold.main(["APPT"]) == 0
    assert edited.read_bytes() == b"the office's own wording"
    assert (tmp_path / "APPT.es.docx").stat().st_size > 0
    assert "APPT.en.docx exists" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # there is no option to overwrite
        scaffold.main(["--force", "APPT"])
