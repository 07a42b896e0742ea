"""Every file pyxl writes opens in Excel and Word without a repair prompt: each validates
against the ISO/IEC 29500 transitional schemas and passes openxml-audit (see tests/ooxml.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import ooxml

from pyxl.services.new_workbook import create_workbook


def test_a_new_caseload_workbook_validates(tmp_path: Path) -> None:
    path = tmp_path / "caseload.xlsx"
    create_workbook(path, as_of=date(2026, 11, 23))
    assert ooxml.problems(path) == []


def test_the_validator_finds_a_part_out_of_schema_order(tmp_path: Path) -> None:
    """The check itself: a docx whose section properties are out of order is refused."""
    import zipfile

    broken = tmp_path / "broken.docx"
    body = (
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p/><w:sectPr><w:cols/><w:pgSz/></w:sectPr></w:body></w:document>"
    )
    with zipfile.ZipFile(broken, "w") as package:
        package.writestr("word/document.xml", body)
    assert any("pgSz" in error for error in ooxml.schema_errors(broken))
