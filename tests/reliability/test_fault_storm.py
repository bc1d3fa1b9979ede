"""A storm of vendor faults during all three handoffs, on two vendor pairs: 5xx, 429s with and
without `Retry-After` (and `Retry-After: 0`), slow answers, writes committed and then answered with
an error, malformed JSON and HTML where JSON was due — drawn from a seeded stream, so each run
is the same storm. Runs that give up are simply run again (as the schedule would); then the books
must be exactly what a fault-free run makes: nothing lost, nothing doubled."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

pytestmark = pytest.mark.heavy  # a long file: started first (tests/conftest.py)

KINDS = ["status:500", "status:502", "status:503", "rate_limit", "commit_then_fail", "slow", "malformed_json",
         "wrong_content_type"]
HANDOFFS = ("contact-to-accounting-contact", "won-deal-to-invoice", "payment-to-crm")


def _world(tmp_path, monkeypatch, crm: str, accounting: str, name: str):
    from connectors.ratelimit import REGISTRY
    from connectors.sandbox.pairs import start_pair
    from flows.demo import demo_tenants_file

    home = tmp_path / name
    home.mkdir()
    monkeypatch.setenv("LEDGERLINK_HOME", str(home))
    monkeypatch.setenv("LEDGERLINK_DATABASE_URL", f"sqlite:///{home / 'store.db'}")
    REGISTRY.clear()
    pair = start_pair(crm, accounting, seed=42, deals=200, limits=False)
    demo_tenants_file(home, pair, rate_limits=False, tenant="storm")
    return pair


def _run(handoff: str, attempts: int = 8) -> int:
    """Run a handoff until a run completes (a failed run is retried, as the next scheduled run
    would); the number of runs it took."""
    from flows.contact_to_accounting_contact import contact_to_accounting_contact
    from flows.linked_update import payment_to_crm
    from flows.won_deal_to_invoice import won_deal_to_invoice

    flow = {"contact-to-accounting-contact": contact_to_accounting_contact, "won-deal-to-invoice": won_deal_to_invoice,
            "payment-to-crm": payment_to_crm}[handoff]
    for attempt in range(1, attempts + 1):
        try:
            if flow(tenant="storm")["status"] == "completed":
                return attempt
        except Exception:  # noqa: BLE001 - a run that gave up; the next one picks up where it stopped
            pass
    raise AssertionError(f"{handoff} did not complete in {attempts} runs")


def _pay(pair) -> None:
    """The first two invoices by reference: one paid in full, one half."""
    invoices = sorted((i for i in pair.accounting.sales_invoices() if i["status"] != "VOIDED"),
                      key=lambda i: i["reference"])
    for invoice, share in zip(invoices[:2], (Decimal(1), Decimal("0.5"))):
        _, due = pair.accounting.invoice(invoice["number"])
        pair.accounting.pay(invoice["number"], (due * share).quantize(Decimal("0.01")), date(2026, 11, 20))


def _books(pair) -> dict:
    from ledgerlink.store import open_store

    deals = pair.crm.won_deals()
    fields = ("ledgerlink_invoice_number", "ledgerlink_invoice_status", "ledgerlink_amount_due")
    numbers = {i["number"]: i["reference"] for i in pair.accounting.sales_invoices()}
    return {
        "invoices": Counter(i["reference"] for i in pair.accounting.sales_invoices() if i["status"] != "VOIDED"),
        "contacts": Counter(c["crm_id"] for c in pair.accounting.contacts() if c["crm_id"]),
        "deals": {d: tuple(numbers.get(v, v) if f == fields[0] else v
                           for f, v in ((f, pair.crm.deal_value(d, f)) for f in fields)) for d in deals},
        "queued": sorted((i.record_id, i.reason_code) for i in open_store().exceptions.list("storm", status="open")),
    }


@pytest.mark.parametrize("crm, accounting", [("hubspot", "xero"), ("pipedrive", "quickbooks")])
def test_a_storm_of_vendor_faults_loses_nothing_and_doubles_nothing(tmp_path, monkeypatch, prefect_server,
                                                                    crm, accounting):
    clean = _world(tmp_path, monkeypatch, crm, accounting, "clean")
    try:
        for handoff in HANDOFFS[:2]:
            _run(handoff, attempts=1)
        _pay(clean)
        _run(HANDOFFS[2], attempts=1)
        expected = _books(clean)
    finally:
        clean.stop(save=False)

    storm = _world(tmp_path, monkeypatch, crm, accounting, "storm")
    try:
        for side, seed in ((storm.crm, 7), (storm.accounting, 11)):
            side.state.faults.add({"random": {"seed": seed, "rate": 0.4, "kinds": KINDS, "retry_after": "0",
                                              "delay_s": 0.05, "times": 25}})
        runs = [_run(handoff) for handoff in HANDOFFS[:2]]
        _pay(storm)
        runs.append(_run(HANDOFFS[2]))
        injected = Counter()
        for side in storm.sides():
            injected.update(side.stats.snapshot()["faults"])
            side.state.faults.clear()
        for handoff in HANDOFFS:  # the next scheduled runs, in calm weather: they settle what the storm left
            _run(handoff, attempts=1)
        found = _books(storm)
    finally:
        storm.stop(save=False)
    print(f"\n{crm}+{accounting}: faults injected {dict(injected)}; runs to complete {runs}")
    assert sum(injected.values()) >= 15 and len(injected) >= 4, injected  # the storm really blew
    assert max(found["invoices"].values()) == 1 and max(found["contacts"].values()) == 1  # nothing doubled
    assert found == expected  # nothing lost: the same books as a fault-free run
