"""Delta-read cursors that deliver every change exactly once, across pages and across restarts.

Vendors filter changes "at or after" a time (HubSpot `GTE`, Xero `If-Modified-Since`, Pipedrive
`updated_since`, QuickBooks `changedSince`). Resuming from the newest time read would deliver the
records changed at exactly that millisecond again; resuming just after it would lose the ones
changed later in that same millisecond. So a cursor keeps both: the newest change time delivered
and the ids delivered at exactly that time; anything older was delivered before (pages come
oldest first), which also absorbs vendors whose filter is coarser than their timestamps. Page-number paging has the opposite flaw (a record
changed mid-read moves to the end, shifting the rest back past the reader), so connectors page
by keyset with the same cursor (`keyset_pages`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

from ledgerlink.timestamps import epoch_ms

Record = TypeVar("Record")


@dataclass(frozen=True, slots=True)
class DeltaCursor:
    """Where a delta read stopped: newest change time delivered (epoch ms) and the ids delivered
    at exactly that time."""

    at_ms: int = 0
    seen: frozenset[str] = frozenset()

    @classmethod
    def decode(cls, text: str | None) -> "DeltaCursor":
        """`"<ms>"`, `"<ms>|id,id"`, or an ISO-8601 time (how older stores kept accounting cursors)."""
        if not text:
            return cls()
        stamp, _, ids = text.partition("|")
        if not stamp.lstrip("-").isdigit():
            return cls(epoch_ms(stamp))
        return cls(int(stamp), frozenset(i for i in ids.split(",") if i))

    def encode(self) -> str:
        return f"{self.at_ms}|{','.join(sorted(self.seen))}" if self.seen else str(self.at_ms)

    @property
    def since(self) -> datetime | None:
        """The cursor's time for a vendor that filters by datetime (None: read everything)."""
        return datetime.fromtimestamp(self.at_ms / 1000, tz=timezone.utc) if self.at_ms else None

    def fresh(self, records: Iterable[Record], stamp: Callable[[Record], int],
              key: Callable[[Record], str]) -> list[Record]:
        """The records not yet delivered. Older ones were (pages come oldest first; a vendor whose
        filter is coarser than its timestamps sends them again), and so were the ones at the
        cursor's own time that it holds."""
        out = []
        for record in records:
            ms = stamp(record)
            if ms > self.at_ms or (ms == self.at_ms and key(record) not in self.seen):
                out.append(record)
        return out

    def after(self, records: Iterable[Record], stamp: Callable[[Record], int],
              key: Callable[[Record], str]) -> "DeltaCursor":
        """The cursor once `records` are delivered (call it only when their writes are durable)."""
        stamped = [(stamp(r), key(r)) for r in records]
        newest = max((ms for ms, _ in stamped), default=self.at_ms)
        if newest < self.at_ms:
            return self
        at_newest = frozenset(k for ms, k in stamped if ms == newest)
        return DeltaCursor(newest, (self.seen | at_newest) if newest == self.at_ms else at_newest)


def keyset_pages(fetch: Callable[[DeltaCursor, int], list[Any]], stamp: Callable[[Any], int],
                 key: Callable[[Any], str], page_size: int, start: DeltaCursor = DeltaCursor()) -> Iterator[list[Any]]:
    """Pages of changes oldest first, each change once, for an API that lists records changed at or
    after a time, ordered by change time: `fetch(cursor, page_number)` asks for changes at or after
    `cursor.at_ms` and returns one page of at most `page_size` records.

    Every page is a fresh query from the newest time seen, so a record changed while we read is
    met again later at its new time (once), never skipped. When a whole page shares one time,
    that time is walked by page number, the only order left (`_walk_one_time`).
    """
    cursor = start
    while True:
        records = fetch(cursor, 1)
        new = cursor.fresh(records, stamp, key)
        if new:
            yield new
        if len(records) < page_size:
            return
        following = cursor.after(new, stamp, key)
        if following.at_ms != cursor.at_ms:
            cursor = following
            continue
        walked = yield from _walk_one_time(fetch, stamp, key, page_size, following)
        if walked is None:
            return
        cursor = walked


def _walk_one_time(fetch: Callable[[DeltaCursor, int], list[Any]], stamp: Callable[[Any], int],
                   key: Callable[[Any], str], page_size: int,
                   cursor: DeltaCursor) -> Generator[list[Any], None, DeltaCursor | None]:
    """Every record at the cursor's time T, by page number; then where to read on (None: done).

    Page numbers shift under the reader: a record at T that is changed meanwhile leaves T for the
    end of the list, and every record behind it moves up one place — the next page starts one
    record late and that record is never met. So T is walked again from page 1 until a pass finds
    nothing new, and the read goes on with a fresh query from just after T, not from the page
    where the walk ended (it may have skipped a record newer than T the same way). A vendor whose
    filter is coarser than its stamps answers that query with records older than its bound; then
    no fresh query can get past them, and the walk just goes on by page number.
    """
    at = cursor.at_ms
    page_number, found = 2, True  # page 1 was the caller's
    while True:
        records = fetch(DeltaCursor(at), page_number)
        if any(stamp(r) < at for r in records):  # a coarse filter: page numbers are all there is
            yield from _positional(fetch, stamp, key, page_size, cursor, page_number, records)
            return None
        new = cursor.fresh([r for r in records if stamp(r) == at], stamp, key)
        if new:
            yield new
            cursor, found = cursor.after(new, stamp, key), True
        if len(records) == page_size and all(stamp(r) == at for r in records):
            page_number += 1
            continue
        if found:  # a pass that found something: walk T again to catch what the shifts hid
            page_number, found = 1, False
            continue
        if len(records) < page_size and all(stamp(r) == at for r in records):
            return None  # nothing after T
        return DeltaCursor(at + 1)


def _positional(fetch: Callable[[DeltaCursor, int], list[Any]], stamp: Callable[[Any], int],
                key: Callable[[Any], str], page_size: int, cursor: DeltaCursor, page_number: int,
                records: list[Any]) -> Iterator[list[Any]]:
    """The rest of a read by page number from a fixed bound (for filters coarser than stamps)."""
    bound = DeltaCursor(cursor.at_ms)
    while True:
        new = cursor.fresh(records, stamp, key)
        if new:
            yield new
            cursor = cursor.after(new, stamp, key)
        if len(records) < page_size:
            return
        page_number += 1
        records = fetch(bound, page_number)
