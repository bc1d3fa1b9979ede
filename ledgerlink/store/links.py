"""record_link: the cross-reference that makes every handoff idempotent and reconcilable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator

from sqlalchemy import func
from sqlmodel import col, select

from ledgerlink.store.tables import RecordLink, utcnow
from ledgerlink.store.upsert import insert_missing, upsert

if TYPE_CHECKING:
    from ledgerlink.store.repository import Store

_CHUNK = 500  # stay far below SQLite's bound-parameter limit


def chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Links:
    def __init__(self, store: "Store"):
        self._store = store

    def for_crm_ids(self, tenant: str, object_type: str, crm_ids: Iterable[str]) -> dict[str, RecordLink]:
        ids = sorted(set(crm_ids))
        found: dict[str, RecordLink] = {}
        with self._store.session() as session:
            for part in chunks(ids):
                query = select(RecordLink).where(
                    RecordLink.tenant == tenant,
                    RecordLink.object_type == object_type,
                    col(RecordLink.crm_id).in_(part),
                )
                found.update({link.crm_id: link for link in session.exec(query)})
        return found

    def for_accounting_ids(self, tenant: str, object_type: str, ids: Iterable[str]) -> dict[str, RecordLink]:
        """Links by the accounting side's id (what changes in accounting is found in the CRM this way)."""
        wanted = sorted({str(i).lower() for i in ids})
        found: dict[str, RecordLink] = {}
        with self._store.session() as session:
            for part in chunks(wanted):
                query = select(RecordLink).where(
                    RecordLink.tenant == tenant,
                    RecordLink.object_type == object_type,
                    func.lower(RecordLink.accounting_id).in_(part),
                )
                found.update({link.accounting_id.lower(): link for link in session.exec(query)})
        return found

    def by_accounting_number(self, tenant: str, object_type: str, number: str) -> RecordLink | None:
        with self._store.session() as session:
            query = select(RecordLink).where(
                RecordLink.tenant == tenant,
                RecordLink.object_type == object_type,
                RecordLink.accounting_number == number,
            )
            return session.exec(query).first()

    def save(self, tenant: str, object_type: str, rows: list[dict]) -> set[str]:
        """Upsert links; each row has crm_id, accounting_id and optionally accounting_number, checksum.

        Returns the CRM ids whose link is new or now points at another accounting record: saving
        a link again (a run settling what a crashed or concurrent run already recorded) returns
        nothing, so whatever the caller does once per new link is done once."""
        now = utcnow()
        values = [
            {
                "tenant": tenant,
                "object_type": object_type,
                "crm_id": row["crm_id"],
                "accounting_id": row["accounting_id"],
                "accounting_number": row.get("accounting_number"),
                "checksum": row.get("checksum"),
                "synced_version": row.get("synced_version"),
                "written_back": bool(row.get("written_back", False)),
                "created_at": now,
                "updated_at": now,
            }
            for row in rows
        ]
        update = ["accounting_id", "accounting_number", "checksum", "synced_version", "updated_at"]
        keys = ["tenant", "object_type", "crm_id"]
        new: set[str] = set()
        with self._store.session() as session:
            for part in chunks(values):
                before = dict(session.exec(select(RecordLink.crm_id, RecordLink.accounting_id).where(
                    RecordLink.tenant == tenant, RecordLink.object_type == object_type,
                    col(RecordLink.crm_id).in_([row["crm_id"] for row in part]))).all())
                new.update(insert_missing(session, RecordLink.__table__, part, keys, "crm_id"))
                upsert(session, RecordLink.__table__, part, keys, update)
                new.update(row["crm_id"] for row in part
                           if row["crm_id"] in before and before[row["crm_id"]] != row["accounting_id"])
        return new

    def mark_written_back(self, tenant: str, object_type: str, crm_ids: Iterable[str]) -> None:
        ids = sorted(set(crm_ids))
        with self._store.session() as session:
            for part in chunks(ids):
                session.execute(
                    RecordLink.__table__.update()
                    .where(
                        RecordLink.tenant == tenant,
                        RecordLink.object_type == object_type,
                        col(RecordLink.crm_id).in_(part),
                    )
                    .values(written_back=True, updated_at=utcnow())
                )

    def pending_write_back(self, tenant: str, object_type: str, limit: int = 10_000) -> list[RecordLink]:
        """Links whose id/number has not reached the CRM yet (e.g. the run died after creating)."""
        with self._store.session() as session:
            query = (
                select(RecordLink)
                .where(
                    RecordLink.tenant == tenant,
                    RecordLink.object_type == object_type,
                    RecordLink.written_back == False,  # noqa: E712 (SQL expression)
                )
                .order_by(RecordLink.id)
                .limit(limit)
            )
            return list(session.exec(query))

    def count(self, tenant: str, object_type: str) -> int:
        with self._store.session() as session:
            query = select(func.count()).select_from(RecordLink).where(
                RecordLink.tenant == tenant, RecordLink.object_type == object_type
            )
            return int(session.exec(query).one())

    def pages(self, tenant: str, object_type: str, size: int = 5_000) -> Iterator[list[tuple[str, str, str | None]]]:
        """Every link as (crm_id, accounting_id, accounting_number), a page at a time (keyset on id),
        so a reconciliation of a large ledger never holds all links at once."""
        after = 0
        while True:
            with self._store.session() as session:
                rows = list(session.exec(
                    select(RecordLink.id, RecordLink.crm_id, RecordLink.accounting_id, RecordLink.accounting_number)
                    .where(RecordLink.tenant == tenant, RecordLink.object_type == object_type, RecordLink.id > after)
                    .order_by(RecordLink.id).limit(size)))
            if not rows:
                return
            after = rows[-1][0]
            yield [(crm_id, accounting_id, number) for _, crm_id, accounting_id, number in rows]
