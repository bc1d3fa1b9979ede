"""exception_item: nothing is dropped silently — a record that cannot move waits here, with a
readable reason and an owner, until it is fixed at the source (then it resolves itself) or ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Iterable

from sqlmodel import col, select

from ledgerlink.privacy import mask_emails, readable_line
from ledgerlink.store.links import chunks
from ledgerlink.store.tables import ExceptionItem, ExceptionStatus, utcnow
from ledgerlink.store.upsert import insert_missing

if TYPE_CHECKING:
    from ledgerlink.store.repository import Store

ACTIVE = (ExceptionStatus.OPEN.value, ExceptionStatus.RETRYING.value)
DETAIL_LIMIT = 1000  # every reason of one record, each quoting at most a short excerpt of its value


@dataclass(frozen=True)
class NewException:
    """A record that cannot move. Its `detail` quotes record values, which anyone could have typed,
    so it is made one readable line here, once, for every place it is written to (queue, audit,
    run report, CLI): e-mail addresses masked, control and bidi characters escaped, length bounded."""

    record_type: str
    record_id: str
    reason_code: str
    detail: str
    owner: str
    checksum: str | None = None
    retry: bool = False  # waits only for a moment (another run holds the record): the next run retries it

    def __post_init__(self) -> None:
        object.__setattr__(self, "detail", readable_line(mask_emails(str(self.detail)), DETAIL_LIMIT))


def _status(item: NewException) -> str:
    return (ExceptionStatus.RETRYING if item.retry else ExceptionStatus.OPEN).value


class ExceptionQueue:
    def __init__(self, store: "Store"):
        self._store = store

    def raise_many(self, tenant: str, handoff: str, items: list[NewException]) -> int:
        """Open (or re-open / refresh) one item per record; returns how many are new or changed.

        New items go in with INSERT ... ON CONFLICT DO NOTHING, and existing ones are refreshed
        under a row lock, so two runs queueing the same record at once both succeed and it is
        new to exactly one of them."""
        items = list({item.record_id: item for item in items}.values())
        now = utcnow()
        rows = [{"tenant": tenant, "handoff": handoff, "record_type": item.record_type, "record_id": item.record_id,
                 "reason_code": item.reason_code, "detail": item.detail[:4000], "owner": item.owner,
                 "status": _status(item), "attempts": 1, "checksum": item.checksum,
                 "first_seen": now, "last_seen": now} for item in items]
        with self._store.session() as session:
            new: set[str] = set()
            for part in chunks(rows):
                new.update(insert_missing(session, ExceptionItem.__table__, part,
                                          ["tenant", "handoff", "record_id"], "record_id"))
            changed = len(new)
            existing = self._by_record(session, tenant, handoff, [i.record_id for i in items if i.record_id not in new],
                                       lock=True)
            for item in items:
                row = existing.get(item.record_id)
                if row is None:
                    continue
                if (row.status == ExceptionStatus.OPEN.value and row.checksum == item.checksum
                        and row.reason_code == item.reason_code):
                    row.last_seen = now  # same record, same problem, nobody asked for a retry
                else:
                    row.attempts += 1
                    changed += 1
                row.reason_code, row.detail, row.owner = item.reason_code, item.detail[:4000], item.owner
                row.checksum, row.status, row.last_seen, row.resolved_at = item.checksum, _status(item), now, None
                session.add(row)
        return changed

    def waiting_checksums(self, tenant: str, handoff: str, record_ids: Iterable[str]) -> dict[str, str | None]:
        """Checksums of records waiting in the queue (open, not marked for retry), so an unchanged
        bad record is skipped instead of failing again."""
        with self._store.session() as session:
            rows = self._by_record(session, tenant, handoff, list(record_ids))
            return {rid: row.checksum for rid, row in rows.items() if row.status == ExceptionStatus.OPEN.value}

    def open_reasons(self, tenant: str, handoff: str, record_ids: Iterable[str]) -> dict[str, str]:
        """Reason codes of the open items for these records."""
        with self._store.session() as session:
            rows = self._by_record(session, tenant, handoff, list(record_ids))
            return {rid: row.reason_code for rid, row in rows.items() if row.status == ExceptionStatus.OPEN.value}

    def resolve(self, tenant: str, handoff: str, record_ids: Iterable[str], status=ExceptionStatus.RESOLVED,
                only_from: tuple[str, ...] = ACTIVE) -> int:
        """Close the records' items that are in `only_from` (open or retrying by default)."""
        ids = sorted(set(record_ids))
        table = ExceptionItem.__table__
        count = 0
        with self._store.session() as session:
            for part in chunks(ids):
                result = session.execute(
                    table.update()
                    .where(table.c.tenant == tenant, table.c.handoff == handoff,
                           table.c.record_id.in_(part), table.c.status.in_(only_from))
                    .values(status=ExceptionStatus(status).value, resolved_at=utcnow())
                )
                count += result.rowcount or 0
        return count

    def retry_where_detail_starts(self, tenant: str, record_type: str, prefix: str) -> int:
        """Set open items whose detail starts with `prefix` to retry (e.g. deals waiting on a customer)."""
        table = ExceptionItem.__table__
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with self._store.session() as session:
            result = session.execute(
                table.update()
                .where(table.c.tenant == tenant, table.c.record_type == record_type,
                       table.c.status == ExceptionStatus.OPEN.value, table.c.detail.like(escaped + "%", escape="\\"))
                .values(status=ExceptionStatus.RETRYING.value))
            return result.rowcount or 0

    def set_status(self, item_id: int, status: ExceptionStatus) -> ExceptionItem | None:
        with self._store.session() as session:
            row = session.get(ExceptionItem, item_id)
            if row is None:
                return None
            row.status = ExceptionStatus(status).value
            row.resolved_at = utcnow() if row.status not in ACTIVE else None
            session.add(row)
            return row

    def assign(self, item_id: int, owner: str) -> ExceptionItem | None:
        with self._store.session() as session:
            row = session.get(ExceptionItem, item_id)
            if row is not None:
                row.owner = owner[:64]
                session.add(row)
            return row

    def list(self, tenant: str | None = None, handoff: str | None = None, status: str | None = "open",
             limit: int = 200, *, owner: str | None = None, seen_before: datetime | None = None) -> list[ExceptionItem]:
        """Items, oldest first; `seen_before` keeps those first seen before then (age filters)."""
        with self._store.session() as session:
            query = select(ExceptionItem).order_by(ExceptionItem.id).limit(limit)
            if tenant:
                query = query.where(ExceptionItem.tenant == tenant)
            if handoff:
                query = query.where(ExceptionItem.handoff == handoff)
            if status:
                query = query.where(ExceptionItem.status == status)
            if owner:
                query = query.where(ExceptionItem.owner == owner)
            if seen_before:
                query = query.where(col(ExceptionItem.first_seen) < seen_before)
            return list(session.exec(query))

    def get(self, item_id: int) -> ExceptionItem | None:
        with self._store.session() as session:
            return session.get(ExceptionItem, item_id)

    @staticmethod
    def _by_record(session, tenant: str, handoff: str, record_ids: list[str],
                   lock: bool = False) -> dict[str, ExceptionItem]:
        found: dict[str, ExceptionItem] = {}
        for part in chunks(sorted(set(record_ids))):
            query = select(ExceptionItem).where(
                ExceptionItem.tenant == tenant, ExceptionItem.handoff == handoff,
                col(ExceptionItem.record_id).in_(part))
            if lock:  # PostgreSQL: another run refreshing the same items waits (SQLite's writes are serial)
                query = query.with_for_update()
            found.update({row.record_id: row for row in session.exec(query)})
        return found
