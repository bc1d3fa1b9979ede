"""Where a value sits in a YAML file, so an error can say `file:line` and not only the field.

PyYAML's composer keeps a start mark on every node; this module loads a document together with its
node tree and walks that tree along a field path (as pydantic reports it: keys and list indexes).
A path that stops early (a missing key) gives the line of the deepest key that does exist — the
mapping the missing key belongs in — which is where a person has to add it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import yaml

# libyaml's parser when PyYAML was built with it (the wheels are): the same documents, marks and
# errors, about ten times faster — every run reads its specs, suites and tenants file.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load_yaml(text: str) -> Any:
    """`yaml.safe_load`, on libyaml's parser where there is one."""
    return yaml.load(text, Loader=SAFE_LOADER)


def load_located(text: str) -> tuple[Any, yaml.Node | None]:
    """The document's data (as `yaml.safe_load` builds it) and the node tree it was built from."""
    loader = SAFE_LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node


def _child(node: yaml.Node, part: Any) -> tuple[yaml.Node, yaml.Node] | None:
    """(the node that names `part`, the value node), or None when `part` is not there."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part], node.value[part]
    return None


def child(node: yaml.Node | None, part: Any) -> yaml.Node | None:
    """The value node under `node` at key or index `part`, or None when it is not there."""
    found = _child(node, part) if node is not None else None
    return found[1] if found else None


def line_of(node: yaml.Node | None, path: Sequence[Any]) -> int | None:
    """1-based line of the deepest key of `path` present under `node` (the node's own line if none is)."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in path:
        found = _child(node, part)
        if found is None:
            break
        key, node = found
        line = key.start_mark.line + 1
    return line


class SpecOverrides(dict):
    """A tenant's overrides of one handoff spec, remembering the file and node they were read from,
    so a bad override is reported at its own line in the tenants file."""

    def __init__(self, values: dict, *, source: Path | None = None, node: yaml.Node | None = None,
                 tenant: str | None = None, handoff: str | None = None):
        super().__init__(values)
        self.source, self.node, self.tenant, self.handoff = source, node, tenant, handoff
