"""Fault rules fire exactly as written; stats count calls; state survives a restart."""

from __future__ import annotations

import time

import httpx
import pytest

from connectors.sandbox.runner import Sandboxes


def _deal_search(client: httpx.Client) -> httpx.Response:
    return client.post("/crm/v3/objects/deals/search", json={"limit": 1})


def test_rule_fires_exactly_times_after_skip(sandboxes, hs):
    created = httpx.post(f"{sandboxes.hubspot_url}/_sandbox/faults", json={
        "method": "POST", "path": "/crm/v3/objects/deals/search", "kind": "status", "status": 503,
        "retry_after": "2", "times": 3, "skip": 2})
    assert created.status_code == 201
    sandboxes.reset_stats()
    replies = [_deal_search(hs) for _ in range(7)]
    assert [r.status_code for r in replies] == [200, 200, 503, 503, 503, 200, 200]
    assert replies[2].headers["Retry-After"] == "2" and replies[2].json()["status"] == "error"
    stats = httpx.get(f"{sandboxes.hubspot_url}/_sandbox/stats").json()
    assert stats["faults_injected"] == 3 and stats["faults"] == {"status": 3}
    assert stats["calls"] == {"POST /crm/v3/objects/{objectType}/search": 7}   # control calls not counted
    rules = httpx.get(f"{sandboxes.hubspot_url}/_sandbox/faults").json()["rules"]
    assert (rules[0]["seen"], rules[0]["fired"]) == (7, 3)
    assert httpx.delete(f"{sandboxes.hubspot_url}/_sandbox/faults").json() == {"rules": []}


def test_rate_limit_fault_sends_retry_after_only_when_given(sandboxes, xero):
    sandboxes.xero.faults.add({"rules": [
        {"path": "/api.xro/2.0/Invoices", "kind": "rate_limit", "retry_after": "0", "times": 1},
        {"path": "/api.xro/2.0/Invoices", "kind": "rate_limit", "retry_after": None, "times": 1}]})
    with_hint, without_hint, passes = (xero.get("/Invoices", params={"page": 1}) for _ in range(3))
    assert with_hint.status_code == 429 and with_hint.headers["Retry-After"] == "0"
    assert with_hint.headers["X-Rate-Limit-Problem"] == "minute"
    assert without_hint.status_code == 429 and "Retry-After" not in without_hint.headers
    assert passes.status_code == 200


def test_commit_then_fail_changes_the_record_but_reports_failure(sandboxes, hs):
    deal_id = list(sandboxes.hubspot.deals.objects)[30]
    sandboxes.hubspot.faults.add_rule("commit_then_fail", "/crm/v3/objects/deals/batch/update", "POST")
    reply = hs.post("/crm/v3/objects/deals/batch/update", json={"inputs": [
        {"id": str(deal_id), "properties": {"ledgerlink_invoice_number": "INV-9001"}}]})
    assert reply.status_code == 500
    assert sandboxes.hubspot.deals.objects[deal_id].props["ledgerlink_invoice_number"] == "INV-9001"


def test_malformed_and_slow_faults(sandboxes, xero):
    sandboxes.xero.faults.add_rule("malformed_json", "/api.xro/2.0/Contacts", "GET")
    broken = xero.get("/Contacts")
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        broken.json()
    sandboxes.xero.faults.add_rule("slow", "/api.xro/2.0/Currencies", delay_s=0.3)
    started = time.monotonic()
    assert xero.get("/Currencies").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_random_faults_repeat_exactly_for_the_same_seed(fresh, make_hubspot_client):
    runs = []
    for _ in range(2):
        sb = fresh(limits=False)
        httpx.post(f"{sb.hubspot_url}/_sandbox/faults", json={"random": {
            "seed": 7, "rate": 0.3, "kinds": ["status:503", "rate_limit", "status:502"]}})
        with make_hubspot_client(sb) as client:
            runs.append([client.get("/crm/v3/objects/deals").status_code for _ in range(40)])
    assert runs[0] == runs[1]
    assert {503, 429, 502} <= set(runs[0]) and runs[0].count(200) > 20


def test_limits_switch_over_http(fresh, make_xero_client):
    sb = fresh(xero_limits={"per_minute": 1})
    with make_xero_client(sb) as client:
        assert [client.get("/Currencies").status_code for _ in range(2)] == [200, 429]
        switched = httpx.post(f"{sb.xero_url}/_sandbox/limits", json={"enabled": False})
        assert switched.json() == {"enabled": False, "time_scale": 1.0}
        assert client.get("/Currencies").status_code == 200


def test_state_round_trip_through_a_restart(fresh, tmp_path, make_xero_client):
    path = tmp_path / "sandbox-state.json"
    first: Sandboxes = fresh(state_path=path, seed=7, limits=False)
    token = httpx.post(first.xero_token_url, auth=(first.xero_client_id, first.xero_client_secret),
                       data={"grant_type": "refresh_token", "refresh_token": "rt-sandbox-0"}).json()
    contact_id = next(iter(first.xero.default_books.contacts))
    with make_xero_client(first) as client:
        invoice = client.put("/Invoices", json={"Invoices": [{
            "Type": "ACCREC", "Contact": {"ContactID": contact_id}, "DueDate": "2026-05-01", "Status": "AUTHORISED",
            "LineItems": [{"Description": "Chairs", "Quantity": 4, "UnitAmount": 649, "AccountCode": "200"}]}]},
            headers={"Idempotency-Key": "restart-1"}).json()["Invoices"][0]
    deal_id = next(iter(first.hubspot.deals.objects))
    first.hubspot.update("deals", deal_id, {"ledgerlink_invoice_number": invoice["InvoiceNumber"]})
    before = (first.hubspot.summary(), first.hubspot.deals.objects[deal_id].props,
              first.hubspot.deals.objects[deal_id].modified_ms)
    first.stop()
    assert path.exists()

    second: Sandboxes = fresh(state_path=path, seed=99, limits=False)     # loaded state wins over seed
    assert (second.hubspot.summary(), second.hubspot.deals.objects[deal_id].props,
            second.hubspot.deals.objects[deal_id].modified_ms) == before
    with make_xero_client(second) as client:
        again = client.get(f"/Invoices/{invoice['InvoiceNumber']}").json()["Invoices"][0]
        replay = client.put("/Invoices", json={"Invoices": []}, headers={"Idempotency-Key": "restart-1"})
    assert again["InvoiceID"] == invoice["InvoiceID"] and again["Total"] == invoice["Total"]
    assert replay.status_code == 400 and "already used" in replay.text
    assert second.xero_refresh_token == token["refresh_token"]
    stale = httpx.post(second.xero_token_url, auth=(second.xero_client_id, second.xero_client_secret),
                       data={"grant_type": "refresh_token", "refresh_token": "rt-sandbox-0"})
    assert stale.status_code == 400
    current = httpx.post(second.xero_token_url, auth=(second.xero_client_id, second.xero_client_secret),
                         data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]})
    assert current.status_code == 200
