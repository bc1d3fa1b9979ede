"""The Pipedrive emulator behaves the way a connector must cope with: keyset cursors, inclusive
second-resolution deltas, token costs from the spec, burst and daily limits, faults, seeding."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from decimal import Decimal

import httpx
import pytest
import yaml

from connectors.sandbox import jsonio
from connectors.sandbox.hubspot_state import HubSpotState
from connectors.sandbox.pipedrive_limits import load_token_costs, vendor_spec_path
from connectors.sandbox.pipedrive_runner import start_pipedrive_sandbox
from connectors.sandbox.pipedrive_seed import seed_pipedrive
from connectors.sandbox.pipedrive_state import PipedriveState
from connectors.sandbox.seed import BAD_DEAL_KINDS, seed_books
from connectors.sandbox.xero_state import XeroState

V2 = "/api/v2"
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
BASE_MS = 1_760_000_000_000


@pytest.fixture
def fresh():
    """Private emulators (unseeded unless asked), stopped after the test."""
    started = []

    def make(**options):
        options.setdefault("limits", False)
        sb = start_pipedrive_sandbox(**options)
        started.append(sb)
        return sb, httpx.Client(base_url=sb.url, headers={"x-api-token": sb.token}, timeout=10)

    yield make
    for sb in started:
        sb.stop()


def insert_deals(state: PipedriveState, stamps: list[int]) -> list[int]:
    store = state.deals
    first = store.next_id
    for n, stamp in enumerate(stamps):
        store.insert_raw(first + n, {"title": f"Deal {n}", "value": Decimal("100"), "currency": "ZAR",
                                     "status": "open", "is_deleted": False}, stamp, stamp)
    store.reindex()
    return [first + n for n in range(len(stamps))]


def walk(client: httpx.Client, path: str, **params) -> list[dict]:
    seen, cursor = [], None
    while True:
        body = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})}).json()
        seen += body["data"]
        cursor = body["additional_data"]["next_cursor"]
        if cursor is None:
            return seen


# -- paging and deltas ----------------------------------------------------------------------------
def test_cursor_pages_walk_every_deal_once_in_update_order(pd, pipedrive_sandbox):
    deals = walk(pd, f"{V2}/deals", sort_by="update_time", limit=7)
    keys = [(d["update_time"], d["id"]) for d in deals]
    assert keys == sorted(keys) and len(keys) == len(pipedrive_sandbox.state.deals) == 60
    backwards = walk(pd, f"{V2}/deals", sort_by="update_time", sort_direction="desc", limit=9)
    assert [d["id"] for d in backwards] == [d["id"] for d in reversed(deals)]


def test_updated_since_is_inclusive_to_the_second_and_until_exclusive(fresh):
    sb, client = fresh()
    ids = insert_deals(sb.state, [BASE_MS - 1000, BASE_MS, BASE_MS, BASE_MS + 1000])
    since = datetime.fromtimestamp(BASE_MS / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    found = walk(client, f"{V2}/deals", updated_since=since, sort_by="update_time")
    assert [d["id"] for d in found] == ids[1:]
    until = datetime.fromtimestamp(BASE_MS / 1000 + 1, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [d["id"] for d in walk(client, f"{V2}/deals", updated_since=since, updated_until=until)] == ids[1:3]


def test_a_record_changed_while_paging_moves_ahead_and_none_is_skipped(fresh):
    sb, client = fresh()
    ids = insert_deals(sb.state, [BASE_MS + n * 1000 for n in range(30)])
    params = {"sort_by": "update_time", "limit": 10}
    first = client.get(f"{V2}/deals", params=params).json()
    sb.state.update("deals", ids[2], {"title": "read, then changed"})
    sb.state.update("deals", ids[15], {"title": "unread, then changed"})
    rest = walk(client, f"{V2}/deals", cursor=first["additional_data"]["next_cursor"], **params)
    got = [d["id"] for d in first["data"] + rest]
    assert sorted(set(got)) == ids                      # nothing skipped
    assert got.count(ids[2]) == 2 and got[-2:] == sorted([ids[2], ids[15]])  # changed ones last


def test_ids_filter_and_parameter_errors(pd):
    found = pd.get(f"{V2}/deals", params={"ids": "3,1,999999"}).json()["data"]
    assert [d["id"] for d in found] == [1, 3]
    too_many = pd.get(f"{V2}/deals", params={"ids": ",".join(map(str, range(1, 102)))})
    assert too_many.status_code == 400 and "100" in too_many.json()["error"]
    assert pd.get(f"{V2}/deals", params={"limit": 501}).status_code == 400
    assert pd.get(f"{V2}/deals", params={"cursor": "not-a-cursor"}).json()["error"] == "Invalid cursor"
    assert pd.get(f"{V2}/deals", params={"sort_by": "title"}).status_code == 400
    assert pd.get(f"{V2}/deals/products").status_code == 400   # deal_ids is required


def test_patch_sets_custom_fields_by_hash_and_bumps_update_time(fresh):
    sb, client = fresh()
    [deal] = insert_deals(sb.state, [BASE_MS])
    key = sb.state.custom_key("deals", "ledgerlink_invoice_number")
    answer = client.patch(f"{V2}/deals/{deal}", json={"custom_fields": {key: "INV-1"}, "status": "won"})
    data = answer.json()["data"]
    assert data["custom_fields"][key] == "INV-1" and data["status"] == "won" and data["won_time"]
    assert data["update_time"] > "2025-10-09T08:53:20Z"
    by_name = client.patch(f"{V2}/deals/{deal}", json={"custom_fields": {"ledgerlink_invoice_number": "x"}})
    assert by_name.status_code == 400 and "does not exist" in by_name.json()["error"]
    assert client.patch(f"{V2}/deals/{deal}", json={"update_time": "2020-01-01T00:00:00Z"}).status_code == 400
    assert client.patch(f"{V2}/deals/{deal}", json={"value": "12"}).json()["error"] == "value must be a number"
    assert client.patch(f"{V2}/deals/{deal}", json={"org_id": 424242}).status_code == 400
    assert client.patch(f"{V2}/deals/424242", json={"title": "x"}).json()["error"] == "Deal not found"


def test_records_made_in_the_app_show_up_with_their_sums(fresh):
    sb, client = fresh()
    org = sb.state.create("organizations", {"name": "Karoo Traders CC"}, custom={"vat_number": "4123456789"})
    [deal] = insert_deals(sb.state, [BASE_MS])
    product = sb.state.create("products", {"name": "Shade net", "code": "NET-1"}, custom={"tax_group": "1"})
    for order, (price, quantity, discount, kind) in enumerate(
            [("99.99", "3", "12.5", "percentage"), ("250.00", "2", "20", "amount")], start=1):
        sb.state.deal_products.attach({"deal_id": deal, "product_id": product.id, "name": "Shade net",
                                       "order_nr": order, "item_price": Decimal(price),
                                       "quantity": Decimal(quantity), "discount": Decimal(discount),
                                       "discount_type": kind, "tax": Decimal("15"), "tax_method": "exclusive"})
    found = jsonio.loads(client.get(f"{V2}/deals/products", params={"deal_ids": str(deal)}).content)["data"]
    assert [item["sum"] for item in found] == [Decimal("262.47"), Decimal("480.00")]  # less 12.5 %, less 20
    body = client.get(f"{V2}/organizations/{org.id}").json()["data"]
    assert body["custom_fields"][sb.state.custom_key("organizations", "vat_number")] == "4123456789"


# -- limits -------------------------------------------------------------------------------------
def _spec_costs() -> dict[tuple[str, str], int]:
    """Costs read straight from the spec here, independently of the emulator's loader."""
    with vendor_spec_path("pipedrive/v2.yaml").open() as handle:
        spec = yaml.load(handle, Loader=yaml.CSafeLoader)
    return {(m.upper(), V2 + p): op["x-token-cost"] for p, ops in spec["paths"].items()
            for m, op in ops.items() if isinstance(op, dict) and "x-token-cost" in op}


