"""HubSpot connector against the HubSpot emulator: delta search past the cap, batch calls."""

from __future__ import annotations

import time

import httpx
import pytest

from connectors.errors import ValidationRejected
from connectors.hubspot import SEARCH_CAP, HubSpotConnector
from connectors.ratelimit import HUBSPOT_LIMITS
from connectors.sandbox import start_sandboxes

BASE_MS = 1_760_000_000_000


@pytest.fixture
def fresh():
    """An empty emulator pair of its own: these tests count every record in the portal."""
    running = start_sandboxes(limits=False)
    yield running
    running.stop(save=False)


def seed_deals(sandboxes, stamps: list[int]) -> list[str]:
    """Insert deals with exactly these modified stamps (bulk path, no API calls)."""
    store = sandboxes.hubspot.deals
    first = store.next_id
    for n, stamp in enumerate(stamps):
        store.insert_raw(first + n, {"dealname": f"Deal {n}", "amount": "100"}, stamp, stamp)
    store.reindex()
    return [str(first + n) for n in range(len(stamps))]


def connector(sandboxes, **kw) -> HubSpotConnector:
    kw.setdefault("limits", None)
    return HubSpotConnector(sandboxes.hubspot_url, sandboxes.hubspot_token, "acme", **kw)


def all_ids(pages) -> list[str]:
    return [record["id"] for page in pages for record in page]


def test_sandbox_refuses_to_page_past_the_cap(fresh):
    seed_deals(fresh, [BASE_MS] * 3)
    with connector(fresh) as hs, pytest.raises(ValidationRejected):
        hs.http.post("/crm/v3/objects/deals/search", read=True, json_body={
            "filterGroups": [], "sorts": [], "properties": [], "limit": 100,
            "after": str(SEARCH_CAP)})


