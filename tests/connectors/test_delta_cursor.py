"""The delta cursor: every change delivered once across pages and restarts, none lost at a shared
millisecond, and keyset paging that survives records changing while they are read."""

from __future__ import annotations

from connectors.delta import DeltaCursor, keyset_pages

STAMP, KEY = (lambda r: r[1]), (lambda r: r[0])


def test_a_restart_at_a_shared_millisecond_delivers_the_rest_of_it_and_nothing_twice():
    cursor = DeltaCursor()
    first = [("a", 10), ("b", 20), ("c", 20)]
    cursor = cursor.after(cursor.fresh(first, STAMP, KEY), STAMP, KEY)
    assert cursor == DeltaCursor(20, frozenset({"b", "c"}))
    again = [("b", 20), ("c", 20), ("d", 20), ("a", 30), ("e", 5)]  # "e": older, so already delivered
    assert cursor.fresh(again, STAMP, KEY) == [("d", 20), ("a", 30)]
    assert DeltaCursor.decode(cursor.encode()) == cursor


def test_older_cursor_texts_still_read():
    assert DeltaCursor.decode(None) == DeltaCursor() and DeltaCursor.decode("") == DeltaCursor()
    assert DeltaCursor.decode("1700000000999") == DeltaCursor(1700000000999)
    assert DeltaCursor.decode("2023-11-14T22:13:20.123000+00:00") == DeltaCursor(1700000000123)
    assert DeltaCursor(1700000000123).since.isoformat() == "2023-11-14T22:13:20.123000+00:00"


class Vendor:
    """Records (id -> change time) listed 'changed at or after', oldest first, by page number."""

    def __init__(self, records):
        self.records, self.calls = dict(records), 0

    def fetch(self, cursor, page, size):
        self.calls += 1
        rows = sorted(((k, t) for k, t in self.records.items() if t >= cursor.at_ms), key=lambda r: (r[1], r[0]))
        return rows[(page - 1) * size: page * size]


def test_keyset_pages_meet_a_record_changed_mid_read_once_and_skip_nobody():
    vendor = Vendor({f"r{n:02d}": n for n in range(10)})
    seen = []
    for page in keyset_pages(lambda c, p: vendor.fetch(c, p, 3), STAMP, KEY, 3):
        seen.extend(page)
        if len(seen) == 3:
            vendor.records["r00"] = 100  # edited while we read: moves to the end
    ids = [k for k, _ in seen]
    assert sorted(set(ids)) == sorted(vendor.records) and ids.count("r00") == 2  # once before, once after
    assert len(ids) == 11


def test_a_full_page_sharing_one_millisecond_is_walked_by_page_number():
    vendor = Vendor({**{f"s{n:02d}": 7 for n in range(7)}, "z": 9})
    seen = [r for page in keyset_pages(lambda c, p: vendor.fetch(c, p, 3), STAMP, KEY, 3) for r in page]
    assert [k for k, _ in seen] == [f"s{n:02d}" for n in range(7)] + ["z"]


def test_records_leaving_a_shared_millisecond_mid_walk_hide_nobody():
    """Two records read on page 1 change while the walk is on page 2: everything behind them moves
    up two places, so page 3 would start two records late ("s06" and "m" never met)."""
    vendor = Vendor({**{f"s{n:02d}": 7 for n in range(7)}, "m": 8, "z": 9})
    seen = []
    for page in keyset_pages(lambda c, p: vendor.fetch(c, p, 3), STAMP, KEY, 3):
        seen.extend(page)
        if len(seen) == 6:
            vendor.records["s00"], vendor.records["s01"] = 100, 101
    assert len(seen) == len(set(seen)), "a version delivered twice"
    assert set(vendor.records.items()) <= set(seen), "a latest change never delivered"


def test_a_filter_coarser_than_the_stamps_is_walked_by_page_number():
    """A vendor that filters by the second but stamps milliseconds answers with older records."""
    vendor = Vendor({**{f"s{n:02d}": 1000 + n for n in range(7)}, "z": 2500})
    coarse = lambda c, p: [r for r in vendor.fetch(type(c)(c.at_ms // 1000 * 1000), p, 3)]  # noqa: E731
    seen = [r for page in keyset_pages(coarse, STAMP, KEY, 3, DeltaCursor(1003)) for r in page]
    assert [k for k, _ in seen] == ["s03", "s04", "s05", "s06", "z"]