def test_every_call_costs_its_spec_token_cost_and_says_what_is_left(fresh):
    sb, client = fresh(seed=3, deals=20, limits=True, daily_tokens=10_000)
    costs = _spec_costs()
    calls = [("GET", f"{V2}/deals", "/api/v2/deals"), ("GET", f"{V2}/deals/{{id}}", "/api/v2/deals/1"),
             ("PATCH", f"{V2}/deals/{{id}}", "/api/v2/deals/1"),
             ("GET", f"{V2}/deals/products", "/api/v2/deals/products?deal_ids=1"),
             ("GET", f"{V2}/organizationFields", "/api/v2/organizationFields"),
             ("GET", f"{V2}/products/{{id}}", "/api/v2/products/1")]
    left = 10_000
    for method, template, url in calls:
        answer = client.request(method, url, json={"title": "t"} if method == "PATCH" else None)
        assert answer.status_code == 200
        left -= costs[(method, template)]
        assert int(answer.headers["x-daily-requests-left"]) == left
        assert answer.headers["x-ratelimit-limit"] == "80"
    assert costs[("GET", f"{V2}/deals")] != costs[("GET", f"{V2}/deals/{{id}}")]  # not one flat price


def test_token_costs_follow_the_spec_file(tmp_path):
    text = vendor_spec_path("pipedrive/v2.yaml").read_text(encoding="utf-8")
    marker = "  /deals:\n    get:\n"
    head, tail = text.split(marker, 1)
    cost_line = next(line for line in tail.splitlines() if "x-token-cost" in line)
    changed = tmp_path / "v2.yaml"
    changed.write_text(head + marker + tail.replace(cost_line, "      x-token-cost: 37", 1), encoding="utf-8")
    assert load_token_costs(str(changed))[("GET", f"{V2}/deals")] == 37
    assert load_token_costs()[("GET", f"{V2}/deals")] == int(cost_line.split(":")[1])


