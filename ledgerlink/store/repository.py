"""The Store facade: one engine, one small repository per table family.

Each repository commits its own short transaction, because the flow's durability rule is per step:
a link is durable before the cursor moves, an intent is durable before the call is sent. Where
several writes record one fact (a link, its audit event and its confirmed intent), `transaction()`
makes them one commit: a crash leaves all of them or none, never a fact without its audit event.

A run works through `store.for_config(version)`: the same database, but the audit events, write
intents and run records it writes carry the run's configuration version without any call site
passing it (see ledgerlink.config_versions).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from sqlalchemy.engine import Engine
from sqlmodel import Session

from ledgerlink.store.approvals import Approvals
from ledgerlink.store.audit_log import AuditLog
from ledgerlink.store.config_history import ConfigHistory
from ledgerlink.store.exception_queue import ExceptionQueue
from ledgerlink.store.links import Links
from ledgerlink.store.progress import Cursors, Runs, Tokens
from ledgerlink.store.sync_state import SyncStates, Triggers
from ledgerlink.store.write_intents import WriteIntents


class Store:
    def __init__(self, engine: Engine, config_version: str | None = None):
        self.engine = engine
        self.config_version = config_version
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
        self.config_history = ConfigHistory(self)
        self._ambient: ContextVar[Session | None] = ContextVar(f"store-{id(self)}", default=None)

    def for_config(self, config_version: str | None) -> "Store":
        """This store (same engine) stamping `config_version` on audit events, write intents and runs."""
        return Store(self.engine, config_version)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any error; inside
        `transaction()`, that one transaction."""
        ambient = self._ambient.get()
        if ambient is not None:
            yield ambient
            return
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Every repository call in the block shares one transaction, committed at the end (or
        rolled back on any error). Nested blocks join the outer one."""
        if self._ambient.get() is not None:
            yield
            return
        with self.session() as session:
            token = self._ambient.set(session)
            try:
                yield
            finally:
                self._ambient.reset(token)

    def dispose(self) -> None:
        self.engine.dispose()
