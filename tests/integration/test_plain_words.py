"""Plain words for users, citations for auditors: no text a user reads names a source by an
internal id ("S1", "seed", "[EXT]", "[GAP]", "[AMBIG]", "domain.md"). The policy files keep
their short ids; `pyxl.domain.sources.cite` turns them into document titles and sections.

Scanned: every string of a recomputed demo workbook (cells, notes, dropdown hints, headers
and footers), of a supervisor report made from it, and of the letters printed from it, and
the policy texts themselves (rule and clock citations, settings, How to use)."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from pyxl.adapters.workbook_builder import guide_sections
from pyxl.domain.sources import DOCUMENTS, FORBIDDEN, cite
from pyxl.policy import default_settings, flowbook, rulebook
from pyxl.services import demo_data
from pyxl.services.new_workbook import create_workbook, holiday_rows
from pyxl.services.recompute import recompute

AS_OF = dt.date(2026, 11, 23)
POLICY = Path(__file__).parents[2] / "pyxl" / "policy"


def jargon(texts: dict[str, str]) -> list[str]:
    return [
        f"{where}: {m.group(0)!r} in {text[:160]!r}"
        for where, text in texts.items()
        if (m := FORBIDDEN.search(text))
    ]


# Attributes that hold words (data validation hints and errors, link tips); the others hold
# cell references such as S1, which are not jargon.
WORDS_IN_ATTRIBUTES = {"prompt", "promptTitle", "error", "errorTitle", "tooltip", "display"}


def xml_texts(path: Path) -> dict[str, str]:
    """Every text node and attribute value of every XML part (cells, shared strings, notes,
    data validation prompts, headers and footers, document properties)."""
    found: dict[str, str] = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if not name.endswith((".xml", ".rels", ".vml")):
                continue
            root = etree.fromstring(z.read(name), etree.XMLParser(huge_tree=True, recover=True))
            if root is None:
                continue
            for i, node in enumerate(root.iter()):
                said = (v for k, v in node.attrib.items() if k in WORDS_IN_ATTRIBUTES)
                pieces = [node.text or "", *said]
                for j, piece in enumerate(pieces):
                    if piece.strip():
                        found[f"{path.name}/{name}#{i}.{j}"] = piece
            # A docx splits words across runs: also the paragraph text as a whole.
            words = "".join(t for t in root.itertext())
            found[f"{path.name}/{name}#all"] = words
    return found


# ---------------------------------------------------------------- the policy texts


def test_every_rule_and_clock_cites_its_documents_by_title() -> None:
    rules = [*rulebook().rules.values(), *(c.rule for c in flowbook().clocks)]
    assert rules
    for rule in rules:
        words = cite(rule.source)
        assert not FORBIDDEN.search(words), (rule.id, words)
        ids = set(re.findall(r"\bS[0-4]\b", rule.source))
        assert all(DOCUMENTS[i] in words for i in ids), (rule.id, words)


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("S1 §2", "Alaska DPAWS Case Management Expectations §2"),
        ("S1 WF §1", "Alaska DPAWS Case Management Expectations, Work First §1"),
        (
            "S0 T-09; [EXT] Choices Guide B-801",
            "Texas Workforce Solutions Program Tracking Specialist Job Description; "
            "Texas Choices Guide B-801",
        ),
        (
            "S3 (Y-06) [GAP]",
            "Texas Workforce Solutions Youth Case Management Procedure "
            "(the procedures do not say; the office's setting decides)",
        ),
        (
            "S1 §3, §11 (A-08) [AMBIG]",
            "Alaska DPAWS Case Management Expectations §3, §11 "
            "(the procedures can be read more than one way; the office's setting decides)",
        ),
        (
            "S2 (O-01, O-04); [EXT] OAR 461-190-0231; domain.md L24",
            "Portland TANF: Using Technology to Improve Service Delivery; OAR 461-190-0231",
        ),
    ],
)
def test_cite_names_documents_and_says_gaps_in_words(source: str, words: str) -> None:
    assert cite(source) == words


def test_settings_how_to_use_and_holidays_are_in_plain_words() -> None:
    texts = {f"Settings {n}": s.meaning for n, s in default_settings().specs.items()}
    for section, entries in guide_sections():
        texts |= {f"How to use {section}/{name}": f"{name} {text}" for name, text in entries}
    texts |= {f"Holidays {r[0]} {r[1]}": f"{r[2]} {r[4]}" for r in holiday_rows(AS_OF)}
    assert not jargon(texts)


def test_a_setting_that_names_the_suggested_value_names_its_default() -> None:
    """ "The program office suggests N" must say the default the workbook starts with."""
    settings = tomllib.loads((POLICY / "settings.toml").read_text("utf-8"))["settings"]
    checked = 0
    for name, spec in settings.items():
        m = re.search(r"suggests (\d+(?:\.\d+)?)\b", spec["meaning"])
        if m:
            assert float(m.group(1)) == float(spec["default"]), name
            checked += 1
    assert checked >= 8
    gaps = [n for n, s in settings.items() if "do not say" in s["meaning"]]
    assert "A-15 days" in gaps and "Y-06 letter days" in gaps


# ---------------------------------------------------------------- what users open


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plain") / "caseload.xlsx"
    rows = demo_data.generate(150, as_of=AS_OF, messy=True)
    create_workbook(path, as_of=AS_OF, rows=rows)
    recompute(path, AS_OF)
    return path


def test_the_recomputed_workbook_has_no_internal_ids(demo: Path) -> None:
    texts = xml_texts(demo)
    assert any("Alaska DPAWS Case Management Expectations" in t for t in texts.values())
    assert not jargon(texts)


def test_the_report_has_no_internal_ids(demo: Path) -> None:
    from pyxl.services.report import run_report

    result = run_report([demo], AS_OF, demo.with_name("report.xlsx"))
    assert not jargon(xml_texts(result.path))


def test_the_letters_have_no_internal_ids(demo: Path) -> None:
    from pyxl.services.letters import run_letters

    result = run_letters(demo, AS_OF, out_dir=demo.parent / "letters", processes=1)
    made = [m.file for m in result.made]
    assert made
    texts: dict[str, str] = {}
    for letter in [*made, result.print_file]:
        if letter is not None:
            texts |= xml_texts(Path(letter))
    assert not jargon(texts)
