"""Word letters from docxtpl templates: safe rendering, fast batches, print files, linting.

Safety (reliability.md 3): a sandboxed Jinja environment with autoescape and strict
undefined; every value is cleaned of characters XML cannot carry and of docxtpl's layout
controls (\\a \\f \\t would add paragraphs, page breaks, tabs); only the fields a letter may
use reach its template; every rendered part is parsed by a strict XML parser before it is
written, so a letter is either well-formed or not written at all.

Speed (performance.md 2): a template is read and compiled once, with docxtpl's own
`patch_xml` and `resolve_listing` so tags mean exactly what they mean in docxtpl. The parts
that do not change (styles, numbering, theme, ...) are compressed once into a base archive;
a letter is that archive's bytes plus its few rendered parts. The result has the same parts
as `DocxTemplate(path).render(ctx, env, autoescape=True); save()` (checked in the tests
and the benchmark), at many times the rate.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree

from pyxl.adapters.ooxml import schema_errors

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
HEADER_TYPE = f"{R}/header"
FOOTER_TYPE = f"{R}/footer"
CONTENT_TYPES = {
    HEADER_TYPE: "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml",
    FOOTER_TYPE: "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml",
}
DOCUMENT = "word/document.xml"
_STRICT = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
# XML 1.0 cannot carry these; \t \n \r are legal but handled below.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_TAG_START = re.compile(r"\{[{%#]")


class LetterError(Exception):
    """One letter cannot be made; the message names the case and the field."""

    def __init__(self, case_id: str, code: str, message: str) -> None:
        super().__init__(f"case {case_id}, letter {code}: {message}")
        self.case_id = case_id
        self.code = code


def _refuse_none(value: object) -> object:
    if value is None:  # a backstop: contexts are checked field by field before rendering
        raise ValueError("a field printed in the letter is blank (None)")
    return value


def letter_environment() -> SandboxedEnvironment:
    """The only environment letters are rendered in."""
    return SandboxedEnvironment(autoescape=True, undefined=StrictUndefined, finalize=_refuse_none)


def clean_value(value: object, *, one_line: bool = False) -> object:
    """Client text as a letter can carry it.

    Characters XML cannot hold are dropped; tabs become spaces; docxtpl's \\a (new
    paragraph) and \\f (page break) controls are dropped, so client text can never change a
    letter's layout or page count. Newlines stay (a line break) unless `one_line`.
    """
    if isinstance(value, str):
        text = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        text = _XML_ILLEGAL.sub("", text)
        if one_line:
            text = " ".join(text.split())
        return text
    if isinstance(value, Mapping):
        return {k: clean_value(v, one_line=one_line) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_value(v, one_line=one_line) for v in value]
    return value


# ---------------------------------------------------------------- templates


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str, str]]:
    """rId -> (type, resolved target part, target mode) for one part."""
    path = PurePosixPath(part)
    name = f"{path.parent}/_rels/{path.name}.rels"
    if name not in archive.namelist():
        return {}
    out = {}
    for rel in etree.fromstring(archive.read(name), _STRICT):
        target = rel.get("Target")
        mode = rel.get("TargetMode", "Internal")
        if mode == "Internal":
            target = _resolve(path.parent, target)
        out[rel.get("Id")] = (rel.get("Type"), target, mode)
    return out


def _resolve(base: PurePosixPath, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for piece in f"{base}/{target}".split("/"):
        if piece == "..":
            parts.pop()
        elif piece not in {"", "."}:
            parts.append(piece)
    return "/".join(parts)


def _patched(tpl: DocxTemplate, xml: str) -> str:
    # As docxtpl.render_xml_part: patch, then one paragraph per line (its error context).
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", tpl.patch_xml(xml))


@dataclass
class _Part:
    name: str
    head: bytes  # bytes before the rendered text (document: up to <w:body>)
    tail: bytes
    source: str  # patched Jinja source
    compiled: Any = None


@dataclass
class CompiledTemplate:
    """One .docx template, read and compiled once; renders letters as .docx bytes."""

    path: Path
    parts: list[_Part]
    base: bytes  # zip of every unchanged member, compressed once
    variables: frozenset[str]
    sha256: str
    _listing: DocxTemplate = field(repr=False)

    @classmethod
    def load(cls, path: Path, env: SandboxedEnvironment | None = None) -> CompiledTemplate:
        import hashlib

        env = env or letter_environment()
        data = Path(path).read_bytes()
        archive = zipfile.ZipFile(io.BytesIO(data))
        tpl = DocxTemplate(io.BytesIO(data))
        parts = []
        document = archive.read(DOCUMENT)
        start = document.index(b"<w:body")
        end = document.rindex(b"</w:body>") + len(b"</w:body>")
        body = etree.fromstring(document, _STRICT).find(f"{{{W}}}body")
        parts.append(
            _Part(
                DOCUMENT,
                document[:start],
                document[end:],
                _patched(tpl, etree.tostring(body, encoding="unicode")),
            )
        )
        for rel_type, target, _ in _rels(archive, DOCUMENT).values():
            if rel_type in (HEADER_TYPE, FOOTER_TYPE):
                root = etree.fromstring(archive.read(target), _STRICT)
                declaration = b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
                parts.append(
                    _Part(
                        target,
                        declaration,
                        b"",
                        _patched(tpl, etree.tostring(root, encoding="unicode")),
                    )
                )
        variables: set[str] = set()
        for part in parts:
            try:
                ast = env.parse(part.source)
                part.compiled = env.from_string(part.source)
            except TemplateError as exc:
                raise TemplateProblem(Path(path).name, f"{part.name}: {exc}") from exc
            variables |= meta.find_undeclared_variables(ast)
        rendered = {p.name for p in parts}
        base = io.BytesIO()
        with zipfile.ZipFile(base, "w", zipfile.ZIP_DEFLATED) as out:
            for info in archive.infolist():
                if info.filename not in rendered:
                    out.writestr(_entry(info.filename), archive.read(info.filename))
        return cls(
            Path(path),
            parts,
            base.getvalue(),
            frozenset(variables),
            hashlib.sha256(data).hexdigest(),
            tpl,
        )

    def render_parts(self, context: Mapping[str, Any]) -> dict[str, bytes]:
        """The rendered parts (name -> XML bytes), each checked by a strict XML parse."""
        out = {}
        multi_line = _has_newline(context)
        for part in self.parts:
            xml = part.compiled.render(context)
            xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
            xml = (
                xml.replace("{_{", "{{")
                .replace("}_}", "}}")
                .replace("{_%", "{%")
                .replace("%_}", "%}")
            )
            if multi_line:
                xml = self._listing.resolve_listing(xml)
            data = part.head + xml.encode("utf-8") + part.tail
            try:
                etree.fromstring(data, _STRICT)
            except etree.XMLSyntaxError as exc:
                raise ValueError(f"{part.name} is not well-formed once filled in ({exc})") from exc
            out[part.name] = data
        return out

    def render(self, context: Mapping[str, Any]) -> bytes:
        """A letter as .docx bytes."""
        parts = self.render_parts(context)
        buffer = io.BytesIO()
        buffer.write(self.base)
        with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
            for name, data in parts.items():
                z.writestr(_entry(name), data)
        return buffer.getvalue()


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # same bytes every run
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _has_newline(value: object) -> bool:
    if isinstance(value, str):
        return "\n" in value
    if isinstance(value, Mapping):
        return any(_has_newline(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_newline(v) for v in value)
    return False


class TemplateProblem(Exception):
    def __init__(self, template: str, message: str) -> None:
        super().__init__(f"{template}: {message}")
        self.template = template


# ---------------------------------------------------------------- schema order

# Child order the WordprocessingML schema (ISO/IEC 29500-4, wml.xsd) requires for the
# property elements layout code tends to append to: python-docx appends in call order, and
# Word "repairs" a file whose order is wrong.
_SEQUENCES = {
    "tblPr": "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize "
    "tblW jc tblCellSpacing tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption "
    "tblDescription tblPrChange",
    "tcPr": "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection "
    "tcFitText vAlign hideMark headers cellIns cellDel cellMerge tcPrChange",
    "sectPr": "headerReference footerReference footnotePr endnotePr type pgSz pgMar "
    "paperSrc pgBorders lnNumType pgNumType cols formProt vAlign noEndnote titlePg "
    "textDirection bidi rtlGutter docGrid printerSettings sectPrChange",
}
_RANKS = {
    f"{{{W}}}{parent}": {f"{{{W}}}{name}": n for n, name in enumerate(names.split())}
    for parent, names in _SEQUENCES.items()
}
_RANKS[f"{{{W}}}sectPr"][f"{{{W}}}footerReference"] = 0  # one choice group with headers
# Properties that may appear once: a later duplicate is dropped (the first one wins).
_ONCE = {f"{{{W}}}tblLayout", f"{{{W}}}tblLook", f"{{{W}}}shd", f"{{{W}}}tcBorders"}


def schema_order(root: etree._Element) -> bool:
    """Put table, cell and section properties in schema order, drop repeated ones, and give
    `w:zoom` its required percent; True when anything changed."""
    changed = False
    for element in root.iter(*_RANKS):
        ranks = _RANKS[element.tag]
        seen: set[str] = set()
        for child in list(element):
            if child.tag in _ONCE and child.tag in seen:
                element.remove(child)
                changed = True
            seen.add(child.tag)
        children = list(element)
        ordered = sorted(children, key=lambda c: ranks.get(c.tag, len(ranks)))
        if ordered != children:
            element[:] = ordered
            changed = True
    for zoom in root.iter(f"{{{W}}}zoom"):
        if zoom.get(f"{{{W}}}percent") is None:
            zoom.set(f"{{{W}}}percent", "100")
            changed = True
    return changed


# Word 2010's copy of the styles: python-docx's blank document carries a stale one (missing
# the header and footer styles), which Word may read as unreadable content. Word 2013 and
# later neither need nor write it.
_STALE_PART = "word/stylesWithEffects.xml"


def normalize_docx(path: Path) -> bool:
    """Rewrite a .docx's document, header, footer and settings parts in schema order (see
    schema_order) and drop a stale stylesWithEffects part; every other member is kept byte
    for byte. True when the file changed."""
    data = Path(path).read_bytes()
    source = zipfile.ZipFile(io.BytesIO(data))
    replaced: dict[str, bytes] = {}
    dropped = {_STALE_PART} & set(source.namelist())
    for name in source.namelist():
        if name.startswith("word/") and name.endswith(".xml") and name not in dropped:
            root = etree.fromstring(source.read(name), _STRICT)
            if schema_order(root):
                replaced[name] = _xml(root)
    if dropped:
        stale = PurePosixPath(_STALE_PART).name
        rels = etree.fromstring(source.read("word/_rels/document.xml.rels"), _STRICT)
        for rel in list(rels):
            if rel.get("Target") == stale:
                rels.remove(rel)
        replaced["word/_rels/document.xml.rels"] = _xml(rels)
        replaced["[Content_Types].xml"] = _content_types(
            source.read("[Content_Types].xml"), (), dropped
        )
    if not replaced and not dropped:
        return False
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            if info.filename not in dropped:
                z.writestr(info, replaced.get(info.filename) or source.read(info.filename))
    Path(path).write_bytes(out.getvalue())
    return True


# ---------------------------------------------------------------- templates check


@dataclass(frozen=True)
class Finding:
    template: str
    kind: str  # "unknown field", "field not allowed", "split tag", "syntax", ...
    detail: str

    def __str__(self) -> str:
        return f"{self.template}: {self.kind}: {self.detail}"


def _paragraph_texts(xml: bytes) -> Iterable[list[str]]:
    """Per paragraph, the text of each of its w:t elements (in order)."""
    root = etree.fromstring(xml, _STRICT)
    for p in root.iter(f"{{{W}}}p"):
        yield [t.text or "" for t in p.iter(f"{{{W}}}t")]


def split_tags(xml: bytes) -> list[str]:
    """Tags that Word split over several runs ('{{ na' + 'me }}'): the text of each."""
    found = []
    for runs in _paragraph_texts(xml):
        text = "".join(runs)
        bounds = []
        at = 0
        for piece in runs:
            bounds.append((at, at + len(piece)))
            at += len(piece)
        for m in re.finditer(r"\{[{%#].*?[}%#]\}", text):
            inside = any(s <= m.start() and m.end() <= e for s, e in bounds)
            if not inside:
                found.append(m.group(0))
        # An opening with no closing in the paragraph is split beyond repair.
        opened = len(_TAG_START.findall(text))
        closed = len(re.findall(r"[}%#]\}", text))
        if opened > closed:
            found.append(text[:60])
    return found


def check_template(
    path: Path,
    code: str,
    allowed: frozenset[str],
    known: frozenset[str],
    sample: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Lint one template: the ISO/IEC 29500 schemas, syntax, unknown and disallowed fields,
    split tags, footer ids, and (given sample values) a trial render in the sandbox."""
    name = Path(path).name
    findings: list[Finding] = []
    env = letter_environment()
    try:
        template = CompiledTemplate.load(path, env)
    except (TemplateProblem, zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as exc:
        return [Finding(name, "unreadable", str(exc))]
    archive = zipfile.ZipFile(path)
    for problem in schema_errors(Path(path)):
        findings.append(
            Finding(
                name,
                "not valid Word XML",
                f"{problem}. Word may call the letter unreadable or repair it: undo the last "
                "change to the template in Word, or copy its text into a fresh copy",
            )
        )
    for part in template.parts:
        for tag in split_tags(archive.read(part.name)):
            findings.append(
                Finding(
                    name,
                    "split tag",
                    f"{part.name}: {tag!r} is split across formatting runs; select it, "
                    "clear its formatting and type it again in one go",
                )
            )
    for variable in sorted(template.variables - known):
        findings.append(
            Finding(name, "unknown field", f"{{{{ {variable} }}}} is not a field pyxl fills in")
        )
    for variable in sorted((template.variables & known) - allowed):
        findings.append(
            Finding(
                name, "field not allowed", f"{{{{ {variable} }}}} may not be used in {code} letters"
            )
        )
    for member in ("docProps/core.xml", "docProps/app.xml"):
        if member in archive.namelist() and _TAG_START.search(
            archive.read(member).decode("utf-8", "replace")
        ):
            findings.append(
                Finding(
                    name,
                    "tag in document properties",
                    f"{member}: properties must not hold fields (they leak into file metadata)",
                )
            )
    if sample is not None and not findings:
        try:
            template.render({k: v for k, v in sample.items() if k in allowed})
        except (TemplateError, ValueError, etree.XMLSyntaxError) as exc:
            findings.append(Finding(name, "does not render", f"{type(exc).__name__}: {exc}"))
    footers = [p for p in template.parts if "footer" in p.name]
    for needed in ("letter_code", "case_id"):
        if not any(_uses(env, p.source, needed) for p in footers):
            findings.append(
                Finding(
                    name,
                    "footer",
                    f"the footer must show {{{{ {needed} }}}}: every printed page names its letter",
                )
            )
    return findings


def _uses(env: SandboxedEnvironment, source: str, variable: str) -> bool:
    return any(n.name == variable for n in env.parse(source).find_all(nodes.Name))


# ---------------------------------------------------------------- print file


def _content_types(data: bytes, overrides: Sequence[tuple[str, str]], dropped: set[str]) -> bytes:
    root = etree.fromstring(data, _STRICT)
    for e in list(root):
        if e.get("PartName", "").lstrip("/") in dropped:
            root.remove(e)
    for part, content_type in overrides:
        e = etree.SubElement(root, f"{{{CT}}}Override")
        e.set("PartName", f"/{part}")
        e.set("ContentType", content_type)
    return _xml(root)


_SECTION_TAIL = (
    f'<w:p xmlns:w="{W}"><w:pPr><w:spacing w:before="0" w:after="0" w:line="20" '
    'w:lineRule="exact"/><w:rPr><w:sz w:val="2"/></w:rPr></w:pPr></w:p>'
)


def merge_letters(letters: Sequence[bytes]) -> bytes:
    """One .docx holding the letters in order, one section each with its own header and footer.

    A merge that keeps one section (docxcompose, or joining bodies) prints the first letter's
    footer on every page (performance.md 2); here each letter's section points at its own
    copies of its header and footer parts, so every page carries its own letter's
    identifiers. Styles, numbering and theme come from the first letter (all templates
    share the scaffold's styles).
    """
    if not letters:
        raise ValueError("no letters to merge")
    first = zipfile.ZipFile(io.BytesIO(letters[0]))
    document = first.read(DOCUMENT)
    head = document[: document.index(b"<w:body")]
    rels_root = etree.fromstring(first.read("word/_rels/document.xml.rels"), _STRICT)
    for rel in list(rels_root):
        if rel.get("Type") in (HEADER_TYPE, FOOTER_TYPE):
            rels_root.remove(rel)
    extra_parts: dict[str, bytes] = {}
    overrides: list[tuple[str, str]] = []
    bodies: list[bytes] = []
    docpr = 0
    for n, data in enumerate(letters, start=1):
        archive = first if n == 1 else zipfile.ZipFile(io.BytesIO(data))
        rels = _rels(archive, DOCUMENT)
        body = etree.fromstring(archive.read(DOCUMENT), _STRICT).find(f"{{{W}}}body")
        section = body[-1]
        if section.tag != f"{{{W}}}sectPr":
            raise ValueError(f"letter {n} has no section properties")
        body.remove(section)
        renamed: dict[str, str] = {}
        for ref in section:
            old = ref.get(f"{{{R}}}id")
            if old is None:
                continue
            rel_type, target, _ = rels[old]
            kind = "header" if rel_type == HEADER_TYPE else "footer"
            new_part = f"word/{kind}L{n}_{PurePosixPath(target).stem}.xml"
            extra_parts[new_part] = archive.read(target)
            own = f"word/_rels/{PurePosixPath(target).name}.rels"
            if own in archive.namelist():
                raise ValueError(f"letter {n}: headers and footers with pictures are not merged")
            overrides.append((new_part, CONTENT_TYPES[rel_type]))
            rid = f"rIdL{n}x{len(renamed) + 1}"
            renamed[old] = rid
            rel = etree.SubElement(rels_root, f"{{{PKG_REL}}}Relationship")
            rel.set("Id", rid)
            rel.set("Type", rel_type)
            rel.set("Target", new_part.removeprefix("word/"))
            ref.set(f"{{{R}}}id", rid)
        if any(k.startswith(f"{{{R}}}") for e in body.iter() for k in e.attrib):
            raise ValueError(f"letter {n}: pictures or links in the letter body are not merged")
        for e in body.iter(
            "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"
        ):
            docpr += 1
            e.set("id", str(docpr))
        if n < len(letters):
            last = body[-1] if len(body) else None
            if (
                last is None
                or last.tag != f"{{{W}}}p"
                or last.find(f"{{{W}}}pPr/{{{W}}}sectPr") is not None
            ):
                last = etree.fromstring(_SECTION_TAIL)
                body.append(last)
            ppr = last.find(f"{{{W}}}pPr")
            if ppr is None:
                ppr = etree.Element(f"{{{W}}}pPr")
                last.insert(0, ppr)
            ppr.append(section)
        else:
            body.append(section)
        bodies.append(b"".join(etree.tostring(child) for child in body))
    merged_document = (
        head
        + f'<w:body xmlns:w="{W}" xmlns:r="{R}">'.encode()
        + b"".join(bodies)
        + b"</w:body></w:document>"
    )
    etree.fromstring(merged_document, _STRICT)
    # The first letter's own header and footer parts are replaced by the renamed copies.
    own_parts = {
        target for kind, target, _ in _rels(first, DOCUMENT).values() if kind in CONTENT_TYPES
    }
    replaced = {
        DOCUMENT: merged_document,
        "word/_rels/document.xml.rels": _xml(rels_root),
        "[Content_Types].xml": _content_types(
            first.read("[Content_Types].xml"), overrides, own_parts
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for info in first.infolist():
            if info.filename not in own_parts:
                body = replaced.get(info.filename) or first.read(info.filename)
                z.writestr(_entry(info.filename), body)
        for name, data in extra_parts.items():
            z.writestr(_entry(name), data)
    return out.getvalue()


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def paragraphs(docx: bytes) -> list[str]:
    """Each paragraph's text of a .docx, the body's then the footers' (tags as typed)."""
    archive = zipfile.ZipFile(io.BytesIO(docx))
    parts = [DOCUMENT] + [
        target for kind, target, _ in _rels(archive, DOCUMENT).values() if kind == FOOTER_TYPE
    ]
    out = []
    for part in parts:
        root = etree.fromstring(archive.read(part), _STRICT)
        for p in root.iter(f"{{{W}}}p"):
            out.append("".join(t.text or "" for t in p.iter(f"{{{W}}}t")))
    return out


def document_text(docx: bytes) -> str:
    """All text of a .docx (body, headers, footers, properties), <w:br/> as a newline."""
    archive = zipfile.ZipFile(io.BytesIO(docx))
    texts = []
    for name in archive.namelist():
        if not name.endswith(".xml"):
            continue
        root = etree.fromstring(archive.read(name), _STRICT)
        for e in root.iter():
            if e.tag == f"{{{W}}}t" and e.text:
                texts.append(e.text)
            elif e.tag in (f"{{{W}}}br", f"{{{W}}}p"):
                texts.append("\n")
            elif not str(e.tag).startswith(f"{{{W}}}") and e.text and e.text.strip():
                texts.append(e.text)  # document properties (dc:title, ...)
    return "".join(texts)


def footer_identifier(docx: bytes) -> tuple[str, ...]:
    """Each footer's text outside fields (page numbers), without whitespace: what every
    printed page of this letter shows and no other letter's page does."""
    archive = zipfile.ZipFile(io.BytesIO(docx))
    out = []
    for kind, target, _ in _rels(archive, DOCUMENT).values():
        if kind != FOOTER_TYPE:
            continue
        root = etree.fromstring(archive.read(target), _STRICT)
        texts = [
            t.text or ""
            for t in root.iter(f"{{{W}}}t")
            if not any(a.tag == f"{{{W}}}fldSimple" for a in t.iterancestors())
        ]
        out.append(re.sub(r"\s+", "", "".join(texts)))
    return tuple(t for t in out if t)


class PagesDoNotMatch(ValueError):
    """The PDF's pages do not follow the letters in order (a footer lost its identifiers?)."""


def page_texts(pdf: Path) -> list[str]:
    """Each page's text: poppler's pdftotext where installed (fast), else pypdf."""
    pdftotext = shutil.which("pdftotext")
    if pdftotext:
        done = subprocess.run(
            [pdftotext, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True
        )
        return done.stdout.decode("utf-8").split("\f")[:-1]
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(pdf).pages]


def page_ranges(pdf: Path, identifiers: Sequence[tuple[str, ...]]) -> list[tuple[int, int]]:
    """(first, last) 1-based page of each letter, read from each page's own footer text.

    Every page must name the letter it belongs to, in order, with no page left over:
    otherwise PagesDoNotMatch.
    """
    pages = [re.sub(r"\s+", "", text) for text in page_texts(pdf)]
    ranges: list[list[int]] = []
    current = -1
    for number, text in enumerate(pages, start=1):
        if current >= 0 and any(i in text for i in identifiers[current]):
            ranges[current][1] = number
            continue
        following = current + 1
        if following < len(identifiers) and any(i in text for i in identifiers[following]):
            current = following
            ranges.append([number, number])
            continue
        expected = identifiers[min(following, len(identifiers) - 1)]
        raise PagesDoNotMatch(
            f"page {number} of {pdf.name} shows none of the expected identifiers "
            f"{' / '.join(expected)}"
        )
    if len(ranges) != len(identifiers):
        raise PagesDoNotMatch(f"{pdf.name}: {len(ranges)} letters found, {len(identifiers)} made")
    return [(a, b) for a, b in ranges]


def _convert_group(files: list[Path], outdir: Path) -> list[Path]:
    from pyxl.adapters.libreoffice import convert

    return convert(files, "pdf", outdir)


def batch_pdf(
    letters: Sequence[bytes], target: Path, *, chunk: int = 50, processes: int = 2
) -> list[tuple[int, int]]:
    """One PDF of the letters in order, and each letter's (first, last) page in it.

    LibreOffice slows down more than linearly with the number of sections in one document
    (100 letters 4 s, 400 letters 35 s here), so the letters are merged in chunks, the
    chunks converted by up to `processes` LibreOffice processes (each with its own profile)
    and the PDFs joined. The pages are then matched to the letters by their footers.
    """
    from concurrent.futures import ProcessPoolExecutor

    from pypdf import PdfWriter

    with tempfile.TemporaryDirectory(prefix="pyxl-batch-pdf-") as tmp:
        folder = Path(tmp)
        chunks = []
        for n, start in enumerate(range(0, len(letters), chunk)):
            path = folder / f"chunk-{n:05d}.docx"
            path.write_bytes(merge_letters(letters[start : start + chunk]))
            chunks.append(path)
        groups = [chunks[i::processes] for i in range(min(processes, len(chunks)))]
        if len(groups) > 1:
            with ProcessPoolExecutor(len(groups)) as pool:
                list(pool.map(_convert_group, groups, [folder] * len(groups)))
        else:
            _convert_group(chunks, folder)
        writer = PdfWriter()
        for path in chunks:
            writer.append(str(path.with_suffix(".pdf")))
        with open(target, "wb") as f:
            writer.write(f)
    return page_ranges(target, [footer_identifier(d) for d in letters])