def test_burst_window_refuses_with_429_and_frees_up(fresh):
    sb, client = fresh(limits=True, burst=5, time_scale=10)   # 5 calls per 0.2 s
    answers = [client.get(f"{V2}/deals/1") for _ in range(6)]
    assert [a.status_code for a in answers[:5]] == [404] * 5   # counted although not found
    refused = answers[5]
    assert refused.status_code == 429 and refused.json()["error"] == "Request over limit"
    assert refused.headers["x-ratelimit-remaining"] == "0" and float(refused.headers["retry-after"]) > 0
    time.sleep(float(refused.headers["x-ratelimit-reset"]) + 0.02)
    assert client.get(f"{V2}/deals").status_code == 200
    assert sb.state.stats.snapshot()["rate_limited"] == 1


def test_daily_token_budget_is_spent_by_cost(fresh):
    sb, client = fresh(limits=True, daily_tokens=25)
    assert [client.get(f"{V2}/deals").status_code for _ in range(2)] == [200, 200]   # 10 each
    refused = client.get(f"{V2}/deals")
    assert refused.status_code == 429 and "Daily" in refused.json()["error"]
    assert refused.headers["x-daily-requests-left"] == "5"
    assert client.get(f"{V2}/deals/1").status_code == 404   # 1 token still fits
    httpx.post(f"{sb.url}/_sandbox/limits", json={"enabled": False})
    assert client.get(f"{V2}/deals").status_code == 200


# -- faults and control routes ------------------------------------------------------------------
def test_faults_are_steered_over_http(fresh):
    sb, client = fresh(seed=1, deals=14)
    httpx.post(f"{sb.url}/_sandbox/faults", json={"rules": [
        {"kind": "status", "status": 503, "path": f"{V2}/deals", "method": "GET"},
        {"kind": "commit_then_fail", "path": f"{V2}/deals/1", "method": "PATCH"}]})
    unavailable = client.get(f"{V2}/deals")
    assert unavailable.status_code == 503 and unavailable.json()["success"] is False
    assert client.patch(f"{V2}/deals/1", json={"title": "Committed anyway"}).status_code == 500
    assert sb.state.deals.records[1].data["title"] == "Committed anyway"
    stats = httpx.get(f"{sb.url}/_sandbox/stats").json()
    assert stats["faults"] == {"status": 1, "commit_then_fail": 1} and stats["writes"] == 1
    assert httpx.get(f"{sb.url}/_sandbox/state").json()["objects"]["deals"] == 14


