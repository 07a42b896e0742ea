"""Where the rules come from, in words a case manager or an auditor can look up.

The policy files cite the five office procedures by short ids ("S1 §2", "S0; [EXT] TWC
SNAP E&T Guide A-103.d", "S3 (Y-06) [GAP]"), as ../shared/domain.md does. Users never see
those ids: `cite` turns a citation into document titles and sections. This is the one place
that maps an id to its title.
"""

from __future__ import annotations

import re
from functools import cache

DOCUMENTS = {
    "S0": "Texas Workforce Solutions Program Tracking Specialist Job Description",
    "S1": "Alaska DPAWS Case Management Expectations",
    "S2": "Portland TANF: Using Technology to Improve Service Delivery",
    "S3": "Texas Workforce Solutions Youth Case Management Procedure",
    "S4": "Oregon SSP Transmittal: TANF Engagement and Re-engagement",
}
# Sections of the Alaska expectations named by track.
_PARTS = {"WF": "Work First", "FF": "Families First"}

GAP_WORDS = "the procedures do not say; the office's setting decides"
AMBIGUOUS_WORDS = "the procedures can be read more than one way; the office's setting decides"

# Internal markers and ids that must never reach a user (the jargon test scans for these).
FORBIDDEN = re.compile(r"\bS[0-4]\b|\bseeds?\b|\[(?:EXT|GAP|AMBIG)\]|domain\.md", re.IGNORECASE)

_DOC = re.compile(r"\bS([0-4])\b")
_MARK = re.compile(r"\s*\[(EXT|GAP|AMBIG)\]\s*")
_CATALOGUE_NOTE = re.compile(r",?\s*domain\.md(?:\s+L\d+)?")
# The catalogue's own numbers (T-07, A-08, O-01: ../shared/domain.md) mean nothing to users.
_CATALOGUE_IDS = re.compile(r"\(?\b[ATOY]-\d\d\b(?:,\s*)?\)?")


@cache
def cite(source: str) -> str:
    """A policy citation in words: "S1 WF §1" -> "Alaska DPAWS Case Management Expectations,
    Work First §1"; "[EXT]" (a law or state guide outside the procedures) is cited by its own
    name; "[GAP]"/"[AMBIG]" become a short plain sentence."""
    parts = []
    notes: list[str] = []
    for part in source.split(";"):
        marks = set(_MARK.findall(part))
        if "GAP" in marks:
            notes.append(GAP_WORDS)
        if "AMBIG" in marks:
            notes.append(AMBIGUOUS_WORDS)
        text = _CATALOGUE_IDS.sub(" ", _CATALOGUE_NOTE.sub("", _MARK.sub(" ", part)))
        text = " ".join(re.sub(r"\(\s*,?\s*\)", "", text).split()).replace(" ,", ",")
        text = text.strip(" ,")
        text = _DOC.sub(lambda m: DOCUMENTS[f"S{m.group(1)}"], text)
        text = re.sub(r"(?<!Texas )\bChoices Guide\b", "Texas Choices Guide", text)
        for short, words in _PARTS.items():
            text = re.sub(rf"(?<=Expectations) {short} §", f", {words} §", text)
        if text:
            parts.append(text)
    cited = "; ".join(parts)
    for note in dict.fromkeys(notes):
        cited += f" ({note})"
    return cited
