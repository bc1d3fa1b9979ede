"""A vendor that stamps changes in whole seconds: the stored cursor never closes a second that may
still receive an edit, so an edit later in that same second is read next run instead of lost."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

from connectors.delta import DeltaCursor
from ledgerlink.timestamps import epoch_ms
from tasks.cursors import advance_crm_cursor, read_cursor


def _ctx(store, resolution_ms: int):
    crm = SimpleNamespace(change_time_resolution_ms=resolution_ms,
                          modified_ms=lambda object_type, record: record["ms"])
    return SimpleNamespace(store=store, crm=crm, tenant=SimpleNamespace(name="t"))


def test_a_second_that_may_still_change_is_read_again_next_run(tmp_path):
    from ledgerlink.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    now = epoch_ms(datetime.now(timezone.utc)) // 1000 * 1000
    coarse = _ctx(store, 1000)
    in_memory = advance_crm_cursor(coarse, "k", "deals", [{"id": "1", "ms": now - 5000}, {"id": "2", "ms": now}],
                                   DeltaCursor())
    assert in_memory == DeltaCursor(now, frozenset({"2"}))  # this run goes on exactly
    assert read_cursor(coarse, "k") == DeltaCursor(now - 1000)  # the next run reads that second again
    older = advance_crm_cursor(coarse, "old", "deals", [{"id": "3", "ms": now - 10_000}], DeltaCursor())
    assert read_cursor(coarse, "old") == older == DeltaCursor(now - 10_000, frozenset({"3"}))
    fine = _ctx(store, 1)
    advance_crm_cursor(fine, "ms", "deals", [{"id": "4", "ms": now}], DeltaCursor())
    assert read_cursor(fine, "ms") == DeltaCursor(now, frozenset({"4"}))
    store.dispose()
