"""Records kept in (modified, id) order, plus a small cache of query results.

Delta syncs ask "what changed since T, oldest first" page after page. With 100,000 records a scan
per request would dominate a benchmark, so each collection keeps a sorted list of
(modified_ms, id) pairs: a range is two binary searches, a page is a slice. Query results are
cached per collection *version* (bumped on every write), so paging through one result set costs
O(page) until somebody writes — exactly when a real vendor's result set would shift too.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

Id = TypeVar("Id")


def _stamp(pair: tuple) -> int:
    return pair[0]


class ModifiedIndex(Generic[Id]):
    """A sorted list of (modified_ms, id); ties on the stamp are ordered by id."""

    def __init__(self) -> None:
        self._pairs: list[tuple[int, Id]] = []

    def __len__(self) -> int:
        return len(self._pairs)

    def add(self, ms: int, record_id: Id) -> None:
        bisect.insort(self._pairs, (ms, record_id))

    def remove(self, ms: int, record_id: Id) -> None:
        pos = bisect.bisect_left(self._pairs, (ms, record_id))
        if pos < len(self._pairs) and self._pairs[pos] == (ms, record_id):
            del self._pairs[pos]

    def move(self, old_ms: int, new_ms: int, record_id: Id) -> None:
        self.remove(old_ms, record_id)
        self.add(new_ms, record_id)

    def rebuild(self, pairs: list[tuple[int, Id]]) -> None:
        """Replace the contents in one sort (bulk seeding and state loading)."""
        self._pairs = sorted(pairs)

    def range(self, lo: int | None = None, lo_inclusive: bool = True,
              hi: int | None = None, hi_inclusive: bool = True) -> list[tuple[int, Id]]:
        """Pairs whose stamp lies within the bounds, in ascending (stamp, id) order."""
        pairs = self._pairs
        start = 0
        end = len(pairs)
        if lo is not None:
            finder = bisect.bisect_left if lo_inclusive else bisect.bisect_right
            start = finder(pairs, lo, key=_stamp)
        if hi is not None:
            finder = bisect.bisect_right if hi_inclusive else bisect.bisect_left
            end = finder(pairs, hi, key=_stamp)
        return pairs[start:end] if start < end else []

    def count(self, lo: int | None = None, lo_inclusive: bool = True,
              hi: int | None = None, hi_inclusive: bool = True) -> int:
        """How many pairs `range` would return, without copying them."""
        pairs = self._pairs
        start, end = 0, len(pairs)
        if lo is not None:
            start = (bisect.bisect_left if lo_inclusive else bisect.bisect_right)(pairs, lo, key=_stamp)
        if hi is not None:
            end = (bisect.bisect_right if hi_inclusive else bisect.bisect_left)(pairs, hi, key=_stamp)
        return max(0, end - start)

    def all(self) -> list[tuple[int, Id]]:
        return list(self._pairs)


class QueryCache:
    """A few recent query results (lists of ids), valid for one collection version only."""

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, list] = OrderedDict()

    def get_or_compute(self, key: Hashable, version: int, compute: Callable[[], list]) -> list:
        full_key = (key, version)
        found = self._entries.get(full_key)
        if found is not None:
            self._entries.move_to_end(full_key)
            return found
        result = compute()
        self._entries[full_key] = result
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return result

    def clear(self) -> None:
        self._entries.clear()
