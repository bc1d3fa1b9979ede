"""Pipedrive connector against the Pipedrive emulator, over real HTTP on loopback."""

from __future__ import annotations

import logging
import time
from decimal import Decimal

import httpx
import pytest

from connectors.contract import CrmConnector
from connectors.errors import RateLimited, ServerError, Unauthorized
from connectors.http import RetryPolicy
from connectors.pipedrive import PipedriveConnector, pipedrive_pacer
from connectors.ratelimit import RateLimiter, RateLimits, Window, pipedrive_limits
from connectors.sandbox.pipedrive_runner import start_pipedrive_sandbox

BASE_MS = 1_760_000_000_000
FAST_RETRY = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.05)


@pytest.fixture(scope="module")
def books():
    """The seeded SME books, limits off (tests that change records use `fresh`)."""
    sb = start_pipedrive_sandbox(seed=42, deals=60, limits=False)
    yield sb
    sb.stop()


@pytest.fixture
def fresh():
    started = []

    def make(**options):
        options.setdefault("limits", False)
        sb = start_pipedrive_sandbox(**options)
        started.append(sb)
        return sb

    yield make
    for sb in started:
        sb.stop()


def connector(sb, **kw) -> PipedriveConnector:
    kw.setdefault("limits", None)
    return PipedriveConnector(sb.url, sb.token, "acme", **kw)


def insert_deals(sb, stamps: list[int]) -> list[str]:
    store = sb.state.deals
    first = store.next_id
    for n, stamp in enumerate(stamps):
        store.insert_raw(first + n, {"title": f"Deal {n}", "value": Decimal("100.00"), "currency": "ZAR",
                                     "status": "open", "is_deleted": False}, stamp, stamp)
    store.reindex()
    return [str(first + n) for n in range(len(stamps))]


def ids_of(pages) -> list[str]:
    return [record["id"] for page in pages for record in page]


def patches(crm: PipedriveConnector) -> int:
    return sum(n for endpoint, n in crm.stats.snapshot()["per_endpoint"].items() if endpoint.startswith("PATCH"))


def test_it_is_a_crm_connector(books):
    with connector(books) as crm:
        assert isinstance(crm, CrmConnector)
        assert crm.modified_property("deals") == "update_time"
        assert crm.modified_ms("deals", {"properties": {"update_time": "2025-10-09T08:53:20Z"}}) == BASE_MS
        assert crm.modified_ms("deals", {"properties": {}}) == 0


