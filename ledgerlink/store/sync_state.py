"""sync_state and trigger_fired: per-record memory of the linked-update handoffs.

`SyncStates` answers "did the values we would write change?" (skip if not) and "which records must
be looked at again today although nothing changed?". `Triggers.fire_once` inserts under a primary
key, so a trigger fires once per record however many runs (or concurrent runs) see the condition.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Iterable

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ledgerlink.store.links import chunks
from ledgerlink.store.tables import SyncState, TriggerFired, utcnow
from ledgerlink.store.upsert import insert_missing, upsert

if TYPE_CHECKING:
    from ledgerlink.store.repository import Store


class SyncStates:
    def __init__(self, store: "Store"):
        self._store = store

    def for_records(self, tenant: str, handoff: str, record_ids: Iterable[str]) -> dict[str, SyncState]:
        found: dict[str, SyncState] = {}
        with self._store.session() as session:
            for part in chunks(sorted(set(record_ids))):
                query = select(SyncState).where(SyncState.tenant == tenant, SyncState.handoff == handoff,
                                                col(SyncState.record_id).in_(part))
                found.update({row.record_id: row for row in session.exec(query)})
        return found

    def save(self, tenant: str, handoff: str, rows: list[dict]) -> None:
        """rows: record_id, target_id, checksum, values (JSON-safe), revisit_on (date | None)."""
        now = utcnow()
        values = [{"tenant": tenant, "handoff": handoff, "record_id": r["record_id"], "target_id": r.get("target_id"),
                   "checksum": r["checksum"], "values": r.get("values"), "revisit_on": r.get("revisit_on"),
                   "updated_at": now} for r in rows]
        with self._store.session() as session:
            for part in chunks(values):
                upsert(session, SyncState.__table__, part, ["tenant", "handoff", "record_id"],
                       ["target_id", "checksum", "values", "revisit_on", "updated_at"])

    def other_than(self, tenant: str, handoff: str, checksum: str, limit: int = 5_000) -> list[str]:
        """Records remembered under another checksum (e.g. skipped under an older scope)."""
        with self._store.session() as session:
            query = (select(SyncState.record_id)
                     .where(SyncState.tenant == tenant, SyncState.handoff == handoff, SyncState.checksum != checksum)
                     .order_by(SyncState.record_id).limit(limit))
            return list(session.exec(query))

    def forget(self, tenant: str, handoff: str, record_ids: Iterable[str]) -> None:
        with self._store.session() as session:
            for part in chunks(sorted(set(record_ids))):
                session.execute(delete(SyncState).where(SyncState.tenant == tenant, SyncState.handoff == handoff,
                                                        col(SyncState.record_id).in_(part)))

    def due(self, tenant: str, handoff: str, today: date, limit: int = 5_000) -> list[str]:
        with self._store.session() as session:
            query = (select(SyncState.record_id)
                     .where(SyncState.tenant == tenant, SyncState.handoff == handoff,
                            SyncState.revisit_on != None, SyncState.revisit_on <= today)  # noqa: E711
                     .order_by(SyncState.revisit_on).limit(limit))
            return list(session.exec(query))


class Triggers:
    def __init__(self, store: "Store"):
        self._store = store

    def fire_once(self, tenant: str, handoff: str, trigger: str, record_id: str, run_id: str | None) -> bool:
        """True the first time only; every later call (any run, any process) gets False. Never
        raises on a repeat, so it can share a transaction with the firing's audit event."""
        row = {"tenant": tenant, "handoff": handoff, "trigger": trigger, "record_id": record_id,
               "fired_at": utcnow(), "run_id": run_id}
        with self._store.session() as session:
            return bool(insert_missing(session, TriggerFired.__table__, [row],
                                       ["tenant", "handoff", "trigger", "record_id"], "record_id"))

    def has_fired(self, tenant: str, handoff: str, trigger: str, record_id: str) -> bool:
        with self._store.session() as session:
            return session.get(TriggerFired, (tenant, handoff, trigger, record_id)) is not None

    def fired(self, tenant: str, handoff: str, trigger: str) -> list[str]:
        with self._store.session() as session:
            query = select(TriggerFired.record_id).where(TriggerFired.tenant == tenant, TriggerFired.handoff == handoff,
                                                         TriggerFired.trigger == trigger)
            return list(session.exec(query))
