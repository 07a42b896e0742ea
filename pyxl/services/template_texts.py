"""Each letter's English and Spanish texts side by side, one Markdown file per letter, so a
program lead can review the wording (and that the two say the same) without Word.

The .docx templates stay the one source: these files are made from them by
`pyxl templates text`, and a test fails when they are out of date.
"""

from __future__ import annotations

from pathlib import Path

from pyxl.adapters.letter_docx import paragraphs
from pyxl.domain.letters import LetterBook

LANGUAGES = ("en", "es")


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
