"""Letters Word opens without repair: every template, a generated letter of each kind and
language, and the merged print file validate against the ISO/IEC 29500 transitional
WordprocessingML schema and pass openxml-audit (tests/ooxml.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ooxml
import pytest

from pyxl.adapters import letter_docx
from pyxl.policy import letter_book
from pyxl.services.demo import run_demo
from pyxl.services.letters import TEMPLATES_DIR, load_templates, run_letters

BOOK = letter_book()
KINDS = [(code, lang) for code in sorted(BOOK.letters) for lang in ("en", "es")]


def valid(path: Path) -> list[str]:
    return ooxml.problems(path)


@pytest.mark.parametrize(("code", "lang"), KINDS, ids=[f"{c}.{lang}" for c, lang in KINDS])
def test_every_template_and_a_letter_made_from_it_validate(code, lang, tmp_path):
    template = TEMPLATES_DIR / f"{code}.{lang}.docx"
    assert valid(template) == []
    compiled = load_templates([(code, lang)])[(code, lang)]
    letter = tmp_path / f"{code}.{lang}.docx"
    letter.write_bytes(compiled.render(BOOK.sample_fields(code) | {"letter_code": code}))
    assert valid(letter) == []


def test_the_demo_batch_letters_and_its_print_file_validate(tmp_path):
    workbook = run_demo(tmp_path / "demo", as_of=dt.date(2026, 11, 23)).path
    result = run_letters(workbook, dt.date(2026, 11, 23), out_dir=tmp_path / "out")
    kinds = {}
    for m in result.made:
        kinds.setdefault((m.code, m.language), m.file)
    assert len(kinds) >= 5
    for path in kinds.values():
        assert valid(path) == [], path.name
    assert result.print_file is not None
    assert valid(result.print_file) == []


def test_schema_order_puts_properties_in_place_and_drops_repeats():
    from lxml import etree

    w = letter_docx.W
    xml = (
        f'<w:tbl xmlns:w="{w}"><w:tblPr><w:tblLayout w:type="fixed"/><w:tblLook w:val="1"/>'
        '<w:tblLayout w:type="fixed"/><w:tblBorders/><w:tblW w:w="0"/></w:tblPr></w:tbl>'
    )
    root = etree.fromstring(xml)
    assert letter_docx.schema_order(root)
    names = [etree.QName(e).localname for e in root[0]]
    assert names == ["tblW", "tblBorders", "tblLayout", "tblLook"]
    assert not letter_docx.schema_order(root)


def test_the_side_by_side_texts_are_made_from_the_templates_as_they_are(tmp_path):
    from pyxl.services.templates import write_texts

    for made in write_texts(BOOK, TEMPLATES_DIR, tmp_path):
        committed = TEMPLATES_DIR / "text" / made.name
        assert committed.read_text(encoding="utf-8") == made.read_text(encoding="utf-8"), (
            f"{committed} is out of date: run `pyxl templates text`"
        )
    spanish = (TEMPLATES_DIR / "text" / "OR-ENGAGE.md").read_text(encoding="utf-8")
    assert "Para su información" in spanish and "Bueno saber" not in spanish
