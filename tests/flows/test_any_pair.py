"""Any CRM with any accounting system, with no code written for the pair: Pipedrive + QuickBooks,
HubSpot + QuickBooks and Pipedrive + Xero each run all three handoffs and the reconciliation
against their own sandboxes, and what they leave is checked straight in the sandboxes' state."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import ROUND_UP, Decimal

import pytest

PAIRS = [("pipedrive", "quickbooks"), ("hubspot", "quickbooks"), ("pipedrive", "xero")]


@pytest.fixture(params=PAIRS, ids=lambda pair: "+".join(pair))
def pair(request, tmp_path, monkeypatch, prefect_server):
    from connectors.ratelimit import REGISTRY
    from connectors.sandbox.pairs import start_pair
    from flows.demo import demo_tenants_file

    monkeypatch.setenv("LEDGERLINK_HOME", str(tmp_path))
    monkeypatch.setenv("LEDGERLINK_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    REGISTRY.clear()
    sandboxes = start_pair(*request.param, seed=42, limits=False)
    monkeypatch.setenv("LEDGERLINK_TENANTS", "")  # set by demo_tenants_file, removed after the test
    demo_tenants_file(tmp_path, sandboxes, rate_limits=False, tenant="pair")
    yield sandboxes
    sandboxes.stop(save=False)


def _live_invoices(pair) -> Counter:
    return Counter(i["reference"] for i in pair.accounting.sales_invoices() if i["status"] != "VOIDED")


def test_all_three_handoffs_and_the_reconciliation_run_for_the_pair(pair):
    from flows.contact_to_accounting_contact import contact_to_accounting_contact
    from flows.linked_update import payment_to_crm
    from flows.reconciliation import reconciliation
    from flows.won_deal_to_invoice import won_deal_to_invoice
    from ledgerlink.store import open_store

    assert contact_to_accounting_contact(tenant="pair")["status"] == "completed"
    won = won_deal_to_invoice(tenant="pair")
    assert won["status"] == "completed"
    deals = pair.crm.won_deals()
    good = sorted((d for d, defect in deals.items() if defect is None), key=int)
    bad = {d for d, defect in deals.items() if defect is not None}
    assert len(good) >= 20 and len(bad) == 7

    invoices = _live_invoices(pair)
    assert invoices == Counter({f"DEAL-{d}": 1 for d in good})  # one invoice per good deal, none for bad
    numbers = {i["reference"]: i["number"] for i in pair.accounting.sales_invoices()}
    assert all(pair.crm.deal_value(d, "ledgerlink_invoice_number") == numbers[f"DEAL-{d}"] for d in good)
    crm_ids = Counter(c["crm_id"] for c in pair.accounting.contacts() if c["crm_id"])
    assert crm_ids and max(crm_ids.values()) == 1  # never a second contact for one company
    queued = {item.record_id for item in open_store().exceptions.list("pair", "won-deal-to-invoice")}
    assert queued == bad

    full, deposit = good[0], good[1]
    _, due = pair.accounting.invoice(numbers[f"DEAL-{full}"])
    pair.accounting.pay(numbers[f"DEAL-{full}"], due, date(2026, 11, 20))
    _, deposit_due = pair.accounting.invoice(numbers[f"DEAL-{deposit}"])
    pair.accounting.pay(numbers[f"DEAL-{deposit}"], (deposit_due / 2).quantize(Decimal("0.01"), ROUND_UP),
                        date(2026, 11, 21))
    payments = payment_to_crm(tenant="pair")
    assert payments["status"] == "completed" and payments["counts"]["trigger_onboarding"] == 2
    assert pair.crm.deal_value(full, "ledgerlink_invoice_status") == "paid"
    assert Decimal(pair.crm.deal_value(full, "ledgerlink_amount_due")) == 0
    assert pair.crm.deal_value(deposit, "ledgerlink_invoice_status") == "partially_paid"
    assert pair.crm.deal_value(deposit, "ledgerlink_paid_date") in (None, "")

    recon = reconciliation(tenant="pair")
    assert recon["counts"] == {"won_deal_without_invoice": len(bad)}

    pair.reset_stats()
    for run in (contact_to_accounting_contact, won_deal_to_invoice, payment_to_crm):
        assert run(tenant="pair")["status"] == "completed"
    assert _live_invoices(pair) == invoices
    assert pair.crm.stats.snapshot()["writes"] == 0 and pair.accounting.stats.snapshot()["writes"] == 0
