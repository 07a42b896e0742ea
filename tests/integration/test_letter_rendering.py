"""Letter templates and rendering: every template renders in both languages, every part is
well-formed, LibreOffice opens every letter, the fast path equals docxtpl's own render,
hostile client text never breaks a letter or leaks into another, and `templates check`
finds what staff edits can break."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from docxtpl import DocxTemplate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2.exceptions import SecurityError, UndefinedError
from lxml import etree

from pyxl.adapters import libreoffice
from pyxl.adapters.letter_docx import (
    CompiledTemplate,
    check_template,
    clean_value,
    document_text,
    footer_identifier,
    letter_environment,
    merge_letters,
    page_ranges,
)
from pyxl.policy import letter_book
from pyxl.services.letters import TEMPLATES_DIR

BOOK = letter_book()
LANGS = ("en", "es")
STRICT = etree.XMLParser(resolve_entities=False, no_network=True)


def sample_context(code: str, case_id: str = "C-1001", name: str = "Ana Diaz") -> dict:
    return BOOK.sample_fields(code) | {"case_id": case_id, "client_name": name}


def parts_of(docx: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(docx))
    assert archive.testzip() is None
    return {n: archive.read(n) for n in archive.namelist()}


def assert_every_part_strict_xml(docx: bytes) -> None:
    for name, data in parts_of(docx).items():
        if name.endswith((".xml", ".rels")):
            etree.fromstring(data, STRICT)  # raises on anything not well-formed


@pytest.fixture(scope="module")
def templates() -> dict[tuple[str, str], CompiledTemplate]:
    env = letter_environment()
    return {
        (code, lang): CompiledTemplate.load(TEMPLATES_DIR / f"{code}.{lang}.docx", env)
        for code in BOOK.letters
        for lang in LANGS
    }


def test_there_is_an_english_and_a_spanish_template_for_every_letter_code_in_the_contract():
    contract = {"APPT", "TX-NONCOMP", "SNAP-OUTREACH", "OR-ENGAGE", "OR-CONCIL", "DQ-NOTICE"}
    assert set(BOOK.letters) == contract | {"YOUTH-REENG"}
    for code in BOOK.letters:
        for lang in LANGS:
            assert (TEMPLATES_DIR / f"{code}.{lang}.docx").is_file()


def test_every_template_passes_templates_check():
    for code in BOOK.letters:
        for lang in LANGS:
            path = TEMPLATES_DIR / f"{code}.{lang}.docx"
            assert check(path, code) == []


def test_every_letter_in_both_languages_renders_to_well_formed_parts_that_libreoffice_opens(
    templates, tmp_path, soffice
):
    files = []
    for (code, lang), template in templates.items():
        docx = template.render(sample_context(code, case_id=f"CASE-{code}-{lang}"))
        assert_every_part_strict_xml(docx)
        text = document_text(docx)
        assert f"CASE-{code}-{lang}" in text and "Ana Diaz" in text and "Sam Lee" in text
        files.append(tmp_path / f"{code}.{lang}.docx")
        files[-1].write_bytes(docx)
    pdfs = libreoffice.convert(files, "pdf", tmp_path / "pdf")
    identifiers = [footer_identifier(f.read_bytes()) for f in files]
    for pdf, ids in zip(pdfs, identifiers, strict=True):
        (first, last) = page_ranges(pdf, [ids])[0]
        assert first == 1 and last == 1, f"{pdf.name} should be one page, is {last}"


def test_the_fast_render_has_the_same_parts_as_docxtpl_rendering_the_template_itself(templates):
    for (code, lang), template in templates.items():
        context = sample_context(code, name='Smith & Sons <Trustee> "Bob" O\'Neil\nJr')
        fast = parts_of(template.render(context))
        naive_doc = DocxTemplate(str(template.path))
        naive_doc.render(context, letter_environment(), autoescape=True)
        out = io.BytesIO()
        naive_doc.save(out)
        naive = parts_of(out.getvalue())
        assert set(fast) == set(naive)
        for name in fast:
            if name == "docProps/core.xml":
                continue  # docxtpl adds empty dc:identifier and dc:language elements
            if name.endswith((".xml", ".rels")):
                a = etree.tostring(etree.fromstring(fast[name]), method="c14n")
                b = etree.tostring(etree.fromstring(naive[name]), method="c14n")
                assert a == b, f"{code}.{lang}: {name} differs from docxtpl's"
            else:
                assert fast[name] == naive[name]


def test_a_field_the_context_lacks_stops_the_letter_with_the_field_named(templates):
    context = sample_context("APPT")
    del context["appointment_place"]
    with pytest.raises(UndefinedError, match="appointment_place"):
        templates[("APPT", "en")].render(context)


def test_a_none_value_stops_the_letter_instead_of_printing_none(templates):
    context = sample_context("APPT") | {"appointment_time": None}
    with pytest.raises(ValueError, match="blank"):
        templates[("APPT", "en")].render(context)


# ---------------------------------------------------------------- hostile client text

HOSTILE = st.text(
    alphabet=st.sampled_from([*"&<>\"'=+@#;/\\{}%\n\t\r\x00\x0b\x0c\x07\x1b ", "é", "ñ"])
    | st.characters(codec="utf-8", exclude_categories=("Cs",)),
    max_size=30,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.lists(HOSTILE, min_size=2, max_size=4),
    addresses=st.lists(HOSTILE, min_size=4, max_size=4),
)
def test_hostile_client_text_never_breaks_a_letter_and_each_letter_holds_only_its_own_client(
    templates, names, addresses
):
    letters = []
    for i, name in enumerate(names):
        marker = f"QZX{i}MARK{i}QZX"  # unique per client: must appear in its letter only
        context = sample_context("OR-ENGAGE", case_id=f"CASE-{i:03d}-Z", name=f"{name} {marker}")
        context["mailing_address"] = f"{addresses[i]}\n{marker}-ADDR\nPortland, OR 97216"
        letters.append((marker, clean_value(context)))
    rendered = [templates[("OR-ENGAGE", "en")].render(c) for _, c in letters]
    for i, docx in enumerate(rendered):
        assert_every_part_strict_xml(docx)
        text = document_text(docx)
        own_marker = letters[i][0]
        assert own_marker in text and f"{own_marker}-ADDR" in text and f"CASE-{i:03d}-Z" in text
        for j, (other, _) in enumerate(letters):
            if j != i:
                assert other not in text and f"CASE-{j:03d}-Z" not in text
        body = parts_of(docx)["word/document.xml"]
        assert b'w:type="page"' not in body and b"<w:instrText" not in body  # no breaks, fields
    merged = merge_letters(rendered)
    assert_every_part_strict_xml(merged)


def test_client_text_that_looks_like_xml_or_a_template_is_printed_as_text(templates):
    payload = 'X</w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/>{{ 7*7 }}{% if 1 %}'
    docx = templates[("APPT", "en")].render(clean_value(sample_context("APPT", name=payload)))
    text = document_text(docx)
    assert payload in text
    assert b"<w:fldChar" not in parts_of(docx)["word/document.xml"]  # only as escaped text


# ---------------------------------------------------------------- templates check


def edited_template(tmp_path: Path, code: str, edit) -> Path:
    """A copy of a template with word/document.xml changed, as a staff edit would."""
    source = TEMPLATES_DIR / f"{code}.en.docx"
    target = tmp_path / f"{code}.en.docx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "word/document.xml":
                data = edit(data.decode()).encode()
            zout.writestr(info, data)
    return target


def check(path: Path, code: str = "APPT"):
    allowed = BOOK.allowed_fields(code)
    return check_template(path, code, allowed, BOOK.known_fields, BOOK.sample_fields(code))


def test_templates_check_finds_an_unknown_field(tmp_path):
    path = edited_template(tmp_path, "APPT", lambda x: x.replace("client_name", "clent_name", 1))
    assert [f.kind for f in check(path)] == ["unknown field"]
    assert "clent_name" in str(check(path)[0])


def test_templates_check_finds_a_field_the_letter_may_not_use(tmp_path):
    path = edited_template(
        tmp_path, "APPT", lambda x: x.replace("{{ program }}", "{{ ssn_masked }}")
    )
    findings = check(path)
    assert [f.kind for f in findings] == ["field not allowed"] and "ssn_masked" in str(findings[0])
    path = edited_template(
        tmp_path, "APPT", lambda x: x.replace("{{ program }}", "{{ violation }}")
    )
    assert [f.kind for f in check(path)] == ["field not allowed"]


def test_templates_check_finds_a_tag_split_across_runs(tmp_path):
    def split(xml: str) -> str:
        return xml.replace(
            "{{ program }}", "{{ prog</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>ram }}", 1
        )

    findings = check(edited_template(tmp_path, "APPT", split))
    assert [f.kind for f in findings] == ["split tag"]
    assert "program" in findings[0].detail


def test_templates_check_reports_a_syntax_error_instead_of_crashing(tmp_path):
    path = edited_template(tmp_path, "APPT", lambda x: x.replace("{{ program }}", "{% if %}"))
    assert [f.kind for f in check(path)] == ["unreadable"]


def test_a_template_that_reaches_for_python_internals_is_stopped_by_the_sandbox(tmp_path):
    path = edited_template(
        tmp_path,
        "APPT",
        lambda x: x.replace("{{ program }}", "{{ program.__class__.__mro__[1].__subclasses__() }}"),
    )
    template = CompiledTemplate.load(path)
    with pytest.raises(SecurityError):
        template.render(sample_context("APPT"))
    [finding] = check(path)
    assert finding.kind == "does not render" and "SecurityError" in finding.detail


def test_a_template_without_identifiers_in_its_footer_is_refused(tmp_path):
    source = TEMPLATES_DIR / "APPT.en.docx"
    target = tmp_path / "APPT.en.docx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "word/footer1.xml":
                data = re.sub(rb"\{\{ case_id \}\}", b"", data)
            zout.writestr(info, data)
    assert [f.kind for f in check(target)] == ["footer"]


def test_the_print_file_gives_every_letter_its_own_footer_on_every_page(
    templates, tmp_path, soffice
):
    letters = [
        templates[(code, lang)].render(sample_context(code, case_id=f"K-{n}"))
        for n, (code, lang) in enumerate([("APPT", "en"), ("DQ-NOTICE", "es"), ("APPT", "en")])
    ]
    merged = merge_letters(letters)
    assert_every_part_strict_xml(merged)
    path = tmp_path / "print.docx"
    path.write_bytes(merged)
    pdf = libreoffice.convert(path, "pdf", tmp_path)[0]
    assert page_ranges(pdf, [footer_identifier(d) for d in letters]) == [(1, 1), (2, 2), (3, 3)]
    # A page naming the wrong letter is caught.
    with pytest.raises(ValueError, match="page 2"):
        page_ranges(pdf, [footer_identifier(letters[0]), footer_identifier(letters[0])])


def test_the_template_readme_names_every_letter_and_every_field_it_may_use():
    readme = (TEMPLATES_DIR / "README.md").read_text()
    for code in BOOK.letters:
        assert f"`{code}`" in readme
        for name in BOOK.allowed_fields(code):
            assert f"`{name}`" in readme, f"README does not list the field {name}"
