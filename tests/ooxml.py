"""Validate Office Open XML packages (.xlsx, .docx) the way Word and Excel judge them.

Two independent checks, both must report nothing:
- `schema_errors`: every XML part whose root namespace has an ISO/IEC 29500-4 (transitional)
  schema is validated with lxml against the XSDs in `tests/data/ooxml-schemas` (a copy of the
  schemas the project was given), after Markup Compatibility processing (ignorable namespaces
  dropped, `mc:AlternateContent` replaced by its fallback), as Office does before reading.
- `audit_errors`: `openxml-audit` (PyPI), a pure-Python port of the Open XML SDK validator.
"""

from __future__ import annotations

import functools
import re
import zipfile
from pathlib import Path

from lxml import etree

SCHEMAS = Path(__file__).parent / "data" / "ooxml-schemas"
ISO = SCHEMAS / "ISO-IEC29500-4_2016"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

# Root namespace of a part -> the schema file that defines it.
SCHEMA_OF_NAMESPACE = {
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main": ISO / "sml.xsd",
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main": ISO / "wml.xsd",
    "http://schemas.openxmlformats.org/drawingml/2006/chart": ISO / "dml-chart.xsd",
    "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing": (
        ISO / "dml-spreadsheetDrawing.xsd"
    ),
    "http://schemas.openxmlformats.org/drawingml/2006/main": ISO / "dml-main.xsd",
    "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties": (
        ISO / "shared-documentPropertiesExtended.xsd"
    ),
    "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties": (
        ISO / "shared-documentPropertiesCustom.xsd"
    ),
    "http://schemas.openxmlformats.org/package/2006/content-types": (
        SCHEMAS / "ecma" / "fouth-edition" / "opc-contentTypes.xsd"
    ),
    "http://schemas.openxmlformats.org/package/2006/relationships": (
        SCHEMAS / "ecma" / "fouth-edition" / "opc-relationships.xsd"
    ),
    "http://schemas.openxmlformats.org/package/2006/metadata/core-properties": (
        SCHEMAS / "ecma" / "fouth-edition" / "opc-coreProperties.xsd"
    ),
}

# Remote schemaLocations in the XSDs, served from the local copies (no network in tests).
_LOCAL = {
    "http://dublincore.org/schemas/xmls/qdc/2003/04/02/dc.xsd": SCHEMAS / "local" / "dc-stub.xsd",
    "http://dublincore.org/schemas/xmls/qdc/2003/04/02/dcterms.xsd": (
        SCHEMAS / "local" / "dcterms-stub.xsd"
    ),
    "http://www.w3.org/2001/03/xml.xsd": ISO / "xml.xsd",
}


class _LocalSchemas(etree.Resolver):
    def resolve(self, url, pubid, context):  # type: ignore[override]
        local = _LOCAL.get(url)
        return self.resolve_filename(str(local), context) if local else None


@functools.cache
def _schema(path: Path) -> etree.XMLSchema:
    # Some XSDs import xml:lang's namespace without a location: import it first, by file.
    namespace = etree.parse(str(path)).getroot().get("targetNamespace")
    wrapper = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
      <xs:import namespace="http://www.w3.org/XML/1998/namespace"
                 schemaLocation="{(ISO / "xml.xsd").as_uri()}"/>
      <xs:import namespace="{namespace}" schemaLocation="{path.as_uri()}"/>
    </xs:schema>"""
    parser = etree.XMLParser()
    parser.resolvers.add(_LocalSchemas())
    return etree.XMLSchema(etree.fromstring(wrapper, parser))


def _markup_compatibility(root: etree._Element) -> None:
    """Apply MCE as a consumer that understands only the transitional schemas would."""
    for alternate in root.iter(f"{{{MC}}}AlternateContent"):
        fallback = alternate.find(f"{{{MC}}}Fallback")
        parent = alternate.getparent()
        index = parent.index(alternate)
        parent.remove(alternate)
        for offset, child in enumerate(list(fallback) if fallback is not None else []):
            parent.insert(index + offset, child)
    ignorable: set[str] = set()
    for element in root.iter():
        prefixes = element.get(f"{{{MC}}}Ignorable")
        if prefixes:
            ignorable |= {element.nsmap.get(p) for p in prefixes.split()} - {None}
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            continue
        if etree.QName(element).namespace in ignorable and element.getparent() is not None:
            element.getparent().remove(element)
            continue
        for name in list(element.attrib):
            namespace = etree.QName(name).namespace
            if namespace == MC or namespace in ignorable:
                del element.attrib[name]


XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def _xml_space_on_text(root: etree._Element) -> None:
    """SpreadsheetML's <t> is a simple type in the schemas, yet Excel itself writes
    `<t xml:space="preserve">` for text with spaces at its ends, and the Open XML SDK accepts
    it: the attribute is left out of the schema check (openxml-audit still sees it)."""
    for text in root.iter(f"{{{SML}}}t"):
        if text.attrib.pop(XML_SPACE, "preserve") != "preserve":
            raise ValueError(f"xml:space on <t> is only ever 'preserve', line {text.sourceline}")


def _short(message: str) -> str:
    return re.sub(r"\{[^}]*\}", "", message)


def schema_errors(path: Path) -> list[str]:
    """Schema violations of every known part, as 'part:line: message'."""
    errors: list[str] = []
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            if not name.endswith((".xml", ".rels")):
                continue
            root = etree.fromstring(package.read(name))
            schema_path = SCHEMA_OF_NAMESPACE.get(etree.QName(root).namespace or "")
            if schema_path is None:
                continue
            _markup_compatibility(root)
            _xml_space_on_text(root)
            schema = _schema(schema_path)
            if not schema.validate(root):
                errors += [f"{name}:{e.line}: {_short(e.message)}" for e in schema.error_log]
    return errors


def audit_errors(path: Path) -> list[str]:
    """Errors reported by openxml-audit (the Open XML SDK's checks, in Python)."""
    from openxml_audit import OpenXmlValidator

    result = OpenXmlValidator(max_errors=50).validate(str(path))
    return [str(error) for error in result.errors]


def problems(path: Path) -> list[str]:
    """Both checks together: an empty list means Word/Excel open the file without repair."""
    return schema_errors(path) + audit_errors(path)
