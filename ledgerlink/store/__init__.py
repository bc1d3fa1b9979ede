"""The store: what ledgerlink remembers between runs (links, cursors, intents, exceptions, audit).

SQLite by default, PostgreSQL by setting one URL; the schema is owned by Alembic migrations.
"""

from ledgerlink.store.database import open_store
from ledgerlink.store.repository import Store

__all__ = ["Store", "open_store"]
