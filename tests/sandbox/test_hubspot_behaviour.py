"""The HubSpot emulator behaves the way connectors must cope with: paging, caps, 207s, limits."""

from __future__ import annotations

import time
from decimal import Decimal

from connectors.sandbox.hubspot_state import HubSpotState
from connectors.sandbox.seed import seed_books
from connectors.sandbox.xero_state import XeroState


def _delta(after: str = "0", limit: int = 7, since: str = "0", **extra) -> dict:
    return {"filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE",
                                           "value": since}]}],
            "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            "properties": ["dealname", "amount"], "limit": limit, "after": after, **extra}


def test_delta_search_pages_through_every_deal_once_oldest_change_first(hs, sandboxes):
    seen, after, total = [], "0", None
    while after is not None:
        page = hs.post("/crm/v3/objects/deals/search", json=_delta(after)).json()
        total = page["total"]
        seen += [(r["properties"]["hs_lastmodifieddate"], int(r["id"])) for r in page["results"]]
        after = page.get("paging", {}).get("next", {}).get("after")
    assert len(seen) == total == len(sandboxes.hubspot.deals)
    assert seen == sorted(seen) and len({i for _, i in seen}) == total


def test_iso_and_epoch_filter_values_select_the_same_deals(hs, sandboxes):
    middle = sandboxes.hubspot.deals.index.all()[30][0]
    from connectors.sandbox.timeutil import iso_ms

    by_epoch = hs.post("/crm/v3/objects/0-3/search", json=_delta(since=str(middle), limit=200)).json()
    by_iso = hs.post("/crm/v3/objects/deals/search", json=_delta(since=iso_ms(middle), limit=200)).json()
    assert by_epoch["total"] == by_iso["total"] > 0
    assert [r["id"] for r in by_epoch["results"]] == [r["id"] for r in by_iso["results"]]


def test_filter_groups_are_or_of_ands(hs, sandboxes):
    deals = sandboxes.hubspot.deals.objects.values()
    won_zar = sum(1 for d in deals if d.props["dealstage"] == "closedwon" and d.props["deal_currency_code"] == "ZAR")
    lost = sum(1 for d in deals if d.props["dealstage"] == "closedlost")
    body = {"filterGroups": [
        {"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"},
                     {"propertyName": "deal_currency_code", "operator": "IN", "values": ["ZAR"]}]},
        {"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "closedlost"}]}],
        "limit": 1}
    assert hs.post("/crm/v3/objects/deals/search", json=body).json()["total"] == won_zar + lost
    defect = {"filterGroups": [{"filters": [{"propertyName": "ll_seed_defect", "operator": "HAS_PROPERTY"}]}]}
    assert hs.post("/crm/v3/objects/deals/search", json=defect).json()["total"] == 7


def test_numeric_sort_descending_breaks_ties_by_id(hs):
    body = {"sorts": [{"propertyName": "amount", "direction": "DESCENDING"}], "properties": ["amount"],
            "limit": 200}
    rows = [(r["properties"]["amount"], int(r["id"]))
            for r in hs.post("/crm/v3/objects/deals/search", json=body).json()["results"]]
    valued = [(Decimal(amount), deal_id) for amount, deal_id in rows if amount is not None]
    assert valued == sorted(valued, key=lambda row: (-row[0], row[1]))
    assert rows[:len(valued)] == [(str(a), i) for a, i in valued] or all(  # deals without amount come last
        amount is None for amount, _ in rows[len(valued):])


def test_search_refuses_limit_over_200_and_paging_past_10000(fresh, make_hubspot_client):
    sb = fresh(limits=False)
    seed_books(sb.hubspot, sb.xero, deals=10_050, seed=3)
    with make_hubspot_client(sb) as client:
        assert client.post("/crm/v3/objects/deals/search", json=_delta(limit=201)).status_code == 400
        last_page = client.post("/crm/v3/objects/deals/search", json=_delta(after="9800", limit=200))
        assert last_page.status_code == 200 and last_page.json()["total"] == 10_050
        assert last_page.json()["paging"]["next"]["after"] == "10000"
        beyond = client.post("/crm/v3/objects/deals/search", json=_delta(after="10000", limit=200))
    assert beyond.status_code == 400
    assert beyond.json()["category"] == "VALIDATION_ERROR" and "10000" in beyond.json()["message"]


def test_batch_update_answers_207_and_applies_only_valid_inputs(hs, sandboxes):
    first, second = list(sandboxes.hubspot.deals.objects)[10:12]
    before = sandboxes.hubspot.deals.objects[first].modified_ms
    reply = hs.post("/crm/v3/objects/deals/batch/update", json={"inputs": [
        {"id": str(first), "properties": {"ledgerlink_invoice_number": "INV-4242"}},
        {"id": str(second), "properties": {"ledgerlink_invoice_numbr": "INV-4243"}},
        {"id": "123", "properties": {"ledgerlink_invoice_number": "INV-4244"}}]})
    assert reply.status_code == 207
    body = reply.json()
    assert [r["id"] for r in body["results"]] == [str(first)]
    assert body["numErrors"] == 2
    by_category = {e["category"]: e for e in body["errors"]}
    assert by_category["OBJECT_NOT_FOUND"]["context"]["ids"] == ["123"]
    assert 'Property "ledgerlink_invoice_numbr" does not exist' in by_category["VALIDATION_ERROR"]["message"]
    assert by_category["VALIDATION_ERROR"]["context"]["ids"] == [str(second)]
    assert sandboxes.hubspot.deals.objects[first].props["ledgerlink_invoice_number"] == "INV-4242"
    assert "ledgerlink_invoice_number" not in sandboxes.hubspot.deals.objects[second].props
    assert sandboxes.hubspot.deals.objects[first].modified_ms > before


