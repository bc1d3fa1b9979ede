"""The spine under failure: a killed process, throttling, server errors and lost answers.
Nothing is lost (every record is invoiced or queued) and nothing is doubled."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

CRASH_AFTER_XERO_ACCEPTED = textwrap.dedent("""
    import os
    from connectors.xero import XeroConnector

    original = XeroConnector.create_invoices

    def create_then_die(self, invoices, key):
        original(self, invoices, key)
        os._exit(137)  # killed after Xero accepted the batch, before any link was stored

    XeroConnector.create_invoices = create_then_die
    from flows.won_deal_to_invoice import won_deal_to_invoice
    won_deal_to_invoice(tenant="demo")
""")


def _assert_each_eligible_deal_invoiced_exactly_once(spine):
    by_reference = spine.invoices_by_reference()
    assert all(len(found) == 1 for found in by_reference.values()), "duplicate invoice"
    assert {f"DEAL-{d}" for d in spine.eligible_deals()} == set(by_reference)
    for deal_id in spine.eligible_deals():
        [invoice] = by_reference[f"DEAL-{deal_id}"]
        assert spine.deal(deal_id)["ledgerlink_invoice_number"] == invoice["InvoiceNumber"]
    queued = {item.record_id for item in spine.store().exceptions.list("demo")}
    assert queued == set(spine.defective_deals())


def test_rerun_after_crash_between_xero_accepting_and_links_stored_creates_no_duplicate(spine, monkeypatch):
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "LEDGERLINK_TASK_RETRIES": "0"}
    crashed = subprocess.run([sys.executable, "-c", CRASH_AFTER_XERO_ACCEPTED], env=env, capture_output=True,
                             text=True, timeout=180)
    assert crashed.returncode == 137, crashed.stderr[-2000:]
    created_before_crash = len(spine.invoices())
    assert created_before_crash > 0
    store = spine.store()
    assert store.links.count("demo", "invoice") == 0  # Xero has them, ledgerlink never learnt their ids
    assert len(store.intents.unsettled("demo", "invoice")) == created_before_crash
    # the killed run still looks 'Running' to Prefect: its writes are settled once the lease expires
    monkeypatch.setenv("LEDGERLINK_INTENT_LEASE_SECONDS", "0.5")
    time.sleep(0.6)
    rerun = spine.run()
    assert rerun["status"] == "completed"
    assert rerun["counts"]["invoice_recovered_by_lookup"] == created_before_crash
    _assert_each_eligible_deal_invoiced_exactly_once(spine)
    assert store.intents.unsettled("demo", "invoice") == []


def test_throttling_server_errors_and_a_lost_answer_lose_and_double_nothing(spine):
    spine.control("hubspot", "faults", [
        {"method": "POST", "path": "/crm/v3/objects/deals/search", "kind": "status", "status": 503, "times": 2},
        {"method": "POST", "path": "/crm/v4/associations", "kind": "rate_limit", "retry_after": "1", "times": 2},
        {"method": "POST", "path": "/crm/v3/objects/deals/batch/update", "kind": "rate_limit", "retry_after": "0",
         "times": 1},
    ])
    spine.control("xero", "faults", [
        {"method": "GET", "path": "/api.xro/2.0/TaxRates", "kind": "status", "status": 502, "times": 1},
        {"method": "PUT", "path": "/api.xro/2.0/Contacts", "kind": "rate_limit", "retry_after": "1", "times": 2},
        {"method": "PUT", "path": "/api.xro/2.0/Invoices", "kind": "commit_then_fail", "status": 500, "times": 1},
    ])
    result = spine.run()
    assert result["status"] == "completed"
    assert spine.stats("hubspot")["faults_injected"] == 5 and spine.stats("xero")["faults_injected"] == 4
    assert result["api"]["xero"]["uncertain_writes"] >= 1
    assert result["counts"]["invoice_uncertain"] >= 1  # settled by lookup, not re-sent blindly
    _assert_each_eligible_deal_invoiced_exactly_once(spine)


def test_a_run_prefect_cannot_tell_about_is_alive_and_one_it_does_not_know_is_dead(prefect_server):
    """Within the intent lease, writes of a run that may be alive are left to it: taking a run as
    dead because the Prefect API erred would let two live runs send the same records."""
    import uuid

    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tasks.connect import run_is_alive

    assert run_is_alive(str(uuid.uuid4())) is False  # the session's Prefect has no such run
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):  # nothing listens there
        assert run_is_alive(str(uuid.uuid4())) is True
