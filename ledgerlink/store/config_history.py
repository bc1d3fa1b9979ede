"""config_version: every configuration version a tenant has used or checked, with its content.

A handoff's versions (ledgerlink.config_versions.ConfigVersions) are kept as one row per part
(spec, suite, mapping) plus one `handoff` row for the combined id that runs, audit events and write
intents record — its content lists the parts, so a recorded id leads back to the files' contents.
`first_used_at` is set by the first run that uses a version, `checked_at` by `config check`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import tuple_
from sqlmodel import col, func, select

from ledgerlink.store.tables import ConfigVersion, utcnow
from ledgerlink.store.upsert import upsert

if TYPE_CHECKING:
    from ledgerlink.config_versions import ConfigPart, ConfigVersions
    from ledgerlink.store.repository import Store

HANDOFF = "handoff"  # kind of the row that holds a handoff's combined version


def _rows(versions: "ConfigVersions") -> list[dict]:
    combined = {"tenant": versions.tenant, "kind": HANDOFF, "name": versions.handoff, "hash": versions.id,
                "content": json.dumps(versions.as_dict(), indent=2, sort_keys=True)}
    return [combined, *({"tenant": versions.tenant, "kind": part.kind, "name": part.name, "hash": part.hash,
                         "content": part.content} for part in versions.parts)]


def _keys(rows: list[dict]):
    return tuple_(ConfigVersion.kind, ConfigVersion.name, ConfigVersion.hash).in_(
        [(row["kind"], row["name"], row["hash"]) for row in rows])


class ConfigHistory:
    def __init__(self, store: "Store"):
        self._store = store

    def record_use(self, versions: "ConfigVersions") -> None:
        """A run is about to use these versions: keep any not seen yet, and when each was first used."""
        self._stamp(versions, {"first_used_at": utcnow()}, only_if_unset="first_used_at")

    def record_check(self, versions: "ConfigVersions", summary: dict) -> None:
        """`config check` passed these versions (validated, and its dry run completed)."""
        self._stamp(versions, {"checked_at": utcnow(), "check_summary": summary})

    def _stamp(self, versions: "ConfigVersions", values: dict, only_if_unset: str | None = None) -> None:
        rows = _rows(versions)
        table = ConfigVersion.__table__
        with self._store.session() as session:
            upsert(session, table, rows, ["tenant", "kind", "name", "hash"], [])
            query = table.update().where(table.c.tenant == versions.tenant, _keys(rows))
            if only_if_unset:
                query = query.where(table.c[only_if_unset].is_(None))
            session.execute(query.values(**values))

    def is_checked(self, versions: "ConfigVersions") -> bool:
        """Has `config check` passed this combination of versions?"""
        row = self.get(versions.tenant, HANDOFF, versions.handoff, versions.id)
        return row is not None and row.checked_at is not None

    def unchecked_parts(self, versions: "ConfigVersions") -> list["ConfigPart"]:
        """The parts no `config check` has passed (in any combination)."""
        with self._store.session() as session:
            checked = set(session.exec(
                select(ConfigVersion.kind, ConfigVersion.name, ConfigVersion.hash).where(
                    ConfigVersion.tenant == versions.tenant, col(ConfigVersion.checked_at).is_not(None),
                    _keys(_rows(versions)))))
        return [part for part in versions.parts if (part.kind, part.name, part.hash) not in checked]

    def get(self, tenant: str, kind: str, name: str, digest: str) -> ConfigVersion | None:
        with self._store.session() as session:
            return session.exec(select(ConfigVersion).where(
                ConfigVersion.tenant == tenant, ConfigVersion.kind == kind, ConfigVersion.name == name,
                ConfigVersion.hash == digest)).first()

    def handoff_versions(self, tenant: str | None = None, handoff: str | None = None) -> list[ConfigVersion]:
        """Combined versions, newest first (by when first used, or checked when never used yet)."""
        newest = func.coalesce(ConfigVersion.first_used_at, ConfigVersion.checked_at)
        with self._store.session() as session:
            query = select(ConfigVersion).where(ConfigVersion.kind == HANDOFF)
            if tenant:
                query = query.where(ConfigVersion.tenant == tenant)
            if handoff:
                query = query.where(ConfigVersion.name == handoff)
            query = query.order_by(ConfigVersion.tenant, ConfigVersion.name, newest.desc(), ConfigVersion.id.desc())
            return list(session.exec(query))

    def parts_of(self, row: ConfigVersion) -> list[ConfigVersion]:
        """The part rows a combined (`handoff`) row lists."""
        wanted = [(kind, name, digest) for kind, names in json.loads(row.content).items()
                  for name, digest in names.items()]
        if not wanted:
            return []
        with self._store.session() as session:
            found = session.exec(select(ConfigVersion).where(
                ConfigVersion.tenant == row.tenant,
                tuple_(ConfigVersion.kind, ConfigVersion.name, ConfigVersion.hash).in_(wanted)))
            by_key = {(r.kind, r.name, r.hash): r for r in found}
        return [by_key[key] for key in wanted if key in by_key]
