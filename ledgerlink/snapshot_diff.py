"""`ledgerlink snapshot diff A B`: what changed between two snapshots, per object type and id.

After a go-live rehearsal (or a first real run) finance asks "what exactly did ledgerlink change?".
Two snapshots answer it record by record: added, removed, and changed with each field's before
and after. Memory stays bounded by the number of ids, not the size of the records: a first pass
keeps a 16-byte digest per id, and only the records that differ are read again in full.
Personal fields are masked in what is printed (POPIA), unless the person asks to see them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledgerlink.privacy import PERSONAL_KEYS, mask_emails, mask_value
from ledgerlink.snapshot_files import OBJECTS, SnapshotError, read_manifest, records, verify

MAX_SHOWN = 120  # characters of one value in the output


@dataclass
class Change:
    id: str
    fields: list[tuple[str, Any, Any]]  # (field, before, after)


@dataclass
class TypeDiff:
    name: str  # the file, e.g. deals.jsonl
    object_type: str
    count_a: int
    count_b: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    personal: frozenset[str] = frozenset()

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass
class SnapshotDiff:
    a: Path
    b: Path
    manifest_a: dict[str, Any]
    manifest_b: dict[str, Any]
    types: list[TypeDiff]

    @property
    def different(self) -> bool:
        return any(not t.identical for t in self.types)


def compare(a: Path, b: Path) -> SnapshotDiff:
    """Both snapshots checked against their manifests (and each other) before anything is compared."""
    manifest_a, manifest_b = read_manifest(a), read_manifest(b)
    _check_comparable(manifest_a, manifest_b)
    verify(a, manifest_a)
    verify(b, manifest_b)
    order = {f"{name}.jsonl": position for position, name in enumerate(OBJECTS)}
    names = sorted(manifest_a["files"], key=lambda n: (order.get(n, len(order)), n))
    return SnapshotDiff(a, b, manifest_a, manifest_b,
                        [_diff_file(a, b, name, manifest_a["files"][name], manifest_b["files"][name])
                         for name in names])


def _check_comparable(first: dict[str, Any], second: dict[str, Any]) -> None:
    if first.get("tenant") != second.get("tenant"):
        raise SnapshotError(f"the snapshots are of different tenants ({first.get('tenant')}, {second.get('tenant')})")
    if first.get("systems") != second.get("systems"):
        raise SnapshotError(f"the snapshots are of different systems ({_systems(first)}; {_systems(second)})")
    if set(first["files"]) != set(second["files"]):
        raise SnapshotError("the snapshots list different files ("
                            f"{', '.join(sorted(set(first['files']) ^ set(second['files'])))})")


def _systems(manifest: dict[str, Any]) -> str:
    systems = manifest.get("systems") or {}
    return f"{systems.get('crm')} + {systems.get('accounting')}"


def flat(record: dict[str, Any]) -> dict[str, Any]:
    """A record as field -> value: CRM properties by their own names, nested objects dotted."""
    out: dict[str, Any] = {}

    def put(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                put(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            out[prefix] = value

    for key, value in record.items():
        if key == "properties" and isinstance(value, dict):
            put("", value)
        elif key != "id":
            put(key, value)
    return out


def _digest(record: dict[str, Any]) -> bytes:
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _digests(folder: Path, name: str) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for record in records(folder, name):
        record_id = str(record["id"])
        if record_id in found:
            raise SnapshotError(f"{folder / name} holds id {record_id} twice")
        found[record_id] = _digest(record)
    return found


def _diff_file(a: Path, b: Path, name: str, entry_a: dict, entry_b: dict) -> TypeDiff:
    before = _digests(a, name)
    after = _digests(b, name)
    personal = frozenset([*(entry_a.get("personal_fields") or []), *(entry_b.get("personal_fields") or [])])
    result = TypeDiff(name, entry_a.get("object", name.removesuffix(".jsonl")), len(before), len(after),
                      personal=personal)
    result.added = sorted((i for i in after if i not in before), key=_id_order)
    result.removed = sorted((i for i in before if i not in after), key=_id_order)
    changed = {i for i, digest in after.items() if i in before and before[i] != digest}
    if changed:
        old = {str(r["id"]): flat(r) for r in records(a, name) if str(r["id"]) in changed}
        new = {str(r["id"]): flat(r) for r in records(b, name) if str(r["id"]) in changed}
        for record_id in sorted(changed, key=_id_order):
            first, second = old[record_id], new[record_id]
            fields = [(key, first.get(key), second.get(key)) for key in sorted(set(first) | set(second))
                      if first.get(key) != second.get(key)]
            result.changed.append(Change(record_id, fields))
    return result


def _id_order(identifier: str) -> tuple[int, int, str]:
    return (0, int(identifier), "") if identifier.isdigit() else (1, 0, identifier)


# -- output ------------------------------------------------------------------------------------
def is_personal(field_name: str, personal: frozenset[str]) -> bool:
    return field_name in personal or field_name.rsplit(".", 1)[-1].lower() in PERSONAL_KEYS


def shown(value: Any, personal: bool, show_personal: bool) -> str:
    """One value as the diff prints it: JSON, personal data masked, long text cut."""
    if value is None:
        return "null"
    if personal and not show_personal:
        text = json.dumps(mask_value(value), ensure_ascii=False)
    else:
        text = json.dumps(value, ensure_ascii=False)
        text = text if show_personal else mask_emails(text)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 1] + "…"


def render(diff: SnapshotDiff, show_personal: bool = False) -> list[str]:
    systems = _systems(diff.manifest_a)
    lines = [f"snapshot diff for tenant {diff.manifest_a.get('tenant')} ({systems})",
             f"  A: {diff.a}  (taken {diff.manifest_a.get('started_at')})",
             f"  B: {diff.b}  (taken {diff.manifest_b.get('started_at')})"]
    masked = False
    for part in diff.types:
        summary = ", ".join(f"{len(items)} {word}" for items, word in
                            ((part.added, "added"), (part.removed, "removed"), (part.changed, "changed")) if items)
        lines.append(f"{part.object_type:<13} {part.count_a:>7} → {part.count_b:<7} {summary or 'identical'}")
        lines += [f"  + {record_id}" for record_id in part.added]
        lines += [f"  - {record_id}" for record_id in part.removed]
        for change in part.changed:
            shown_fields = []
            for name, old, new in change.fields:
                personal = is_personal(name, part.personal)
                masked = masked or (personal and not show_personal)
                before, after = shown(old, personal, show_personal), shown(new, personal, show_personal)
                shown_fields.append(f"{name} {before} → {after}")
            lines.append(f"  ~ {change.id}: " + "; ".join(shown_fields))
    totals = [sum(len(getattr(t, kind)) for t in diff.types) for kind in ("added", "removed", "changed")]
    verdict = "different" if diff.different else "identical"
    lines.append(f"{verdict}: {totals[0]} added, {totals[1]} removed, {totals[2]} changed"
                 + (" (personal fields masked; --show-personal shows them)" if masked else ""))
    return lines
