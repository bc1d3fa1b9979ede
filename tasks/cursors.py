"""A handoff's delta cursors (`connectors.delta.DeltaCursor`): read, filter, and move only ever after
a page's writes are durable, so every change is handled once across pages and restarts.

A CRM record's change time is where its connector says it keeps it; a canonical accounting record
carries `updated_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from connectors.delta import DeltaCursor
from ledgerlink.timestamps import epoch_ms
from tasks.run_memory import release_task_results


def read_cursor(ctx, key: str) -> DeltaCursor:
    return DeltaCursor.decode(ctx.store.cursors.get(ctx.tenant.name, key))


def _save(ctx, key: str, before: DeltaCursor, after: DeltaCursor, resolution_ms: int = 1) -> DeltaCursor:
    """Persist `after`, unless the vendor stamps changes coarsely (Pipedrive and QuickBooks: whole
    seconds) and its newest second may still be open: an edit later in that same second would keep
    the stamp the cursor holds as delivered and be lost. Then the stored cursor stops a second short
    (those few records are read again next run, harmlessly) while this run goes on with `after`."""
    if after == before:
        return after
    stored = after
    if resolution_ms > 1 and epoch_ms(datetime.now(timezone.utc)) - after.at_ms < 2 * resolution_ms:
        stored = DeltaCursor(max(after.at_ms - resolution_ms, before.at_ms))
    ctx.store.cursors.set(ctx.tenant.name, key, stored.encode())
    return after


def fresh_crm(ctx, cursor: DeltaCursor, object_type: str, page: list[dict]) -> list[dict]:
    return cursor.fresh(page, lambda r: ctx.crm.modified_ms(object_type, r), lambda r: str(r["id"]))


def advance_crm_cursor(ctx, key: str, object_type: str, page: list[dict], cursor: DeltaCursor) -> DeltaCursor:
    """The page's records are handled and their writes durable: move past them (and let go of them)."""
    release_task_results()
    return _save(ctx, key, cursor, cursor.after(page, lambda r: ctx.crm.modified_ms(object_type, r),
                                                lambda r: str(r["id"])), ctx.crm.change_time_resolution_ms)


def ledger_stamp(record) -> int:
    return epoch_ms(record.updated_at)


def fresh_ledger(cursor: DeltaCursor, page: list) -> list:
    return cursor.fresh(page, ledger_stamp, lambda r: r.id)


def advance_ledger_cursor(ctx, key: str, page: list, cursor: DeltaCursor) -> DeltaCursor:
    release_task_results()
    return _save(ctx, key, cursor, cursor.after(page, ledger_stamp, lambda r: r.id),
                 ctx.accounting.change_time_resolution_ms)


@dataclass(frozen=True)
class Window:
    """Which changes a run reads: the live cursor from where it stopped, or a backfill's own cursor
    over [since, until] — so a backfill resumes where it was interrupted and never moves (or
    waits for) the live cursor."""

    key: str
    floor_ms: int = 0
    until_ms: int | None = None

    @classmethod
    def backfill(cls, handoff: str, since: date, until: date | None, tz: ZoneInfo) -> "Window":
        if until is not None and until < since:
            raise ValueError(f"backfill until {until} is before since {since}")
        start = datetime.combine(since, time.min, tzinfo=tz)
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz) if until else None
        return cls(f"{handoff}:backfill:{since.isoformat()}:{until.isoformat() if until else 'open'}",
                   epoch_ms(start), epoch_ms(end) - 1 if end else None)

    def start(self, ctx) -> DeltaCursor:
        cursor = read_cursor(ctx, self.key)
        return cursor if cursor.at_ms >= self.floor_ms else DeltaCursor(self.floor_ms)

    def within(self, page: list, stamp) -> tuple[list, bool]:
        """(the records up to `until`, whether the window has ended: pages come oldest first)."""
        if self.until_ms is None:
            return page, False
        kept = [record for record in page if stamp(record) <= self.until_ms]
        return kept, len(kept) < len(page)
