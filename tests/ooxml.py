"""Validate Office Open XML packages (.xlsx, .docx) the way Word and Excel judge them.

Two independent checks, both must report nothing:
- `schema_errors`: every XML part validated against the ISO/IEC 29500 transitional schemas
  (pyxl/adapters/ooxml.py, which `pyxl templates check` runs on what staff saved);
- `audit_errors`: `openxml-audit` (PyPI), a pure-Python port of the Open XML SDK validator.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from pyxl.adapters.ooxml import schema_errors

__all__ = ["audit_errors", "problems", "schema_errors", "strict_copy"]


def audit_errors(path: Path) -> list[str]:
    """Errors reported by openxml-audit (the Open XML SDK's checks, in Python)."""
    from openxml_audit import OpenXmlValidator

    result = OpenXmlValidator(max_errors=50).validate(str(path))
    return [str(error) for error in result.errors]


def problems(path: Path) -> list[str]:
    """Both checks together: an empty list means Word/Excel open the file without repair."""
    return schema_errors(path) + audit_errors(path)


def strict_copy(source: Path, target: Path) -> Path:
    """`source` with its parts' XML named as Excel's "Strict Open XML Spreadsheet" names it."""
    names = [
        (
            b"schemas.openxmlformats.org/spreadsheetml/2006/main",
            b"purl.oclc.org/ooxml/spreadsheetml/main",
        ),
        (
            b"schemas.openxmlformats.org/officeDocument/2006/relationships",
            b"purl.oclc.org/ooxml/officeDocument/relationships",
        ),
    ]
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            data = zin.read(info)
            for transitional, strict_name in names:
                data = data.replace(transitional, strict_name)
            z.writestr(info, data)
    return target
