"""Read a delta feed the way the flows do, while someone else edits records, and judge the result.

`tasks/cursors.py` is the model: every page is filtered with `DeltaCursor.fresh`, handled, and the
cursor moved with `DeltaCursor.after`. This reader first pages through one read to its end (so a change
made between two pages of the same read is met by the connector's own paging), then restarts from
the cursor after every single page (as a flow that crashes, or stops at `max_pages`, does). After
each page it calls `during`, where the test changes records — some already delivered, some not yet.

The verdict compares what was delivered with the sandbox's own record of every change: each
record's latest change delivered, no version delivered twice, nothing delivered that did not change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from connectors.delta import DeltaCursor

from .harness import Change

MAX_PAGES = 400


class DeltaReader:
    """Delivers pages like a flow and remembers every version it handled."""

    def __init__(self, open_read: Callable[[DeltaCursor], Iterator[list[Any]]],
                 stamp: Callable[[Any], int], key: Callable[[Any], str]) -> None:
        self.open_read = open_read
        self.stamp = stamp
        self.key = key
        self.cursor = DeltaCursor()
        self.delivered: list[Change] = []
        self.per_call_duplicates: list[Change] = []
        self.pages = 0

    def _deliver(self, raw: list[Any], call_seen: Counter[Change]) -> bool:
        for record in raw:
            change = Change(str(self.key(record)), self.stamp(record))
            call_seen[change] += 1
            if call_seen[change] == 2:
                self.per_call_duplicates.append(change)
        page = self.cursor.fresh(raw, self.stamp, lambda r: str(self.key(r)))
        if not page:
            return False
        self.delivered += [Change(str(self.key(r)), self.stamp(r)) for r in page]
        self.cursor = self.cursor.after(page, self.stamp, lambda r: str(self.key(r)))
        self.pages += 1
        assert self.pages < MAX_PAGES, "the delta read does not end"
        return True

    def run(self, during: Callable[["DeltaReader"], None]) -> None:
        """One read to its end, then a restart from the cursor after every page, until a read
        from the cursor has nothing new. `phase` (1, 2) and `phase_pages` tell `during` where
        the reader is; it is also called once between the phases (`phase_pages` 0)."""
        self.phase, self.phase_pages = 1, 0
        calls: Counter[Change] = Counter()
        for raw in self.open_read(self.cursor):
            if self._deliver(raw, calls):
                self.phase_pages += 1
                during(self)
        self.phase, self.phase_pages = 2, 0
        during(self)  # between the reads: the test queues up changes for the restarts to meet
        while True:
            calls = Counter()
            for raw in self.open_read(self.cursor):
                if self._deliver(raw, calls):
                    self.phase_pages += 1
                    during(self)
                    break
            else:
                return

    def ids(self) -> set[str]:
        return {change.id for change in self.delivered}


class Editor:
    """The other user of a delta test: between the reads it queues up new records; after the
    reader's `edit_after`-th page of each phase it edits one record already read ("behind": its
    edit is a new change) and the last one not yet read ("ahead": a reader that skips records
    must not be rescued by meeting it again), then adds one more."""

    def __init__(self, harness: Any, kind: str, edit_after: int = 2) -> None:
        self.harness, self.kind, self.edit_after = harness, kind, edit_after
        self.edited: set[str] = set()
        self.phases: list[int] = []

    def __call__(self, reader: DeltaReader) -> None:
        harness, kind = self.harness, self.kind
        if reader.phase_pages == 0:
            harness.create(kind, 7)
        if reader.phase_pages != self.edit_after:
            return
        truth = harness.changes_since(kind, 0)
        behind = next(c.id for c in reader.delivered if c.id not in self.edited)  # each edit a latest change
        unread = [i for i in truth if i not in reader.ids()]
        ahead = max(reversed(unread), key=truth.get, default=None)
        self.edited.update({behind, ahead})
        if reader.phase == 1 and ahead:
            # within one read, `ahead` changes after `behind`: a read that then moves past
            # `behind`'s new time with `ahead` must still have delivered `behind`
            harness.next_stamp_boundary(truth[behind])
            harness.touch(kind, [behind])
            harness.next_stamp_boundary(harness.changes_since(kind, 0)[behind])
            harness.touch(kind, [ahead])
        else:
            harness.next_stamp_boundary(max(truth[i] for i in (behind, ahead) if i))
            harness.touch(kind, [i for i in (behind, ahead) if i])
        harness.create(kind, 1)
        self.phases.append(reader.phase)


def assert_every_change_once(reader: DeltaReader, expected: dict[str, int]) -> None:
    """`expected`: every record that changed since the read began → its latest change time."""
    twice = sorted(c for c, n in Counter(reader.delivered).items() if n > 1)
    assert not twice, f"versions delivered twice: {twice}"
    assert not reader.per_call_duplicates, (
        f"one read returned the same version twice: {reader.per_call_duplicates}")
    delivered = set(reader.delivered)
    lost = {i: at for i, at in expected.items() if Change(i, at) not in delivered}
    assert not lost, f"latest changes never delivered (id → change ms): {lost}"
    strangers = reader.ids() - set(expected)
    assert not strangers, f"delivered records that never changed: {sorted(strangers)}"
