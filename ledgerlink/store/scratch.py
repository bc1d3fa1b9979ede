"""A scratch copy of one tenant's store: what a dry run works on, so the real store is never touched.

A dry run must apply every rule a real run applies, and many of them read what earlier steps of
the same run wrote (a customer created for one deal is linked when the next deal of that company
comes; a cursor moves page by page). Copying the tenant's rows into a throw-away SQLite file lets
the run write as usual and the copy is deleted afterwards, whatever the real store's backend.
The audit log and run history are not copied (a dry run reads neither; the chain head is, so
appends still chain) and neither are OAuth tokens: those stay in the real store, because a
refresh token rotated during a dry run must survive it.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert, select

from ledgerlink.store.database import open_store
from ledgerlink.store.repository import Store
from ledgerlink.store.tables import (ApprovalRequest, AuditChainHead, ExceptionItem, RecordLink, SyncCursor,
                                     SyncState, TriggerFired, WriteIntent)

COPIED = (RecordLink, SyncCursor, WriteIntent, ExceptionItem, AuditChainHead, SyncState, TriggerFired,
          ApprovalRequest)
BATCH = 5_000


def scratch_copy(real: Store, tenant: str, path: Path) -> Store:
    """A migrated SQLite store at `path` holding `tenant`'s rows of the tables a run reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    copy = open_store(f"sqlite:///{path}")
    with real.engine.connect() as source, copy.engine.begin() as target:
        for table in COPIED:
            rows = source.execution_options(yield_per=BATCH).execute(
                select(table.__table__).where(table.__table__.c.tenant == tenant))
            for part in rows.mappings().partitions(BATCH):
                target.execute(insert(table.__table__), [dict(row) for row in part])
    return copy


def discard(copy: Store, path: Path) -> None:
    copy.dispose()
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        name.unlink(missing_ok=True)
