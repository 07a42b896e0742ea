"""Letters: N letters rendered, merged into one print file and converted to one PDF.

Rendering, three ways to the same letters (performance.md section 2):
* naive: a new DocxTemplate per letter, render (sandboxed, autoescaped), save (timed on a
  sample in the same run, per letter);
* pyxl, one process: each template compiled once, unchanged parts compressed once;
* pyxl, both cores: the same, split over two worker processes.
The fast letters must have the same parts as the naive ones (c14n-equal XML; docxtpl's
docProps/core.xml aside) before a ratio is printed.
Then the print file (one section per letter, each with its own footer) and its PDF through
LibreOffice, with every page matched to its letter by the footer it prints.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from bench_common import Result, Target, fmt_s, median, repeat, say, timed


def contexts(n: int) -> list[tuple[str, str, dict]]:
    """(code, language, fields) for n letters over every template, hostile text included."""
    from pyxl.policy import letter_book

    book = letter_book()
    keys = [(code, lang) for code in sorted(book.letters) for lang in ("en", "es")]
    out = []
    for i in range(n):
        code, lang = keys[i % len(keys)]
        values = book.sample_fields(code) | {
            "case_id": f"TX-{200000 + i}",
            "client_name": f"Client {i} O'Neil & <Sons>",
            "mailing_address": f"{100 + i} Main St, Apt {i % 40}\nHouston, TX 770{i % 90:02d}",
            "next_activity_date": "Monday, November 30, 2026" if i % 2 else "",
        }
        allowed = book.allowed_fields(code)
        out.append((code, lang, {k: v for k, v in values.items() if k in allowed}))
    return out


def _c14n_parts(docx: bytes) -> dict[str, bytes]:
    from lxml import etree

    archive = zipfile.ZipFile(io.BytesIO(docx))
    out = {}
    for name in archive.namelist():
        data = archive.read(name)
        if name == "docProps/core.xml":
            continue
        if name.endswith((".xml", ".rels")):
            data = etree.tostring(etree.fromstring(data), method="c14n")
        out[name] = data
    return out


def run(n_letters: int, naive_sample: int, pdf_letters: int, repeats: int) -> Result:
    from docxtpl import DocxTemplate

    from pyxl.adapters import letter_docx
    from pyxl.services.letters import TEMPLATES_DIR, Job, load_templates, render_all

    result = Result("letters")
    jobs_input = contexts(n_letters)
    say(f"letters: {n_letters} letters over 14 templates; naive sample {naive_sample}")

    def naive(items):
        out = []
        for code, lang, ctx in items:
            tpl = DocxTemplate(str(TEMPLATES_DIR / f"{code}.{lang}.docx"))
            tpl.render(ctx, letter_docx.letter_environment(), autoescape=True)
            buffer = io.BytesIO()
            tpl.save(buffer)
            out.append(buffer.getvalue())
        return out

    sample = jobs_input[:naive_sample]
    naive_walls, _, naive_letters = repeat(lambda: naive(sample), repeats)
    naive_per = median(naive_walls) / len(sample)

    def fast(processes: int):
        templates = load_templates({(c, lang) for c, lang, _ in jobs_input})
        jobs = [Job(i, ctx["case_id"], c, lang, ctx) for i, (c, lang, ctx) in enumerate(jobs_input)]
        return [data for _, data, _ in render_all(jobs, templates, processes)]

    one_walls, _, one = repeat(lambda: fast(1), repeats)
    two_walls, _, two = repeat(lambda: fast(2), repeats)
    result.check("every letter rendered", all(one) and len(one) == n_letters)
    result.check("one and two processes give byte-identical letters", one == two)
    result.check(
        "fast letters have the same parts as naive docxtpl (c14n)",
        all(_c14n_parts(a) == _c14n_parts(b) for a, b in zip(one, naive_letters, strict=False)),
    )
    per_one, per_two = median(one_walls) / n_letters, median(two_walls) / n_letters
    result.row("naive render (new DocxTemplate, render, save)", f"{1 / naive_per:,.0f} letters/s")
    result.row(
        f"{n_letters} letters, 1 process (compile once, base zip)",
        f"{fmt_s(median(one_walls))}, {1 / per_one:,.0f} letters/s",
        f"{naive_per / per_one:.1f}x",
    )
    result.row(
        f"{n_letters} letters, 2 processes",
        f"{fmt_s(median(two_walls))}, {1 / per_two:,.0f} letters/s",
        f"{naive_per / per_two:.1f}x",
    )
    ratio = naive_per / per_two
    result.targets.append(Target("render >= 10x naive", ">= 10x", f"{ratio:.1f}x", ratio >= 10))
    result.data |= {
        "letters": n_letters,
        "naive_letters_per_s": 1 / naive_per,
        "fast_1proc_s": median(one_walls),
        "fast_2proc_s": median(two_walls),
        "render_ratio_2proc": ratio,
        "render_ratio_1proc": naive_per / per_one,
    }

    merge_wall, _, merged = timed(lambda: letter_docx.merge_letters(one))
    result.row(f"merge {n_letters} letters (a section each)", fmt_s(merge_wall))
    result.data["merge_s"] = merge_wall
    sections = zipfile.ZipFile(io.BytesIO(merged)).read("word/document.xml").count(b"<w:sectPr")
    result.check("the print file has a section per letter", sections == n_letters)
    with tempfile.TemporaryDirectory(prefix="pyxl-bench-letters-") as tmp:
        batches = [n_letters] if pdf_letters >= n_letters else [pdf_letters, n_letters]
        for count in batches:
            target = Path(tmp) / f"print-{count}.pdf"
            wall, _, ranges = timed(
                lambda count=count, target=target: letter_docx.batch_pdf(one[:count], target)
            )
            result.check(
                f"{count}-letter PDF: every page names its own letter", len(ranges) == count
            )
            result.row(
                f"{count} letters -> one PDF (LibreOffice, 2 processes) + page check",
                f"{fmt_s(wall)}, {ranges[-1][1]} pages",
            )
            result.data[f"pdf_{count}_s"] = wall
            if count == pdf_letters:
                result.targets.append(
                    Target(f"{count}-letter batch PDF < 60 s", "< 60 s", fmt_s(wall), wall < 60)
                )
    return result
