"""Opening the store: engine set-up per backend, and the schema brought to head by Alembic."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from ledgerlink import settings

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATING = threading.Lock()  # Alembic's migration context is process-global


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
        _sqlite_immediate_transactions(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _sqlite_immediate_transactions(engine: Engine) -> None:
    """SQLite's default deferred transactions deadlock when two writers upgrade read locks at once;
    BEGIN IMMEDIATE takes the write lock up front and WAL keeps readers unblocked."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to the newest migration, or to `revision` (idempotent; safe on every start,
    and when several workers start at once: one migrates, the others wait for it and then find the
    schema at head)."""
    _alembic(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to `revision` (operators and the migration tests; never done on start)."""
    _alembic(engine, "downgrade", revision)


def _alembic(engine: Engine, direction: str, revision: str) -> None:
    """SQLite's BEGIN IMMEDIATE already serialises migrating workers; PostgreSQL takes a
    transaction-scoped advisory lock per schema, because two CREATE TABLEs racing fail one worker's
    start. Within one process a lock comes first: Alembic keeps the running migration in module
    globals, so two threads opening stores at once would mix their migrations up."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with _MIGRATING, engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('ledgerlink-migrate:' || current_schema()))")
        config.attributes["connection"] = connection
        getattr(command, direction)(config, revision)


def open_store(url: str | None = None, *, run_migrations: bool = True):
    """The one way code gets a Store: engine for the configured URL, schema at head."""
    from ledgerlink.store.repository import Store

    engine = make_engine(url or settings.database_url())
    if run_migrations:
        migrate(engine)
    return Store(engine)
