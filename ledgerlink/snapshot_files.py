"""A snapshot on disk: one JSONL file per object type plus `manifest.json`, owner-only.

A snapshot is the backup a business keeps before go-live, so it holds personal data by necessity:
the folder is created 0700 and every file 0600 before a byte is written, and the snapshot is
written into a hidden `.partial` folder that is renamed only once complete — a folder without
`.partial` always has a manifest whose counts and SHA-256 hashes match its files. Records are
written as canonical JSON (sorted keys, Decimals as exact strings, dates ISO 8601), so the same
record always gives the same line and two snapshots compare line by line.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import fields, is_dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, BinaryIO

FORMAT = "ledgerlink-snapshot/1"
MANIFEST = "manifest.json"
# object type -> the side it comes from, in the order a snapshot is written and a diff is shown
OBJECTS = {"companies": "crm", "deals": "crm", "line_items": "crm", "contacts": "accounting",
           "invoices": "accounting", "payments": "accounting", "credit_notes": "accounting"}
FOLDER_MODE = 0o700
FILE_MODE = 0o600


class SnapshotError(ValueError):
    """A snapshot folder that cannot be used (missing, incomplete, damaged); one readable line."""


def file_name(object_type: str) -> str:
    return f"{object_type}.jsonl"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def default_folder(snapshots: Path, tenant: str, moment: datetime) -> Path:
    """`<snapshots>/<tenant>-<UTC timestamp>`, sortable by name as by time; a second snapshot
    within the same second gets `-2`, `-3`, … rather than failing."""
    base = f"{tenant}-{moment.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
    folder, number = snapshots / base, 1
    while folder.exists() or (snapshots / f".{folder.name}.partial").exists():
        number += 1
        folder = snapshots / f"{base}-{number}"
    return folder


def private_dir(path: Path) -> Path:
    """Make (or tighten) a folder only its owner may enter: chmod, because mkdir obeys the umask."""
    path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    os.chmod(path, FOLDER_MODE)
    return path


def jsonable(value: Any) -> Any:
    """Canonical records as JSON values: money stays exact text, never a float."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):  # e.g. the fields a vendor does not disclose
        return sorted(jsonable(v) for v in value)
    if isinstance(value, float):  # never from ledgerlink's JSON (it parses to Decimal); kept exact as text
        return format(Decimal(repr(value)), "f")
    return value


def canonical_line(record: Any) -> bytes:
    return json.dumps(jsonable(record), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


class _Output:
    """One JSONL file being written: its count and running SHA-256."""

    def __init__(self, path: Path) -> None:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        os.fchmod(descriptor, FILE_MODE)
        self.file: BinaryIO = os.fdopen(descriptor, "wb")
        self.count = 0
        self.sha = hashlib.sha256()

    def write(self, line: bytes) -> None:
        self.file.write(line)
        self.sha.update(line)
        self.count += 1


class SnapshotWriter:
    """Writes a snapshot into `<folder>.partial`, page by page, and publishes it on `finish`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        if folder.exists():
            raise SnapshotError(f"{folder} already exists; a snapshot never overwrites one")
        folder.parent.mkdir(parents=True, exist_ok=True)
        self.partial = folder.parent / f".{folder.name}.partial"
        if self.partial.exists():
            shutil.rmtree(self.partial)  # left by a snapshot that died; never published
        private_dir(self.partial)
        self.outputs = {name: _Output(self.partial / file_name(name)) for name in OBJECTS}

    def write(self, object_type: str, records: Iterable[Any]) -> int:
        output = self.outputs[object_type]
        before = output.count
        for record in records:
            output.write(canonical_line(record))
        return output.count - before

    def counts(self) -> dict[str, int]:
        return {name: output.count for name, output in self.outputs.items()}

    def finish(self, manifest: dict[str, Any], file_details: dict[str, dict[str, Any]]) -> Path:
        """Close the files, write the manifest (counts and hashes), then rename into place."""
        files = {}
        for name, output in self.outputs.items():
            output.file.close()
            files[file_name(name)] = {"object": name, "side": OBJECTS[name], "count": output.count,
                                      "sha256": output.sha.hexdigest(), **file_details.get(name, {})}
        descriptor = os.open(self.partial / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        os.fchmod(descriptor, FILE_MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump({"format": FORMAT, **manifest, "files": files}, handle, indent=2, sort_keys=False)
            handle.write("\n")
        os.rename(self.partial, self.folder)
        return self.folder

    def abort(self) -> None:
        """A failed snapshot is useless and holds personal data: remove it."""
        for output in self.outputs.values():
            output.file.close()
        shutil.rmtree(self.partial, ignore_errors=True)


# -- reading ---------------------------------------------------------------------------------------
def resolve(name: str, snapshots: Path) -> Path:
    """A snapshot given as a path, or as a name under the snapshots folder."""
    for candidate in (Path(name), snapshots / name):
        if candidate.is_dir():
            return candidate
    raise SnapshotError(f"no snapshot {name!r} (not a folder here nor in {snapshots})")


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise SnapshotError(f"{folder} is not a snapshot: it has no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise SnapshotError(f"{path} is not valid JSON ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SnapshotError(f"{path}: format is not {FORMAT}")
    if not isinstance(manifest.get("files"), dict):
        raise SnapshotError(f"{path}: no files listed")
    return manifest


def verify(folder: Path, manifest: dict[str, Any]) -> None:
    """Every listed file is there with the hash and count the manifest promises."""
    for name, entry in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            raise SnapshotError(f"{path} is missing (listed in {MANIFEST})")
        sha, count = hashlib.sha256(), 0
        with path.open("rb") as handle:
            for line in handle:
                sha.update(line)
                count += 1
        if sha.hexdigest() != entry.get("sha256") or count != entry.get("count"):
            raise SnapshotError(f"{path} does not match its manifest hash or count (changed or damaged)")


def records(folder: Path, name: str) -> Iterator[dict[str, Any]]:
    """The records of one file, one at a time (a snapshot may be larger than memory)."""
    with (folder / name).open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                record = json.loads(line)
            except ValueError:
                raise SnapshotError(f"{folder / name}:{number} is not valid JSON") from None
            if not isinstance(record, dict) or "id" not in record:
                raise SnapshotError(f"{folder / name}:{number} is not a record with an id")
            yield record
