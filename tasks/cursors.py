"""A handoff's delta cursors (`connectors.delta.DeltaCursor`): read, filter, and move only ever after
a page's writes are durable, so every change is handled once across pages and restarts.

A CRM record's change time is where its connector says it keeps it; a canonical accounting record
carries `updated_at`.
"""

from __future__ import annotations

from connectors.delta import DeltaCursor
from ledgerlink.timestamps import epoch_ms


def read_cursor(ctx, key: str) -> DeltaCursor:
    return DeltaCursor.decode(ctx.store.cursors.get(ctx.tenant.name, key))


def _save(ctx, key: str, before: DeltaCursor, after: DeltaCursor) -> DeltaCursor:
    if after != before:
        ctx.store.cursors.set(ctx.tenant.name, key, after.encode())
    return after


def fresh_crm(ctx, cursor: DeltaCursor, object_type: str, page: list[dict]) -> list[dict]:
    return cursor.fresh(page, lambda r: ctx.crm.modified_ms(object_type, r), lambda r: str(r["id"]))


def advance_crm_cursor(ctx, key: str, object_type: str, page: list[dict], cursor: DeltaCursor) -> DeltaCursor:
    """The page's records are handled and their writes durable: move past them."""
    return _save(ctx, key, cursor, cursor.after(page, lambda r: ctx.crm.modified_ms(object_type, r),
                                                lambda r: str(r["id"])))


def _stamp(record) -> int:
    return epoch_ms(record.updated_at)


def fresh_ledger(cursor: DeltaCursor, page: list) -> list:
    return cursor.fresh(page, _stamp, lambda r: r.id)


def advance_ledger_cursor(ctx, key: str, page: list, cursor: DeltaCursor) -> DeltaCursor:
    return _save(ctx, key, cursor, cursor.after(page, _stamp, lambda r: r.id))
