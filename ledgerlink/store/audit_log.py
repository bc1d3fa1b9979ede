"""audit_event: append-only and hash-chained, so a later edit or deletion is detectable.

Each event's hash covers the previous event's hash; the chain head row is locked while appending
(`SELECT … FOR UPDATE` on PostgreSQL, the write lock of BEGIN IMMEDIATE on SQLite) so two runs can
never fork the chain. Before/after payloads are masked (POPIA) with fingerprints of the originals.
The migrations add database triggers that refuse UPDATE and DELETE on the table.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from datetime import timezone
from typing import TYPE_CHECKING

from sqlmodel import select

from ledgerlink.privacy import mask_record
from ledgerlink.store.tables import AuditChainHead, AuditEvent, utcnow
from ledgerlink.store.upsert import insert_missing

if TYPE_CHECKING:
    from ledgerlink.store.repository import Store

GENESIS = "0" * 64


@dataclass
class NewAuditEvent:
    action: str
    actor: str = "ledgerlink"
    handoff: str | None = None
    run_id: str | None = None
    deal_id: str | None = None
    customer_id: str | None = None
    invoice_number: str | None = None
    before: dict | None = None
    after: dict | None = None
    extra: dict = field(default_factory=dict)
    config_version: str | None = None  # default: the version the store is bound to (Store.for_config)


def _digest(prev_hash: str, body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _utc_text(moment) -> str:
    """SQLite hands datetimes back naive, PostgreSQL aware: hash one spelling of the same instant."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def _body(row: AuditEvent | SimpleNamespace) -> dict:
    """What an event's hash covers. The config version joined later (migration 0005): it is hashed
    only when set, so every event written before it still verifies, and one written after it cannot
    lose or gain a version unnoticed."""
    body = {
        "tenant": row.tenant, "seq": row.seq, "at": _utc_text(row.at), "actor": row.actor,
        "action": row.action, "handoff": row.handoff, "run_id": row.run_id, "deal_id": row.deal_id,
        "customer_id": row.customer_id, "invoice_number": row.invoice_number,
        "before": row.before, "after": row.after,
    }
    if row.config_version is not None:
        body["config_version"] = row.config_version
    return body


class AuditLog:
    def __init__(self, store: "Store"):
        self._store = store

    def append(self, tenant: str, events: list[NewAuditEvent]) -> int:
        if not events:
            return 0
        with self._store.session() as session:
            # the tenant's first event: the head row is created by whichever run gets there first
            insert_missing(session, AuditChainHead.__table__, [{"tenant": tenant, "seq": 0, "hash": GENESIS}],
                           ["tenant"], "tenant")
            query = select(AuditChainHead).where(AuditChainHead.tenant == tenant)
            if self._store.backend == "postgresql":
                query = query.with_for_update()
            head = session.exec(query).one()
            prev, seq = head.hash, head.seq
            rows = []
            for event in events:  # plain rows, one INSERT for the lot: ORM objects cost more than the hashing
                seq += 1
                row = dict(
                    tenant=tenant, seq=seq, at=utcnow(), actor=event.actor, action=event.action,
                    handoff=event.handoff, run_id=event.run_id, deal_id=event.deal_id,
                    customer_id=event.customer_id, invoice_number=event.invoice_number,
                    before=mask_record(event.before), after=mask_record({**(event.after or {}), **event.extra} or None),
                    config_version=event.config_version or self._store.config_version, prev_hash=prev,
                )
                row["hash"] = prev = _digest(prev, _body(SimpleNamespace(**row)))
                rows.append(row)
            session.execute(AuditEvent.__table__.insert(), rows)
            head.seq, head.hash = seq, prev
            session.add(head)
        return len(events)

    def search(self, tenant: str | None = None, *, deal_id: str | None = None, invoice_number: str | None = None,
               customer_id: str | None = None, action: str | None = None, limit: int = 200) -> list[AuditEvent]:
        with self._store.session() as session:
            query = select(AuditEvent).order_by(AuditEvent.tenant, AuditEvent.seq).limit(limit)
            if tenant:
                query = query.where(AuditEvent.tenant == tenant)
            if deal_id:
                query = query.where(AuditEvent.deal_id == deal_id)
            if invoice_number:
                query = query.where(AuditEvent.invoice_number == invoice_number)
            if customer_id:
                query = query.where(AuditEvent.customer_id == customer_id)
            if action:
                query = query.where(AuditEvent.action == action)
            return list(session.exec(query))

    def verify(self, tenant: str) -> int | None:
        """Recompute the chain; returns the first broken seq, or None when the chain is intact.

        The chain must also end where its head says (read first, so events appended meanwhile do
        not count): otherwise the newest events were deleted, and the first missing seq is returned."""
        prev, seq = GENESIS, 0
        with self._store.session() as session:
            head = session.get(AuditChainHead, tenant)
            query = select(AuditEvent).where(AuditEvent.tenant == tenant).order_by(AuditEvent.seq)
            if head is not None:
                query = query.where(AuditEvent.seq <= head.seq)
            for row in session.exec(query):
                if row.prev_hash != prev or _digest(prev, _body(row)) != row.hash:
                    return row.seq
                prev, seq = row.hash, row.seq
        if head is not None and (head.seq, head.hash) != (seq, prev):
            return seq + 1
        return None
