"""A small reader of Intuit's QuickBooks Online XSDs, for checking JSON against them.

Intuit publishes no OpenAPI document for QBO, only the XSDs of its Java SDK; QBO's JSON uses the
XSD names exactly (elements and attributes alike become keys, and a simple-content type such as
`ReferenceType` becomes `{"value": ..., "name": ...}`). So the contract tests read the XSDs with
`xml.etree` and check every key of every object against the complex type it belongs to, including
the fields a type inherits through `xs:extension`, recursively; an unknown key, a wrong scalar kind
(a decimal sent as a string) or a value outside an enumeration is reported with its JSON path.

Only what the QBO XSDs use is supported: sequences, choices, groups, element refs with the
`IntuitObject` substitution group, complex/simple content extensions, enumerations.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

XS = "{http://www.w3.org/2001/XMLSchema}"
FILES = ("IntuitBaseTypes.xsd", "IntuitNamesTypes.xsd", "Finance.xsd", "IntuitRestServiceDef.xsd")
_NUMBER = {"decimal", "double", "float"}
_INTEGER = {"int", "integer", "long", "short", "positiveInteger", "nonNegativeInteger", "byte"}


@dataclass
class ComplexType:
    name: str
    fields: dict[str, str] = field(default_factory=dict)  # JSON key -> type name
    base: str | None = None
    simple_content: bool = False
    open_content: bool = False  # xs:any: anything goes below here


class Schema:
    """All complex and simple types of the QBO XSDs in one folder."""

    def __init__(self, folder: Path) -> None:
        self.types: dict[str, ComplexType] = {}
        self.enums: dict[str, set[str]] = {}
        self.simple_base: dict[str, str] = {}
        self.elements: dict[str, str] = {}  # top-level element -> type
        self.substitutes: dict[str, list[str]] = {}  # head element -> member elements
        self.groups: dict[str, ET.Element] = {}
        roots = [ET.parse(folder / name).getroot() for name in FILES]
        for root in roots:
            for node in root.findall(f"{XS}group"):
                self.groups[node.get("name")] = node
            for node in root.findall(f"{XS}element"):
                self.elements[node.get("name")] = _local(node.get("type") or node.get("name"))
                head = node.get("substitutionGroup")
                if head:
                    self.substitutes.setdefault(_local(head), []).append(node.get("name"))
            for node in root.findall(f"{XS}simpleType"):
                self._simple(node)
        for root in roots:
            for node in root.findall(f"{XS}complexType"):
                self._complex(node)

    # -- reading ------------------------------------------------------------------------------
    def _simple(self, node: ET.Element) -> None:
        restriction = node.find(f"{XS}restriction")
        if restriction is None:
            return
        self.simple_base[node.get("name")] = _local(restriction.get("base"))
        values = {e.get("value") for e in restriction.findall(f"{XS}enumeration")}
        if values:
            self.enums[node.get("name")] = values

    def _complex(self, node: ET.Element) -> None:
        kind = ComplexType(node.get("name"))
        self.types[kind.name] = kind
        body = node
        for content in (f"{XS}complexContent", f"{XS}simpleContent"):
            holder = node.find(content)
            if holder is None:
                continue
            extension = holder.find(f"{XS}extension")
            if extension is None:
                extension = holder.find(f"{XS}restriction")
            body = extension
            if content.endswith("simpleContent"):
                kind.simple_content = True
                kind.fields["value"] = _local(extension.get("base"))
            else:
                kind.base = _local(extension.get("base"))
        self._collect(body, kind)

    def _collect(self, node: ET.Element, kind: ComplexType) -> None:
        for child in node:
            tag = child.tag.removeprefix(XS)
            if tag in ("sequence", "choice", "all"):
                self._collect(child, kind)
            elif tag == "group":
                self._collect(self.groups[_local(child.get("ref"))], kind)
            elif tag == "any":
                kind.open_content = True
            elif tag == "attribute":
                kind.fields[child.get("name")] = _local(child.get("type") or "string")
            elif tag == "element":
                ref = child.get("ref")
                if ref is None:
                    kind.fields[child.get("name")] = _local(child.get("type") or "string")
                    continue
                ref = _local(ref)
                for member in self.substitutes.get(ref, [ref]):
                    kind.fields[member] = self.elements[member]

    # -- questions ----------------------------------------------------------------------------
    def fields(self, type_name: str) -> dict[str, str]:
        """Every key an object of this type may carry, inherited ones included."""
        kind = self.types[type_name]
        inherited = self.fields(kind.base) if kind.base in self.types else {}
        return {**inherited, **kind.fields}

    def _open(self, type_name: str) -> bool:
        kind = self.types.get(type_name)
        while kind is not None:
            if kind.open_content:
                return True
            kind = self.types.get(kind.base or "")
        return False

    def validate(self, value: Any, type_name: str, path: str = "$") -> list[str]:
        """Problems of `value` as a JSON rendering of `type_name` (an empty list: it conforms)."""
        if isinstance(value, list):
            return [p for n, item in enumerate(value) for p in self.validate(item, type_name,
                                                                             f"{path}[{n}]")]
        if type_name in self.types:
            if not isinstance(value, dict):
                return [f"{path}: {type_name} must be an object, got {type(value).__name__}"]
            if self._open(type_name):
                return []
            allowed = self.fields(type_name)
            problems = []
            for key, item in value.items():
                if key not in allowed:
                    problems.append(f"{path}.{key}: not a field of {type_name}")
                else:
                    problems += self.validate(item, allowed[key], f"{path}.{key}")
            return problems
        return self._scalar(value, type_name, path)

    def _scalar(self, value: Any, type_name: str, path: str) -> list[str]:
        if isinstance(value, (dict, list)):
            return [f"{path}: {type_name} is a simple value, got {type(value).__name__}"]
        if type_name in self.enums and value not in self.enums[type_name]:
            return [f"{path}: {value!r} is not one of {type_name}'s values"]
        base = type_name
        while base in self.simple_base:
            base = self.simple_base[base]
        if base == "boolean" and not isinstance(value, bool):
            return [f"{path}: boolean expected, got {value!r}"]
        if base in _NUMBER and (isinstance(value, bool) or not isinstance(value, (int, Decimal))):
            return [f"{path}: number expected, got {value!r}"]
        if base in _INTEGER and (isinstance(value, bool) or not isinstance(value, int)):
            return [f"{path}: integer expected, got {value!r}"]
        if base in ("string", "dateTime", "date", "id") and not isinstance(value, str):
            return [f"{path}: string expected, got {value!r}"]
        return []


def _local(name: str | None) -> str:
    return (name or "").split(":")[-1]