# -- delta ----------------------------------------------------------------------------------------
def test_delta_yields_each_change_once_although_records_change_mid_read(fresh):
    sb = fresh()
    ids = insert_deals(sb, [BASE_MS + (n // 4) * 1000 for n in range(400)])   # 4 deals a second
    got = []
    with connector(sb) as crm:
        for number, page in enumerate(crm.search_modified_since("deals", BASE_MS, [], page_size=50)):
            got += [r["id"] for r in page]
            if number == 1:   # a user edits deals already read and deals not read yet
                for deal_id in (ids[3], ids[60], ids[250], ids[399]):
                    sb.state.update("deals", int(deal_id), {"title": f"edited {deal_id}"})
        stamps = [crm.modified_ms("deals", r) for p in crm.search_modified_since("deals", BASE_MS, [], 500)
                  for r in p]
    assert len(set(got)) == 400 and set(got) == set(ids)
    assert len(got) == 402     # the two deals edited after they were read come again: new changes
    assert got[-4:] == [ids[3], ids[60], ids[250], ids[399]]  # every edit met at its new time
    assert got.index(ids[3]) < 50 and got.index(ids[60]) < 100   # ... after their first reading
    assert stamps == sorted(stamps)


def test_delta_starts_at_since_inclusive_and_custom_fields_come_by_name(fresh):
    sb = fresh()
    ids = insert_deals(sb, [BASE_MS - 5000, BASE_MS, BASE_MS + 400, BASE_MS + 3000])
    sb.state.update("deals", int(ids[3]), custom={"ledgerlink_invoice_number": "INV-9"})
    with connector(sb) as crm:
        records = [r for p in crm.search_modified_since("deals", BASE_MS + 400, ["title"]) for r in p]
    assert [r["id"] for r in records] == ids[1:]   # stamps are whole seconds: BASE_MS+400 floors
    assert records[-1]["properties"]["ledgerlink_invoice_number"] == "INV-9"
    assert records[0]["properties"]["value"] == "100.00"  # every CRM hands on text


def test_delta_resumes_by_keyset_when_a_cursor_is_refused(fresh):
    sb = fresh()
    ids = insert_deals(sb, [BASE_MS + n * 1000 for n in range(120)])
    sb.state.faults.add_rule("status", "/api/v2/deals", "GET", status=400, skip=1)
    with connector(sb) as crm:
        got = ids_of(crm.search_modified_since("deals", 0, [], page_size=50))
        calls = crm.stats.snapshot()["per_endpoint"]["GET /api/v2/deals"]
    assert got == ids and calls == 4   # page 1, refused page 2, then a keyset read from #50: 2 pages


def test_delta_of_companies_and_contacts(books):
    with connector(books) as crm:
        companies = [r for p in crm.search_modified_since("companies", 0, []) for r in p]
        contacts = [r for p in crm.search_modified_since("contacts", 0, []) for r in p]
        with pytest.raises(ValueError):
            list(crm.search_modified_since("line_items", 0, []))
    assert len(companies) == len(books.state.organizations)
    assert companies[0]["properties"]["vat_number"] and "address_locality" in companies[0]["properties"]
    assert all("@" in c["properties"]["primary_email"] for c in contacts)


# -- associations and line items -----------------------------------------------------------------
def test_associations_from_deals(books):
    report = books.seed_report
    orphan = str(report.bad_deals["no_company"][0])
    empty = str(report.bad_deals["no_line_items"][0])
    wanted = ["1", "2", orphan, empty, "987654"]
    with connector(books) as crm:
        companies = crm.read_associations("deals", "companies", wanted)
        lines = crm.read_associations("deals", "line_items", wanted)
        people = crm.read_associations("contacts", "companies", ["1"])
        calls = crm.stats.snapshot()["calls"]
    state = books.state
    assert companies["1"] == [str(state.deals.records[1].data["org_id"])]
    assert companies[orphan] == [] and companies["987654"] == []
    expected = [f"1:{i}" for i in state.deal_products.by_deal[1]]
    assert lines["1"] == expected and lines[empty] == [] and lines["987654"] == []
    assert people["1"] == [str(state.persons.records[1].data["org_id"])]
    assert calls == 3


def test_line_items_carry_catalogue_code_and_tax_group(fresh):
    sb = fresh(seed=42, deals=400)   # enough customers for some to be abroad (exports)
    unknown = str(sb.seed_report.bad_deals["unknown_tax_group"][0])
    export = next(str(r.id) for r in sb.state.deals.records.values() if r.data["currency"] == "USD")
    with connector(sb) as crm:
        lines = crm.read_associations("deals", "line_items", [unknown, export, "1"])
        crm.stats.snapshot()
        wanted = [i for found in lines.values() for i in found] + ["1:999999", "garbage"]
        before = crm.stats.snapshot()["calls"]
        found = crm.batch_read("line_items", wanted, ["tax_group", "code"])
        calls = crm.stats.snapshot()["calls"] - before
    assert found.missing == ["1:999999", "garbage"]
    assert "99" in {found[i]["properties"]["tax_group"] for i in lines[unknown]}
    assert {found[i]["properties"]["tax_group"] for i in lines[export]} == {"4"}
    first = found[lines["1"][0]]["properties"]
    assert first["deal_id"] == "1" and first["code"] and Decimal(first["item_price"]) > 0
    assert calls == 3   # deal products, products by ids, productFields — not one GET per line


def test_batch_read_in_chunks_lists_the_missing(fresh):
    sb = fresh()
    ids = insert_deals(sb, [BASE_MS + n for n in range(150)])
    with connector(sb) as crm:
        found = crm.batch_read("deals", ids + ["99999999", "x1"], ["title"])
        assert crm.stats.snapshot()["per_endpoint"]["GET /api/v2/deals"] == 2   # 100 ids a call
    assert set(found) == set(ids) and found.missing == ["99999999", "x1"]
    assert found[ids[7]]["properties"]["title"] == "Deal 7"


# -- updates ------------------------------------------------------------------------------------
def test_a_second_identical_update_sends_no_patch(fresh):
    sb = fresh(seed=7, deals=20)
    updates = {str(i): {"ledgerlink_invoice_number": f"INV-{i:04d}", "ledgerlink_amount_due": "1150.00",
                        "ledgerlink_paid_date": "2026-02-28"} for i in range(1, 6)}
    with connector(sb) as crm:
        first = crm.batch_update("deals", updates)
        sent = patches(crm)
        again = crm.batch_update("deals", {k: {**v, "ledgerlink_amount_due": "1150"} for k, v in updates.items()})
        assert patches(crm) == sent == 5
    assert all(r.ok for r in first + again) and [r.key for r in again] == list(updates)
    assert sb.state.custom_value("deals", 3, "ledgerlink_invoice_number") == "INV-0003"
    assert sb.state.custom_value("deals", 3, "ledgerlink_amount_due") == Decimal("1150.00")
    assert sb.state.stats.snapshot()["writes"] == 5


def test_unknown_fields_and_vendor_rejections_fail_only_their_record(fresh):
    sb = fresh(seed=7, deals=20)
    updates = {"1": {"ledgerlink_invoice_numbr": "INV-1"},       # a typo: never sent
               "2": {"org_id": "424242"},                          # Pipedrive refuses it
               "3": {"status": "maybe"},                           # Pipedrive refuses it
               "4": {"ledgerlink_invoice_number": "INV-4", "title": "Fine"},
               "404404": {"title": "Ghost"}}
    with connector(sb) as crm:
        results = {r.key: r for r in crm.batch_update("deals", updates)}
        assert patches(crm) == 3
    assert list(results) == list(updates)
    assert not results["1"].ok and "ledgerlink_invoice_numbr" in results["1"].errors[0]
    assert not results["2"].ok and results["2"].errors == ("Organization with id 424242 does not exist",)
    assert not results["3"].ok and "status must be one of" in results["3"].errors[0]
    assert results["4"].ok and sb.state.deals.records[4].data["title"] == "Fine"
    assert not results["404404"].ok and "not found" in results["404404"].errors[0]


def test_values_are_typed_cleared_and_compared_by_kind(fresh):
    sb = fresh(seed=7, deals=20)
    deposit = sb.state.fields.add_custom("deals", "deposit", "monetary")
    sb.state.update("deals", 1, custom={"ledgerlink_review_note": "check VAT"})
    with connector(sb) as crm:
        results = crm.batch_update("deals", {
            "1": {"deposit": "500.00", "deposit_currency": "ZAR", "ledgerlink_review_note": ""},
            "2": {"ledgerlink_amount_paid": "a lot"}})
        again = crm.batch_update("deals", {"1": {"deposit": "500", "deposit_currency": "ZAR"}})
        record = crm.batch_read("deals", ["1"], [])["1"]["properties"]
        assert patches(crm) == 1
    assert results[0].ok and again[0].ok
    assert results[1].errors == ("field 'ledgerlink_amount_paid': 'a lot' is not a number",)
    stored = sb.state.deals.records[1].data["custom_fields"]
    assert stored[deposit.code] == {"value": Decimal("500.00"), "currency": "ZAR"}
    assert record["deposit"] == "500.00" and record["deposit_currency"] == "ZAR"
    assert record["ledgerlink_review_note"] is None


def test_company_updates_translate_names_and_address_parts(books):
    with connector(books) as crm:
        [result] = crm.batch_update("companies", {"2": {"ledgerlink_accounting_id": "acc-2",
                                                        "address_locality": "Paarl", "payment_terms": "60"}})
        record = crm.batch_read("companies", ["2"], [])["2"]["properties"]
    assert result.ok and record["ledgerlink_accounting_id"] == "acc-2"
    assert record["address_locality"] == "Paarl" and record["address_country"] and record["payment_terms"] == "60"


# -- limits, errors, logs -----------------------------------------------------------------------
def test_pacing_from_headers_keeps_a_faster_client_inside_the_servers_burst(fresh):
    sb = fresh(seed=1, deals=14, limits=True, burst=10, time_scale=4)   # 10 per 0.5 s
    limits = {"default": pipedrive_limits(burst=80)["default"].scaled(0.25)}
    with connector(sb, limits=limits) as crm:
        started = time.monotonic()
        for _ in range(30):
            crm.batch_read("deals", ["1"], [])
        elapsed = time.monotonic() - started
        assert crm.stats.snapshot()["rate_limited"] == 0
    assert sb.state.stats.snapshot()["rate_limited"] == 0
    assert elapsed >= 1.0   # 31 calls at 10 per 0.5 s: the server's budget, not our 80


def test_pacer_pauses_the_budget_when_the_window_is_empty():
    now = [100.0]
    limiter = RateLimiter(RateLimits((Window(80, 2.0),)), clock=lambda: now[0], sleep=lambda s: None)
    pipedrive_pacer(httpx.Headers({"x-ratelimit-remaining": "3", "x-ratelimit-reset": "2"}), limiter)
    assert limiter.in_window(2.0) == 77
    pipedrive_pacer(httpx.Headers({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1.5"}), limiter)
    with pytest.raises(RateLimited):
        limiter.acquire(max_wait=1.0)   # paused 1.5 s (and the window is full)


def test_errors_are_typed_and_carry_pipedrives_message(fresh):
    sb = fresh(seed=1, deals=14, limits=True, daily_tokens=12)
    with PipedriveConnector(sb.url, "wrong-token", "acme", limits=None) as crm, \
            pytest.raises(Unauthorized, match="unauthorized access"):
        crm.batch_read("deals", ["1"], [])
    with connector(sb, retry=FAST_RETRY) as crm:
        crm.read_associations("deals", "companies", ["1"])            # 10 tokens of 12
        with pytest.raises(RateLimited, match="Daily API token budget exceeded") as caught:
            crm.read_associations("deals", "companies", ["2"])
        assert caught.value.retry_after and caught.value.retry_after > 3600
    sb.set_limits(enabled=False)
    sb.state.faults.add_rule("status", "/api/v2/deals", "GET", status=503, times=None)
    with connector(sb, retry=FAST_RETRY) as crm, pytest.raises(ServerError, match="Service unavailable"):
        crm.batch_read("deals", ["1"], [])


def test_the_token_never_reaches_logs_or_errors(fresh, caplog):
    secret = "pd-Secret-Token-0123456789"
    sb = fresh(seed=1, deals=14, token=secret)
    sb.state.faults.add_rule("status", "/api/v2/deals", "GET", status=502)
    caplog.set_level(logging.DEBUG)
    messages = []
    with connector(sb, retry=FAST_RETRY) as crm:
        list(crm.search_modified_since("deals", 0, []))
        crm.batch_update("deals", {"1": {"title": "Logged?"}})
    with PipedriveConnector(sb.url, secret[:-1], "acme", limits=None) as wrong:
        try:
            wrong.batch_read("deals", ["1"], [])
        except Unauthorized as err:
            messages.append(str(err))
    assert caplog.records and messages
    text = "\n".join([*messages, *(repr(r.__dict__) for r in caplog.records),
                      *(r.getMessage() for r in caplog.records)])
    assert secret not in text and secret[:-1] not in text
