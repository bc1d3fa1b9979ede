"""Portable INSERT … ON CONFLICT for the two backends the store supports."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.orm import Session


def _insert(session: Session):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - guarded by open_store's supported URLs
        raise ValueError(f"unsupported database backend {dialect!r}")
    return insert


def insert_missing(session: Session, table: Table, rows: list[dict], keys: list[str], returning: str) -> list:
    """Insert the rows whose `keys` are not taken yet; returns their `returning` column. Atomic per
    row, so of two transactions inserting the same key exactly one gets it back."""
    if not rows:
        return []
    statement = _insert(session)(table).on_conflict_do_nothing(index_elements=keys).returning(table.c[returning])
    return [row[0] for row in session.execute(statement, rows)]


def upsert(session: Session, table: Table, rows: list[dict], keys: list[str], update: list[str]) -> None:
    if not rows:
        return
    statement = _insert(session)(table)
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={column: statement.excluded[column] for column in update}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    session.execute(statement, rows)