# -- seeding ------------------------------------------------------------------------------------
def _seeded(deals: int = 300, seed: int = 42) -> tuple[PipedriveState, object]:
    state = PipedriveState()
    return state, seed_pipedrive(state, deals=deals, seed=seed, now=NOW)


def test_same_seed_same_books_and_the_same_as_hubspot():
    first, report = _seeded(seed=5)
    second, again = _seeded(seed=5)
    assert report == again and first.to_dict() == second.to_dict()
    assert _seeded(seed=6)[0].to_dict() != first.to_dict()
    hubspot_report = seed_books(HubSpotState(), XeroState(), deals=300, seed=5, now=NOW)
    assert (report.deals, report.won_deals, report.line_items, report.companies) == (
        hubspot_report.deals, hubspot_report.won_deals, hubspot_report.line_items, hubspot_report.companies)


def test_every_defect_kind_is_present_marked_and_won():
    state, report = _seeded()
    assert set(report.bad_deals) == set(BAD_DEAL_KINDS)
    deal = {kind: state.deals.records[ids[0]] for kind, ids in report.bad_deals.items()}
    for kind, record in deal.items():
        assert record.data["status"] == "won" and record.data["won_time"]
        assert state.custom_value("deals", record.id, "ll_seed_defect") == kind

    def products(kind: str) -> list:
        return state.deal_products.of_deals([deal[kind].id])

    assert deal["no_company"].data["org_id"] is None
    assert deal["negative_amount"].data["value"] < 0
    assert deal["unknown_currency"].data["currency"] == "XXX"
    assert products("no_line_items") == []
    assert sum(p.data["sum"] for p in products("lines_mismatch")) != deal["lines_mismatch"].data["value"]
    groups = {state.custom_value("products", p.data["product_id"], "tax_group") for p in products("unknown_tax_group")}
    assert "99" in groups
    vat = state.custom_value("organizations", deal["malformed_vat"].data["org_id"], "vat_number")
    assert not (len(vat) == 10 and vat.isdigit() and vat.startswith("4"))


def test_good_deals_add_up_and_carry_their_tax_group():
    state, report = _seeded(deals=400)
    bad = {i for ids in report.bad_deals.values() for i in ids}
    groups = set()
    for record in state.deals.records.values():
        if record.id in bad:
            continue
        lines = state.deal_products.of_deals([record.id])
        assert 1 <= len(lines) <= 5 and sum(p.data["sum"] for p in lines) == record.data["value"]
        org = state.organizations.records[record.data["org_id"]]
        for line in lines:
            group = state.custom_value("products", line.data["product_id"], "tax_group")
            groups.add(group)
            assert line.data["tax"] == (Decimal("15") if group == "1" else 0)
            assert (group == "4") == (org.data["address"]["country"] != "South Africa")
            assert line.data["currency"] == record.data["currency"]
    assert groups == {"1", "2", "3", "4"}
    statuses = {r.data["status"] for r in state.deals.records.values()}
    assert statuses == {"won", "lost", "open"}


def test_ten_thousand_deals_seed_in_seconds_and_survive_a_save():
    started = time.monotonic()
    state, report = _seeded(deals=10_000)
    assert time.monotonic() - started < 5 and report.deals == len(state.deals) == 10_000
    copy = PipedriveState()
    assert copy.is_empty()
    copy.load_dict(jsonio.loads(jsonio.dumps(state.to_dict())))
    assert not copy.is_empty() and copy.to_dict() == state.to_dict()
    assert copy.deals.index.all() == state.deals.index.all()
