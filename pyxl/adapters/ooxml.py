"""Check an Office Open XML package (.docx, .xlsx) against the ISO/IEC 29500 schemas.

Every XML part whose root namespace has a transitional schema (ISO/IEC 29500-4, shipped in
`ooxml_schemas/`) is validated with lxml after Markup Compatibility processing (ignorable
namespaces dropped, `mc:AlternateContent` replaced by its fallback), as Office does before
reading. `pyxl templates check` runs it on what staff saved; the tests run it on every file
pyxl writes.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from pathlib import Path

from lxml import etree

SCHEMAS = Path(__file__).parent / "ooxml_schemas"
ISO = SCHEMAS / "ISO-IEC29500-4_2016"
OPC = SCHEMAS / "ecma" / "fouth-edition"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_OOXML = "http://schemas.openxmlformats.org"

# Root namespace of a part -> the schema file that defines it.
SCHEMA_OF_NAMESPACE = {
    f"{_OOXML}/spreadsheetml/2006/main": ISO / "sml.xsd",
    f"{_OOXML}/wordprocessingml/2006/main": ISO / "wml.xsd",
    f"{_OOXML}/drawingml/2006/chart": ISO / "dml-chart.xsd",
    f"{_OOXML}/drawingml/2006/spreadsheetDrawing": ISO / "dml-spreadsheetDrawing.xsd",
    f"{_OOXML}/drawingml/2006/main": ISO / "dml-main.xsd",
    f"{_OOXML}/officeDocument/2006/extended-properties": (
        ISO / "shared-documentPropertiesExtended.xsd"
    ),
    f"{_OOXML}/officeDocument/2006/custom-properties": ISO / "shared-documentPropertiesCustom.xsd",
    f"{_OOXML}/package/2006/content-types": OPC / "opc-contentTypes.xsd",
    f"{_OOXML}/package/2006/relationships": OPC / "opc-relationships.xsd",
    f"{_OOXML}/package/2006/metadata/core-properties": OPC / "opc-coreProperties.xsd",
}

# Remote schemaLocations in the XSDs, served from the local copies (never the network).
_LOCAL = {
    "http://dublincore.org/schemas/xmls/qdc/2003/04/02/dc.xsd": SCHEMAS / "local" / "dc-stub.xsd",
    "http://dublincore.org/schemas/xmls/qdc/2003/04/02/dcterms.xsd": (
        SCHEMAS / "local" / "dcterms-stub.xsd"
    ),
    "http://www.w3.org/2001/03/xml.xsd": ISO / "xml.xsd",
}


class _LocalSchemas(etree.Resolver):
    def resolve(self, url, pubid, context):  # type: ignore[no-untyped-def, override]
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
    parser = etree.XMLParser(no_network=True)
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
    it: the attribute is left out of the schema check."""
    for text in root.iter(f"{{{SML}}}t"):
        if text.attrib.pop(XML_SPACE, "preserve") != "preserve":
            raise ValueError(f"xml:space on <t> is only ever 'preserve', line {text.sourceline}")


def _short(message: str) -> str:
    return re.sub(r"\{[^}]*\}", "", message)


def schema_errors(package: Path | bytes) -> list[str]:
    """Schema violations of every known part, as 'part:line: message'."""
    errors: list[str] = []
    data = package if isinstance(package, bytes) else Path(package).read_bytes()
    safe = etree.XMLParser(resolve_entities=False, no_network=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if not name.endswith((".xml", ".rels")):
                continue
            root = etree.fromstring(archive.read(name), safe)
            schema_path = SCHEMA_OF_NAMESPACE.get(etree.QName(root).namespace or "")
            if schema_path is None:
                continue
            _markup_compatibility(root)
            _xml_space_on_text(root)
            schema = _schema(schema_path)
            if not schema.validate(root):
                errors += [f"{name}:{e.line}: {_short(e.message)}" for e in schema.error_log]
    return errors
