"""write_intent: the protocol that lets a create be retried after any crash without doubling it.

1. `claim` writes a PENDING row per record BEFORE the call (one row per record: the unique
   constraint is also what stops two concurrent runs from sending the same record).
2. `mark_sent` just before the request, `settle` with the vendor's per-item answer afterwards.
3. Rows left PENDING / SENT / UNCERTAIN by a crash are `unsettled`: the next run looks them up at
   the vendor by their deterministic reference and settles them — it never blindly re-sends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from sqlalchemy import and_, bindparam
from sqlmodel import col, select

from ledgerlink.store.links import chunks
from ledgerlink.store.tables import IntentStatus, WriteIntent, utcnow
from ledgerlink.store.upsert import insert_missing

if TYPE_CHECKING:
    from ledgerlink.store.repository import Store

UNSETTLED = (IntentStatus.PENDING.value, IntentStatus.SENT.value, IntentStatus.UNCERTAIN.value)


class WriteIntents:
    def __init__(self, store: "Store"):
        self._store = store

    def claim(
        self,
        tenant: str,
        handoff: str,
        object_type: str,
        items: dict[str, str],
        idempotency_key: str,
        run_id: str | None,
    ) -> list[str]:
        """Claim {record_key: request_hash} for one request; returns the keys this call may send.

        New records and earlier FAILED ones are claimed; CONFIRMED and unsettled ones are not. A
        key is claimed by the statement that inserts its row or moves it from FAILED, so of two
        runs claiming the same records at once (even with the same idempotency key, as two runs
        building the same batch do) exactly one gets each.
        """
        if not items:
            return []
        now = utcnow()
        keys = sorted(items)
        rows = [
            {
                "tenant": tenant, "handoff": handoff, "object_type": object_type, "record_key": key,
                "idempotency_key": idempotency_key, "request_hash": items[key],
                "status": IntentStatus.PENDING.value, "attempts": 1, "run_id": run_id,
                "config_version": self._store.config_version, "created_at": now, "updated_at": now,
            }
            for key in keys
        ]
        table = WriteIntent.__table__
        claimed: list[str] = []
        with self._store.session() as session:
            for part in chunks(rows):  # new records: the insert that wins the key claims it
                claimed += insert_missing(session, table, part, ["tenant", "object_type", "record_key"], "record_key")
            for part in chunks(keys):  # failed ones: the update that moves them back to pending claims them
                claimed += [row[0] for row in session.execute(
                    table.update()
                    .where(
                        table.c.tenant == tenant,
                        table.c.object_type == object_type,
                        table.c.status == IntentStatus.FAILED.value,
                        table.c.record_key.in_(part),
                    )
                    .values(
                        status=IntentStatus.PENDING.value, idempotency_key=idempotency_key,
                        attempts=table.c.attempts + 1, run_id=run_id, detail=None, updated_at=now,
                        config_version=self._store.config_version,
                    )
                    .returning(table.c.record_key)
                )]
        return sorted(claimed)

    def mark(self, tenant: str, object_type: str, keys: Iterable[str], status: IntentStatus,
             detail: str | None = None) -> None:
        table = WriteIntent.__table__
        with self._store.session() as session:
            for part in chunks(sorted(set(keys))):
                session.execute(
                    table.update()
                    .where(table.c.tenant == tenant, table.c.object_type == object_type,
                           table.c.record_key.in_(part))
                    .values(status=status.value, detail=detail, updated_at=utcnow())
                )

    def settle(self, tenant: str, object_type: str, outcomes: list[dict]) -> None:
        """outcomes: {record_key, status (IntentStatus), target_id?, detail?} per record."""
        if not outcomes:
            return
        table = WriteIntent.__table__
        now = utcnow()
        update = (table.update()  # one statement, executed for every outcome (a batch is one round trip)
                  .where(and_(table.c.tenant == tenant, table.c.object_type == object_type,
                              table.c.record_key == bindparam("key")))
                  .values(status=bindparam("new_status"), target_id=bindparam("new_target_id"),
                          detail=bindparam("new_detail"), updated_at=now))
        with self._store.session() as session:
            session.execute(update, [
                {"key": outcome["record_key"], "new_status": IntentStatus(outcome["status"]).value,
                 "new_target_id": outcome.get("target_id"), "new_detail": outcome.get("detail") or None}
                for outcome in outcomes])

    def unsettled(self, tenant: str, object_type: str, limit: int = 5_000) -> list[WriteIntent]:
        with self._store.session() as session:
            query = (
                select(WriteIntent)
                .where(WriteIntent.tenant == tenant, WriteIntent.object_type == object_type,
                       col(WriteIntent.status).in_(UNSETTLED))
                .order_by(WriteIntent.id)
                .limit(limit)
            )
            return list(session.exec(query))

    def for_keys(self, tenant: str, object_type: str, keys: Iterable[str]) -> dict[str, WriteIntent]:
        found: dict[str, WriteIntent] = {}
        with self._store.session() as session:
            for part in chunks(sorted(set(keys))):
                query = select(WriteIntent).where(
                    WriteIntent.tenant == tenant, WriteIntent.object_type == object_type,
                    col(WriteIntent.record_key).in_(part))
                found.update({row.record_key: row for row in session.exec(query)})
        return found
