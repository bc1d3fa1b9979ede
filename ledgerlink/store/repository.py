"""The Store facade: one engine, one small repository per table family.

Each repository commits its own short transaction, because the flow's durability rule is per step:
a link is durable before the cursor moves, an intent is durable before the call is sent.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.engine import Engine
from sqlmodel import Session

from ledgerlink.store.approvals import Approvals
from ledgerlink.store.audit_log import AuditLog
from ledgerlink.store.exception_queue import ExceptionQueue
from ledgerlink.store.links import Links
from ledgerlink.store.progress import Cursors, Runs, Tokens
from ledgerlink.store.sync_state import SyncStates, Triggers
from ledgerlink.store.write_intents import WriteIntents


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.links = Links(self)
        self.cursors = Cursors(self)
        self.intents = WriteIntents(self)
        self.exceptions = ExceptionQueue(self)
        self.audit = AuditLog(self)
        self.runs = Runs(self)
        self.tokens = Tokens(self)
        self.sync_states = SyncStates(self)
        self.triggers = Triggers(self)
        self.approvals = Approvals(self)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
