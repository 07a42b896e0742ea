"""Validate Office Open XML packages (.xlsx, .docx) the way Word and Excel judge them.

Two independent checks, both must report nothing:
- `schema_errors`: every XML part validated against the ISO/IEC 29500 transitional schemas
  (pyxl/adapters/ooxml.py, which `pyxl templates check` runs on what staff saved);
- `audit_errors`: `openxml-audit` (PyPI), a pure-Python port of the Open XML SDK validator.
"""

from __future__ import annotations

from pathlib import Path

from pyxl.adapters.ooxml import schema_errors

__all__ = ["audit_errors", "problems", "schema_errors"]


def audit_errors(path: Path) -> list[str]:
    """Errors reported by openxml-audit (the Open XML SDK's checks, in Python)."""
    from openxml_audit import OpenXmlValidator

    result = OpenXmlValidator(max_errors=50).validate(str(path))
    return [str(error) for error in result.errors]


def problems(path: Path) -> list[str]:
    """Both checks together: an empty list means Word/Excel open the file without repair."""
    return schema_errors(path) + audit_errors(path)
