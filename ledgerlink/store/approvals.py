"""approval_request: review items and their decisions.

`decide` is a compare-and-set on `status = 'pending'` in one UPDATE, so however many clicks, resumes
or deadline sweeps race for the same request, exactly one of them decides it and the others learn
who did and when.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Iterable

from sqlalchemy import update
from sqlmodel import col, select

from ledgerlink.store.links import chunks
from ledgerlink.store.tables import ApprovalRequest, ApprovalStatus, utcnow

if TYPE_CHECKING:
    from ledgerlink.store.repository import Store

PENDING = ApprovalStatus.PENDING.value


class Approvals:
    def __init__(self, store: "Store"):
        self._store = store

    def create(self, tenant: str, handoff: str, record_type: str, record_id: str, checksum: str, *,
               rules: list[str], approvers: list[str], corrections_allowed: list[str],
               context: dict) -> ApprovalRequest:
        row = ApprovalRequest(id=uuid.uuid4().hex, tenant=tenant, handoff=handoff, record_type=record_type,
                              record_id=record_id, checksum=checksum, rules=rules, approvers=approvers,
                              corrections_allowed=corrections_allowed, context=context)
        with self._store.session() as session:
            session.add(row)
        return row

    def get(self, request_id: str) -> ApprovalRequest | None:
        with self._store.session() as session:
            return session.get(ApprovalRequest, request_id)

    def latest_for(self, tenant: str, handoff: str, record_ids: Iterable[str]) -> dict[str, ApprovalRequest]:
        """The newest request per record that was not superseded."""
        found: dict[str, ApprovalRequest] = {}
        with self._store.session() as session:
            for part in chunks(sorted(set(record_ids))):
                query = (select(ApprovalRequest)
                         .where(ApprovalRequest.tenant == tenant, ApprovalRequest.handoff == handoff,
                                col(ApprovalRequest.record_id).in_(part),
                                ApprovalRequest.status != ApprovalStatus.SUPERSEDED.value)
                         .order_by(col(ApprovalRequest.created_at)))
                found.update({row.record_id: row for row in session.exec(query)})
        return found

    def list(self, tenant: str | None = None, status: str | None = PENDING, handoff: str | None = None,
             limit: int = 1000) -> list[ApprovalRequest]:
        with self._store.session() as session:
            query = select(ApprovalRequest).order_by(col(ApprovalRequest.created_at)).limit(limit)
            if tenant:
                query = query.where(ApprovalRequest.tenant == tenant)
            if status:
                query = query.where(ApprovalRequest.status == status)
            if handoff:
                query = query.where(ApprovalRequest.handoff == handoff)
            return list(session.exec(query))

    def approved_unapplied(self, tenant: str, handoff: str, decided_before: datetime) -> list[ApprovalRequest]:
        """Approved requests whose record has not moved yet, decided before `decided_before`."""
        with self._store.session() as session:
            return list(session.exec(select(ApprovalRequest).where(
                ApprovalRequest.tenant == tenant, ApprovalRequest.handoff == handoff,
                ApprovalRequest.status == ApprovalStatus.APPROVED.value,
                col(ApprovalRequest.applied_at).is_(None),
                col(ApprovalRequest.decided_at) < decided_before)))

    def decide(self, request_id: str, status: ApprovalStatus, *, by: str, via: str,
               comment: str | None = None, corrections: dict | None = None) -> tuple[bool, ApprovalRequest | None]:
        """(True, row) if this call decided the request; (False, row as it is) if it was decided already."""
        with self._store.session() as session:
            result = session.execute(
                update(ApprovalRequest)
                .where(col(ApprovalRequest.id) == request_id, col(ApprovalRequest.status) == PENDING)
                .values(status=status.value, decided_by=by[:128], decided_via=via, decided_at=utcnow(),
                        comment=(comment or None) and comment[:2000], corrections=corrections or None))
            won = result.rowcount == 1
        return won, self.get(request_id)

    def update(self, request_id: str, **values) -> None:
        """Bookkeeping fields (run id, Slack message, reminders, outcome); never the decision."""
        forbidden = {"status", "decided_by", "decided_at", "decided_via"} & set(values)
        if forbidden:
            raise ValueError(f"use decide() to change {', '.join(sorted(forbidden))}")
        with self._store.session() as session:
            session.execute(update(ApprovalRequest).where(col(ApprovalRequest.id) == request_id).values(**values))

    def mark_applied(self, request_ids: Iterable[str], outcome: str | None = None) -> None:
        ids = sorted(set(request_ids))
        if not ids:
            return
        with self._store.session() as session:
            session.execute(update(ApprovalRequest)
                            .where(col(ApprovalRequest.id).in_(ids), col(ApprovalRequest.applied_at).is_(None))
                            .values(applied_at=utcnow(), outcome=outcome and outcome[:256]))
