"""The letter templates staff edit in Word (`letter_templates/*.docx`, the one source):
`pyxl templates check` lints what they saved, and `pyxl templates text` writes each letter's
English and Spanish texts side by side, one Markdown file per letter, so a program lead can
review the wording (and that the two say the same) without Word; a test fails when those
files are out of date.
"""

from __future__ import annotations

from pathlib import Path

from pyxl.adapters.letter_docx import Finding, check_template, paragraphs
from pyxl.domain.letters import LetterBook

LANGUAGES = ("en", "es")


def check_templates(book: LetterBook, directory: Path) -> tuple[int, list[Finding]]:
    """Every letter's template in every language: present, valid Word XML, fields pyxl
    fills in and the letter may use, tags typed in one go, the footer's identifiers, and a
    trial render. Returns how many templates were checked, and the problems found."""
    findings: list[Finding] = []
    checked = 0
    for code in sorted(book.letters):
        for lang in LANGUAGES:
            path = directory / f"{code}.{lang}.docx"
            if not path.exists():
                findings.append(
                    Finding(
                        path.name,
                        "missing",
                        "every letter has an English and a Spanish template: save a copy of "
                        "the other language's under this name and translate it",
                    )
                )
                continue
            checked += 1
            findings += check_template(
                path,
                code,
                book.allowed_fields(code),
                book.known_fields,
                book.sample_fields(code),
            )
    return checked, findings


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").strip() or " "


def side_by_side(code: str, title: str, directory: Path) -> str:
    """One letter's texts as a Markdown table, paragraph by paragraph (blank ones left out)."""
    en, es = (paragraphs((directory / f"{code}.{lang}.docx").read_bytes()) for lang in LANGUAGES)
    size = max(len(en), len(es))
    en, es = en + [""] * (size - len(en)), es + [""] * (size - len(es))
    lines = [
        f"# {code}: {title}",
        "",
        f"The English and Spanish texts of `{code}.en.docx` and `{code}.es.docx`, paragraph by "
        "paragraph. Made by `pyxl templates text`: do not edit here; edit the .docx files in "
        "Word, then run it again.",
        "",
        "| English | Español |",
        "|---|---|",
    ]
    lines += [f"| {_cell(a)} | {_cell(b)} |" for a, b in zip(en, es, strict=True) if a or b]
    return "\n".join(lines) + "\n"


def write_texts(book: LetterBook, directory: Path, out: Path | None = None) -> list[Path]:
    """Write every letter's side-by-side file (default: the templates' `text` folder)."""
    out = out or directory / "text"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for code, definition in sorted(book.letters.items()):
        target = out / f"{code}.md"
        target.write_text(side_by_side(code, definition.title, directory), encoding="utf-8")
        written.append(target)
    return written