def test_search_across_the_10000_cap_yields_every_id_exactly_once(fresh):
    ids = seed_deals(fresh, [BASE_MS + n // 3 for n in range(10_500)])  # 3 deals per ms
    with connector(fresh) as hs:
        pages = list(hs.search_modified_since("deals", BASE_MS, ["dealname"]))
        calls = hs.stats.snapshot()["per_endpoint"]["POST /crm/v3/objects/{type}/search"]
    got = all_ids(pages)
    assert len(got) == len(set(got)) == 10_500
    assert set(got) == set(ids)
    stamps = [r["properties"]["hs_lastmodifieddate"] for p in pages for r in p]
    assert stamps == sorted(stamps)  # oldest change first, across the restart too
    assert calls <= 10_500 // 200 + 3  # one restart, no re-reading of whole windows


def test_search_walks_more_than_10000_records_sharing_one_timestamp(fresh):
    ids = seed_deals(fresh, [BASE_MS] * 10_050 + [BASE_MS + 5] * 120)
    with connector(fresh) as hs:
        got = all_ids(hs.search_modified_since("deals", BASE_MS - 10, ["dealname"]))
    assert len(got) == len(set(got)) == 10_170
    assert set(got) == set(ids)
    assert got[-120:] == ids[-120:]  # the later timestamp still comes last


def test_search_returns_changes_since_the_cursor_oldest_first(fresh):
    seed_deals(fresh, [BASE_MS - 1000, BASE_MS, BASE_MS + 20, BASE_MS + 10])
    with connector(fresh) as hs:
        pages = list(hs.search_modified_since("deals", BASE_MS, ["dealname", "amount"],
                                              page_size=2))
    records = [r for p in pages for r in p]
    assert [r["properties"]["dealname"] for r in records] == ["Deal 1", "Deal 3", "Deal 2"]
    assert [len(p) for p in pages] == [2, 1]
    assert records[0]["properties"]["amount"] == "100"


def test_contact_search_filters_on_lastmodifieddate(fresh):
    contact = fresh.hubspot.create("contacts", {"email": "thandi@example.co.za",
                                                "firstname": "Thandi"})
    with connector(fresh) as hs:
        records = all_ids(hs.search_modified_since("contacts", 0, ["email"]))
    assert records == [str(contact.id)]


def test_search_respects_the_five_per_second_budget(fresh):
    """With the emulator enforcing limits, our limiter means it never has to say 429."""
    fresh.set_limits(enabled=True)
    seed_deals(fresh, [BASE_MS + n for n in range(60)])
    with connector(fresh, limits=HUBSPOT_LIMITS) as hs:
        started = time.monotonic()
        got = all_ids(hs.search_modified_since("deals", BASE_MS, [], page_size=5))
        elapsed = time.monotonic() - started
        assert hs.stats.snapshot()["rate_limited"] == 0
    assert len(got) == 60
    assert elapsed >= 2.0  # 13 searches at 5/s need at least two full seconds


def test_search_is_retried_after_a_429_and_a_5xx(fresh):
    seed_deals(fresh, [BASE_MS + n for n in range(5)])
    # Faults are steered over HTTP, as a harness in another process would.
    httpx.post(f"{fresh.hubspot_url}/_sandbox/faults", json={"rules": [
        {"kind": "rate_limit", "path": "/crm/v3/objects/deals/search", "times": 1},
        {"kind": "status", "status": 502, "path": "/crm/v3/objects/deals/search", "times": 1}]})
    with connector(fresh) as hs:
        got = all_ids(hs.search_modified_since("deals", BASE_MS, []))
        stats = hs.stats.snapshot()
    assert len(got) == 5
    assert stats["rate_limited"] == 1 and stats["server_errors"] == 1 and stats["retries"] == 2


def test_read_associations_in_chunks_with_empty_lists(fresh):
    company = fresh.hubspot.create("companies", {"name": "Karoo Traders"})
    deals = [fresh.hubspot.create("deals", {"dealname": f"D{n}"}) for n in range(3)]
    fresh.hubspot.associate("deals", deals[0].id, "companies", company.id)
    fresh.hubspot.associate("deals", deals[2].id, "companies", company.id)
    wanted = [str(d.id) for d in deals] + [str(90_000_000 + n) for n in range(1_200)]
    with connector(fresh) as hs:
        found = hs.read_associations("deals", "companies", wanted)
        calls = hs.stats.snapshot()["calls"]
    assert found[str(deals[0].id)] == [str(company.id)]
    assert found[str(deals[1].id)] == []
    assert found[str(deals[2].id)] == [str(company.id)]
    assert len(found) == 1_203 and calls == 2  # 1,000 ids per call


def test_batch_read_returns_found_records_and_lists_the_missing(fresh):
    ids = seed_deals(fresh, [BASE_MS + n for n in range(150)])
    wanted = ids + ["99999999999"]
    with connector(fresh) as hs:
        found = hs.batch_read("deals", wanted, ["dealname"])
        assert hs.stats.snapshot()["calls"] == 2  # 100 per call
    assert set(found) == set(ids)
    assert found.missing == ["99999999999"]
    assert found[ids[7]]["properties"]["dealname"] == "Deal 7"


def test_batch_update_reports_each_item(fresh):
    ids = seed_deals(fresh, [BASE_MS + n for n in range(3)])
    updates = {ids[0]: {"dealname": "Renamed"}, "99999999999": {"dealname": "Ghost"},
               ids[1]: {"dealstage": "closedwon"}}
    with connector(fresh) as hs:
        results = hs.batch_update("deals", updates)
        rejected = hs.batch_update("deals", {ids[2]: {"dealstage": "not-a-stage"}})
    by_key = {r.key: r for r in results}
    assert [r.key for r in results] == list(updates)
    assert by_key[ids[0]].ok and by_key[ids[1]].ok and by_key[ids[0]].target_id == ids[0]
    assert not by_key["99999999999"].ok and "not exist" in by_key["99999999999"].errors[0]
    assert not rejected[0].ok and "not-a-stage" in rejected[0].errors[0]
    assert fresh.hubspot.deals.get(ids[0]).props["dealname"] == "Renamed"


def test_batch_update_is_retried_after_a_5xx_because_it_is_idempotent(fresh):
    ids = seed_deals(fresh, [BASE_MS])
    httpx.post(f"{fresh.hubspot_url}/_sandbox/faults", json={
        "kind": "commit_then_fail", "status": 502, "path": "/crm/v3/objects/deals/batch/update"})
    with connector(fresh) as hs:
        results = hs.batch_update("deals", {ids[0]: {"dealname": "Twice is fine"}})
    assert results[0].ok
    assert fresh.hubspot.deals.get(ids[0]).props["dealname"] == "Twice is fine"
