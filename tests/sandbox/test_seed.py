"""The dummy books are realistic, deterministic, carry their marked defects — and seed fast."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal

from connectors.sandbox.hubspot_search import run_search
from connectors.sandbox.hubspot_state import HubSpotState
from connectors.sandbox.seed import BAD_DEAL_KINDS, seed_books
from connectors.sandbox.xero_state import XeroState

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def _seeded(deals: int = 400, seed: int = 42, bad: bool = True):
    hubspot, xero = HubSpotState(), XeroState()
    report = seed_books(hubspot, xero, deals=deals, seed=seed, bad=bad, now=NOW)
    return hubspot, xero, report


def _lines(hubspot: HubSpotState, deal_id: int):
    return [hubspot.line_items.objects[i] for i, _ in hubspot.associations.targets("deals", deal_id, "line_items")]


def test_same_seed_same_books():
    first, _, report_a = _seeded(seed=5)
    second, _, report_b = _seeded(seed=5)
    assert report_a == report_b
    assert [(o.id, o.props, o.modified_ms) for o in first.deals.objects.values()] == \
        [(o.id, o.props, o.modified_ms) for o in second.deals.objects.values()]
    other, _, _ = _seeded(seed=6)
    assert [o.props for o in other.deals.objects.values()] != [o.props for o in first.deals.objects.values()]


def test_every_defect_kind_is_present_marked_and_won():
    hubspot, _, report = _seeded()
    marked = {d.props["ll_seed_defect"]: d for d in hubspot.deals.objects.values() if "ll_seed_defect" in d.props}
    assert set(marked) == set(BAD_DEAL_KINDS) == set(report.bad_deals)
    assert all(d.props["dealstage"] == "closedwon" for d in marked.values())
    assert hubspot.associations.targets("deals", marked["no_company"].id, "companies") == []
    assert Decimal(marked["negative_amount"].props["amount"]) < 0
    assert marked["unknown_currency"].props["deal_currency_code"] == "XXX"
    assert _lines(hubspot, marked["no_line_items"].id) == []
    mismatch = marked["lines_mismatch"]
    assert sum(Decimal(li.props["amount"]) for li in _lines(hubspot, mismatch.id)) != Decimal(mismatch.props["amount"])
    assert "99" in {li.props["hs_tax_rate_group_id"] for li in _lines(hubspot, marked["unknown_tax_group"].id)}
    (company_id, _), = hubspot.associations.targets("deals", marked["malformed_vat"].id, "companies")
    assert not re.fullmatch(r"4\d{9}", hubspot.companies.objects[company_id].props["vat_number"])


def test_good_deals_are_consistent_and_varied():
    hubspot, xero, report = _seeded(deals=600)
    good = [d for d in hubspot.deals.objects.values() if "ll_seed_defect" not in d.props]
    for deal in good:
        lines = _lines(hubspot, deal.id)
        assert 1 <= len(lines) <= 5
        assert sum(Decimal(li.props["amount"]) for li in lines) == Decimal(deal.props["amount"])
        for li in lines:
            quantity, price = Decimal(li.props["quantity"]), Decimal(li.props["price"])
            discount = Decimal(li.props.get("hs_discount_percentage", "0"))
            assert (quantity * price * (1 - discount / 100)).quantize(Decimal("0.01"), "ROUND_HALF_UP") == \
                Decimal(li.props["amount"])
        assert deal.modified_ms >= deal.created_ms
        assert len(hubspot.associations.targets("deals", deal.id, "companies")) == 1
    stages = Counter(d.props["dealstage"] for d in good)
    assert 0.4 < stages["closedwon"] / len(good) < 0.6 and len(stages) == 7
    currencies = Counter(d.props["deal_currency_code"] for d in good)
    assert currencies["ZAR"] > currencies["USD"] > 0
    groups = Counter(li.props["hs_tax_rate_group_id"] for li in hubspot.line_items.objects.values())
    assert {"1", "2", "3", "4"} <= set(groups)
    assert any("hs_discount_percentage" in li.props for li in hubspot.line_items.objects.values())
    now_ms = int(NOW.timestamp() * 1000)
    won = [d for d in good if d.props["dealstage"] == "closedwon"]
    assert all(d.props["closedate"] < NOW.isoformat()[:10] for d in won)
    assert all(d.modified_ms < now_ms for d in good)
    companies = list(hubspot.companies.objects.values())
    domestic = [c for c in companies if c.props["country"] == "South Africa" and "Vaal Hardware" not in c.props["name"]]
    assert all(re.fullmatch(r"4\d{9}", c.props["vat_number"]) for c in domestic)
    assert {c.props["city"] for c in domestic} >= {"Johannesburg", "Cape Town", "Durban"}
    assert all(c.props["billing_email"].endswith(".example.co.za") for c in companies)
    assert {c.props["payment_terms"] for c in companies} == {"7", "30", "60"}
    assert len(xero.default_books.contacts) == len(report.xero_contacts) >= 5
    assert xero.default_books.org["BaseCurrency"] == "ZAR"


def test_bad_false_seeds_no_defects():
    hubspot, _, report = _seeded(deals=50, bad=False)
    assert report.bad_deals == {} and report.deals == 50
    assert not any("ll_seed_defect" in d.props for d in hubspot.deals.objects.values())


def test_seeding_100k_deals_and_searching_them(capsys):
    hubspot, xero = HubSpotState(), XeroState()
    started = time.perf_counter()
    report = seed_books(hubspot, xero, deals=100_000, seed=1)
    seeded = time.perf_counter() - started
    body = {"filterGroups": [{"filters": [
        {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "0"},
        {"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}]}],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}], "limit": 200}
    started = time.perf_counter()
    first = run_search(hubspot.deals, body)
    first_page = time.perf_counter() - started
    started = time.perf_counter()
    run_search(hubspot.deals, {**body, "after": "9800"})
    later_page = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n[sandbox] seeded {report.deals:,} deals / {report.line_items:,} line items in {seeded:.2f} s; "
              f"search over them: first page {first_page * 1000:.0f} ms, page 50 {later_page * 1000:.1f} ms "
              f"({first['total']:,} won)")
    assert report.deals == 100_000 and len(hubspot.deals) == 100_000
