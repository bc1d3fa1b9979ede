"""Portable INSERT … ON CONFLICT for the two backends the store supports."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.orm import Session


def upsert(session: Session, table: Table, rows: list[dict], keys: list[str], update: list[str]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - guarded by open_store's supported URLs
        raise ValueError(f"unsupported database backend {dialect!r}")
    statement = insert(table)
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={column: statement.excluded[column] for column in update}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    session.execute(statement, rows)