def test_every_update_moves_hs_lastmodifieddate_strictly_forward(hs, sandboxes):
    deal_id = list(sandboxes.hubspot.deals.objects)[5]
    stamps = []
    for n in range(5):
        reply = hs.patch(f"/crm/v3/objects/deals/{deal_id}", json={"properties": {"description": f"v{n}"}})
        stamps.append(reply.json()["properties"]["hs_lastmodifieddate"])
    assert stamps == sorted(set(stamps))


def test_batch_read_rejects_duplicates_and_oversized_batches(hs, sandboxes):
    deal_id = str(next(iter(sandboxes.hubspot.deals.objects)))
    duplicate = hs.post("/crm/v3/objects/deals/batch/read", json={"inputs": [{"id": deal_id}] * 2})
    assert duplicate.status_code == 400 and "Duplicate IDs" in duplicate.json()["message"]
    oversized = hs.post("/crm/v3/objects/deals/batch/read",
                        json={"inputs": [{"id": str(n)} for n in range(101)]})
    assert oversized.status_code == 400


def test_batch_read_by_unique_id_property(hs, sandboxes):
    deal_id = list(sandboxes.hubspot.deals.objects)[20]
    sandboxes.hubspot.update("deals", deal_id, {"ledgerlink_invoice_id": "inv-uuid-20"})
    reply = hs.post("/crm/v3/objects/deals/batch/read", json={
        "idProperty": "ledgerlink_invoice_id", "inputs": [{"id": "inv-uuid-20"}], "properties": ["dealname"]})
    assert reply.status_code == 200 and reply.json()["results"][0]["id"] == str(deal_id)


def test_associations_report_primary_company_and_missing_ones(hs, sandboxes):
    state = sandboxes.hubspot
    orphan = next(d.id for d in state.deals.objects.values() if d.props.get("ll_seed_defect") == "no_company")
    regular = next(d.id for d in state.deals.objects.values() if not d.props.get("ll_seed_defect"))
    reply = hs.post("/crm/v4/associations/deals/companies/batch/read",
                    json={"inputs": [{"id": str(regular)}, {"id": str(orphan)}]}).json()
    types = reply["results"][0]["to"][0]["associationTypes"]
    assert {(t["typeId"], t["label"]) for t in types} == {(5, "Primary"), (341, None)}
    assert reply["errors"][0]["context"]["fromObjectId"] == [str(orphan)]
    lines = hs.get(f"/crm/v4/objects/0-3/{regular}/associations/line_items").json()["results"]
    assert len(lines) == len(state.associations.targets("deals", regular, "line_items")) >= 1


def test_property_registry_lists_ledgerlink_properties(hs):
    names = {p["name"] for p in hs.get("/crm/v3/properties/deals").json()["results"]}
    assert {"ledgerlink_invoice_id", "ledgerlink_invoice_number", "ledgerlink_invoice_status",
            "ledgerlink_amount_due", "ledgerlink_amount_paid", "ledgerlink_paid_date",
            "dealstage", "deal_currency_code"} <= names


def test_burst_limit_counts_down_then_answers_429_until_the_window_rolls(fresh, make_hubspot_client):
    sb = fresh(hubspot_burst=3, time_scale=20)        # the 10 s window lasts 0.5 s
    with make_hubspot_client(sb) as client:
        replies = [client.get("/crm/v3/objects/deals", params={"limit": 1}) for _ in range(4)]
        assert [r.status_code for r in replies] == [200, 200, 200, 429]
        assert [r.headers["X-HubSpot-RateLimit-Remaining"] for r in replies[:3]] == ["2", "1", "0"]
        assert replies[0].headers["X-HubSpot-RateLimit-Max"] == "3"
        assert replies[0].headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "500"
        assert "X-HubSpot-RateLimit-Daily-Remaining" in replies[0].headers
        assert replies[3].json()["errorType"] == "RATE_LIMIT"
        time.sleep(0.6)
        assert client.get("/crm/v3/objects/deals", params={"limit": 1}).status_code == 200
    assert sb.hubspot.stats.snapshot()["rate_limited"] == 1


def test_search_has_its_own_per_second_limit(fresh, make_hubspot_client):
    sb = fresh(hubspot_burst=100)
    with make_hubspot_client(sb) as client:
        replies = [client.post("/crm/v3/objects/deals/search", json={"limit": 1}) for _ in range(6)]
        burst_left = client.get("/crm/v3/objects/deals").headers["X-HubSpot-RateLimit-Remaining"]
    assert [r.status_code for r in replies[:5]] == [200] * 5
    assert replies[5].status_code == 429 and replies[5].json()["policyName"] == "SECONDLY"
    assert burst_left == "99"     # searches are exempt from the ten-secondly budget


def test_state_objects_are_usable_without_http():
    hubspot, xero = HubSpotState(), XeroState()
    company = hubspot.create("companies", {"name": "Umhlanga Dental Studio", "vat_number": "4234567890"})
    deal = hubspot.create("deals", {"dealname": "Chairs", "amount": "1500.00", "dealstage": "closedwon"},
                          [("companies", company.id, True)])
    assert hubspot.associations.targets("deals", deal.id, "companies") == [(company.id, True)]
    assert hubspot.associations.targets("companies", company.id, "deals") == [(deal.id, True)]
    assert xero.is_empty()
