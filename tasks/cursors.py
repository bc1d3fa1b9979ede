"""Moving a handoff's cursors, only ever after a page's writes are durable.

A CRM cursor is the newest change time of a page in epoch milliseconds (each CRM connector says
where its records keep that time); an accounting cursor is the newest `updated_at` of a page of
canonical ledger records, as ISO text. A cursor never moves backwards.
"""

from __future__ import annotations

from datetime import datetime


def read_crm_cursor(ctx, key: str) -> int:
    cursor = ctx.store.cursors.get(ctx.tenant.name, key)
    return int(cursor) if cursor else 0


def advance_crm_cursor(ctx, key: str, object_type: str, page: list[dict], since: int) -> int:
    newest = max((ctx.crm.modified_ms(object_type, record) for record in page), default=since)
    if newest > since:
        ctx.store.cursors.set(ctx.tenant.name, key, str(newest))
        return newest
    return since


def read_accounting_cursor(ctx, key: str) -> datetime | None:
    cursor = ctx.store.cursors.get(ctx.tenant.name, key)
    return datetime.fromisoformat(cursor) if cursor else None


def advance_accounting_cursor(ctx, key: str, page: list, since: datetime | None) -> datetime | None:
    newest = max((record.updated_at for record in page if record.updated_at), default=None)
    if newest and (since is None or newest > since):
        ctx.store.cursors.set(ctx.tenant.name, key, newest.isoformat())
        return newest
    return since
